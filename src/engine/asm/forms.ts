// Instruction forms: for each mnemonic, the operand shapes it accepts, in the order GNU as tries
// them (riscv-opc.c). Real instructions come from the instruction table's syntax strings; the
// pseudo-instructions (isa/pseudo.ts) add GNU's aliases and macros.

import { FIELDS, fieldFits, type FieldName } from '../isa/fields';
import { Op } from '../isa/opcodes';
import { INSTRUCTIONS, INSN_BY_ID, type InsnDef } from '../isa/table';
import { C_CHOICES, type CChoice, type Fields } from '../isa/encode';
import { ABI_NAMES } from '../isa/registers';
import { hasReloc, type Expr, type ExprHooks } from './expr';
import type { MemOperand, RawOperand } from './operands';
import type { Fixup, Loc } from './state';

/** Operand kinds: register, immediate, memory, AMO address, CSR, fence set, branch target. */
export type Kind = 'R' | 'I' | 'M' | 'A' | 'C' | 'F' | 'T';

/** A parsed operand value for its kind. */
export type Value = number | Expr | MemOperand;

/** What forms need from the assembler. */
export interface FormContext {
  readonly rvc: boolean;
  readonly hooks: ExprHooks;
  /** Value of an expression known at this point of the source, else undefined. */
  constant(e: Expr): bigint | undefined;
  error(loc: Loc, message: string): void;
  /** Emits an instruction with known fields, compressed by `choices` when C is enabled. */
  emit(def: InsnDef, fields: Fields, loc: Loc, choices?: readonly CChoice[]): void;
  /** Emits an instruction whose `fix.field` is computed after layout. */
  emitFix(def: InsnDef, fields: Fields, fix: Fixup, loc: Loc): void;
  /** Emits a relaxable branch or jump (GNU's RELAX_BRANCH frag). */
  emitBranch(op: Op, fields: Fields, target: Expr, rvc: boolean, loc: Loc): void;
  /** Emits raw instruction bytes (c.unimp). */
  emitRaw(bytes: number[], loc: Loc): void;
  /** A fresh hidden label at the current location, for %pcrel_lo pairing. */
  hereLabel(): string;
}

/** One accepted operand shape of a mnemonic. */
export interface Form {
  readonly kinds: readonly Kind[];
  /** Registers that must be exactly this (c.addi4spn's sp); index → register. */
  readonly fixedRegs?: ReadonlyMap<number, number>;
  emit(c: FormContext, v: readonly Value[], loc: Loc, ops: readonly RawOperand[]): void;
}

/** Location of operand `i` (or the whole statement when missing). */
export function opLoc(loc: Loc, ops: readonly RawOperand[], i: number): Loc {
  const o = ops[i];
  return o ? { file: loc.file, line: loc.line, col: o.col, len: Math.max(1, o.text.length) } : loc;
}

/** Inclusive range and scale of an immediate field, for messages. */
export function fieldRange(name: FieldName): { lo: number; hi: number; scale: number } {
  const spec = FIELDS[name];
  const scale = 2 ** Math.min(...spec.runs.map((r) => r[1]));
  if (spec.kind === 'csr') return { lo: 0, hi: 4095, scale: 1 };
  if (spec.signed) return { lo: -(2 ** (spec.width - 1)), hi: 2 ** (spec.width - 1) - scale, scale };
  return { lo: 0, hi: 2 ** spec.width - scale, scale };
}

/** Checks a constant against a field; returns an error message or undefined. */
export function checkField(def: InsnDef, name: FieldName, v: number): string | undefined {
  if (FIELDS[name].kind === 'creg' && !fieldFits(name, v)) {
    return `${def.name} needs a register among x8..x15 (s0, s1, a0..a5), got ${ABI_NAMES[v] ?? v}`;
  }
  if (!fieldFits(name, v)) {
    const r = fieldRange(name);
    const mult = r.scale > 1 ? ` and a multiple of ${r.scale}` : '';
    return `immediate ${v} out of range for ${def.name}: expected ${r.lo}..${r.hi}${mult}`;
  }
  if (def.nonzero?.includes(name) && v === 0) {
    return FIELDS[name].kind === 'reg' ? `${def.name} cannot use x0 here (reserved encoding)` : `${def.name} needs a nonzero immediate (zero is a reserved encoding)`;
  }
  return undefined;
}

const RELOC_FIELDS: Partial<Record<FieldName, readonly string[]>> = {
  imm_u: ['hi', 'pcrel_hi'],
  imm_i: ['lo', 'pcrel_lo'],
  imm_s: ['lo', 'pcrel_lo'],
};

/**
 * Resolves an immediate operand for `field`: a constant (range-checked) or a relocation fixup.
 * Returns undefined after reporting an error.
 */
export function immediate(c: FormContext, def: InsnDef, field: FieldName, e: Expr | undefined, loc: Loc): { value: number } | { fix: Fixup } | undefined {
  if (!e) return { value: 0 };
  if (hasReloc(e)) {
    if (e.t !== 'reloc' || !RELOC_FIELDS[field]?.includes(e.fn)) {
      const allowed = RELOC_FIELDS[field]?.map((f) => `%${f}`).join(' or ');
      c.error(loc, allowed ? `${def.name} accepts ${allowed} here, as the whole operand` : `${def.name} takes no relocation operator here`);
      return undefined;
    }
    return { fix: { field, fn: e.fn, expr: e.a } };
  }
  const v = c.constant(e);
  if (v === undefined) {
    c.error(loc, `${def.name} needs a constant here known at this point; for an address use %hi/%lo, %pcrel_hi/%pcrel_lo, la or call`);
    return undefined;
  }
  if (v > 0x7fffffffn || v < -0x80000000n) {
    c.error(loc, `immediate ${v} out of range for ${def.name}: expected ${fieldRange(field).lo}..${fieldRange(field).hi}`);
    return undefined;
  }
  // GNU's c.lui also takes the 20-bit spelling 0xfffe0..0xfffff of a negative upper immediate.
  const n = field === 'c_luiimm' && v >= 0xfffe0n && v <= 0xfffffn ? Number(v) - 0x100000 : Number(v);
  const msg = checkField(def, field, n);
  if (msg) {
    c.error(loc, msg);
    return undefined;
  }
  return { value: n };
}

