// The state of a bare machine or of one VM, as a snapshot holds it. Each component is saved by its
// own rules (fields.ts): the hart with its PMP, triggers and H-extension state; the bus's counters;
// the board's UART, CLINT, PLIC, HTIF and virtio-mmio transports with their queues and virtio-blk
// devices; the machine's clock (idle steps) and exit state; for a VM its state, statistics and the
// technique's vCPU. RAM is saved apart, page by page (only pages that are not all zero).
//
// What is not saved is rebuilt: a snapshot is restored into a machine or VM built again from the
// same kernel, firmware, initrd, options and disks (the device tree, the boot ROM and the frames a VM
// gets are the same by construction). Derived caches start empty: the TLBs, translated code, shadow
// tables and binary translations are dropped, and the guest runs on exactly as it would have: they
// change how fast it runs, never what it does or how many steps it takes.

import type { Machine } from '../machine/machine';
import type { PhysicalBus } from '../machine/bus';
import type { Vm } from '../vmm/vm';
import type { Vmm } from '../vmm/vmm';
import { loadFields, saveFields, SnapshotError, type FieldRules, type FieldState } from './fields';

/** Version of the state layout below; a change of any component's fields changes what loads. */
export const STATE_VERSION = 1;

const HART: FieldRules = {
  transient: ['features', 'hartId', 'misa', 'sliceDone', 'sliceSteps', 'sliceEnd', 'atBreakpoint', 'bpSkip', 'dataTag', 'fetchTag',
    'fault', 'faultVa', 'ok', 'codeWritten', 'walkCtx', 'trapHook', 'firmware', 'fastRun', 'fastStatus'],
  children: { pmp: {}, triggers: {}, hx: {} },
};
// undo: reverse execution's log of overwritten disk contents, the debugging process's own.
const VIRTIO_BLK: FieldRules = { transient: ['header', 'buffer', 'config', 'serial', 'undo'], children: { stats: {} } };
const VIRTIO_MMIO: FieldRules = { children: { queues: {}, device: VIRTIO_BLK } };
const BOARD: FieldRules = {
  transient: ['image', 'entry', 'kernelEntry', 'regions', 'fdtAddress', 'fdt', 'diskSlots', 'rom'],
  children: { uart: {}, clint: {}, plic: {}, virtio: VIRTIO_MMIO, htif: {} },
};
// writeLog: a migration's dirty log, the sending process's own (dirty-log.ts). written: the host
// RAM's record of pages that may hold data (a VM's bus shares its host's); loadRam marks the pages
// it restores. quiet: whether the last device access was to a quiet device, read right after it.
const BUS: FieldRules = { transient: ['ram', 'ram16', 'ram32', 'ramBase', 'ramSize', 'writeLog', 'written', 'arena', 'quiet'] };
const MACHINE: FieldRules = { transient: ['kernel', 'ramSize', 'stepsPerTick'], children: { bus: BUS, hart: HART, board: BOARD } };
const VM: FieldRules = { transient: ['id', 'name', 'mode', 'memSize', 'kernel', 'resumePc', 'atBreakpoint'], children: { stats: {} } };
/**
 * A vCPU's own counters; its caches (shadows, translations and their indexes) are rebuilt. bt's
 * inline code-store permissions (tagCW, cwOff, cw and their validity) belong to its translations:
 * earlier versions saved them (130 KiB of base64 in every bt snapshot and checkpoint).
 */
const BT_CODE_WRITES = ['tagCW', 'cwOff', 'cw', 'cwLive', 'cwFlushes', 'cwGen', 'cwWalks'];
const VCPU: FieldRules = { transient: ['ctx', 'gen', 'guestPage', 'onHart', 'current', ...BT_CODE_WRITES], retired: BT_CODE_WRITES };

/** A machine's state without its RAM. */
export type MachineState = FieldState;

/** One VM's state without its RAM. */
export interface VmState {
  readonly vm: FieldState;
  readonly machine: MachineState;
  readonly vcpu: FieldState;
}

/** Saves a machine's state (its RAM goes apart: `ramPages`). */
export function saveMachine(m: Machine): MachineState {
  return saveFields(m, MACHINE);
}

