// Instruction printing as GNU objdump 2.40 prints by default: ABI register names, the aliases
// riscv-opc.c lists first for each encoding (li, mv, ret, j, beqz, csrr, ...), compressed
// instructions under their base names, and the "# address" comments riscv-dis.c adds after an
// address is built with lui/auipc (maybe_print_address).

import { decodeAny } from '../isa/decode';
import { getField, type FieldName } from '../isa/fields';
import { Op } from '../isa/opcodes';
import { ABI_NAMES } from '../isa/registers';
import { CSR_PRINT_NAME } from '../isa/csr-names';
import type { InsnDef } from '../isa/table';

/** Disassembler state carried from one instruction to the next (riscv-dis.c riscv_private_data). */
export class DisasmState {
  /** Upper address bits last built in each register by lui/auipc/c.lui; -1 when none. */
  readonly hiAddr = new Array<number>(32).fill(-1);
  /** Value of __global_pointer$, or -1. */
  gp = -1;
}

/** One printed instruction: mnemonic, operands, and an address to show as a comment. */
export interface Printed {
  readonly size: 2 | 4;
  readonly mnemonic: string;
  readonly operands: string;
  /** Branch/jump target, printed as `addr <sym>` in the operands by the caller. */
  readonly target?: number;
  /** Address for a trailing `# addr <sym>` comment. */
  readonly comment?: number;
  readonly def?: InsnDef;
}

const X = (r: number): string => ABI_NAMES[r];
const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;
const FENCE = ['unknown', 'w', 'r', 'rw', 'o', 'ow', 'or', 'orw', 'i', 'iw', 'ir', 'irw', 'io', 'iow', 'ior', 'iorw'];
const COUNTERS: Record<number, string> = { 0xc00: 'rdcycle', 0xc01: 'rdtime', 0xc02: 'rdinstret', 0xc80: 'rdcycleh', 0xc81: 'rdtimeh', 0xc82: 'rdinstreth' };

function csrName(n: number): string {
  return CSR_PRINT_NAME.get(n) ?? hex(n);
}

