// The assembler's working state: sections of items, symbols, diagnostics. One instance per
// `assemble` call; nothing here is global.

import type { Expr } from './expr';
import type { Diagnostic } from './types';
import type { InsnDef } from '../isa/table';
import type { FieldName } from '../isa/fields';
import type { Fields } from '../isa/encode';
import type { Op } from '../isa/opcodes';

/** A source position: file index, 1-based line, 0-based column and length. */
export interface Loc {
  readonly file: number;
  readonly line: number;
  readonly col: number;
  readonly len: number;
}

/** A field whose value comes from an expression after layout. */
export interface Fixup {
  readonly field: FieldName;
  /** Relocation operator; 'branch' for a pc-relative target, 'abs' for a plain constant. */
  readonly fn: 'hi' | 'lo' | 'pcrel_hi' | 'pcrel_lo' | 'branch' | 'abs';
  readonly expr: Expr;
}

/** One piece of a section's contents. */
export type Item =
  | { k: 'bytes'; size: number; bytes: Uint8Array; insn: boolean; loc: Loc }
  | { k: 'word'; size: 2 | 4; value: number; loc: Loc }
  | { k: 'insn'; size: 2 | 4; def: InsnDef; fields: Fields; fix: Fixup; loc: Loc }
  | { k: 'branch'; size: number; op: Op; fields: Fields; target: Expr; rvc: boolean; uncond: boolean; loc: Loc }
  | { k: 'align'; size: number; pow: number; fill: number | undefined; fillSize: number; max: number; code: boolean; loc: Loc }
  | { k: 'data'; size: number; width: 1 | 2 | 4 | 8; expr: Expr; loc: Loc }
  | { k: 'space'; size: number; fill: number; loc: Loc };

/** Where a section's contents go in the linked image. */
export type OutputKind = 'text' | 'rodata' | 'data' | 'other' | 'bss';

/** An input section (one `.section` name). */
export interface Section {
  readonly name: string;
  out: OutputKind;
  /** Output section name (.text for .text.init, etc.). */
  outName: string;
  readonly code: boolean;
  readonly nobits: boolean;
  readonly write: boolean;
  readonly alloc: boolean;
  readonly items: Item[];
  /** log2 of the alignment. */
  alignPow: number;
  /** Offsets of each item after layout (length items.length + 1). */
  offsets: number[];
  /** Address of offset 0 after placement. */
  address: number;
  /** Mapping symbols ($x / $d) as item indexes. */
  readonly mapping: { index: number; code: boolean }[];
  /** Current mapping state while assembling. */
  mapState: 'none' | 'x' | 'd';
}

/** A symbol: a label (section and item index) or an `.equ` value. */
export interface Sym {
  readonly name: string;
  kind: 'label' | 'equ' | 'undefined';
  section?: Section;
  index?: number;
  /** Constant value known when assembled (equ). */
  value?: bigint;
  /** Expression to evaluate after layout (equ with labels). */
  expr?: Expr;
  global: boolean;
  defLoc?: Loc;
  /** First use, for "undefined symbol" diagnostics. */
  useLoc?: Loc;
  /** Set while evaluating, to catch `.equ a, b` / `.equ b, a` cycles. */
  busy?: boolean;
  /** `.size` expression, evaluated after layout (ELF st_size). */
  size?: Expr;
  /** `.type`: ELF symbol type (STT_FUNC 2, STT_OBJECT 1, ...). */
  elfType?: number;
}

/** A source file known to the assembler (index = position in `files`). */
export interface SourceFile {
  readonly name: string;
  readonly dir: string;
}

/** Diagnostics collector with file names resolved. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  errors = 0;
  constructor(readonly files: SourceFile[]) {}

  /** Records an error at `loc`. */
  error(loc: Loc, message: string): void {
    this.add(loc, 'error', message);
  }

  /** Records a warning at `loc`. */
  warn(loc: Loc, message: string): void {
    this.add(loc, 'warning', message);
  }

  private add(loc: Loc, severity: 'error' | 'warning', message: string): void {
    if (severity === 'error') this.errors++;
    if (this.list.length >= 1000) return;
    this.list.push({ file: this.files[loc.file]?.name ?? '?', line: loc.line, column: loc.col + 1, length: loc.len, severity, message: shortenQuotes(message) });
  }
}

/** Quoted source text longer than 80 characters; the diagnostic's location still spans all of it. */
const LONG_QUOTE = /'([^'\n]{81,})'/g;

/**
 * Cuts each quoted piece of source text longer than 80 characters in `message` (a pasted
 * blob is one 2 MB "instruction"): its start, '...', and its length.
 */
function shortenQuotes(message: string): string {
  if (message.length <= 80) return message;
  return message.replace(LONG_QUOTE, (_, text: string) => `'${text.slice(0, 60)}...' (${text.length} characters)`);
}
