// bt mode translates LR/SC and the AMOs inline (docs/vmm.md, bt): test/guests/vmm/atomics.S runs a
// lock discipline on words of its own code page and of a data page, every AMO and LR/SC, atomics
// that rewrite its translated code, loops of atomics that cross pages and fault midway, and faulting
// atomics (misaligned, unmapped, read-only, a hole with no device, a device). Its state must equal
// the interpreter's (an emulate VM) at every exit and callout, its output and instruction count must
// be bare's, and the lock's atomics and stores beside the code must stay inside translated code.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { assembleFile } from '../../src/cli/kernel-input';
import { Machine } from '../../src/engine/machine/machine';
import { BtVcpu } from '../../src/engine/vmm/bt/bt-vcpu';
import type { VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';
import { cosimulate } from '../support/mode-cosim';
import { runQemu } from '../support/qemu';

const MiB = 1 << 20;
const elf = (): Uint8Array => assembleFile(join(REPO_ROOT, 'test/guests/vmm/atomics.S')).elf!;

/** Runs the kernel bare: console output, exit code, instructions retired. */
function bare(): { output: string; exitCode: number | undefined; instret: number } {
  const out: number[] = [];
  const m = new Machine({ ramSize: 16 * MiB, onUart: (b) => out.push(b) });
  m.loadKernel(elf());
  for (let i = 0; i < 100 && m.exitCode === undefined; i++) m.run(1_000_000);
  return { output: Buffer.from(out).toString('latin1'), exitCode: m.exitCode, instret: m.hart.instret };
}

function inVm(mode: VmMode): { vmm: Vmm; vm: ReturnType<Vmm['createVm']>; output: () => string } {
  const vmm = new Vmm({ hostRamSize: 64 * MiB });
  const out: number[] = [];
  const vm = vmm.createVm({ name: 'g', mode, kernel: elf(), memSize: 16 * MiB, onUart: (b) => out.push(b) });
  for (let i = 0; i < 100 && vmm.active; i++) vmm.run(1_000_000);
  return { vmm, vm, output: () => Buffer.from(out).toString('latin1') };
}

describe('bt: atomics translated inline', () => {
  test('the kernel\'s state equals the interpreter\'s at every exit and callout; output and instructions as bare', () => {
    const b = bare();
    expect(b.exitCode).toBe(0);
    // 12 words of the code page, 10 of the data page, 15 results, 12 faults logged (cause, tval).
    expect(b.output.split('\n').length).toBe(12 + 10 + 15 + 24 + 1);
    for (const mode of ['bt', 'trap'] as const) {
      const r = cosimulate(elf(), mode, { memSize: 16 * MiB });
      expect(r.firstDifference, mode).toBeUndefined();
      expect({ output: r.output, exitCode: r.exitCode }).toEqual({ output: b.output, exitCode: 0 });
      expect(r.points).toBeGreaterThan(50);
      const { vm } = inVm(mode);
      expect(vm.stats.instructions, mode).toBe(b.instret);
    }
  });

  test('the fault log: misaligned, page and access faults as the spec gives them', () => {
    const lines = bare().output.trim().split('\n');
    const log = lines.slice(12 + 10 + 15);
    const pairs = Array.from({ length: log.length / 2 }, (_v, i) => `${parseInt(log[2 * i], 16)}@${log[2 * i + 1]}`);
    expect(pairs).toEqual([
      // The loop over REGION: read-only, unmapped, a hole with no device.
      '15@40001004', '15@40002004', '7@40003004',
      // Misaligned AMO, LR, SC; on the unmapped page AMO, LR (SC without a reservation: no fault).
      '6@80200002', '4@80200002', '6@80200002', '15@40002000', '13@40002000',
      // SC (reserved) and AMO on the read-only page; LR and AMO on the hole.
      '15@40001004', '15@40001004', '5@40003004', '7@40003004',
    ]);
  });

  test('every atomic\'s result is QEMU\'s', async () => {
    // The 37 result lines: the code page's and DATA's words, the rewrites of f, the loop across
    // pages, the atomics' results on the unmapped and read-only pages and on the PLIC. The fault
    // log differs on QEMU 7.2 for its own reasons: it reports an AMO or SC whose load part faults
    // with the load causes (4, 13; the spec gives 6, 15: test/guests/asm/amo-faults.S), and it
    // reads and writes the hole with no device without a fault.
    const dir = mkdtempSync(join(tmpdir(), 'vmlab-atomics-'));
    try {
      const path = join(dir, 'atomics.elf');
      writeFileSync(path, elf());
      const q = await runQemu(path);
      expect({ exitCode: q.exitCode, timedOut: q.timedOut }).toEqual({ exitCode: 0, timedOut: false });
      const head = (text: string): string[] => text.split('\n').slice(0, 12 + 10 + 15);
      const bt = inVm('bt');
      expect(head(bt.output())).toEqual(head(q.output.toString('latin1')));
      expect(head(bt.output())).toEqual(head(bare().output));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the lock on the code page: its atomics and stores stay in translated code (few exits)', () => {
    const bt = inVm('bt');
    const cache = (bt.vmm.vcpu(bt.vm) as BtVcpu).cache;
    // The acquire (amoswap.w.aq) is inside a block that goes on after it: translated, not left
    // to the physical hart. So is the release (amoswap.w.rl zero, zero).
    for (const bits of [0x0c59232f, 0x0a09202f]) {
      expect(cache.entries().some((blk) => {
        const at = blk.insns.findIndex((i) => i.bits === bits);
        return at >= 0 && at < blk.length - 1;
      })).toBe(true);
    }
    // 300 rounds: 600 amoswaps and 300 stores of `count`, all on the page holding translated code.
    // Only the first store of each context exits (then the page is known to be writable by the
    // guest); stores onto code words (f's rewrites) exit and drop the block.
    const s = bt.vm.stats;
    expect(s.writeProtectFaults).toBeLessThan(30);
    expect(s.emulated['code-page-store']).toBe(s.writeProtectFaults);
    expect(s.translationInvalidations).toBe(2);
    const trap = inVm('trap');
    expect(bt.output()).toBe(trap.output());
    expect(s.exitCount).toBeLessThan(trap.vm.stats.exitCount);
  });

  test('a code page that becomes a table page: its PTE stores exit again (the shadows follow them)', () => {
    // test/guests/vmm/code-table-page.S: the second pass's PTE store came after a store beside code
    // (inline from then on) and a walk that made the page a table; done inline it left the shadow's
    // old mapping, and bt printed 1211.
    const kernel = assembleFile(join(REPO_ROOT, 'test/guests/vmm/code-table-page.S')).elf!;
    const r = cosimulate(kernel, 'bt', { memSize: 16 * MiB });
    expect(r.firstDifference).toBeUndefined();
    expect({ output: r.output, exitCode: r.exitCode }).toEqual({ output: '1212\n', exitCode: 0 });
    expect(r.referenceOutput).toBe('1212\n');
  });
});
