// The compare view's engine side (issue #7): one kernel, the same inputs, run bare and in every VMM
// mode; instructions, exits, modeled cycles and wall time side by side, each relative to bare.
// Runs are deterministic, so every figure but wall time is the same on every machine. Wall time is
// the guest's execution alone, measured alike in every mode: each mode first runs the kernel
// untimed for a few steps (so the host has compiled the engine's code for that mode), then the
// timed run (a short one is the fastest of three); every mode interprets the guest (jit off) unless
// the CPU options turn the translator on.

import type { CpuFeatures } from '../cpu/hart';
import type { DiskAttachment } from '../machine/board';
import { Machine, StopReason } from '../machine/machine';
import { VMM_RESERVE } from '../machine/memory-map';
import { modeledCycles, DEFAULT_COSTS, type CostModel } from './stats';
import { ALL_VM_MODES, VM_MODES, type VmMode } from './vm';
import { Vmm } from './vmm';

/** A column of the comparison: the bare machine or a VMM mode. */
export type CompareMode = 'bare' | VmMode;

/** Every mode the comparison runs on one kernel, bare first (pv needs a kernel of its own: `pvKernel`). */
export const COMPARE_MODES: readonly CompareMode[] = ['bare', ...VM_MODES];

/** The modes with pv, in the technique table's order, when a para-virtual kernel is given. */
export const COMPARE_MODES_PV: readonly CompareMode[] = ['bare', ...ALL_VM_MODES];

/** How the kernel is run. */
export interface CompareOptions {
  /** Guest RAM in bytes (default 128 MiB, as `vmlab run`). */
  memSize?: number;
  cpu?: Partial<CpuFeatures>;
  /** Firmware, initrd and command line of every run (QEMU's -bios, -initrd, -append). */
  boot?: { firmware?: Uint8Array; sbi?: boolean; initrd?: Uint8Array; bootargs?: string };
  /**
   * The same workload written para-virtually (docs/reference.md), run in the pv column; its output
   * is compared with the kernel's bare output like every other mode's.
   */
  pvKernel?: Uint8Array;
  /** Step budget of each run (default 200 million). */
  maxSteps?: number;
  /** Bytes queued for the guest's UART before it starts. */
  input?: Uint8Array;
  /** The modes to run (default all). */
  modes?: readonly CompareMode[];
  costs?: CostModel;
  /** Wall clock in milliseconds (default Date.now). */
  now?: () => number;
  /** Steps of the untimed warm-up run before each mode's timed run (default WARM_UP_STEPS, 0: none). */
  warmUpSteps?: number;
  /**
   * The disks of one run, called once per mode so that every mode starts from the same disk
   * contents (the caller gives each run fresh overlays and closes them).
   */
  disks?: (mode: CompareMode) => readonly DiskAttachment[];
}

/** One mode's figures. */
export interface CompareRow {
  readonly mode: CompareMode;
  /** How the run ended: 'exit', 'budget', 'idle', 'crashed'. */
  readonly end: string;
  readonly exitCode: number | null;
  readonly crashReason?: string;
  readonly instructions: number;
  /** Traps the guest took (exceptions and interrupts entering its own handlers), alike in every mode. */
  readonly traps: number;
  readonly exits: number;
  readonly modeledCycles: number;
  /** Modeled cycles by event kind. */
  readonly breakdown: Record<string, number>;
  readonly wallMs: number;
  /**
   * Memory references per TLB miss of the guest's translation: emulate's software two-stage walk,
   * trap's guest-table walks, hw's hardware two-stage walks (null for bare, or without misses).
   */
  readonly walkRefsPerMiss: number | null;
  /** Guest blocks the translator compiled (0 unless the CPU options turn jit on; never in emulate mode). */
  readonly translatedBlocks: number;
  /** The console output, to check that the guest did the same thing in every mode. */
  readonly output: string;
  /** Each figure divided by bare's (1 for bare itself; null without a bare row or when bare's is 0). */
  readonly relative: { instructions: number | null; modeledCycles: number | null; wallMs: number | null };
  /** Whether the console output equals bare's. */
  readonly sameOutput: boolean;
}

