// The bt translator: one block of guest-kernel code (up to a control transfer, a sensitive
// instruction or the end of its page) becomes a JavaScript function. Innocuous instructions become
// straight-line code on the physical hart's registers, with loads and stores through its TLB (the
// shadow tables) and the hart's slow path behind it, as the hart's own translator does
// (src/engine/cpu/jit.ts); sensitive ones (CSR accesses, xRET, WFI, SFENCE.VMA, ECALL, EBREAK and
// the Xsensitive rdpriv, setsie, touser) become a call of the VMM's emulation routine (a callout)
// that ends the block; after a CSR access or rdpriv the block goes on when the VMM answers that the
// guest's context stayed. Atomics (LR/SC and the AMOs) are translated inline with the same fast
// paths, and take the physical hart's own path when those miss. A store, AMO or SC to a page that
// holds translated code (write-protected in the shadows) is done inline when the VMM has seen the
// guest may write that page (tagCW, per TLB slot) and the word holds no translated code (cw); else it
// exits as before. A block returns the steps it ran (its instructions, the callouts it went
// on after among them), or -1 - steps when it left through a trap or a callout (which is one step of
// the guest's clock, as the instruction is bare); the VMM takes the callouts it went on after off the
// instructions the physical hart retired, as it counted them itself.

import { DECODE_BUCKET, decodeSlow, EXPAND_C } from '../../isa/decode';
import { Op } from '../../isa/opcodes';
import { TLB_MASK } from '../../mmu/tlb';
import type { Hart } from '../../cpu/hart';
import { aluExpr } from '../../cpu/jit';

/** What the VMM offers translated code: the emulation routines of sensitive instructions. */
export interface Callouts {
  /**
   * Emulates the sensitive instruction `bits` of kind `kind` at h.pc (a Callout value). Returns
   * true when the guest goes on at the next instruction in the same context (a CSR access or
   * rdpriv that changed nothing translated code depends on), so the block may go on; the VMM then
   * counts the instruction as one its block did not retire (`BtVcpu.continued`).
   */
  callout(kind: number, bits: number): boolean;
  /**
   * Runs the atomic at h.pc by the physical hart's own path (an access the block's fast paths do
   * not take: misaligned, a TLB miss, a device, a word of translated code); h.pc, sliceDone and
   * sliceSteps are synced before it (its step not yet counted). Returns 0 when it retired and the
   * block may go on, 1 when it retired and the block must end (pc is the next instruction), -1 when
   * it trapped (an exit the VMM handled, or a trap reflected into the guest).
   */
  atomic(): number;
}

/** A translated block function. */
export type BtBlockFn = (
  h: Hart, x: Int32Array, r8: Uint8Array, r16: Uint16Array, r32: Int32Array,
  tagR: Int32Array, tagW: Int32Array, toff: Int32Array, dtag: number, n0: number, s0: number, c: Callouts,
  tagCW: Int32Array, cwOff: Int32Array, cw: Uint32Array, cch: Uint32Array,
) => number;

/** Kinds of callout (index into CALLOUT_NAMES). */
export const enum Callout {
  CSR = 0, MRET, SRET, WFI, SFENCE_VMA, ECALL, EBREAK, RDPRIV, SETSIE, TOUSER, ILLEGAL,
}

/** Names of the callout kinds, as the statistics show them. */
export const CALLOUT_NAMES = ['csr', 'mret', 'sret', 'wfi', 'sfence.vma', 'ecall', 'ebreak', 'rdpriv', 'setsie', 'touser', 'illegal'] as const;

/** Longest block, in instructions. */
export const MAX_BLOCK = 64;

/** One guest instruction of a block, for the translation-cache view. */
export interface GuestInsn {
  pc: number;
  bits: number;
  /** The JavaScript it became (empty for a nop). */
  code: string;
  /** The callout it became, or -1. */
  callout: number;
}

