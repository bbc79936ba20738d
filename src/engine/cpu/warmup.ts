// Interpreter warm-up. V8 optimizes `execute` once it is hot, with the type feedback of the paths
// run so far; every path first taken later (another instruction, a trap, a translated block) throws
// the optimized code away and compiles the large function again. A guest's first seconds used to pay
// a dozen such compiles (measured on bench/programs/sort: 101 M instructions per CPU second in a
// first run, 125 in a second run in the same process). So before the first machine runs, a small
// program that takes every common path of the loop runs on a hart of its own: each fast-path
// instruction, loads and stores through the TLB and the slow path, taken and not-taken branches,
// jumps (and a call into another page), a CSR instruction, an ecall, an access fault and a fetch fault with their trap handler and
// mret, and, on two more harts, translated blocks and the translator's deferrals; the first half
// with a breakpoint set, so that the loop's general path (which every instruction takes then) gets
// its type feedback as well as its inner loop.

import { MEMORY_MAP } from '../machine/memory-map';
import { Bus, Rom, type Device, type PhysicalBus } from '../machine/bus';
import { encode, type Fields } from '../isa/encode';
import { Op } from '../isa/opcodes';
import { INSN_BY_ID } from '../isa/table';
import { Csr, Mstatus } from './csr-defs';
import { CsrOp, Hart, jitArenaBytes, Priv } from './hart';
import { execute, lastDecodeEpoch } from './interp';
import { fastRunTwin, type FastRun } from './fast-run';
import { BUILD_BUDGET, HOT_THRESHOLD } from './jit';
import { Access, Cause, Pte } from '../mmu/walk';

/**
 * Steps of the warm-up program on each hart (about 20 passes). Every path has run within the first
 * rounds, and V8 compiles execute (on the main thread, as vmlab runs node) after about 1,700 to
 * 1,800 steps a hart; what runs after that compile only costs start-up time. 15,000 steps ran 1.35 G
 * host instructions of `vmlab run labs/hello/hello.S`, 5,000 run 1.25 G, with the same compiles of
 * execute afterwards on CoreMark, xv6 and both Linux boots. Fewer than about 2,000 would leave the
 * compile to the guest (test/cli/interpreter-compiles.test.ts runs 10 instructions of a guest and
 * expects the compile); 5,000 leave room for execute to grow.
 */
export const WARM_STEPS = 5_000;
/** Fast runs in WebAssembly the warm-up's fourth hart takes turns with (more than V8's polymorphic calls track). */
const FAST_RUNS = 5;

const RAM_BYTES = 10 * 4096;

/**
 * Hart fields that real guests fill with values up to 2^32 - 1 (addresses at 0x80000000, causes
 * of interrupts, satp's mode bit, counters past 2^31). V8 keeps a field that has only held small
 * integers unboxed; the first large value changes the Hart's hidden class and drops all optimized
 * code that uses it. Storing one large value in the warm-up's hart settles that class first.
 */
const WIDE_FIELDS = ['mstatus', 'medeleg', 'mideleg', 'mie', 'mipSw', 'mipHw', 'mtvec', 'mscratch', 'mepc', 'mcause', 'mtval',
  'stvec', 'sscratch', 'sepc', 'scause', 'stval', 'satp', 'instret', 'steps',
  // Found with `node --trace-generalization` on Linux's boot: OpenSBI writes all ones to the
  // counter-enable CSRs, the run loop stores the resumed pc (unsigned) in bpSkip, and the counter
  // offsets follow 64-bit writes. Each changed the Hart's class after the warm-up ("wrong map" at
  // h.sliceEnd in execute, and a compile of execute more per boot).
  'mcounteren', 'mcountinhibit', 'scounteren', 'menvcfg', 'senvcfg', 'cycleOffset', 'instretOffset', 'bpSkip',
  // LR's address and the word it read.
  'reservation', 'reservedValue'] as const;

/** Stores a value that is no small integer in each numeric field, then the old value back. */
function widenFields(obj: object, names: readonly string[]): void {
  const fields = obj as Record<string, number>;
  for (const f of names) {
    const v = fields[f];
    fields[f] = 0xffffffff;
    fields[f] = 0.5;
    fields[f] = v;
  }
}

