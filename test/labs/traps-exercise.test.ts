// The traps lab's exercise 4 against its reference, qemu-system-riscv32 (7.2): without the PMP setup
// the mret that leaves M-mode is an illegal instruction (mcause 2, mtval = the mret's bits), as
// QEMU 7.2's helper_mret raises it; vmlab prints the same console bare and in both VMM modes.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine } from '../../src/engine/machine/machine';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';
import { runQemu } from '../support/qemu';

const dir = mkdtempSync(join(tmpdir(), 'vmlab-traps-ex4-'));

/** traps.S without its two `csrw pmp*` lines (exercise 4), plus mtval in the M-mode trap report. */
function withoutPmp(): Uint8Array {
  const path = join(REPO_ROOT, 'labs', 'traps', 'traps.S');
  const source = readFileSync(path, 'latin1').split('\n').filter((l) => !/^\s*csrw\s+pmp(addr0|cfg0)\b/.test(l)).join('\n');
  expect(source).not.toMatch(/csrw\s+pmp/);
  const r = assemble(source, { file: path });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.elf;
}

function runVmlab(elf: Uint8Array, mode: 'bare' | 'emulate' | 'trap'): { output: string; mtval?: number } {
  const out: number[] = [];
  if (mode === 'bare') {
    const m = new Machine({ onUart: (b) => out.push(b) });
    m.loadKernel(elf);
    m.run(2_000_000);
    return { output: Buffer.from(out).toString('latin1'), mtval: m.hart.mtval >>> 0 };
  }
  const vmm = new Vmm({ hostRamSize: 192 * 1024 * 1024 });
  const vm = vmm.createVm({ name: mode, mode, kernel: elf, memSize: 128 * 1024 * 1024, onUart: (b) => out.push(b) });
  for (let i = 0; i < 50 && vm.state === 'running'; i++) vmm.run(100_000);
  return { output: Buffer.from(out).toString('latin1'), mtval: vm.vhart.mtval >>> 0 };
}

describe('traps lab, exercise 4: no PMP entry', () => {
  it('takes an illegal-instruction trap at mret as QEMU 7.2 does, bare and in every VMM mode', async () => {
    const elf = withoutPmp();
    const file = join(dir, 'traps-nopmp.elf');
    writeFileSync(file, elf);
    const q = await runQemu(file, { timeoutMs: 5000 });
    const qemu = q.output.toString('latin1');
    expect(qemu).toMatch(/\[M\] mret to the S-mode kernel\n\[M\] unexpected trap, mcause = 0x00000002\n/);
    for (const mode of ['bare', 'emulate', 'trap'] as const) {
      const r = runVmlab(elf, mode);
      expect(r.output, mode).toBe(qemu);
      expect(r.mtval, mode).toBe(0x30200073);
    }
  }, 60_000);
});
