// Guest RAM starts zero without being written up front: a fresh machine's RAM and a VM's fresh host
// frames are left untouched (the host commits memory as the guest touches it), while frames an earlier
// VM used and a reset machine's RAM are zeroed, so no guest ever sees another's bytes or its own past.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine } from '../../src/engine/machine/machine';
import { Vmm } from '../../src/engine/vmm/vmm';

const MiB = 1 << 20;

function kernel(): Uint8Array {
  const r = assemble('.globl _start\n_start:\n  j _start\n', { file: 'spin.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.elf;
}

/** Host RAM offsets of a VM's guest pages other than the kernel's first page, with nonzero bytes. */
function dirtyGuestPages(vmm: Vmm, frames: Int32Array): number[] {
  const dirty: number[] = [];
  frames.forEach((frame, page) => {
    if (page === 0 || frame < 0) return;
    const off = vmm.host.ramOffset(vmm.frames.address(frame), 4096);
    if (vmm.host.ram.subarray(off, off + 4096).some((b) => b !== 0)) dirty.push(page);
  });
  return dirty;
}

describe('clearing guest RAM', () => {
  it('zeroes the frames a removed VM wrote before the next VM gets them', () => {
    const vmm = new Vmm({ hostRamSize: 8 * MiB });
    const first = vmm.createVm({ name: 'first', mode: 'trap', kernel: kernel(), memSize: 2 * MiB, onUart: () => {} });
    const used = Array.from(first.pmap.frameOf);
    for (const frame of used) vmm.host.ram.fill(0xa5, vmm.host.ramOffset(vmm.frames.address(frame), 4096), vmm.host.ramOffset(vmm.frames.address(frame), 4096) + 4096);
    vmm.removeVm(first);
    const second = vmm.createVm({ name: 'second', mode: 'trap', kernel: kernel(), memSize: 2 * MiB, onUart: () => {} });
    expect(Array.from(second.pmap.frameOf).filter((f) => used.includes(f)).length).toBeGreaterThan(0);
    // The device tree sits at the end of guest RAM; every other page but the kernel's must be zero.
    const fdtPage = (second.machine.board.fdtAddress - 0x80000000) >>> 12;
    expect(dirtyGuestPages(vmm, second.pmap.frameOf).filter((p) => p !== fdtPage)).toEqual([]);
  });

  it('zeroes a VM\'s RAM when it is reset', () => {
    const vmm = new Vmm({ hostRamSize: 8 * MiB });
    const vm = vmm.createVm({ name: 'vm', mode: 'emulate', kernel: kernel(), memSize: 2 * MiB, onUart: () => {} });
    const frame = vm.pmap.frameOf[5];
    const off = vmm.host.ramOffset(vmm.frames.address(frame), 4096);
    vmm.host.ram[off + 12] = 0x5a;
    vmm.resetVm(vm);
    expect(vmm.host.ram[off + 12]).toBe(0);
  });

  it('zeroes a bare machine\'s RAM when it is reset, and not when it first loads', () => {
    const m = new Machine({ ramSize: 4 * MiB, onUart: () => {} });
    m.bus.ram[3 * MiB] = 0x77; // written before the first load: clearRam leaves fresh RAM alone
    m.loadKernel(kernel());
    expect(m.bus.ram[3 * MiB]).toBe(0x77);
    m.reset(true);
    expect(m.bus.ram[3 * MiB]).toBe(0);
  });
});
