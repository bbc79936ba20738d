// Messages between the lab service and a machine worker (one worker_thread per machine, so a
// guest running flat out never blocks the process that serves the UI).

import type { InspectReplies, InspectRequest } from './vm-inspect';
import type { Snapshot } from './snapshot-file';
import type { SnapshotTarget } from './snapshot-state';
import type { SnapshotEntry } from '../shared/snapshot-api';
import type { AddressLocation, AddressSpace, CpuOptions, DisasmLine, MachineState, MemoryBlock, RegisterSnapshot, TranslationInfo } from '../shared/lab-api';

/** What a boot loads besides the kernel (vm.create's bios, initrd and append, read). */
export interface BootImages {
  firmware?: Uint8Array;
  /** bios 'sbi': the engine answers the kernel's SBI calls. */
  sbi?: boolean;
  initrd?: Uint8Array;
  bootargs?: string;
}

/** A command to the worker; each gets exactly one reply with the same seq. */
export type WorkerCommand =
  | { op: 'load'; kernel: Uint8Array; ramSize?: number; cpu?: CpuOptions; boot?: BootImages }
  | { op: 'run' }
  | { op: 'pause' }
  | { op: 'step'; count: number }
  | { op: 'stepOver' }
  | { op: 'reverseStep' }
  | { op: 'reverseContinue' }
  | { op: 'runTo'; address: number }
  | { op: 'reset' }
  | { op: 'input'; data: Uint8Array }
  | { op: 'breakpoints'; addresses: number[] }
  | { op: 'registers' }
  | { op: 'readMemory'; address: number; length: number; space: AddressSpace }
  | { op: 'writeMemory'; address: number; bytes: Uint8Array; space: AddressSpace }
  | { op: 'translate'; address: number }
  | { op: 'locate'; address: number; space: AddressSpace }
  | { op: 'disassemble'; address: number; count: number }
  | { op: 'inspect'; request: InspectRequest }
  | { op: 'status' }
  | { op: 'saveSnapshot'; target: SnapshotTarget }
  | { op: 'gdb'; enabled: boolean; port: number }
  | { op: 'restore'; snapshot: Snapshot; cpu?: CpuOptions; boot: BootImages };

/** A command with its sequence number. */
export type WorkerRequest = WorkerCommand & { seq: number };

/** The machine's state as the worker knows it (the service adds id and kernel). */
export interface WorkerStatus {
  state: MachineState;
  pc: number;
  priv: number;
  instret: number;
  mips: number;
  exitCode?: number;
  reason?: string;
  /** The machine's gdb stub, when its switch is on. */
  gdb?: { port: number; attached: boolean };
}

/** What each command's reply carries. */
export interface WorkerReplies {
  load: WorkerStatus;
  run: WorkerStatus;
  pause: WorkerStatus;
  step: WorkerStatus;
  stepOver: WorkerStatus;
  reverseStep: WorkerStatus;
  reverseContinue: WorkerStatus;
  runTo: WorkerStatus;
  reset: WorkerStatus;
  input: null;
  breakpoints: null;
  registers: RegisterSnapshot;
  readMemory: MemoryBlock;
  writeMemory: { written: number };
  translate: TranslationInfo;
  locate: AddressLocation;
  disassemble: DisasmLine[];
  inspect: InspectReplies[InspectRequest['what']];
  status: WorkerStatus;
  saveSnapshot: SnapshotEntry;
  restore: WorkerStatus;
  gdb: WorkerStatus;
}

/** A message from the worker. */
export type WorkerMessage =
  | { t: 'reply'; seq: number; ok: true; value: unknown }
  | { t: 'reply'; seq: number; ok: false; error: { code: string; message: string } }
  | { t: 'uart'; data: Uint8Array }
  | { t: 'status'; status: WorkerStatus };
