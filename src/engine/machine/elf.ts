// ELF32 loader for RISC-V executables (System V gABI "Object Files"; RISC-V ELF psABI). Loads PT_LOAD
// segments at their physical addresses (p_paddr) as QEMU's load_elf does for -kernel, skipping every
// other program header (binutils 2.40 puts PT_RISCV_ATTRIBUTES first). Reads .symtab for symbols such as
// tohost/fromhost. Every malformed input ends in an ElfError whose message says what is wrong and how to
// fix the build; no other exception escapes parseElf, whatever the bytes.
//
// With allowed regions given, GNU ld's default layout needs one allowance: `ld -Ttext=0x80000000` puts
// the page holding the ELF and program headers into the first PT_LOAD, at 0x7ffff000, below RAM. QEMU
// loads such files and drops the bytes that fall outside memory; here the part of a segment below its
// region is trimmed off (the segment reported starts at the region). A segment that misses every
// region, or runs past the end of its region, is an error.

/** Why an ELF file was rejected. */
export type ElfErrorKind =
  | 'not-elf'
  | 'elf64'
  | 'big-endian'
  | 'bad-header'
  | 'not-riscv'
  | 'not-executable'
  | 'truncated'
  | 'bad-segment'
  | 'no-segments'
  | 'overlap'
  | 'outside-ram';

/** A rejected ELF file, with a message meant for the student who built it. */
export class ElfError extends Error {
  /** Machine-readable reason. */
  readonly kind: ElfErrorKind;
  constructor(kind: ElfErrorKind, message: string) {
    super(message);
    this.name = 'ElfError';
    this.kind = kind;
  }
}

/**
 * One PT_LOAD segment: `data` goes at `paddr`; the rest up to `memsz` is zero. Segments with p_memsz = 0
 * load nothing and are left out.
 */
export interface ElfSegment {
  paddr: number;
  vaddr: number;
  data: Uint8Array;
  memsz: number;
  /** p_flags: PF_X = 1, PF_W = 2, PF_R = 4. */
  flags: number;
}

/** A parsed executable. */
export interface ElfImage {
  entry: number;
  segments: ElfSegment[];
  /** Symbol values from .symtab by name (global symbols win over local ones of the same name). */
  symbols: Map<string, number>;
}

/** A physical address range segments may occupy. */
export interface ElfRegion {
  base: number;
  size: number;
}

/** Where segments may be loaded; with none given, any address is accepted. */
export interface ElfLoadOptions {
  /** RAM base, used with ramSize as the one allowed region. */
  ramBase?: number;
  /** RAM size in bytes. */
  ramSize?: number;
  /** Allowed regions (instead of ramBase/ramSize). */
  regions?: readonly ElfRegion[];
}

const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
const SHDR_SIZE = 40;
const SYM_SIZE = 16;
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;
const ET_REL = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const ET_CORE = 4;
const EM_RISCV = 243;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const STB_LOCAL = 0;
const STT_SECTION = 3;
const STT_FILE = 4;
const SHN_UNDEF = 0;
const TWO_32 = 0x1_0000_0000;
const HINT = 'build for vmlab with -march=rv32imac_zicsr_zifencei -mabi=ilp32 (link with ld -m elf32lriscv)';

/** e_machine values a student is likely to meet (gABI table "e_machine"). */
const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [2, 'SPARC'], [3, 'Intel 80386 (x86)'], [8, 'MIPS'], [20, 'PowerPC'], [21, 'PowerPC64'], [22, 'IBM S/390'],
  [40, 'ARM'], [42, 'SuperH'], [43, 'SPARC V9'], [62, 'x86-64'], [183, 'AArch64 (ARM64)'], [243, 'RISC-V'],
  [258, 'LoongArch'],
]);

function machineName(m: number): string {
  return MACHINE_NAMES.get(m) ?? `machine number ${m}`;
}

/** True when `bytes` starts with the ELF magic (callers load anything else as a raw image). */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Little-endian reads that report reads past the end as a truncated file. */
class Reader {
  constructor(readonly bytes: Uint8Array) {}

  u8(off: number, what: string): number {
    this.need(off, 1, what);
    return this.bytes[off];
  }

  u16(off: number, what: string): number {
    this.need(off, 2, what);
    return this.bytes[off] | (this.bytes[off + 1] << 8);
  }

  u32(off: number, what: string): number {
    this.need(off, 4, what);
    const b = this.bytes;
    return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
  }

