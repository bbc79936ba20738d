// What the gdb stub needs of a machine or a VM: the hart that holds the guest's architectural state,
// memory in the guest's view (virtual addresses through the guest's own translation, as QEMU's
// gdbstub reads them), breakpoints, and running or stepping. Two adapters: the bare machine, and one
// VM of a VMM (its virtual hart; a trap-mode VM's registers are saved back from the physical hart
// before the debugger looks).

import type { Hart } from '../../engine/cpu/hart';
import { StopReason, type Machine } from '../../engine/machine/machine';
import { translateDebug } from '../../engine/machine/inspect';
import { MEMORY_MAP } from '../../engine/machine/memory-map';
import { Access } from '../../engine/mmu/walk';
import type { Vm } from '../../engine/vmm/vm';
import type { Vmm } from '../../engine/vmm/vmm';
import { loadMachine, loadVm, saveMachine, saveVm, type MachineState, type VmState } from '../../engine/snapshot/machine-state';
import type { Rewindable } from '../replay/checkpoints';

/** Stop reason of a VM the VMM declared crashed (beside the machine's own reasons). */
export const STOP_CRASHED = 100 as StopReason;

/** A machine or VM as the debugger drives it (and rewinds it, for reverse execution). */
export interface DebugTarget extends Rewindable {
  /** The hart with the guest's current state (registers, CSRs, privilege); read it after `sync`. */
  readonly hart: Hart;
  /** Brings the guest's state into `hart` (a trap-mode VM's registers live on the physical hart while it runs). */
  sync(): void;
  /** Guest steps so far (instructions, traps taken, time waited): the clock the budget counts. */
  readonly steps: number;
  /** The guest's exit code once it ended. */
  readonly exitCode: number | undefined;
  /** Sets the breakpoints (guest-virtual pcs) the next runs stop in front of. */
  setBreakpoints(addresses: ReadonlySet<number>): void;
  /** Runs up to `budget` steps; the instruction at the current pc runs even if a breakpoint is there. */
  run(budget: number): StopReason;
  /** A register or the pc was changed by the debugger: make the next run start from the hart's state. */
  stateChanged(): void;
  /** Writes RAM at guest-physical `pa` (already translated); drops translated code there. */
  writePhysical(pa: number, data: Uint8Array): boolean;
}

/** The bare machine. */
export function machineDebugTarget(machine: Machine): DebugTarget {
  return {
    hart: machine.hart,
    sync: () => {},
    get steps() { return machine.clockSteps; },
    get exitCode() { return machine.exitCode; },
    setBreakpoints(addresses) {
      copySet(addresses, machine.hart.breakpoints);
    },
    run: (budget) => machine.run(budget),
    stateChanged() {
      machine.hart.contextChanged();
      machine.hart.tlb.flushAll();
    },
    writePhysical: (pa, data) => writeRamBytes(machine.hart, machine.hart, pa, data),
    ramBus: machine.bus,
    disks: machine.board.disks,
    saveState: () => saveMachine(machine),
    loadState: (state) => loadMachine(machine, state as MachineState),
  };
}

/** One VM of a VMM. */
export function vmDebugTarget(vmm: Vmm, vm: Vm): DebugTarget {
  const settle = (): StopReason => {
    if (vm.state === 'halted') return StopReason.EXIT;
    if (vm.state === 'crashed') return STOP_CRASHED;
    if (vm.atBreakpoint) return StopReason.BREAKPOINT;
    if (vm.state === 'waiting') return StopReason.IDLE;
    return StopReason.BUDGET;
  };
  return {
    get hart() { return vm.vhart; },
    sync: () => vmm.unload(),
    get steps() { return vm.machine.clockSteps; },
    get exitCode() { return vm.exitCode; },
    setBreakpoints: (addresses) => vmm.setBreakpoints(vm, addresses),
    run(budget) {
      if (vm.state === 'paused') vm.resume();
      vm.atBreakpoint = false;
      vm.resumePc = vm.vhart.pcU;
      vmm.runVm(vm, budget);
      return settle();
    },
    stateChanged() {
      vmm.unload();
      vm.vhart.contextChanged();
      vm.vhart.tlb.flushAll();
      vmm.hart.tlb.flushAll();
    },
    // A VM's RAM lives in host frames the physical hart may have translated code for.
    writePhysical: (pa, data) => writeRamBytes(vm.vhart, vmm.hart, pa, data),
    ramBus: vm.bus,
    disks: vm.machine.board.disks,
    saveState: () => saveVm(vmm, vm),
    loadState: (state) => loadVm(vmm, vm, state as VmState),
  };
}

function copySet(from: ReadonlySet<number>, to: Set<number>): void {
  to.clear();
  for (const a of from) to.add(a >>> 0);
}

/** Writes guest RAM through `h`'s bus; `codeHart` drops translated code the bytes overwrite. */
function writeRamBytes(h: Hart, codeHart: Hart, pa: number, data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i++) {
    const off = h.bus.ramOffset(pa + i, 1);
    if (off < 0) return false;
    codeHart.noteStore(codeHart.bus.ramBase + off, 1);
    h.bus.ram[off] = data[i];
    h.bus.written[off >>> 12] = 1;
  }
  return true;
}

/**
 * Reads `length` bytes at guest-virtual `va` as the hart's current data accesses translate them
 * (privilege, MPRV, SUM, MXR), without A/D updates or TLB fills. RAM and the boot ROM are readable;
 * an unmapped page or a device address makes the read fail (undefined), as QEMU answers E14.
 * `access` FETCH reads instruction bytes as the hart fetches them.
 */
export function readVirtual(h: Hart, va: number, length: number, access: Access = Access.LOAD): Uint8Array | undefined {
  const out = new Uint8Array(length);
  let i = 0;
  while (i < length) {
    const at = (va + i) >>> 0;
    const inPage = Math.min(length - i, 4096 - (at & 0xfff));
    const t = translateDebug(h, at, access);
    if (t.pa === undefined) return undefined;
    for (let k = 0; k < inPage; k++) {
      const b = readPhysicalByte(h, t.pa + k);
      if (b < 0) return undefined;
      out[i + k] = b;
    }
    i += inPage;
  }
  return out;
}

/** Translates a guest-virtual address for a debugger write; undefined when it would fault. */
export function translateForWrite(h: Hart, va: number): number | undefined {
  return translateDebug(h, va >>> 0, Access.LOAD).pa;
}

const ROM_BASE = MEMORY_MAP.bootRom.base;
const ROM_END = ROM_BASE + MEMORY_MAP.bootRom.size;

function readPhysicalByte(h: Hart, pa: number): number {
  const off = h.bus.ramOffset(pa, 1);
  if (off >= 0) return h.bus.ram[off];
  if (pa >= ROM_BASE && pa < ROM_END) {
    // The ROM has no side effects; keep the device-access statistics as they were.
    const counted = h.bus.deviceAccesses;
    const v = h.bus.load(pa, 1);
    const ok = h.bus.ok;
    h.bus.deviceAccesses = counted;
    return ok ? v & 0xff : -1;
  }
  return -1;
}
