// The compare view's wall times compare like with like: every mode runs the guest on the same
// engine (the interpreter, unless the CPU options turn the translator on for the modes that can use
// it) after an untimed warm-up run, and neither changes a deterministic figure.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { compareModes, type CompareRow } from '../../src/engine/vmm/compare';
import { REPO_ROOT } from '../support/build';

const traps = assemble(readFileSync(join(REPO_ROOT, 'labs', 'traps', 'traps.S'), 'latin1'), { file: 'traps.S' }).elf!;
const figures = (rows: CompareRow[]) => rows.map(({ wallMs: _w, translatedBlocks: _t, relative: { wallMs: _r, ...relative }, ...rest }) => ({ ...rest, relative }));

describe('compareModes timing', () => {
  it('interprets the guest in every mode by default; jit=on translates bare and in trap mode, never in emulate', () => {
    const plain = compareModes(traps);
    expect(plain.map((r) => [r.mode, r.translatedBlocks])).toEqual([['bare', 0], ['emulate', 0], ['trap', 0]]);
    const jit = compareModes(traps, { cpu: { jit: true } });
    expect(jit.map((r) => [r.mode, r.translatedBlocks > 0])).toEqual([['bare', true], ['emulate', false], ['trap', true]]);
    expect(figures(jit)).toEqual(figures(plain));
  });

  it('warms each mode up untimed without changing what the timed run counts or prints', () => {
    const clock: string[] = [];
    let t = 0;
    const rows = compareModes(traps, { warmUpSteps: 3000, now: () => (clock.push('now'), t++) });
    // A warm-up run reads the clock as a timed run does, but only the last pair of each mode counts.
    expect(clock).toHaveLength(12);
    expect(rows.map((r) => r.wallMs)).toEqual([1, 1, 1]);
    expect(figures(rows)).toEqual(figures(compareModes(traps, { warmUpSteps: 0 })));
  });
});
