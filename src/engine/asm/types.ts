// Shapes shared by the assembler, its callers and the disassembler (README.md, Assemble and disassemble). They mirror the
// LabApi types structurally; the engine imports nothing outside itself.

/** A problem found in the source: 1-based line and column, length in characters. */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly length: number;
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

/** One row of the line map: the instruction at `address` came from `file:line`. */
export interface LineMapEntry {
  readonly address: number;
  readonly file: string;
  readonly line: number;
}

/** A named address (or absolute value) of the assembled program. */
export interface SymbolEntry {
  readonly name: string;
  readonly address: number;
  /** True for `.globl` symbols. */
  readonly global?: boolean;
}

/** Gives `.include` and `.incbin` their files; undefined when the path does not exist. */
export interface SourceReader {
  read(path: string): string | Uint8Array | undefined;
}

/** Options of `assemble`. */
export interface AssembleOptions {
  /** Name of the source, used in diagnostics, the line map and DWARF. */
  readonly file: string;
  /** Link address of the first section (default 0x80000000). */
  readonly base?: number;
  /** Reader for `.include` / `.incbin`; without one those directives report an error. */
  readonly reader?: SourceReader;
  /** Directories searched (after the including file's own) for `.include` / `.incbin`. */
  readonly includeDirs?: readonly string[];
}

/** An output section's placement in the linked image. */
export interface SectionInfo {
  readonly name: string;
  readonly address: number;
  readonly size: number;
  readonly flags: string;
}

/** Result of `assemble`: `elf` is present only when there are no errors. */
export interface AssembleResult {
  readonly elf?: Uint8Array;
  readonly diagnostics: Diagnostic[];
  readonly lineMap: LineMapEntry[];
  readonly symbols: SymbolEntry[];
  readonly sections: SectionInfo[];
  /** Entry point: `_start` when defined, else the start of .text. */
  readonly entry: number;
}

/** Default link address: the start of RAM in the virt machine (docs/machine.md). */
export const DEFAULT_BASE = 0x80000000;
