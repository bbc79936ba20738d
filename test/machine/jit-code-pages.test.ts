// The translator where code and data share pages: a store into the running block's own later
// instruction must be seen by that very pass (the block leaves after the store), stores beside
// translated code leave it translated, and a page whose code keeps changing is retranslated from
// the content memo. The interpreter is the reference; the sums are also computed by hand.
import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { forEachBackend } from '../support/jit-backends';
import { sv32Start } from '../support/jit-run';

const ADDI_A0_1 = 0x00150513;
const ADDI_A0_100 = 0x06450513;

// Each pass stores, into the instruction right after the store (same block), addi a0, a0, 100 when
// s0 is odd and addi a0, a0, 1 when it is even, then executes it.
const SELF_PATCH = `
  .option norvc
  .globl _start
_start:
  li    s0, 200
  li    a0, 0
  la    s1, patch
  li    s2, ${ADDI_A0_1}
  li    s3, ${ADDI_A0_100}
  xor   s4, s2, s3
loop:
  andi  t0, s0, 1
  sub   t0, zero, t0
  and   t1, s4, t0
  xor   t1, t1, s2
  sw    t1, 0(s1)
patch:
  addi  a0, a0, 1
  addi  s0, s0, -1
  bnez  s0, loop
  li    t0, 0x100000
  li    t1, 0x5555
  sw    t1, 0(t0)
1: j 1b
`;

// A hot loop whose counter sits in the same 128-byte chunk, right after its code.
const NEIGHBOUR = `
  .globl _start
_start:
  li    s0, 5000
  la    t1, count
loop:
  lw    t0, 0(t1)
  add   t0, t0, s0
  sw    t0, 0(t1)
  addi  s0, s0, -1
  bnez  s0, loop
  lw    a0, 0(t1)
  li    t0, 0x100000
  li    t1, 0x5555
  sw    t1, 0(t0)
1: j 1b
count: .word 0
`;

// A translated loop whose code the interpreter then patches (the stores follow a CSR instruction,
// where no block starts, and run only twice, so they stay interpreted), and a counter beside that
// code in the same page, which the interpreter stores to as well.
const PATCH_FROM_INTERPRETER = `
  .option norvc
  .globl _start
_start:
  la    s1, patch
  la    s3, count
  li    s2, ${ADDI_A0_100}
  li    s5, 2
  li    a0, 0
outer:
  li    s0, 1000
loop:
  addi  s0, s0, -1
patch:
  addi  a0, a0, 1
  bnez  s0, loop
  csrr  t0, mscratch
  lw    t1, 0(s3)
  addi  t1, t1, 1
  sw    t1, 0(s3)
  sw    s2, 0(s1)
  addi  s5, s5, -1
  bnez  s5, outer
  lw    a1, 0(s3)
  li    t0, 0x100000
  li    t1, 0x5555
  sw    t1, 0(t0)
1: j 1b
count: .word 0
`;

// A page that is both code and a level-0 page table (the root also maps the finisher's megapage at
// 0 and RAM's first 4 MiB). The loop at tbl runs translated, loading from a scratch word through the
// megapage. Then a load through the PTE that is the loop's sixth word (VA 0x40005000, whose TLB slot
// is not the code's) makes the page walk set that PTE's A bit, which turns the word's opcode from
// OP-IMM (0x13, here addi x0, s8, 512) into OP-FP (0x53), an illegal instruction without F. The
// loop must then trap at that word, as the interpreter does: `outside` loads before a fence.i and a
// second call of the loop (the translated loop must have been dropped); otherwise the loop's own
// load, on its first pass of the second call, sets the bit (the region must leave before the word).
// (QEMU 7.2's TCG writes A/D bits straight into host memory without dropping its translated blocks,
// so it keeps running the old word: the interpreter is the reference here.)
function pteInCode(outside: boolean): string {
  return `
  .option norvc
  .globl _start
_start:
${sv32Start('tbl')}
smain:
  la    t0, scratch
  li    s2, 300
  jal   hot
  li    t0, 0x40005000
${outside ? `  lw    t1, 0(t0)
  fence.i
  la    t0, scratch` : ''}
  li    s2, 5
  jal   hot
  li    a0, 0
  j     done
mtrap:
  csrr  a0, mcause
  csrr  a1, mepc
  la    t0, tbl
  sub   a1, a1, t0
done:
  li    t0, 0x100000
  li    t1, 0x5555
  sw    t1, 0(t0)
1: j 1b
  .balign 4096
tbl:
hot:
  addi  s3, s3, 1
  addi  s4, s4, 1
  addi  s5, s5, 1
  addi  s6, s6, 1
  lw    t1, 0(t0)
  .word 0x200c0013
  addi  s2, s2, -1
  bnez  s2, hot
  ret
  .balign 4096
root:
  .space 4096
scratch:
  .word 0
`;
}

