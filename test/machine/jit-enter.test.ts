// A start that turns hot inside an installed WebAssembly region (reached from interpreted code: a
// loop's head, a call into the middle of a function) is entered there (jit.ts enterInstalled,
// jit-wasm.ts enter): the dispatcher runs the installed region from that block instead of building
// a region of its own. The interpreter is the reference: registers, pc, instructions, steps and TLB
// hits at several slice lengths, with the region's code rewritten halfway, which must drop the entry
// with the region (a stale entry would run the old instruction). Results are also computed by hand.
import { describe, expect, test } from 'vitest';
import { forEachBackend } from '../support/jit-backends';
import { FINISHER_EXIT as EXIT, runSliced, type SlicedRun } from '../support/jit-run';

/** `sub a2, a2, a0`, written over fmid's `add a2, a2, a0` at pass REWRITE. */
const SUB_A2_A2_A0 = 0x40a60633;
const PASSES = 3000;
const REWRITE = 1200;

// Each pass calls f twice and fmid, a label inside f after its loop, once. The calls are single-
// instruction blocks after a CSR read, which never become regions, so the interpreter makes every
// call: f turns hot first and is built (its region holds its loop and fmid's blocks); fmid turns
// hot later and is entered in f's region. At pass REWRITE the loop rewrites fmid's `add` into a
// `sub`.
const PROGRAM = `
  .option norvc
  .globl _start
_start:
  li    s0, ${PASSES}
  li    a0, 0
  li    a2, 0
  li    a3, 0
  la    s1, fmid
  li    s2, ${SUB_A2_A2_A0}
loop:
  csrr  t0, mscratch
  jal   ra, f
  csrr  t0, mscratch
  jal   ra, f
  csrr  t0, mscratch
  jal   ra, fmid
  li    t0, ${REWRITE}
  bne   s0, t0, 1f
  sw    s2, 0(s1)
  fence.i
1:
  addi  s0, s0, -1
  bnez  s0, loop
${EXIT}
  .balign 4096
f:
  li    t2, 4
1:
  addi  a0, a0, 1
  addi  t2, t2, -1
  bnez  t2, 1b
fmid:
  add   a2, a2, a0
  andi  t1, a2, 3
  beqz  t1, 2f
  addi  a3, a3, 1
2:
  ret
`;

function run(jit: boolean, slice: number): SlicedRun {
  return runSliced(PROGRAM, 'enter.S', jit, slice);
}

/** a2 and a3 as the program computes them, by hand. */
function expected(): { a2: number; a3: number } {
  let a0 = 0;
  let a2 = 0;
  let a3 = 0;
  const call = (loop: boolean, sub: boolean): void => {
    if (loop) a0 += 4;
    a2 = (sub ? a2 - a0 : a2 + a0) | 0;
    if ((a2 & 3) !== 0) a3++;
  };
  for (let s0 = PASSES; s0 > 0; s0--) {
    // The store comes after pass REWRITE's three calls.
    const sub = s0 < REWRITE;
    call(true, sub);
    call(true, sub);
    call(false, sub);
  }
  return { a2, a3 };
}

forEachBackend((backend) => {
  describe('starts inside an installed region', () => {
    test('are entered in that region, run as the interpreter runs them, and go with it when its code is rewritten', () => {
      const interp = run(false, 10_000_000);
      const want = expected();
      expect(interp.regs[12]).toBe(want.a2 | 0);
      expect(interp.regs[13]).toBe(want.a3);
      for (const slice of [10_000_000, 4099, 97, 13]) {
        const jit = run(true, slice);
        expect([jit.regs, jit.pc, jit.instret, jit.steps, jit.hits]).toEqual([interp.regs, interp.pc, interp.instret, interp.steps, interp.hits]);
        if (slice !== 10_000_000) continue;
        const stats = jit.m.hart.code!.stats;
        expect(stats.blockInsns).toBeGreaterThan(0);
        if (backend === 'wasm') {
          // fmid entered in f's region before and after the rewrite (which dropped both).
          expect(stats.entered).toBeGreaterThanOrEqual(2);
          expect(stats.invalidations).toBeGreaterThanOrEqual(2);
        } else {
          expect(stats.entered).toBe(0);
        }
      }
    });
  });
});