/**
 * Gives the numeric fields of `hart`, its TLB and its translator's counters the representation V8
 * keeps for values past 2^31 and fractions, keeping their values. On a hart made before the warm-up
 * (a machine's), it also moves the objects off the classes the warm-up's harts left behind, which
 * compiled code would otherwise meet as a "wrong map" (Machine calls it after the warm-up).
 */
export function widen(hart: Hart): void {
  widenFields(hart, WIDE_FIELDS);
  widenFields(hart.tlb, ['hits', 'misses', 'flushes']);
  // The H extension's CSRs: a hw VM's switch-in writes hgatp with its mode bit set (past 2^31).
  const hx = hart.hx as unknown as Record<string, unknown>;
  widenFields(hart.hx, Object.keys(hx).filter((k) => typeof hx[k] === 'number'));
  // The translator's counters: translateMs holds fractions once a clock is given (the CLI and the
  // bench give one), the others pass 2^31 in long runs.
  const stats = hart.code?.stats;
  if (stats !== undefined) widenFields(stats, Object.keys(stats).filter((k) => typeof (stats as unknown as Record<string, unknown>)[k] === 'number'));
}

/**
 * Fields an embedder sets after construction (a machine's time source and firmware, a VMM's trap
 * hook, the bench's clock): V8 takes a field written once as constant and drops the code that relied
 * on it at the second write, so the warm-up's harts write them twice.
 */
