// The interpreter's warm-up program (cpu/warmup.ts) must really take the paths it is there for:
// all four harts run their steps, every pass traps on its ecall, its faulting loads and stores
// (each size), its fetch fault and its faulting loop, and returns (so the passes go on), the hart
// building at once runs translated blocks, among them the faulting loop's (whose block then traps),
// and the hart under the production budget has hot starts deferred; a hart of its own walks page
// tables in S-mode, takes interrupts, returns with sret and reaches devices of five classes.
import { expect, test } from 'vitest';
import { TRAPS_PER_PASS, WARM_STEPS, WarmLoops, warmUpInterpreter } from '../../src/engine/cpu/warmup';

test('the warm-up program runs its traps, blocks and deferrals on its harts', () => {
  const s = warmUpInterpreter();
  expect(s.steps).toBeGreaterThanOrEqual(4 * WARM_STEPS);
  // One ecall per pass of about 300 steps.
  expect(s.ecalls).toBeGreaterThan(4 * WARM_STEPS / 600);
  // Per pass: five faulting loads and the faulting loop's three, three faulting stores, one fetch
  // fault. The last slice of each of the four harts may end between them.
  const near = (n: number, perPass: number): void => {
    expect(n).toBeGreaterThanOrEqual(perPass * (s.ecalls - 4));
    expect(n).toBeLessThanOrEqual(perPass * (s.ecalls + 4));
  };
  near(s.accessFaults, 8);
  near(s.storeFaults, 3);
  near(s.fetchFaults, 1);
  // An odd number of slices per pass (each trap's mret ends one), so that every part of the
  // program runs on the general path and in the inner loop in alternate passes.
  near(s.ecalls + s.accessFaults + s.storeFaults + s.fetchFaults, TRAPS_PER_PASS);
  expect(TRAPS_PER_PASS % 2).toBe(1);
  expect(s.translations).toBeGreaterThan(0);
  expect(s.faultLoopBuilt).toBeGreaterThanOrEqual(1);
  expect(s.deferred).toBeGreaterThan(0);
  // The fourth hart's inner loop is the fast run in WebAssembly, on more than one instance of it.
  expect(s.fastRuns).toBeGreaterThan(1);
});

test('the warm-up walks page tables, faults, takes interrupts, returns with sret and reaches devices', () => {
  const s = warmUpInterpreter();
  // Four S-mode rounds of a load, a store and a fetch at five addresses, each after a TLB flush.
  expect(s.walks).toBeGreaterThanOrEqual(4 * 5 * 3);
  // Per round (SUM, MXR): the user page faults its fetch, and its load and store without SUM; the
  // execute-only page its store, and its load without MXR; the unmapped address all three; the
  // megapage and the read-write-execute page none. 8 + 6 + 7 + 5.
  expect(s.pageFaults).toBe(26);
  expect(s.interrupts).toBe(16);
  expect(s.srets).toBe(8);
  // A load and a store into each of five devices, eight times.
  expect(s.deviceAccesses).toBe(80);
});

test('for machines with the fast run alone, three harts run it and build WebAssembly regions', () => {
  const s = warmUpInterpreter(WarmLoops.FAST);
  expect(s.steps).toBeGreaterThanOrEqual(3 * WARM_STEPS);
  expect(s.steps).toBeLessThan(4 * WARM_STEPS);
  expect(s.ecalls).toBeGreaterThan(3 * WARM_STEPS / 600);
  expect(s.translations).toBeGreaterThan(0);
  expect(s.faultLoopBuilt).toBeGreaterThanOrEqual(1);
  expect(s.deferred).toBeGreaterThan(0);
  expect(s.fastRuns).toBeGreaterThan(1);
  // The paging hart's part is the same.
  expect(s.pageFaults).toBe(26);
  expect(s.srets).toBe(8);
  expect(s.deviceAccesses).toBe(80);
});
