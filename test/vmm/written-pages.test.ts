// The bus's record of the pages that may hold data (PhysicalBus.written): a migration of the app's
// VM reads only the pages it names, so it must name every page that is not all zero, whoever wrote
// it: the guest's stores (through the TLB's writable entries or the bus) in every mode and bare,
// the page walker's A/D updates, virtio DMA, the loader, a reboot, the debugger. A page it leaves
// out must be all zero, and the app's migration finds exactly the pages a scan of all RAM finds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { RawDisk } from '../../src/engine/disk/raw';
import type { DiskAttachment } from '../../src/engine/machine/board';
import type { PhysicalBus } from '../../src/engine/machine/bus';
import { writePhysical } from '../../src/engine/machine/inspect';
import { Machine } from '../../src/engine/machine/machine';
import { saveMachine } from '../../src/engine/snapshot/machine-state';
import { VMM_RESERVE } from '../../src/engine/machine/memory-map';
import { ALL_VM_MODES, type VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { AppMigratingGuest } from '../../src/host/vm-migration';
import { REPO_ROOT } from '../support/build';

const MiB = 1024 * 1024;

function kernel(path: string): Uint8Array {
  const asm = assemble(readFileSync(join(REPO_ROOT, path), 'latin1'), { file: path });
  if (!asm.elf) throw new Error(`${path} does not assemble`);
  return asm.elf;
}

const disk = (): DiskAttachment[] => [{ device: new RawDisk(new MemoryByteStore(new Uint8Array(64 * 1024))), legacy: true }];

/** Guest RAM pages that hold data although the bus does not name them (at most 8). */
function unnamed(bus: PhysicalBus): number[] {
  const out: number[] = [];
  for (let i = 0; i < bus.ramSize / 4096 && out.length < 8; i++) {
    const off = bus.ramOffset(bus.ramBase + i * 4096, 4096);
    if (bus.written[off >>> 12] !== 0) continue;
    if (bus.ram32.subarray(off >>> 2, (off >>> 2) + 1024).some((w) => w !== 0)) out.push(i);
  }
  return out;
}

/** Guest RAM pages that are not all zero, by reading every page. */
function scanned(bus: PhysicalBus): number[] {
  const out: number[] = [];
  for (let i = 0; i < bus.ramSize / 4096; i++) {
    const off = bus.ramOffset(bus.ramBase + i * 4096, 4096);
    if (bus.ram32.subarray(off >>> 2, (off >>> 2) + 1024).some((w) => w !== 0)) out.push(i);
  }
  return out;
}

// Reads a page and then writes it (the load's TLB entry is writable, so the store needs no slow
// path), spins, asks for a reboot; each boot finds RAM as a fresh boot leaves it.
const REBOOT = `
  .globl _start
_start:
  li    t0, 0x80300000
  lw    t1, 0(t0)
  li    t1, 0x12345678
  sw    t1, 0(t0)
  li    t0, 20000
1:addi  t0, t0, -1
  bnez  t0, 1b
  li    t0, 0x100000
  li    t1, 0x7777
  sw    t1, 0(t0)
2:j     2b
`;

const GUESTS: { name: string; kernel: () => Uint8Array; modes: ('bare' | VmMode)[]; steps: number; mem: number; disks?: () => DiskAttachment[] }[] = [
  { name: 'labs/migration/dirty.S', kernel: () => kernel('labs/migration/dirty.S'), modes: ['bare', ...ALL_VM_MODES.filter((m) => m !== 'pv')], steps: 4_000_000, mem: 16 * MiB },
  { name: 'labs/paging/paging.S', kernel: () => kernel('labs/paging/paging.S'), modes: ['bare', 'emulate', 'trap', 'bt', 'hw'], steps: 2_000_000, mem: 32 * MiB },
  { name: 'labs/paging/paging-pv.S', kernel: () => kernel('labs/paging/paging-pv.S'), modes: ['pv'], steps: 2_000_000, mem: 32 * MiB },
  { name: 'labs/disk/disk.S', kernel: () => kernel('labs/disk/disk.S'), modes: ['bare', 'emulate', 'trap', 'hw'], steps: 2_000_000, mem: 32 * MiB, disks: disk },
  { name: 'a guest that reboots', kernel: () => assemble(REBOOT, { file: 'reboot.S' }).elf!, modes: ['bare', ...ALL_VM_MODES], steps: 200_000, mem: 16 * MiB },
];

describe('the pages that may hold data', () => {
  for (const g of GUESTS) {
    test(`${g.name}: every page holding data is named, in ${g.modes.join(', ')}`, () => {
      const elf = g.kernel();
      for (const mode of g.modes) {
        if (mode === 'bare') {
          const m = new Machine({ ramSize: g.mem, disks: g.disks?.() });
          m.loadKernel(elf);
          for (let done = 0; done < g.steps && m.exitCode === undefined; done += 100_000) m.run(100_000);
          // A run returns at a reboot, with RAM fresh: a little more, and the new boot has written.
          m.run(1_000);
          expect(unnamed(m.bus), mode).toEqual([]);
          // The record is the host RAM's own, not the guest's state: no snapshot carries it.
          expect(Object.keys((saveMachine(m) as { bus: object }).bus)).not.toContain('written');
          continue;
        }
        const vmm = new Vmm({ hostRamSize: g.mem + VMM_RESERVE, jit: true });
        const made = { name: 'g', mode, kernel: elf, memSize: g.mem };
        const vm = vmm.createVm({ ...made, disks: g.disks?.() });
        for (let done = 0; done < g.steps && vm.runnable; done += 100_000) vmm.runVm(vm, 100_000);
        vmm.runVm(vm, 1_000);
        vmm.unload();
        expect(unnamed(vm.bus), mode).toEqual([]);
        const used = new AppMigratingGuest({ vmm, vm, disks: [], made }).usedPages();
        expect(used, mode).toEqual(scanned(vm.bus));
        expect(used.length, mode).toBeGreaterThan(1);
      }
    });
  }

  test("a VM on a frame another VM left, and the debugger's writes", () => {
    const vmm = new Vmm({ hostRamSize: 16 * MiB + VMM_RESERVE, jit: true });
    const first = vmm.createVm({ name: 'a', mode: 'trap', kernel: kernel('labs/migration/dirty.S'), memSize: 16 * MiB });
    vmm.runVm(first, 2_000_000);
    vmm.removeVm(first);
    const made = { name: 'b', mode: 'hw' as const, kernel: assemble(REBOOT, { file: 'reboot.S' }).elf!, memSize: 16 * MiB };
    const vm = vmm.createVm(made);
    vmm.runVm(vm, 50_000);
    vmm.unload();
    expect(unnamed(vm.bus)).toEqual([]);
    expect(writePhysical(vm.vhart, 0x80500000, Uint8Array.of(1, 2, 3))).toBe(3);
    expect(unnamed(vm.bus)).toEqual([]);
    expect(new AppMigratingGuest({ vmm, vm, disks: [], made }).usedPages()).toEqual(scanned(vm.bus));
  });
});
