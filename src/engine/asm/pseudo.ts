// GNU as pseudo-instructions and aliases for RV32 (binutils riscv-opc.c, the unprivileged spec's
// ch. 25 "RISC-V Assembly Programmer's Handbook" table 25.2/25.3), each expanded into table entries.

import { Op } from '../isa/opcodes';
import { C_CHOICES, type CChoice, type Fields } from '../isa/encode';
import type { FieldName } from '../isa/fields';
import type { Expr } from './expr';
import { def, immediate, opLoc, type Form, type FormContext, type Kind, type Value } from './forms';
import type { MemOperand, RawOperand } from './operands';
import type { Loc } from './state';

type Emit = (c: FormContext, v: readonly Value[], loc: Loc, ops: readonly RawOperand[]) => void;

function form(kinds: string, emit: Emit): Form {
  return { kinds: kinds === '' ? [] : (kinds.split(',') as Kind[]), emit };
}

/** Emits `op` with register fields and one immediate operand (constant or relocation). */
function withImm(c: FormContext, op: Op, fields: Fields, field: FieldName, e: Expr | undefined, loc: Loc, at: Loc, choices?: readonly CChoice[]): void {
  const d = def(op);
  const r = immediate(c, d, field, e, at);
  if (!r) return;
  if ('fix' in r) c.emitFix(d, fields, r.fix, loc);
  else c.emit(d, { ...fields, [field]: r.value }, loc, choices);
}

const R = (v: readonly Value[], i: number): number => v[i] as number;
const E = (v: readonly Value[], i: number): Expr => v[i] as Expr;
const MEM = (v: readonly Value[], i: number): MemOperand => v[i] as MemOperand;

/**
 * GNU's load_const for a 32-bit value: lui of the rounded upper part (compressible), then addi of
 * the low 12 bits (compressible after a lui; a lone addi stays 32-bit, as GNU 2.40 emits it).
 */
function loadConst(c: FormContext, rd: number, value: number, loc: Loc): void {
  const lo = ((value & 0xfff) ^ 0x800) - 0x800;
  const hi = (value - lo) | 0;
  if (hi === 0) return c.emit(def(Op.ADDI), { rd, rs1: 0, imm_i: lo }, loc);
  c.emit(def(Op.LUI), { rd, imm_u: (hi >>> 12) & 0xfffff }, loc, C_CHOICES[Op.LUI]);
  // binutils load_const adds the low part onto `hi_reg`, and with rd = zero that register reads as
  // "no lui emitted": GNU emits the addi (a nop for a zero low part) after `lui zero, hi` too.
  if (lo !== 0 || rd === 0) c.emit(def(Op.ADDI), { rd, rs1: rd, imm_i: lo }, loc, C_CHOICES[Op.ADDI]);
}

function li(c: FormContext, v: readonly Value[], loc: Loc, ops: readonly RawOperand[]): void {
  const rd = R(v, 0);
  const at = opLoc(loc, ops, 1);
  const x = c.constant(E(v, 1));
  if (x === undefined) return c.error(at, 'li needs a constant known at this point; use la for an address');
  if (x > 0xffffffffn || x < -0x80000000n) return c.error(at, `li constant ${x} does not fit in 32 bits`);
  const value = Number(BigInt.asIntN(32, x));
  // riscv-opc.c order: li d,Cv (c.lui), li d,Co (c.li), li d,j (addi): these see the value as
  // written; only the load_const macro sign-extends a 32-bit unsigned spelling.
  const literal = Number(x);
  if (c.rvc && rd !== 0 && rd !== 2 && (value & 0xfff) === 0 && value >> 12 >= -32 && value >> 12 < 32 && value !== 0) {
    return c.emit(def(Op.LUI), { rd, imm_u: (value >>> 12) & 0xfffff }, loc, [{ c: Op.C_LUI }]);
  }
  if (c.rvc && rd !== 0 && literal >= -32 && literal < 32) return c.emit(def(Op.ADDI), { rd, rs1: 0, imm_i: value }, loc, [{ c: Op.C_LI }]);
  if (literal >= -2048 && literal < 2048) return c.emit(def(Op.ADDI), { rd, rs1: 0, imm_i: value }, loc);
  loadConst(c, rd, value, loc);
}

/** auipc rd, %pcrel_hi(sym) followed by `second` using %pcrel_lo of the auipc (la, call, lw sym...). */
function pcrelPair(c: FormContext, rd: number, sym: Expr, loc: Loc, second: (lo: Expr) => void): void {
  const label = c.hereLabel();
  c.emitFix(def(Op.AUIPC), { rd }, { field: 'imm_u', fn: 'pcrel_hi', expr: sym }, loc);
  second({ t: 'sym', name: label, col: sym.col, len: 0 });
}