/** Prints the instruction whose low bits are in `bits` at address `pc`. */
export function printInsn(bits: number, pc: number, st: DisasmState): Printed {
  const d = decodeAny(bits);
  const w = d.bits;
  if (!d.def) return { size: d.size, mnemonic: d.size === 2 && w === 0 ? 'unimp' : `.${d.size}byte`, operands: d.size === 2 && w === 0 ? '' : hex(w) };
  const f = (name: FieldName): number => getField(w, name);
  let comment: number | undefined;
  const maybeAddr = (base: number, off: number): void => {
    if (st.hiAddr[base] !== -1) {
      comment = ((base !== 0 ? st.hiAddr[base] : 0) + off) >>> 0;
      st.hiAddr[base] = -1;
    } else if (base === 3 && st.gp !== -1) comment = (st.gp + off) >>> 0;
    else if (base === 4 || base === 0) comment = off >>> 0;
  };
  const out = (mnemonic: string, operands = '', target?: number): Printed => ({ size: d.size, mnemonic, operands, target, comment, def: d.def });
  const def = d.def;
  const name = def.aqrl ? def.name + ['', '.rl', '.aq', '.aqrl'][f('aqrl')] : def.name;
  const rd = f('rd');
  const rs1 = f('rs1');
  const rs2 = f('rs2');
  const immI = f('imm_i');
  const br = (pc + f('imm_b')) >>> 0;
  switch (def.id) {
    case Op.LUI: st.hiAddr[rd] = (f('imm_u') << 12) >>> 0; return out('lui', `${X(rd)},${hex(f('imm_u'))}`);
    case Op.AUIPC: st.hiAddr[rd] = (pc + (f('imm_u') << 12)) >>> 0; return out('auipc', `${X(rd)},${hex(f('imm_u'))}`);
    case Op.JAL: {
      const t = (pc + f('imm_j')) >>> 0;
      return rd === 0 ? out('j', '', t) : rd === 1 ? out('jal', '', t) : out('jal', `${X(rd)},`, t);
    }
    case Op.JALR:
      // riscv-dis.c handles 'o' and then falls through to 'j', which looks again for jalr.
      maybeAddr(rs1, immI);
      maybeAddr(rs1, immI);
      if (rd === 0 && rs1 === 1 && immI === 0) return out('ret');
      if (rd === 0) return out('jr', immI === 0 ? X(rs1) : `${immI}(${X(rs1)})`);
      if (rd === 1) return out('jalr', immI === 0 ? X(rs1) : `${immI}(${X(rs1)})`);
      return out('jalr', immI === 0 ? `${X(rd)},${X(rs1)}` : `${X(rd)},${immI}(${X(rs1)})`);
    case Op.BEQ: return rs2 === 0 ? out('beqz', `${X(rs1)},`, br) : out('beq', `${X(rs1)},${X(rs2)},`, br);
    case Op.BNE: return rs2 === 0 ? out('bnez', `${X(rs1)},`, br) : out('bne', `${X(rs1)},${X(rs2)},`, br);
    case Op.BGE: return rs1 === 0 ? out('blez', `${X(rs2)},`, br) : rs2 === 0 ? out('bgez', `${X(rs1)},`, br) : out('bge', `${X(rs1)},${X(rs2)},`, br);
    case Op.BLT: return rs2 === 0 ? out('bltz', `${X(rs1)},`, br) : rs1 === 0 ? out('bgtz', `${X(rs2)},`, br) : out('blt', `${X(rs1)},${X(rs2)},`, br);
    case Op.BLTU: case Op.BGEU: return out(name, `${X(rs1)},${X(rs2)},`, br);
    case Op.LB: case Op.LH: case Op.LW: case Op.LBU: case Op.LHU:
      maybeAddr(rs1, immI);
      return out(name, `${X(rd)},${immI}(${X(rs1)})`);
    case Op.SB: case Op.SH: case Op.SW:
      maybeAddr(rs1, f('imm_s'));
      return out(name, `${X(rs2)},${f('imm_s')}(${X(rs1)})`);
    case Op.ADDI:
      if (rd === 0 && rs1 === 0 && immI === 0) return out('nop');
      if (rs1 === 0) return out('li', `${X(rd)},${immI}`);
      if (immI === 0) return out('mv', `${X(rd)},${X(rs1)}`);
      maybeAddr(rs1, immI);
      return out('add', `${X(rd)},${X(rs1)},${immI}`);
    case Op.ANDI: return immI === 255 ? out('zext.b', `${X(rd)},${X(rs1)}`) : out('and', `${X(rd)},${X(rs1)},${immI}`);
    case Op.XORI: return immI === -1 ? out('not', `${X(rd)},${X(rs1)}`) : out('xor', `${X(rd)},${X(rs1)},${immI}`);
    case Op.ORI: return out('or', `${X(rd)},${X(rs1)},${immI}`);
    case Op.SLTI: return out('slti', `${X(rd)},${X(rs1)},${immI}`);
    case Op.SLTIU: return immI === 1 ? out('seqz', `${X(rd)},${X(rs1)}`) : out('sltiu', `${X(rd)},${X(rs1)},${immI}`);
    case Op.SLLI: case Op.SRLI: case Op.SRAI: return out(name.slice(0, 3), `${X(rd)},${X(rs1)},${hex(f('shamt'))}`);
    case Op.SUB: return rs1 === 0 ? out('neg', `${X(rd)},${X(rs2)}`) : out('sub', `${X(rd)},${X(rs1)},${X(rs2)}`);
    case Op.SLTU: return rs1 === 0 ? out('snez', `${X(rd)},${X(rs2)}`) : out('sltu', `${X(rd)},${X(rs1)},${X(rs2)}`);
    case Op.SLT: return rs2 === 0 ? out('sltz', `${X(rd)},${X(rs1)}`) : rs1 === 0 ? out('sgtz', `${X(rd)},${X(rs2)}`) : out('slt', `${X(rd)},${X(rs1)},${X(rs2)}`);
    case Op.FENCE: return f('pred') === 15 && f('succ') === 15 ? out('fence') : out('fence', `${FENCE[f('pred')]},${FENCE[f('succ')]}`);
    case Op.CSRRS: {
      const csr = f('csr');
      if (rs1 === 0 && COUNTERS[csr]) return out(COUNTERS[csr], X(rd));
      if (rs1 === 0) return out('csrr', `${X(rd)},${csrName(csr)}`);
      return rd === 0 ? out('csrs', `${csrName(csr)},${X(rs1)}`) : out('csrrs', `${X(rd)},${csrName(csr)},${X(rs1)}`);
    }
    case Op.CSRRW:
      if (w === 0xc0001073) return out('unimp');
      return rd === 0 ? out('csrw', `${csrName(f('csr'))},${X(rs1)}`) : out('csrrw', `${X(rd)},${csrName(f('csr'))},${X(rs1)}`);
    case Op.CSRRC: return rd === 0 ? out('csrc', `${csrName(f('csr'))},${X(rs1)}`) : out('csrrc', `${X(rd)},${csrName(f('csr'))},${X(rs1)}`);
    case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI: {
      const base = name.slice(0, 5);
      return rd === 0 ? out(`csr${base[4]}`, `${csrName(f('csr'))},${f('zimm')}`) : out(base, `${X(rd)},${csrName(f('csr'))},${f('zimm')}`);
    }
    case Op.SFENCE_VMA: case Op.HFENCE_VVMA: case Op.HFENCE_GVMA:
      return rs2 === 0 ? out(name, rs1 === 0 ? '' : X(rs1)) : out(name, `${X(rs1)},${X(rs2)}`);
    case Op.RDPRIV: return out(name, X(rd));
    case Op.SETSIE: case Op.TOUSER: return out(name, X(rs1));
  }
  if (def.size === 2) return printCompressed(def, w, pc, st, out, f, maybeAddr);
  return out(name, genericOperands(def, w));
}

