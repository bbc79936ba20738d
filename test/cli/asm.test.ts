// `vmlab asm` and `vmlab objdump` as a student's shell sees them, against GNU binutils: the ELF holds
// GNU as + ld's bytes, the listing is objdump -d's, errors are `file:line:col: error: ...` with exit 2.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReportedError } from '../../src/cli/errors';
import { loadKernelFile } from '../../src/cli/kernel-input';
import { readElf } from '../../src/engine/asm/index';
import { gnuBuild, sectionBytes } from '../asm/oracle';
import { ASM_DIR, LIB_DIR, REPO_ROOT, buildAsmGnu } from '../support/build';
import { tool } from '../support/tools';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const PROGRAMS = join(REPO_ROOT, 'test', 'asm', 'programs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-cli-asm-'));

function vmlab(args: string[], cwd = dir): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VMLAB, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Allocated sections of two ELF files, compared by name, address and bytes; '' when equal. */
function sectionDiff(ours: Uint8Array, theirs: Uint8Array): string {
  const a = sectionBytes(readElf(ours)!);
  const b = sectionBytes(readElf(theirs)!);
  const problems: string[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(name);
    const y = b.get(name);
    if (!x || !y) problems.push(`${name}: only in ${x ? 'vmlab' : 'GNU'}`);
    else if (x.addr !== y.addr) problems.push(`${name}: at 0x${x.addr.toString(16)} vs 0x${y.addr.toString(16)}`);
    else if (!Buffer.from(x.bytes).equals(Buffer.from(y.bytes))) problems.push(`${name}: bytes differ`);
  }
  return problems.join('\n');
}

/** objdump text, line by line, with runs of blanks collapsed (GNU pads the raw bytes column unevenly). */
const lines = (text: string): string[] => text.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());

describe('vmlab asm', () => {
  it.each(['uart.S', 'trap.S', 'pagetable.S'])('writes GNU as + ld bytes for %s', (name) => {
    const out = join(dir, `${name}.elf`);
    const r = vmlab(['asm', join(PROGRAMS, name), '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const g = gnuBuild(readFileSync(join(PROGRAMS, name), 'utf8'));
    g.cleanup();
    expect(sectionDiff(new Uint8Array(readFileSync(out)), g.elf)).toBe('');
  });

  it('links at --base as GNU ld does with the same address', () => {
    const out = join(dir, 'based.elf');
    const r = vmlab(['asm', join(PROGRAMS, 'uart.S'), '-o', out, '--base', '0x80200000']);
    expect(r.code).toBe(0);
    const g = gnuBuild(readFileSync(join(PROGRAMS, 'uart.S'), 'utf8'), 0x80200000);
    g.cleanup();
    expect(sectionDiff(new Uint8Array(readFileSync(out)), g.elf)).toBe('');
    expect(readElf(new Uint8Array(readFileSync(out)))!.sections.find((s) => s.name === '.text')!.addr).toBe(0x80200000);
  });

  it('finds .include files through -I, as GNU as -I does', async () => {
    const out = join(dir, 'hello.elf');
    const r = vmlab(['asm', join(ASM_DIR, 'hello.S'), '-o', out, '-I', join(dir, 'nowhere'), '-I', LIB_DIR]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(sectionDiff(new Uint8Array(readFileSync(out)), new Uint8Array(readFileSync(await buildAsmGnu(join(ASM_DIR, 'hello.S')))))).toBe('');
  });

  it('reports an include it cannot find with its position, the places searched and exit 2', () => {
    const out = join(dir, 'noinc.elf');
    const r = vmlab(['asm', join(ASM_DIR, 'hello.S'), '-o', out]);
    expect(r.code).toBe(2);
    const line = readFileSync(join(ASM_DIR, 'hello.S'), 'utf8').split('\n').findIndex((l) => l.startsWith('.include')) + 1;
    expect(r.stderr).toMatch(new RegExp(`^${join(ASM_DIR, 'hello.S')}:${line}:1: error: cannot find 'runtime.inc' \\(searched '${join(ASM_DIR, 'runtime.inc')}'\\)$`, 'm'));
    expect(existsSync(out)).toBe(false);
  });

  it('prints every error as file:line:col: error: message, errors in included files under their own name', () => {
    mkdirSync(join(dir, 'inc'), { recursive: true });
    writeFileSync(join(dir, 'inc', 'defs.inc'), '.equ UART, 0x10000000\n  lw a0, 0(a9)\n');
    writeFileSync(join(dir, 'bad.S'), '.include "defs.inc"\n_start:\n  addi a0, a0, 5000\n  li t0, UART\n  frob a0\n');
    const r = vmlab(['asm', 'bad.S', '-o', 'bad.elf', '-I', 'inc']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^inc\/defs\.inc:2:10: error: lw: expected a memory operand offset\(reg\), got '0\(a9\)'$/),
      expect.stringMatching(/^bad\.S:3:16: error: immediate 5000 out of range for addi: expected -2048\.\.2047$/),
      expect.stringMatching(/^bad\.S:5:3: error: .*frob/),
    ]);
    expect(existsSync(join(dir, 'bad.elf'))).toBe(false);
  });

  it('prints warnings in the same form and still writes GNU bytes', () => {
    writeFileSync(join(dir, 'warn.S'), '_start:\n  nop\n.data\n  .byte 300\n');
    const r = vmlab(['asm', 'warn.S', '-o', 'warn.elf']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warn\.S:4:9: warning: .*300.*truncated/);
    const g = gnuBuild(readFileSync(join(dir, 'warn.S'), 'utf8'));
    g.cleanup();
    expect(sectionDiff(new Uint8Array(readFileSync(join(dir, 'warn.elf'))), g.elf)).toBe('');
  });

  it.each([
    [['asm', 'missing.S', '-o', 'x.elf'], /cannot read 'missing.S': no such file/],
    [['asm', '.', '-o', 'x.elf'], /'.' is a directory/],
    [['asm', 'warn.S'], /required option '-o, --output <file>'/],
    [['asm', 'warn.S', '-o', 'x.elf', '--base', 'high'], /expected an address like 0x80000000/],
    [['asm', 'warn.S', '-o', 'x.elf', '--base', '0x80000002'], /multiple of 4/],
    [['asm', 'warn.S', '-o', join(dir, 'no', 'such', 'dir', 'x.elf')], /cannot write/],
  ])('rejects %j with one clear line and exit 2', (args, message) => {
    writeFileSync(join(dir, 'warn.S'), '_start:\n  nop\n.data\n  .byte 300\n');
    const r = vmlab(args);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => !/warning/.test(l) && l !== '')).toEqual([expect.stringMatching(message)]);
  });
});

