// CSR accesses and atomics that cannot trap run without slowInstruction (interp.ts, rareInLoop):
// the results of LR, SC and every AMO on words past 2^31, and an AMO that rewrites an instruction
// the decode cache holds (the decode-cache epoch goes on across these, so the store must clear the
// slot's stamp as the inner loop's stores do; without that the third pass below adds 1, not 100).
import { describe, expect, it } from 'vitest';
import { execute } from '../../src/engine/cpu/interp';
import { Hart } from '../../src/engine/cpu/hart';
import { Bus } from '../../src/engine/machine/bus';
import { BASE } from '../support/bare-hart';
import { gnuAssemble, gnuSymbols } from '../support/gnu-as';

const PROGRAM = `
.option norvc
.globl _start
.text
_start:
  la a0, word
  li t0, 0x80000001
  li a1, 0x7ffffff0
  li a2, -77
  sw t0, 0(a0)
  lr.w t1, (a0)
  sc.w t2, a1, (a0)
  sc.w t3, t0, (a0)
  lr.w t4, (a0)
  sw t0, 0(a0)
  sc.w t5, a1, (a0)
  amoadd.w s1, a2, (a0)
  amominu.w s2, t0, (a0)
  amomaxu.w s3, t0, (a0)
  amomin.w s4, a1, (a0)
  amomax.w s5, a1, (a0)
  amoxor.w s6, t0, (a0)
  amoand.w s7, a1, (a0)
  amoor.w s8, t0, (a0)
  amoswap.w s9, a2, (a0)
  lw s10, 0(a0)
  csrrci a6, mstatus, 8
  csrrs a7, mscratch, zero
  li s11, 0
  li a3, 3
  li gp, 2
  la a4, patch
  la a5, newinsn
  lw a5, 0(a5)
  # A store into the code's page first, so that the TLB maps it writable for the amoswap.
  la t6, scratch
  sw zero, 0(t6)
patch:
  addi s11, s11, 1
  bne a3, gp, 1f
  amoswap.w zero, a5, (a4)
  fence.i
1:
  addi a3, a3, -1
  bnez a3, patch
done:
  j done
newinsn:
  addi s11, s11, 100
scratch:
  .word 0
.balign 4096
word:
  .word 0
`;

describe('CSR accesses and atomics outside slowInstruction', () => {
  for (const jit of [false, true]) {
    it(`give the results the spec gives, and an AMO into code runs the new instruction (${jit ? 'translator' : 'interpreter'})`, () => {
      const bus = new Bus(BASE, 1 << 20);
      bus.ram.set(gnuAssemble(PROGRAM));
      const labels = gnuSymbols(PROGRAM);
      const h = new Hart(bus, { pmp: false, jit });
      h.reset(BASE);
      h.mscratch = 0x89abcdef;
      h.writeMstatus(h.mstatus | 8);
      const mstatus = h.readMstatus();
      h.sliceDone = 0;
      h.sliceSteps = 0;
      execute(h, 10_000);
      expect(h.pcU).toBe(labels.get('done'));
      const r = (n: number): number => h.x[n] >>> 0;
      // t1..t5: LR's word, SC's success, SC without a reservation, LR's word, SC on a changed word.
      expect([r(6), r(7), r(28), r(29), r(30)]).toEqual([0x80000001, 0, 1, 0x7ffffff0, 1]);
      // s1..s9 hold each AMO's old word; s10 the last word (-77).
      expect([r(9), r(18), r(19), r(20), r(21), r(22), r(23), r(24), r(25), r(26)]).toEqual([
        0x80000001, 0x7fffffb4, 0x7fffffb4, 0x80000001, 0x80000001, 0x7ffffff0, 0xfffffff1, 0x7ffffff0, 0xfffffff1, 0xffffffb3,
      ]);
      // a6: mstatus with MIE, which the csrrci cleared.
      expect(r(16)).toBe(mstatus);
      expect(h.mstatus & 8).toBe(0);
      expect(r(17)).toBe(0x89abcdef);
      // The first two passes added 1 (the second from a decode-cache slot stamped in the running
      // epoch), the third ran the instruction the second's amoswap wrote: 100.
      expect(r(27)).toBe(102);
      // Every instruction retired, none trapped.
      expect(h.sliceDone).toBe(h.sliceSteps);
      expect(h.trapCounts.reduce((a, b) => a + b, 0)).toBe(0);
    });
  }
});
