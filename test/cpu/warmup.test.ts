// The interpreter's warm-up program (cpu/warmup.ts) must really take the paths it is there for:
// all three harts run their steps, every pass traps on its ecall, its access fault and its fetch
// fault and returns (so the passes go on), the hart building at once runs translated blocks, and the
// hart under the production budget has hot starts deferred.
import { expect, test } from 'vitest';
import { warmUpInterpreter } from '../../src/engine/cpu/warmup';

test('the warm-up program runs its traps, blocks and deferrals on its harts', () => {
  const s = warmUpInterpreter();
  expect(s.steps).toBeGreaterThanOrEqual(3 * 50_000);
  // One ecall, one access fault and one fetch fault per pass of about 170 steps.
  expect(s.ecalls).toBeGreaterThan(3 * 50_000 / 400);
  // The last slice of each hart may end between them.
  expect(s.ecalls - s.accessFaults).toBeGreaterThanOrEqual(0);
  expect(s.ecalls - s.accessFaults).toBeLessThanOrEqual(3);
  expect(s.accessFaults - s.fetchFaults).toBeGreaterThanOrEqual(0);
  expect(s.accessFaults - s.fetchFaults).toBeLessThanOrEqual(3);
  expect(s.translations).toBeGreaterThan(0);
  expect(s.deferred).toBeGreaterThan(0);
});
