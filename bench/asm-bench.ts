// The assembler's figure for `npm run bench`: assembles the generated 20,000-line file (target: under
// one second) after a warm-up. `tsx bench/asm-bench.ts` prints it alone.

import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { benchmarkAssembler, type AsmBenchResult } from '../src/engine/asm/bench';

/** Lines in the benchmark's generated source. */
export const ASM_BENCH_LINES = 20_000;

/** Assembles the generated file once warm; returns the measurement. */
export function measureAssembler(lines = ASM_BENCH_LINES): AsmBenchResult {
  benchmarkAssembler(2000, () => performance.now());
  return benchmarkAssembler(lines, () => performance.now());
}

/** One line stating lines per second and seconds for the generated file. */
export function assemblerFigure(r: AsmBenchResult = measureAssembler()): string {
  return `assembler: ${r.lines.toLocaleString('en-US')} lines in ${r.seconds.toFixed(3)} s = ${r.linesPerSecond.toLocaleString('en-US')} lines/s (${r.bytes.toLocaleString('en-US')} bytes of ELF)`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(assemblerFigure());
