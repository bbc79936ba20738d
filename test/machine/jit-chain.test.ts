// Chained regions: a WebAssembly region that leaves for a pc where another region is installed goes
// on into it without returning to the dispatcher (jit-wasm.ts's trampoline), under the dispatcher's
// own conditions. The interpreter is the reference: registers, instructions retired, steps and the
// instruction counts at which timer interrupts arrive must be the same, and a region dropped by a
// store into its code must never be entered through a chain. Results are also computed by hand.
import { describe, expect, test } from 'vitest';
import { forEachBackend } from '../support/jit-backends';
import { breakpointStops, FINISHER_EXIT as EXIT, runSliced, sv32Start, type SlicedRun } from '../support/jit-run';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';

const ADDI_A0_100 = 0x06450513;

// A loop in one page calls a function in the next page PASSES times, at its start and at its last
// block (`patch`, which its branch also reaches): the loop's regions leave for those pcs and the
// function's region (its `ret`) for the return points, so once they are built every call and return
// is a chained entry, the second call into a block inside the function's region. At pass REWRITE
// the loop rewrites the function's `addi a0, a0, 1` into `addi a0, a0, 100`: the function's region
// is dropped, and the loop's next calls must run the new instruction (a stale chain would run the
// old one).
const PASSES = 600;
const REWRITE = 300;
const SMC = `
  .option norvc
  .globl _start
_start:
  li    s0, ${PASSES}
  li    a0, 0
  li    a1, 0
  la    s1, patch
  li    s2, ${ADDI_A0_100}
loop:
  call  f
  addi  a1, a1, 3
  call  patch
  li    t0, ${REWRITE}
  bne   s0, t0, 1f
  sw    s2, 0(s1)
1:
  addi  s0, s0, -1
  bnez  s0, loop
${EXIT}
  .balign 4096
f:
  xor   t1, a0, a1
  andi  t1, t1, 7
  beqz  t1, patch
  add   a2, a2, t1
  j     patch
  .space 64
patch:
  addi  a0, a0, 1
  ret
`;

// The same call and return across pages (the function counts its calls in memory), with the
// CLINT's timer interrupting every PERIOD ticks: the handler counts the interrupts (s10), folds each
// mepc and the minstret it reads into s9, and sets the next deadline.
const PERIOD = 13;
const TIMER = `
  .option norvc
  .globl _start
_start:
  la    t0, trap
  csrw  mtvec, t0
  li    s10, 0
  li    s9, 0
  li    t0, 0x0200bff8
  lw    t1, 0(t0)
  addi  t1, t1, ${PERIOD}
  li    t0, 0x02004000
  sw    zero, 4(t0)
  sw    t1, 0(t0)
  li    t0, 0x80
  csrs  mie, t0
  csrsi mstatus, 8
  li    s0, 3000
  li    a0, 0
  li    a1, 0
loop:
  call  f
  addi  a1, a1, 3
  andi  t0, s0, 3
  bnez  t0, 1f
  addi  a1, a1, 5
1:
  addi  s0, s0, -1
  bnez  s0, loop
  csrci mstatus, 8
  la    t0, calls
  lw    s7, 0(t0)
${EXIT}
trap:
  csrr  t3, mepc
  csrr  t4, minstret
  slli  t5, s9, 5
  add   s9, s9, t5
  add   s9, s9, t3
  xor   s9, s9, t4
  addi  s10, s10, 1
  li    t3, 0x0200bff8
  lw    t4, 0(t3)
  addi  t4, t4, ${PERIOD}
  li    t3, 0x02004000
  sw    t4, 0(t3)
  mret
  .balign 4096
f:
  la    s4, calls
  lw    s5, 0(s4)
  addi  s5, s5, 1
  sw    s5, 0(s4)
  xor   t1, a0, a1
  andi  t1, t1, 7
  beqz  t1, 2f
  add   a2, a2, t1
2:
  addi  a0, a0, 1
  ret
  .balign 4096
calls:
  .word 0
`;

// A function whose last block the loop rewrites ROUNDS times (`addi a0, a0, 1`, then 2, 3, ...),
// calling it 100 times between rewrites: each rewrite drops its region, and the next build at the
// same start (same entry block, other code) replaces the memo's function, whose WebAssembly table
// slot is then free again.
const ROUNDS = 40;
const REBUILDS = `
  .option norvc
  .globl _start
_start:
  li    s0, ${ROUNDS}
  li    a0, 0
  la    s1, patch
  lw    s2, 0(s1)
round:
  li    s3, 100
1:
  call  f
  addi  s3, s3, -1
  bnez  s3, 1b
  li    t0, 1 << 20
  add   s2, s2, t0
  sw    s2, 0(s1)
  addi  s0, s0, -1
  bnez  s0, round
${EXIT}
  .balign 4096
f:
  xor   t1, a0, a1
  andi  t1, t1, 7
  beqz  t1, patch
  add   a2, a2, t1
patch:
  addi  a0, a0, 1
  ret
`;