/** A scanned block before it is built into a function. */
export interface ScannedBlock {
  /** The function body. */
  source: string;
  /** Instructions in the block (a callout counts). */
  length: number;
  /** Bytes of guest code from the block's start. */
  bytes: number;
  insns: GuestInsn[];
}

/** CPU features the translation depends on. */
export interface BtFeatures {
  c: boolean;
  m: boolean;
  a: boolean;
  xsensitive: boolean;
}

/** The callout kind of instruction `id`, or -1 when it is no sensitive instruction. */
export function calloutOf(id: number, f: BtFeatures): number {
  switch (id) {
    case Op.CSRRW: case Op.CSRRS: case Op.CSRRC: case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI: return Callout.CSR;
    case Op.MRET: return Callout.MRET;
    case Op.SRET: return Callout.SRET;
    case Op.WFI: return Callout.WFI;
    case Op.SFENCE_VMA: return Callout.SFENCE_VMA;
    case Op.ECALL: return Callout.ECALL;
    case Op.EBREAK: return Callout.EBREAK;
    case Op.RDPRIV: return f.xsensitive ? Callout.RDPRIV : Callout.ILLEGAL;
    case Op.SETSIE: return f.xsensitive ? Callout.SETSIE : Callout.ILLEGAL;
    case Op.TOUSER: return f.xsensitive ? Callout.TOUSER : Callout.ILLEGAL;
    default:
      if (id >= Op.MUL && id <= Op.REMU) return f.m ? -1 : Callout.ILLEGAL;
      if (id >= Op.LR_W && id <= Op.AMOMAXU_W) return f.a ? -1 : Callout.ILLEGAL;
      if ((id >= Op.LUI && id <= Op.AND) || id === Op.FENCE || id === Op.FENCE_TSO || id === Op.PAUSE || id === Op.FENCE_I) return -1;
      return Callout.ILLEGAL;
  }
}

/** Decodes a 32-bit (expanded) instruction word. */
function decode(w: number): number {
  const id = DECODE_BUCKET[(w & 0x7f) | ((w >>> 5) & 0x380)];
  return id < 0 ? decodeSlow(w, id) : id;
}

/**
 * Reads the guest instruction at RAM halfword `hw` (page offset `inPage`): its raw bits, the 32-bit
 * word it stands for and its size; undefined when a 4-byte instruction crosses the page end.
 */
export function readInsn(r16: Uint16Array, hw: number, inPage: number, hasC: boolean): { raw: number; w: number; size: number } | undefined {
  const lo = r16[hw];
  if ((lo & 3) === 3) {
    if (inPage >= 0xffe) return undefined;
    const raw = (lo | (r16[hw + 1] << 16)) | 0;
    return { raw, w: raw, size: 4 };
  }
  // A 16-bit encoding without C is illegal: its expansion 0 decodes as illegal.
  return { raw: lo, w: hasC ? EXPAND_C[lo] : 0, size: 2 };
}

const R = (r: number): string => (r === 0 ? '0' : `x[${r}]`);

/**
 * Instruction k of the block as code: its index, or in a block that loops on itself the index plus
 * `t`, the instructions of the iterations before.
 */
function at(k: number, loop: boolean): string {
  return loop ? `t + ${k}` : String(k);
}

/**
 * Code that syncs the hart before a slow call or callout of instruction k at `pc`, after `e`
 * callouts the block went on from (each a step of the guest's clock but no instruction the physical
 * hart retired: the VMM counts it).
 */
function sync(k: number, pc: number, loop: boolean, e = 0): string {
  return `h.pc = ${pc}; h.sliceDone = n0 + ${at(k - e, loop)}; h.sliceSteps = s0 + ${at(k + 1, loop)};`;
}

/** The target of the conditional branch `w` at `pc`, or undefined when `id` is none. */
function branchTarget(id: number, w: number, pc: number): number | undefined {
  if (id < Op.BEQ || id > Op.BGEU) return undefined;
  return (pc + (((w >> 31) << 12) | ((w << 4) & 0x800) | ((w >>> 20) & 0x7e0) | ((w >>> 7) & 0x1e))) | 0;
}