function loosen(hart: Hart): void {
  // A hw VM's switch-in copies its guest's features onto the physical hart.
  const f = hart.features;
  for (const k of ['xsensitive', 'c', 'm', 'a'] as const) {
    const v = f[k];
    f[k] = !v;
    f[k] = v;
  }
  hart.time = { now: () => 1 };
  hart.firmware = { ecallFromS: () => {} };
  hart.firmware = undefined;
  hart.trapHook = { trap: () => {} };
  hart.trapHook = undefined;
  if (hart.code !== undefined) {
    hart.code.clock = () => 0;
    hart.code.clock = undefined;
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
    // A store of each size into the program's own page, past its code (x21 points there): the
    // inner loop's check of stores into the code it runs.
    p.push(word([Op.SB, Op.SH, Op.SW][i], { rs1: 21, rs2: 5, imm_s: 4 * i }));
  }
  // The rare instructions the inner loop runs (Linux's locks and OpenSBI's traps): sstatus and
  // mstatus read, cleared and set, a scratch register written; LR, SC (a success, a failure without
  // a reservation, a failure on a changed word) and every AMO on a word that holds values past 2^30,
  // as a kernel's counters and lock words do (x25 points into x17's page).
  p.push(word(Op.CSRRS, { rd: 5, rs1: 0, csr: Csr.SSTATUS }), word(Op.CSRRCI, { rd: 5, zimm: 8, csr: Csr.MSTATUS }),
    word(Op.CSRRS, { rd: 0, rs1: 5, csr: Csr.MSTATUS }), word(Op.CSRRW, { rd: 0, rs1: 5, csr: Csr.SSCRATCH }));
  p.push(word(Op.ADDI, { rd: 25, rs1: 17, imm_i: 64 }), word(Op.SW, { rs1: 25, rs2: 10, imm_s: 0 }),
    word(Op.LR_W, { rd: 5, rs1: 25 }), word(Op.SC_W, { rd: 5, rs1: 25, rs2: 6 }), word(Op.SC_W, { rd: 5, rs1: 25, rs2: 10 }),
    word(Op.LR_W, { rd: 5, rs1: 25 }), word(Op.SW, { rs1: 25, rs2: 10, imm_s: 0 }), word(Op.SC_W, { rd: 5, rs1: 25, rs2: 6 }));
  [Op.AMOSWAP_W, Op.AMOADD_W, Op.AMOXOR_W, Op.AMOAND_W, Op.AMOOR_W, Op.AMOMIN_W, Op.AMOMAX_W, Op.AMOMINU_W, Op.AMOMAXU_W]
    .forEach((op, k) => p.push(word(op, { rd: 5, rs1: 25, rs2: (k & 1) === 0 ? 10 : 6 })));
  // A CSR instruction, an ecall, a load from an address where nothing is (access fault) and a call
  // to such an address above 2^31 (a fetch fault raised by the loop's slow fetch, its tval a large
  // unsigned value as a kernel's page faults have).
  p.push(word(Op.CSRRW, { rd: 5, rs1: 6, csr: Csr.MSCRATCH }), word(Op.ECALL, {}), word(Op.LW, { rd: 5, rs1: 0, imm_i: 16 }),
    word(Op.LUI, { rd: 20, imm_u: 0xfffff }), word(Op.JALR, { rd: 1, rs1: 20, imm_i: 16 }));
  // Every other load and store faulting too: each size has its own slow path in the loop, and a
  // guest takes them all (a VMM's shadow fills in trap mode, a kernel's demand paging).
  for (const op of [Op.LB, Op.LH, Op.LBU, Op.LHU]) p.push(word(op, { rd: 5, rs1: 0, imm_i: 16 }));
  for (const op of [Op.SB, Op.SH, Op.SW]) p.push(word(op, { rs1: 0, rs2: 5, imm_s: 16 }));
  // A loop whose load faults on every pass: once translated, its block traps (the dispatcher's
  // path for a block that trapped, as a VMM's shadow fills take it). Its start is 8-byte aligned,
  // so that its heat starts near the threshold (below) and it is built within the first passes.
  if (p.length % 2 === 0) p.push(word(Op.ADDI, { rd: 0, rs1: 0, imm_i: 0 }));
  p.push(word(Op.ADDI, { rd: 23, rs1: 0, imm_i: FAULT_LOOP_PASSES }));
  p.push(word(Op.ADDI, { rd: 23, rs1: 23, imm_i: -1 }), FAULT_LOOP_LOAD, word(Op.BNE, { rs1: 23, rs2: 0, imm_b: -8 }));
  // A load, a store and a call into a device (a boot ROM holding `ret`): the slow paths' device
  // accesses and the slow fetch from outside RAM, as every boot starts.
  p.push(word(Op.LUI, { rd: 22, imm_u: MEMORY_MAP.bootRom.base >>> 12 }), word(Op.LW, { rd: 5, rs1: 22, imm_i: 0 }),
    word(Op.SW, { rs1: 22, rs2: 5, imm_s: 4 }), word(Op.JALR, { rd: 1, rs1: 22, imm_i: 0 }));
  // A call into the next page (FAR), whose code falls through into the page after it and returns
  // from there: the inner loop going on across pages, by a jump and sequentially (twice, as the
  // first call of a slice fills the TLB's fetch entries).
  p.push(word(Op.JAL, { rd: 1, imm_j: FAR - 4 * p.length }));
  p.push(word(Op.JAL, { rd: 1, imm_j: FAR - 4 * p.length }));
  // Back to the start.
  p.push(word(Op.JAL, { rd: 0, imm_j: -4 * p.length }));
  // The trap handler (mtvec): return after the instruction that trapped, or to the caller (x1)
  // from a fetch fault.
  p.push(word(Op.CSRRS, { rd: 18, rs1: 0, csr: Csr.MCAUSE }), word(Op.ADDI, { rd: 19, rs1: 0, imm_i: Cause.INSN_ACCESS }),
    word(Op.BEQ, { rs1: 18, rs2: 19, imm_b: 20 }),
    word(Op.CSRRS, { rd: 5, rs1: 0, csr: Csr.MEPC }), word(Op.ADDI, { rd: 5, rs1: 5, imm_i: 4 }),
    word(Op.CSRRW, { rd: 0, rs1: 5, csr: Csr.MEPC }), word(Op.MRET, {}),
    word(Op.CSRRW, { rd: 0, rs1: 1, csr: Csr.MEPC }), word(Op.MRET, {}));
  return p;
}

/** RAM offset of the function the program calls in its second page: two instructions before the third page. */
const FAR = 2 * 4096 - 8;

/** The function at FAR: two additions, then `ret` in the next page (which the loads read as data). */
function far(): number[] {
  return [word(Op.ADDI, { rd: 5, rs1: 5, imm_i: 1 }), word(Op.ADDI, { rd: 5, rs1: 5, imm_i: 2 }), word(Op.JALR, { rd: 0, rs1: 1, imm_i: 0 })];
}

/** The warm-up's boot ROM: `ret`. */
const RET = new Uint8Array(new Int32Array([word(Op.JALR, { rd: 0, rs1: 1, imm_i: 0 })]).buffer);

/** Where warmUpReturns maps its devices (nothing of the warm-up's is there). */
const DEVICE_BASE = 0x10000000;

