// ELF32 little-endian RISC-V executable writer (System V gABI ch. 4-5; RISC-V ELF psABI:
// EM_RISCV = 243, EF_RISCV_RVC = 1, SHT_RISCV_ATTRIBUTES = 0x70000003). One PT_LOAD per
// allocated section, file offsets congruent to addresses modulo the segment alignment.

import { ByteWriter } from './dwarf';

/** A section to write. Allocated sections also get a PT_LOAD program header. */
export interface ElfSectionIn {
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly address: number;
  readonly data: Uint8Array;
  /** Memory size (differs from data length only for NOBITS). */
  readonly size: number;
  readonly align: number;
  readonly link?: number;
  readonly info?: number;
  readonly entsize?: number;
}

/** A symbol to write; `section` is an index into the section list (1-based) or SHN_ABS. */
export interface ElfSymbolIn {
  readonly name: string;
  readonly value: number;
  readonly section: number;
  readonly global: boolean;
  /** st_size (`.size`); default 0. */
  readonly size?: number;
  /** ELF symbol type (`.type`); default STT_NOTYPE. */
  readonly type?: number;
}

/** Section header types and flags used by the writer. */
export const SHT = { PROGBITS: 1, SYMTAB: 2, STRTAB: 3, NOBITS: 8, RISCV_ATTRIBUTES: 0x70000003 } as const;
/** Section flags. */
export const SHF = { WRITE: 1, ALLOC: 2, EXEC: 4 } as const;
/** Symbol section index of absolute values. */
export const SHN_ABS = 0xfff1;

const EHDR = 52;
const PHDR = 32;
const SHDR = 40;

class StrTab {
  readonly w = new ByteWriter();
  private readonly seen = new Map<string, number>();
  constructor() {
    this.w.u8(0);
  }
  add(s: string): number {
    if (s === '') return 0;
    const hit = this.seen.get(s);
    if (hit !== undefined) return hit;
    const at = this.w.length;
    this.w.cstr(s);
    this.seen.set(s, at);
    return at;
  }
}

/** Writes an executable ELF: the given sections, then .symtab, .strtab and .shstrtab. */
export function writeElf(sections: readonly ElfSectionIn[], symbols: readonly ElfSymbolIn[], entry: number, flags: number): Uint8Array {
  const strtab = new StrTab();
  const sym = new ByteWriter();
  const ordered = [...symbols.filter((s) => !s.global), ...symbols.filter((s) => s.global)];
  sym.bytes(new Uint8Array(16));
  for (const s of ordered) {
    sym.u32(strtab.add(s.name));
    sym.u32(s.value);
    sym.u32(s.size ?? 0);
    sym.u8(((s.global ? 1 : 0) << 4) | (s.type ?? 0));
    sym.u8(0);
    sym.u16(s.section);
  }
  const firstGlobal = 1 + ordered.filter((s) => !s.global).length;
  const all: ElfSectionIn[] = [...sections];
  const symIndex = all.length + 1;
  all.push({ name: '.symtab', type: SHT.SYMTAB, flags: 0, address: 0, data: sym.result(), size: sym.length, align: 4, link: symIndex + 1, info: firstGlobal, entsize: 16 });
  all.push({ name: '.strtab', type: SHT.STRTAB, flags: 0, address: 0, data: strtab.w.result(), size: strtab.w.length, align: 1 });
  const shstr = new StrTab();
  const nameOffsets = all.map((s) => shstr.add(s.name));
  const shstrName = shstr.add('.shstrtab');
  all.push({ name: '.shstrtab', type: SHT.STRTAB, flags: 0, address: 0, data: shstr.w.result(), size: shstr.w.length, align: 1 });
  nameOffsets.push(shstrName);

  const loads = all.filter((s) => s.flags & SHF.ALLOC && s.size > 0);
  const out = new ByteWriter();
  out.bytes(new Uint8Array(EHDR + PHDR * loads.length));
  const offsets: number[] = [];
  for (const s of all) {
    if (s.type === SHT.NOBITS) {
      offsets.push(out.length);
      continue;
    }
    const a = Math.max(1, s.align);
    while (out.length % a !== s.address % a) out.u8(0);
    offsets.push(out.length);
    out.bytes(s.data);
  }
  out.align(4);
  const shoff = out.length;
  out.bytes(new Uint8Array(SHDR));
  all.forEach((s, i) => {
    out.u32(nameOffsets[i]);
    out.u32(s.type);
    out.u32(s.flags);
    out.u32(s.address);
    out.u32(offsets[i]);
    out.u32(s.size);
    out.u32(s.link ?? 0);
    out.u32(s.info ?? 0);
    out.u32(s.align);
    out.u32(s.entsize ?? 0);
  });
  const bytes = out.result();
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0], 0);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 243, true); // EM_RISCV
  v.setUint32(20, 1, true);
  v.setUint32(24, entry >>> 0, true);
  v.setUint32(28, loads.length ? EHDR : 0, true);
  v.setUint32(32, shoff, true);
  v.setUint32(36, flags, true);
  v.setUint16(40, EHDR, true);
  v.setUint16(42, PHDR, true);
  v.setUint16(44, loads.length, true);
  v.setUint16(46, SHDR, true);
  v.setUint16(48, all.length + 1, true);
  v.setUint16(50, all.length, true);
  loads.forEach((s, i) => {
    const at = EHDR + PHDR * i;
    const idx = all.indexOf(s);
    v.setUint32(at, 1, true); // PT_LOAD
    v.setUint32(at + 4, offsets[idx], true);
    v.setUint32(at + 8, s.address >>> 0, true);
    v.setUint32(at + 12, s.address >>> 0, true);
    v.setUint32(at + 16, s.type === SHT.NOBITS ? 0 : s.size, true);
    v.setUint32(at + 20, s.size, true);
    v.setUint32(at + 24, 4 | (s.flags & SHF.WRITE ? 2 : 0) | (s.flags & SHF.EXEC ? 1 : 0), true);
    v.setUint32(at + 28, Math.max(1, s.align), true);
  });
  return bytes;
}

/** The .riscv.attributes contents GNU as writes for rv32imac_zicsr_zifencei (RISC-V ELF psABI, "Attributes"). */
export function riscvAttributes(arch: string): Uint8Array {
  const sub = new ByteWriter();
  sub.u8(1); // Tag_file
  const sizeAt = sub.length;
  sub.u32(0);
  sub.u8(5); // Tag_RISCV_arch
  sub.cstr(arch);
  sub.patch32(sizeAt, sub.length);
  const w = new ByteWriter();
  w.u8(0x41); // 'A'
  w.u32(4 + 6 + sub.length);
  w.cstr('riscv');
  w.bytes(sub.result());
  return w.result();
}
