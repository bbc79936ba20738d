// Migration of one VM of the app's VMM to a `vmlab host` (docs/migration.md, "In the app"). The VM
// leaves the session's round robin while it moves: the scheduler sees it paused, and the migration
// source runs it alone between its looks at the link (`run`), so the other VMs run on in their
// slices. Its breakpoints are lifted meanwhile (a VM that paused at one would arrive paused, and
// `vmlab host` runs what it receives). Its own state (running or waiting) is kept here and put back
// for the saved state and when the migration fails.

import { MEMORY_MAP } from '../engine/machine/memory-map';
import { startVmDirtyLog, type DirtyLog } from '../engine/vmm/dirty-log';
import type { Vm, VmConfig } from '../engine/vmm/vm';
import type { Vmm } from '../engine/vmm/vmm';
import type { VmState } from '../shared/lab-api';
import { InputHold, type MigratingGuest } from './migration/source';
import type { SnapshotParts } from './snapshot-file';
import { placementText } from './snapshot-service';
import { vmSnapshotParts } from './snapshot-state';
import { closeDisks, type OpenedDisk } from './vm-disks';

/** What the migration needs of the session's slot for the VM. */
export interface MigratingSlot {
  readonly vmm: Vmm;
  readonly vm: Vm;
  disks: OpenedDisk[];
  readonly made: Omit<VmConfig, 'disks' | 'onUart'> | undefined;
}

/** The app's VM as the migration source sees it. */
export class AppMigratingGuest implements MigratingGuest {
  readonly mode: string;
  readonly ramPages: number;
  /** The VM's own state while the scheduler sees it paused: running, waiting, or how it ended. */
  runState: VmState;
  /** The disks as they were opened, to open them again if the move fails after they were closed. */
  readonly openedDisks: readonly OpenedDisk[];
  /** Input typed after the state was taken (it belongs to the host once the VM runs there). */
  readonly held = new InputHold();

  constructor(private readonly slot: MigratingSlot) {
    const vm = slot.vm;
    this.mode = vm.mode;
    this.ramPages = vm.memSize / 4096;
    this.runState = vm.state;
    this.openedDisks = [...slot.disks];
  }

  run(steps: number): boolean {
    const { vm, vmm } = this.slot;
    if (this.runState !== 'running') return false;
    vm.state = 'running';
    try {
      vmm.runVm(vm, steps);
    } finally {
      this.runState = vm.state;
      if (vm.state === 'running' || vm.state === 'waiting') vm.state = 'paused';
      vmm.unload();
    }
    return this.runState === 'running';
  }

  get elapsedSteps(): number {
    return this.slot.vm.machine.elapsedSteps;
  }

  /** Console input while it moves: a guest waiting for input runs on. */
  input(data: Uint8Array): void {
    if (this.held.hold(data)) return;
    this.slot.vm.machine.sendInput(data);
    if (this.runState === 'waiting') this.runState = 'running';
  }

  page(index: number): Uint8Array {
    const bus = this.slot.vm.bus;
    const off = bus.ramOffset(MEMORY_MAP.ram.base + index * 4096, 4096);
    return bus.ram.subarray(off, off + 4096);
  }

  /**
   * The pages that are not all zero. The app keeps no dirty log before a migration; the bus's
   * record of the pages that may hold data (PhysicalBus.written) names the only pages to read, so
   * RAM the guest never touched is not read, and the host does not fault it in.
   */
  usedPages(): number[] {
    const bus = this.slot.vm.bus;
    const out: number[] = [];
    for (let i = 0; i < this.ramPages; i++) {
      const off = bus.ramOffset(MEMORY_MAP.ram.base + i * 4096, 4096);
      if (bus.written[off >>> 12] === 0) continue;
      const words = new Int32Array(bus.ram.buffer, bus.ram.byteOffset + off, 1024);
      for (let w = 0; w < 1024; w++) {
        if (words[w] !== 0) {
          out.push(i);
          break;
        }
      }
    }
    return out;
  }

  startDirtyLog(): DirtyLog {
    return startVmDirtyLog(this.slot.vmm, this.slot.vm);
  }

  state(): SnapshotParts {
    const { vmm, vm, made } = this.slot;
    const m = made!;
    this.held.start();
    // The state the host continues is the VM's own, not the scheduler's pause.
    vm.state = this.runState;
    try {
      const built = { kernel: m.kernel, ramSize: vm.memSize, cpu: m.cpu, boot: { firmware: m.firmware, initrd: m.initrd, bootargs: m.bootargs, sbi: m.sbi } };
      // An explicit placement never gets here (migrationProblem).
      const place = typeof m.placement === 'string' ? placementText(m.placement) : undefined;
      return vmSnapshotParts(vmm, vm, built, this.slot.disks, { path: '', name: vm.name, kernel: vm.name, place }, `VM ${vm.name}`);
    } finally {
      if (vm.state === 'running' || vm.state === 'waiting') vm.state = 'paused';
    }
  }

  releaseDisks(): void {
    const problem = closeDisks(this.slot.disks);
    this.slot.disks = [];
    if (problem !== undefined) throw new Error(problem);
  }

  /** Every page that is not all zero, copied: the RAM for rebuilding the VM from the state it sent. */
  ramCopy(): Map<number, Uint8Array> {
    return new Map(this.usedPages().map((i) => [i, this.page(i).slice()]));
  }
}

/** Why a VM cannot move now; undefined when it can. */
export function migrationProblem(vm: Vm, made: MigratingSlot['made']): string | undefined {
  if (vm.state !== 'running' && vm.state !== 'waiting') {
    const why = vm.state === 'paused' ? 'paused: run it first (vmlab host runs the VMs it receives)' : `${vm.state}: only a running VM moves`;
    return `VM ${vm.name} is ${why}`;
  }
  if (made?.placement !== undefined && typeof made.placement === 'object') {
    return `VM ${vm.name} is placed frame by frame; a migrated VM is placed contiguous or scattered at the host (make the VM so to move it)`;
  }
  return undefined;
}
