// The assembler benchmark: a generated 20,000-line file in under one second.

import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { benchmarkAssembler } from '../../src/engine/asm/index';

describe('assembler speed', () => {
  it('assembles 20,000 lines in under a second', () => {
    benchmarkAssembler(2000, () => performance.now());
    const r = benchmarkAssembler(20000, () => performance.now());
    console.log(`assembler: ${r.lines} lines in ${r.seconds.toFixed(3)} s = ${r.linesPerSecond} lines/s`);
    expect(r.lines).toBeGreaterThanOrEqual(19990);
    expect(r.seconds).toBeLessThan(1);
  });
});
