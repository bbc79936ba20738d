// The block translator's backends (cpu/jit.ts: JavaScript functions; cpu/jit-wasm.ts: WebAssembly):
// the translator's tests run once per backend.
import { afterAll, beforeAll, describe } from 'vitest';
import { jitDefaults } from '../../src/engine/cpu/jit';
import type { JitBackend } from '../../src/engine/cpu/jit-wasm';

export const JIT_BACKENDS: readonly JitBackend[] = ['js', 'wasm'];

/**
 * Declares the tests `body` declares once per backend, in a describe named after it, with
 * jitDefaults.backend set to it while they run (machines made without a jitBackend use it).
 */
export function forEachBackend(body: (backend: JitBackend) => void): void {
  for (const backend of JIT_BACKENDS) {
    describe(`${backend} backend`, () => {
      let saved: JitBackend = 'js';
      beforeAll(() => {
        saved = jitDefaults.backend;
        jitDefaults.backend = backend;
      });
      afterAll(() => {
        jitDefaults.backend = saved;
      });
      body(backend);
    });
  }
}