function csrAlias(op: Op): Form {
  return form('C,R', (c, v, loc) => c.emit(def(op), { rd: 0, csr: R(v, 0), rs1: R(v, 1) }, loc));
}

function csrImm(op: Op): Form {
  return form('C,I', (c, v, loc, ops) => withImm(c, op, { rd: 0, csr: R(v, 0) }, 'zimm', E(v, 1), loc, opLoc(loc, ops, 1)));
}

function branchZ(op: Op, regField: 'rs1' | 'rs2', rvc: boolean): Form {
  return form('R,T', (c, v, loc) => {
    const r = R(v, 0);
    const fields: Fields = regField === 'rs1' ? { rs1: r, rs2: 0 } : { rs1: 0, rs2: r };
    c.emitBranch(op, fields, E(v, 1), c.rvc && rvc && r >= 8 && r < 16, loc);
  });
}

function branchSwap(op: Op): Form {
  return form('R,R,T', (c, v, loc) => c.emitBranch(op, { rs1: R(v, 1), rs2: R(v, 0) }, E(v, 2), false, loc));
}

function rr(op: Op, f: (a: number, b: number) => Fields, choices?: readonly CChoice[]): Form {
  return form('R,R', (c, v, loc) => c.emit(def(op), f(R(v, 0), R(v, 1)), loc, choices));
}

function immAlias(op: Op, field: FieldName = 'imm_i'): Form {
  return form('R,R,I', (c, v, loc, ops) => withImm(c, op, { rd: R(v, 0), rs1: R(v, 1) }, field, E(v, 2), loc, opLoc(loc, ops, 2), C_CHOICES[op]));
}

function fenceLike(op: Op): Form[] {
  return [
    form('', (c, _v, loc) => c.emit(def(op), {}, loc)),
    form('R', (c, v, loc) => c.emit(def(op), { rs1: R(v, 0) }, loc)),
  ];
}

function symLoad(op: Op): Form {
  return form('R,T', (c, v, loc) => pcrelPair(c, R(v, 0), E(v, 1), loc, (lo) => c.emitFix(def(op), { rd: R(v, 0), rs1: R(v, 0) }, { field: 'imm_i', fn: 'pcrel_lo', expr: lo }, loc)));
}

function symStore(op: Op): Form {
  return form('R,T,R', (c, v, loc) => pcrelPair(c, R(v, 2), E(v, 1), loc, (lo) => c.emitFix(def(op), { rs2: R(v, 0), rs1: R(v, 2) }, { field: 'imm_s', fn: 'pcrel_lo', expr: lo }, loc)));
}

function callLike(rd: (v: readonly Value[]) => number, link: (v: readonly Value[]) => number, symIndex: number, kinds: string): Form {
  return form(kinds, (c, v, loc) => {
    const t = rd(v);
    pcrelPair(c, t, E(v, symIndex), loc, (lo) => c.emitFix(def(Op.JALR), { rd: link(v), rs1: t }, { field: 'imm_i', fn: 'pcrel_lo', expr: lo }, loc));
  });
}

function jalrForm(rd: (v: readonly Value[]) => number, kinds: string, choices?: readonly CChoice[]): Form {
  return form(kinds, (c, v, loc, ops) => {
    const k = kinds.split(',');
    const mi = k.indexOf('M');
    const ri = k.lastIndexOf('R');
    const rs1 = mi >= 0 ? MEM(v, mi).reg : R(v, ri);
    const off = mi >= 0 ? MEM(v, mi).offset : k.includes('I') ? E(v, k.indexOf('I')) : undefined;
    withImm(c, Op.JALR, { rd: rd(v), rs1 }, 'imm_i', off, loc, opLoc(loc, ops, mi >= 0 ? mi : k.length - 1), choices);
  });
}

const CSR_COUNTERS: [string, number][] = [
  ['rdcycle', 0xc00], ['rdtime', 0xc01], ['rdinstret', 0xc02], ['rdcycleh', 0xc80], ['rdtimeh', 0xc81], ['rdinstreth', 0xc82],
];

/**
 * Pseudo-instruction forms by mnemonic. `before` forms are tried before the table entry's own
 * syntax, `after` forms after it (GNU's order for mnemonics that are both, like jal and jalr).
 */