/**
 * `source` with its calls made through a register (s8 holds f, s1 patch): the translator cannot
 * follow them, so the callee stays in a region of its own, entered through a chain. With plain
 * calls a WebAssembly region takes the routine in the next page in (FarCode in jit.ts).
 */
function indirect(source: string): string {
  return source
    .replace('_start:\n', '_start:\n  la    s8, f\n')
    .replaceAll('call  f\n', 'jalr  ra, 0(s8)\n')
    .replaceAll('call  patch\n', 'jalr  ra, 0(s1)\n');
}


// In S-mode with Sv32: a loop calls the routine at virtual 0x40005000, mapped by a level-0 page
// table to routA's page (adds 1), 40,000 times; then the loop remaps that page to routB's (adds
// 100), runs sfence.vma and calls it 2,000 times more. A region of the loop that took routA in
// must not run it again: routB's page has another RAM offset in the TLB (its guard).
const REMAP = `
  .option norvc
  .globl _start
_start:
${sv32Start('l0', `  la    s2, l0
  la    t0, routA
  srli  t0, t0, 12
  slli  t0, t0, 10
  ori   t0, t0, 0xcb
  sw    t0, 5 * 4(s2)`)}
smain:
  li    a0, 0
  li    s0, 40000
  jal   calls
  la    t0, routB
  srli  t0, t0, 12
  slli  t0, t0, 10
  ori   t0, t0, 0xcb
  sw    t0, 5 * 4(s2)
  sfence.vma
  li    s0, 2000
  jal   calls
  j     done
calls:
  mv    s3, ra
1:
  li    t0, 0x40005000
  jalr  ra, 0(t0)
  addi  s0, s0, -1
  bnez  s0, 1b
  jr    s3
mtrap:
  csrr  a0, mcause
done:
${EXIT}
  .balign 4096
routA:
  addi  a0, a0, 1
  xor   a1, a1, a0
  ret
  .balign 4096
routB:
  addi  a0, a0, 100
  xor   a1, a1, a0
  ret
  .balign 4096
root:
  .space 4096
l0:
  .space 4096
`;

// A loop calling a routine in the next page (plain calls: a WebAssembly region of the loop takes the
// routine in), then a store of one of the loop's own words (the same bits) that drops its region:
// the routine's page holds no translated code after it. A breakpoint may be set at `mid`.
const FAR = `
  .option norvc
  .globl _start
_start:
  li    s0, 40000
  li    a0, 0
loop:
  call  f
  addi  s0, s0, -1
  bnez  s0, loop
  la    t2, loop
  lw    t3, 0(t2)
  sw    t3, 0(t2)
${EXIT}
  .balign 4096
f:
  addi  a0, a0, 1
mid:
  xor   a1, a1, a0
  ret
`;

function run(source: string, jit: boolean, slice: number): SlicedRun {
  return runSliced(source, 'chain.S', jit, slice);
}

/**
 * Runs `source` interpreted and translated at each slice length; returns the interpreter's run. At
 * least `share` of the instructions ran in regions in whole slices.
 */
function same(source: string, slices: number[], backend: string, share = 0.5, chained = true): SlicedRun {
  const interp = run(source, false, 10_000_000);
  for (const slice of slices) {
    const jit = run(source, true, slice);
    expect([jit.regs, jit.pc, jit.instret, jit.steps, jit.hits]).toEqual([interp.regs, interp.pc, interp.instret, interp.steps, interp.hits]);
    const stats = jit.m.hart.code!.stats;
    // In whole slices, WebAssembly regions ran most instructions and entered each other inside
    // WebAssembly (in short slices most region runs are short and the translator may leave them).
    if (slice !== slices[0]) continue;
    if (backend === 'wasm') {
      expect(stats.blockInsns).toBeGreaterThan(interp.instret * share);
      if (chained) expect(stats.chainedRuns).toBeGreaterThan(stats.blockRuns / 2);
    } else {
      expect(stats.blockInsns).toBeGreaterThan(0);
      expect(stats.chainedRuns).toBe(0);
    }
  }
  return interp;
}