/** Restores a machine built as the saved one was; throws SnapshotError when the state does not fit. */
export function loadMachine(m: Machine, state: MachineState): void {
  loadFields(m, state, MACHINE, 'machine');
  const h = m.hart;
  h.contextChanged();
  h.tlb.flushAll();
  h.code?.flush();
  h.sliceEnd = 0;
}

/** Saves one VM (the VMM first puts a trap-mode guest's registers back into its virtual hart). */
export function saveVm(vmm: Vmm, vm: Vm): VmState {
  vmm.unload();
  const vcpu = vmm.vcpu(vm);
  return { vm: saveFields(vm, VM), machine: saveMachine(vm.machine), vcpu: vcpu === undefined ? {} : saveFields(vcpu, VCPU) };
}

/** Restores a VM created as the saved one was (same config, same place among the VMM's VMs). */
export function loadVm(vmm: Vmm, vm: Vm, state: VmState): void {
  if (typeof state !== 'object' || state === null) throw new SnapshotError('the VM state is not an object');
  vmm.unload();
  // Shadows and translations of the freshly booted guest no longer describe its memory.
  vmm.vcpu(vm)?.reset();
  loadFields(vm, state.vm, VM, 'vm');
  loadMachine(vm.machine, state.machine);
  const vcpu = vmm.vcpu(vm);
  if (vcpu !== undefined) loadFields(vcpu, state.vcpu, VCPU, 'vcpu');
  vm.resumePc = -1;
  vm.atBreakpoint = false;
  vmm.hart.code?.flush();
  vmm.hart.tlb.flushAll();
}

/**
 * Restores only the machine of a VM (its virtual hart and devices) from a machine's state, as a
 * snapshot taken bare or in another mode continues in this VM; the VM's statistics and its vCPU
 * start afresh.
 */
export function loadVmMachine(vmm: Vmm, vm: Vm, state: MachineState): void {
  vmm.unload();
  vmm.vcpu(vm)?.reset();
  loadMachine(vm.machine, state);
  vm.resumePc = -1;
  vm.atBreakpoint = false;
  vmm.hart.code?.flush();
  vmm.hart.tlb.flushAll();
}

/** The 4 KiB pages of RAM that are not all zero, by page index from the start of RAM. */
export function* ramPages(bus: PhysicalBus): Generator<{ index: number; bytes: Uint8Array }> {
  const pages = Math.floor(bus.ramSize / 4096);
  for (let i = 0; i < pages; i++) {
    const off = bus.ramOffset(bus.ramBase + i * 4096, 4096);
    if (off < 0) continue;
    const words = bus.ram32.subarray(off >>> 2, (off >>> 2) + 1024);
    let zero = true;
    for (let k = 0; k < 1024; k++) {
      if (words[k] !== 0) {
        zero = false;
        break;
      }
    }
    if (!zero) yield { index: i, bytes: bus.ram.subarray(off, off + 4096) };
  }
}

/**
 * Makes RAM hold exactly the saved pages: `pages` maps page index to its 4096 bytes, every other
 * page becomes zero. Throws SnapshotError for a page outside RAM or of another size.
 */
export function loadRam(bus: PhysicalBus, pages: ReadonlyMap<number, Uint8Array>): void {
  const count = Math.floor(bus.ramSize / 4096);
  for (const [index, bytes] of pages) {
    if (!Number.isInteger(index) || index < 0 || index >= count) throw new SnapshotError(`RAM page ${index} lies outside the machine's ${count} pages`);
    if (bytes.length !== 4096) throw new SnapshotError(`RAM page ${index} holds ${bytes.length} bytes, not 4096`);
  }
  for (let i = 0; i < count; i++) {
    const off = bus.ramOffset(bus.ramBase + i * 4096, 4096);
    if (off < 0) continue;
    const saved = pages.get(i);
    if (saved !== undefined) {
      bus.ram.set(saved, off);
      bus.written[off >>> 12] = 1;
    } else if (bus.ram32.subarray(off >>> 2, (off >>> 2) + 1024).some((w) => w !== 0)) bus.ram.fill(0, off, off + 4096);
  }
}
