// Layout: sizes of relaxable branches and alignment padding (GNU as's relax_segment with the
// RISC-V rules of tc-riscv.c relaxed_branch_length), placement of sections at the link address
// (GNU ld's default order .text, .rodata, .data, other, .bss), then the final bytes.

import { encode, type Fields } from '../isa/encode';
import { fieldFits } from '../isa/fields';
import { Op } from '../isa/opcodes';
import { INSN_BY_ID } from '../isa/table';
import { evaluate, EvalError, symbolPlusOffset, displayName, type Expr } from './expr';
import type { Assembler } from './assembler';
import { checkField } from './forms';
import type { Item, Loc, Section, Sym } from './state';

const NOP = 0x00000013;
const C_NOP = 0x0001;
/** Reach of c.beqz/c.bnez, c.j/c.jal and 32-bit branches (tc-riscv.c RVC_BRANCH_REACH etc.). */
const RVC_BRANCH_REACH = 1 << 9;
const RVC_JUMP_REACH = 1 << 12;
const BRANCH_REACH = 1 << 13;

/** Address of a label once sections are placed. */
function labelAddress(s: Sym): number {
  return s.section!.address + s.section!.offsets[s.index!];
}

/** Pads a code section to its alignment at the end, as GNU as does for code sections. */
function padCodeSections(a: Assembler): void {
  for (const s of a.sections) {
    if (!s.code || s.items.length === 0) continue;
    s.items.push({ k: 'align', size: 0, pow: s.alignPow, fill: undefined, fillSize: 1, max: 1 << 30, code: true, loc: s.items[s.items.length - 1].loc });
  }
}

function alignPad(off: number, it: Extract<Item, { k: 'align' }>): number {
  const a = 2 ** it.pow;
  const pad = (a - (off % a)) % a;
  return pad > it.max ? 0 : pad;
}

/** Size of a relaxable branch at `off` in `s` (tc-riscv.c relaxed_branch_length). */
function branchSize(a: Assembler, s: Section, it: Extract<Item, { k: 'branch' }>, off: number): number {
  const target = symbolPlusOffset(it.target, (e) => a.constant(e));
  const long = it.uncond ? 4 : 8;
  if (!target) return long;
  const sym = a.symbols.get(target.sym);
  if (!sym || sym.kind !== 'label' || sym.section !== s) return long;
  const val = s.offsets[sym.index!] + Number(target.off) - off;
  const reach = it.uncond ? RVC_JUMP_REACH : RVC_BRANCH_REACH;
  if (it.rvc && val + reach / 2 >= 0 && val + reach / 2 < reach) return 2;
  if (val + BRANCH_REACH / 2 >= 0 && val + BRANCH_REACH / 2 < BRANCH_REACH) return 4;
  if (!it.uncond && it.rvc) return 6;
  return long;
}

/** Computes item offsets of every section, iterating branch sizes to a fixed point. */
export function layout(a: Assembler): void {
  padCodeSections(a);
  for (const s of a.sections) {
    const n = s.items.length;
    s.offsets = new Array<number>(n + 1).fill(0);
    for (let round = 0; ; round++) {
      let off = 0;
      let changed = false;
      for (let i = 0; i < n; i++) {
        s.offsets[i] = off;
        const it = s.items[i];
        if (it.k === 'align') it.size = alignPad(off, it);
        else if (it.k === 'branch' && round > 0) {
          const size = branchSize(a, s, it, off);
          // Past many rounds only growth is allowed, which guarantees termination.
          if (size !== it.size && (round < 20 || size > it.size)) {
            it.size = size;
            changed = true;
          }
        }
        off += it.size;
      }
      s.offsets[n] = off;
      if (round > 0 && !changed) break;
      if (round > 60) break;
    }
  }
}

/** Output sections in link order, each a run of input sections. */
export interface OutputSection {
  readonly name: string;
  readonly inputs: Section[];
  address: number;
  size: number;
  alignPow: number;
  readonly code: boolean;
  readonly write: boolean;
  readonly nobits: boolean;
  readonly alloc: boolean;
}

