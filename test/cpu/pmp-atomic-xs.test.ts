import { describe, expect, it } from 'vitest';
import { runSnippet } from '../support/bare-hart';

const HANDLER = `
  la t0, mtrap
  csrw mtvec, t0
  j 9f
.align 2
mtrap:
  csrr s2, mcause
  csrr s3, mtval
  j done
9:
`;

function toS(): string {
  return `
  li t0, ${3 << 11}
  csrc mstatus, t0
  li t0, ${1 << 11}
  csrs mstatus, t0
  la t0, lower
  csrw mepc, t0
  mret
.align 2
lower:
`;
}

const NAPOT_ALL = `
  li t0, -1
  csrw pmpaddr1, t0
  li t0, ${(0x1f << 8) >>> 0}
  csrs pmpcfg0, t0
`;

describe('PMP (privileged spec §3.7, QEMU 7.2 defaults)', () => {
  it('makes an mret into S-mode an illegal instruction when no PMP entry is programmed (QEMU 7.2 helper_mret)', () => {
    const h = runSnippet(`${HANDLER}${toS()}
  li s2, 99`, { features: { pmp: true } });
    expect(h.x[18]).toBe(2);
    expect(h.x[19] >>> 0).toBe(0x30200073);
  });

  it('lets S-mode run under a NAPOT entry covering everything', () => {
    const h = runSnippet(`${HANDLER}${NAPOT_ALL}${toS()}
  li s2, 99`, { features: { pmp: true } });
    expect(h.x[18]).toBe(99);
  });

  it('applies a TOR read-only region before the catch-all entry to S-mode stores', () => {
    const h = runSnippet(`${HANDLER}
  li t0, ${0x80080000 >>> 2}
  csrw pmpaddr0, t0
  li t0, -1
  csrw pmpaddr2, t0
  li t0, ${0x80090000 >>> 2}
  csrw pmpaddr1, t0
  li t0, ${((0x1f << 16) | (0x09 << 8)) >>> 0}
  csrw pmpcfg0, t0
${toS()}
  li t1, 0x80085000
  lw a0, 0(t1)
  sw a0, 0(t1)
  li s2, 99`, { features: { pmp: true } });
    expect(h.x[18]).toBe(7);
    expect(h.x[19] >>> 0).toBe(0x80085000);
  });

  it('holds M-mode to locked entries only', () => {
    const unlocked = runSnippet(`${HANDLER}
  li t0, ${0x80080000 >>> 2 | 0x3ff}
  csrw pmpaddr0, t0
  li t0, 0x19
  csrw pmpcfg0, t0
  li t1, 0x80080010
  sw t1, 0(t1)
  li s2, 99`, { features: { pmp: true } });
    expect(unlocked.x[18]).toBe(99);
    const locked = runSnippet(`${HANDLER}
  li t0, ${0x80080000 >>> 2 | 0x3ff}
  csrw pmpaddr0, t0
  li t0, 0x99
  csrw pmpcfg0, t0
  li t0, 0
  csrw pmpcfg0, t0
  li t1, 0x80080010
  sw t1, 0(t1)
  li s2, 99`, { features: { pmp: true } });
    expect(locked.x[18]).toBe(7);
  });

  it('fails an access that straddles an entry boundary inside a page', () => {
    const h = runSnippet(`${HANDLER}
  li t0, ${0x80080800 >>> 2}
  csrw pmpaddr0, t0
  li t0, -1
  csrw pmpaddr1, t0
  li t0, ${((0x1f << 8) | 0x0f) >>> 0}
  csrw pmpcfg0, t0
${toS()}
  li t1, 0x800807fe
  lw a0, 0(t1)
  li s2, 99`, { features: { pmp: true } });
    expect(h.x[18]).toBe(5);
    expect(h.x[19] >>> 0).toBe(0x800807fe);
  });
});

