// The LabApi (docs/app.md): the one typed interface between the renderer and the host. Requests are
// `call(method, params)` with a typed result; events are `on(name, listener)`. The same shape runs
// over Electron IPC (preload) and over a WebSocket (web mode). Bulk bytes travel as Uint8Array.

import type { CpuFeatureSet } from './cpu-options';
import { DISK_METHODS, type DiskAttachmentConfig, type DiskMethods } from './disk-api';
import { INSPECT_EVENTS, INSPECT_METHODS, type InspectEvents, type InspectMethods } from './inspect-api';
import { MIGRATION_EVENTS, MIGRATION_METHODS, type MigrationEvents, type MigrationMethods, type MigrationPlace } from './migration-api';
import { SESSION_METHODS, type SessionMethods } from './session-api';
import { SNAPSHOT_METHODS, type SnapshotMethods } from './snapshot-api';

export * from './cpu-options';
export * from './disk-api';
export * from './inspect-api';
export * from './migration-api';
export * from './session-api';
export * from './snapshot-api';

/** An entry of the workspace tree; `path` is relative to the workspace root, with '/' separators. */
export interface FileEntry {
  readonly path: string;
  readonly kind: 'file' | 'dir';
}

/** The open workspace. */
export interface WorkspaceInfo {
  /** Absolute folder path on the host (display only). */
  readonly root: string;
  /** Folder name. */
  readonly name: string;
}

/** One assembler message, positions 1-based. */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly length: number;
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

/** Address → source line of the assembled program. */
export interface LineMapEntry {
  readonly address: number;
  readonly file: string;
  readonly line: number;
}

/** A symbol of the assembled program. */
export interface SymbolEntry {
  readonly name: string;
  readonly address: number;
}

/** Outcome of assembling one source file. */
export interface AssembleResult {
  readonly ok: boolean;
  readonly diagnostics: Diagnostic[];
  readonly lineMap: LineMapEntry[];
  readonly symbols: SymbolEntry[];
  /** Workspace path of the written ELF (asm.build only, when ok). */
  readonly elfPath?: string;
}

/** An instruction of the machine, for highlighting and hovers. */
export interface IsaInstruction {
  readonly name: string;
  readonly syntax: string;
  readonly ext: string;
}

/** A CSR of the machine, for highlighting and hovers. */
export interface IsaCsr {
  readonly name: string;
  readonly num: number;
}

/** The instruction set the machine implements (generated from the engine's tables). */
export interface IsaInfo {
  readonly instructions: IsaInstruction[];
  readonly csrs: IsaCsr[];
}

/** Where a machine is in its life. */
export type MachineState = 'paused' | 'running' | 'idle' | 'exited' | 'error';

/** How a machine runs its kernel: alone on the machine, or in a VM of the VMM (docs/vmm.md). */
export type MachineMode = 'bare' | 'emulate' | 'trap' | 'bt' | 'pv' | 'hw';

/** Every mode, in the order the VM manager offers them. */
export const MACHINE_MODES: readonly MachineMode[] = ['bare', 'emulate', 'trap', 'bt', 'pv', 'hw'];

/** A VM's own lifecycle state, as the VMM keeps it. */
export type VmState = 'running' | 'paused' | 'waiting' | 'halted' | 'crashed' | 'stopped';

/** How a VM's guest-physical pages are placed in host frames (page indices from the start of RAM). */
export type VmPlacement =
  | 'contiguous'
  | 'scattered'
  | { explicit: [guestPage: number, hostFrame: number][]; rest?: 'contiguous' | 'scattered' };

/** Parameters of vm.create. */
export interface MachineConfig {
  /** Workspace path of the kernel (`.S`/`.s` sources are built first, anything else is an ELF or raw image). */
  kernel: string;
  /** Default 'bare'. */
  mode?: MachineMode;
  /** Display name; VMs' names are unique (default: the kernel's file name). */
  name?: string;
  /** RAM in bytes (bare default 128 MiB, VMs 16 MiB). */
  memSize?: number;
  /** VMs only; default 'contiguous'. */
  placement?: VmPlacement;
  cpu?: CpuOptions;
  /** VMs only: virtio-blk disks, disk n in virtio-mmio slot 7 - n. */
  disks?: DiskAttachmentConfig[];
  /** Workspace path of the source the editor runs in this machine (F5's debugging session of that file). */
  source?: string;
  /**
   * Firmware at the start of RAM, a workspace path, or 'none' (the default), as QEMU's -bios; 'sbi':
   * the kernel starts in S-mode and vmlab answers its SBI calls (QEMU's -bios default).
   */
  bios?: string;
  /** Workspace path of an initial ramdisk, as QEMU's -initrd. */
  initrd?: string;
  /** Kernel command line (/chosen/bootargs), as QEMU's -append. */
  append?: string;
}

