// Byte-for-byte comparison of vmlab's output with GNU's for the same source.

import { assemble } from '../../src/engine/asm/index';
import { readElf } from '../../src/engine/asm/elf-reader';
import { gnuBuild, sectionBytes, type GnuResult } from './oracle';

/** Outcome of one comparison. */
export interface Comparison {
  readonly ok: boolean;
  readonly report: string;
  /** Source lines and instructions (line-map rows) covered. */
  readonly lines: number;
  readonly insns: number;
  readonly gnu: GnuResult;
  readonly elf?: Uint8Array;
}

/** Assembles `mine` with vmlab and `gnu` with GNU binutils; compares every allocated section. */
export function compareWithGnu(mine: string, gnu: string = mine, base = 0x80000000): Comparison {
  const r = assemble(mine, { file: 'in.S', base });
  const g = gnuBuild(gnu, base);
  const lines = mine.split('\n').length;
  const insns = r.lineMap.length;
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.elf || errors.length) {
    return { ok: false, report: `vmlab reported:\n${errors.slice(0, 20).map((d) => `${d.line}:${d.column}: ${d.message}  | ${mine.split('\n')[d.line - 1]}`).join('\n')}`, lines, insns, gnu: g };
  }
  const ours = sectionBytes(readElf(r.elf)!);
  const theirs = sectionBytes(g.parsed);
  const problems: string[] = [];
  const srcLines = mine.split('\n');
  for (const name of new Set([...ours.keys(), ...theirs.keys()])) {
    const a = ours.get(name);
    const b = theirs.get(name);
    if (!a || !b) {
      problems.push(`section ${name}: only in ${a ? 'vmlab' : 'GNU'}`);
      continue;
    }
    if (a.addr !== b.addr) problems.push(`section ${name}: vmlab at 0x${a.addr.toString(16)}, GNU at 0x${b.addr.toString(16)}`);
    const n = Math.max(a.bytes.length, b.bytes.length);
    for (let i = 0; i < n; i++) {
      if (a.bytes[i] === b.bytes[i]) continue;
      const addr = a.addr + i;
      const row = [...r.lineMap].reverse().find((m) => m.address <= addr);
      const hexAt = (x: Uint8Array): string => Array.from(x.slice(i & ~3, (i & ~3) + 8), (v) => v.toString(16).padStart(2, '0')).join(' ');
      problems.push(`section ${name} differs at 0x${addr.toString(16)} (sizes ${a.bytes.length} vs ${b.bytes.length}); nearest line ${row?.line}: '${row ? srcLines[row.line - 1] : ''}'\n  vmlab: ${hexAt(a.bytes)}\n  GNU:   ${hexAt(b.bytes)}`);
      break;
    }
  }
  return { ok: problems.length === 0, report: problems.join('\n'), lines, insns, gnu: g, elf: r.elf };
}