describe('vmlab objdump', () => {
  it.each(['trap.S', 'pagetable.S'])('prints what objdump -d prints for %s assembled by vmlab', (name) => {
    const out = join(dir, `dis-${name}.elf`);
    expect(vmlab(['asm', join(PROGRAMS, name), '-o', out]).code).toBe(0);
    const theirs = execFileSync(tool('riscv64-unknown-elf-objdump'), ['-d', out]).toString();
    const r = vmlab(['objdump', out]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(lines(theirs));
    expect(r.stdout.split('\n').length).toBeGreaterThan(40);
  });

  it('prints what objdump -d prints for a guest program built by GNU as + ld', async () => {
    const elf = await buildAsmGnu(join(ASM_DIR, 'sv32-perms.S'));
    const theirs = execFileSync(tool('riscv64-unknown-elf-objdump'), ['-d', elf]).toString();
    const r = vmlab(['objdump', elf]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(lines(theirs));
  });

  it.each([
    ['a text file', () => join(PROGRAMS, 'uart.S'), /is not an ELF32 little-endian file/],
    ['a missing file', () => join(dir, 'absent.elf'), /cannot read '.*absent\.elf': no such file/],
    ['a directory', () => dir, /is a directory, not an ELF file/],
    ['a 64-bit ELF', () => process.execPath, /is not an ELF32 little-endian file/],
    ['an ELF32 for another machine', () => {
      const bytes = new Uint8Array(readFileSync(join(dir, 'uart.S.elf')));
      bytes[18] = 3;
      writeFileSync(join(dir, 'x86.elf'), bytes);
      return join(dir, 'x86.elf');
    }, /for machine 3, not RISC-V/],
  ])('rejects %s with one clear line and exit 2', (_what, path, message) => {
    const r = vmlab(['objdump', path()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
  });
});

describe('loadKernelFile (what vmlab run boots)', () => {
  it('assembles .S files with the include directories, as vmlab asm does', () => {
    const out = join(dir, 'hello-cli.elf');
    expect(vmlab(['asm', join(ASM_DIR, 'hello.S'), '-o', out, '-I', LIB_DIR]).code).toBe(0);
    expect(Buffer.from(loadKernelFile(join(ASM_DIR, 'hello.S'), [LIB_DIR])).equals(readFileSync(out))).toBe(true);
  });

  it('reports a source\'s errors once (on stderr, by reportDiagnostics) and throws a ReportedError, not the first line again', () => {
    writeFileSync(join(dir, 'two.S'), 'nop\n  frob\n  addi a0, a0, 9999\n');
    expect(() => loadKernelFile(join(dir, 'two.S'))).toThrow(ReportedError);
  });

  it('reads other files as bytes and names unreadable ones', () => {
    expect(Buffer.from(loadKernelFile(join(dir, 'uart.S.elf'))).equals(readFileSync(join(dir, 'uart.S.elf')))).toBe(true);
    expect(() => loadKernelFile(join(dir, 'absent.bin'))).toThrow(/cannot read '.*absent\.bin': no such file/);
    expect(() => loadKernelFile(dir)).toThrow(/is a directory, not a kernel/);
  });
});
