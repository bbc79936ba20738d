// The V8 flags of every process that runs machines (the CLI, the web-mode server, the desktop app's
// main process and their machine workers, the tests, the bench). Each calls setMachineV8Flags before
// it builds a machine or starts a worker; one of its flags acts only on isolates created afterwards
// (the workers').
//
// --liftoff-only keeps the translator's WebAssembly regions (engine/cpu/jit-wasm.ts) in V8's baseline
// compiler. Tiering a large region up to the optimizing compiler cost 100 to 270 ms each, mostly
// register allocation, more than it gained on every workload measured (sort 1.09 -> 0.62 CPU s,
// CoreMark 1.00 -> 0.90; docs/speed.md, "WebAssembly regions"). The regions are the only WebAssembly
// these processes compile. It takes effect at once.
//
// --no-concurrent-recompilation makes V8 compile JavaScript with TurboFan on the thread that runs it
// instead of on background threads: a machine's thread then waits for each compile (of `execute`,
// of the translator's JavaScript) instead of going on in the lower tiers meanwhile. V8 reads it when
// it creates an isolate: setting it at run time leaves the running isolate as it was, and acts on
// the worker threads started afterwards, where the app and the web-mode server run their machines
// (several of them sharing the host's cores, where the compiler threads' CPU is taken from the
// other machines). The CLI runs its one machine on the main thread and leaves V8 its background
// compiles: since the interpreter's inner loop runs in WebAssembly (the fast run), the guest loses
// little while `execute` and the translator compile on another core, and the wall time to a guest's
// prompt fell (Linux with MMU 0.53 -> 0.44 s, nommu 0.49-0.58 -> 0.43-0.45, xv6 0.44-0.51 ->
// 0.39-0.41, CoreMark's whole run 0.48-0.54 -> 0.44-0.46) for 5 to 9 % more CPU time (docs/speed.md,
// "Compiles in the background again, for the CLI"; the opposite choice of "Compiles on the main
// thread" was measured before the fast run).
// scripts/cli-cache.mjs sets the same flags before it compiles the CLI's bundle: V8 stamps a code
// cache with the flags of the process that made it and refuses it under other flags.
//
// TURBOFAN_FLAGS make V8's optimizing compiles of JavaScript cheaper. TurboFan's own work was 1.07 G
// of the 6.43 G host instructions of Linux's boot to the shell (17 %: the interpreter's `execute`,
// the translator, the MMU's slow paths and their recompiles after deoptimizations, all on the
// machine's thread), and these three cut it to 0.77 G while the compiled code ran as many
// instructions as before (docs/speed.md, "TurboFan's own cost"):
// - a cumulative inlining budget of 230 bytecode bytes per function instead of 920: the large
//   functions of the interpreter and the translator inline fewer callees, and their graphs shrink;
// - no loop peeling, which copies every loop's first iteration (the interpreter's loop is one large
//   loop);
// - no escape analysis: the hot code allocates nothing for it to remove.
// They are read at each compile, so they act at once.
import { setFlagsFromString } from 'node:v8';
import { fastRunBytes, setFastRunModule } from '../engine/cpu/fast-run';

/**
 * The flags for node's command line in a process that runs a machine on its main thread, as
 * bin/vmlab.mjs starts node (none: V8 compiles in the background there, above); the bench and the
 * tests start the CLI with them.
 */
export const NODE_V8_FLAGS: readonly string[] = [];

/** The flag that keeps V8's compiles on the thread that runs them, for machine workers (above). */
export const WORKER_V8_FLAGS: readonly string[] = ['--no-concurrent-recompilation'];

/** Flags for TurboFan's compiles (above); they act at once. */
export const TURBOFAN_FLAGS: readonly string[] = ['--max-inlined-bytecode-size-cumulative=230', '--no-turbo-loop-peeling', '--no-turbo-escape'];

/** Every flag setMachineV8Flags sets, in order (scripts/cli-cache.mjs sets the same before it loads the CLI). */
export const MACHINE_V8_FLAGS: readonly string[] = ['--liftoff-only', ...WORKER_V8_FLAGS, ...TURBOFAN_FLAGS];

/** Sets the flags in this process: at once for WebAssembly and TurboFan, for the worker threads started afterwards for the rest. */
export function setMachineV8Flags(): void {
  for (const flag of MACHINE_V8_FLAGS) setFlagsFromString(flag);
  compileFastRun();
}

/**
 * Compiles the interpreter's fast run in WebAssembly (engine/cpu/fast-run.wat) with V8's optimizing
 * compiler and gives it to the engine. The flags that keep the translator's regions in Liftoff are
 * lifted for this one compile, and V8's lazy compilation with them: lazily, V8 compiles a function at
 * its first call, which for the run's helpers (the region entry, the trampoline) came after the flags were back,
 * in Liftoff. The run is called once (with nothing to do) before they are set again.
 */
export function compileFastRun(): void {
  setFlagsFromString('--no-liftoff-only');
  setFlagsFromString('--no-liftoff');
  setFlagsFromString('--no-wasm-lazy-compilation');
  try {
    const wa = (globalThis as unknown as { WebAssembly: HostWasm }).WebAssembly;
    const module = new wa.Module(fastRunBytes());
    const memory = new wa.Memory({ initial: 1 });
    // With no steps to run it enters no region: the table of regions is empty.
    const table = new wa.Table({ element: 'anyfunc', initial: 0 });
    const run = new wa.Instance(module, { e: { m: memory, a: 0, l: 0, p: 0, t: table } }).exports.run as (...args: number[]) => number;
    run(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    setFastRunModule(module);
  } finally {
    setFlagsFromString('--wasm-lazy-compilation');
    setFlagsFromString('--liftoff');
    setFlagsFromString('--liftoff-only');
  }
}

/** Node's WebAssembly, as much as compileFastRun uses (the host's types have no DOM library). */
interface HostWasm {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (d: { initial: number }) => object;
  Table: new (d: { element: 'anyfunc'; initial: number }) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