/**
 * Scans the block at RAM offset `off` (guest-virtual `pc`, privilege-independent code) of at most
 * `max` instructions. A block of length 0 means the first instruction cannot be translated here
 * (a 4-byte instruction across the page end): the caller runs it by other means.
 */
export function scanBlock(r16: Uint16Array, off: number, pc: number, f: BtFeatures, max = MAX_BLOCK): ScannedBlock {
  const scan = scan1(r16, off, pc, f, max, false);
  // A block whose last instruction branches back to its start (a copy or fill loop) loops inside
  // its function while the slice has room for another whole iteration and no breakpoint is set.
  const last = scan.insns[scan.length - 1];
  if (max > 1 && last !== undefined && scan.insns.every((i) => i.callout < 0) && branchTarget(decode(wordOf(last.bits, f.c)), wordOf(last.bits, f.c), last.pc) === pc) {
    return scan1(r16, off, pc, f, max, true);
  }
  return scan;
}

/** The 32-bit word an instruction's raw bits stand for. */
function wordOf(raw: number, hasC: boolean): number {
  return (raw & 3) === 3 ? raw | 0 : hasC ? EXPAND_C[raw & 0xffff] : 0;
}

function scan1(r16: Uint16Array, off: number, pc: number, f: BtFeatures, max: number, loop: boolean): ScannedBlock {
  const lines: string[] = [loop ? 'let a = 0, v = 0, vp = 0, ti = 0, hh = 0, o = 0, t = 0;\nfor (;;) {' : 'let a = 0, v = 0, vp = 0, ti = 0, hh = 0, o = 0;'];
  const insns: GuestInsn[] = [];
  let k = 0;
  let cur = off;
  let vpc = pc;
  let ended = false;
  /** Callouts the block goes on after. */
  let e = 0;
  while (k < max && !ended) {
    const inPage = cur & 0xfff;
    if (k > 0 && inPage === 0) break;
    const insn = readInsn(r16, cur >> 1, inPage, f.c);
    if (insn === undefined) break;
    const { raw, w, size } = insn;
    const id = decode(w);
    const next = (vpc + size) | 0;
    const kind = calloutOf(id, f);
    let text: string;
    if (kind >= 0 && !loop && (kind === Callout.CSR || kind === Callout.RDPRIV)) {
      // The block goes on after a CSR access or rdpriv that changed nothing the translation
      // depends on (the VMM says so); else it leaves as after any callout.
      text = `${sync(k, vpc, false, e)} h.tlb.hits += hh; hh = 0; if (!c.callout(${kind}, ${raw})) return ${-1 - k};`;
      e++;
    } else if (kind >= 0) {
      text = `${sync(k, vpc, loop, e)} h.tlb.hits += hh; c.callout(${kind}, ${raw}); return ${loop ? `-1 - t - ${k}` : -1 - k};`;
      ended = true;
    } else {
      const code = emit(id, w, k, vpc, next, f.c, e, loop ? pc : undefined);
      if (code === undefined) break;
      text = code.text;
      ended = code.ends;
    }
    lines.push(text);
    insns.push({ pc: vpc, bits: raw >>> 0, code: text, callout: kind });
    k++;
    cur += size;
    vpc = next;
  }
  if (!ended) lines.push(`h.pc = ${vpc}; h.tlb.hits += hh; return ${at(k, loop)};`);
  if (loop) lines.push('}');
  return { source: lines.join('\n'), length: k, bytes: (vpc - pc) | 0, insns };
}

/**
 * How many instructions from RAM offset `off` the VMM may run natively on the physical hart, as
 * trap mode runs code, instead of translating them: up to the first sensitive instruction (not
 * included), the first control transfer (included), the end of the page or `max`.
 */
