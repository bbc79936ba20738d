// The compare table's counts: whole below ten million, else three digits and a unit, never more
// than nine characters, so each figure column stays narrow enough for the view at 1280×720.
import { describe, expect, it } from 'vitest';
import { short } from '../../src/renderer/src/lib/format';

describe('short', () => {
  it.each([
    [0, '0'],
    [9_841, '9,841'],
    [7_011_441, '7,011,441'],
    [9_999_999, '9,999,999'],
    [10_000_000, '10.0\u00a0M'],
    [12_345_678, '12.3\u00a0M'],
    [123_456_789, '123\u00a0M'],
    [999_960_000, '1.00\u00a0G'],
    [1_190_000_000, '1.19\u00a0G'],
    [4_735_000_000, '4.74\u00a0G'],
    [987_654_321_000, '988\u00a0G'],
    [2.5e13, '25.0\u00a0T'],
  ])('%d reads %s', (n, text) => {
    expect(short(n)).toBe(text);
  });

  it('never takes more than nine characters below 1,000 T', () => {
    for (let n = 1; n < 1e15; n = Math.floor(n * 1.37) + 1) expect(short(n).length, String(n)).toBeLessThanOrEqual(9);
  });
});
