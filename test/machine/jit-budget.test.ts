// The block translator builds a function for a start only once the start has retired
// BUILD_BUDGET instructions (cpu/jit.ts): building costs as much as interpreting a block many
// thousand times, and a kernel's boot (Linux) runs thousands of distinct blocks a few hundred times
// each. Translating every block entered 64 times made such a boot slower than the interpreter
// (docs/speed.md). These programs run with the production budget (test/setup.ts lowers it for the
// other tests) and must give the interpreter's results.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { BUILD_BUDGET, jitDefaults } from '../../src/engine/cpu/jit';
import { warmUpInterpreter } from '../../src/engine/cpu/warmup';
import { forEachBackend } from '../support/jit-backends';

const EXIT = `
  li    t0, 0x100000
  li    t1, 0x5555
  sw    t1, 0(t0)
1: j 1b
`;

// 512 routines of eight instructions with a branch in the middle, run one after the other 200
// times: every block is entered 200 times (past HOT_THRESHOLD) and retires far less than the budget.
const WIDE = `
  .globl _start
_start:
  li    s0, 200
  li    a0, 1
  la    s1, global
loop:
  call  units
  addi  s0, s0, -1
  bnez  s0, loop
${EXIT}
units:
  .rept 512
  lw    t1, 0(s1)
  xor   t1, t1, a0
  slli  t2, t1, 3
  add   a0, a0, t2
  andi  t3, a0, 4
  beqz  t3, 2f
  addi  a0, a0, 7
2:
  sw    t1, 0(s1)
  .endr
  ret
  .data
global: .word 0
`;

// One hot loop of eight instructions run 300,000 times (2.4 million instructions).
const HOT = `
  .globl _start
_start:
  li    s0, 300000
  li    a0, 1
loop:
  xor   t1, a0, s0
  slli  t2, t1, 3
  add   a0, a0, t2
  srli  t3, a0, 5
  xor   a0, a0, t3
  addi  a0, a0, 1
  addi  s0, s0, -1
  bnez  s0, loop
${EXIT}
`;

// A loop in one page calling a routine of straight code in the next page 100,000 times: the
// routine retires far more than the budget, but its region has no loop (each call runs each of its
// blocks once), so it stays interpreted; the loop is built.
const CALLS = `
  .globl _start
_start:
  li    s0, 100000
  li    a0, 1
loop:
  call  far
  addi  s0, s0, -1
  xor   a1, a1, a0
  add   a2, a2, a1
  slli  a3, a2, 1
  bnez  s0, loop
${EXIT}
  .balign 4096
far:
  xor   t1, a0, s0
  slli  t2, t1, 3
  add   a0, a0, t2
  srli  t3, a0, 5
  xor   a0, a0, t3
  addi  a0, a0, 1
  ret
`;

// One loop of 40 loads and stores and its counter, run 100,000 times (4.2 million instructions):
// its region's source is several times REGION_SOURCE_UNIT, so it must retire that many budgets first.
const LARGE = `
  .globl _start
_start:
  li    s0, 100000
  la    s1, buf
loop:
  .rept 20
  lw    t1, 0(s1)
  sw    t1, 4(s1)
  .endr
  addi  s0, s0, -1
  bnez  s0, loop
${EXIT}
  .data
buf: .word 7, 0
`;

// A routine of 1,200 instructions without a branch (an unrolled hash round, as Linux's
// blake2s_compress_generic runs 2,600 times in its boot), called 1,000 times: it starts in the
// middle of one page and runs on into the next. `lead` puts a compressed instruction first, so that
// one of its four-byte instructions lies across the page's end.
const straight = (lead: string): string => `
  .globl _start
_start:
  li    s0, 1000
  li    a0, 1
  li    t1, 3
loop:
  call  straight
  addi  s0, s0, -1
  bnez  s0, loop
${EXIT}
  .balign 4096
  .space 2048
straight:
  ${lead}
  .rept 300
  add   a0, a0, t1
  xor   t1, t1, a0
  slli  t2, a0, 3
  srli  t1, t2, 1
  .endr
  ret
`;

interface Outcome {
  a0: number;
  instret: number;
  steps: number;
  translations: number;
  deferred: number;
  scans: number;
  loopless: number;
  blockInsns: number;
}

