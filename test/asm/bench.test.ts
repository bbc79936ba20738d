// The assembler benchmark's generated 20,000-line program (its speed is measured by `npm run bench`,
// never asserted here): vmlab assembles it to the same bytes as GNU as + ld, so the figure the
// benchmark prints is for correct output.

import { describe, expect, it } from 'vitest';
import { benchmarkSource } from '../../src/engine/asm/index';
import { compareWithGnu } from './compare';

describe('the assembler benchmark program', () => {
  it('assembles 20,000 generated lines to the bytes GNU as produces', () => {
    const source = benchmarkSource(20000);
    // `.rodata` alone is vmlab's shorthand (README.md, Assemble and disassemble); GNU as spells it `.section .rodata`.
    const c = compareWithGnu(source, source.replace(/^\.rodata$/m, '.section .rodata'));
    expect(c.report).toBe('');
    expect(c.ok).toBe(true);
    expect(c.lines).toBeGreaterThanOrEqual(19990);
    expect(c.insns).toBeGreaterThan(19000);
  });
});
