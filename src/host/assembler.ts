// Assembling workspace sources: the engine's own assembler (src/engine/asm, README.md, Assemble and disassemble), with
// `.include`/`.incbin` reading through the workspace's confinement. GNU binutils (Debian:
// binutils-riscv64-unknown-elf) implements the same contract as a second backend, which the tests
// use as a reference.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { assemble } from '../engine/asm';
import type { Diagnostic, LineMapEntry, SymbolEntry } from '../shared/lab-api';
import { LabError } from './errors';

const run = promisify(execFile);

/** What an assembler backend produces (the shape of the engine assembler's result). */
export interface AsmOutput {
  readonly elf?: Uint8Array;
  readonly diagnostics: Diagnostic[];
  readonly lineMap: LineMapEntry[];
  readonly symbols: SymbolEntry[];
}

/** An assembler: `file` is the workspace path the diagnostics and line map name. */
export interface AssemblerBackend {
  assemble(source: string, options: { file: string; base?: number }): Promise<AsmOutput>;
}

/** Default link address: the start of RAM, as QEMU's virt -bios none expects. */
export const DEFAULT_BASE = 0x80000000;

const PACKAGE = 'binutils-riscv64-unknown-elf';

/** Reads an included file by workspace path; undefined when it is missing or not allowed. */
export type IncludeReader = (path: string) => Uint8Array | undefined;

/** The engine's assembler. */
export class EngineAssembler implements AssemblerBackend {
  constructor(private readonly include?: IncludeReader) {}

  async assemble(source: string, options: { file: string; base?: number }): Promise<AsmOutput> {
    const include = this.include;
    const r = assemble(source, { file: options.file, base: options.base, reader: include ? { read: include } : undefined });
    return {
      elf: r.elf,
      diagnostics: r.diagnostics,
      lineMap: r.lineMap,
      symbols: r.symbols.map(({ name, address }) => ({ name, address })),
    };
  }
}

/** The GNU binutils backend (riscv64-unknown-elf-as, -ld, -nm, -objdump). */
export class GnuAssembler implements AssemblerBackend {
  async assemble(source: string, options: { file: string; base?: number }): Promise<AsmOutput> {
    const dir = await mkdtemp(join(tmpdir(), 'vmlab-asm-'));
    try {
      const name = basename(options.file).replace(/[^\w.-]/g, '_') || 'source.S';
      const src = join(dir, name);
      const obj = join(dir, 'out.o');
      const elf = join(dir, 'out.elf');
      await writeFile(src, source);
      const base = options.base ?? DEFAULT_BASE;
      let stderr = '';
      try {
        const r = await tool('riscv64-unknown-elf-as', ['-march=rv32imac_zicsr_zifencei', '-mabi=ilp32', '-g', '-o', obj, name], dir);
        stderr = r.stderr;
      } catch (err) {
        const diagnostics = parseGnuMessages((err as { stderr?: string }).stderr ?? '', name, options.file);
        if (diagnostics.length === 0) throw err;
        return { diagnostics, lineMap: [], symbols: [] };
      }
      const diagnostics = parseGnuMessages(stderr, name, options.file);
      try {
        await tool('riscv64-unknown-elf-ld', ['-m', 'elf32lriscv', '--no-relax', `-Ttext=0x${base.toString(16)}`, '-o', elf, obj], dir);
      } catch (err) {
        const text = ((err as { stderr?: string }).stderr ?? String(err)).replace(/^.*?ld: /gm, '').trim();
        diagnostics.push({ file: options.file, line: 1, column: 1, length: 0, severity: 'error', message: `link: ${text}` });
        return { diagnostics, lineMap: [], symbols: [] };
      }
      const [nm, lines] = await Promise.all([
        tool('riscv64-unknown-elf-nm', [elf], dir),
        tool('riscv64-unknown-elf-objdump', ['--dwarf=decodedline', elf], dir),
      ]);
      return {
        elf: new Uint8Array(await readFile(elf)),
        diagnostics,
        symbols: parseNm(nm.stdout),
        lineMap: parseDecodedLines(lines.stdout, name, options.file),
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

async function tool(cmd: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd, maxBuffer: 64 << 20 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new LabError('failed', `the assembler needs '${cmd}': install the Debian package ${PACKAGE}`);
    }
    throw err;
  }
}

/** Parses GNU as messages (`file:line: Error: text`) into diagnostics naming `file`. */
export function parseGnuMessages(stderr: string, tmpName: string, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const re = /^(.*?):(\d+): (Error|Warning): (.*)$/;
  for (const raw of stderr.split('\n')) {
    const m = re.exec(raw);
    if (!m || basename(m[1]) !== tmpName) continue;
    const message = m[4];
    const quoted = /`([^']*)'/.exec(message);
    out.push({
      file,
      line: Number(m[2]),
      column: 1,
      length: quoted ? quoted[1].length : 0,
      severity: m[3] === 'Error' ? 'error' : 'warning',
      message,
    });
  }
  return out;
}

function parseNm(text: string): SymbolEntry[] {
  const out: SymbolEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{8})\s+([A-Za-z])\s+(\S+)$/.exec(line.trim());
    if (!m || m[3].startsWith('$') || m[3].startsWith('.L')) continue;
    out.push({ name: m[3], address: parseInt(m[1], 16) >>> 0 });
  }
  return out.sort((a, b) => a.address - b.address);
}

/** objdump --dwarf=decodedline rows: `name  line  0xaddr  [x]`. */
function parseDecodedLines(text: string, tmpName: string, file: string): LineMapEntry[] {
  const out: LineMapEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+0x([0-9a-f]+)/.exec(line);
    if (!m || basename(m[1]) !== tmpName) continue;
    out.push({ address: parseInt(m[3], 16) >>> 0, file, line: Number(m[2]) });
  }
  return out.sort((a, b) => a.address - b.address || a.line - b.line);
}
