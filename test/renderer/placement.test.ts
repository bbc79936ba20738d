// The New VM form's explicit placement text: the lecture's pairs, separators and 0x prefixes, and a
// clear message for each mistake.
import { describe, expect, it } from 'vitest';
import { parseExplicitPlacement } from '../../src/renderer/src/lib/placement';

const PAGES = 4096;

describe('parseExplicitPlacement', () => {
  it('reads the lecture\'s placement, with spaces, commas or 0x', () => {
    const lecture = { pairs: [[0xa1, 0xc0], [0xa2, 0xc1], [0xa3, 0xc4]] };
    expect(parseExplicitPlacement('a1:c0 a2:c1 a3:c4', PAGES)).toEqual(lecture);
    expect(parseExplicitPlacement('  0xA1:0xC0,a2:c1 ,\n a3:C4 ', PAGES)).toEqual(lecture);
    expect(parseExplicitPlacement('fff:0', PAGES)).toEqual({ pairs: [[0xfff, 0]] });
  });

  it.each([
    ['', /page:frame pairs in hex/],
    ['a1', /'a1' is not page:frame in hex/],
    ['a1:c0 a2=c1', /'a2=c1' is not page:frame/],
    ['g1:c0', /'g1:c0' is not page:frame/],
    ['-1:c0', /not page:frame/],
    ['1000:c0', /guest page 0x1000 is outside the VM's 4096 pages \(0x0-0xfff\)/],
    // Hex that is too large is named as outside the VM, not as something other than hex.
    ['ffffffff:c0', /guest page 0xffffffff is outside the VM's 4096 pages/],
    ['a1000000:c0', /guest page 0xa1000000 is outside the VM's 4096 pages/],
    ['123456789:c0', /'123456789:c0' is not page:frame in hex/],
    ['a1:100000', /host frame 0x100000 does not exist \(a 32-bit host has frames 0x0-0xfffff\)/],
    ['a1:c0 a1:c1', /guest page 0xa1 is placed twice/],
    ['a1:c0 a2:c0', /host frame 0xc0 is used twice/],
  ])('refuses %j with a clear message', (text, message) => {
    const r = parseExplicitPlacement(text, PAGES);
    expect('error' in r && r.error).toMatch(message);
  });
});
