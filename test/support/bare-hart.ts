import { execute } from '../../src/engine/cpu/interp';
import { Hart, type CpuFeatures } from '../../src/engine/cpu/hart';
import { Bus } from '../../src/engine/machine/bus';
import { gnuAssemble, gnuSymbols } from './gnu-as';

/** RAM base of the test hart. */
export const BASE = 0x80000000;

/**
 * Runs a snippet on a hart with 1 MiB of RAM (or `ramSize`) and no devices until it reaches the label `done`
 * (which the snippet must define) or `maxSteps` pass. Returns the hart.
 */
export function runSnippet(source: string, options: { features?: Partial<CpuFeatures>; maxSteps?: number; ramSize?: number; setup?: (h: Hart) => void } = {}): Hart {
  const program = `.globl _start\n.text\n_start:\n${source}\ndone:\n  j done\n`;
  const image = gnuAssemble(program);
  const bus = new Bus(BASE, options.ramSize ?? 1 << 20);
  bus.ram.set(image);
  const hart = new Hart(bus, { pmp: false, ...options.features });
  hart.reset(BASE);
  options.setup?.(hart);
  const doneAddr = gnuSymbols(program).get('done')!;
  let budget = options.maxSteps ?? 100_000;
  while (budget > 0 && hart.pcU !== doneAddr) {
    const irq = hart.pendingInterrupt();
    if (irq >= 0) hart.takeInterrupt(irq);
    hart.sliceDone = 0;
    hart.sliceSteps = 0;
    execute(hart, 1);
    hart.instret += hart.sliceDone;
    hart.steps += hart.sliceSteps;
    budget--;
  }
  if (hart.pcU !== doneAddr) throw new Error(`snippet did not reach done (pc=0x${hart.pcU.toString(16)})`);
  return hart;
}

