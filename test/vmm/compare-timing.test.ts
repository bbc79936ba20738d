// The compare view's wall times compare like with like: every mode runs the guest on the same
// engine (the interpreter, unless the CPU options turn the translator on for the modes that can use
// it) after an untimed warm-up run, and neither changes a deterministic figure. The default modes
// are bare and every VMM mode that runs an unmodified kernel (pv needs a kernel written for it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { compareModes, SHORT_RUN_MS, SHORT_RUN_TRIES, type CompareRow } from '../../src/engine/vmm/compare';
import { REPO_ROOT } from '../support/build';

const traps = assemble(readFileSync(join(REPO_ROOT, 'labs', 'traps', 'traps.S'), 'latin1'), { file: 'traps.S' }).elf!;
const figures = (rows: CompareRow[]) => rows.map(({ wallMs: _w, translatedBlocks: _t, relative: { wallMs: _r, ...relative }, ...rest }) => ({ ...rest, relative }));

describe('compareModes timing', () => {
  it('interprets the guest in every mode by default; jit=on translates bare and in trap mode, never in emulate', () => {
    const plain = compareModes(traps);
    expect(plain.map((r) => [r.mode, r.translatedBlocks])).toEqual([['bare', 0], ['emulate', 0], ['trap', 0], ['bt', 0], ['hw', 0]]);
    const jit = compareModes(traps, { cpu: { jit: true } });
    // The physical hart's translator: in trap and hw it translates the guest kernel's hot code. bt
    // translates the kernel with its own cache (its technique, not counted here) and leaves only the
    // lab's short user program to the hart, which never gets hot enough.
    expect(jit.map((r) => [r.mode, r.translatedBlocks > 0])).toEqual([['bare', true], ['emulate', false], ['trap', true], ['bt', false], ['hw', true]]);
    expect(figures(jit)).toEqual(figures(plain));
  });

  it('warms each mode up untimed, takes the fastest of three short runs, and changes no deterministic figure', () => {
    let calls = 0;
    let t = 0;
    // A clock that advances 1 ms per reading: every run looks short, so each mode runs a warm-up and 3 timed runs.
    const rows = compareModes(traps, { warmUpSteps: 3000, now: () => (calls++, t++) });
    expect(calls).toBe(5 * 2 * (1 + SHORT_RUN_TRIES));
    expect(rows.map((r) => r.wallMs)).toEqual([1, 1, 1, 1, 1]);
    expect(figures(rows)).toEqual(figures(compareModes(traps, { warmUpSteps: 0 })));
    // A long run is timed once.
    calls = 0;
    const long = compareModes(traps, { warmUpSteps: 3000, now: () => (calls++, (t += SHORT_RUN_MS)) });
    expect(calls).toBe(5 * 2 * 2);
    expect(long.map((r) => r.wallMs)).toEqual(Array(5).fill(SHORT_RUN_MS));
  });
});
