// The --jit-backend option: JavaScript or WebAssembly regions (engine/cpu/jit-wasm.ts).
import { setFlagsFromString } from 'node:v8';
import { InvalidArgumentError } from 'commander';
import type { JitBackend } from '../engine/cpu/jit-wasm';

/** Parses --jit-backend's value. */
export function parseJitBackend(text: string): JitBackend {
  if (text === 'js' || text === 'wasm') return text;
  throw new InvalidArgumentError(`expected js or wasm, got '${text}'`);
}

/**
 * The backend to give the machine (undefined: the engine's default). For WebAssembly, V8 keeps
 * every region in its baseline compiler (Liftoff): tiering a large region up to its optimizing
 * compiler cost more than it gained on every workload measured (docs/speed.md). The flag only
 * concerns WebAssembly, which nothing else in the process compiles.
 */
export function useJitBackend(backend: JitBackend | undefined): JitBackend | undefined {
  if (backend === 'wasm') setFlagsFromString('--liftoff-only');
  return backend;
}
