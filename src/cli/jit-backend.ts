// The --jit-backend option: JavaScript or WebAssembly regions (engine/cpu/jit-wasm.ts).
import { InvalidArgumentError } from 'commander';
import type { JitBackend } from '../engine/cpu/jit-wasm';

/** Parses --jit-backend's value. */
export function parseJitBackend(text: string): JitBackend {
  if (text === 'js' || text === 'wasm') return text;
  throw new InvalidArgumentError(`expected js or wasm, got '${text}'`);
}
