// The instruction table: the one source of truth for encodings, names and operands. The decoder
// (decode.ts), the compressed-instruction expander, the assembler and the disassembler are all
// derived from it. Encodings: RISC-V unprivileged ISA 20191213 ch. 24 (RV32I/M/A/Zicsr/Zifencei),
// ch. 16 (C), privileged spec 20211203 ch. 3.3/4.2 and ch. 8 (H), and docs/reference.md (Xsensitive).

import { Op } from './opcodes';
import type { FieldName } from './fields';

/** The extension an instruction belongs to. */
export type Ext = 'I' | 'M' | 'A' | 'C' | 'Zicsr' | 'Zifencei' | 'Zihintpause' | 'Priv' | 'H' | 'Xsensitive';

/** An expansion argument: a field of the compressed word, a constant, or a computed value. */
export type ExpandArg = FieldName | number | ((get: (f: FieldName) => number) => number);

/** One instruction of the table. */
export interface InsnDef {
  readonly id: Op;
  /** Mnemonic as GNU as spells it. */
  readonly name: string;
  readonly ext: Ext;
  /** Fixed bits of the encoding, and which bits are fixed. */
  readonly match: number;
  readonly mask: number;
  /**
   * Operand syntax, GNU order: field names separated by ", ", memory operands as `imm_i(rs1)`,
   * fixed registers by ABI name (for example `sp`).
   */
  readonly syntax: string;
  /** Length in bytes (2 for C). */
  readonly size: 2 | 4;
  /** Fields that must not be zero; a zero there makes the encoding reserved (illegal). */
  readonly nonzero?: readonly FieldName[];
  /** For AMOs: the aq/rl bits are spelled as a mnemonic suffix (.aq, .rl, .aqrl). */
  readonly aqrl?: boolean;
  /** For C: the base instruction it expands to and the values of the base's fields. */
  readonly expand?: { readonly op: Op; readonly args: Partial<Record<FieldName, ExpandArg>> };
}

const R = 'rd, rs1, rs2';
const I = 'rd, rs1, imm_i';

function d(id: Op, name: string, ext: Ext, match: number, mask: number, syntax: string, extra: Partial<InsnDef> = {}): InsnDef {
  return { id, name, ext, match: match >>> 0, mask: mask >>> 0, syntax, size: 4, ...extra };
}

/** R-type: opcode, funct3, funct7. */
function r(id: Op, name: string, ext: Ext, opcode: number, f3: number, f7: number, syntax = R): InsnDef {
  return d(id, name, ext, opcode | (f3 << 12) | (f7 << 25), 0xfe00707f, syntax);
}

/** I/S/B-type: opcode and funct3 only. */
function i(id: Op, name: string, ext: Ext, opcode: number, f3: number, syntax: string): InsnDef {
  return d(id, name, ext, opcode | (f3 << 12), 0x707f, syntax);
}

function amo(id: Op, name: string, f5: number, syntax = 'rd, rs2, (rs1)'): InsnDef {
  const lr = id === Op.LR_W;
  return d(id, name, 'A', 0x2f | (2 << 12) | (f5 << 27), lr ? 0xf9f0707f : 0xf800707f, syntax, { aqrl: true });
}

function c(id: Op, name: string, match: number, mask: number, syntax: string, op: Op, args: Partial<Record<FieldName, ExpandArg>>, nonzero?: FieldName[]): InsnDef {
  return { id, name, ext: 'C', match, mask, syntax, size: 2, expand: { op, args }, nonzero };
}

const SYS = 0x73;

