// The renderer's pure helpers: label finding for the outline and go-to-definition, number
// formats, and hover documentation covering every instruction and CSR the engine implements.
import { describe, expect, it } from 'vitest';
import { INSTRUCTIONS } from '../../src/engine/isa/table';
import { CSRS } from '../../src/engine/cpu/csr';
import { ABI_NAMES, csrDoc, INSN_DOCS } from '../../src/renderer/src/lib/isa-docs';
import { hex32, parseAddress, privName } from '../../src/renderer/src/lib/format';
import { findLabels } from '../../src/renderer/src/lib/labels';

describe('findLabels', () => {
  it('finds labels at statement start, not numeric locals, comments or operands', () => {
    const src = ['_start:', '  la sp, stack_top  # stack_top: not a label here', '1: j 1b', '  .L_loop: nop', 'putc: li t0, 1', '# old: comment', '\tdone:'].join('\n');
    expect(findLabels(src)).toEqual([
      { name: '_start', line: 1, column: 1 },
      { name: '.L_loop', line: 4, column: 3 },
      { name: 'putc', line: 5, column: 1 },
      { name: 'done', line: 7, column: 2 },
    ]);
  });
});

describe('hover documentation', () => {
  it('describes every non-compressed instruction of the engine table', () => {
    const missing = INSTRUCTIONS.filter((d) => d.ext !== 'C' && !INSN_DOCS[d.name] && d.ext !== 'H').map((d) => d.name);
    expect(missing).toEqual([]);
  });

  it('has a specific line for every machine and supervisor CSR', () => {
    const generic = CSRS.filter((c) => csrDoc(c.name) === 'Control and status register.').map((c) => c.name);
    expect(generic).toEqual([]);
  });

  it('names the 32 registers in ABI order', () => {
    expect(ABI_NAMES).toHaveLength(32);
    expect([ABI_NAMES[0], ABI_NAMES[2], ABI_NAMES[10], ABI_NAMES[31]]).toEqual(['zero', 'sp', 'a0', 't6']);
  });
});

describe('formats', () => {
  it('parses addresses in hex and decimal, refusing junk and values past 32 bits', () => {
    expect(parseAddress('0x8000_0000')).toBe(0x80000000);
    expect(parseAddress('80000000')).toBe(80000000);
    expect(parseAddress('dead')).toBe(0xdead);
    expect(parseAddress('0x100000000')).toBeUndefined();
    expect(parseAddress('sp')).toBeUndefined();
    expect(hex32(-1)).toBe('0xffffffff');
    expect(privName(1)).toBe('S');
  });
});