  need(off: number, len: number, what: string): void {
    if (off < 0 || len < 0 || off + len > this.bytes.length) {
      throw new ElfError('truncated', `truncated ELF file: ${what} (bytes ${off}..${off + len}) lies beyond the end of the ${this.bytes.length}-byte file`);
    }
  }
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Parses and checks an ELF32 RISC-V executable; throws ElfError for anything it cannot load. */
export function parseElf(bytes: Uint8Array, options: ElfLoadOptions = {}): ElfImage {
  try {
    return parse(bytes, options);
  } catch (e) {
    if (e instanceof ElfError) throw e;
    // A safety net only: the checks above are meant to catch every malformed input first.
    throw new ElfError('bad-header', `malformed ELF file (${e instanceof Error ? e.message : String(e)})`);
  }
}

function parse(bytes: Uint8Array, options: ElfLoadOptions): ElfImage {
  if (!isElf(bytes)) throw new ElfError('not-elf', 'not an ELF file: it does not start with the bytes 7f 45 4c 46 ("\\x7fELF")');
  const r = new Reader(bytes);
  const cls = r.u8(4, 'the ELF identification');
  const data = r.u8(5, 'the ELF identification');
  if (data === ELFDATA2MSB) throw new ElfError('big-endian', `big-endian ELF file: vmlab's RV32 machine is little-endian; ${HINT}`);
  if (data !== ELFDATA2LSB) throw new ElfError('bad-header', `corrupt ELF header: unknown byte order ${data} (EI_DATA must be 1, little-endian)`);
  if (cls === ELFCLASS64) {
    const m = bytes.length >= 20 ? r.u16(18, 'the ELF header') : -1;
    const what = m === EM_RISCV ? 'RV64 ELF64 file' : m >= 0 ? `ELF64 file for ${machineName(m)}` : 'ELF64 file';
    throw new ElfError('elf64', `${what}: vmlab emulates RV32, ${HINT}`);
  }
  if (cls !== ELFCLASS32) throw new ElfError('bad-header', `corrupt ELF header: unknown class ${cls} (EI_CLASS must be 1 for 32-bit)`);
  r.need(0, EHDR_SIZE, 'the ELF header');
  const type = r.u16(16, 'e_type');
  const machine = r.u16(18, 'e_machine');
  if (machine !== EM_RISCV) throw new ElfError('not-riscv', `ELF file for ${machineName(machine)}, not RISC-V: ${HINT}`);
  if (type === ET_REL) throw new ElfError('not-executable', 'relocatable object file (.o): link it into an executable first, e.g. riscv64-unknown-elf-ld -m elf32lriscv -Ttext=0x80000000 -o prog.elf prog.o');
  if (type === ET_CORE) throw new ElfError('not-executable', 'core dump file, not a program');
  if (type !== ET_EXEC && type !== ET_DYN) throw new ElfError('not-executable', `ELF file of unknown type ${type}: expected an executable (ET_EXEC)`);
  const entry = r.u32(24, 'e_entry');
  const segments = loadSegments(r, options);
  return { entry, segments, symbols: readSymbols(r) };
}

function loadSegments(r: Reader, options: ElfLoadOptions): ElfSegment[] {
  const phoff = r.u32(28, 'e_phoff');
  const phentsize = r.u16(42, 'e_phentsize');
  const phnum = r.u16(44, 'e_phnum');
  if (phnum === 0) throw new ElfError('no-segments', 'the ELF file has no program headers: nothing to load (was it linked?)');
  if (phentsize < PHDR_SIZE) throw new ElfError('bad-header', `corrupt ELF header: program header size ${phentsize}, expected ${PHDR_SIZE}`);
  r.need(phoff, phnum * phentsize, `the program header table (${phnum} entries)`);
  const regions = allowedRegions(options);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (r.u32(at, 'a program header') !== PT_LOAD) continue;
    const offset = r.u32(at + 4, 'p_offset');
    const vaddr = r.u32(at + 8, 'p_vaddr');
    const paddr = r.u32(at + 12, 'p_paddr');
    const filesz = r.u32(at + 16, 'p_filesz');
    const memsz = r.u32(at + 20, 'p_memsz');
    const flags = r.u32(at + 24, 'p_flags');
    const name = `segment ${i} (PT_LOAD at physical ${hex(paddr)})`;
    if (filesz > memsz) throw new ElfError('bad-segment', `${name} has more file bytes (${filesz}) than memory bytes (${memsz})`);
    if (paddr + memsz > TWO_32) throw new ElfError('outside-ram', `${name} of ${memsz} bytes runs past the end of the 32-bit address space`);
    r.need(offset, filesz, `the data of ${name}`);
    if (memsz === 0) continue;
    let trim = 0;
    if (regions) {
      const end = paddr + memsz;
      // The region the segment overlaps, else the one it lies beyond the end of (RAM too small).
      const region = regions.find((g) => paddr < g.base + g.size && end > g.base) ??
        regions.filter((g) => g.base <= paddr).sort((a, b) => b.base - a.base)[0];
      if (!region) {
        throw new ElfError('outside-ram', `${name}, ${hex(paddr)}..${hex(end)}, is outside RAM (${describe(regions)}): link the program at 0x80000000, e.g. ld -Ttext=0x80000000`);
      }
      if (end > region.base + region.size) {
        throw new ElfError('outside-ram', `${name}, ${hex(paddr)}..${hex(end)}, does not fit in RAM (${describe(regions)}): the program is ${end - region.base - region.size} bytes too large, give the machine more memory or shrink the program`);
      }
      trim = Math.max(0, region.base - paddr);
    }
    segments.push({
      paddr: paddr + trim,
      vaddr: (vaddr + trim) >>> 0,
      data: r.bytes.slice(offset + Math.min(trim, filesz), offset + filesz),
      memsz: memsz - trim,
      flags,
    });
  }
  if (segments.length === 0) throw new ElfError('no-segments', 'the ELF file has no PT_LOAD segment with contents: nothing to load');
  const sorted = segments.slice().sort((a, b) => a.paddr - b.paddr);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (b.paddr < a.paddr + a.memsz) {
      throw new ElfError('overlap', `PT_LOAD segments overlap: ${hex(a.paddr)}..${hex(a.paddr + a.memsz)} and ${hex(b.paddr)}..${hex(b.paddr + b.memsz)} (check the linker script's load addresses)`);
    }
  }
  return segments;
}