/** Instructions of the trap handler at the end of the program. */
const HANDLER_WORDS = 9;

/** Passes of the program's faulting loop, and its load (the only one into x24). */
const FAULT_LOOP_PASSES = 3;
const FAULT_LOOP_LOAD = word(Op.LW, { rd: 24, rs1: 0, imm_i: 16 });

/**
 * Traps in one pass of the program, each ending its slice at the handler's mret: the ecall, the
 * fetch fault, eight faulting loads and stores, the faulting loop's passes. It must be odd: rounds
 * alternate between the loop's general path and its inner loop slice by slice, so that each part
 * of the program runs on both paths in alternate passes.
 */
export const TRAPS_PER_PASS = 10 + FAULT_LOOP_PASSES;

/** What the warm-up ran (for its test): steps and traps on all harts, blocks translated. */
export interface WarmUpSummary {
  steps: number;
  ecalls: number;
  accessFaults: number;
  fetchFaults: number;
  /** Store access faults (the faulting stores of each size). */
  storeFaults: number;
  translations: number;
  /** Harts that translated the faulting loop (whose block then traps on each of its passes). */
  faultLoopBuilt: number;
  /** Times the translator left a hot start interpreted (the production budget's deferrals). */
  deferred: number;
  /** The paging hart's (warmUpPaging): page-table walks, page faults, interrupts taken, srets, device accesses. */
  walks: number;
  pageFaults: number;
  interrupts: number;
  srets: number;
  deviceAccesses: number;
  /** Instances of the fast run in WebAssembly the fourth hart took turns with (0 without WebAssembly). */
  fastRuns: number;
}

/**
 * Another bus class the interpreter runs on, set by its owner (the VMM: a VM's guest-physical bus,
 * on which hw mode interprets a guest's virtual M-mode): the warm-up's interpreting hart runs on
 * one, so V8 compiles execute for both classes at once instead of again at the first such run
 * ("wrong map" at `h.bus.ram`). It returns a bus with `bytes` of RAM at `base`, RAM offset 0 first.
 */
export const warmUpBus: { make?: (base: number, bytes: number) => PhysicalBus & { map(base: number, size: number, device: Device): void } } = {};

/**
 * Which of execute's inner loops the warm-up makes V8 compile: the fast run in WebAssembly alone (a
 * process whose machines all have it: the default WebAssembly backend), or jsRun too (--no-jit, the
 * JavaScript backend, a VMM's interpreted guest modes).
 */
export const enum WarmLoops {
  FAST = 1,
  ALL = 2,
}

/**
 * Runs the warm-up program on four harts: with the translator building blocks at once, with the
 * translator under its production budget (so hot starts are deferred, and with a backed-off page,
 * as a kernel's boot has them: the heat check's other paths), without the translator, and with the
 * fast run in WebAssembly. With WarmLoops.FAST the first two have WebAssembly arenas too (their
 * inner loop is the fast run, their regions WebAssembly, as a guest's), and the hart without the
 * translator, the one user of jsRun left, does not run: V8 never compiles jsRun (about 125 M host
 * instructions of every start: its compile, and the JavaScript regions those harts built).
 */