/** What vm.kernelInfo finds in a kernel file before vm.create boots it (docs/machine.md, Boot). */
export interface KernelInfo {
  /** 'source': assembled on vm.create; 'elf': loaded by its addresses; 'raw': copied to loadAddress and started there. */
  readonly format: 'source' | 'elf' | 'raw';
  /** Bytes in the file (not for a source). */
  readonly size?: number;
  /** A raw image's load and start address in the boot asked about. */
  readonly loadAddress?: number;
  /** What to know before creating (a raw image's load address, bytes that are no code, a kernel for another mode); vm.create still boots it. */
  readonly notes: string[];
  /** Why vm.create will refuse the kernel (an empty file, an ELF vmlab cannot load). */
  readonly problem?: string;
}

/** A machine's state and progress counters. */
export interface MachineStatus {
  readonly id: string;
  /** Workspace path of the kernel source or ELF. */
  readonly kernel: string;
  readonly mode: MachineMode;
  readonly name: string;
  /** RAM in bytes. */
  readonly memSize: number;
  /** VMs only. */
  readonly placement?: VmPlacement;
  /** The source file whose debugging session (F5) this machine is, as given to vm.create. */
  readonly source?: string;
  readonly state: MachineState;
  /** VMs only: the VMM's own state of the VM. */
  readonly vmState?: VmState;
  /** VMs only, when crashed: why, in words a student can act on. */
  readonly crashReason?: string;
  readonly pc: number;
  readonly priv: number;
  readonly instret: number;
  /** Millions of instructions per second over the last interval (0 when not running). */
  readonly mips: number;
  readonly exitCode?: number;
  /** Why it stopped or failed, for the status bar. */
  readonly reason?: string;
  /** The gdb stub on 127.0.0.1:`port` while its switch is on, and whether a debugger is attached. */
  readonly gdb?: { readonly port: number; readonly attached: boolean };
  /** VMs only, while it moves to a `vmlab host` and after it moved there (docs/migration.md). */
  readonly migration?: MigrationPlace;
}

/** CPU features, as `-cpu rv32,pmp=false,...` (cpu-options.ts parses and prints that string). */
export interface CpuOptions extends CpuFeatureSet {
  pmp?: boolean;
  h?: boolean;
  c?: boolean;
  a?: boolean;
  m?: boolean;
  xsensitive?: boolean;
  jit?: boolean;
}

/** A CSR value. */
export interface CsrReading {
  readonly name: string;
  readonly num: number;
  readonly value: number;
}

/** The hart's registers at one moment. */
export interface RegisterSnapshot {
  readonly pc: number;
  readonly priv: number;
  /** x0..x31, unsigned. */
  readonly x: number[];
  readonly csrs: CsrReading[];
}

/**
 * Which address space a memory request means: a bare machine has 'physical' and 'virtual' (through
 * its satp); a VM has 'guest-virtual' (through the guest's satp), 'guest-physical' (through the
 * pmap) and 'host-physical' (only the host frames of that VM are readable).
 */
export type AddressSpace = 'physical' | 'virtual' | 'guest-virtual' | 'guest-physical' | 'host-physical';

/** The address spaces of a bare machine. */
export const BARE_SPACES: readonly AddressSpace[] = ['physical', 'virtual'];
/** The address spaces of a VM. */
export const VM_SPACES: readonly AddressSpace[] = ['guest-virtual', 'guest-physical', 'host-physical'];

/** One address named in every space of a machine where it can be named. */
export interface AddressLocation {
  /** The space and address asked about. */
  readonly space: AddressSpace;
  readonly address: number;
  /** The same byte in each space (absent where it has no name there). */
  readonly addresses: Partial<Record<AddressSpace, number>>;
  /** Why a translation stopped (a page fault in the guest's table, not guest RAM, another VM's frame). */
  readonly note?: string;
}

/** A VM's statistics (docs/vmm.md) and its modeled cycles. */
export interface VmStatsInfo {
  readonly instructions: number;
  readonly retired: { readonly user: number; readonly supervisor: number; readonly machine: number };
  readonly exitCount: number;
  /** Exits by cause, e.g. exception2 (illegal instruction), exception15 (store page fault). */
  readonly exits: Record<string, number>;
  readonly emulated: Record<string, number>;
  readonly reflected: Record<string, number>;
  readonly shadow: { readonly fills: number; readonly syncs: number; readonly flushes: number; readonly writeProtectFaults: number };
  /** TLB hits (loads and stores served without a walk or an exit), misses (walks) and walk references. */
  readonly tlb: { readonly hits: number; readonly misses: number; readonly walkReferences: number };
  /** bt: blocks translated, translation-cache hits, blocks invalidated, callouts (in total and by kind), chained jumps. */
  readonly translation: {
    readonly blocks: number; readonly hits: number; readonly invalidations: number; readonly callouts: number;
    readonly calloutKinds: Record<string, number>; readonly chainedJumps: number;
  };
  /** Hypercalls by function: the SBI's (`sbi.<extension>.<function>`) and pv mode's (`pv.<function>`). */
  readonly hypercalls: Record<string, number>;
  /** pv: hypercalls refused (and refused stores to table pages), PTE updates applied by mmu_update. */
  readonly pv: { readonly refused: number; readonly pteUpdates: number };
  readonly deviceAccesses: number;
  readonly wallMs: number;
  /** Modeled cycles with the default cost model (docs/vmm.md), in total and by event kind. */
  readonly modeledCycles: number;
  readonly cycleBreakdown: Record<string, number>;
}