export function coldLength(r16: Uint16Array, off: number, f: BtFeatures, max = MAX_BLOCK): number {
  let k = 0;
  let cur = off;
  while (k < max) {
    const inPage = cur & 0xfff;
    if (k > 0 && inPage === 0) return k;
    const lo = r16[cur >> 1];
    let w: number;
    if ((lo & 3) === 3) {
      if (inPage >= 0xffe) return k;
      w = (lo | (r16[(cur >> 1) + 1] << 16)) | 0;
      cur += 4;
    } else {
      w = f.c ? EXPAND_C[lo] : 0;
      cur += 2;
    }
    const id = decode(w);
    if (calloutOf(id, f) >= 0) return k;
    k++;
    if (id === Op.JAL || id === Op.JALR || (id >= Op.BEQ && id <= Op.BGEU)) return k;
  }
  return k;
}

/** Builds a scanned block into its function. */
export function buildBlock(scan: ScannedBlock): BtBlockFn {
  return new Function('h', 'x', 'r8', 'r16', 'r32', 'tagR', 'tagW', 'toff', 'dtag', 'n0', 's0', 'c', 'tagCW', 'cwOff', 'cw', 'cch', scan.source) as BtBlockFn;
}

/**
 * The inline check of a store to a page holding translated code (its TLB slot `ti`, address `a`):
 * the VMM has let the guest write the page (tagCW), the word holds no block's code (cw, a bit per
 * word of the slot's page) and no code of the physical hart's own translator (cch, per RAM page);
 * leaves the RAM byte offset in `o`.
 */
const CODE_WRITE = 'tagCW[ti] === (vp | dtag) && ((cw[(ti << 5) | ((a >>> 7) & 31)] >>> (a >>> 2)) & 1) === 0 && cch[(o = (a + cwOff[ti]) | 0) >>> 12] === 0';

/**
 * The slow path of atomic k at `pc`: the physical hart runs it (its step not yet counted); the
 * block goes on when it retired in the same context, else it leaves.
 */
function slowAtomic(k: number, pc: number, loop: boolean, e: number): string {
  return `h.pc = ${pc}; h.sliceDone = n0 + ${at(k - e, loop)}; h.sliceSteps = s0 + ${at(k, loop)}; h.tlb.hits += hh; hh = 0; o = c.atomic(); if (o !== 0) return o > 0 ? ${at(k + 1, loop)} : ${loop ? `-1 - t - ${k}` : -1 - k};`;
}

/** After a slow access: trap, or leave the block when the slice was cut short. */
function afterSlow(k: number, next: number, write: string, loop: boolean): string {
  return `if (h.fault !== 0) { h.tlb.hits += hh; h.raiseFault(); return ${loop ? `-1 - t - ${k}` : -1 - k}; } if (h.sliceEnd <= s0 + ${at(k + 1, loop)}) { ${write} h.pc = ${next}; h.tlb.hits += hh; return ${at(k + 1, loop)}; }`;
}