export function warmUpInterpreter(loops: WarmLoops = WarmLoops.ALL): WarmUpSummary {
  const summary: WarmUpSummary = { steps: 0, ecalls: 0, accessFaults: 0, fetchFaults: 0, storeFaults: 0, translations: 0, faultLoopBuilt: 0, deferred: 0,
    walks: 0, pageFaults: 0, interrupts: 0, srets: 0, deviceAccesses: 0, fastRuns: 0 };
  // First, before V8 compiles the slow paths the program below makes hot.
  // With WarmLoops.FAST the paging hart has an arena and the translator too, as a guest's hart:
  // without, its sret returns ran jsRun's call in execute after V8 had compiled execute with no
  // feedback for it, and execute was compiled again at the guest's start.
  const fastOnly = loops === WarmLoops.FAST;
  const pagingBus = new Bus(MEMORY_MAP.ram.base, RAM_BYTES, fastOnly ? { arenaBytes: jitArenaBytes({}, RAM_BYTES) } : {});
  const paging = warmUpPaging(pagingBus, summary, fastOnly);
  const code = program();
  const handler = (code.length - HANDLER_WORDS) * 4;
  const base = MEMORY_MAP.ram.base;
  // The fourth hart has a WebAssembly arena, as a guest's hart has by default: its inner loop is the
  // fast run in WebAssembly (fast-run.ts), whose call and ways out execute must have run too.
  const kinds = fastOnly ? (['build', 'budget', 'fast'] as const) : (['build', 'budget', 'interpret', 'fast'] as const);
  const harts = kinds.map((kind) => {
    const arena = kind === 'fast' || (fastOnly && kind !== 'interpret');
    const bus = kind === 'interpret' && warmUpBus.make !== undefined ? warmUpBus.make(base, RAM_BYTES)
      : new Bus(base, RAM_BYTES, arena ? { arenaBytes: jitArenaBytes({}, RAM_BYTES) } : {});
    bus.map(MEMORY_MAP.bootRom.base, 4096, new Rom(RET));
    const hart = new Hart(bus, { jit: kind !== 'interpret', pmp: false });
    // One hart builds blocks at once (the production budget would leave this short program
    // interpreted), one has that budget even under the tests' setting (test/setup.ts).
    if (hart.code !== undefined) hart.code.buildBudget = kind === 'build' ? 0 : BUILD_BUDGET;
    widen(hart);
    loosen(hart);
    const ram32 = hart.bus.ram32;
    for (let i = 0; i < code.length; i++) ram32[i] = code[i];
    far().forEach((w, i) => (ram32[FAR / 4 + i] = w));
    hart.reset(base);
    // The program's page has backed off once: its starts are built at twice the entries.
    if (hart.code !== undefined && kind === 'budget') hart.code.shift[0] = 1;
    // Starts already near their threshold (the threshold, and twice it on the backed-off page), so
    // that the heat check's paths and the translator's calls run within the first passes.
    const hot = hart.code?.hot;
    if (hot !== undefined) for (let i = 0; i < hot.length; i++) hot[i] = (i & 2) === 0 ? HOT_THRESHOLD - 2 : 2 * HOT_THRESHOLD - 3;
    hart.mtvec = base + handler;
    for (let r = 10; r <= 17; r++) hart.x[r] = base + 4096 * (r - 8);
    hart.x[21] = base + 4096 - 64;
    hart.x[6] = -77;
    hart.x[7] = 5;
    return hart;
  });
  // Slices end at every mret (interrupts may have changed), TRAPS_PER_PASS times a pass. The harts take
  // turns slice by slice, and every other round runs with a breakpoint where the program never
  // goes: then every instruction takes the loop's general path (as after a decode-cache miss, or
  // while stepping) instead of its inner loop. So every path has run within the first rounds,
  // before V8 first compiles execute (it compiles with the feedback it has then).
  const steps = harts.map(() => 0);
  const last = harts.length - 1;
  const fastRun = harts[last].fastRun;
  const fastRuns: FastRun[] = [];
  if (fastRun !== undefined) for (let i = 0; i < FAST_RUNS; i++) fastRuns.push(i === 0 ? fastRun : fastRunTwin(fastRun));
  summary.fastRuns = fastRuns.length;
  for (let round = 0; round < 30_000 && steps.some((n) => n < WARM_STEPS); round++) {
    harts.forEach((hart, k) => {
      if (steps[k] >= WARM_STEPS) return;
      if ((round & 1) === 0) hart.breakpoints.add(base + RAM_BYTES - 4);
      else hart.breakpoints.clear();
      // The decode cache's epochs run out in a long boot (hundreds of thousands per Linux boot):
      // the inner loop's path that clears the stamps and starts them again. Once is enough, in an
      // inner-loop round (odd) late enough that V8 has given newEpoch its feedback vector (a call
      // made before that leaves no feedback: with the clear in round 1 alone, CoreMark with the
      // translator threw execute away at its first clear, "insufficient type feedback for call").
      // Each clear walks 2^18 slots, the first ones in V8's bytecode interpreter: four clears (rounds 1,
      // 3, 5 and 7) cost about 45 M host instructions of every start more than this one.
      if (round === 15) lastDecodeEpoch();
      hart.sliceDone = 0;
      hart.sliceSteps = 0;
      hart.tlb.flushAll();
      // Each hart's fast run is a function of its own: the call in execute must have met several,
      // or V8 compiles it for the warm-up's and throws execute away at a guest's ("wrong call target").
      if (k === last && fastRuns.length > 0) (hart as { fastRun: FastRun | undefined }).fastRun = fastRuns[round % fastRuns.length];
      execute(hart, 5000);
      steps[k] += hart.sliceSteps;
    });
  }
  warmUpReturns(paging, pagingBus, summary);
  summary.walks = paging.tlb.misses;
  summary.interrupts = paging.trapCounts[32 + 5] + paging.trapCounts[32 + 7];
  summary.deviceAccesses = pagingBus.deviceAccesses;
  harts.forEach((hart, k) => {
    hart.breakpoints.clear();
    summary.steps += steps[k];
    summary.ecalls += hart.trapCounts[Cause.ECALL_M];
    summary.accessFaults += hart.trapCounts[Cause.LOAD_ACCESS];
    summary.fetchFaults += hart.trapCounts[Cause.INSN_ACCESS];
    summary.storeFaults += hart.trapCounts[Cause.STORE_ACCESS];
    const loop = 4 * (code.indexOf(FAULT_LOOP_LOAD) - 1);
    if (hart.code?.pages[0]?.fn[loop >>> 1] !== undefined) summary.faultLoopBuilt++;
    summary.translations += hart.code?.stats.translations ?? 0;
    summary.deferred += hart.code?.stats.deferred ?? 0;
  });
  return summary;
}

