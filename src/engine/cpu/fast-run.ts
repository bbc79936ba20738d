// The interpreter's fast run in WebAssembly (fast-run.wat): for a hart whose registers and TLB lie in
// a WebAssembly arena (jit-wasm.ts), `execute` runs its inner loop through this module instead of its
// own JavaScript one. The module is compiled once per process and instantiated per hart; a host may
// compile it itself first (setFastRunModule), with V8's optimizing compiler, which the engine cannot
// ask for.

import { FAST_RUN_WASM } from './fast-run-wasm';
import { EXPAND_C } from '../isa/decode';
import type { ArenaViews } from './jit-wasm';

/**
 * Runs the fast run from `pc` (see fast-run.wat): returns FastExit, and leaves pc, steps, fbase, foff,
 * flimit and the TLB hits in the arena's fast-run status words.
 */
export type FastRun = (pc: number, steps: number, end: number, fbase: number, foff: number, flimit: number, dtag: number, ftag: number, flags: number, noff: number) => number;

/** How a fast run ended. */
export const enum FastExit {
  /** At the top of execute's loop. */
  TOP = 0,
  /** At the top of execute's loop, at a control transfer's target. */
  ENTRY = 1,
  /** In front of an instruction for execute's general path. */
  GENERAL = 2,
  /** After a region it entered trapped (WasmRuntime.raiseTrap raises it; FastWord.TOT). */
  TRAP = 3,
}

/** The fast run's status words (jit-wasm.ts, FAST_AT). */
export const enum FastWord {
  PC = 0,
  STEPS = 1,
  FBASE = 2,
  FOFF = 3,
  FLIMIT = 4,
  HITS = 5,
  /** Instructions the last region it entered retired. */
  TOT = 7,
  /** Totals of the regions it entered, which execute adds to the statistics and zeroes: entries, instructions, chains, TLB hits. */
  RUNS = 8,
  INSNS = 9,
  CHAINS = 10,
  REGION_HITS = 11,
  /** The hart's LR reservation and the value LR read (Hart.reservation, reservedValue), which execute copies in and out around each run. */
  RESV = 12,
  RESV_VALUE = 13,
}

/** FastRun's flags. */
export const enum FastFlag {
  C = 1,
  M = 2,
  BLOCKS = 4,
  A = 8,
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Whether harts use the fast run in WebAssembly where they have an arena (tests turn it off to compare; the translator's trampoline is there either way). */
export const fastRunDefaults = { enabled: true };

let compiled: object | undefined;

/** The module's bytes, for a host that compiles it itself. */
export function fastRunBytes(): Uint8Array {
  return FAST_RUN_WASM;
}

/** Gives the engine the module compiled by the host (from fastRunBytes). */
export function setFastRunModule(module: object): void {
  compiled = module;
}

/** The translator's trampoline in the fast run's module (fast-run.wat, $d): (slot, dtag, room, ftag, chain) -> instructions retired. */
export type Dispatch = (slot: number, dtag: number, room: number, ftag: number, chain: number) => number;

/**
 * The fast run of the hart whose arena `views` shows, in `memory`, and the trampoline that calls the
 * regions of `table` (the translator's, jit-wasm.ts); the fast run enters regions through it. The
 * caller has WebAssembly.
 */
export function instantiateFastRun(memory: object, views: ArenaViews, table: object): { run: FastRun; dispatch: Dispatch } {
  compiled ??= new WA!.Module(FAST_RUN_WASM);
  views.expand.set(EXPAND_C);
  const imports = { e: { m: memory, a: views.at, l: views.lines.byteOffset, p: views.liveBlocks.byteOffset, t: table } };
  const exports = new WA!.Instance(compiled, imports).exports;
  const run = exports.run as FastRun;
  importsOf.set(run, imports);
  return { run, dispatch: exports.d as Dispatch };
}

/** Imports of each fast run made (fastRunTwin). */
const importsOf = new WeakMap<FastRun, object>();

/**
 * Another instance of `run`, on the same arena: a function of its own (the warm-up gives execute's
 * call several, as guests' harts each bring theirs).
 */
export function fastRunTwin(run: FastRun): FastRun {
  return new WA!.Instance(compiled!, importsOf.get(run)!).exports.run as FastRun;
}