describe('A extension (unprivileged spec ch. 8)', () => {
  it('succeeds SC after LR and fails it without a reservation', () => {
    const h = runSnippet(`
  li t0, 0x80080000
  li t1, 41
  sw t1, 0(t0)
  lr.w a0, (t0)
  addi a0, a0, 1
  sc.w a1, a0, (t0)
  lw a2, 0(t0)
  sc.w a3, a0, (t0)`);
    expect([h.x[10], h.x[11], h.x[12], h.x[13]]).toEqual([42, 0, 42, 1]);
  });

  it('computes every AMO and returns the old value', () => {
    const ops = ['amoswap.w', 'amoadd.w', 'amoxor.w', 'amoand.w', 'amoor.w', 'amomin.w', 'amomax.w', 'amominu.w', 'amomaxu.w'];
    const ref = [
      (_a: number, b: number) => b, (a: number, b: number) => (a + b) | 0, (a: number, b: number) => a ^ b, (a: number, b: number) => a & b,
      (a: number, b: number) => a | b, Math.min, Math.max,
      (a: number, b: number) => ((a >>> 0) < (b >>> 0) ? a : b), (a: number, b: number) => ((a >>> 0) > (b >>> 0) ? a : b),
    ];
    const mem = -5;
    const src = 7;
    const lines = ops.map((op, i) => `  li t1, ${mem}\n  sw t1, ${4 * i}(t0)\n  li t2, ${src}\n  addi t3, t0, ${4 * i}\n  ${op}.aqrl a${i % 8}, t2, (t3)\n  sw a${i % 8}, ${256 + 4 * i}(t0)`).join('\n');
    const h = runSnippet(`  li t0, 0x80080000\n${lines}`);
    const view = new DataView(h.bus.ram.buffer);
    ops.forEach((op, i) => {
      expect(view.getInt32(0x80000 + 4 * i, true), op).toBe(ref[i](mem, src) | 0);
      expect(view.getInt32(0x80000 + 256 + 4 * i, true), `${op} old`).toBe(mem);
    });
  });

  it('raises store/AMO address misaligned for a misaligned AMO and load misaligned for LR', () => {
    expect(runSnippet(`${HANDLER}
  li t0, 0x80080002
  amoadd.w a0, a0, (t0)`).x[18]).toBe(6);
    expect(runSnippet(`${HANDLER}
  li t0, 0x80080002
  lr.w a0, (t0)`).x[18]).toBe(4);
  });
});

describe('misaligned accesses', () => {
  it('completes misaligned loads and stores in RAM', () => {
    const h = runSnippet(`
  li t0, 0x80080001
  li t1, 0x12345678
  sw t1, 0(t0)
  lw a0, 0(t0)
  lhu a1, 1(t0)`);
    expect(h.x[10]).toBe(0x12345678);
    expect(h.x[11]).toBe(0x3456);
    expect(new DataView(h.bus.ram.buffer).getUint32(0x80000, true)).toBe(0x34567800);
  });
});

describe('Xsensitive (docs/reference.md)', () => {
  const xs = { features: { xsensitive: true } };

  it('is illegal when the extension is off', () => {
    const h = runSnippet(`${HANDLER}
  .insn i 0x0b, 0, a0, zero, 0`);
    expect(h.x[18]).toBe(2);
    expect(h.x[19] >>> 0).toBe(0x0000050b);
  });

  it('reads the current privilege with rdpriv (M = 3, S = 1, U = 0)', () => {
    const h = runSnippet(`${HANDLER}
  .insn i 0x0b, 0, a0, zero, 0
${toS()}
  .insn i 0x0b, 0, a1, zero, 0
  la t0, 1f
  .insn i 0x0b, 2, zero, t0, 0
1:
  .insn i 0x0b, 0, a2, zero, 0`, xs);
    expect([h.x[10], h.x[11], h.x[12]]).toEqual([3, 1, 0]);
    expect(h.priv).toBe(0);
  });

  it('ignores setsie in U-mode and sets SIE in S-mode', () => {
    const h = runSnippet(`
  li t1, 1
${toS()}
  .insn i 0x0b, 1, zero, t1, 0
  csrr a0, sstatus
  la t0, 1f
  .insn i 0x0b, 2, zero, t0, 0
1:
  li t1, 0
  .insn i 0x0b, 1, zero, t1, 0`, xs);
    expect(h.x[10] & 2).toBe(2);
    expect(h.mstatus & 2).toBe(2);
  });
});