const DEFAULT_MEM = 128 * 1024 * 1024;
const CHUNK = 1_000_000;
/** Default steps of each mode's untimed warm-up run. */
export const WARM_UP_STEPS = 200_000;
/** A timed run shorter than this (ms) is repeated, up to SHORT_RUN_TRIES runs, and the fastest counts. */
export const SHORT_RUN_MS = 200;
export const SHORT_RUN_TRIES = 3;

/** Runs `kernel` in each mode and returns one row per mode. */
export function compareModes(kernel: Uint8Array, options: CompareOptions = {}): CompareRow[] {
  const modes = options.modes ?? (options.pvKernel !== undefined ? COMPARE_MODES_PV : COMPARE_MODES);
  if (modes.includes('pv') && options.pvKernel === undefined) throw new Error('the pv column needs a kernel written for pv (the para-virtual version of the workload)');
  const raw = modes.map((mode) => (mode === 'pv' ? runMode(options.pvKernel!, mode, { ...options, boot: { ...options.boot, firmware: undefined, sbi: true } }) : runMode(kernel, mode, options)));
  const bare = raw.find((r) => r.mode === 'bare');
  const ratio = (v: number, b: number | undefined): number | null => (b === undefined || b === 0 ? null : v / b);
  return raw.map((r) => ({
    ...r,
    relative: {
      instructions: ratio(r.instructions, bare?.instructions),
      modeledCycles: ratio(r.modeledCycles, bare?.modeledCycles),
      wallMs: ratio(r.wallMs, bare?.wallMs),
    },
    sameOutput: bare === undefined || r.output === bare.output,
  }));
}

/** A row of a comparison of several kernels: the kernel's name beside one mode's figures. */
export interface KernelCompareRow extends CompareRow {
  readonly kernel: string;
}

/**
 * Runs several kernels (for example a monolithic kernel and a microkernel with the same services)
 * with the same options, each in every mode. Every row's relative figures and sameOutput refer to
 * the first row: the first kernel's run in the first mode (bare, unless `modes` says otherwise),
 * so the kernels are compared with one another as well as mode by mode.
 */
export function compareKernels(kernels: readonly { name: string; bytes: Uint8Array }[], options: CompareOptions = {}): KernelCompareRow[] {
  const rows = kernels.flatMap((k) => compareModes(k.bytes, options).map((r) => ({ ...r, kernel: k.name })));
  const ref = rows[0];
  if (ref === undefined) return [];
  const ratio = (v: number, b: number): number | null => (b === 0 ? null : v / b);
  return rows.map((r) => ({
    ...r,
    relative: { instructions: ratio(r.instructions, ref.instructions), modeledCycles: ratio(r.modeledCycles, ref.modeledCycles), wallMs: ratio(r.wallMs, ref.wallMs) },
    sameOutput: r.output === ref.output,
  }));
}

type RawRow = Omit<CompareRow, 'relative' | 'sameOutput'>;

/**
 * One mode's row: an untimed warm-up run of the same kernel (without disks, whose contents each
 * mode must find unchanged), then the run whose figures count (the fastest of a few when short).
 */
function runMode(kernel: Uint8Array, mode: CompareMode, options: CompareOptions): RawRow {
  const warm = Math.min(options.warmUpSteps ?? WARM_UP_STEPS, options.maxSteps ?? Infinity);
  if (warm > 0) {
    const { disks: _disks, ...rest } = options as CompareOptions & { disks?: unknown };
    const o: CompareOptions = { ...rest, maxSteps: warm };
    if (mode === 'bare') runBare(kernel, o);
    else runVm(kernel, mode, o);
  }
  const timed = (): RawRow => (mode === 'bare' ? runBare(kernel, options) : runVm(kernel, mode, options));
  let best = timed();
  // A short run is at the mercy of the host (a garbage collection, RAM touched the first time):
  // the fastest of a few identical runs, when the disks allow a second boot from the same image.
  for (let i = 1; i < SHORT_RUN_TRIES && best.wallMs < SHORT_RUN_MS && options.disks === undefined; i++) {
    const again = timed();
    if (again.wallMs < best.wallMs) best = again;
  }
  return best;
}

