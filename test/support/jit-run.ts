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
