import { describe, expect, it } from 'vitest';
import { BASE, runSnippet } from '../support/bare-hart';

/** Installs an M-mode handler that records mcause, mtval, mepc in s2, s3, s4 and stops. */
const M_HANDLER = `
  la t0, mtrap
  csrw mtvec, t0
  j 9f
.align 2
mtrap:
  csrr s2, mcause
  csrr s3, mtval
  csrr s4, mepc
  j done
9:
`;

/** Enters privilege `mpp` (0 = U, 1 = S) at label `lower` through mret. */
function enter(mpp: number): string {
  return `
  li t0, ${3 << 11}
  csrc mstatus, t0
  li t0, ${mpp << 11}
  csrs mstatus, t0
  la t0, lower
  csrw mepc, t0
  mret
.align 2
lower:
`;
}

const illegalBits = (h: { x: Int32Array }): number => h.x[19] >>> 0;

describe('CSR access rules (privileged spec §2.1)', () => {
  it('rejects writes to read-only CSRs with the instruction bits in mtval', () => {
    const h = runSnippet(`${M_HANDLER}
  .option norvc
  csrw mhartid, t0`);
    expect(h.x[18]).toBe(2);
    expect(illegalBits(h)).toBe(0xf1429073);
  });

  it('allows csrrs/csrrc with x0 on read-only CSRs (no write happens)', () => {
    const h = runSnippet(`${M_HANDLER}
  li s2, 77
  csrrs a0, mhartid, x0
  csrrc a1, mvendorid, x0
  csrrsi a2, mimpid, 0`);
    expect(h.x[18]).toBe(77);
  });

  it('rejects M-mode CSRs from S-mode and S-mode CSRs from U-mode', () => {
    const s = runSnippet(`${M_HANDLER}${enter(1)}
  csrr a0, sscratch
  csrr a0, mscratch`);
    expect(s.x[18]).toBe(2);
    expect(illegalBits(s)).toBe(0x34002573);
    const u = runSnippet(`${M_HANDLER}${enter(0)}
  csrr a0, sstatus`);
    expect(u.x[18]).toBe(2);
  });

  it('gates counters below M-mode by mcounteren and scounteren (§3.1.11)', () => {
    const denied = runSnippet(`${M_HANDLER}${enter(1)}
  rdcycle a0`);
    expect(denied.x[18]).toBe(2);
    const sOk = runSnippet(`${M_HANDLER}
  li t0, 7
  csrw mcounteren, t0
${enter(1)}
  rdinstret a0
  rdtime a1
  li s2, 99`);
    expect(sOk.x[18]).toBe(99);
    const uDenied = runSnippet(`${M_HANDLER}
  li t0, 7
  csrw mcounteren, t0
${enter(0)}
  rdcycle a0`);
    expect(uDenied.x[18]).toBe(2);
  });

  it('shows sstatus, sie and sip as restricted views of the machine registers', () => {
    const h = runSnippet(`
  li t0, 0xffffffff
  csrw sstatus, t0
  csrr a0, mstatus
  csrr a1, sstatus
  li t0, 0x222
  csrw mideleg, t0
  li t0, 0xaaa
  csrw mie, t0
  csrr a2, sie
  li t0, 0x2
  csrw sip, t0
  csrr a3, mip
  csrw mie, zero
  li t0, 0x2
  csrs sie, t0
  csrr a4, mie`);
    // SIE, SPIE, SPP, SUM, MXR are writable through sstatus; MIE/MPIE/MPP are not.
    expect(h.x[10] >>> 0).toBe((1 << 1) | (1 << 5) | (1 << 8) | (1 << 18) | (1 << 19));
    expect(h.x[11] >>> 0).toBe(h.x[10] >>> 0);
    expect(h.x[12] >>> 0).toBe(0x222);
    expect(h.x[13] & 2).toBe(2);
    expect(h.x[14] >>> 0).toBe(0x2);
  });

  it('keeps MPP legal, clears mepc bit 0, and ignores reserved mtvec modes', () => {
    const h = runSnippet(`
  li t0, ${3 << 11}
  csrs mstatus, t0
  li t0, ${1 << 11}
  csrc mstatus, t0
  csrr a0, mstatus
  li t0, 0x80000003
  csrw mepc, t0
  csrr a1, mepc
  li t0, 0x80000100
  csrw mtvec, t0
  li t0, 0x80000202
  csrw mtvec, t0
  csrr a2, mtvec`);
    expect((h.x[10] >>> 11) & 3).toBe(3);
    expect(h.x[11] >>> 0).toBe(0x80000002);
    expect(h.x[12] >>> 0).toBe(0x80000100);
  });
});

describe('traps and delegation (§3.1.8, §3.3)', () => {
  it('takes ecall from U-mode to S-mode when delegated, recording SPP and sepc', () => {
    const h = runSnippet(`${M_HANDLER}
  li t0, 1 << 8
  csrw medeleg, t0
  la t0, strap
  csrw stvec, t0
${enter(0)}
  li a0, 1
ucall:
  ecall
.align 2
strap:
  csrr s5, scause
  csrr s6, sepc
  csrr s7, sstatus
  j done`);
    expect(h.x[21]).toBe(8);
    expect(h.priv).toBe(1);
    expect((h.x[23] >>> 8) & 1).toBe(0);
    expect(h.x[22] >>> 0).toBeGreaterThan(BASE);
  });

  it('takes ecall from S-mode to M-mode when not delegated, with MPP = S', () => {
    const h = runSnippet(`${M_HANDLER}${enter(1)}
  ecall`);
    expect(h.x[18]).toBe(9);
    expect(h.priv).toBe(3);
    expect((h.mstatus >>> 11) & 3).toBe(1);
  });

  it('raises illegal instruction for sret in U-mode, sret with TSR, and wfi in U-mode', () => {
    const u = runSnippet(`${M_HANDLER}${enter(0)}
  sret`);
    expect(u.x[18]).toBe(2);
    expect(illegalBits(u)).toBe(0x10200073);
    const tsr = runSnippet(`${M_HANDLER}
  li t0, 1 << 22
  csrs mstatus, t0
${enter(1)}
  sret`);
    expect(tsr.x[18]).toBe(2);
    const wfi = runSnippet(`${M_HANDLER}${enter(0)}
  wfi`);
    expect(wfi.x[18]).toBe(2);
  });

  it('mret restores MIE from MPIE, sets MPIE, and clears MPRV when leaving M-mode', () => {
    const h = runSnippet(`${M_HANDLER}
  li t0, (1 << 7) | (1 << 17)
  csrs mstatus, t0
${enter(1)}
  ecall`);
    // After mret to S then ecall to M: MPIE holds the MIE that mret restored (1).
    expect((h.mstatus >>> 7) & 1).toBe(1);
    expect((h.mstatus >>> 17) & 1).toBe(0);
  });

  it('delivers a software interrupt to the vectored entry mtvec + 4 * cause', () => {
    const h = runSnippet(`
  la t0, vec
  ori t0, t0, 1
  csrw mtvec, t0
  li t0, 1 << 1
  csrw mie, t0
  csrsi mstatus, 8
  csrsi mip, 2
  nop
  j done
.option norvc
.align 6
vec:
  j done
  j ssi
  j done
.align 2
ssi:
  csrr s2, mcause
  j done`);
    expect(h.x[18] >>> 0).toBe(0x80000001);
  });
});
