// Host frames change hands: a VM removed gives its frames back and the next VM gets them, with the
// physical hart's translated code for those frames still cached; a VM reset rewrites its kernel
// image behind the hart's back. Either way the next instructions run are the new bytes in RAM,
// never a block translated from what the frames held before (the disk lab after the traps lab
// crashed at pc 0 with a trap storm without this).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { RawDisk } from '../../src/engine/disk/raw';
import { MemoryByteStore } from '../../src/engine/disk/types';
import type { Vm } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';

const MiB = 1 << 20;

function lab(name: string): { elf: Uint8Array; expected: string } {
  const path = join(REPO_ROOT, 'labs', name, `${name}.S`);
  const r = assemble(readFileSync(path, 'latin1'), { file: path });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return { elf: r.elf, expected: readFileSync(join(REPO_ROOT, 'labs', name, 'expected-output.txt'), 'latin1') };
}

/** Runs a VM until it halts (or the budget ends); returns its console output. */
function runToEnd(vmm: Vmm, vm: Vm, out: number[]): string {
  for (let i = 0; i < 2000 && vm.state === 'running'; i++) vmm.run(100_000);
  return Buffer.from(out).toString('latin1');
}

describe('host frames that held translated code', () => {
  const traps = lab('traps');
  const paging = lab('paging');
  const disk = lab('disk');

  it.each([
    ['paging after traps', traps, paging],
    ['traps after paging', paging, traps],
    ['disk after traps', traps, disk],
  ])('%s: the second VM in the first one\'s frames runs its own code', (_what, first, second) => {
    const vmm = new Vmm({ hostRamSize: 64 * MiB });
    const out1: number[] = [];
    const a = vmm.createVm({ name: 'a', mode: 'trap', kernel: first.elf, memSize: 16 * MiB, onUart: (b) => out1.push(b) });
    expect(runToEnd(vmm, a, out1)).toBe(first.expected);
    expect(vmm.hart.code!.translated).toBeGreaterThan(0);
    vmm.removeVm(a);
    const out2: number[] = [];
    const disks = [{ device: new RawDisk(new MemoryByteStore(new Uint8Array(MiB))), legacy: true }];
    const b = vmm.createVm({ name: 'b', mode: 'trap', kernel: second.elf, memSize: 16 * MiB, disks, onUart: (x) => out2.push(x) });
    expect(runToEnd(vmm, b, out2)).toBe(second.expected);
    expect(b.state).toBe('halted');
  });

  it('a reset VM runs its kernel image again, not code it rewrote before the reset', () => {
    // The kernel calls `print` (li a0, 1) 20 times, patches it to li a0, 2 and calls it 20 times
    // more, so both versions get translated; after a reset the reloaded image must print 1 again.
    const src = `
      .option norvc
      .globl _start
_start:
      li    s0, 20
loop1:
      jal   ra, print
      addi  s0, s0, -1
      bnez  s0, loop1
      la    t0, site
      li    t1, 0x00200513      # li a0, 2
      sw    t1, 0(t0)
      fence.i
      li    s0, 20
loop2:
      jal   ra, print
      addi  s0, s0, -1
      bnez  s0, loop2
      li    t0, 0x100000
      li    t1, 0x5555
      sw    t1, 0(t0)
1:    j 1b
print:
site:
      li    a0, 1
      addi  a0, a0, 48
      li    t2, 0x10000000
      sb    a0, 0(t2)
      ret
`;
    const r = assemble(src, { file: 'patch.S' });
    if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    const expected = '1'.repeat(20) + '2'.repeat(20);
    const vmm = new Vmm({ hostRamSize: 64 * MiB });
    const out: number[] = [];
    const vm = vmm.createVm({ name: 'p', mode: 'trap', kernel: r.elf, memSize: 4 * MiB, onUart: (b) => out.push(b) });
    expect(runToEnd(vmm, vm, out)).toBe(expected);
    out.length = 0;
    vmm.resetVm(vm);
    expect(runToEnd(vmm, vm, out)).toBe(expected);
  });
});