/** A block of memory; `valid[i]` is 0 where nothing readable is mapped (device, hole, page fault). */
export interface MemoryBlock {
  readonly address: number;
  readonly bytes: Uint8Array;
  readonly valid: Uint8Array;
}

/** One PTE read of a translation. */
export interface TranslationStepInfo {
  readonly level: number;
  readonly pteAddress: number;
  readonly pte: number;
}

/** A virtual address translated through the current satp. */
export interface TranslationInfo {
  readonly va: number;
  readonly pa?: number;
  readonly fault: number;
  readonly paged: boolean;
  readonly steps: TranslationStepInfo[];
}

/** One disassembled instruction. */
export interface DisasmLine {
  readonly address: number;
  /** Encoding in hex (4 digits for compressed instructions, 8 otherwise); '' where unreadable. */
  readonly hex: string;
  /** objdump-style text, or '??' where memory cannot be read. */
  readonly text: string;
}

/** Every request: method name → [params, result]. */
export interface LabMethods extends DiskMethods, InspectMethods, MigrationMethods, SessionMethods, SnapshotMethods {
  'workspace.info': [Record<string, never>, WorkspaceInfo];
  'fs.list': [Record<string, never>, FileEntry[]];
  'fs.read': [{ path: string }, { text: string }];
  'fs.write': [{ path: string; text: string }, Record<string, never>];
  'fs.create': [{ path: string; kind: 'file' | 'dir' }, Record<string, never>];
  'fs.rename': [{ from: string; to: string }, Record<string, never>];
  'fs.delete': [{ path: string }, Record<string, never>];
  'isa.info': [Record<string, never>, IsaInfo];
  /** Assembles `text` (the editor buffer) as if it were `path`, writing nothing: live diagnostics. */
  'asm.check': [{ path: string; text: string }, AssembleResult];
  /** Assembles the saved file `path` into `<path without .S>.elf` beside it. */
  /** Assembles a source into its .elf beside it; for `mode` pv at the address a pv kernel boots at (as vm.create does). */
  'asm.build': [{ path: string; mode?: MachineMode }, AssembleResult];
  /** The workspace's assembly sources that define no `_start` (files kernels include), which the kernel lists set apart. */
  'asm.withoutStart': [Record<string, never>, string[]];
  /** Creates a paused machine from a kernel: bare in its own worker, or a VM in the one VMM. */
  /** The kernel `kernel` as vm.create with this mode and firmware would boot it; reads the file, assembles nothing. */
  'vm.kernelInfo': [Pick<MachineConfig, 'kernel' | 'mode' | 'bios'>, KernelInfo];
  'vm.create': [MachineConfig, MachineStatus];
  'vm.list': [Record<string, never>, MachineStatus[]];
  'vm.run': [{ id: string }, MachineStatus];
  'vm.pause': [{ id: string }, MachineStatus];
  'vm.step': [{ id: string; count?: number }, MachineStatus];
  /** Steps one instruction, running a called function to its return. */
  'vm.stepOver': [{ id: string }, MachineStatus];
  /** Goes back one step: rewinds to a checkpoint and replays to the step before (docs/replay.md). */
  'vm.reverseStep': [{ id: string }, MachineStatus];
  /** Goes back to the latest breakpoint hit before the current step, or to the start of history. */
  'vm.reverseContinue': [{ id: string }, MachineStatus];
  /** Runs until the pc reaches `address` (or another stop). */
  'vm.runTo': [{ id: string; address: number }, MachineStatus];
  /** Reloads the kernel and returns to the reset state, paused. */
  'vm.reset': [{ id: string }, MachineStatus];
  /** Powers a VM off for good (it stays inspectable until destroyed); a bare machine is paused. */
  'vm.stop': [{ id: string }, MachineStatus];
  'vm.destroy': [{ id: string }, Record<string, never>];
  'vm.input': [{ id: string; data: Uint8Array }, Record<string, never>];
  'vm.setBreakpoints': [{ id: string; addresses: number[] }, Record<string, never>];
  'vm.registers': [{ id: string }, RegisterSnapshot];
  'vm.readMemory': [{ id: string; address: number; length: number; space: AddressSpace }, MemoryBlock];
  /** Writes bytes while paused; returns how many landed in RAM. */
  'vm.writeMemory': [{ id: string; address: number; bytes: Uint8Array; space: AddressSpace }, { written: number }];
  'vm.translate': [{ id: string; address: number }, TranslationInfo];
  /** Names an address in every address space of the machine (VM: guest-virtual → guest-physical → host-physical). */
  'vm.locate': [{ id: string; address: number; space: AddressSpace }, AddressLocation];
  /** Disassembles `count` instructions from a virtual address (through the current satp). */
  'vm.disassemble': [{ id: string; address: number; count: number }, DisasmLine[]];
  /** A VM's statistics and modeled cycles. */
  'vm.stats': [{ id: string }, VmStatsInfo];
  /**
   * Makes a new machine, paused, from a snapshot file of the workspace (docs/snapshots.md): in the
   * mode it was taken in, or `mode` (bare and the VM modes but pv continue in one another; pv only in pv).
   */
  'snapshot.restore': [{ path: string; name?: string; mode?: MachineMode }, MachineStatus];
  /**
   * A machine's or VM's gdb switch: on, a GDB remote stub listens on 127.0.0.1:`port` (0 or none: a free port;
   * docs/debugging.md); while a debugger is attached it holds the VM and the app's run and step are
   * refused. Off closes it (an attached debugger is dropped).
   */
  'vm.gdb': [{ id: string; enabled: boolean; port?: number }, MachineStatus];
}

