// A write to mstatus/sstatus ends the interpreter's slice (a trip back to the run loop, which checks
// interrupts) only when it can make a pending interrupt deliverable: MIE or SIE rising while one is
// pending. xv6 clears SIE around every spinlock, mostly while it is already clear; ending the slice
// each time made its lock-heavy file system tests (usertests bigdir) slow, above all in hw mode.
// The guest-visible side (the interrupt is taken right after the write that enables it, never at a
// clear) is compared with QEMU in test/guests/asm/sie-toggle.S.
import { describe, expect, it } from 'vitest';
import { execute } from '../../src/engine/cpu/interp';
import { Hart } from '../../src/engine/cpu/hart';
import { Bus } from '../../src/engine/machine/bus';
import { BASE } from '../support/bare-hart';
import { gnuAssemble, gnuSymbols } from '../support/gnu-as';

/** Loads `source` (which defines `done`) on a fresh hart; returns it and the labels. */
function load(source: string): { hart: Hart; labels: Map<string, number> } {
  const program = `.globl _start\n.text\n_start:\n${source}\ndone:\n  j done\n`;
  const bus = new Bus(BASE, 1 << 20);
  bus.ram.set(gnuAssemble(program));
  const hart = new Hart(bus, { pmp: false });
  hart.reset(BASE);
  return { hart, labels: gnuSymbols(program) };
}

/** Runs one slice of at most `limit` steps, as Machine.run does. */
function slice(h: Hart, limit: number): void {
  h.sliceDone = 0;
  h.sliceSteps = 0;
  execute(h, limit);
  h.instret += h.sliceDone;
  h.steps += h.sliceSteps;
}

const TOGGLE_LOOP = `
  li s0, 1000
1:
  csrci mstatus, 8
  csrsi mstatus, 8
  csrci mstatus, 8
  csrci sstatus, 2
  csrsi sstatus, 2
  csrci sstatus, 2
  addi s0, s0, -1
  bnez s0, 1b
`;

describe('mstatus writes and the slice', () => {
  it('clearing or setting MIE/SIE with no interrupt pending keeps the slice running', () => {
    const { hart, labels } = load(TOGGLE_LOOP);
    let slices = 0;
    while (hart.pcU !== labels.get('done') && slices < 10_000) {
      slice(hart, 1_000_000);
      slices++;
    }
    expect(hart.pcU).toBe(labels.get('done'));
    expect(hart.x[8]).toBe(0);
    // The decode cache and the block translator may split the loop a few times; 6,000 writes did
    // not each end a slice.
    expect(slices).toBeLessThan(20);
  });

  it('setting MIE with an interrupt pending ends the slice right after the write', () => {
    const { hart, labels } = load(`
  li t0, 2
  csrs mie, t0
  csrs mip, t0
  csrci mstatus, 8
  csrci mstatus, 8
  csrsi mstatus, 8
after:
  nop
  nop
`);
    // Writes to mie and mip end their slices; then the two clears run on and the set ends it.
    while (hart.pendingInterrupt() < 0 && hart.steps < 100) slice(hart, 1_000_000);
    expect(hart.pcU).toBe(labels.get('after'));
    expect(hart.pendingInterrupt()).toBe(1);
  });

  it('setting SIE in S-mode with a delegated interrupt pending ends the slice right after the write', () => {
    const { hart, labels } = load(`
  li t0, 2
  csrw mideleg, t0
  csrs mie, t0
  csrs mip, t0
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0
  la t0, in_s
  csrw mepc, t0
  mret
in_s:
  csrci sstatus, 2
  csrsi sstatus, 2
after:
  nop
`);
    while (hart.pendingInterrupt() < 0 && hart.steps < 100) slice(hart, 1_000_000);
    expect(hart.pcU).toBe(labels.get('after'));
    expect(hart.priv).toBe(1);
    expect(hart.pendingInterrupt()).toBe(1);
  });
});
