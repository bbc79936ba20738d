// Interpreter warm-up. V8 optimizes `execute` once it is hot, with the type feedback of the paths
// run so far; every path first taken later (another instruction, a trap, a translated block) throws
// the optimized code away and compiles the large function again. A guest's first seconds used to pay
// a dozen such compiles (measured on bench/programs/sort: 101 M instructions per CPU second in a
// first run, 125 in a second run in the same process). So before the first machine runs, a small
// program that takes every common path of the loop runs on a hart of its own: each fast-path
// instruction, loads and stores through the TLB and the slow path, taken and not-taken branches,
// jumps, a CSR instruction, an ecall and an access fault with their trap handler and mret, and, on a
// second hart, translated blocks; the first half with a breakpoint set, so that the loop's general path
// (which every instruction takes then) gets its type feedback as well as its inner loop.

import { MEMORY_MAP } from '../machine/memory-map';
import { Bus } from '../machine/bus';
import { encode, type Fields } from '../isa/encode';
import { Op } from '../isa/opcodes';
import { INSN_BY_ID } from '../isa/table';
import { Hart } from './hart';
import { execute } from './interp';

/** Steps of the warm-up program on each hart. */
const WARM_STEPS = 50_000;
const MSCRATCH = 0x340;
const MEPC = 0x341;

const RAM_BYTES = 10 * 4096;

/**
 * Hart fields that real guests fill with values up to 2^32 - 1 (addresses at 0x80000000, causes
 * of interrupts, satp's mode bit, counters past 2^31). V8 keeps a field that has only held small
 * integers unboxed; the first large value changes the Hart's hidden class and drops all optimized
 * code that uses it. Storing one large value in the warm-up's hart settles that class first.
 */
const WIDE_FIELDS = ['mstatus', 'medeleg', 'mideleg', 'mie', 'mipSw', 'mipHw', 'mtvec', 'mscratch', 'mepc', 'mcause', 'mtval',
  'stvec', 'sscratch', 'sepc', 'scause', 'stval', 'satp', 'instret', 'steps'] as const;

function widen(hart: Hart): void {
  const fields = hart as unknown as Record<string, number>;
  for (const f of WIDE_FIELDS) {
    const v = fields[f];
    fields[f] = 0xffffffff;
    fields[f] = v;
  }
  const tlb = hart.tlb as unknown as Record<string, number>;
  for (const f of ['hits', 'misses', 'flushes']) {
    const v = tlb[f];
    tlb[f] = 0xffffffff;
    tlb[f] = v;
  }
}

function word(op: Op, fields: Fields): number {
  return encode(INSN_BY_ID[op], fields) | 0;
}

