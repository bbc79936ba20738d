// The interpreter's decode cache (cpu/interp.ts) keeps decoded instructions by RAM halfword and uses
// a slot only while memory still holds the bits it decoded. These programs change what is at an
// address in every way the cache could miss: a store that turns a compressed pair into one 32-bit
// instruction and back, code 512 KiB apart (the same slot), another machine with other code at the
// same address, a hart without C running compressed code after one with C, a store into an
// instruction the interpreter's inner loop has already checked in the same run or, from another
// page, in the same epoch, and a page walk whose A-bit update rewrites an instruction. Results are
// computed by hand; the translator must agree with the interpreter on every count.
import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import type { CpuFeatures } from '../../src/engine/cpu/hart';

const EXIT = `
  li    t0, 0x100000
  li    t1, 0x5555
  sw    t1, 0(t0)
1: j 1b
`;

const ADDI_A0_100 = 0x06450513;
/** c.addi a0, 1 then c.nop, as one little-endian word. */
const C_ADDI_A0_1_C_NOP = 0x00010505;

// Ten passes; odd ones store addi a0, a0, 100 (one 32-bit instruction) at `patch`, even ones
// c.addi a0, 1 and c.nop (two compressed ones) at the same address, then run it.
const RESHAPE = `
  .option norvc
  .globl _start
_start:
  li    s0, 10
  li    a0, 0
  la    s1, patch
  li    s2, ${ADDI_A0_100}
  li    s3, ${C_ADDI_A0_1_C_NOP}
loop:
  andi  t0, s0, 1
  beqz  t0, 1f
  sw    s2, 0(s1)
  j     patch
1:
  sw    s3, 0(s1)
patch:
  nop
  addi  s0, s0, -1
  bnez  s0, loop
${EXIT}
`;

// f1 and f2 lie 512 KiB apart, so their instructions share decode-cache slots.
const ALIAS = `
  .option norvc
  .globl _start
_start:
  li    s0, 10
  li    a0, 0
loop:
  call  f1
  call  f2
  addi  s0, s0, -1
  bnez  s0, loop
${EXIT}
  .balign 4
f1:
  addi  a0, a0, 1
  ret
  .skip 0x80000 - 8
f2:
  addi  a0, a0, 1000
  ret
`;

// Four passes over `patch`; after the second, a store rewrites it to addi a0, a0, 100. The
// interpreter's inner loop runs the passes without leaving (no slow path between them), so the
// slot of `patch` has been checked against memory in this run before the store: the store must
// make the loop check it again.
const REWRITE_IN_RUN = `
  .option norvc
  .globl _start
_start:
  li    s0, 4
  li    a0, 0
  la    s1, patch
  li    s2, ${ADDI_A0_100}
  li    t0, 2
loop:
patch:
  addi  a0, a0, 1
  addi  s0, s0, -1
  bne   s0, t0, 1f
  sw    s2, 0(s1)
1:
  bnez  s0, loop
${EXIT}
`;

// Five passes over `patch` (addi a0, a0, 1), each calling `far` in the next page, which stores to a
// word of patch's page; from the third pass on it also adds 1 to the immediate of the bits in s2 and
// stores them over `patch`. The loop and far's stores run without a slow path (the first pass filled
// the TLB), so one decode-cache epoch spans both pages: far's first store over `patch` runs on the
// loop's general path (its first run misses the cache), the next ones in the inner loop, and each
// must make `patch` be compared with memory again.
const PATCH_FROM_PAGE = `
  .option norvc
  .globl _start
_start:
  li    s0, 5
  li    a0, 0
  la    s1, patch
  la    s3, scratch
  lw    s2, 0(s1)
  li    t0, 3
  li    t1, 0x100000
loop:
patch:
  addi  a0, a0, 1
  call  far
  addi  s0, s0, -1
  bnez  s0, loop
${EXIT}
scratch:
  .word 0
  .balign 4096
far:
  sw    s2, 0(s3)
  blt   t0, s0, 1f
  add   s2, s2, t1
  sw    s2, 0(s1)
1:
  ret
`;

// In S-mode with Sv32, `pteword` is both an instruction (addi a0, a0, 512) and, through a root
// entry that takes its page as a level-0 table, the PTE of a user page (V R U, A clear, pointing into
// RAM). The loop runs it three times, so that the inner loop has stamped its slot; then a load walks
// through it, and the walk sets its A bit, which makes it 0x20050553 (OP-FP: illegal without F). The
// load's slow path wrote RAM through the walk, so the next run must compare the slot with memory.
const PTE_IN_CODE = `
  .option norvc
  .globl _start
_start:
  la    t0, root
  li    t1, 0x200000cf
  addi  t3, t0, 0x400
  sw    t1, 0x400(t3)
  la    t2, pteword
  srli  t3, t2, 12
  slli  t3, t3, 10
  ori   t3, t3, 1
  sw    t3, 4(t0)
  srli  t1, t0, 12
  li    t3, 0x80000000
  or    t1, t1, t3
  csrw  satp, t1
  li    t1, -1
  csrw  pmpaddr0, t1
  li    t1, 0x1f
  csrw  pmpcfg0, t1
  la    t1, mtrap
  csrw  mtvec, t1
  li    t1, 0x40800
  csrs  mstatus, t1
  la    t1, lower
  csrw  mepc, t1
  li    a0, 0
  li    s2, 0
  li    s3, 0
  mret
  .balign 4
mtrap:
  csrr  s2, mcause
  csrr  s3, mtval
${EXIT}
lower:
  li    s0, 3
  slli  t4, t2, 20
  srli  t4, t4, 22
  slli  t4, t4, 12
  li    t5, 0x400000
  or    t4, t4, t5
loop:
pteword:
  .word 0x20050513
  addi  s0, s0, -1
  bnez  s0, loop
  lw    t6, 0(t4)
  j     pteword
  .balign 4096
root:
  .skip 4096
`;

