// The interpreter's warm-up program (cpu/warmup.ts) must really take the paths it is there for:
// both harts run their steps, every pass traps on its ecall and on its access fault and returns
// (so the passes go on), and the hart with the translator runs translated blocks.
import { expect, test } from 'vitest';
import { warmUpInterpreter } from '../../src/engine/cpu/warmup';

test('the warm-up program runs its traps and blocks on both harts', () => {
  const s = warmUpInterpreter();
  expect(s.steps).toBeGreaterThanOrEqual(2 * 50_000);
  // One ecall and one access fault per pass of about 170 steps.
  expect(s.ecalls).toBeGreaterThan(2 * 50_000 / 400);
  // The last slice of each hart may end between the two.
  expect(s.ecalls - s.accessFaults).toBeGreaterThanOrEqual(0);
  expect(s.ecalls - s.accessFaults).toBeLessThanOrEqual(2);
  expect(s.translations).toBeGreaterThan(0);
});