/** Instruction `id` (word `w`, index k at `pc`) as code; `loopPc` is the start of a block that loops on itself. */
function emit(id: number, w: number, k: number, pc: number, next: number, hasC: boolean, e: number, loopPc?: number): { text: string; ends: boolean } | undefined {
  const loop = loopPc !== undefined;
  const rd = (w >>> 7) & 31;
  const rs1 = (w >>> 15) & 31;
  const rs2 = (w >>> 20) & 31;
  const immI = w >> 20;
  const set = (expr: string): { text: string; ends: boolean } => ({ text: rd === 0 ? '' : `x[${rd}] = ${expr};`, ends: false });
  const a = R(rs1);
  const b = R(rs2);
  const leave = (pcExpr: string): string => `h.pc = ${pcExpr}; h.tlb.hits += hh; return ${at(k + 1, loop)};`;
  const trapOut = `return ${loop ? `-1 - t - ${k}` : -1 - k};`;
  const alu = aluExpr(id, w, pc);
  if (alu !== undefined) return set(alu);
  switch (id) {
    // Stores into translated code fault (the VMM write-protects it), so fence.i has nothing to do.
    case Op.FENCE: case Op.FENCE_TSO: case Op.PAUSE: case Op.FENCE_I: return { text: '', ends: false };
    case Op.JAL: {
      const t = (pc + (((w >> 31) << 20) | (w & 0xff000) | ((w >>> 9) & 0x800) | ((w >>> 20) & 0x7fe))) | 0;
      if (!hasC && (t & 2) !== 0) return { text: `${sync(k, pc, loop, e)} h.tlb.hits += hh; h.raise(0, ${t}); ${trapOut}`, ends: true };
      return { text: `${rd === 0 ? '' : `x[${rd}] = ${next};`} ${leave(String(t))}`, ends: true };
    }
    case Op.JALR: {
      const check = hasC ? '' : `if ((v & 2) !== 0) { ${sync(k, pc, loop, e)} h.tlb.hits += hh; h.raise(0, v); ${trapOut} }`;
      return { text: `v = ((${a} + ${immI}) & ~1) | 0; ${check} ${rd === 0 ? '' : `x[${rd}] = ${next};`} ${leave('v')}`, ends: true };
    }
    case Op.BEQ: case Op.BNE: case Op.BLT: case Op.BGE: case Op.BLTU: case Op.BGEU: {
      const t = (pc + (((w >> 31) << 12) | ((w << 4) & 0x800) | ((w >>> 20) & 0x7e0) | ((w >>> 7) & 0x1e))) | 0;
      const cond = { [Op.BEQ]: `${a} === ${b}`, [Op.BNE]: `${a} !== ${b}`, [Op.BLT]: `${a} < ${b}`, [Op.BGE]: `${a} >= ${b}`,
        [Op.BLTU]: `${a} >>> 0 < ${b} >>> 0`, [Op.BGEU]: `${a} >>> 0 >= ${b} >>> 0` }[id];
      if (!hasC && (t & 2) !== 0) return { text: `if (${cond}) { ${sync(k, pc, loop, e)} h.tlb.hits += hh; h.raise(0, ${t}); ${trapOut} } ${leave(String(next))}`, ends: true };
      if (t === loopPc) {
        // Back to the start: another iteration when the slice has room for all of it.
        return { text: `if (${cond}) { t += ${k + 1}; if (s0 + t + ${k + 1} <= h.sliceEnd && h.breakpoints.size === 0) continue; h.pc = ${t}; h.tlb.hits += hh; return t; } ${leave(String(next))}`, ends: true };
      }
      return { text: `${leave(`(${cond}) ? ${t} : ${next}`)}`, ends: true };
    }
    case Op.LW: case Op.LH: case Op.LHU: case Op.LB: case Op.LBU: {
      const size = id === Op.LW ? 4 : id === Op.LB || id === Op.LBU ? 1 : 2;
      const fast = size === 4 ? 'r32[((a + toff[ti]) | 0) >> 2]' : size === 2 ? 'r16[((a + toff[ti]) | 0) >> 1]' : 'r8[(a + toff[ti]) | 0]';
      const align = size === 1 ? '' : `(a & ${size - 1}) === 0 && `;
      const ext = id === Op.LH ? '(v << 16) >> 16' : id === Op.LB ? '(v << 24) >> 24' : size === 4 ? 'v | 0' : 'v';
      const write = rd === 0 ? '' : `x[${rd}] = ${ext};`;
      return {
        text: `a = (${a} + ${immI}) | 0; vp = a >>> 12; ti = vp & ${TLB_MASK};
if (${align}tagR[ti] === (vp | dtag)) { hh++; v = ${fast}; } else { ${sync(k, pc, loop, e)} v = h.loadSlow(a, ${size}); ${afterSlow(k, next, write, loop)} }
${write}`,
        ends: false,
      };
    }
    case Op.SW: case Op.SH: case Op.SB: {
      const size = id === Op.SW ? 4 : id === Op.SH ? 2 : 1;
      const immS = ((w >> 25) << 5) | ((w >>> 7) & 31);
      const fast = size === 4 ? `r32[((a + toff[ti]) | 0) >> 2] = ${b};` : size === 2 ? `r16[((a + toff[ti]) | 0) >> 1] = ${b};` : `r8[(a + toff[ti]) | 0] = ${b};`;
      const align = size === 1 ? '' : `(a & ${size - 1}) === 0 && `;
      const beside = size === 4 ? `r32[o >> 2] = ${b};` : size === 2 ? `r16[o >> 1] = ${b};` : `r8[o] = ${b};`;
      return {
        text: `a = (${a} + ${immS}) | 0; vp = a >>> 12; ti = vp & ${TLB_MASK};
if (${align}tagW[ti] === (vp | dtag)) { hh++; ${fast} }
else if (${align}${CODE_WRITE}) { hh++; ${beside} }
else { ${sync(k, pc, loop, e)} h.storeSlow(a, ${size}, ${b}); h.codeWritten = false; ${afterSlow(k, next, '', loop)} }`,
        ends: false,
      };
    }
    case Op.LR_W: {
      return {
        text: `a = ${a}; vp = a >>> 12; ti = vp & ${TLB_MASK};
if ((a & 3) === 0 && tagR[ti] === (vp | dtag)) { hh++; v = r32[((a + toff[ti]) | 0) >> 2]; h.reservation = a; h.reservedValue = v; ${rd === 0 ? '' : `x[${rd}] = v;`} }
else { ${slowAtomic(k, pc, loop, e)} }`,
        ends: false,
      };
    }
    case Op.SC_W: {
      // As the interpreter's SC: no reservation at this address fails it without an access.
      return {
        text: `a = ${a}; vp = a >>> 12; ti = vp & ${TLB_MASK};
if ((a & 3) === 0 && h.reservation !== a) { h.reservation = -1; ${rd === 0 ? '' : `x[${rd}] = 1;`} }
else if ((a & 3) === 0 && (tagW[ti] === (vp | dtag) ? (o = (a + toff[ti]) | 0) >= 0 : ${CODE_WRITE})) { hh++; h.reservation = -1; if (r32[o >> 2] === h.reservedValue) { r32[o >> 2] = ${b}; ${rd === 0 ? '' : `x[${rd}] = 0;`} } else { ${rd === 0 ? '' : `x[${rd}] = 1;`} } }
else { ${slowAtomic(k, pc, loop, e)} }`,
        ends: false,
      };
    }
    case Op.AMOSWAP_W: case Op.AMOADD_W: case Op.AMOXOR_W: case Op.AMOAND_W: case Op.AMOOR_W:
    case Op.AMOMIN_W: case Op.AMOMAX_W: case Op.AMOMINU_W: case Op.AMOMAXU_W: {
      const value = {
        [Op.AMOSWAP_W]: b, [Op.AMOADD_W]: `(v + ${b}) | 0`, [Op.AMOXOR_W]: `v ^ ${b}`, [Op.AMOAND_W]: `v & ${b}`, [Op.AMOOR_W]: `v | ${b}`,
        [Op.AMOMIN_W]: `v < ${b} ? v : ${b}`, [Op.AMOMAX_W]: `v > ${b} ? v : ${b}`,
        [Op.AMOMINU_W]: `v >>> 0 < ${b} >>> 0 ? v : ${b}`, [Op.AMOMAXU_W]: `v >>> 0 > ${b} >>> 0 ? v : ${b}`,
      }[id];
      return {
        text: `a = ${a}; vp = a >>> 12; ti = vp & ${TLB_MASK};
if ((a & 3) === 0 && (tagW[ti] === (vp | dtag) ? (o = (a + toff[ti]) | 0) >= 0 : ${CODE_WRITE})) { hh++; v = r32[o >> 2]; r32[o >> 2] = ${value}; ${rd === 0 ? '' : `x[${rd}] = v;`} }
else { ${slowAtomic(k, pc, loop, e)} }`,
        ends: false,
      };
    }
    default:
      return undefined;
  }
}