function run(source: string, jit: boolean): Outcome {
  const r = assemble(source, { file: 'jit-budget.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = new Machine({ cpu: { jit } });
  m.loadKernel(r.elf);
  expect(m.run(50_000_000)).toBe(StopReason.EXIT);
  const s = m.hart.code?.stats;
  return { a0: m.hart.x[10], instret: m.hart.instret, steps: m.clockSteps, translations: s?.translations ?? 0, deferred: s?.deferred ?? 0, scans: s?.scans ?? 0, loopless: s?.loopless ?? 0, blockInsns: s?.blockInsns ?? 0 };
}

forEachBackend((backend) => {
  describe('the translator waits until a start has retired its build budget', () => {
    let saved = 0;
    beforeAll(() => {
      saved = jitDefaults.buildBudget;
      jitDefaults.buildBudget = BUILD_BUDGET;
    });
    afterAll(() => {
      jitDefaults.buildBudget = saved;
    });

    test('code run a few hundred times stays interpreted', () => {
      const interp = run(WIDE, false);
      const jit = run(WIDE, true);
      expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
      expect(interp.instret).toBeGreaterThan(200 * 512 * 7);
      // Every routine's blocks became hot (entered HOT_THRESHOLD times) and were left interpreted.
      expect(jit.deferred).toBeGreaterThanOrEqual(512);
      expect(jit.translations).toBe(0);
      // None was scanned: 200 entries of a block cannot retire the budget, and nothing built or
      // credited before is known at its pc (the scans cost a kernel's boot thousands of calls).
      expect(jit.scans).toBe(0);
    });

    test("a start's first deferral is made in the interpreter, without a call to the translator", () => {
      // Nothing is built or credited at those pcs and their pages hold no installed block, so the
      // translator could only defer them (wide's 2,052 such calls cost 2 ms, docs/speed.md).
      const r = assemble(WIDE, { file: 'jit-budget.S' });
      if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
      const m = new Machine({ cpu: { jit: true } });
      m.loadKernel(r.elf);
      const code = m.hart.code!;
      const translate = code.translate.bind(code);
      let calls = 0;
      code.translate = (...args) => {
        calls++;
        return translate(...args);
      };
      expect(m.run(50_000_000)).toBe(StopReason.EXIT);
      expect(code.stats.deferred).toBeGreaterThanOrEqual(512);
      expect(calls).toBe(0);
    });

    test('a loop is built once it has retired the budget, and runs translated from then on', () => {
      const interp = run(HOT, false);
      const jit = run(HOT, true);
      expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
      expect(jit.translations).toBe(1);
      // The loop's first BUILD_BUDGET instructions or so were interpreted, the rest ran in its block.
      expect(jit.blockInsns).toBeGreaterThan(interp.instret - BUILD_BUDGET - 4096 * 8);
      expect(jit.blockInsns).toBeLessThan(interp.instret - BUILD_BUDGET + 64 * 8);
      // Its start was decoded five times: once when its first entries might have retired the
      // budget (2,730 entries, as if its block had 48 instructions), then every 4,096 entries until
      // the 8-instruction block's credit had reached it (16,384 entries), the last to build it.
      // Fewer looks (16,384 entries apart) made bench/os.ts's fill kernel slower (docs/speed.md).
      expect(jit.scans).toBe(5);
    });

    test('a hot routine without a loop is not built alone, the loop calling it is built (with it, in WebAssembly)', () => {
      const interp = run(CALLS, false);
      const jit = run(CALLS, true);
      expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
      expect(jit.loopless).toBeGreaterThan(0);
      // Once its budget was retired (about 18,700 calls), the routine was looked at again every
      // 16,384 entries without its region being scanned: five looks in 100,000 calls (every
      // 4,160 entries, each scanning the region, made twenty).
      expect(jit.loopless).toBeLessThanOrEqual(5);
      expect(jit.translations).toBe(1);
      // The loop's seven instructions (call is two) per pass ran in its region once the five after
      // the call had retired the budget (its entries counted up to 4,096 at a time). A WebAssembly
      // region takes the routine in the next page in too (FarCode in jit.ts): fourteen a pass.
      const perPass = backend === 'wasm' ? 14 : 7;
      expect(jit.blockInsns).toBeGreaterThan(perPass * (100000 - BUILD_BUDGET / 5 - 4096));
      expect(jit.blockInsns).toBeLessThan(perPass * 100000);
    });

    test('a large region waits for a larger budget with JavaScript (V8 compiles it longer), the plain budget with WebAssembly', () => {
      const interp = run(LARGE, false);
      const jit = run(LARGE, true);
      expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
      expect(jit.translations).toBe(1);
      const waited = interp.instret - jit.blockInsns;
      if (backend === 'js') {
        // Interpreted until it had retired more than twice the budget (once was the rule for every size).
        expect(waited).toBeGreaterThan(2 * BUILD_BUDGET);
        expect(waited).toBeLessThan(16 * BUILD_BUDGET);
      } else {
        // WebAssembly compiles fast whatever the size: built once it had retired the budget.
        expect(waited).toBeGreaterThan(BUILD_BUDGET);
        expect(waited).toBeLessThan(BUILD_BUDGET + 4096 * 42);
      }
    });

    test('a long straight line without a loop is built, on both sides of a page end', () => {
      for (const lead of ['', 'c.nop']) {
        const interp = run(straight(lead), false);
        const jit = run(straight(lead), true);
        expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
        if (backend === 'js') {
          // JavaScript regions stop at 96 instructions: a straight line is left to the interpreter.
          expect(jit.blockInsns).toBeLessThan(interp.instret / 2);
          continue;
        }
        // Each entry retires 512 instructions (the first page's part) or 688 (the second's), so each
        // part retires the budget within its first 342 entries (a look when 384 a time could have),
        // and is built then: from there on the whole routine runs in two regions.
        expect(jit.translations).toBeGreaterThanOrEqual(2);
        expect(jit.blockInsns).toBeGreaterThan(1200 * (1000 - 400));
      }
    });

    test("the interpreter's warm-up still runs translated blocks", () => {
      // It is there so that V8 compiles the block path of execute before a guest runs. A translation
      // is a region (every block of the page a start reaches by branches and direct jumps): the
      // warm-up's straight code with its branches is one, the loop it returns to after its trap
      // another.
      expect(warmUpInterpreter().translations).toBeGreaterThanOrEqual(2);
    });
  });
});