/** A request name. */
export type LabMethod = keyof LabMethods;
/** Parameters of request M. */
export type LabParams<M extends LabMethod> = LabMethods[M][0];
/** Result of request M. */
export type LabResult<M extends LabMethod> = LabMethods[M][1];

/** Every event: name → payload. */
export interface LabEvents extends InspectEvents, MigrationEvents {
  /** Bytes the guest wrote to its UART; `offset` counts the console's bytes before them (vm.consoleLog's `end`). */
  'vm.console': { id: string; data: Uint8Array; offset: number };
  /** A machine changed state, or a periodic progress tick while it runs. */
  'vm.status': MachineStatus;
  /** A machine was destroyed. */
  'vm.destroyed': { id: string };
  /** The workspace's files changed. */
  'fs.changed': Record<string, never>;
  /** A menu command of the desktop app for the editor: save, or save as `path` (workspace-relative). */
  'app.command': { command: 'save' } | { command: 'saveAs'; path: string };
}

/** An event name. */
export type LabEventName = keyof LabEvents;

/** Machine-readable error kinds. */
export type LabErrorCode = 'bad-request' | 'not-found' | 'outside-workspace' | 'exists' | 'bad-state' | 'failed';

/** An error as it crosses the API. */
export interface LabErrorInfo {
  readonly code: LabErrorCode;
  readonly message: string;
}

/** The typed API the renderer sees (window.lab in Electron, a WebSocket client in web mode). */
export interface LabApi {
  /** Sends request `method`; rejects with an Error whose message is the host's. */
  call<M extends LabMethod>(method: M, params: LabParams<M>): Promise<LabResult<M>>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends LabEventName>(event: E, listener: (payload: LabEvents[E]) => void): () => void;
}

/** Every method name, for the preload's and server's allow-lists. */
export const LAB_METHODS: readonly LabMethod[] = [
  'workspace.info', 'fs.list', 'fs.read', 'fs.write', 'fs.create', 'fs.rename', 'fs.delete', 'isa.info',
  'asm.check', 'asm.build', 'asm.withoutStart', 'vm.kernelInfo', 'vm.create', 'vm.list', 'vm.run', 'vm.pause', 'vm.step', 'vm.stepOver', 'vm.reverseStep', 'vm.reverseContinue', 'vm.runTo',
  'vm.reset', 'vm.stop', 'vm.destroy', 'vm.input', 'vm.setBreakpoints', 'vm.registers', 'vm.readMemory', 'vm.writeMemory',
  'vm.translate', 'vm.locate', 'vm.disassemble', 'vm.stats', 'vm.gdb',
  ...DISK_METHODS, ...INSPECT_METHODS, ...MIGRATION_METHODS, ...SESSION_METHODS, ...SNAPSHOT_METHODS,
];

/** Every event name. */
export const LAB_EVENTS: readonly LabEventName[] = ['vm.console', 'vm.status', 'vm.destroyed', 'fs.changed', 'app.command', ...INSPECT_EVENTS, ...MIGRATION_EVENTS];
