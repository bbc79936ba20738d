import { describe, expect, it } from 'vitest';
import { BASE, runSnippet } from '../support/bare-hart';

const BUF = 0x80080000;

/** Reference semantics of RV32IM register-register operations (unprivileged spec ch. 2.4, 7), in BigInt. */
const REF: Record<string, (a: bigint, b: bigint) => bigint> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  sll: (a, b) => a << (b & 31n),
  slt: (a, b) => (a < b ? 1n : 0n),
  sltu: (a, b) => (u(a) < u(b) ? 1n : 0n),
  xor: (a, b) => a ^ b,
  srl: (a, b) => u(a) >> (b & 31n),
  sra: (a, b) => a >> (b & 31n),
  or: (a, b) => a | b,
  and: (a, b) => a & b,
  mul: (a, b) => a * b,
  mulh: (a, b) => (a * b) >> 32n,
  mulhsu: (a, b) => (a * u(b)) >> 32n,
  mulhu: (a, b) => (u(a) * u(b)) >> 32n,
  div: (a, b) => (b === 0n ? -1n : a === -(2n ** 31n) && b === -1n ? a : a / b),
  divu: (a, b) => (b === 0n ? 2n ** 32n - 1n : u(a) / u(b)),
  rem: (a, b) => (b === 0n ? a : a === -(2n ** 31n) && b === -1n ? 0n : a % b),
  remu: (a, b) => (b === 0n ? u(a) : u(a) % u(b)),
};

function u(v: bigint): bigint {
  return BigInt.asUintN(32, v);
}

const EDGES = [0, 1, -1, 2, -2, 31, 32, 0x7fffffff, -0x80000000, 0x12345678, -0x12345678, 0xffff, 0x10000];

function randomInt(seed: { s: number }): number {
  seed.s = (Math.imul(seed.s, 1103515245) + 12345) | 0;
  const r = seed.s ^ (seed.s >>> 15);
  return r | 0;
}

describe('RV32IM register-register operations', () => {
  for (const op of Object.keys(REF)) {
    it(`${op} matches the reference on edge and random operands`, () => {
      const seed = { s: op.length * 7919 };
      const pairs: [number, number][] = [];
      for (const a of EDGES) for (const b of EDGES) pairs.push([a, b]);
      for (let i = 0; i < 60; i++) pairs.push([randomInt(seed), randomInt(seed)]);
      const lines = [`  li t0, ${BUF}`];
      pairs.forEach(([a, b], i) => lines.push(`  li a0, ${a}`, `  li a1, ${b}`, `  ${op} a2, a0, a1`, `  sw a2, ${(i * 4) % 2048}(t0)`, ...((i + 1) % 512 === 0 ? ['  addi t0, t0, 2047', '  addi t0, t0, 1'] : [])));
      const hart = runSnippet(lines.join('\n'), { maxSteps: 1_000_000 });
      const view = new DataView(hart.bus.ram.buffer);
      pairs.forEach(([a, b], i) => {
        const expected = Number(BigInt.asIntN(32, REF[op](BigInt(a), BigInt(b))));
        expect(view.getInt32(BUF - BASE + i * 4, true), `${op} ${a}, ${b}`).toBe(expected);
      });
    });
  }
});

describe('immediates, shifts and loads', () => {
  it('sign-extends loads and zero-extends the unsigned ones', () => {
    const h = runSnippet(`
  li t0, ${BUF}
  li t1, 0x80ff7f01
  sw t1, 0(t0)
  lb a0, 3(t0)
  lbu a1, 3(t0)
  lh a2, 2(t0)
  lhu a3, 2(t0)
  lb a4, 1(t0)
  lw a5, 0(t0)
  lh a6, 1(t0)
  lw a7, 1(t0)`);
    expect([...h.x.slice(10, 18)]).toEqual([-128, 0x80, 0x80ff - 0x10000, 0x80ff, 0x7f, 0x80ff7f01 | 0, 0xff7f - 0x10000, 0x0080ff7f]);
  });

  it('computes lui, auipc, jal and jalr link values', () => {
    const h = runSnippet(`
  .option norvc
  lui a0, 0xfffff
  auipc a1, 1
  jal a2, 1f
1:
  la t0, 2f
  jalr a3, 1(t0)
2:
  nop`);
    expect(h.x[10]).toBe(0xfffff000 | 0);
    expect(h.x[11] >>> 0).toBe(BASE + 4 + 0x1000);
    expect(h.x[12] >>> 0).toBe(BASE + 12);
    // la is auipc+addi (8 bytes), jalr follows it and clears bit 0 of the target.
    expect(h.x[13] >>> 0).toBe(BASE + 24);
  });

  it('discards writes to x0', () => {
    const h = runSnippet(`
  li t0, 5
  add zero, t0, t0
  addi x0, x0, 1
  mv a0, zero`);
    expect(h.x[0]).toBe(0);
    expect(h.x[10]).toBe(0);
  });

  it('raises illegal instruction with the instruction bits in mtval for M ops when M is off', () => {
    const h = runSnippet(`
  la t0, 1f
  csrw mtvec, t0
  mul a0, a1, a2
  j done
.align 2
1:
  csrr a0, mcause
  csrr a1, mtval
  csrr a2, mepc`, { features: { m: false } });
    expect(h.x[10]).toBe(2);
    expect(h.x[11] >>> 0).toBe(0x02c58533);
  });
});
