// Encoding from the instruction table: field values → word, and the compressed form GNU as picks
// for a base instruction. The C alternatives of a base instruction are found by inverting the C
// entries' `expand` maps (table.ts), so no second opcode table exists; only GNU's preference order
// and the commutative/mv special cases are listed here.

import { fieldFits, getField, putField, type FieldName } from './fields';
import { Op } from './opcodes';
import { INSN_BY_ID, INSTRUCTIONS, type InsnDef } from './table';
import { decodeAny, expandCompressed } from './decode';

/** Field values of one instruction; absent fields are 0. */
export type Fields = Partial<Record<FieldName, number>>;

/** Encodes an entry with its field values (values must fit; see fieldFits). */
export function encode(def: InsnDef, fields: Fields): number {
  let word = def.match;
  for (const name in fields) word |= putField(name as FieldName, fields[name as FieldName]!);
  return word >>> 0;
}

/** A C alternative: the compressed entry, and how the base operands map onto it. */
export interface CChoice {
  readonly c: Op;
  /** Try with rs1 and rs2 exchanged (commutative R-type: GNU's "Cs,Ct,Cw" and "d,CV,CU" forms). */
  readonly swap?: boolean;
  /** `addi rd, rs, 0` taken as `add rd, x0, rs` (GNU's "addi d,CV,z" → c.mv). */
  readonly addiAsMv?: boolean;
}

/**
 * GNU as 2.40's compressed alternatives for each base instruction in the order riscv-opc.c tries
 * them (first match wins). Used when the instruction is written with its own mnemonic.
 */
export const C_CHOICES: Partial<Record<Op, readonly CChoice[]>> = {
  [Op.ADDI]: [{ c: Op.C_ADDI4SPN }, { c: Op.C_ADDI }, { c: Op.C_NOP }, { c: Op.C_ADDI16SP }, { c: Op.C_LI }, { c: Op.C_MV, addiAsMv: true }],
  [Op.ADD]: [{ c: Op.C_ADD }, { c: Op.C_ADD, swap: true }, { c: Op.C_MV }],
  [Op.AND]: [{ c: Op.C_AND }, { c: Op.C_AND, swap: true }],
  [Op.OR]: [{ c: Op.C_OR }, { c: Op.C_OR, swap: true }],
  [Op.XOR]: [{ c: Op.C_XOR }, { c: Op.C_XOR, swap: true }],
  [Op.SUB]: [{ c: Op.C_SUB }],
  [Op.ANDI]: [{ c: Op.C_ANDI }],
  [Op.SLLI]: [{ c: Op.C_SLLI }],
  [Op.SRLI]: [{ c: Op.C_SRLI }],
  [Op.SRAI]: [{ c: Op.C_SRAI }],
  [Op.LUI]: [{ c: Op.C_LUI }],
  [Op.LW]: [{ c: Op.C_LWSP }, { c: Op.C_LW }],
  [Op.SW]: [{ c: Op.C_SWSP }, { c: Op.C_SW }],
  [Op.EBREAK]: [{ c: Op.C_EBREAK }],
  [Op.BEQ]: [{ c: Op.C_BEQZ }],
  [Op.BNE]: [{ c: Op.C_BNEZ }],
  [Op.JAL]: [{ c: Op.C_J }, { c: Op.C_JAL }],
  [Op.JALR]: [{ c: Op.C_JR }, { c: Op.C_JALR }],
};

/**
 * RVC HINT encodings (unprivileged spec 20191213, 16.7, table 16.7): legal but not what an
 * assembler should produce for an ordinary instruction, so automatic compression skips them.
 */
export function isRvcHint(def: InsnDef, get: (f: FieldName) => number): boolean {
  switch (def.id) {
    case Op.C_NOP: return get('c_imm6') !== 0;
    case Op.C_ADDI: return get('c_imm6') === 0 || get('c_rd') === 0;
    case Op.C_LI: case Op.C_LUI: case Op.C_MV: case Op.C_ADD: return get('c_rd') === 0;
    case Op.C_SLLI: return get('c_rd') === 0 || get('c_shamt') === 0;
    case Op.C_SRLI: case Op.C_SRAI: return get('c_shamt') === 0;
    default: return false;
  }
}

/**
 * Compressed encoding of a C entry that expands exactly to `op` with `fields`, or undefined.
 * Inverts the entry's expand map: a field argument copies the base value, a constant must equal
 * it, and a computed argument (c.lui's imm_u) is inverted by sign-extending the base field.
 */
export function invertExpand(cdef: InsnDef, op: Op, fields: Fields): number | undefined {
  const exp = cdef.expand;
  if (!exp || exp.op !== op) return undefined;
  const base = INSN_BY_ID[op];
  const cvals = new Map<FieldName, number>();
  for (const [bf, arg] of Object.entries(exp.args) as [FieldName, unknown][]) {
    const v = fields[bf] ?? 0;
    if (typeof arg === 'number') {
      if (v !== arg) return undefined;
    } else if (typeof arg === 'string') {
      const prev = cvals.get(arg as FieldName);
      if (prev !== undefined && prev !== v) return undefined;
      cvals.set(arg as FieldName, v);
    } else {
      const cf = cSignedField(cdef);
      if (!cf) return undefined;
      cvals.set(cf, (v << 12) >> 12);
    }
  }
  let half = cdef.match;
  for (const [cf, v] of cvals) {
    if (!fieldFits(cf, v)) return undefined;
    half |= putField(cf, v);
  }
  half &= 0xffff;
  const dec = decodeAny(half);
  if (dec.def !== cdef) return undefined;
  if (expandCompressed(cdef, half) >>> 0 !== encode(base, fields)) return undefined;
  return half;
}

function cSignedField(cdef: InsnDef): FieldName | undefined {
  const names = (cdef.syntax.match(/c_[a-z0-9]+imm[0-9]*/g) ?? []) as FieldName[];
  return names[0];
}

/** The compressed half-word GNU as would pick for `op` with `fields` given the choices, or undefined. */
export function compress(op: Op, fields: Fields, choices: readonly CChoice[] | undefined = C_CHOICES[op]): number | undefined {
  if (!choices) return undefined;
  for (const ch of choices) {
    const cdef = INSN_BY_ID[ch.c];
    let bop = op;
    let f = fields;
    if (ch.swap) f = { ...fields, rs1: fields.rs2 ?? 0, rs2: fields.rs1 ?? 0 };
    if (ch.addiAsMv) {
      if ((fields.imm_i ?? 0) !== 0) continue;
      bop = Op.ADD;
      f = { rd: fields.rd ?? 0, rs1: 0, rs2: fields.rs1 ?? 0 };
    }
    const half = invertExpand(cdef, bop, f);
    if (half === undefined) continue;
    if (isRvcHint(cdef, (name) => getField(half, name))) continue;
    return half;
  }
  return undefined;
}

/** Every compressed entry of the table (for tests and tools). */
export const C_ENTRIES: readonly InsnDef[] = INSTRUCTIONS.filter((d) => d.size === 2);
