// A bt VM's state leaves out its translations' caches: the inline code-store permissions (tagCW,
// cwOff, cw) went into every bt snapshot and checkpoint as 130 KiB of base64. A state saved with them
// by an earlier version still loads, and the guest continued from either ends as the uncut run.
import { describe, expect, it } from 'vitest';
import { assembleFile } from '../../src/cli/kernel-input';
import { loadVm, ramPages, saveVm } from '../../src/engine/snapshot/machine-state';
import { toBase64 } from '../../src/engine/snapshot/fields';
import { Vmm } from '../../src/engine/vmm/vmm';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/build';

const elf = assembleFile(join(REPO_ROOT, 'labs', 'traps', 'traps.S')).elf!;

function vm() {
  const vmm = new Vmm({ hostRamSize: 64 << 20, jit: true });
  const out: number[] = [];
  const v = vmm.createVm({ name: 'g', mode: 'bt', kernel: elf, memSize: 32 << 20, onUart: (b) => out.push(b) });
  return { vmm, v, out };
}

function finish(g: ReturnType<typeof vm>): string {
  for (let i = 0; i < 1000 && g.v.runnable; i++) g.vmm.runVm(g.v, 100_000);
  expect(g.v.state).toBe('halted');
  return Buffer.from(g.out).toString('latin1');
}

describe('a bt VM\'s state', () => {
  it('holds no translation cache, loads a state that has one, and continues as the uncut run', () => {
    const whole = finish(vm());
    const a = vm();
    a.vmm.runVm(a.v, 20_000);
    const state = saveVm(a.vmm, a.v);
    const text = JSON.stringify(state);
    expect(text.length).toBeLessThan(20_000);
    for (const key of ['tagCW', 'cwOff', '"cw"']) expect(text).not.toContain(key);
    const ram = [...ramPages(a.v.bus)].map(({ index, bytes }) => ({ index, bytes: bytes.slice() }));
    const printed = a.out.length;

    // As an earlier version saved it: the caches' fields with them.
    const old = JSON.parse(text) as { vcpu: Record<string, unknown> };
    old.vcpu.tagCW = { typed: 'Int32Array', b64: toBase64(new Uint8Array(new Int32Array(64).fill(-1).buffer)) };
    old.vcpu.cwOff = { typed: 'Int32Array', b64: toBase64(new Uint8Array(256)) };
    old.vcpu.cw = { typed: 'Uint32Array', b64: toBase64(new Uint8Array(64 * 32 * 4)) };
    Object.assign(old.vcpu, { cwLive: false, cwFlushes: -1, cwGen: -1, cwWalks: -1 });

    for (const saved of [state, old]) {
      const b = vm();
      b.vmm.runVm(b.v, 5_000);
      const bus = b.v.bus;
      for (let i = 0; i < bus.ramSize / 4096; i++) {
        const off = bus.ramOffset(bus.ramBase + i * 4096, 4096);
        bus.ram.fill(0, off, off + 4096);
      }
      for (const { index, bytes } of ram) {
        const off = bus.ramOffset(bus.ramBase + index * 4096, 4096);
        bus.ram.set(bytes, off);
        bus.written[off >>> 12] = 1;
      }
      loadVm(b.vmm, b.v, saved as typeof state);
      b.out.length = 0;
      b.out.push(...a.out.slice(0, printed));
      expect(finish(b)).toBe(whole);
    }
  });
});
