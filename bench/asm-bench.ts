// `tsx bench/asm-bench.ts`: assembles the generated 20,000-line file and prints lines per second
// (target: under one second for the file).

import { performance } from 'node:perf_hooks';
import { benchmarkAssembler } from '../src/engine/asm/bench';

benchmarkAssembler(2000, () => performance.now());
const r = benchmarkAssembler(20000, () => performance.now());
console.log(`assembler: ${r.lines} lines in ${r.seconds.toFixed(3)} s = ${r.linesPerSecond} lines/s (${r.bytes} bytes of ELF)`);
