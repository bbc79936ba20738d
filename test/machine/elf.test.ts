// ELF loader against GNU binutils: real executables built with riscv64-unknown-elf-as/ld, their entry,
// PT_LOAD segments and symbols as riscv64-unknown-elf-readelf reports them; every rejection; and random
// corruption of a valid file, which must only ever produce ElfError.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElfError, isElf, parseElf, type ElfErrorKind, type ElfImage } from '../../src/engine/machine/elf';
import { requireTool, tool } from '../support/tools';
import { rng } from '../support/rng';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'vmlab-elf-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const RAM = { ramBase: 0x8000_0000, ramSize: 128 << 20 };

const PROGRAM = `
  .text
  .globl _start
_start:
  la a0, msg
  lw a1, counter
  j second
  .globl second
second:
  j _start
  .section .rodata
msg: .asciz "hello"
  .data
  .balign 8
  .globl tohost
tohost: .dword 0
  .globl fromhost
fromhost: .dword 0
counter: .word 42
  .bss
  .globl buffer
buffer: .space 4096
`;

/** Linker script placing .data at virtual 0x90000000 but loading it at physical 0x80100000. */
const SPLIT_LMA = `
ENTRY(_start)
SECTIONS {
  . = 0x80000000;
  .text : { *(.text) *(.rodata) }
  . = 0x90000000;
  .data : AT(0x80100000) { *(.data) }
  .bss : { *(.bss) }
}`;

/** Two output sections loaded at the same physical address (ld checks this unless told not to). */
const OVERLAP = `
ENTRY(_start)
SECTIONS {
  .text 0x80000000 : { *(.text) }
  .data 0x80000010 : { *(.data) }
}`;

let counter = 0;

/** Assembles `source` (with `asArgs`) and links it with `ldArgs`; returns the ELF's path. */
async function build(source: string, ldArgs: string[], asArgs = ['-march=rv32imac_zicsr_zifencei', '-mabi=ilp32'], emulation = 'elf32lriscv'): Promise<string> {
  const n = counter++;
  const src = join(work, `p${n}.S`);
  const obj = join(work, `p${n}.o`);
  const elf = join(work, `p${n}.elf`);
  writeFileSync(src, source);
  await run(tool('riscv64-unknown-elf-as'), [...asArgs, '-o', obj, src]);
  if (ldArgs.length === 0) return obj;
  await run(tool('riscv64-unknown-elf-ld'), ['-m', emulation, '--no-relax', ...ldArgs, '-o', elf, obj]);
  return elf;
}

function script(text: string): string {
  const path = join(work, `s${counter++}.ld`);
  writeFileSync(path, text);
  return path;
}

async function readelf(args: string[], file: string): Promise<string> {
  return (await run(requireTool('riscv64-unknown-elf-readelf', 'binutils-riscv64-unknown-elf'), ['-W', ...args, file])).stdout;
}

interface ReadelfSegment { type: string; offset: number; vaddr: number; paddr: number; filesz: number; memsz: number; flags: number }

/** Program headers as readelf -l prints them. */
async function readelfSegments(file: string): Promise<ReadelfSegment[]> {
  const out: ReadelfSegment[] = [];
  for (const line of (await readelf(['-l'], file)).split('\n')) {
    const m = /^\s+(\S+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) (.{3})/.exec(line);
    if (!m) continue;
    const flg = m[7];
    out.push({
      type: m[1], offset: parseInt(m[2], 16), vaddr: parseInt(m[3], 16), paddr: parseInt(m[4], 16),
      filesz: parseInt(m[5], 16), memsz: parseInt(m[6], 16),
      flags: (flg.includes('R') ? 4 : 0) | (flg.includes('W') ? 2 : 0) | (flg.includes('E') ? 1 : 0),
    });
  }
  return out;
}

