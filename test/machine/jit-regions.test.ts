// The translator's regions: a translated function holds the blocks of one page that a hot start
// reaches by branches and direct jumps, and runs them in a loop without returning to the
// dispatcher. The interpreter is the reference; the results are also computed by hand.
import { describe, expect, test } from 'vitest';
import type { Machine } from '../../src/engine/machine/machine';
import { forEachBackend } from '../support/jit-backends';
import { FINISHER_EXIT as EXIT, runSliced } from '../support/jit-run';

// A hot loop whose first four instructions are the last words of a page and whose other two open
// the next page. A block that read on past the page's end at the start of the same page (as a
// scan by page offset wraps) would run _start's code instead.
const PAGE_END = `
  .option norvc
  .globl _start
_start:
  li    s0, 300
  j     clear
  .space 4096 - 8 - 32
clear:
  li    a0, 0
  li    a1, 0
  li    a2, 0
  li    a3, 0
loop:
  addi  a0, a0, 1
  addi  a1, a1, 2
  addi  a2, a2, 3
  addi  a3, a3, 4
  addi  s0, s0, -1
  bnez  s0, loop
  add   a0, a0, a1
  add   a0, a0, a2
  add   a0, a0, a3
${EXIT}`;

// A loop with an if/else whose else arm holds an instruction that the then arm of earlier passes
// rewrote (addi a0, a0, 1 or addi a0, a0, 100, by bit 2 of s0): both arms, the loop and the patched
// instruction are one region, so the store must end the region's run before the patched block.
const ADDI_A0_1 = 0x00150513;
const ADDI_A0_100 = 0x06450513;
const PATCH_OTHER_BLOCK = `
  .option norvc
  .globl _start
_start:
  li    s0, 400
  li    a0, 0
  la    s1, patch
  li    s2, ${ADDI_A0_1}
  li    s3, ${ADDI_A0_100}
loop:
  andi  t0, s0, 2
  beqz  t0, other
  andi  t0, s0, 4
  beqz  t0, one
  sw    s3, 0(s1)
  j     next
one:
  sw    s2, 0(s1)
  j     next
other:
patch:
  addi  a0, a0, 1
next:
  addi  s0, s0, -1
  bnez  s0, loop
${EXIT}`;

function run(source: string, jit: boolean, slice = 10_000_000): { a0: number; instret: number; steps: number; m: Machine } {
  const r = runSliced(source, 'regions.S', jit, slice, 10_000_000);
  return { a0: r.regs[10], instret: r.instret, steps: r.steps, m: r.m };
}

forEachBackend(() => {
  describe('translated regions', () => {
    test('a block ends at its page\'s end and the code of the next page runs', () => {
      const interp = run(PAGE_END, false);
      expect(interp.a0).toBe(300 * (1 + 2 + 3 + 4));
      const jit = run(PAGE_END, true);
      expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
      expect(jit.m.hart.code!.stats.blockInsns).toBeGreaterThan(interp.instret / 2);
    });

    test('a store into another block of the running region takes effect before that block runs', () => {
      const interp = run(PATCH_OTHER_BLOCK, false);
      // s0 = 4m + 3 and 4m + 2 store (the second wins: 100 when m is odd), 4m + 1 and 4m run the
      // patch; s0 = 400 runs the first addi a0, a0, 1 and s0 = 0 is never a pass: 50 odd m of 1..99
      // add 2 x 100, 49 even m add 2 x 1, m = 0 adds 1 once.
      expect(interp.a0).toBe(100 * 100 + 100 * 1);
      for (const slice of [10_000_000, 97, 13]) {
        const jit = run(PATCH_OTHER_BLOCK, true, slice);
        expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
        expect(jit.m.hart.code!.stats.invalidations).toBeGreaterThan(0);
      }
    });
  });
});
