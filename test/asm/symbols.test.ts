// `.size` and `.type` against GNU as 2.40: st_size, type and binding of every named symbol match the
// GNU-built twin (as + ld, the same placement); and QEMU's HTIF, which wants `tohost`/`fromhost` of
// 8 bytes, takes a vmlab-assembled program (riscv-tests declare them so).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assemble, readElf, type ElfFile } from '../../src/engine/asm/index';
import { tool } from '../support/tools';
import { gnuBuild } from './oracle';

const SOURCE = `
  .text
  .globl _start
  .type _start, @function
_start:
  li a0, 1
  call fn
  la t0, tohost
  sw a0, 0(t0)
  sw zero, 4(t0)
1: j 1b
  .size _start, . - _start
  .type fn, %function
fn:
  addi a0, a0, 0
  ret
  .size fn, .-fn
  .data
  .align 3
  .globl tohost
  .type tohost, @object
tohost: .dword 0
  .size tohost, 8
  .globl fromhost
  .type fromhost, STT_OBJECT
fromhost: .dword 0
  .size fromhost, 8
  .type table, "object"
table: .word 1, 2, 3
  .size table, 12
  .equ LIMIT, 40
  .type untyped, @notype
untyped: .byte 7
  .size untyped, LIMIT - 39
`;

const work = mkdtempSync(join(tmpdir(), 'vmlab-asm-symbols-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function named(elf: ElfFile): Record<string, { size: number; type: number; bind: number; value: number }> {
  const out: Record<string, { size: number; type: number; bind: number; value: number }> = {};
  for (const s of elf.symbols) if (['_start', 'fn', 'tohost', 'fromhost', 'table', 'untyped'].includes(s.name)) out[s.name] = { size: s.size, type: s.type, bind: s.bind, value: s.value };
  return out;
}

describe('.size and .type', () => {
  const r = assemble(SOURCE, { file: 'symbols.S' });

  it('give the symbols GNU gives them', () => {
    expect(r.diagnostics).toEqual([]);
    const gnu = gnuBuild(SOURCE);
    try {
      const theirs = named(gnu.parsed);
      expect(theirs.tohost).toMatchObject({ size: 8, type: 1, bind: 1 });
      expect(theirs._start).toMatchObject({ size: 28, type: 2 });
      expect(named(readElf(r.elf!)!)).toEqual(theirs);
    } finally {
      gnu.cleanup();
    }
  });

  it('let QEMU spike run the program through HTIF', () => {
    const elf = join(work, 'htif.elf');
    writeFileSync(elf, r.elf!);
    execFileSync(tool('qemu-system-riscv32'), ['-machine', 'spike', '-bios', 'none', '-nographic', '-monitor', 'none', '-kernel', elf], { timeout: 20_000, stdio: 'pipe' });
  });

  it('name a bad type', () => {
    const bad = assemble('x: nop\n.type x, @banana\n', { file: 'bad.S' });
    expect(bad.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining("unknown symbol type '@banana'")]);
  });
});
