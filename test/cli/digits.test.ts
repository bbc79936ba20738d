// groupDigits against the reference it replaces in the CLI's messages: ICU's en-US number format.
import { describe, expect, it } from 'vitest';
import { groupDigits } from '../../src/cli/digits';

describe('groupDigits', () => {
  it('writes every number as toLocaleString("en-US") does', () => {
    const values = [0, -0, 1, 9, 10, 99, 100, 999, 1000, 1001, 9999, 10000, 123456, 999999, 1000000, 4294967295, 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 1e21, 0.5, 1234.5678, -1234567, NaN, Infinity, -Infinity];
    let x = 1;
    for (let i = 0; i < 2000; i++) {
      x = (x * 48271) % 2147483647;
      values.push(x % 10 ** (i % 16), -(x % 10 ** (i % 12)));
    }
    for (const v of values) expect(groupDigits(v), String(v)).toBe(v.toLocaleString('en-US'));
  });
});