/** Operands in the table's own syntax (R-type, AMOs, H loads and stores, ...). */
function genericOperands(def: InsnDef, w: number): string {
  if (!def.syntax) return '';
  return def.syntax.replace(/\s/g, '').replace(/[a-z_0-9]+/g, (tok) => {
    if (tok === 'sp') return 'sp';
    const v = getField(w, tok as FieldName);
    return tok.startsWith('r') || tok.startsWith('c_r') || tok.startsWith('cp_') ? X(v) : String(v);
  });
}

function printCompressed(def: InsnDef, w: number, pc: number, st: DisasmState, out: (m: string, o?: string, t?: number) => Printed, f: (n: FieldName) => number, maybeAddr: (b: number, o: number) => void): Printed {
  const crd = f('c_rd');
  switch (def.id) {
    case Op.C_ADDI4SPN: return out('add', `${X(f('cp_rd'))},sp,${f('c_spn4imm')}`);
    case Op.C_LW: return out('lw', `${X(f('cp_rd'))},${f('c_lwimm')}(${X(f('cp_rs1'))})`);
    case Op.C_SW: return out('sw', `${X(f('cp_rs2'))},${f('c_lwimm')}(${X(f('cp_rs1'))})`);
    case Op.C_NOP: return f('c_imm6') === 0 ? out('nop') : out('c.nop', String(f('c_imm6')));
    case Op.C_ADDI:
      if (crd !== 0) maybeAddr(crd, f('c_imm6'));
      return out('add', `${X(crd)},${X(crd)},${f('c_imm6')}`);
    case Op.C_JAL: return out('jal', '', (pc + f('c_jimm')) >>> 0);
    case Op.C_J: return out('j', '', (pc + f('c_jimm')) >>> 0);
    case Op.C_LI: return out('li', `${X(crd)},${f('c_imm6')}`);
    case Op.C_ADDI16SP: return out('add', `sp,sp,${f('c_sp16imm')}`);
    case Op.C_LUI: {
      const imm = f('c_luiimm') & 0xfffff;
      st.hiAddr[crd] = (imm << 12) >>> 0;
      return out('lui', `${X(crd)},${hex(imm)}`);
    }
    case Op.C_SRLI: case Op.C_SRAI: return out(def.name.slice(2, 5), `${X(f('cp_rs1'))},${X(f('cp_rs1'))},${hex(f('c_shamt'))}`);
    case Op.C_SLLI: return out('sll', `${X(crd)},${X(crd)},${hex(f('c_shamt'))}`);
    case Op.C_ANDI: return out('and', `${X(f('cp_rs1'))},${X(f('cp_rs1'))},${f('c_imm6')}`);
    case Op.C_SUB: case Op.C_XOR: case Op.C_OR: case Op.C_AND:
      return out(def.name.slice(2), `${X(f('cp_rs1'))},${X(f('cp_rs1'))},${X(f('cp_rs2'))}`);
    case Op.C_BEQZ: case Op.C_BNEZ: return out(def.name.slice(2), `${X(f('cp_rs1'))},`, (pc + f('c_bimm')) >>> 0);
    case Op.C_LWSP: return out('lw', `${X(crd)},${f('c_lwspimm')}(sp)`);
    case Op.C_SWSP: return out('sw', `${X(f('c_rs2'))},${f('c_swspimm')}(sp)`);
    case Op.C_JR: return crd === 1 ? out('ret') : out('jr', X(crd));
    case Op.C_JALR: return out('jalr', X(crd));
    case Op.C_MV: return out('mv', `${X(crd)},${X(f('c_rs2'))}`);
    case Op.C_ADD: return out('add', `${X(crd)},${X(crd)},${X(f('c_rs2'))}`);
    case Op.C_EBREAK: return out('ebreak');
  }
  return out(def.name, genericOperands(def, w));
}

/**
 * The instruction in the table's own spelling (no aliases, explicit `c.` names, branch targets as
 * `.+offset`), which assembles back to the same encoding.
 */
export function canonicalText(bits: number): string | undefined {
  const d = decodeAny(bits);
  if (!d.def) return undefined;
  const def = d.def;
  const w = d.bits;
  const name = def.aqrl ? def.name + ['', '.rl', '.aq', '.aqrl'][getField(w, 'aqrl')] : def.name;
  if (!def.syntax) return name;
  const ops = def.syntax.replace(/[a-z_0-9]+/g, (tok) => {
    if (tok === 'sp') return 'sp';
    const f = tok as FieldName;
    const v = getField(w, f);
    if (['imm_b', 'imm_j', 'c_bimm', 'c_jimm'].includes(tok)) return v < 0 ? `.-${-v}` : `.+${v}`;
    if (tok === 'pred' || tok === 'succ') return FENCE[v];
    if (tok === 'imm_u') return hex(v);
    if (tok.startsWith('r') || tok.startsWith('c_r') || tok.startsWith('cp_')) return X(v);
    return String(v);
  });
  return `${name} ${ops}`;
}
