// Assembler benchmark: a generated program of realistic instruction mix (ALU, loads/stores,
// branches to local labels, calls, li/la, data) assembled once; reports lines per second.

import { assemble } from './assemble';

/** A generated source of `lines` lines. */
export function benchmarkSource(lines: number): string {
  const out: string[] = ['.text', '.globl _start', '_start:'];
  const body = [
    'addi a0, a0, 1', 'add a1, a1, a0', 'lw t0, 8(sp)', 'sw t0, 12(sp)', 'beqz a0, 1f', 'li t1, 0x12345678', 'slli t2, t1, 3',
    'and a2, a2, a3', 'la a4, table', 'call helper', 'bne a0, a1, 1b', 'csrr a5, mstatus', 'mv s0, a0', 'xori a6, a6, -1', 'j 1f',
  ];
  for (let i = 0; out.length < lines - 8; i++) {
    if (i % 8 === 0) out.push('1:');
    out.push(body[i % body.length]);
  }
  out.push('1: nop', 'helper: ret', '.data', 'table: .word 1, 2, 3, 4', '.rodata', 'msg: .asciz "benchmark"');
  return out.join('\n') + '\n';
}

/** Result of one benchmark run. */
export interface AsmBenchResult {
  readonly lines: number;
  readonly seconds: number;
  readonly linesPerSecond: number;
  readonly bytes: number;
}

/** Assembles a generated `lines`-line file and measures it with `now` (milliseconds). */
export function benchmarkAssembler(lines = 20000, now: () => number = () => Date.now()): AsmBenchResult {
  const src = benchmarkSource(lines);
  const t0 = now();
  const r = assemble(src, { file: 'bench.S' });
  const seconds = Math.max(1e-6, (now() - t0) / 1000);
  if (!r.elf) throw new Error(`benchmark source failed to assemble: ${r.diagnostics[0]?.message}`);
  const n = src.split('\n').length - 1;
  return { lines: n, seconds, linesPerSecond: Math.round(n / seconds), bytes: r.elf.length };
}
