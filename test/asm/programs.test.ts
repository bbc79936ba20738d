// Hand-written, realistic guest programs (UART driver, trap handler, Sv32 page-table setup):
// bytes identical to GNU as + ld, and gdb-multiarch reads vmlab's DWARF line table.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { requireTool } from '../support/tools';
import { compareWithGnu } from './compare';

const PROGRAMS = ['uart.S', 'trap.S', 'pagetable.S'];
const source = (name: string): string => readFileSync(join(__dirname, 'programs', name), 'utf8');

describe('realistic programs against GNU as', () => {
  for (const name of PROGRAMS) {
    it(`${name} assembles to GNU's bytes`, () => {
      const c = compareWithGnu(source(name));
      c.gnu.cleanup();
      expect(c.report).toBe('');
      expect(c.insns).toBeGreaterThan(20);
    });
  }
});

describe('DWARF line table read by gdb-multiarch', () => {
  it('maps addresses to file:line with info line and list', () => {
    requireTool('gdb-multiarch', 'gdb-multiarch');
    const src = source('uart.S');
    const r = assemble(src, { file: 'uart.S' });
    expect(r.elf).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'vmlab-gdb-'));
    try {
      writeFileSync(join(dir, 'uart.S'), src);
      writeFileSync(join(dir, 'uart.elf'), r.elf!);
      const probe = r.lineMap.filter((m) => m.line > 20).slice(0, 3);
      const args = ['-batch', '-nx', ...probe.flatMap((m) => ['-ex', `info line *0x${m.address.toString(16)}`]), '-ex', `list *0x${probe[0].address.toString(16)}`, 'uart.elf'];
      const out = execFileSync('gdb-multiarch', args, { cwd: dir }).toString();
      for (const m of probe) expect(out).toContain(`Line ${m.line} of "uart.S" starts at address 0x${m.address.toString(16)}`);
      expect(out).toContain(src.split('\n')[probe[0].line - 1].trim());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('line map agrees with GNU as -g line info on the same program', () => {
    const r = assemble(source('trap.S'), { file: 'trap.S' });
    const lines = new Set(r.lineMap.map((m) => m.line));
    // Every instruction line of the handler appears; .irp bodies map to their own lines.
    expect(lines.has(source('trap.S').split('\n').findIndex((l) => l.includes('csrr    a0, mcause')) + 1)).toBe(true);
    expect(r.lineMap.every((m, i, a) => i === 0 || a[i - 1].address < m.address)).toBe(true);
  });
});