/** Every instruction the machine knows, in decode priority order within equal masks. */
export const INSTRUCTIONS: readonly InsnDef[] = [
  d(Op.LUI, 'lui', 'I', 0x37, 0x7f, 'rd, imm_u'),
  d(Op.AUIPC, 'auipc', 'I', 0x17, 0x7f, 'rd, imm_u'),
  d(Op.JAL, 'jal', 'I', 0x6f, 0x7f, 'rd, imm_j'),
  i(Op.JALR, 'jalr', 'I', 0x67, 0, 'rd, imm_i(rs1)'),
  i(Op.BEQ, 'beq', 'I', 0x63, 0, 'rs1, rs2, imm_b'),
  i(Op.BNE, 'bne', 'I', 0x63, 1, 'rs1, rs2, imm_b'),
  i(Op.BLT, 'blt', 'I', 0x63, 4, 'rs1, rs2, imm_b'),
  i(Op.BGE, 'bge', 'I', 0x63, 5, 'rs1, rs2, imm_b'),
  i(Op.BLTU, 'bltu', 'I', 0x63, 6, 'rs1, rs2, imm_b'),
  i(Op.BGEU, 'bgeu', 'I', 0x63, 7, 'rs1, rs2, imm_b'),
  i(Op.LB, 'lb', 'I', 0x03, 0, 'rd, imm_i(rs1)'),
  i(Op.LH, 'lh', 'I', 0x03, 1, 'rd, imm_i(rs1)'),
  i(Op.LW, 'lw', 'I', 0x03, 2, 'rd, imm_i(rs1)'),
  i(Op.LBU, 'lbu', 'I', 0x03, 4, 'rd, imm_i(rs1)'),
  i(Op.LHU, 'lhu', 'I', 0x03, 5, 'rd, imm_i(rs1)'),
  i(Op.SB, 'sb', 'I', 0x23, 0, 'rs2, imm_s(rs1)'),
  i(Op.SH, 'sh', 'I', 0x23, 1, 'rs2, imm_s(rs1)'),
  i(Op.SW, 'sw', 'I', 0x23, 2, 'rs2, imm_s(rs1)'),
  i(Op.ADDI, 'addi', 'I', 0x13, 0, I),
  i(Op.SLTI, 'slti', 'I', 0x13, 2, I),
  i(Op.SLTIU, 'sltiu', 'I', 0x13, 3, I),
  i(Op.XORI, 'xori', 'I', 0x13, 4, I),
  i(Op.ORI, 'ori', 'I', 0x13, 6, I),
  i(Op.ANDI, 'andi', 'I', 0x13, 7, I),
  r(Op.SLLI, 'slli', 'I', 0x13, 1, 0x00, 'rd, rs1, shamt'),
  r(Op.SRLI, 'srli', 'I', 0x13, 5, 0x00, 'rd, rs1, shamt'),
  r(Op.SRAI, 'srai', 'I', 0x13, 5, 0x20, 'rd, rs1, shamt'),
  r(Op.ADD, 'add', 'I', 0x33, 0, 0x00),
  r(Op.SUB, 'sub', 'I', 0x33, 0, 0x20),
  r(Op.SLL, 'sll', 'I', 0x33, 1, 0x00),
  r(Op.SLT, 'slt', 'I', 0x33, 2, 0x00),
  r(Op.SLTU, 'sltu', 'I', 0x33, 3, 0x00),
  r(Op.XOR, 'xor', 'I', 0x33, 4, 0x00),
  r(Op.SRL, 'srl', 'I', 0x33, 5, 0x00),
  r(Op.SRA, 'sra', 'I', 0x33, 5, 0x20),
  r(Op.OR, 'or', 'I', 0x33, 6, 0x00),
  r(Op.AND, 'and', 'I', 0x33, 7, 0x00),
  d(Op.FENCE_TSO, 'fence.tso', 'I', 0x8330000f, 0xffffffff, ''),
  d(Op.PAUSE, 'pause', 'Zihintpause', 0x0100000f, 0xffffffff, ''),
  i(Op.FENCE, 'fence', 'I', 0x0f, 0, 'pred, succ'),
  d(Op.ECALL, 'ecall', 'I', 0x00000073, 0xffffffff, ''),
  d(Op.EBREAK, 'ebreak', 'I', 0x00100073, 0xffffffff, ''),
  i(Op.FENCE_I, 'fence.i', 'Zifencei', 0x0f, 1, ''),
  i(Op.CSRRW, 'csrrw', 'Zicsr', SYS, 1, 'rd, csr, rs1'),
  i(Op.CSRRS, 'csrrs', 'Zicsr', SYS, 2, 'rd, csr, rs1'),
  i(Op.CSRRC, 'csrrc', 'Zicsr', SYS, 3, 'rd, csr, rs1'),
  i(Op.CSRRWI, 'csrrwi', 'Zicsr', SYS, 5, 'rd, csr, zimm'),
  i(Op.CSRRSI, 'csrrsi', 'Zicsr', SYS, 6, 'rd, csr, zimm'),
  i(Op.CSRRCI, 'csrrci', 'Zicsr', SYS, 7, 'rd, csr, zimm'),
  r(Op.MUL, 'mul', 'M', 0x33, 0, 0x01),
  r(Op.MULH, 'mulh', 'M', 0x33, 1, 0x01),
  r(Op.MULHSU, 'mulhsu', 'M', 0x33, 2, 0x01),
  r(Op.MULHU, 'mulhu', 'M', 0x33, 3, 0x01),
  r(Op.DIV, 'div', 'M', 0x33, 4, 0x01),
  r(Op.DIVU, 'divu', 'M', 0x33, 5, 0x01),
  r(Op.REM, 'rem', 'M', 0x33, 6, 0x01),
  r(Op.REMU, 'remu', 'M', 0x33, 7, 0x01),
  amo(Op.LR_W, 'lr.w', 0x02, 'rd, (rs1)'),
  amo(Op.SC_W, 'sc.w', 0x03),
  amo(Op.AMOSWAP_W, 'amoswap.w', 0x01),
  amo(Op.AMOADD_W, 'amoadd.w', 0x00),
  amo(Op.AMOXOR_W, 'amoxor.w', 0x04),
  amo(Op.AMOAND_W, 'amoand.w', 0x0c),
  amo(Op.AMOOR_W, 'amoor.w', 0x08),
  amo(Op.AMOMIN_W, 'amomin.w', 0x10),
  amo(Op.AMOMAX_W, 'amomax.w', 0x14),
  amo(Op.AMOMINU_W, 'amominu.w', 0x18),
  amo(Op.AMOMAXU_W, 'amomaxu.w', 0x1c),
  d(Op.SRET, 'sret', 'Priv', 0x10200073, 0xffffffff, ''),
  d(Op.MRET, 'mret', 'Priv', 0x30200073, 0xffffffff, ''),
  d(Op.WFI, 'wfi', 'Priv', 0x10500073, 0xffffffff, ''),
  d(Op.SFENCE_VMA, 'sfence.vma', 'Priv', 0x12000073, 0xfe007fff, 'rs1, rs2'),
  d(Op.HFENCE_VVMA, 'hfence.vvma', 'H', 0x22000073, 0xfe007fff, 'rs1, rs2'),
  d(Op.HFENCE_GVMA, 'hfence.gvma', 'H', 0x62000073, 0xfe007fff, 'rs1, rs2'),
  d(Op.HLV_B, 'hlv.b', 'H', 0x60004073, 0xfff0707f, 'rd, (rs1)'),
  d(Op.HLV_BU, 'hlv.bu', 'H', 0x60104073, 0xfff0707f, 'rd, (rs1)'),
  d(Op.HLV_H, 'hlv.h', 'H', 0x64004073, 0xfff0707f, 'rd, (rs1)'),
  d(Op.HLV_HU, 'hlv.hu', 'H', 0x64104073, 0xfff0707f, 'rd, (rs1)'),
  d(Op.HLVX_HU, 'hlvx.hu', 'H', 0x64304073, 0xfff0707f, 'rd, (rs1)'),
  d(Op.HLV_W, 'hlv.w', 'H', 0x68004073, 0xfff0707f, 'rd, (rs1)'),
  d(Op.HLVX_WU, 'hlvx.wu', 'H', 0x68304073, 0xfff0707f, 'rd, (rs1)'),
  d(Op.HSV_B, 'hsv.b', 'H', 0x62004073, 0xfe007fff, 'rs2, (rs1)'),
  d(Op.HSV_H, 'hsv.h', 'H', 0x66004073, 0xfe007fff, 'rs2, (rs1)'),
  d(Op.HSV_W, 'hsv.w', 'H', 0x6a004073, 0xfe007fff, 'rs2, (rs1)'),
  d(Op.RDPRIV, 'rdpriv', 'Xsensitive', 0x0000000b, 0xfffff07f, 'rd'),
  d(Op.SETSIE, 'setsie', 'Xsensitive', 0x0000100b, 0xfff07fff, 'rs1'),
  d(Op.TOUSER, 'touser', 'Xsensitive', 0x0000200b, 0xfff07fff, 'rs1'),

  // C, quadrant 0
  c(Op.C_ADDI4SPN, 'c.addi4spn', 0x0000, 0xe003, 'cp_rd, sp, c_spn4imm', Op.ADDI, { rd: 'cp_rd', rs1: 2, imm_i: 'c_spn4imm' }, ['c_spn4imm']),
  c(Op.C_LW, 'c.lw', 0x4000, 0xe003, 'cp_rd, c_lwimm(cp_rs1)', Op.LW, { rd: 'cp_rd', rs1: 'cp_rs1', imm_i: 'c_lwimm' }),
  c(Op.C_SW, 'c.sw', 0xc000, 0xe003, 'cp_rs2, c_lwimm(cp_rs1)', Op.SW, { rs2: 'cp_rs2', rs1: 'cp_rs1', imm_s: 'c_lwimm' }),
  // C, quadrant 1
  c(Op.C_NOP, 'c.nop', 0x0001, 0xef83, '', Op.ADDI, { rd: 0, rs1: 0, imm_i: 'c_imm6' }),
  c(Op.C_ADDI, 'c.addi', 0x0001, 0xe003, 'c_rd, c_imm6', Op.ADDI, { rd: 'c_rd', rs1: 'c_rd', imm_i: 'c_imm6' }),
  c(Op.C_JAL, 'c.jal', 0x2001, 0xe003, 'c_jimm', Op.JAL, { rd: 1, imm_j: 'c_jimm' }),
  c(Op.C_LI, 'c.li', 0x4001, 0xe003, 'c_rd, c_imm6', Op.ADDI, { rd: 'c_rd', rs1: 0, imm_i: 'c_imm6' }),
  c(Op.C_ADDI16SP, 'c.addi16sp', 0x6101, 0xef83, 'sp, c_sp16imm', Op.ADDI, { rd: 2, rs1: 2, imm_i: 'c_sp16imm' }, ['c_sp16imm']),
  c(Op.C_LUI, 'c.lui', 0x6001, 0xe003, 'c_rd, c_luiimm', Op.LUI, { rd: 'c_rd', imm_u: (get) => get('c_luiimm') & 0xfffff }, ['c_luiimm']),
  c(Op.C_SRLI, 'c.srli', 0x8001, 0xfc03, 'cp_rs1, c_shamt', Op.SRLI, { rd: 'cp_rs1', rs1: 'cp_rs1', shamt: 'c_shamt' }),
  c(Op.C_SRAI, 'c.srai', 0x8401, 0xfc03, 'cp_rs1, c_shamt', Op.SRAI, { rd: 'cp_rs1', rs1: 'cp_rs1', shamt: 'c_shamt' }),
  c(Op.C_ANDI, 'c.andi', 0x8801, 0xec03, 'cp_rs1, c_imm6', Op.ANDI, { rd: 'cp_rs1', rs1: 'cp_rs1', imm_i: 'c_imm6' }),
  c(Op.C_SUB, 'c.sub', 0x8c01, 0xfc63, 'cp_rs1, cp_rs2', Op.SUB, { rd: 'cp_rs1', rs1: 'cp_rs1', rs2: 'cp_rs2' }),
  c(Op.C_XOR, 'c.xor', 0x8c21, 0xfc63, 'cp_rs1, cp_rs2', Op.XOR, { rd: 'cp_rs1', rs1: 'cp_rs1', rs2: 'cp_rs2' }),
  c(Op.C_OR, 'c.or', 0x8c41, 0xfc63, 'cp_rs1, cp_rs2', Op.OR, { rd: 'cp_rs1', rs1: 'cp_rs1', rs2: 'cp_rs2' }),
  c(Op.C_AND, 'c.and', 0x8c61, 0xfc63, 'cp_rs1, cp_rs2', Op.AND, { rd: 'cp_rs1', rs1: 'cp_rs1', rs2: 'cp_rs2' }),
  c(Op.C_J, 'c.j', 0xa001, 0xe003, 'c_jimm', Op.JAL, { rd: 0, imm_j: 'c_jimm' }),
  c(Op.C_BEQZ, 'c.beqz', 0xc001, 0xe003, 'cp_rs1, c_bimm', Op.BEQ, { rs1: 'cp_rs1', rs2: 0, imm_b: 'c_bimm' }),
  c(Op.C_BNEZ, 'c.bnez', 0xe001, 0xe003, 'cp_rs1, c_bimm', Op.BNE, { rs1: 'cp_rs1', rs2: 0, imm_b: 'c_bimm' }),
  // C, quadrant 2
  c(Op.C_SLLI, 'c.slli', 0x0002, 0xf003, 'c_rd, c_shamt', Op.SLLI, { rd: 'c_rd', rs1: 'c_rd', shamt: 'c_shamt' }),
  c(Op.C_LWSP, 'c.lwsp', 0x4002, 0xe003, 'c_rd, c_lwspimm(sp)', Op.LW, { rd: 'c_rd', rs1: 2, imm_i: 'c_lwspimm' }, ['c_rd']),
  c(Op.C_EBREAK, 'c.ebreak', 0x9002, 0xffff, '', Op.EBREAK, {}),
  c(Op.C_JR, 'c.jr', 0x8002, 0xf07f, 'c_rd', Op.JALR, { rd: 0, rs1: 'c_rd', imm_i: 0 }, ['c_rd']),
  c(Op.C_JALR, 'c.jalr', 0x9002, 0xf07f, 'c_rd', Op.JALR, { rd: 1, rs1: 'c_rd', imm_i: 0 }, ['c_rd']),
  c(Op.C_MV, 'c.mv', 0x8002, 0xf003, 'c_rd, c_rs2', Op.ADD, { rd: 'c_rd', rs1: 0, rs2: 'c_rs2' }, ['c_rs2']),
  c(Op.C_ADD, 'c.add', 0x9002, 0xf003, 'c_rd, c_rs2', Op.ADD, { rd: 'c_rd', rs1: 'c_rd', rs2: 'c_rs2' }, ['c_rs2']),
  c(Op.C_SWSP, 'c.swsp', 0xc002, 0xe003, 'c_rs2, c_swspimm(sp)', Op.SW, { rs2: 'c_rs2', rs1: 2, imm_s: 'c_swspimm' }),
];

/** Table entries indexed by id. */
export const INSN_BY_ID: readonly InsnDef[] = (() => {
  const byId: InsnDef[] = [];
  for (const def of INSTRUCTIONS) byId[def.id] = def;
  return byId;
})();

/** Table entries by mnemonic. */
export const INSN_BY_NAME: ReadonlyMap<string, InsnDef> = new Map(INSTRUCTIONS.map((def) => [def.name, def]));

/** Operand field names used in an entry's syntax, in order of appearance. */
export function syntaxFields(def: InsnDef): FieldName[] {
  return (def.syntax.match(/[a-z_0-9]+/g) ?? []).filter((t) => t.includes('_') || /^(rd|rs1|rs2|shamt|csr|zimm|pred|succ)$/.test(t)) as FieldName[];
}
