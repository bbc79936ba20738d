// Messages between the lab service and the VMM worker: one worker_thread owns the one Vmm (one
// physical machine, one host RAM) and every VM in emulate or trap mode, each named by the key the
// service gave it.

import type {
  AddressLocation, AddressSpace, CpuOptions, DisasmLine, MemoryBlock, RegisterSnapshot, TranslationInfo, VmPlacement,
  VmState, VmStatsInfo,
} from '../shared/lab-api';
import type { AttachedDiskInfo, SectorBlock } from '../shared/disk-api';
import type { DiskOpenSpec } from './vm-disks';
import type { InspectReplies, InspectRequest } from './vm-inspect';
import type { BootImages, WorkerStatus } from './worker-protocol';
import type { Snapshot } from './snapshot-file';
import type { SnapshotTarget } from './snapshot-state';
import type { SnapshotEntry } from '../shared/snapshot-api';
import type { MigrationEvent, MigrationFiguresInfo, MigrationPlace } from '../shared/migration-api';
import type { MigrationOptions } from './migration/source';

/** The two VMM modes this worker runs. */
export type VmmMode = 'emulate' | 'trap' | 'bt' | 'pv' | 'hw';

/** A command to the VMM worker; each gets exactly one reply with the same seq. */
export type VmmCommand =
  | { op: 'create'; key: string; name: string; mode: VmmMode; memSize: number; placement: VmPlacement; kernel: Uint8Array; cpu?: CpuOptions; disks?: DiskOpenSpec[]; boot?: BootImages }
  | { op: 'run' | 'pause' | 'reset' | 'stop' | 'destroy' | 'registers' | 'stats' | 'status'; key: string }
  | { op: 'step'; key: string; count: number }
  | { op: 'stepOver'; key: string }
  | { op: 'reverseStep'; key: string }
  | { op: 'reverseContinue'; key: string }
  | { op: 'runTo'; key: string; address: number }
  | { op: 'breakpoints'; key: string; addresses: number[] }
  | { op: 'input'; key: string; data: Uint8Array }
  | { op: 'readMemory'; key: string; address: number; length: number; space: AddressSpace }
  | { op: 'writeMemory'; key: string; address: number; bytes: Uint8Array; space: AddressSpace }
  | { op: 'translate'; key: string; address: number }
  | { op: 'locate'; key: string; address: number; space: AddressSpace }
  | { op: 'disassemble'; key: string; address: number; count: number }
  | { op: 'disks'; key: string }
  | { op: 'setDisks'; key: string; disks: DiskOpenSpec[] }
  | { op: 'readSector'; key: string; index: number; sector: number }
  | { op: 'closeDisks' }
  | { op: 'inspect'; key: string; request: InspectRequest }
  | { op: 'saveSnapshot'; key: string; target: SnapshotTarget }
  | { op: 'gdb'; key: string; enabled: boolean; port: number }
  | { op: 'migrate'; key: string; options: MigrationOptions }
  | { op: 'restore'; key: string; name: string; mode: VmmMode; placement: VmPlacement; snapshot: Snapshot; cpu?: CpuOptions; disks: DiskOpenSpec[]; boot: BootImages };

/** A command with its sequence number. */
export type VmmRequest = VmmCommand & { seq: number };

/** A VM's state as the worker reports it (the service adds id, kernel, mode and name). */
export interface VmWorkerStatus extends WorkerStatus {
  vmState: VmState;
  crashReason?: string;
  migration?: MigrationPlace;
}

/** What each command's reply carries. */
export interface VmmReplies {
  create: VmWorkerStatus;
  run: VmWorkerStatus;
  pause: VmWorkerStatus;
  reset: VmWorkerStatus;
  stop: VmWorkerStatus;
  destroy: null;
  registers: RegisterSnapshot;
  stats: VmStatsInfo;
  status: VmWorkerStatus;
  step: VmWorkerStatus;
  stepOver: VmWorkerStatus;
  reverseStep: VmWorkerStatus;
  reverseContinue: VmWorkerStatus;
  runTo: VmWorkerStatus;
  breakpoints: null;
  input: null;
  readMemory: MemoryBlock;
  writeMemory: { written: number };
  translate: TranslationInfo;
  locate: AddressLocation;
  disassemble: DisasmLine[];
  disks: AttachedDiskInfo[];
  setDisks: AttachedDiskInfo[];
  readSector: SectorBlock;
  /** The first error closing a disk, if any. */
  closeDisks: string | null;
  inspect: InspectReplies[InspectRequest['what']];
  saveSnapshot: SnapshotEntry;
  restore: VmWorkerStatus;
  gdb: VmWorkerStatus;
  migrate: MigrationFiguresInfo;
}

/** A message from the VMM worker. */
export type VmmMessage =
  | { t: 'reply'; seq: number; ok: true; value: unknown }
  | { t: 'reply'; seq: number; ok: false; error: { code: string; message: string } }
  | { t: 'uart'; key: string; data: Uint8Array }
  | { t: 'status'; key: string; status: VmWorkerStatus }
  | { t: 'migration'; key: string; event: MigrationEvent };