function allowedRegions(options: ElfLoadOptions): readonly ElfRegion[] | undefined {
  if (options.regions) return options.regions;
  if (options.ramBase !== undefined && options.ramSize !== undefined) return [{ base: options.ramBase, size: options.ramSize }];
  return undefined;
}

function describe(regions: readonly ElfRegion[]): string {
  return regions.map((g) => `${hex(g.base)}..${hex(g.base + g.size)}`).join(', ');
}

/** Names and values from the first SHT_SYMTAB section; none when the file has no section headers. */
function readSymbols(r: Reader): Map<string, number> {
  const symbols = new Map<string, number>();
  const shoff = r.u32(32, 'e_shoff');
  const shentsize = r.u16(46, 'e_shentsize');
  const shnum = r.u16(48, 'e_shnum');
  if (shoff === 0 || shnum === 0) return symbols;
  if (shentsize < SHDR_SIZE) throw new ElfError('bad-header', `corrupt ELF header: section header size ${shentsize}, expected ${SHDR_SIZE}`);
  r.need(shoff, shnum * shentsize, `the section header table (${shnum} entries)`);
  const globals = new Set<string>();
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (r.u32(sh + 4, 'sh_type') !== SHT_SYMTAB) continue;
    const symOff = r.u32(sh + 16, 'sh_offset');
    const symSize = r.u32(sh + 20, 'sh_size');
    const link = r.u32(sh + 24, 'sh_link');
    if (link >= shnum) throw new ElfError('bad-header', `corrupt symbol table: its string table is section ${link} of ${shnum}`);
    const strSh = shoff + link * shentsize;
    const strOff = r.u32(strSh + 16, 'sh_offset');
    const strSize = r.u32(strSh + 20, 'sh_size');
    r.need(symOff, symSize, 'the symbol table');
    r.need(strOff, strSize, 'the symbol string table');
    const count = Math.floor(symSize / SYM_SIZE);
    for (let k = 1; k < count; k++) {
      const s = symOff + k * SYM_SIZE;
      const nameOff = r.u32(s, 'st_name');
      const info = r.u8(s + 12, 'st_info');
      const shndx = r.u16(s + 14, 'st_shndx');
      const kind = info & 0xf;
      if (nameOff === 0 || shndx === SHN_UNDEF || kind === STT_SECTION || kind === STT_FILE) continue;
      if (nameOff >= strSize) throw new ElfError('bad-header', `corrupt symbol table: symbol ${k} names offset ${nameOff} beyond the string table`);
      const name = cString(r.bytes, strOff + nameOff, strOff + strSize);
      const global = info >>> 4 !== STB_LOCAL;
      if (global ? !globals.has(name) : !symbols.has(name)) {
        symbols.set(name, r.u32(s + 4, 'st_value'));
        if (global) globals.add(name);
      }
    }
    break;
  }
  return symbols;
}

/** The NUL-terminated string at `start` (ending at `end` at the latest), decoded as Latin-1/ASCII. */
function cString(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end && bytes[i] !== 0; i++) s += String.fromCharCode(bytes[i]);
  return s;
}