function run(source: string, jit: boolean): { a0: number; instret: number; steps: number; m: Machine } {
  const r = assemble(source, { file: 'code-pages.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = new Machine({ cpu: { jit } });
  m.loadKernel(r.elf);
  expect(m.run(10_000_000)).toBe(StopReason.EXIT);
  return { a0: m.hart.x[10], instret: m.hart.instret, steps: m.clockSteps, m };
}

forEachBackend(() => {
  describe('translated code in pages that are written', () => {
    test('a store into the running block\'s next instruction takes effect in the same pass', () => {
      const interp = run(SELF_PATCH, false);
      const jit = run(SELF_PATCH, true);
      // 100 odd values of s0 add 100, 100 even ones add 1.
      expect(interp.a0).toBe(100 * 100 + 100 * 1);
      expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
      const stats = jit.m.hart.code!.stats;
      expect(stats.translations).toBeGreaterThan(0);
      expect(stats.invalidations).toBeGreaterThan(0);
    });

    test('stores beside translated code keep it translated', () => {
      const interp = run(NEIGHBOUR, false);
      const jit = run(NEIGHBOUR, true);
      expect(interp.a0).toBe((5000 * 5001) / 2);
      expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
      const stats = jit.m.hart.code!.stats;
      expect(stats.invalidations).toBe(0);
      // The counter's 16-byte line holds no translated code: its stores stay in the block, none
      // takes the hart's slow path.
      expect(stats.codePageStores).toBe(0);
      // The loop ran translated (it loops inside its block), not in the interpreter.
      expect(stats.blockInsns).toBeGreaterThan(20000);
    });

    test('the interpreter stores beside translated code without the slow path, and into it through the slow path', () => {
      const interp = run(PATCH_FROM_INTERPRETER, false);
      const jit = run(PATCH_FROM_INTERPRETER, true);
      // The first pass adds 1 a thousand times, the second (patched) 100.
      expect(interp.a0).toBe(1000 + 100 * 1000);
      expect(interp.m.hart.x[11]).toBe(2);
      expect([jit.a0, jit.m.hart.x[11], jit.instret, jit.steps, jit.m.hart.tlb.hits]).toEqual(
        [interp.a0, interp.m.hart.x[11], interp.instret, interp.steps, interp.m.hart.tlb.hits]);
      const stats = jit.m.hart.code!.stats;
      // Both patches dropped the loop's block (it was built again in the second pass)...
      expect(stats.invalidatingStores).toBe(2);
      // ...and only they took the hart's slow path: the counter's stores, beside the code in the
      // same page, did not.
      expect(stats.codePageStores).toBe(2);
    });
    for (const outside of [true, false]) {
      test(`a page walk that sets an A bit in a word of translated code drops that code (load ${outside ? 'before the call' : 'inside the loop'})`, () => {
        const source = pteInCode(outside);
        const interp = run(source, false);
        const jit = run(source, true);
        // Illegal instruction at tbl + 20, the PTE whose A bit the walk set.
        expect([interp.a0, interp.m.hart.x[11]]).toEqual([2, 20]);
        expect([jit.a0, jit.m.hart.x[11], jit.instret, jit.steps]).toEqual([interp.a0, interp.m.hart.x[11], interp.instret, interp.steps]);
        const stats = jit.m.hart.code!.stats;
        expect(stats.translations).toBeGreaterThan(0);
        expect(stats.invalidations).toBeGreaterThan(0);
      });
    }
  });
});