/** Defined, named symbols as readelf -s prints them: name -> {value, global}. */
async function readelfSymbols(file: string): Promise<Map<string, { value: number; global: boolean }[]>> {
  const symbols = new Map<string, { value: number; global: boolean }[]>();
  for (const line of (await readelf(['-s'], file)).split('\n')) {
    const m = /^\s*\d+:\s+([0-9a-f]+)\s+\d+\s+(\S+)\s+(\S+)\s+\S+\s+(\S+)\s+(\S+)$/.exec(line);
    if (!m || m[4] === 'UND' || m[2] === 'SECTION' || m[2] === 'FILE') continue;
    const list = symbols.get(m[5]) ?? [];
    list.push({ value: parseInt(m[1], 16), global: m[3] !== 'LOCAL' });
    symbols.set(m[5], list);
  }
  return symbols;
}

async function readelfEntry(file: string): Promise<number> {
  return parseInt(/Entry point address:\s+0x([0-9a-f]+)/.exec(await readelf(['-h'], file))![1], 16);
}

/**
 * Checks `image` against readelf's view of `file`: its PT_LOAD segments with the part below RAM cut
 * off (GNU ld's default layout maps the page of ELF headers just below the text; QEMU drops those
 * bytes, as they fall outside memory).
 */
async function expectLikeReadelf(file: string, image: ElfImage): Promise<void> {
  const bytes = readFileSync(file);
  expect(image.entry).toBe(await readelfEntry(file));
  const loads = (await readelfSegments(file))
    .filter((s) => s.type === 'LOAD' && s.memsz > 0)
    .map((s) => {
      const cut = Math.max(0, RAM.ramBase - s.paddr);
      return { ...s, paddr: s.paddr + cut, vaddr: s.vaddr + cut, memsz: s.memsz - cut, offset: s.offset + Math.min(cut, s.filesz), filesz: Math.max(0, s.filesz - cut) };
    });
  expect(image.segments.map(({ paddr, vaddr, memsz, flags, data }) => ({ paddr, vaddr, memsz, flags, filesz: data.length })))
    .toEqual(loads.map(({ paddr, vaddr, memsz, flags, filesz }) => ({ paddr, vaddr, memsz, flags, filesz })));
  image.segments.forEach((seg, i) => expect(Buffer.from(seg.data).equals(bytes.subarray(loads[i].offset, loads[i].offset + loads[i].filesz))).toBe(true));
  const symbols = await readelfSymbols(file);
  for (const [name, defs] of symbols) {
    const pick = defs.find((d) => d.global) ?? defs[0];
    expect(`${name}=${image.symbols.get(name)}`).toBe(`${name}=${pick.value}`);
  }
  expect(image.symbols.size).toBe(symbols.size);
}

function rejection(bytes: Uint8Array, options = RAM): ElfError {
  try {
    parseElf(bytes, options);
  } catch (e) {
    expect(e).toBeInstanceOf(ElfError);
    return e as ElfError;
  }
  throw new Error('parseElf accepted the file');
}

function expectRejected(bytes: Uint8Array, kind: ElfErrorKind, message: RegExp, options = RAM): void {
  const e = rejection(bytes, options);
  expect(e.kind).toBe(kind);
  expect(e.message).toMatch(message);
}

let basic: string;
let basicBytes: Uint8Array;
beforeAll(async () => {
  basic = await build(PROGRAM, ['-Ttext=0x80000000', '-e', 'second']);
  basicBytes = new Uint8Array(readFileSync(basic));
});