/** The warm-up program at RAM offset 0; x10..x17 point to data pages. */
function program(): number[] {
  const p: number[] = [];
  const alu = [Op.ADD, Op.SUB, Op.SLL, Op.SLT, Op.SLTU, Op.XOR, Op.SRL, Op.SRA, Op.OR, Op.AND,
    Op.MUL, Op.MULH, Op.MULHSU, Op.MULHU, Op.DIV, Op.DIVU, Op.REM, Op.REMU];
  const imm = [Op.ADDI, Op.SLTI, Op.SLTIU, Op.XORI, Op.ORI, Op.ANDI];
  for (let i = 0; i < 3; i++) {
    const rd = 5 + i;
    p.push(word(Op.LUI, { rd, imm_u: 0x12345 + i }), word(Op.AUIPC, { rd: 8, imm_u: i }));
    for (const op of imm) p.push(word(op, { rd, rs1: 6, imm_i: -3 + i }));
    for (const op of [Op.SLLI, Op.SRLI, Op.SRAI]) p.push(word(op, { rd, rs1: 7, shamt: 3 + i }));
    for (const op of alu) p.push(word(op, { rd, rs1: 6, rs2: 7 }));
    // Each kind of load and store has a page of its own (x10..x17), so that after the TLB is
    // flushed each takes the slow path once.
    [Op.LB, Op.LH, Op.LW, Op.LBU, Op.LHU].forEach((op, k) => p.push(word(op, { rd, rs1: 10 + k, imm_i: 4 * i })));
    [Op.SB, Op.SH, Op.SW].forEach((op, k) => p.push(word(op, { rs1: 15 + k, rs2: rd, imm_s: 4 * i })));
    // Branches to the next instruction, so taken or not the program goes on.
    for (const op of [Op.BEQ, Op.BNE, Op.BLT, Op.BGE, Op.BLTU, Op.BGEU]) p.push(word(op, { rs1: 5, rs2: 6 + (i & 1), imm_b: 4 }));
    // And each one both taken and not, on registers the program never writes (x10 holds an address
    // at 0x80000000 or above: negative as a signed value).
    for (const op of [Op.BEQ, Op.BNE, Op.BLT, Op.BGE, Op.BLTU, Op.BGEU]) {
      for (const [rs1, rs2] of [[0, 10], [10, 0], [10, 10]]) p.push(word(op, { rs1, rs2, imm_b: 4 }));
    }
    p.push(word(Op.JAL, { rd: 9, imm_j: 4 }), word(Op.AUIPC, { rd: 9, imm_u: 0 }), word(Op.JALR, { rd: 0, rs1: 9, imm_i: 8 }));
    p.push(word(Op.FENCE, { pred: 15, succ: 15 }));
  }
  // A CSR instruction, an ecall and a load from an address where nothing is (access fault).
  p.push(word(Op.CSRRW, { rd: 5, rs1: 6, csr: MSCRATCH }), word(Op.ECALL, {}), word(Op.LW, { rd: 5, rs1: 0, imm_i: 16 }));
  // Back to the start.
  p.push(word(Op.JAL, { rd: 0, imm_j: -4 * p.length }));
  // The trap handler (mtvec): skip the instruction that trapped.
  p.push(word(Op.CSRRS, { rd: 5, rs1: 0, csr: MEPC }), word(Op.ADDI, { rd: 5, rs1: 5, imm_i: 4 }),
    word(Op.CSRRW, { rd: 0, rs1: 5, csr: MEPC }), word(Op.MRET, {}));
  return p;
}

/** What the warm-up ran (for its test): steps and traps on both harts, blocks translated. */
export interface WarmUpSummary {
  steps: number;
  ecalls: number;
  accessFaults: number;
  translations: number;
}

/** Runs the warm-up program on a hart with and one without the block translator. */
export function warmUpInterpreter(): WarmUpSummary {
  const summary: WarmUpSummary = { steps: 0, ecalls: 0, accessFaults: 0, translations: 0 };
  const code = program();
  const handler = (code.length - 4) * 4;
  for (const jit of [true, false]) {
    const base = MEMORY_MAP.ram.base;
    const hart = new Hart(new Bus(base, RAM_BYTES), { jit, pmp: false });
    // Build blocks at once (the production budget would leave this short program interpreted).
    if (hart.code !== undefined) hart.code.buildBudget = 0;
    widen(hart);
    const ram32 = hart.bus.ram32;
    for (let i = 0; i < code.length; i++) ram32[i] = code[i];
    hart.reset(base);
    hart.mtvec = base + handler;
    for (let r = 10; r <= 17; r++) hart.x[r] = base + 4096 * (r - 8);
    hart.x[6] = -77;
    hart.x[7] = 5;
    // Slices end at every mret (interrupts may have changed), twice a pass. The first half runs
    // with a breakpoint where the program never goes: then every instruction takes the loop's
    // general path (as after a decode-cache miss, or while stepping) instead of its inner loop, so
    // both have their type feedback.
    let steps = 0;
    hart.breakpoints.add(base + RAM_BYTES - 4);
    for (let i = 0; i < 10_000 && steps < WARM_STEPS; i++) {
      if (steps >= WARM_STEPS / 2) hart.breakpoints.clear();
      hart.sliceDone = 0;
      hart.sliceSteps = 0;
      hart.tlb.flushAll();
      execute(hart, 5000);
      steps += hart.sliceSteps;
    }
    hart.breakpoints.clear();
    summary.steps += steps;
    summary.ecalls += hart.trapCounts[11];
    summary.accessFaults += hart.trapCounts[5];
    summary.translations += hart.code?.stats.translations ?? 0;
  }
  return summary;
}