export const PSEUDO: ReadonlyMap<string, { before?: Form[]; after?: Form[] }> = new Map<string, { before?: Form[]; after?: Form[] }>([
  ['nop', { before: [form('', (c, _v, loc) => c.emit(def(Op.ADDI), {}, loc, [{ c: Op.C_NOP }]))] }],
  ['li', { before: [form('R,I', li)] }],
  ['mv', { before: [rr(Op.ADDI, (a, b) => ({ rd: a, rs1: b }), [{ c: Op.C_MV, addiAsMv: true }])] }],
  ['move', { before: [rr(Op.ADDI, (a, b) => ({ rd: a, rs1: b }), [{ c: Op.C_MV, addiAsMv: true }])] }],
  ['not', { before: [rr(Op.XORI, (a, b) => ({ rd: a, rs1: b, imm_i: -1 }))] }],
  ['neg', { before: [rr(Op.SUB, (a, b) => ({ rd: a, rs1: 0, rs2: b }))] }],
  ['seqz', { before: [rr(Op.SLTIU, (a, b) => ({ rd: a, rs1: b, imm_i: 1 }))] }],
  ['snez', { before: [rr(Op.SLTU, (a, b) => ({ rd: a, rs1: 0, rs2: b }))] }],
  ['sltz', { before: [rr(Op.SLT, (a, b) => ({ rd: a, rs1: b, rs2: 0 }))] }],
  ['sgtz', { before: [rr(Op.SLT, (a, b) => ({ rd: a, rs1: 0, rs2: b }))] }],
  ['zext.b', { before: [rr(Op.ANDI, (a, b) => ({ rd: a, rs1: b, imm_i: 255 }))] }],
  ['sgt', { before: [form('R,R,R', (c, v, loc) => c.emit(def(Op.SLT), { rd: R(v, 0), rs1: R(v, 2), rs2: R(v, 1) }, loc))] }],
  ['sgtu', { before: [form('R,R,R', (c, v, loc) => c.emit(def(Op.SLTU), { rd: R(v, 0), rs1: R(v, 2), rs2: R(v, 1) }, loc))] }],
  ['beqz', { before: [branchZ(Op.BEQ, 'rs1', true)] }],
  ['bnez', { before: [branchZ(Op.BNE, 'rs1', true)] }],
  ['blez', { before: [branchZ(Op.BGE, 'rs2', false)] }],
  ['bgez', { before: [branchZ(Op.BGE, 'rs1', false)] }],
  ['bltz', { before: [branchZ(Op.BLT, 'rs1', false)] }],
  ['bgtz', { before: [branchZ(Op.BLT, 'rs2', false)] }],
  ['bgt', { before: [branchSwap(Op.BLT)] }],
  ['ble', { before: [branchSwap(Op.BGE)] }],
  ['bgtu', { before: [branchSwap(Op.BLTU)] }],
  ['bleu', { before: [branchSwap(Op.BGEU)] }],
  ['j', { before: [form('T', (c, v, loc) => c.emitBranch(Op.JAL, { rd: 0 }, E(v, 0), c.rvc, loc))] }],
  // GNU 2.40 never relaxes `jal label` to c.jal (only `j` to c.j).
  ['jal', { before: [form('T', (c, v, loc) => c.emitBranch(Op.JAL, { rd: 1 }, E(v, 0), false, loc))] }],
  ['ret', { before: [form('', (c, _v, loc) => c.emit(def(Op.JALR), { rd: 0, rs1: 1 }, loc, [{ c: Op.C_JR }]))] }],
  ['jr', { before: [jalrForm(() => 0, 'R', [{ c: Op.C_JR }]), jalrForm(() => 0, 'M'), jalrForm(() => 0, 'R,I')] }],
  ['jalr', {
    before: [jalrForm(() => 1, 'R', [{ c: Op.C_JALR }]), jalrForm(() => 1, 'M'), jalrForm(() => 1, 'R,I'), jalrForm((v) => R(v, 0), 'R,R')],
    after: [jalrForm((v) => R(v, 0), 'R,R,I')],
  }],
  ['call', { before: [callLike(() => 1, () => 1, 0, 'T'), callLike(() => 6, (v) => R(v, 0), 1, 'R,T')] }],
  ['tail', { before: [callLike(() => 6, () => 0, 0, 'T')] }],
  ['jump', { before: [callLike((v) => R(v, 1), () => 0, 0, 'T,R')] }],
  ['la', { before: [form('R,T', (c, v, loc) => pcrelPair(c, R(v, 0), E(v, 1), loc, (lo) => c.emitFix(def(Op.ADDI), { rd: R(v, 0), rs1: R(v, 0) }, { field: 'imm_i', fn: 'pcrel_lo', expr: lo }, loc)))] }],
  ['lla', { before: [form('R,T', (c, v, loc) => pcrelPair(c, R(v, 0), E(v, 1), loc, (lo) => c.emitFix(def(Op.ADDI), { rd: R(v, 0), rs1: R(v, 0) }, { field: 'imm_i', fn: 'pcrel_lo', expr: lo }, loc)))] }],
  ['lb', { after: [symLoad(Op.LB)] }],
  ['lbu', { after: [symLoad(Op.LBU)] }],
  ['lh', { after: [symLoad(Op.LH)] }],
  ['lhu', { after: [symLoad(Op.LHU)] }],
  ['lw', { after: [symLoad(Op.LW)] }],
  ['sb', { after: [symStore(Op.SB)] }],
  ['sh', { after: [symStore(Op.SH)] }],
  ['sw', { after: [symStore(Op.SW)] }],
  ['csrr', { before: [form('R,C', (c, v, loc) => c.emit(def(Op.CSRRS), { rd: R(v, 0), csr: R(v, 1), rs1: 0 }, loc))] }],
  ['csrw', { before: [csrAlias(Op.CSRRW), csrImm(Op.CSRRWI)] }],
  ['csrs', { before: [csrAlias(Op.CSRRS), csrImm(Op.CSRRSI)] }],
  ['csrc', { before: [csrAlias(Op.CSRRC), csrImm(Op.CSRRCI)] }],
  ['csrwi', { before: [csrImm(Op.CSRRWI)] }],
  ['csrsi', { before: [csrImm(Op.CSRRSI)] }],
  ['csrci', { before: [csrImm(Op.CSRRCI)] }],
  ['csrrw', { after: [form('R,C,I', (c, v, loc, ops) => withImm(c, Op.CSRRWI, { rd: R(v, 0), csr: R(v, 1) }, 'zimm', E(v, 2), loc, opLoc(loc, ops, 2)))] }],
  ['csrrs', { after: [form('R,C,I', (c, v, loc, ops) => withImm(c, Op.CSRRSI, { rd: R(v, 0), csr: R(v, 1) }, 'zimm', E(v, 2), loc, opLoc(loc, ops, 2)))] }],
  ['csrrc', { after: [form('R,C,I', (c, v, loc, ops) => withImm(c, Op.CSRRCI, { rd: R(v, 0), csr: R(v, 1) }, 'zimm', E(v, 2), loc, opLoc(loc, ops, 2)))] }],
  ...CSR_COUNTERS.map(([name, csr]): [string, { before: Form[] }] => [name, { before: [form('R', (c, v, loc) => c.emit(def(Op.CSRRS), { rd: R(v, 0), csr, rs1: 0 }, loc))] }]),
  ['fence', { before: [form('', (c, _v, loc) => c.emit(def(Op.FENCE), { pred: 15, succ: 15 }, loc))] }],
  ['sfence.vma', { before: fenceLike(Op.SFENCE_VMA) }],
  ['hfence.vvma', { before: fenceLike(Op.HFENCE_VVMA) }],
  ['hfence.gvma', { before: fenceLike(Op.HFENCE_GVMA) }],
  ['scall', { before: [form('', (c, _v, loc) => c.emit(def(Op.ECALL), {}, loc))] }],
  ['sbreak', { before: [form('', (c, _v, loc) => c.emit(def(Op.EBREAK), {}, loc, C_CHOICES[Op.EBREAK]))] }],
  ['c.unimp', { before: [form('', (c, _v, loc) => c.emitRaw([0, 0], loc))] }],
  ['unimp', { before: [form('', (c, _v, loc) => (c.rvc ? c.emitRaw([0, 0], loc) : c.emit(def(Op.CSRRW), { rd: 0, csr: 0xc00, rs1: 0 }, loc)))] }],
  ['add', { after: [immAlias(Op.ADDI)] }],
  ['and', { after: [immAlias(Op.ANDI)] }],
  ['or', { after: [immAlias(Op.ORI)] }],
  ['xor', { after: [immAlias(Op.XORI)] }],
  ['slt', { after: [immAlias(Op.SLTI)] }],
  ['sltu', { after: [immAlias(Op.SLTIU)] }],
  ['sll', { after: [immAlias(Op.SLLI, 'shamt')] }],
  ['srl', { after: [immAlias(Op.SRLI, 'shamt')] }],
  ['sra', { after: [immAlias(Op.SRAI, 'shamt')] }],
]);