describe('ELF loading against readelf', () => {
  it('skips the PT_RISCV_ATTRIBUTES header binutils puts first and loads the PT_LOAD segments', async () => {
    const headers = await readelfSegments(basic);
    expect(headers[0].type).toBe('RISCV_ATTRIBUT');
    expect(headers[1]).toMatchObject({ type: 'LOAD', offset: 0, paddr: 0x7fff_f000 });
    const image = parseElf(basicBytes, RAM);
    expect(image.segments[0].paddr).toBe(0x8000_0000);
    await expectLikeReadelf(basic, image);
    expect(image.segments.some((s) => s.memsz > s.data.length)).toBe(true);
    expect(image.symbols.has('tohost') && image.symbols.has('fromhost')).toBe(true);
  });

  it('loads by physical address when the load address differs from the virtual one', async () => {
    const file = await build(PROGRAM, ['-T', script(SPLIT_LMA)]);
    const image = parseElf(new Uint8Array(readFileSync(file)), RAM);
    await expectLikeReadelf(file, image);
    expect(image.segments.some((s) => s.paddr === 0x8010_0000 && s.vaddr === 0x9000_0000)).toBe(true);
  });

  it('accepts a file without section headers (no symbols)', async () => {
    const file = await build(PROGRAM, ['-Ttext=0x80000000']);
    await run(tool('riscv64-unknown-elf-objcopy'), ['--strip-all', file]);
    const bytes = new Uint8Array(readFileSync(file));
    const image = parseElf(bytes, RAM);
    expect(image.symbols.size).toBe((await readelfSymbols(file)).size);
    await expectLikeReadelf(file, image);
  });

  it('tells ELF from anything else by the magic only', () => {
    expect(isElf(basicBytes)).toBe(true);
    expect(isElf(new Uint8Array([0x7f, 0x45, 0x4c]))).toBe(false);
    expect(isElf(new TextEncoder().encode('hello world'))).toBe(false);
    expect(isElf(new Uint8Array([0x7f, 0x45, 0x4c, 0x46]))).toBe(true);
  });
});

/** A copy of the basic file with `patch` applied. */
function patched(patch: (b: Uint8Array, view: DataView) => void): Uint8Array {
  const b = basicBytes.slice();
  patch(b, new DataView(b.buffer));
  return b;
}

describe('ELF rejections', () => {
  it('not ELF', () => {
    expectRejected(new TextEncoder().encode('#!/bin/sh\necho hi\n'), 'not-elf', /not an ELF file/);
    expectRejected(new Uint8Array(0), 'not-elf', /not an ELF file/);
  });

  it('an RV64 ELF64 file, with the flags to build for RV32', async () => {
    const file = await build(PROGRAM, ['-Ttext=0x80000000'], ['-march=rv64imac', '-mabi=lp64'], 'elf64lriscv');
    expect(await readelf(['-h'], file)).toMatch(/Class:\s+ELF64/);
    expectRejected(new Uint8Array(readFileSync(file)), 'elf64', /ELF64.*vmlab emulates RV32.*-march=rv32.*-mabi=ilp32/);
  });

  it('a host program, naming its machine', async () => {
    const file = '/bin/sh';
    const header = await readelf(['-h'], file);
    const e = rejection(new Uint8Array(readFileSync(file)));
    if (/Class:\s+ELF64/.test(header)) expect(e.kind).toBe('elf64');
    else expect(e.kind).toBe('not-riscv');
    if (/X86-64/.test(header)) expect(e.message).toMatch(/x86-64/);
    if (/AArch64/.test(header)) expect(e.message).toMatch(/AArch64/);
  });

  it('an ELF32 file for another machine', async () => {
    const bytes = patched((_, v) => v.setUint16(18, 3, true));
    const file = join(work, 'i386.elf');
    writeFileSync(file, bytes);
    expect(await readelf(['-h'], file)).toMatch(/Machine:\s+Intel 80386/);
    expectRejected(bytes, 'not-riscv', /80386.*not RISC-V/);
  });

  it('big-endian', async () => {
    const bytes = patched((b) => { b[5] = 2; });
    const file = join(work, 'be.elf');
    writeFileSync(file, bytes);
    expect(await readelf(['-h'], file).catch((e: { stdout: string }) => e.stdout)).toMatch(/big endian/);
    expectRejected(bytes, 'big-endian', /big-endian.*little-endian/);
  });

  it('a relocatable object that was never linked', async () => {
    const obj = await build(PROGRAM, []);
    expectRejected(new Uint8Array(readFileSync(obj)), 'not-executable', /relocatable.*link/);
  });

  it('truncated in the header, the program headers or the segment data', async () => {
    const loads = (await readelfSegments(basic)).filter((s) => s.type === 'LOAD');
    const phoff = new DataView(basicBytes.buffer).getUint32(28, true);
    expectRejected(basicBytes.subarray(0, 30), 'truncated', /truncated.*ELF header/);
    expectRejected(basicBytes.subarray(0, phoff + 40), 'truncated', /truncated.*program header/);
    const last = loads.reduce((a, b) => (a.offset + a.filesz > b.offset + b.filesz ? a : b));
    expectRejected(basicBytes.subarray(0, last.offset + last.filesz - 1), 'truncated', /truncated.*data of segment/);
  });

  it('overlapping PT_LOAD segments', async () => {
    const file = await build(PROGRAM, ['--no-check-sections', '-T', script(OVERLAP)]);
    const loads = (await readelfSegments(file)).filter((s) => s.type === 'LOAD' && s.memsz > 0);
    expect(loads.length).toBeGreaterThan(1);
    expectRejected(new Uint8Array(readFileSync(file)), 'overlap', /overlap/);
  });

  it('a segment outside RAM, only when a RAM range is given', async () => {
    const file = await build(PROGRAM, ['-Ttext=0x70000000']);
    const bytes = new Uint8Array(readFileSync(file));
    expectRejected(bytes, 'outside-ram', /outside RAM.*0x80000000/);
    expect(parseElf(bytes).segments.length).toBeGreaterThan(0);
    expect(parseElf(bytes, { regions: [{ base: 0x7000_0000, size: 1 << 20 }] }).entry).toBe(0x7000_0000);
  });

  it('a program that does not fit in RAM', () => {
    expectRejected(basicBytes, 'outside-ram', /does not fit in RAM.*bytes too large/, { ramBase: 0x8000_0000, ramSize: 4096 } as typeof RAM);
  });

  it('a segment with more file bytes than memory bytes', () => {
    const bytes = patched((_, v) => {
      const phoff = v.getUint32(28, true);
      const phnum = v.getUint16(44, true);
      for (let i = 0; i < phnum; i++) {
        const at = phoff + 32 * i;
        if (v.getUint32(at, true) === 1) v.setUint32(at + 20, 0, true);
      }
    });
    expectRejected(bytes, 'bad-segment', /more file bytes/);
  });
});