forEachBackend((backend) => {
  describe('chained regions', () => {
    test('a region dropped by a store into its code is never entered through a chain', () => {
      const out = same(indirect(SMC), [10_000_000, 4099, 97], backend);
      // Passes s0 = 600 .. 300 add 1 twice (the store comes after pass 300's calls), passes 299 .. 1
      // add 100 twice.
      expect(out.regs[10]).toBe(2 * ((PASSES - REWRITE + 1) * 1 + (REWRITE - 1) * 100));
      expect(out.regs[11]).toBe(PASSES * 3);
    });

    test('timer interrupts arrive at the same instructions as in the interpreter during chained runs', () => {
      const out = same(indirect(TIMER), [10_000_000, 4099, 97, 13], backend);
      expect(out.regs[10]).toBe(3000);
      expect(out.regs[11]).toBe(3000 * 3 + 750 * 5);
      expect(out.regs[23]).toBe(3000);
      // Interrupts came during the loop (every PERIOD ticks of 10 steps; the loop runs about 40,000).
      expect(out.regs[26]).toBeGreaterThan(250);
    });

    test('regions rebuilt after each rewrite of their code reuse the table slots of the dropped ones', () => {
      // Each round's first 64 calls are interpreted, then the region is built again.
      const out = same(indirect(REBUILDS), [10_000_000, 97], backend, 0.25, false);
      // Round r (0 ..) adds r + 1 a hundred times.
      expect(out.regs[10]).toBe(100 * ((ROUNDS * (ROUNDS + 1)) / 2));
      if (backend !== 'wasm') return;
      const jit = run(indirect(REBUILDS), true, 10_000_000);
      const code = jit.m.hart.code!;
      // The page's backoff makes later rebuilds wait longer: about one in five rounds rebuilds.
      expect(code.stats.retranslations).toBeGreaterThan(4);
      // Without reuse every region built keeps a slot.
      expect(code.wasm!.slotsInUse).toBeLessThan(code.stats.translations - 3);
    });
  });

  describe('a routine in the next page', () => {
    test('runs in the region of the loop calling it, and a store into it drops that region', () => {
      // The same rewrite as above, of the routine the loop calls directly.
      const out = same(SMC, [10_000_000, 4099, 97], backend, 0.5, false);
      expect(out.regs[10]).toBe(2 * ((PASSES - REWRITE + 1) * 1 + (REWRITE - 1) * 100));
      expect(out.regs[11]).toBe(PASSES * 3);
      if (backend !== 'wasm') return;
      const stats = run(SMC, true, 10_000_000).m.hart.code!.stats;
      // Built before the rewrite and again after it: two runs of the loop's region did it all.
      expect(stats.invalidations).toBeGreaterThanOrEqual(1);
      expect(stats.blockRuns).toBeLessThanOrEqual(4);
      expect(stats.chainedRuns).toBe(0);
    });

    test('timer interrupts arrive at the same instructions as in the interpreter', () => {
      const out = same(TIMER, [10_000_000, 4099, 97, 13], backend, 0.5, false);
      expect(out.regs[10]).toBe(3000);
      expect(out.regs[11]).toBe(3000 * 3 + 750 * 5);
      expect(out.regs[23]).toBe(3000);
      expect(out.regs[26]).toBeGreaterThan(250);
    });

    test('a routine rewritten again and again leaves its callers\' regions (its page backs off)', () => {
      const out = same(REBUILDS, [10_000_000, 97], backend, 0.25, false);
      expect(out.regs[10]).toBe(100 * ((ROUNDS * (ROUNDS + 1)) / 2));
    });

    test('a routine\'s page mapped elsewhere runs from there, not from the region (Sv32)', () => {
      const out = same(REMAP, [10_000_000, 4099], backend, 0.3, false);
      expect(out.regs[10]).toBe(40000 + 2000 * 100);
      if (backend !== 'wasm') return;
      const stats = run(REMAP, true, 10_000_000).m.hart.code!.stats;
      // The loop's region ran the routine with it before the remap (a few runs for 40,000 passes);
      // after it the region leaves at the call, about two runs a pass.
      expect(stats.chainedRuns + stats.blockRuns).toBeLessThan(8000);
    });

    test('a region dropped by a store into its own page leaves no code marked in the routine\'s', () => {
      const out = same(FAR, [10_000_000, 4099], backend, 0.5, false);
      expect(out.regs[10]).toBe(40000);
      if (backend !== 'wasm') return;
      const r = run(FAR, true, 10_000_000);
      const code = r.m.hart.code!;
      expect(code.stats.invalidations).toBe(1);
      expect(code.stats.chainedRuns + code.stats.blockRuns).toBeLessThan(100);
      // Stores into the routine's page take the fast path again (no code-write TLB entry). ra holds
      // the last call's return point, in the loop's page.
      const loopPage = ((r.m.hart.x[1] >>> 0) - 0x80000000) >>> 12;
      expect(code.codeChunks[loopPage]).toBe(0);
      expect(code.codeChunks[loopPage + 1]).toBe(0);
    });

    test('a breakpoint set in the routine stops every call, as in the interpreter', () => {
      const stops = (jit: boolean): { pcs: number[]; instret: number[] } => {
        const r = assemble(FAR, { file: 'far.S' });
        if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
        const m = new Machine({ cpu: { jit } });
        m.loadKernel(r.elf);
        expect(m.run(200_000)).toBe(StopReason.BUDGET);
        if (jit && backend === 'wasm') {
          // The loop's region, the routine in it, ran most passes so far in a few runs.
          const stats = m.hart.code!.stats;
          expect(stats.blockInsns).toBeGreaterThan(50_000);
          expect(stats.blockRuns + stats.chainedRuns).toBeLessThan(100);
        }
        m.hart.breakpoints.add(r.symbols.find((x) => x.name === 'mid')!.address);
        const { pcs, instret, reason } = breakpointStops(m);
        expect(reason).toBe(StopReason.EXIT);
        return { pcs, instret };
      };
      const interp = stops(false);
      const jit = stops(true);
      expect(interp.pcs.length).toBeGreaterThan(5000);
      expect(jit.pcs).toEqual(interp.pcs);
      expect(jit.instret).toEqual(interp.instret);
    });
  });
});
