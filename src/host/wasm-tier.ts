// V8's tiering of the translator's WebAssembly regions (engine/cpu/jit-wasm.ts). Each process that
// runs machines calls keepWasmOnLiftoff before it builds any: V8 then keeps every region in its
// baseline compiler (Liftoff). Tiering a large region up to the optimizing compiler cost 100 to 270
// ms each, mostly register allocation, more than it gained on every workload measured (sort 1.09 ->
// 0.62 CPU s, CoreMark 1.00 -> 0.90; docs/speed.md, "WebAssembly regions"). The regions are the only
// WebAssembly these processes compile.
import { setFlagsFromString } from 'node:v8';

/** Keeps V8 on its baseline WebAssembly compiler in this process (its worker threads included). */
export function keepWasmOnLiftoff(): void {
  setFlagsFromString('--liftoff-only');
}
