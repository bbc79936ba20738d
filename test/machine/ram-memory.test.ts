// RAM and the harts' arenas live in a shared WebAssembly memory when the translator's WebAssembly
// backend needs one (machine/bus.ts): V8 counts a plain memory's bytes as external memory, and more
// than 64 MiB of it start a full garbage collection at every machine's construction. Regions import
// the memory as shared then (jit-wasm.ts), and as unshared where the host refuses a shared one.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Bus } from '../../src/engine/machine/bus';
import { MEMORY_MAP } from '../../src/engine/machine/memory-map';
import { runSliced } from '../support/jit-run';

// A loop that the translator builds as a region (sums 1..N into a0), then the finisher's pass.
const LOOP = `
  .globl _start
_start:
  li    a0, 0
  li    t2, 5000
1:
  add   a0, a0, t2
  addi  t2, t2, -1
  bnez  t2, 1b
  li    t0, 0x100000
  li    t1, 0x5555
  sw    t1, 0(t0)
2: j 2b
`;
const SUM = (5000 * 5001) / 2;

describe('RAM in a WebAssembly memory', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is shared, and regions built over it run', () => {
    const bus = new Bus(MEMORY_MAP.ram.base, 1 << 20, { arenaBytes: 1 << 16 });
    expect(bus.arena?.shared).toBe(true);
    expect(bus.ram.buffer).toBeInstanceOf(SharedArrayBuffer);
    const r = runSliced(LOOP, 'loop.S', true, 1000);
    expect(r.m.bus.arena?.shared).toBe(true);
    expect(r.m.hart.code?.wasm).toBeDefined();
    expect(r.m.hart.code?.stats.translations).toBeGreaterThan(0);
    expect(r.regs[10]).toBe(SUM);
  });

  it('is a plain memory where the host refuses a shared one, and regions still run', () => {
    const wa = (globalThis as unknown as { WebAssembly: { Memory: new (d: { shared?: boolean }) => object } }).WebAssembly;
    const Memory = wa.Memory;
    vi.spyOn(wa, 'Memory').mockImplementation(function (d: { shared?: boolean }) {
      if (d.shared === true) throw new TypeError('no shared memory here');
      return new Memory(d);
    } as unknown as typeof Memory);
    const r = runSliced(LOOP, 'loop.S', true, 1000);
    expect(r.m.bus.arena?.shared).toBe(false);
    expect(r.m.bus.ram.buffer).toBeInstanceOf(ArrayBuffer);
    expect(r.m.hart.code?.wasm).toBeDefined();
    expect(r.m.hart.code?.stats.translations).toBeGreaterThan(0);
    expect(r.regs[10]).toBe(SUM);
  });
});