/** Compression choices GNU uses when an instruction is written with its own mnemonic and syntax. */
function ownChoices(def: InsnDef): readonly CChoice[] | undefined {
  if (def.id === Op.JAL || def.id === Op.JALR || def.id === Op.BEQ || def.id === Op.BNE) return undefined;
  return C_CHOICES[def.id];
}

const TARGET_FIELDS = new Set<FieldName>(['imm_b', 'imm_j', 'c_bimm', 'c_jimm']);

/** Builds the form of a table entry from its syntax string. */
export function tableForm(def: InsnDef): Form {
  const tokens = def.syntax === '' ? [] : def.syntax.split(', ');
  const kinds: Kind[] = [];
  const fixed = new Map<number, number>();
  type Slot = { field?: FieldName; reg?: FieldName; fixedReg?: number };
  const slots: Slot[] = [];
  for (const tok of tokens) {
    const mem = /^([a-z_0-9]*)\(([a-z_0-9]+)\)$/.exec(tok);
    if (mem) {
      const base = mem[2];
      const fixedReg = base === 'sp' ? 2 : undefined;
      kinds.push(mem[1] ? 'M' : 'A');
      slots.push({ field: (mem[1] || undefined) as FieldName | undefined, reg: fixedReg === undefined ? (base as FieldName) : undefined, fixedReg });
    } else if (tok === 'sp') {
      fixed.set(kinds.length, 2);
      kinds.push('R');
      slots.push({});
    } else {
      const f = FIELDS[tok as FieldName];
      if (f.kind === 'reg' || f.kind === 'creg') kinds.push('R');
      else if (f.kind === 'csr') kinds.push('C');
      else if (f.kind === 'fence') kinds.push('F');
      else kinds.push(TARGET_FIELDS.has(tok as FieldName) ? 'T' : 'I');
      slots.push({ field: tok as FieldName });
    }
  }
  return {
    kinds,
    fixedRegs: fixed,
    emit(c, v, loc, ops) {
      const fields: Fields = {};
      let fix: Fixup | undefined;
      let target: Expr | undefined;
      let targetField: FieldName | undefined;
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i];
        const at = opLoc(loc, ops, i);
        const kind = kinds[i];
        if (kind === 'R' || kind === 'C' || kind === 'F') {
          if (!s.field) continue;
          const msg = checkField(def, s.field, v[i] as number);
          if (msg) return c.error(at, msg);
          fields[s.field] = v[i] as number;
        } else if (kind === 'T') {
          target = v[i] as Expr;
          targetField = s.field;
        } else if (kind === 'I' || kind === 'M' || kind === 'A') {
          const m = kind === 'I' ? undefined : (v[i] as MemOperand | number);
          if (s.reg) {
            const reg = typeof m === 'number' ? m : m!.reg;
            const msg = checkField(def, s.reg, reg);
            if (msg) return c.error(at, msg);
            fields[s.reg] = reg;
          }
          if (!s.field) continue;
          const e = kind === 'I' ? (v[i] as Expr) : (m as MemOperand).offset;
          const r = immediate(c, def, s.field, e, at);
          if (!r) return;
          if ('fix' in r) {
            if (fix) return c.error(at, `${def.name} takes one relocation operator`);
            fix = r.fix;
          } else fields[s.field] = r.value;
        }
      }
      if (target && targetField) {
        if (def.size === 2) return c.emitFix(def, fields, { field: targetField, fn: 'branch', expr: target }, loc);
        const rvc = (def.id === Op.BEQ || def.id === Op.BNE) && (fields.rs2 ?? 0) === 0 && (fields.rs1 ?? 0) >= 8 && (fields.rs1 ?? 0) < 16;
        return c.emitBranch(def.id, fields, target, c.rvc && rvc, loc);
      }
      if (fix) return c.emitFix(def, fields, fix, loc);
      c.emit(def, fields, loc, ownChoices(def));
    },
  };
}

/** The mnemonics of table entries, including the .aq/.rl/.aqrl spellings of AMOs. */
export function tableMnemonics(): [string, InsnDef, number][] {
  const out: [string, InsnDef, number][] = [];
  for (const def of INSTRUCTIONS) {
    out.push([def.name, def, 0]);
    if (def.aqrl) {
      out.push([`${def.name}.aq`, def, 2], [`${def.name}.rl`, def, 1], [`${def.name}.aqrl`, def, 3]);
    }
  }
  return out;
}

/** Wraps a table form so that it also sets the aq/rl bits. */
export function withAqrl(form: Form, bits: number): Form {
  if (bits === 0) return form;
  return {
    ...form,
    emit(c, v, loc, ops) {
      const inner: FormContext = Object.create(c) as FormContext;
      (inner as { emit: FormContext['emit'] }).emit = (def, fields, l, ch) => c.emit(def, { ...fields, aqrl: bits }, l, ch);
      form.emit(inner, v, loc, ops);
    },
  };
}

/** The table entry of an Op. */
export function def(op: Op): InsnDef {
  return INSN_BY_ID[op];
}