describe('ELF fuzzing', () => {
  const ITERATIONS = process.env.VMLAB_FUZZ_LONG ? 200_000 : 4000;
  const EXTREMES = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0];

  function survives(bytes: Uint8Array): void {
    try {
      parseElf(bytes, RAM);
    } catch (e) {
      // "malformed ELF file (...)" comes from parseElf's safety net: an exception its checks missed.
      if (!(e instanceof ElfError) || e.message.startsWith('malformed ELF file (')) {
        throw new Error(`unexpected ${String(e)} for bytes ${Buffer.from(bytes).toString('hex').slice(0, 200)}`);
      }
    }
  }

  it('random byte mutations, header field overwrites and truncations only ever raise ElfError', () => {
    const next = rng(0x5eed);
    const size = basicBytes.length;
    const phoff = new DataView(basicBytes.buffer).getUint32(28, true);
    const shoff = new DataView(basicBytes.buffer).getUint32(32, true);
    for (let i = 0; i < ITERATIONS; i++) {
      const b = basicBytes.slice();
      const v = new DataView(b.buffer);
      const mode = next() % 4;
      if (mode === 0) {
        for (let k = 1 + (next() % 8); k > 0; k--) b[next() % size] = next() & 0xff;
      } else if (mode === 1) {
        // A 32-bit field in the ELF header, the program headers or the section headers.
        const areas = [0, phoff, shoff];
        const at = Math.min(size - 4, areas[next() % 3] + 4 * (next() % 40));
        v.setUint32(at, EXTREMES[next() % EXTREMES.length], true);
      } else if (mode === 2) {
        const at = Math.min(size - 2, [16, 18, 42, 44, 46, 48, 50][next() % 7]);
        v.setUint16(at, EXTREMES[next() % EXTREMES.length] & 0xffff, true);
      }
      const cut = mode === 3 ? next() % size : size;
      survives(b.subarray(0, cut));
    }
  });

  it('random bytes behind the ELF magic only ever raise ElfError', () => {
    const next = rng(42);
    for (let i = 0; i < ITERATIONS / 4; i++) {
      const b = new Uint8Array(next() % 512);
      for (let k = 0; k < b.length; k++) b[k] = next() & 0xff;
      b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1].slice(0, b.length));
      survives(b);
    }
  });
});