function latin1(bytes: number[]): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function runBare(kernel: Uint8Array, o: CompareOptions): RawRow {
  const out: number[] = [];
  const now = o.now ?? Date.now;
  const m = new Machine({ ramSize: o.memSize ?? DEFAULT_MEM, cpu: { ...o.cpu, jit: o.cpu?.jit ?? false }, ...o.boot, onUart: (b) => out.push(b), disks: o.disks?.('bare') });
  m.loadKernel(kernel);
  if (o.input) m.sendInput(o.input);
  const t0 = now();
  let reason: StopReason = StopReason.BUDGET;
  for (let left = o.maxSteps ?? 200_000_000; left > 0 && reason === StopReason.BUDGET; left -= CHUNK) reason = m.run(Math.min(left, CHUNK));
  const wallMs = now() - t0;
  const costs = o.costs ?? DEFAULT_COSTS;
  const instructions = m.hart.instret;
  return {
    mode: 'bare',
    end: reason === StopReason.EXIT ? 'exit' : reason === StopReason.IDLE ? 'idle' : 'budget',
    exitCode: reason === StopReason.EXIT ? (m.exitCode ?? null) : null,
    instructions,
    traps: m.hart.steps - m.hart.instret,
    exits: 0,
    modeledCycles: instructions * costs.nativeInstruction,
    breakdown: { instructions: instructions * costs.nativeInstruction },
    walkRefsPerMiss: null,
    wallMs,
    translatedBlocks: m.hart.code?.stats.translations ?? 0,
    output: latin1(out),
  };
}

function runVm(kernel: Uint8Array, mode: VmMode, o: CompareOptions): RawRow {
  const out: number[] = [];
  const memSize = o.memSize ?? DEFAULT_MEM;
  const vmm = new Vmm({ jit: o.cpu?.jit ?? false, hostRamSize: memSize + VMM_RESERVE });
  const vm = vmm.createVm({ name: mode, mode, kernel, memSize, cpu: o.cpu, ...o.boot, onUart: (b) => out.push(b), disks: o.disks?.(mode) });
  if (o.input) vm.sendInput(o.input);
  const now = o.now ?? Date.now;
  const t0 = now();
  for (let left = o.maxSteps ?? 200_000_000; left > 0 && vm.runnable;) left -= Math.max(1, vmm.runVm(vm, Math.min(left, CHUNK)));
  const wallMs = now() - t0;
  const cycles = modeledCycles(vm.stats, mode === 'emulate', o.costs ?? DEFAULT_COSTS);
  const end = vm.state === 'halted' ? 'exit' : vm.state === 'crashed' ? 'crashed' : vm.state === 'waiting' ? 'idle' : 'budget';
  const row: RawRow = {
    mode,
    end,
    exitCode: vm.state === 'halted' ? (vm.exitCode ?? null) : null,
    instructions: vm.stats.instructions,
    // The VM's virtual hart takes every guest trap in every mode (a step that retires nothing).
    traps: vm.machine.hart.steps - vm.machine.hart.instret,
    exits: vm.stats.exitCount,
    modeledCycles: cycles.total,
    breakdown: cycles.breakdown,
    walkRefsPerMiss: vm.stats.tlbMisses > 0 ? vm.stats.walkReferences / vm.stats.tlbMisses : null,
    wallMs,
    translatedBlocks: (mode === 'hw' ? vmm.hwHart : vmm.hart).code?.stats.translations ?? 0,
    output: latin1(out),
  };
  return vm.crashReason === undefined ? row : { ...row, crashReason: vm.crashReason };
}
