// Snapshots of the app's machines, in the workers that run them: the state of a bare machine or of
// one VM of the lab's VMM is written to a snapshot file (snapshot-file.ts, the same format and the
// same temporary-name, fsync and rename as `vmlab run --save-snapshot`), and a snapshot's state is
// laid over a machine or VM built again from the snapshot's configuration (docs/snapshots.md).

import type { Machine } from '../engine/machine/machine';
import { loadMachine, loadRam, loadVm, loadVmMachine, ramPages, saveMachine, saveVm } from '../engine/snapshot/machine-state';
import type { Vm } from '../engine/vmm/vm';
import type { Vmm } from '../engine/vmm/vmm';
import type { CpuOptions } from '../shared/lab-api';
import type { SnapshotEntry } from '../shared/snapshot-api';
import { fileDigest, writeSnapshotFile, type Snapshot, type SnapshotConfig, type SnapshotDisk, type SnapshotParts } from './snapshot-file';
import type { OpenedDisk } from './vm-disks';
import type { BootImages } from './worker-protocol';

/** Where a snapshot goes and what names it: the service resolves the file inside the workspace. */
export interface SnapshotTarget {
  /** Real host path of the file to write. */
  file: string;
  /** Its workspace path, for messages and the listing. */
  path: string;
  /** The machine's name and the workspace path of its kernel. */
  name: string;
  kernel: string;
  /** A VM's placement as `--place` writes it. */
  place?: string;
}

/** What a machine was built from. */
export interface BuiltFrom {
  kernel: Uint8Array;
  ramSize: number;
  cpu?: CpuOptions;
  boot: BootImages;
}

function config(mode: string, built: BuiltFrom, target: Omit<SnapshotTarget, 'file'>): SnapshotConfig {
  const { jit: _jit, ...cpu } = built.cpu ?? {};
  return {
    mode, ramSize: built.ramSize, cpu, bootargs: built.boot.bootargs, sbi: built.boot.sbi, place: target.place,
    kernelName: target.kernel, name: target.name,
  };
}

function entry(target: Omit<SnapshotTarget, 'file'>, created: string, mode: string, summary: { steps: number; instret: number; pc: number; state: string }, disks: string[]): SnapshotEntry {
  return { path: target.path, created, mode, machine: target.name, kernel: target.kernel, instret: summary.instret, steps: summary.steps, pc: summary.pc >>> 0, state: summary.state, disks };
}

/** Saves a bare machine; `state` is the session's own word for where it stands. */
export function saveMachineSnapshot(machine: Machine, built: BuiltFrom, target: SnapshotTarget, state: string): SnapshotEntry {
  const created = new Date().toISOString();
  const h = machine.hart;
  const summary = { steps: machine.clockSteps, instret: h.instret, pc: h.pc, priv: h.priv, state: machine.exitCode === undefined ? state : `exited (${machine.exitCode})` };
  writeSnapshotFile(target.file, {
    header: { created, config: config('bare', built, target), disks: [], summary, machine: saveMachine(machine) },
    kernel: built.kernel, firmware: built.boot.firmware, initrd: built.boot.initrd, ram: ramPages(machine.bus),
  }, `snapshot ${target.path}`);
  return entry(target, created, 'bare', summary, []);
}

/**
 * One VM's state as a snapshot holds it, its RAM left out (the caller adds it, or sends its pages
 * apart as a migration does); its disks are flushed first, so their recorded digests hold.
 */
export function vmSnapshotParts(vmm: Vmm, vm: Vm, built: BuiltFrom, disks: readonly OpenedDisk[], target: Omit<SnapshotTarget, 'file'>, what: string): SnapshotParts {
  const created = new Date().toISOString();
  const flushError = vm.machine.flushDisks();
  if (flushError !== undefined) throw new Error(`${what}: ${flushError}`);
  const state = saveVm(vmm, vm);
  const h = vm.vhart;
  const summary = { steps: vm.machine.clockSteps, instret: h.instret, pc: h.pc, priv: h.priv, state: vm.state };
  const slots = vm.machine.board.diskSlots;
  const snapDisks: SnapshotDisk[] = disks.map((d, i) => ({
    path: d.spec.file, format: d.device.format as 'raw' | 'qcow2', readOnly: d.spec.readOnly, legacy: d.spec.legacy, serial: d.spec.serial,
    slot: slots[i], ...fileDigest(d.spec.file),
  }));
  return {
    header: { created, config: config(vm.mode, built, target), disks: snapDisks, summary, vm: state },
    kernel: built.kernel, firmware: built.boot.firmware, initrd: built.boot.initrd, ram: [],
  };
}

/** Saves one VM of the VMM with its disks (flushed first, so their recorded digests hold). */
export function saveVmSnapshot(vmm: Vmm, vm: Vm, built: BuiltFrom, disks: readonly OpenedDisk[], target: SnapshotTarget): SnapshotEntry {
  const parts = vmSnapshotParts(vmm, vm, built, disks, target, `snapshot ${target.path}`);
  writeSnapshotFile(target.file, { ...parts, ram: ramPages(vm.bus) }, `snapshot ${target.path}`);
  const { created, summary } = parts.header;
  return entry(target, created, vm.mode, summary, disks.map((d) => d.spec.path));
}

/** Lays a snapshot over a machine built from its configuration (a VM's snapshot: its virtual machine's state). */
export function restoreMachine(machine: Machine, snapshot: Snapshot): void {
  loadRam(machine.bus, snapshot.ram);
  loadMachine(machine, snapshot.header.machine ?? snapshot.header.vm!.machine);
}

/**
 * Lays a snapshot over a VM built from its configuration. Taken in the VM's own mode it continues
 * with its statistics and vCPU; taken bare or in another mode, the machine's state moves into the VM
 * and what the new technique counts starts afresh.
 */
export function restoreVm(vmm: Vmm, vm: Vm, snapshot: Snapshot): void {
  loadRam(vm.bus, snapshot.ram);
  const h = snapshot.header;
  if (h.vm !== undefined && h.config.mode === vm.mode) loadVm(vmm, vm, h.vm);
  else loadVmMachine(vmm, vm, h.machine ?? h.vm!.machine);
}