/** Places sections from `base` on; returns the output sections (empty ones omitted). */
export function place(a: Assembler, base: number): OutputSection[] {
  const order = ['text', 'rodata', 'data', 'other', 'bss'];
  const outs: OutputSection[] = [];
  for (const kind of order) {
    for (const s of a.sections) {
      if (s.out !== kind) continue;
      let o = outs.find((x) => x.name === s.outName);
      if (!o) {
        o = { name: s.outName, inputs: [], address: 0, size: 0, alignPow: 0, code: s.code, write: s.write, nobits: s.nobits, alloc: s.alloc };
        outs.push(o);
      }
      o.inputs.push(s);
    }
  }
  let addr = base >>> 0;
  const placed: OutputSection[] = [];
  for (const o of outs) {
    const size = o.inputs.reduce((n, s) => n + s.offsets[s.items.length], 0);
    if (size === 0 && o.name !== '.text') {
      for (const s of o.inputs) s.address = addr;
      continue;
    }
    if (!o.alloc) {
      for (const s of o.inputs) s.address = 0;
      continue;
    }
    o.alignPow = Math.max(...o.inputs.map((s) => s.alignPow));
    addr = alignUp(addr, 2 ** o.alignPow);
    o.address = addr;
    for (const s of o.inputs) {
      addr = alignUp(addr, 2 ** s.alignPow);
      s.address = addr;
      addr += s.offsets[s.items.length];
    }
    o.size = addr - o.address;
    placed.push(o);
  }
  return placed;
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** Final values of symbols, with equ expressions evaluated after placement. */
export class Resolver {
  private readonly pcrelHi = new Map<number, number>();
  /** Addresses of auipc instructions whose %pcrel_hi operand failed (and was reported). */
  private readonly pcrelHiFailed = new Set<number>();

  constructor(private readonly a: Assembler) {}

  /** Value of a symbol, or undefined when it has none. */
  value(name: string): bigint | undefined {
    const s = this.a.symbols.get(name);
    if (!s) return undefined;
    if (s.kind === 'label') return BigInt(labelAddress(s));
    if (s.kind !== 'equ') return undefined;
    if (s.value !== undefined) return s.value;
    if (!s.expr || s.busy) return undefined;
    s.busy = true;
    try {
      return evaluate(s.expr, (n) => this.value(n));
    } catch {
      return undefined;
    } finally {
      s.busy = false;
    }
  }

  /** Evaluates an expression after placement; reports and returns undefined on failure. */
  eval(e: Expr, loc: Loc, pc: number): bigint | undefined {
    try {
      return evaluate(e, (n) => this.value(n), (fn, inner) => this.reloc(fn, inner, loc, pc));
    } catch (err) {
      if (!(err instanceof EvalError)) throw err;
      // An empty message: the failure was reported where it happened (an operand, its %pcrel_hi).
      if (err.symbol === undefined && err.message === '') return undefined;
      const at = { ...loc, col: err.col, len: Math.max(1, err.len) };
      if (err.symbol !== undefined) {
        const s = this.a.symbols.get(err.symbol);
        // Never-defined symbols are reported once by checkUndefined.
        if (!s || s.kind === 'undefined') return undefined;
        const msg = s?.busy || (s?.kind === 'equ' && s.expr) ? `symbol '${displayName(err.symbol)}' has no value (circular or undefined definition)` : `undefined symbol '${displayName(err.symbol)}'`;
        this.a.error(at, msg);
      } else this.a.error(at, err.message);
      return undefined;
    }
  }

  private reloc(fn: string, inner: Expr, loc: Loc, pc: number): bigint {
    const v = this.eval(inner, loc, pc);
    if (v === undefined) throw new EvalError('', inner.col, 0);
    const x = this.apply(fn, Number(BigInt.asIntN(32, v)), pc);
    if (x === undefined && this.pcrelHiFailed.has(Number(BigInt.asUintN(32, v)))) throw new EvalError('', inner.col, 0);
    if (x === undefined) throw new EvalError('%pcrel_lo must name the label of an auipc with %pcrel_hi', inner.col, 1);
    return BigInt(x);
  }

  /** Applies a relocation operator to a value at `pc` (RISC-V ELF psABI, "Relocations"). */
  apply(fn: string, x: number, pc: number): number | undefined {
    if (fn === 'hi') return ((x + 0x800) >>> 12) & 0xfffff;
    if (fn === 'lo') return ((x & 0xfff) ^ 0x800) - 0x800;
    if (fn === 'pcrel_hi') return ((((x - pc) | 0) + 0x800) >>> 12) & 0xfffff;
    if (fn === 'branch') return (x - pc) | 0;
    if (fn !== 'pcrel_lo') return x;
    const target = this.pcrelHi.get(x >>> 0);
    if (target === undefined) return undefined;
    const d = (target - (x >>> 0)) | 0;
    return ((d & 0xfff) ^ 0x800) - 0x800;
  }

  /** Whether the auipc at `address` has a %pcrel_hi that failed to evaluate (already reported). */
  pcrelHiFailedAt(address: number): boolean {
    return this.pcrelHiFailed.has(address >>> 0);
  }

  /** Records the target of every %pcrel_hi so %pcrel_lo can find it by the auipc's address. */
  collectPcrelHi(): void {
    for (const s of this.a.sections) {
      s.items.forEach((it, i) => {
        if (it.k !== 'insn' || it.fix.fn !== 'pcrel_hi') return;
        const pc = s.address + s.offsets[i];
        const v = this.eval(it.fix.expr, it.loc, pc);
        if (v !== undefined) this.pcrelHi.set(pc >>> 0, Number(BigInt.asUintN(32, v)));
        else this.pcrelHiFailed.add(pc >>> 0);
      });
    }
  }
}

/** A row of the line map before file names are attached. */
export interface LineRow {
  readonly address: number;
  readonly file: number;
  readonly line: number;
}

/** Writes every section's bytes; returns them with the instruction line rows. */
export function emit(a: Assembler, r: Resolver): { bytes: Map<Section, Uint8Array>; rows: LineRow[] } {
  r.collectPcrelHi();
  const bytes = new Map<Section, Uint8Array>();
  const rows: LineRow[] = [];
  for (const s of a.sections) {
    const buf = new Uint8Array(s.nobits ? 0 : s.offsets[s.items.length]);
    const put = (off: number, v: number, n: number): void => {
      for (let k = 0; k < n; k++) buf[off + k] = (v >>> (8 * k)) & 0xff;
    };
    s.items.forEach((it, i) => {
      const off = s.offsets[i];
      const pc = (s.address + off) >>> 0;
      if (s.code && (it.k === 'insn' || it.k === 'branch' || it.k === 'word' || (it.k === 'bytes' && it.insn))) rows.push({ address: pc, file: it.loc.file, line: it.loc.line });
      if (s.nobits) return;
      switch (it.k) {
        case 'bytes': buf.set(it.bytes, off); break;
        case 'word': put(off, it.value, it.size); break;
        case 'space': buf.fill(it.fill, off, off + it.size); break;
        case 'align': fillAlign(buf, off, it.size, it.code, it.fill); break;
        case 'data': {
          const v = r.eval(it.expr, it.loc, pc);
          if (v === undefined) break;
          let u = BigInt.asUintN(it.width * 8, v);
          for (let k = 0; k < it.width; k++, u >>= 8n) buf[off + k] = Number(u & 0xffn);
          break;
        }
        case 'insn': {
          const fields: Fields = { ...it.fields };
          const v = r.eval(it.fix.expr, it.loc, pc);
          if (v === undefined) break;
          const x = r.apply(it.fix.fn, Number(BigInt.asIntN(32, v)), pc);
          if (x === undefined) {
            // Its auipc's %pcrel_hi failed and was reported there; one error is enough.
            if (!r.pcrelHiFailedAt(Number(BigInt.asUintN(32, v)))) a.error(it.loc, '%pcrel_lo must name the label of an auipc with %pcrel_hi');
            break;
          }
          if (it.fix.fn === 'branch' || it.fix.fn === 'abs') {
            const msg = checkField(it.def, it.fix.field, x);
            if (msg) {
              a.error(it.loc, it.fix.fn === 'branch' ? `${it.def.name} target out of range (offset ${x})` : msg);
              break;
            }
          }
          fields[it.fix.field] = x;
          put(off, encode(it.def, fields), it.size);
          break;
        }
        case 'branch': writeBranch(a, r, it, buf, off, pc); break;
      }
    });
    bytes.set(s, buf);
  }
  return { bytes, rows };
}

/** riscv_make_nops: a zero byte for odd padding, at most one c.nop, then 4-byte nops. */
function fillAlign(buf: Uint8Array, off: number, size: number, code: boolean, fill: number | undefined): void {
  if (!code) return void buf.fill(fill ?? 0, off, off + size);
  let i = 0;
  if (size % 2 === 1) buf[off + i++] = 0;
  if ((size - i) % 4 === 2) {
    buf[off + i] = C_NOP & 0xff;
    buf[off + i + 1] = C_NOP >>> 8;
    i += 2;
  }
  for (; i < size; i += 4) {
    buf[off + i] = NOP & 0xff;
    buf[off + i + 1] = (NOP >>> 8) & 0xff;
    buf[off + i + 2] = (NOP >>> 16) & 0xff;
    buf[off + i + 3] = NOP >>> 24;
  }
}

/** md_convert_frag for RELAX_BRANCH: 2 = C form, 4 = base, 6 = inverted C branch + jal, 8 = inverted branch + jal. */
function writeBranch(a: Assembler, r: Resolver, it: Extract<Item, { k: 'branch' }>, buf: Uint8Array, off: number, pc: number): void {
  const v = r.eval(it.target, it.loc, pc);
  if (v === undefined) return;
  const target = Number(BigInt.asUintN(32, v));
  const put = (o: number, w: number, n: number): void => {
    for (let k = 0; k < n; k++) buf[o + k] = (w >>> (8 * k)) & 0xff;
  };
  const rel = (at: number): number => (target - at) | 0;
  const jal = (at: number, rd: number): number | undefined => {
    const d = rel(at);
    if (!fieldFits('imm_j', d)) {
      a.error(it.loc, `jump target out of range: offset ${d} is beyond ±1 MiB`);
      return undefined;
    }
    return encode(INSN_BY_ID[Op.JAL], { rd, imm_j: d });
  };
  switch (it.size) {
    case 2: {
      const cop = it.uncond ? (it.fields.rd === 1 ? Op.C_JAL : Op.C_J) : it.op === Op.BEQ ? Op.C_BEQZ : Op.C_BNEZ;
      const d = rel(pc);
      const field = it.uncond ? 'c_jimm' : 'c_bimm';
      put(off, encode(INSN_BY_ID[cop], it.uncond ? { [field]: d } : { cp_rs1: it.fields.rs1 ?? 0, [field]: d }), 2);
      return;
    }
    case 4: {
      if (it.uncond) {
        const w = jal(pc, it.fields.rd ?? 0);
        if (w !== undefined) put(off, w, 4);
        return;
      }
      const d = rel(pc);
      if (!fieldFits('imm_b', d)) return a.error(it.loc, `branch target out of range: offset ${d} is beyond ±4 KiB`);
      put(off, encode(INSN_BY_ID[it.op], { ...it.fields, imm_b: d }), 4);
      return;
    }
    case 6: {
      const cop = it.op === Op.BEQ ? Op.C_BNEZ : Op.C_BEQZ;
      put(off, encode(INSN_BY_ID[cop], { cp_rs1: it.fields.rs1 ?? 0, c_bimm: 6 }), 2);
      const w = jal(pc + 2, 0);
      if (w !== undefined) put(off + 2, w, 4);
      return;
    }
    default: {
      // Invert the condition (funct3 bit 0: beq/bne, blt/bge, bltu/bgeu) and branch over the jal.
      const base = encode(INSN_BY_ID[it.op], { ...it.fields, imm_b: 8 }) ^ 0x1000;
      put(off, base, 4);
      const w = jal(pc + 4, 0);
      if (w !== undefined) put(off + 4, w, 4);
    }
  }
}

/** Reports symbols used but never defined. */
export function checkUndefined(a: Assembler): void {
  for (const s of a.symbols.values()) {
    if (s.kind === 'undefined' && s.useLoc && !s.name.startsWith('.L\u0001')) {
      a.error(s.useLoc, s.name.includes('\u0002') ? `local label '${displayName(s.name)}' is not defined ${/\u00020$/.test(s.name) ? 'before this point (b looks backward)' : 'after this point (f looks forward)'}` : `undefined symbol '${s.name}'`);
    }
  }
}
