// DWARF version 3 line information (DWARF 3 spec, 6.2 "Line Number Information") with the minimal
// .debug_info compile unit, .debug_abbrev and .debug_aranges that debuggers need to find it.

import { utf8Encode } from './utf8';

/** A growable little-endian byte buffer. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  /** Appends one byte. */
  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v & 0xff;
  }

  /** Appends a 16-bit value. */
  u16(v: number): void {
    this.u8(v);
    this.u8(v >>> 8);
  }

  /** Appends a 32-bit value. */
  u32(v: number): void {
    this.u16(v & 0xffff);
    this.u16(v >>> 16);
  }

  /** Appends bytes. */
  bytes(b: ArrayLike<number>): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Appends a NUL-terminated UTF-8 string. */
  cstr(s: string): void {
    this.bytes(utf8Encode(s));
    this.u8(0);
  }

  /** Appends an unsigned LEB128 number. */
  uleb(v: number): void {
    let x = v >>> 0;
    do {
      const b = x & 0x7f;
      x >>>= 7;
      this.u8(x ? b | 0x80 : b);
    } while (x);
  }

  /** Appends a signed LEB128 number. */
  sleb(v: number): void {
    let x = v | 0;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      if ((x === 0 && !(b & 0x40)) || (x === -1 && b & 0x40)) return this.u8(b);
      this.u8(b | 0x80);
    }
  }

  /** Overwrites a 32-bit value at `at`. */
  patch32(at: number, v: number): void {
    for (let i = 0; i < 4; i++) this.buf[at + i] = (v >>> (8 * i)) & 0xff;
  }

  /** Aligns the length with zero bytes. */
  align(n: number): void {
    while (this.length % n) this.u8(0);
  }

  /** The bytes written so far. */
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** One line-table row: address, file index (0-based), line. */
export interface DwarfRow {
  readonly address: number;
  readonly file: number;
  readonly line: number;
}

/** The debug sections of one compile unit. */
export interface DwarfSections {
  readonly line: Uint8Array;
  readonly info: Uint8Array;
  readonly abbrev: Uint8Array;
  readonly aranges: Uint8Array;
}

const DW_LNS_copy = 1;
const DW_LNS_advance_pc = 2;
const DW_LNS_advance_line = 3;
const DW_LNS_set_file = 4;
const DW_LNE_end_sequence = 1;
const DW_LNE_set_address = 2;

/**
 * Builds the sections. `ranges` are the code address ranges [start, end); rows must lie inside them.
 * Each range becomes one line-number sequence.
 */
export function buildDwarf(rows: readonly DwarfRow[], files: readonly string[], ranges: readonly [number, number][], compDir: string, name: string): DwarfSections {
  const line = new ByteWriter();
  line.u32(0);
  line.u16(3);
  const headerLenAt = line.length;
  line.u32(0);
  const headerStart = line.length;
  line.u8(1); // minimum_instruction_length
  line.u8(1); // default_is_stmt
  line.u8(-5 & 0xff); // line_base
  line.u8(14); // line_range
  line.u8(13); // opcode_base
  line.bytes([0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1]);
  line.u8(0); // no include_directories
  for (const f of files) {
    line.cstr(f);
    line.uleb(0);
    line.uleb(0);
    line.uleb(0);
  }
  line.u8(0);
  line.patch32(headerLenAt, line.length - headerStart);
  const sorted = [...rows].sort((x, y) => x.address - y.address);
  for (const [start, end] of ranges) {
    const seq = sorted.filter((r) => r.address >= start && r.address < end);
    if (seq.length === 0) continue;
    line.u8(0);
    line.uleb(5);
    line.u8(DW_LNE_set_address);
    line.u32(seq[0].address);
    let addr = seq[0].address;
    let file = 1;
    let ln = 1;
    for (const r of seq) {
      if (r.file + 1 !== file) {
        line.u8(DW_LNS_set_file);
        line.uleb(r.file + 1);
        file = r.file + 1;
      }
      if (r.line !== ln) {
        line.u8(DW_LNS_advance_line);
        line.sleb(r.line - ln);
        ln = r.line;
      }
      if (r.address !== addr) {
        line.u8(DW_LNS_advance_pc);
        line.uleb(r.address - addr);
        addr = r.address;
      }
      line.u8(DW_LNS_copy);
    }
    if (end > addr) {
      line.u8(DW_LNS_advance_pc);
      line.uleb(end - addr);
    }
    line.u8(0);
    line.uleb(1);
    line.u8(DW_LNE_end_sequence);
  }
  line.patch32(0, line.length - 4);

  const abbrev = new ByteWriter();
  abbrev.uleb(1);
  abbrev.uleb(0x11); // DW_TAG_compile_unit
  abbrev.u8(0); // no children
  for (const [at, form] of [[0x10, 0x06], [0x11, 0x01], [0x12, 0x01], [0x03, 0x08], [0x1b, 0x08], [0x25, 0x08], [0x13, 0x05]]) {
    abbrev.uleb(at);
    abbrev.uleb(form);
  }
  abbrev.u8(0);
  abbrev.u8(0);
  abbrev.u8(0);

  const low = ranges.length ? Math.min(...ranges.map((r) => r[0])) : 0;
  const high = ranges.length ? Math.max(...ranges.map((r) => r[1])) : 0;
  const info = new ByteWriter();
  info.u32(0);
  info.u16(3);
  info.u32(0);
  info.u8(4);
  info.uleb(1);
  info.u32(0); // DW_AT_stmt_list
  info.u32(low);
  info.u32(high);
  info.cstr(name);
  info.cstr(compDir);
  info.cstr('vmlab assembler');
  info.u16(0x8001); // DW_LANG_Mips_Assembler
  info.patch32(0, info.length - 4);

  const ar = new ByteWriter();
  ar.u32(0);
  ar.u16(2);
  ar.u32(0);
  ar.u8(4);
  ar.u8(0);
  ar.align(8);
  for (const [s, e] of ranges) {
    ar.u32(s);
    ar.u32(e - s);
  }
  ar.u32(0);
  ar.u32(0);
  ar.patch32(0, ar.length - 4);
  return { line: line.result(), info: info.result(), abbrev: abbrev.result(), aranges: ar.result() };
}
