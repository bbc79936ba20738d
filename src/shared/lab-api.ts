// The LabApi (DESIGN 7): the one typed interface between the renderer and the host. Requests are
// `call(method, params)` with a typed result; events are `on(name, listener)`. The same shape runs
// over Electron IPC (preload) and over a WebSocket (web mode). Bulk bytes travel as Uint8Array.

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

/** A machine's state and progress counters. */
export interface MachineStatus {
  readonly id: string;
  /** Workspace path of the kernel source or ELF. */
  readonly kernel: string;
  readonly state: MachineState;
  readonly pc: number;
  readonly priv: number;
  readonly instret: number;
  /** Millions of instructions per second over the last interval (0 when not running). */
  readonly mips: number;
  readonly exitCode?: number;
  /** Why it stopped or failed, for the status bar. */
  readonly reason?: string;
}

/** CPU features, as `-cpu rv32,pmp=false,...`. */
export interface CpuOptions {
  pmp?: boolean;
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

/** Which address space a memory request means. */
export type AddressSpace = 'physical' | 'virtual';

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
export interface LabMethods {
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
  'asm.build': [{ path: string }, AssembleResult];
  /** Creates a paused machine from a kernel (`.S` sources are built first). */
  'vm.create': [{ kernel: string; ramSize?: number; cpu?: CpuOptions }, MachineStatus];
  'vm.list': [Record<string, never>, MachineStatus[]];
  'vm.run': [{ id: string }, MachineStatus];
  'vm.pause': [{ id: string }, MachineStatus];
  'vm.step': [{ id: string; count?: number }, MachineStatus];
  /** Steps one instruction, running a called function to its return. */
  'vm.stepOver': [{ id: string }, MachineStatus];
  /** Runs until the pc reaches `address` (or another stop). */
  'vm.runTo': [{ id: string; address: number }, MachineStatus];
  /** Reloads the kernel and returns to the reset state, paused. */
  'vm.reset': [{ id: string }, MachineStatus];
  'vm.destroy': [{ id: string }, Record<string, never>];
  'vm.input': [{ id: string; data: Uint8Array }, Record<string, never>];
  'vm.setBreakpoints': [{ id: string; addresses: number[] }, Record<string, never>];
  'vm.registers': [{ id: string }, RegisterSnapshot];
  'vm.readMemory': [{ id: string; address: number; length: number; space: AddressSpace }, MemoryBlock];
  /** Writes bytes while paused; returns how many landed in RAM. */
  'vm.writeMemory': [{ id: string; address: number; bytes: Uint8Array; space: AddressSpace }, { written: number }];
  'vm.translate': [{ id: string; address: number }, TranslationInfo];
  /** Disassembles `count` instructions from a virtual address (through the current satp). */
  'vm.disassemble': [{ id: string; address: number; count: number }, DisasmLine[]];
}

/** A request name. */
export type LabMethod = keyof LabMethods;
/** Parameters of request M. */
export type LabParams<M extends LabMethod> = LabMethods[M][0];
/** Result of request M. */
export type LabResult<M extends LabMethod> = LabMethods[M][1];

/** Every event: name → payload. */
export interface LabEvents {
  /** Bytes the guest wrote to its UART. */
  'vm.console': { id: string; data: Uint8Array };
  /** A machine changed state, or a periodic progress tick while it runs. */
  'vm.status': MachineStatus;
  /** A machine was destroyed. */
  'vm.destroyed': { id: string };
  /** The workspace's files changed. */
  'fs.changed': Record<string, never>;
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
  'asm.check', 'asm.build', 'vm.create', 'vm.list', 'vm.run', 'vm.pause', 'vm.step', 'vm.stepOver', 'vm.runTo',
  'vm.reset', 'vm.destroy', 'vm.input', 'vm.setBreakpoints', 'vm.registers', 'vm.readMemory', 'vm.writeMemory',
  'vm.translate', 'vm.disassemble',
];

/** Every event name. */
export const LAB_EVENTS: readonly LabEventName[] = ['vm.console', 'vm.status', 'vm.destroyed', 'fs.changed'];