function load(source: string, cpu: Partial<CpuFeatures>): Machine {
  const r = assemble(source, { file: 'decode-cache.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = new Machine({ cpu });
  m.loadKernel(r.elf);
  return m;
}

/** Steps through the boot ROM to the kernel's first instruction (RAM starts at 0x80000000). */
function toKernel(m: Machine): void {
  for (let i = 0; i < 100 && m.hart.pcU < 0x80000000; i++) m.step();
  expect(m.hart.pcU).toBe(0x80000000);
}

function run(source: string, jit: boolean): { a0: number; instret: number; steps: number } {
  const m = load(source, { jit });
  expect(m.run(10_000_000)).toBe(StopReason.EXIT);
  return { a0: m.hart.x[10], instret: m.hart.instret, steps: m.clockSteps };
}

describe('the interpreter decode cache', () => {
  test('a store that turns a compressed pair into a 32-bit instruction and back takes effect each time', () => {
    const interp = run(RESHAPE, false);
    // Five odd passes add 100, five even ones add 1 (and run one more instruction, the c.nop).
    expect(interp.a0).toBe(5 * 100 + 5 * 1);
    const jit = run(RESHAPE, true);
    expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
  });

  test('a store into an instruction the running loop has already run takes effect at the next pass', () => {
    const interp = run(REWRITE_IN_RUN, false);
    expect(interp.a0).toBe(1 + 1 + 100 + 100);
    const jit = run(REWRITE_IN_RUN, true);
    expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
  });

  test('a halfword store into the upper half of an instruction the running loop has already run takes effect', () => {
    // addi a0, a0, 1 and addi a0, a0, 100 differ only in their upper halfword.
    const source = REWRITE_IN_RUN.replace(`li    s2, ${ADDI_A0_100}`, `li    s2, ${ADDI_A0_100 >>> 16}`).replace('sw    s2, 0(s1)', 'sh    s2, 2(s1)');
    expect(source).not.toBe(REWRITE_IN_RUN);
    const interp = run(source, false);
    expect(interp.a0).toBe(1 + 1 + 100 + 100);
    const jit = run(source, true);
    expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
  });

  test('a store from another page into an instruction run earlier in the same epoch takes effect', () => {
    const interp = run(PATCH_FROM_PAGE, false);
    // addi a0, a0, 1 three times, then with the immediates 2 and 3.
    expect(interp.a0).toBe(1 + 1 + 1 + 2 + 3);
    const jit = run(PATCH_FROM_PAGE, true);
    expect([jit.a0, jit.instret, jit.steps]).toEqual([interp.a0, interp.instret, interp.steps]);
  });

  test('code 512 KiB apart, in the same slots, runs as itself', () => {
    const interp = run(ALIAS, false);
    expect(interp.a0).toBe(10 * 1001);
    const jit = run(ALIAS, true);
    expect([jit.a0, jit.instret]).toEqual([interp.a0, interp.instret]);
  });

  test('code 512 KiB apart, run in turns within one epoch, runs as itself', () => {
    // f1 twice, so that the inner loop stamps its slots (the second call finds them decoded), then
    // f2 over the same slots on the loop's general path: the next f1 must not take f2's decoding.
    const source = ALIAS.replace('  call  f1\n', '  call  f1\n  call  f1\n');
    expect(source).not.toBe(ALIAS);
    const interp = run(source, false);
    expect(interp.a0).toBe(10 * 1002);
    const jit = run(source, true);
    expect([jit.a0, jit.instret]).toEqual([interp.a0, interp.instret]);
  });

  test('an instruction whose word a page walk rewrites (its A bit) runs as rewritten', () => {
    const result = (jit: boolean): number[] => {
      const m = load(PTE_IN_CODE, { jit });
      expect(m.run(10_000_000)).toBe(StopReason.EXIT);
      const h = m.hart;
      return [h.x[10], h.x[18], h.x[19] >>> 0, h.instret];
    };
    const interp = result(false);
    // Three addi a0, a0, 512, then the illegal instruction (mcause 2, mtval its bits).
    expect(interp.slice(0, 3)).toEqual([3 * 512, 2, 0x20050553]);
    expect(result(true)).toEqual(interp);
  });

  test('another machine with other code at the same address runs its own code', () => {
    const one = run(RESHAPE.replace('  nop\n', '  addi a0, a0, 3\n').replace(/  sw    s[23], 0\(s1\)\n/g, '  nop\n'), false);
    const two = run(RESHAPE.replace('  nop\n', '  addi a0, a0, 7\n').replace(/  sw    s[23], 0\(s1\)\n/g, '  nop\n'), false);
    expect([one.a0, two.a0]).toEqual([30, 70]);
  });

  test('a hart without C raises an illegal instruction at compressed code another hart has run', () => {
    const source = `
  .option rvc
  .globl _start
_start:
  li    a0, 5
  li    a1, 6
${EXIT}`;
    const withC = load(source, { jit: false, c: true });
    toKernel(withC);
    withC.step();
    expect(withC.hart.x[10]).toBe(5);
    const withoutC = load(source, { jit: false, c: false });
    toKernel(withoutC);
    withoutC.step();
    // c.li a0, 5 is 0x4515; the trap leaves mtval at its bits and the pc at mtvec (0).
    expect([withoutC.hart.x[10], withoutC.hart.mcause, withoutC.hart.mtval, withoutC.hart.pcU]).toEqual([0, 2, 0x4515, 0]);
  });
});
