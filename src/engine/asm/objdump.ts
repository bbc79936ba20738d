// `objdump -d`-style listing of an ELF file: every executable section, a `<symbol>:` header at each
// symbol, one line per instruction (address, raw bytes, mnemonic, operands, `<sym+off>` targets),
// and data between mapping symbols $d/$x printed as .byte/.short/.word (riscv-dis.c 2.40).

import { readElf, type ElfFile, type ElfSection, type ElfSymbol } from './elf-reader';
import { DisasmState, printInsn } from './disasm';

const SHF_EXECINSTR = 4;

/** Symbols objdump uses for labels: not mapping, section or file symbols. */
function labelSymbols(elf: ElfFile): ElfSymbol[] {
  return elf.symbols.filter((s) => s.name !== '' && !s.name.startsWith('$') && s.type !== 3 && s.type !== 4 && s.shndx !== 0);
}

/** objdump's compare_symbols for symbols of equal value: globals first, '.' names last, then by name. */
function compareSymbols(a: ElfSymbol, b: ElfSymbol): number {
  if (a.value !== b.value) return a.value - b.value;
  if ((a.bind === 0) !== (b.bind === 0)) return a.bind === 0 ? 1 : -1;
  if (a.name.startsWith('.') !== b.name.startsWith('.')) return a.name.startsWith('.') ? 1 : -1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Finds the symbol objdump names an address after (objdump.c find_symbol_for_address for an
 * executable): the nearest at or below it in any section, absolute ones included; among equal values
 * one in the section being disassembled, else the first in compare_symbols order.
 */
export class Symbolizer {
  private readonly sorted: ElfSymbol[];
  constructor(private readonly elf: ElfFile) {
    this.sorted = labelSymbols(elf).sort(compareSymbols);
  }

  /** `<sym+0x..>` text for an address (without the brackets' leading space), seen from section `from`. */
  name(addr: number, from?: ElfSection): string {
    const syms = this.sorted;
    let hi = syms.length;
    for (let lo = 0; lo < hi; ) {
      const mid = (lo + hi) >> 1;
      if (syms[mid].value <= addr) lo = mid + 1;
      else hi = mid;
    }
    // hi is the first symbol above addr; the candidates share the value of the one before it.
    let best: ElfSymbol | undefined;
    if (hi > 0) {
      const value = syms[hi - 1].value;
      let first = hi - 1;
      while (first > 0 && syms[first - 1].value === value) first--;
      best = syms.slice(first, hi).find((s) => from !== undefined && s.shndx === from.index) ?? syms[first];
    } else {
      best = syms[0];
    }
    if (!best) {
      const sec = from ?? this.elf.sections.find((s) => s.flags & 2 && addr >= s.addr && addr < s.addr + s.size);
      return sec ? `<${sec.name}+${hexOff(addr - sec.addr)}>` : '';
    }
    const d = addr - best.value;
    return d === 0 ? `<${best.name}>` : d > 0 ? `<${best.name}+${hexOff(d)}>` : `<${best.name}-${hexOff(-d)}>`;
  }

  /** Symbols that label exactly `addr` in section `sec`, best first. */
  at(addr: number, sec: ElfSection): ElfSymbol | undefined {
    return this.sorted.find((s) => s.value === addr && s.shndx === sec.index);
  }
}

function hexOff(v: number): string {
  return `0x${v.toString(16)}`;
}

/** Disassembles an ELF file as `objdump -d` prints it; an error line when it is not ELF32 LE. */
export function disassembleElf(bytes: Uint8Array): string {
  const elf = readElf(bytes);
  if (!elf) return 'error: not an ELF32 little-endian file\n';
  const syms = new Symbolizer(elf);
  const st = new DisasmState();
  const gp = elf.symbols.find((s) => s.name === '__global_pointer$');
  if (gp) st.gp = gp.value;
  let out = '\nfile format elf32-littleriscv\n\n';
  for (const sec of elf.sections) {
    if (!(sec.flags & SHF_EXECINSTR) || sec.type === 8 || sec.size === 0) continue;
    out += `\nDisassembly of section ${sec.name}:\n`;
    const maps = elf.symbols.filter((s) => s.shndx === sec.index && /^\$[xd]/.test(s.name)).sort((a, b) => a.value - b.value);
    const data = elf.bytes.subarray(sec.offset, sec.offset + sec.size);
    let pc = sec.addr;
    let first = true;
    while (pc < sec.addr + sec.size) {
      const label = syms.at(pc, sec);
      if (label || first) {
        const name = label ? label.name : syms.name(pc, sec).slice(1, -1);
        out += `\n${hex8(pc)} <${name}>:\n`;
        first = false;
      }
      const { mode, noC } = mapState(maps, pc);
      const off = pc - sec.addr;
      if (mode === 'd') {
        let len = 4;
        const next = maps.find((m) => m.value > pc);
        if (next && next.value - pc < len) len = next.value - pc;
        const end = sec.addr + sec.size;
        if (!next && end - pc < len) len = end - pc;
        if (len === 3) len = 2;
        let v = 0;
        for (let i = len - 1; i >= 0; i--) v = v * 256 + data[off + i];
        const raw = v.toString(16).padStart(len * 2, '0');
        const dir = len === 1 ? '.byte' : len === 2 ? '.short' : '.word';
        out += `${addrCol(pc)}\t${raw.padEnd(20)}\t${dir}\t0x${raw}\n`;
        pc += len;
        continue;
      }
      const avail = sec.addr + sec.size - pc;
      if (avail < 2) {
        out += `${addrCol(pc)}\t${data[off].toString(16).padStart(2, '0').padEnd(20)}\t.byte\t0x${data[off].toString(16).padStart(2, '0')}\n`;
        pc += 1;
        continue;
      }
      const lo = data[off] | (data[off + 1] << 8);
      const isLong = (lo & 3) === 3;
      if (isLong && avail < 4) {
        out += `${addrCol(pc)}\t${lo.toString(16).padStart(4, '0').padEnd(20)}\t.2byte\t0x${lo.toString(16)}\n`;
        pc += 2;
        continue;
      }
      if (!isLong && noC) {
        out += `${addrCol(pc)}\t${lo.toString(16).padStart(4, '0').padEnd(20)}\t.2byte\t0x${lo.toString(16)}\n`;
        pc += 2;
        continue;
      }
      const bits = isLong ? (lo | (data[off + 2] << 16) | (data[off + 3] << 24)) >>> 0 : lo;
      const p = printInsn(bits, pc, st);
      let operands = p.operands;
      if (p.target !== undefined) operands += `${p.target.toString(16)} ${syms.name(p.target, sec)}`;
      const raw = bits.toString(16).padStart(p.size * 2, '0');
      let line = `${addrCol(pc)}\t${raw.padEnd(20)}\t${p.mnemonic}${operands ? `\t${operands}` : ''}`;
      if (p.comment !== undefined) line += ` # ${p.comment.toString(16)} ${syms.name(p.comment, sec)}`.trimEnd();
      out += `${line}\n`;
      pc += p.size;
    }
  }
  return out;
}

/** Mapping state at `pc`; a `$x<isa>` symbol whose ISA lacks C (GNU's .option norvc) turns C off. */
function mapState(maps: ElfSymbol[], pc: number): { mode: 'x' | 'd'; noC: boolean } {
  let mode: 'x' | 'd' = 'x';
  let noC = false;
  for (const m of maps) {
    if (m.value > pc) break;
    mode = m.name.startsWith('$d') ? 'd' : 'x';
    if (mode === 'x' && m.name.length > 2) noC = !/_c\d/.test(m.name);
  }
  return { mode, noC };
}

function hex8(v: number): string {
  return v.toString(16).padStart(8, '0');
}

function addrCol(pc: number): string {
  return `${pc.toString(16).padStart(8, ' ')}:`;
}
