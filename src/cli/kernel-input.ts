// Kernel files as the CLI takes them: assembly sources (.S/.s) go through the engine's assembler with
// `.include`/`.incbin` read from disk; anything else is read as an ELF or raw image.

import { extname } from 'node:path';
import { LabError } from '../host/errors';
import { rawKernelWarning } from '../host/kernel-info';
import { HOST_FILES, MAX_KERNEL_SIZE, readResolved } from '../host/paths';
import { ReportedError } from './errors';
import { assemble, DEFAULT_BASE, type AssembleResult, type Diagnostic, type SourceReader } from '../engine/asm/index';
import { isElf } from '../engine/machine/elf';

/** Options for assembling a file from disk. */
export interface AssembleFileOptions {
  /** Link address of the first section (default 0x80000000). */
  readonly base?: number;
  /** Directories searched for `.include`/`.incbin` after the including file's own. */
  readonly includeDirs?: readonly string[];
}

/**
 * A SourceReader over the host file system, through the host's path policy: undefined for anything
 * that is not a readable regular file (a FIFO is never waited on) of at most MAX_KERNEL_SIZE bytes.
 */
export const DISK_READER: SourceReader = {
  read(path: string): Uint8Array | undefined {
    try {
      return readResolved(HOST_FILES.hostPath(path), 'an included file', MAX_KERNEL_SIZE);
    } catch {
      return undefined;
    }
  },
};

/** One diagnostic in the compiler form `file:line:col: error: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}

/** True for assembly sources by extension (.S or .s). */
export function isAssemblySource(path: string): boolean {
  return extname(path) === '.S' || extname(path) === '.s';
}

/**
 * Reads a file as bytes through the host's path policy (paths.ts): a regular file of at most
 * MAX_KERNEL_SIZE bytes, its size checked before reading; a FIFO or a device is refused, never
 * waited on. Throws an Error with a one-line message naming the path and what is wrong.
 */
export function readInputFile(path: string, what = 'a kernel'): Uint8Array {
  try {
    return readResolved(HOST_FILES.hostPath(path), what, MAX_KERNEL_SIZE);
  } catch (err) {
    if (!(err instanceof LabError)) throw err;
    if (err.code === 'not-found') throw new Error(`cannot read '${path}': no such file`);
    if (/ is a folder/.test(err.message)) throw new Error(`'${path}' is a directory, not ${what}`);
    throw new Error(err.message);
  }
}

/** Assembles the source file at `path` (it is named `path` in diagnostics, the line map and DWARF). */
export function assembleFile(path: string, options: AssembleFileOptions = {}): AssembleResult {
  const source = new TextDecoder().decode(readInputFile(path, 'an assembly source'));
  return assemble(source, { file: path, base: options.base ?? DEFAULT_BASE, reader: DISK_READER, includeDirs: options.includeDirs ?? [] });
}

/** Writes every diagnostic to stderr, one line each; returns the number of errors among them. */
export function reportDiagnostics(diagnostics: readonly Diagnostic[]): number {
  for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  return diagnostics.filter((d) => d.severity === 'error').length;
}

/**
 * The bytes `vmlab run` boots: .S/.s files are assembled (diagnostics go to stderr; on failure the
 * Error's message is the first error line), anything else is read as an ELF or raw image.
 */
export function loadKernelFile(path: string, includeDirs: string[] = [], base?: number): Uint8Array {
  if (!isAssemblySource(path)) {
    const bytes = readInputFile(path);
    if (bytes.length === 0) throw new Error(`'${path}' is empty: there is no kernel to load`);
    return bytes;
  }
  const r = assembleFile(path, { includeDirs, base });
  const errors = reportDiagnostics(r.diagnostics);
  if (errors > 0) throw new ReportedError();
  if (!r.elf) throw new Error(`${path}: the assembler produced no output`);
  return r.elf;
}

const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/**
 * What `vmlab run` says about a kernel that is not an ELF file: where it was loaded and, when it
 * does not look like RISC-V code (text, or leading bytes that decode to no instruction), a warning;
 * such a file would otherwise spin silently until a timeout. Empty for an ELF file.
 */
export function rawKernelNotes(path: string, bytes: Uint8Array, loadAddress: number): string[] {
  if (isElf(bytes)) return [];
  const notes = [`'${path}' is not an ELF file: loaded as a raw image of ${bytes.length} bytes at ${hex(loadAddress)}, entry there`];
  const warning = rawKernelWarning(path, bytes, loadAddress);
  if (warning !== undefined) notes.push(`warning: ${warning}`);
  return notes;
}
