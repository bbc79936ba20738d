// Minimal ELF32 little-endian reader for the disassembler: section headers and the symbol table.
// Returns undefined rather than throwing on malformed input.

/** A section header with its name resolved. */
export interface ElfSection {
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly index: number;
}

/** A symbol table entry. */
export interface ElfSymbol {
  readonly name: string;
  readonly value: number;
  /** st_size. */
  readonly size: number;
  readonly shndx: number;
  readonly bind: number;
  readonly type: number;
}

/** What the reader extracts. */
export interface ElfFile {
  readonly sections: ElfSection[];
  readonly symbols: ElfSymbol[];
  readonly bytes: Uint8Array;
}

function cstr(b: Uint8Array, at: number): string {
  let s = '';
  for (let i = at; i < b.length && b[i] !== 0; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** Parses an ELF32 LE file; undefined when it is not one or is truncated. */
export function readElf(bytes: Uint8Array): ElfFile | undefined {
  if (bytes.length < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46 || bytes[4] !== 1 || bytes[5] !== 1) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = v.getUint32(32, true);
  const shentsize = v.getUint16(46, true);
  const shnum = v.getUint16(48, true);
  const shstrndx = v.getUint16(50, true);
  if (shentsize < 40 || shoff + shnum * shentsize > bytes.length) return undefined;
  const raw: { nameOff: number; type: number; flags: number; addr: number; offset: number; size: number; link: number; entsize: number }[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    raw.push({
      nameOff: v.getUint32(at, true), type: v.getUint32(at + 4, true), flags: v.getUint32(at + 8, true), addr: v.getUint32(at + 12, true),
      offset: v.getUint32(at + 16, true), size: v.getUint32(at + 20, true), link: v.getUint32(at + 24, true), entsize: v.getUint32(at + 36, true),
    });
  }
  const strSec = raw[shstrndx];
  const sections: ElfSection[] = raw.map((s, index) => ({
    name: strSec && strSec.offset + s.nameOff < bytes.length ? cstr(bytes, strSec.offset + s.nameOff) : '',
    type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size, index,
  }));
  for (const s of sections) if (s.type !== 8 && s.offset + s.size > bytes.length) return undefined;
  const symbols: ElfSymbol[] = [];
  raw.forEach((s) => {
    if (s.type !== 2) return;
    const str = raw[s.link];
    for (let at = s.offset + 16; at + 16 <= s.offset + s.size; at += 16) {
      const info = bytes[at + 12];
      symbols.push({
        name: str ? cstr(bytes, str.offset + v.getUint32(at, true)) : '', value: v.getUint32(at + 4, true), size: v.getUint32(at + 8, true),
        shndx: v.getUint16(at + 14, true), bind: info >> 4, type: info & 15,
      });
    }
  });
  return { sections, symbols, bytes };
}
