// `assemble`: source text in, ELF executable, diagnostics, line map and symbols out. Never throws:
// an internal failure becomes an error diagnostic.

import { Assembler } from './assembler';
import { layout, place, Resolver, emit, checkUndefined, type OutputSection } from './layout';
import { buildDwarf } from './dwarf';
import { writeElf, riscvAttributes, SHT, SHF, SHN_ABS, type ElfSectionIn, type ElfSymbolIn } from './elf-writer';
import { displayName, evaluate, type Expr } from './expr';
import { DEFAULT_BASE, type AssembleOptions, type AssembleResult, type LineMapEntry, type SymbolEntry } from './types';
import type { Section } from './state';

/** The ISA string GNU as 2.40 records for -march=rv32imac_zicsr_zifencei. */
export const ARCH_ATTRIBUTE = 'rv32i2p1_m2p0_a2p1_c2p0_zicsr2p0_zifencei2p0_zmmul1p0';

/** True for symbols that stay out of the symbol table (GNU's .L temporaries and numeric labels). */
function isHidden(name: string): boolean {
  return name.startsWith('.L') || name.includes('\u0002');
}

/** Assembles `source`; see AssembleOptions. */
export function assemble(source: string, options: AssembleOptions): AssembleResult {
  const file = options.file || 'input.S';
  try {
    return run(source, { ...options, file });
  } catch (err) {
    return {
      diagnostics: [{ file, line: 1, column: 1, length: 0, severity: 'error', message: `internal assembler error: ${err instanceof Error ? err.message : String(err)}` }],
      lineMap: [], symbols: [], sections: [], entry: 0,
    };
  }
}

function run(source: string, options: AssembleOptions): AssembleResult {
  const base = (options.base ?? DEFAULT_BASE) >>> 0;
  const a = new Assembler(options.reader, options.includeDirs ?? []);
  a.pre.pushFile(options.file, source);
  a.pre.run();
  a.allocateCommons();
  checkUndefined(a);
  layout(a);
  const outs = place(a, base);
  const resolver = new Resolver(a);
  const { bytes, rows } = emit(a, resolver);
  const lineMap: LineMapEntry[] = rows.map((r) => ({ address: r.address, file: a.files[r.file].name, line: r.line }));
  const symbols: SymbolEntry[] = [];
  for (const s of a.symbols.values()) {
    if (isHidden(s.name) || (s.kind !== 'label' && s.kind !== 'equ')) continue;
    const v = resolver.value(s.name);
    if (v !== undefined) symbols.push({ name: s.name, address: Number(BigInt.asUintN(32, v)), global: s.global });
  }
  const start = symbols.find((s) => s.name === '_start');
  const text = outs.find((o) => o.name === '.text');
  const entry = start?.address ?? text?.address ?? base;
  const sections = outs.map((o) => ({ name: o.name, address: o.address, size: o.size, flags: (o.alloc ? 'a' : '') + (o.write ? 'w' : '') + (o.code ? 'x' : '') }));
  const diagnostics = a.diags.list;
  if (a.diags.errors > 0) return { diagnostics, lineMap, symbols, sections, entry };
  const elf = buildElf(a, outs, bytes, rows, resolver, entry, options.file);
  return { elf, diagnostics, lineMap, symbols, sections, entry };
}

function buildElf(a: Assembler, outs: OutputSection[], bytes: Map<Section, Uint8Array>, rows: { address: number; file: number; line: number }[], r: Resolver, entry: number, file: string): Uint8Array {
  const elfSections: ElfSectionIn[] = [];
  const indexOf = new Map<string, number>();
  for (const o of outs) {
    const data = new Uint8Array(o.nobits ? 0 : o.size);
    if (!o.nobits) for (const s of o.inputs) data.set(bytes.get(s)!, s.address - o.address);
    indexOf.set(o.name, elfSections.length + 1);
    elfSections.push({
      name: o.name, type: o.nobits ? SHT.NOBITS : SHT.PROGBITS,
      flags: (o.alloc ? SHF.ALLOC : 0) | (o.write ? SHF.WRITE : 0) | (o.code ? SHF.EXEC : 0),
      address: o.address, data, size: o.size, align: 2 ** o.alignPow,
    });
  }
  const attrs = riscvAttributes(ARCH_ATTRIBUTE);
  elfSections.push({ name: '.riscv.attributes', type: SHT.RISCV_ATTRIBUTES, flags: 0, address: 0, data: attrs, size: attrs.length, align: 1 });
  const code = outs.filter((o) => o.code && o.size > 0).map((o): [number, number] => [o.address, o.address + o.size]);
  if (rows.length && code.length) {
    const slash = file.lastIndexOf('/');
    const d = buildDwarf(rows, a.files.map((f) => f.name), code, slash > 0 ? file.slice(0, slash) : '.', file);
    for (const [name, data] of [['.debug_line', d.line], ['.debug_info', d.info], ['.debug_abbrev', d.abbrev], ['.debug_aranges', d.aranges]] as const) {
      elfSections.push({ name, type: SHT.PROGBITS, flags: 0, address: 0, data, size: data.length, align: 1 });
    }
  }
  const syms: ElfSymbolIn[] = [];
  for (const s of a.sections) {
    const idx = indexOf.get(s.outName);
    if (idx === undefined) continue;
    for (const m of s.mapping) {
      if (m.index >= s.items.length) continue;
      syms.push({ name: m.code ? '$x' : '$d', value: s.address + s.offsets[m.index], section: idx, global: false });
    }
  }
  for (const s of a.symbols.values()) {
    if (isHidden(s.name) || (s.kind !== 'label' && s.kind !== 'equ')) continue;
    const v = r.value(s.name);
    if (v === undefined) continue;
    const section = s.kind === 'label' ? indexOf.get(s.section!.outName) ?? SHN_ABS : SHN_ABS;
    const size = s.size === undefined ? undefined : sizeOf(s.size, r);
    syms.push({
      name: displayName(s.name), value: Number(BigInt.asUintN(32, v)), section, global: s.global,
      size: size === undefined ? 0 : Number(BigInt.asUintN(32, size)), type: s.elfType ?? 0,
    });
  }
  return writeElf(elfSections, syms, entry, 1);
}

/** A `.size` expression's value after layout; 0 when it cannot be evaluated (GNU then errors; checkUndefined names the symbol). */
function sizeOf(e: Expr, r: Resolver): bigint {
  try {
    return evaluate(e, (n) => r.value(n));
  } catch {
    return 0n;
  }
}
