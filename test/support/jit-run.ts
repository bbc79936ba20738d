// Running a translator test program to its exit in slices, for the tests that compare the block
// translator with the interpreter (registers, pc, instructions, steps and TLB hits must agree).
import { expect } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';

/** The end of a test program: the SiFive test finisher's pass (0x5555). */
export const FINISHER_EXIT = `
  li    t0, 0x100000
  li    t1, 0x5555
  sw    t1, 0(t0)
1: j 1b
`;

/** What a run of a test program ends with. */
export interface SlicedRun {
  regs: number[];
  pc: number;
  instret: number;
  steps: number;
  /** Loads and stores the TLB served without the slow path. */
  hits: number;
  m: Machine;
}

/**
 * Assembles `source` and runs it in slices of `slice` steps, with or without the translator, until
 * it exits (within `budget` steps).
 */
export function runSliced(source: string, file: string, jit: boolean, slice: number, budget = 20_000_000): SlicedRun {
  const r = assemble(source, { file });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = new Machine({ cpu: { jit } });
  m.loadKernel(r.elf);
  let reason = StopReason.BUDGET;
  for (let i = 0; i < budget / slice && reason === StopReason.BUDGET; i++) reason = m.run(slice);
  expect(reason).toBe(StopReason.EXIT);
  return { regs: Array.from(m.hart.x), pc: m.hart.pc, instret: m.hart.instret, steps: m.clockSteps, hits: m.hart.tlb.hits, m };
}

/**
 * The machine-mode start of an S-mode test program with Sv32: traps go to `mtrap`, PMP lets
 * everything through, and the root table at `root` maps virtual 0x80000000's 4 MiB to themselves
 * (read, write, execute), virtual 0's 4 MiB (the test finisher) read-write, and virtual
 * 0x40000000's 4 MiB through the level-0 table at label `l0`; s1 holds root's address. `extra` runs
 * before paging is turned on (more entries); the program goes on at `smain` in S-mode, SUM set.
 */
export function sv32Start(l0: string, extra = ''): string {
  return `
  la    t0, mtrap
  csrw  mtvec, t0
  li    t0, -1
  csrw  pmpaddr0, t0
  li    t0, 0x1f
  csrw  pmpcfg0, t0
  la    s1, root
  li    t0, (0x80000 << 10) | 0xcf
  li    t1, 0x200 * 4
  add   t1, s1, t1
  sw    t0, 0(t1)
  la    t0, ${l0}
  srli  t0, t0, 12
  slli  t0, t0, 10
  ori   t0, t0, 1
  li    t1, 0x100 * 4
  add   t1, s1, t1
  sw    t0, 0(t1)
  li    t0, 0xc7
  sw    t0, 0(s1)
${extra}
  srli  t0, s1, 12
  li    t1, 0x80000000
  or    t0, t0, t1
  csrw  satp, t0
  sfence.vma
  li    t0, (1 << 11) | (1 << 18)
  csrs  mstatus, t0
  la    t0, smain
  csrw  mepc, t0
  mret
`;
}

/** Runs `m` from breakpoint to breakpoint until it stops for another reason: each stop's pc and instructions retired, and that reason. */
export function breakpointStops(m: Machine): { pcs: number[]; instret: number[]; reason: StopReason } {
  const pcs: number[] = [];
  const instret: number[] = [];
  let reason = m.run(10_000_000);
  while (reason === StopReason.BREAKPOINT) {
    pcs.push(m.hart.pcU);
    instret.push(m.hart.instret);
    reason = m.run(10_000_000);
  }
  return { pcs, instret, reason };
}
