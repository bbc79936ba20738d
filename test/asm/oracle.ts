// GNU binutils as the oracle (README.md, Install and test): assemble and link a source exactly as vmlab lays it out
// (.text, .rodata, .data, .bss from the base), and read back sections, symbols and objdump text.
// A missing tool fails the test naming the Debian package.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readElf, type ElfFile } from '../../src/engine/asm/elf-reader';
import { requireTool } from '../support/tools';

/** The -march GNU as gets: vmlab's ISA plus H and Zihintpause, which the table includes. */
export const GNU_MARCH = 'rv32imac_zicsr_zifencei_zihintpause_h';

const PKG = 'binutils-riscv64-unknown-elf';

/** Linker script mirroring vmlab's section placement (layout.ts `place`). */
export function linkerScript(base: number): string {
  return `SECTIONS {
  . = 0x${base.toString(16)};
  .text : { *(.text .text.*) }
  .rodata : { *(.rodata .rodata.* .srodata .srodata.*) }
  .data : { *(.data .data.* .sdata .sdata.*) }
  .bss : { *(.bss .bss.* .sbss .sbss.* COMMON) }
}
`;
}

/** GNU's result for one source: linked ELF bytes, parsed, and the objdump -d text on demand. */
export interface GnuResult {
  readonly elf: Uint8Array;
  readonly parsed: ElfFile;
  readonly dir: string;
  objdump(): string;
  cleanup(): void;
}

/** Assembles (and links) with GNU; throws with GNU's messages when it rejects the source. */
export function gnuBuild(source: string, base = 0x80000000, extraFiles: Record<string, string> = {}): GnuResult {
  requireTool('riscv64-unknown-elf-as', PKG);
  requireTool('riscv64-unknown-elf-ld', PKG);
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-asm-gnu-'));
  for (const [name, text] of Object.entries(extraFiles)) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, 'in.S'), source);
  writeFileSync(join(dir, 'link.ld'), linkerScript(base));
  try {
    execFileSync('riscv64-unknown-elf-as', [`-march=${GNU_MARCH}`, '-mabi=ilp32', '-mno-relax', '-o', 'in.o', 'in.S'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    execFileSync('riscv64-unknown-elf-ld', ['-m', 'elf32lriscv', '--no-relax', '-T', 'link.ld', '-o', 'in.elf', 'in.o'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const msg = String((err as { stderr?: Buffer }).stderr ?? err);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`GNU rejected the source:\n${msg.slice(0, 4000)}`);
  }
  const elf = new Uint8Array(readFileSync(join(dir, 'in.elf')));
  return {
    elf,
    parsed: readElf(elf)!,
    dir,
    objdump: () => {
      requireTool('riscv64-unknown-elf-objdump', PKG);
      return execFileSync('riscv64-unknown-elf-objdump', ['-d', 'in.elf'], { cwd: dir, maxBuffer: 256 << 20 }).toString();
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Contents (address and bytes; NOBITS as zero bytes) of each allocated section by name. */
export function sectionBytes(elf: ElfFile): Map<string, { addr: number; bytes: Uint8Array }> {
  const out = new Map<string, { addr: number; bytes: Uint8Array }>();
  for (const s of elf.sections) {
    if (!(s.flags & 2) || s.size === 0) continue;
    out.set(s.name, { addr: s.addr, bytes: s.type === 8 ? new Uint8Array(s.size) : elf.bytes.slice(s.offset, s.offset + s.size) });
  }
  return out;
}

/** objdump text reduced to comparable lines: instruction and label lines, whitespace collapsed. */
export function normalizeListing(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => /^[0-9a-f]+:/.test(l) || /^[0-9a-f]+ <.*>:$/.test(l));
}