/**
 * The slow paths of a kernel's paging, on a hart of its own with PMP (as OpenSBI leaves it: one rule
 * over all addresses) in S-mode with Sv32 on: loads, stores and fetches that walk the page table
 * through a megapage and a 4 KiB page (physical addresses past 2^31), a user page with and without
 * SUM, MXR, a page whose A bit the walk sets, an unmapped address, and M-mode's accesses under PMP;
 * an interrupt delegated to S-mode and one to M-mode, and SIE set while one is pending. The
 * warm-up program runs in M-mode without translation or PMP, so V8 compiled these functions on
 * Linux's boot with feedback of the bare paths only and threw them away at the first walk
 * ("insufficient type feedback" in translate, pmpAllows, Tlb.fill, leafAllows, contextChanged,
 * enterTrap, writeMstatus; "overflow" in walkSv32). It runs first: the program makes translate hot,
 * and V8 compiled it before a later walk could give it feedback.
 */
function warmUpPaging(bus: Bus, summary: WarmUpSummary, jit: boolean): Hart {
  const base = MEMORY_MAP.ram.base;
  const hart = new Hart(bus, { pmp: true, jit });
  widen(hart);
  loosen(hart);
  hart.csrAccess(Csr.PMPADDR0, CsrOp.WRITE, -1, true);
  hart.csrAccess(Csr.PMPCFG0, CsrOp.WRITE, 0x1f, true);
  const ram32 = hart.bus.ram32;
  const ppn = (page: number): number => ((base >>> 12) + page) << 10;
  const leaf = Pte.V | Pte.R | Pte.W | Pte.X | Pte.A | Pte.D;
  // Root table at page 2: 0xc0000000 a megapage onto RAM, 0x80000000 through the table at page 3.
  ram32[(2 * 4096 + 4 * 0x300) >> 2] = ppn(0) | leaf;
  ram32[(2 * 4096 + 4 * 0x200) >> 2] = ppn(3) | Pte.V;
  // Page 3: 0x80000000 read-write-execute, 0x80001000 a user page, 0x80002000 execute-only
  // without A (the walk sets it).
  ram32[(3 * 4096) >> 2] = ppn(4) | leaf;
  ram32[(3 * 4096 + 4) >> 2] = ppn(5) | leaf | Pte.U;
  ram32[(3 * 4096 + 8) >> 2] = ppn(6) | Pte.V | Pte.X;
  hart.csrAccess(Csr.SATP, CsrOp.WRITE, (0x80000000 | ((base >>> 12) + 2)) | 0, true);
  hart.priv = Priv.S;
  hart.contextChanged();
  const vas = [0xc0000040, 0x80000040, 0x80001040, 0x80002040, 0x80003040];
  for (let round = 0; round < 6; round++) {
    // The last rounds in M-mode, without translation: PMP's checks for M-mode accesses.
    hart.priv = round < 4 ? Priv.S : Priv.M;
    hart.contextChanged();
    // SUM and MXR off, on, and each alone.
    hart.csrAccess(Csr.SSTATUS, (round & 1) === 0 ? CsrOp.CLEAR : CsrOp.SET, Mstatus.SUM, true);
    hart.csrAccess(Csr.SSTATUS, (round & 2) === 0 ? CsrOp.CLEAR : CsrOp.SET, Mstatus.MXR, true);
    for (const va of vas) {
      hart.tlb.flushAll();
      hart.loadSlow(va | 0, 4);
      if (isPageFault(hart.fault)) summary.pageFaults++;
      hart.storeSlow(va | 0, 4, va | 0);
      if (isPageFault(hart.fault)) summary.pageFaults++;
      hart.fetchSlow(va | 0);
      if (isPageFault(hart.fault)) summary.pageFaults++;
      hart.translate(va | 0, 4, Access.LOAD);
    }
  }
  // Interrupts: the supervisor timer delegated to S-mode, the machine timer to M-mode; then SIE
  // set while the (enabled) supervisor software interrupt pends. Repeated, as V8 gives a function
  // its feedback vector only after its first few calls: what they run leaves no feedback.
  hart.mideleg = 0x222;
  hart.setMie(0x222);
  for (let i = 0; i < 8; i++) {
    hart.priv = Priv.S;
    hart.contextChanged();
    hart.setMipSw(0);
    hart.csrAccess(Csr.SSTATUS, CsrOp.SET, Mstatus.SIE, true);
    hart.takeInterrupt(5);
    hart.takeInterrupt(7);
    hart.priv = Priv.S;
    hart.contextChanged();
    hart.csrAccess(Csr.SSTATUS, CsrOp.CLEAR, Mstatus.SIE, true);
    hart.setMipSw(0x2);
    hart.csrAccess(Csr.SSTATUS, CsrOp.SET, Mstatus.SIE, true);
  }
  return hart;
}

/**
 * After the program (which gives the bus's and the interpreter's slow paths their feedback vectors:
 * V8 gives a function one only after its first calls, and what those run leaves no feedback), on
 * warmUpPaging's hart: device accesses, and sret from S-mode ("insufficient type feedback" in the
 * interpreter's slowInstruction on Linux's boot).
 */
function warmUpReturns(hart: Hart, bus: Bus, summary: WarmUpSummary): void {
  const ram32 = hart.bus.ram32;
  // Loads and stores into devices of five classes, as a boot reaches its ROM, UART, CLINT, PLIC
  // and test finisher: the slow paths' calls into a device then stay generic, where after the
  // program alone (its ROM) the first UART access threw Bus.load, Bus.store, loadSlow and storeSlow
  // away ("wrong map" at the device's read and write). Each evaluation of the class expression makes
  // a class (and a hidden class) of its own.
  const devices = Array.from({ length: 5 }, () => new (class implements Device {
    readonly name = 'warm-up';
    read(): number {
      return 0;
    }
    write(): void {}
    reset(): void {}
  })());
  devices.forEach((d, k) => bus.map(DEVICE_BASE + 4096 * k, 4096, d));
  hart.setMipSw(0);
  hart.priv = Priv.M;
  hart.contextChanged();
  for (let i = 0; i < 8; i++) {
    for (let k = 0; k < devices.length; k++) {
      hart.loadSlow(DEVICE_BASE + 4096 * k, 4);
      hart.storeSlow(DEVICE_BASE + 4096 * k, 4, i);
    }
  }
  // sret at 0x80000000 (RAM page 4 through the page table), back to S-mode at itself.
  ram32[(4 * 4096) >> 2] = word(Op.SRET, {});
  for (let i = 0; i < 8; i++) {
    hart.priv = Priv.S;
    hart.mstatus |= Mstatus.SPP;
    hart.contextChanged();
    hart.sepc = hart.pc = 0x80000000 | 0;
    hart.sliceDone = 0;
    hart.sliceSteps = 0;
    execute(hart, 1);
    // sret clears SPP (and stays in S-mode, from where it came).
    if ((hart.mstatus & Mstatus.SPP) === 0 && hart.priv === Priv.S) summary.srets++;
  }
}

function isPageFault(cause: number): boolean {
  return cause === Cause.INSN_PAGE || cause === Cause.LOAD_PAGE || cause === Cause.STORE_PAGE;
}
