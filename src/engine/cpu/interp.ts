// The interpreter loop. Hot path: fetch through a cached page, decode through the tables generated
// from the instruction table (one typed-array load), execute in one switch on the Op id, loads and
// stores through the TLB with one compare. Everything else (misses, devices, CSRs, traps) goes to
// the Hart's slow methods. Nothing here allocates (STYLE principle 3).

import { C_ID, DECODE_BUCKET, DECODE_FUNCT7, decodeSlow, EXPAND_C } from '../isa/decode';
import { Op } from '../isa/opcodes';
import { Access, Cause } from '../mmu/walk';
import { TLB_MASK } from '../mmu/tlb';
import { MAX_RAM_SIZE } from '../machine/memory-map';

// Constants the hot loop uses, as a const enum so that it sees literals (module constants are loads
// and checks in V8's optimized code).
const enum Lit {
  /** TLB_MASK (checked below). */
  TLB = 4095,
  /**
   * Unsigned comparisons compare the int32 values with the sign bit flipped: `>>> 0` would give
   * values above 2^31 that V8 meets only once the guest has such a value, and then it drops the
   * optimized loop ("lost precision").
   */
  SIGN = -0x80000000,
  /** HOT_MASK (checked below). */
  HOT_MASK = 0x7fff,
  /** HOT_THRESHOLD (checked below). */
  HOT = 64,
}
if ((TLB_MASK as number) !== Lit.TLB) throw new Error('interp.ts: Lit.TLB must equal TLB_MASK');
import { CsrOp, Priv, type Hart } from './hart';
import { Csr, Mstatus } from './csr-defs';
import { mulDiv } from './muldiv';
import { HOT_MASK, HOT_THRESHOLD, TranslateResult, type PageBlocks } from './jit';
// mustLeaveRun reads them as literals: imported, each is a load from the module's context and a
// check in the compiled code (Linux's boot with the translator 6.96 G -> 6.87 G host instructions).
if ((HOT_MASK as number) !== Lit.HOT_MASK || (HOT_THRESHOLD as number) !== Lit.HOT) throw new Error('interp.ts: Lit.HOT_MASK and Lit.HOT must equal HOT_MASK and HOT_THRESHOLD');
import { hInstruction, NOT_H } from './hext';
import { FastExit, FastFlag, FastWord } from './fast-run';

/**
 * Whether the fast run's jump to RAM offset `off` (in its fetch page, whose blocks are `pg`) must go
 * back to the top of the loop: a block starts there, or the start turns hot with this entry (the top
 * counts it and calls the translator). Otherwise the entry is counted here and the run goes on.
 */
function mustLeaveRun(pg: PageBlocks | undefined, hot: Int32Array, off: number): boolean {
  if (pg !== undefined && pg.fn[(off & 0xfff) >>> 1] !== undefined) return true;
  const hi = (off >>> 1) & Lit.HOT_MASK;
  const heat = hot[hi] + 1;
  if (heat >= Lit.HOT) return true;
  hot[hi] = heat;
  return false;
}

/**
 * Runs the hart for at most `limit` steps (retired instructions plus traps taken) or until
 * something sets `hart.sliceEnd` to 0. Progress is left in hart.sliceDone / hart.sliceSteps.
 */
export function execute(h: Hart, limit: number): void {
  const x = h.x;
  const bus = h.bus;
  const r8 = bus.ram;
  const r16 = bus.ram16;
  const r32 = bus.ram32;
  const tlb = h.tlb;
  const tagR = tlb.tagR;
  const tagW = tlb.tagW;
  const tagX = tlb.tagX;
  const toff = tlb.off;
  const tagC = tlb.tagC;
  // Words of RAM holding translated code: a store to a page holding code (code-write tag) stays on
  // the fast path unless its word holds code, as in a translated block.
  const lines = h.code === undefined ? NO_LINES : h.code.codeLines;
  const EXP = EXPAND_C;
  const hasC = h.features.c === true;
  const hasM = h.features.m === true;
  const hasA = h.features.a === true;
  const hasXs = h.features.xsensitive === true;
  const dc = decodeCache(hasC);

  let pc = h.pc;
  let steps = h.sliceSteps;
  // Instructions retired are steps + nOff at the top of the loop (steps less the traps taken), so
  // only steps is counted per instruction; every trap lowers nOff.
  let nOff = h.sliceDone - steps;
  let dtag = h.dataTag;
  let ftag = h.fetchTag;
  // The fetch page: its virtual base and RAM offset, valid for pc offsets below flimit (0: none).
  let fbase = 0;
  let foff = 0;
  let flimit = 0;
  h.sliceEnd = limit;
  // Only slow paths can lower h.sliceEnd; `end` is refreshed after each of them.
  let end = limit;
  // Loads and stores served by the TLB without the slow path, added to tlb.hits on the way out.
  let hits = 0;

  // Execution stops in front of a breakpoint's pc, but the resumed one until an instruction retires
  // (a trap the VMM hides, such as a shadow fill, returns to the same pc with nothing retired).
  // Translated blocks keep running while no breakpoint lies inside them, so stepping over a long
  // call stays fast.
  const bps = h.breakpoints.size > 0 ? h.breakpoints : undefined;
  const bpList = bps === undefined ? undefined : Int32Array.from(bps);
  const code = h.code;
  const pages = code?.pages;
  const hot = code?.hot;
  const shift = code?.shift;
  const waiting = code?.waiting;
  const knownPc = code?.knownPc;
  const firstWait = code?.firstWait;
  const blocks = code !== undefined;
  // Whether pc may start a block: after a control transfer, a trap, a slow instruction or a block.
  let entry = true;
  // Translated blocks run and the instructions they retired, added to code.stats on the way out.
  let blockRuns = 0;
  let blockInsns = 0;
  const firstDone = h.sliceDone;
  h.atBreakpoint = false;
  // The decode-cache epoch (see dcEpoch), 0 when none is current: every call out of the loop may
  // have written RAM (a slow store, a page walk's A/D bits, a device, a VMM's trap hook, a
  // translated block), so each sets it to 0 and the next run of the inner loop takes a new one.
  let epoch = 0;
  // Per RAM page, the last epoch whose runs stamped slots of the page (dcMarks).
  const marks = dcMarks;
  // The fast run in WebAssembly, while the slice's counts fit its 32-bit integers.
  const fast = limit < 0x7fffffff ? h.fastRun : undefined;
  // Where the inner loop leaves its status words.
  const st = fast !== undefined ? h.fastStatus : JS_STATUS;
  const fastFlags = (hasC ? FastFlag.C : 0) | (hasM ? FastFlag.M : 0) | (blocks ? FastFlag.BLOCKS : 0) | (hasA ? FastFlag.A : 0);

  outer: while (steps < end) {
    if (bps !== undefined && bps.has(pc >>> 0) && !(steps + nOff === firstDone && pc >>> 0 === h.bpSkip)) {
      h.atBreakpoint = true;
      break;
    }
    // A new fetch page: the TLB's fetch entry, when it has one, spares the walk of fetchSlow.
    let inPage = ((pc - fbase) >>> 0) < flimit;
    if (!inPage) {
      const vpn = pc >>> 12;
      const ti = vpn & Lit.TLB;
      if (tagX[ti] === (vpn | ftag)) {
        fbase = vpn << 12;
        foff = toff[ti];
        flimit = 0xffe;
        inPage = (pc & 0xfff) < 0xffe;
      }
    }
    // ---- translated blocks ----
    if (entry && code !== undefined && inPage) {
      const off = (pc + foff) | 0;
      const pg = pages![off >>> 12];
      const bi = (off & 0xfff) >>> 1;
      const fn = pg === undefined ? undefined : pg.fn[bi];
      if (fn !== undefined && pg!.pc[bi] === pc) {
        if (steps + pg!.len[bi] <= end && (bpList === undefined || !breakpointsIn(bpList, pg!, bi, pc - (off & 0xfff)))) {
          const r = fn(h, x, r8, r16, r32, tagR, tagW, toff, dtag, steps + nOff, steps);
          end = h.sliceEnd; epoch = 0;
          pc = h.pc;
          blockRuns++;
          if (r >= 0) {
            steps += r;
            blockInsns += r;
          } else {
            steps -= r;
            nOff--;
            blockInsns += -1 - r;
            dtag = h.dataTag;
            ftag = h.fetchTag;
            flimit = 0;
          }
          continue;
        }
      } else {
        // At HOT_THRESHOLD entries a block is installed if the memo knows its code; a new function
        // is built at HOT_THRESHOLD << shift (the page's backoff).
        const hi = (off >>> 1) & HOT_MASK;
        const heat = ++hot![hi];
        if (heat >= HOT_THRESHOLD) {
          const s = shift![off >>> 12];
          const ready = heat >= HOT_THRESHOLD << s;
          if (ready || heat === HOT_THRESHOLD) {
            const need = firstWait![2 * s];
            if (need !== 0 && waiting![hi] === 0 && knownPc![(pc >>> 1) & HOT_MASK] === 0 && (pg === undefined || !ready)) {
              // The first call for a start nothing is known of, in a page without installed blocks:
              // the translator could only defer it (CodeCache.translate), so it is deferred here.
              if (ready) {
                hot![hi] = HOT_THRESHOLD - need;
                waiting![hi] = firstWait![2 * s + 1];
                code.stats.deferred++;
                code.dirty = true;
              }
            } else {
              if (ready) hot![hi] = 0;
              const t = code.translate(h, off, pc, ready);
              if (t === TranslateResult.INSTALLED) {
                hot![hi] = 0;
                continue;
              }
              // Too short to translate (a CSR or system instruction follows): look again much later.
              if (t === TranslateResult.UNTRANSLATABLE) hot![hi] = -HOT_THRESHOLD * 64;
            }
          }
        }
      }
    }
    entry = false;
    // ---- the fast run ----
    // Instructions in pages the TLB can fetch from run in an inner loop while no breakpoint is set:
    // the fast run in WebAssembly, or jsRun for a hart without it. It holds only fast paths; an
    // instruction it cannot finish on a fast path (a decode-cache miss, a TLB miss, a misaligned
    // target, a rare instruction) leaves it before changing anything, and the general path below
    // runs that instruction. With the translator on, a jump or branch goes back to the top only
    // where a block starts or a start turns hot (mustLeaveRun).
    if (inPage && bpList === undefined) {
      // The run in WebAssembly (fast-run.wat) writes RAM without clearing decode-cache stamps, so the
      // epoch ends; jsRun goes on with it.
      let k: number;
      if (fast !== undefined) {
        // The fast run runs LR and SC on its own copy of the reservation.
        st[FastWord.RESV] = h.reservation;
        st[FastWord.RESV_VALUE] = h.reservedValue;
        k = fast(pc, steps, end, fbase, foff, flimit, dtag, ftag, fastFlags, nOff);
        h.reservation = st[FastWord.RESV];
        h.reservedValue = st[FastWord.RESV_VALUE];
      } else {
        k = jsRun(h, pc, steps, end, fbase, foff, flimit, dtag, ftag, epoch, st);
      }
      pc = st[0];
      steps = st[1];
      fbase = st[2];
      foff = st[3];
      flimit = st[4];
      hits += st[5];
      epoch = fast !== undefined ? 0 : st[6];
      if (k !== FastExit.GENERAL) {
        // Leaving at an entry, the fast run may have entered a region that called a slow path.
        if (k === FastExit.ENTRY) {
          entry = true;
          end = h.sliceEnd;
        } else if (k === FastExit.TRAP) {
          // A region it entered trapped: as after one entered above.
          code!.wasm!.raiseTrap();
          steps += st[FastWord.TOT] + 1;
          nOff--;
          pc = h.pc;
          end = h.sliceEnd;
          dtag = h.dataTag;
          ftag = h.fetchTag;
          flimit = 0;
          entry = true;
        }
        continue;
      }
      // The fast run leaves some instructions in a page's last halfword to this path (fast-run.wat),
      // which fetches them across the page's end through both pages' translations.
      inPage = ((pc - fbase) >>> 0) < flimit;
    }
    steps++;
    // ---- fetch and decode ----
    // The decoded form comes from the decode cache when its slot still holds the same bits.
    let ci = Dc.SCRATCH;
    if (inPage) {
      const hw = ((pc + foff) | 0) >> 1;
      const raw = r16[hw] | (r16[hw + 1] << 16);
      ci = (hw & Dc.MASK) << 2;
      if (dc[ci] !== raw) predecode(dc, ci, raw, hasC);
    } else {
      const vpn = pc >>> 12;
      const ti = vpn & Lit.TLB;
      // An instruction in the last halfword of a page whose fetch entry the TLB holds, with the next
      // page's (Linux nommu's boot runs 84 k of them): fetchSlow reads both through the TLB, walks
      // nothing and writes no RAM, so the decode-cache epoch goes on. Both tests run every time (the
      // warm-up meets no such fetch, and code V8 never saw run would be thrown away when first run).
      const vpn2 = (vpn + 1) & 0xfffff;
      const here = tagX[ti] === (vpn | ftag);
      const next = tagX[vpn2 & Lit.TLB] === (vpn2 | ftag);
      const viaTlb = here && next;
      h.pc = pc;
      h.sliceDone = steps - 1 + nOff;
      h.sliceSteps = steps;
      const raw = h.fetchSlow(pc);
      end = h.sliceEnd;
      if (!viaTlb) epoch = 0;
      if (h.fault !== 0) {
        h.raiseFault();
        pc = h.pc;
        end = h.sliceEnd; epoch = 0;
        dtag = h.dataTag;
        ftag = h.fetchTag;
        flimit = 0;
        entry = true;
        nOff--;
        continue;
      }
      if (tagX[ti] === (vpn | ftag)) {
        fbase = vpn << 12;
        foff = toff[ti];
        flimit = 0xffe;
      } else {
        flimit = 0;
      }
      predecode(dc, ci, raw, hasC);
      // The instruction after one across a page's end may start a block (no block holds this one).
      entry = true;
    }
    const info = dc[ci + 1];
    const imm = dc[ci + 2];
    const id = info & 0xff;
    const rd = (info >>> 8) & 31;
    const rs1 = (info >>> 13) & 31;
    const rs2 = (info >>> 18) & 31;
    let npc = (pc + 2 + ((info >>> 22) & 2)) | 0;

    // ---- execute ----
    switch (id) {
      case Op.LUI: x[rd] = imm; break;
      case Op.AUIPC: x[rd] = (pc + imm) | 0; break;
      case Op.JAL: {
        const t = (pc + imm) | 0;
        if (!hasC && (t & 2) !== 0) { h.pc = pc; h.raise(Cause.INSN_MISALIGNED, t); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; entry = true; nOff--; continue; }
        x[rd] = npc;
        x[0] = 0;
        npc = t;
        entry = true;
        break;
      }
      case Op.JALR: {
        const t = ((x[rs1] + imm) & ~1) | 0;
        if (!hasC && (t & 2) !== 0) { h.pc = pc; h.raise(Cause.INSN_MISALIGNED, t); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; entry = true; nOff--; continue; }
        x[rd] = npc;
        x[0] = 0;
        npc = t;
        entry = true;
        break;
      }
      case Op.BEQ:
        entry = true;
        if (x[rs1] === x[rs2]) {
          npc = (pc + imm) | 0;
          if (!hasC && (npc & 2) !== 0) { h.pc = pc; h.raise(Cause.INSN_MISALIGNED, npc); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; nOff--; continue; }
        }
        break;
      case Op.BNE:
        entry = true;
        if (x[rs1] !== x[rs2]) {
          npc = (pc + imm) | 0;
          if (!hasC && (npc & 2) !== 0) { h.pc = pc; h.raise(Cause.INSN_MISALIGNED, npc); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; nOff--; continue; }
        }
        break;
      case Op.BLT:
        entry = true;
        if (x[rs1] < x[rs2]) {
          npc = (pc + imm) | 0;
          if (!hasC && (npc & 2) !== 0) { h.pc = pc; h.raise(Cause.INSN_MISALIGNED, npc); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; nOff--; continue; }
        }
        break;
      case Op.BGE:
        entry = true;
        if (x[rs1] >= x[rs2]) {
          npc = (pc + imm) | 0;
          if (!hasC && (npc & 2) !== 0) { h.pc = pc; h.raise(Cause.INSN_MISALIGNED, npc); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; nOff--; continue; }
        }
        break;
      case Op.BLTU:
        entry = true;
        if ((x[rs1] ^ Lit.SIGN) < (x[rs2] ^ Lit.SIGN)) {
          npc = (pc + imm) | 0;
          if (!hasC && (npc & 2) !== 0) { h.pc = pc; h.raise(Cause.INSN_MISALIGNED, npc); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; nOff--; continue; }
        }
        break;
      case Op.BGEU:
        entry = true;
        if ((x[rs1] ^ Lit.SIGN) >= (x[rs2] ^ Lit.SIGN)) {
          npc = (pc + imm) | 0;
          if (!hasC && (npc & 2) !== 0) { h.pc = pc; h.raise(Cause.INSN_MISALIGNED, npc); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; nOff--; continue; }
        }
        break;
      case Op.LW: {
        const a = (x[rs1] + imm) | 0;
        const vp = a >>> 12;
        const ti = vp & Lit.TLB;
        if ((a & 3) === 0 && tagR[ti] === (vp | dtag)) {
          hits++;
          x[rd] = r32[((a + toff[ti]) | 0) >> 2];
          x[0] = 0;
        } else {
          h.pc = pc; h.sliceDone = steps - 1 + nOff; h.sliceSteps = steps;
          const v = h.loadSlow(a, 4);
          end = h.sliceEnd; epoch = 0;
          if (h.fault !== 0) { h.raiseFault(); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; entry = true; nOff--; continue; }
          x[rd] = v;
          x[0] = 0;
        }
        break;
      }
      case Op.LH: case Op.LHU: {
        const a = (x[rs1] + imm) | 0;
        const vp = a >>> 12;
        const ti = vp & Lit.TLB;
        let v: number;
        if ((a & 1) === 0 && tagR[ti] === (vp | dtag)) {
          hits++;
          v = r16[((a + toff[ti]) | 0) >> 1];
        } else {
          h.pc = pc; h.sliceDone = steps - 1 + nOff; h.sliceSteps = steps;
          v = h.loadSlow(a, 2);
          end = h.sliceEnd; epoch = 0;
          if (h.fault !== 0) { h.raiseFault(); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; entry = true; nOff--; continue; }
        }
        x[rd] = id === Op.LH ? (v << 16) >> 16 : v & 0xffff;
        x[0] = 0;
        break;
      }
      case Op.LB: case Op.LBU: {
        const a = (x[rs1] + imm) | 0;
        const vp = a >>> 12;
        const ti = vp & Lit.TLB;
        let v: number;
        if (tagR[ti] === (vp | dtag)) {
          hits++;
          v = r8[(a + toff[ti]) | 0];
        } else {
          h.pc = pc; h.sliceDone = steps - 1 + nOff; h.sliceSteps = steps;
          v = h.loadSlow(a, 1);
          end = h.sliceEnd; epoch = 0;
          if (h.fault !== 0) { h.raiseFault(); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; entry = true; nOff--; continue; }
        }
        x[rd] = id === Op.LB ? (v << 24) >> 24 : v & 0xff;
        x[0] = 0;
        break;
      }
      case Op.SW: {
        const a = (x[rs1] + imm) | 0;
        const vp = a >>> 12;
        const ti = vp & Lit.TLB;
        if ((a & 3) === 0 && (tagW[ti] === (vp | dtag) || (tagC[ti] === (vp | dtag) && !holdsCode(lines, (a + toff[ti]) | 0)))) {
          hits++;
          const o = (a + toff[ti]) | 0;
          unstampIn(dc, marks, epoch, o);
          r32[o >> 2] = x[rs2];
        } else {
          h.pc = pc; h.sliceDone = steps - 1 + nOff; h.sliceSteps = steps;
          h.storeSlow(a, 4, x[rs2]);
          end = h.sliceEnd; epoch = 0;
          if (h.fault !== 0) { h.raiseFault(); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; entry = true; nOff--; continue; }
        }
        break;
      }
      case Op.SH: {
        const a = (x[rs1] + imm) | 0;
        const vp = a >>> 12;
        const ti = vp & Lit.TLB;
        if ((a & 1) === 0 && (tagW[ti] === (vp | dtag) || (tagC[ti] === (vp | dtag) && !holdsCode(lines, (a + toff[ti]) | 0)))) {
          hits++;
          const o = (a + toff[ti]) | 0;
          unstampIn(dc, marks, epoch, o);
          r16[o >> 1] = x[rs2];
        } else {
          h.pc = pc; h.sliceDone = steps - 1 + nOff; h.sliceSteps = steps;
          h.storeSlow(a, 2, x[rs2]);
          end = h.sliceEnd; epoch = 0;
          if (h.fault !== 0) { h.raiseFault(); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; entry = true; nOff--; continue; }
        }
        break;
      }
      case Op.SB: {
        const a = (x[rs1] + imm) | 0;
        const vp = a >>> 12;
        const ti = vp & Lit.TLB;
        if ((tagW[ti] === (vp | dtag) || (tagC[ti] === (vp | dtag) && !holdsCode(lines, (a + toff[ti]) | 0)))) {
          hits++;
          const o = (a + toff[ti]) | 0;
          unstampIn(dc, marks, epoch, o);
          r8[o] = x[rs2];
        } else {
          h.pc = pc; h.sliceDone = steps - 1 + nOff; h.sliceSteps = steps;
          h.storeSlow(a, 1, x[rs2]);
          end = h.sliceEnd; epoch = 0;
          if (h.fault !== 0) { h.raiseFault(); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; entry = true; nOff--; continue; }
        }
        break;
      }
      case Op.ADDI: x[rd] = (x[rs1] + imm) | 0; break;
      case Op.SLTI: x[rd] = x[rs1] < imm ? 1 : 0; break;
      case Op.SLTIU: x[rd] = (x[rs1] ^ Lit.SIGN) < (imm ^ Lit.SIGN) ? 1 : 0; break;
      case Op.XORI: x[rd] = x[rs1] ^ imm; break;
      case Op.ORI: x[rd] = x[rs1] | imm; break;
      case Op.ANDI: x[rd] = x[rs1] & imm; break;
      case Op.SLLI: x[rd] = x[rs1] << rs2; break;
      case Op.SRLI: x[rd] = x[rs1] >>> rs2; break;
      case Op.SRAI: x[rd] = x[rs1] >> rs2; break;
      case Op.ADD: x[rd] = (x[rs1] + x[rs2]) | 0; break;
      case Op.SUB: x[rd] = (x[rs1] - x[rs2]) | 0; break;
      case Op.SLL: x[rd] = x[rs1] << (x[rs2] & 31); break;
      case Op.SLT: x[rd] = x[rs1] < x[rs2] ? 1 : 0; break;
      case Op.SLTU: x[rd] = (x[rs1] ^ Lit.SIGN) < (x[rs2] ^ Lit.SIGN) ? 1 : 0; break;
      case Op.XOR: x[rd] = x[rs1] ^ x[rs2]; break;
      case Op.SRL: x[rd] = x[rs1] >>> (x[rs2] & 31); break;
      case Op.SRA: x[rd] = x[rs1] >> (x[rs2] & 31); break;
      case Op.OR: x[rd] = x[rs1] | x[rs2]; break;
      case Op.AND: x[rd] = x[rs1] & x[rs2]; break;
      case Op.FENCE: case Op.FENCE_TSO: case Op.PAUSE: case Op.FENCE_I: break;
      case Op.MUL:
        if (!hasM) { h.pc = pc; h.raise(Cause.ILLEGAL, rawBits(dc, ci, info)); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; entry = true; nOff--; continue; }
        x[rd] = Math.imul(x[rs1], x[rs2]);
        x[0] = 0;
        break;
      case Op.MULH: case Op.MULHSU: case Op.MULHU:
      case Op.DIV: case Op.DIVU: case Op.REM: case Op.REMU: {
        if (!hasM) { h.pc = pc; h.raise(Cause.ILLEGAL, rawBits(dc, ci, info)); pc = h.pc; end = h.sliceEnd; epoch = 0; dtag = h.dataTag; ftag = h.fetchTag; flimit = 0; entry = true; nOff--; continue; }
        x[rd] = mulDiv(id, x[rs1], x[rs2]);
        x[0] = 0;
        break;
      }
      default: {
        // The rare instructions kernels run most (CSR accesses and atomics, ids CSRRW to
        // AMOMAXU_W) that cannot trap: run by a helper that leaves the fetch page and the
        // decode-cache epoch as they are (in the inner loop, any code more made CoreMark's run 2 to
        // 5 % slower in host instructions).
        if (((id - Op.CSRRW) >>> 0) <= Op.AMOMAXU_W - Op.CSRRW && rareInLoop(h, info, imm, dtag, epoch)) {
          pc = npc;
          dtag = h.dataTag;
          end = h.sliceEnd;
          entry = true;
          continue;
        }
        // Rare instructions: system, CSR, atomics, Xsensitive, illegal. They may trap or change
        // the translation context, so they run with the hart's state in sync.
        h.pc = pc;
        h.sliceDone = steps - 1 + nOff;
        h.sliceSteps = steps;
        const raw = rawBits(dc, ci, info);
        const w = (raw & 3) !== 3 ? (hasC ? EXP[raw] : 0) : raw;
        const r = slowInstruction(h, id, w, raw, rd, rs1, rs2, npc, hasA, hasXs);
        if (r !== SLOW_RETIRED) nOff--;
        end = h.sliceEnd;
        // A CSR instruction, fence or return that retired wrote no RAM (Linux's boot runs hundreds of
        // thousands of them, each otherwise the end of an epoch); a trap may have (a VMM's hook).
        if (r !== SLOW_RETIRED || KEEPS_EPOCH[id] === 0) epoch = 0;
        x[0] = 0;
        pc = h.pc;
        dtag = h.dataTag;
        ftag = h.fetchTag;
        flimit = 0;
        entry = true;
        continue;
      }
    }
    pc = npc;
  }
  h.pc = pc;
  h.sliceDone = steps + nOff;
  h.sliceSteps = steps;
  tlb.hits += hits;
  if (code !== undefined) {
    code.stats.blockRuns += blockRuns;
    code.stats.blockInsns += blockInsns;
  }
  // What the regions the fast run entered did (every time, so that the warm-up's fast runs, which
  // enter none, give V8 this code's type feedback).
  if (fast !== undefined) {
    tlb.hits += st[FastWord.REGION_HITS];
    code!.stats.blockRuns += st[FastWord.RUNS];
    code!.stats.fastRunEntries += st[FastWord.RUNS];
    code!.stats.blockInsns += st[FastWord.INSNS];
    code!.stats.chainedRuns += st[FastWord.CHAINS];
    st[FastWord.REGION_HITS] = st[FastWord.RUNS] = st[FastWord.INSNS] = st[FastWord.CHAINS] = 0;
  }
}

/**
 * execute's inner loop in JavaScript, for harts without the fast run in WebAssembly (fast-run.wat runs
 * the same instructions on the same fast paths): from `pc` in the fetch page (fbase, foff, flimit)
 * until the slice's end, a way out to the top of execute's loop, or an instruction it cannot finish on
 * a fast path, which it leaves unchanged for the general path. It returns how it ended (FastExit) and
 * leaves pc, steps, fbase, foff, flimit, the TLB hits and the decode-cache epoch in `st`. It calls
 * nothing but small helpers V8 inlines (unstamp, and mustLeaveRun with the translator on). A function
 * of its own, so that a hart with the fast run never has V8 compile it, and execute stays smaller.
 */
function jsRun(h: Hart, pcIn: number, stepsIn: number, end: number, fbaseIn: number, foffIn: number, flimitIn: number, dtag: number, ftag: number, epochIn: number, st: Int32Array): number {
  // The loop's variables start as int32 values (`| 0`): begun as parameters, V8 gave them float64
  // registers (CoreMark --no-jit 1.74 -> 2.97 CPU s).
  let pc = pcIn | 0;
  let steps = stepsIn | 0;
  let fbase = fbaseIn | 0;
  let foff = foffIn | 0;
  let flimit = flimitIn | 0;
  let epoch = epochIn | 0;
  const x = h.x;
  const bus = h.bus;
  const r16 = bus.ram16;
  const r8 = bus.ram;
  const r32 = bus.ram32;
  const tlb = h.tlb;
  const tagR = tlb.tagR;
  const tagW = tlb.tagW;
  const tagX = tlb.tagX;
  const toff = tlb.off;
  const tagC = tlb.tagC;
  const code = h.code;
  const lines = code === undefined ? NO_LINES : code.codeLines;
  const hasC = h.features.c === true;
  const hasM = h.features.m === true;
  const dc = decodeCache(hasC);
  // A jump or branch target with bit 1 set is misaligned without C.
  const tmask = hasC ? 0 : 2;
  const pages = code?.pages;
  const hot = code?.hot;
  const blocks = code !== undefined;
  const marks = dcMarks;
  let hits = 0;
  let exit = FastExit.GENERAL;
  if (epoch === 0) epoch = newEpoch();
  run: for (;;) {
    // RAM offset of the fetch page; its slots are stamped with the epoch and the page's alias bits.
    const fram = (fbase + foff) | 0;
    const stamp = epoch | (fram >>> Dc.ALIAS_SHIFT);
    marks[fram >>> 12] = epoch;
    // The fetch page's blocks: none is installed or dropped while the run goes on (the translator
    // runs at the top, and stores into a page holding blocks leave the run).
    const fpg = pages === undefined ? undefined : pages[fram >>> 12];
    for (;;) {
      if (steps >= end) {
        exit = FastExit.TOP;
        break run;
      }
      if (((pc - fbase) >>> 0) >= flimit) {
        const vpn = pc >>> 12;
        const ti = vpn & Lit.TLB;
        if (tagX[ti] !== (vpn | ftag) || (pc & 0xfff) >= 0xffe) {
          exit = FastExit.TOP;
          break run;
        }
        fbase = vpn << 12;
        foff = toff[ti];
        // Running on into the next page starts a block there, as a jump does (a straight line
        // longer than a page: an unrolled hash).
        if (blocks && mustLeaveRun(pages![((fbase + foff) | 0) >>> 12], hot!, (pc + foff) | 0)) {
          exit = FastExit.ENTRY;
          break run;
        }
        continue run;
      }
      const hw = ((pc + foff) | 0) >> 1;
      const ri = (hw & Dc.MASK) << 2;
      if (dc[ri + 3] !== stamp) {
        if (dc[ri] !== (r16[hw] | (r16[hw + 1] << 16))) break run;
        dc[ri + 3] = stamp;
      }
      const info = dc[ri + 1];
      const imm = dc[ri + 2];
      const rd = (info >>> 8) & 31;
      const rs1 = (info >>> 13) & 31;
      const rs2 = (info >>> 18) & 31;
      let npc = (pc + 2 + ((info >>> 22) & 2)) | 0;
      // Jumps and branches leave this block for the jump tail below; everything else ends after it.
      jump: {
        switch (info & 0xff) {
          case Op.ADDI: x[rd] = (x[rs1] + imm) | 0; break;
          case Op.LW: {
            const a = (x[rs1] + imm) | 0;
            const vp = a >>> 12;
            const ti = vp & Lit.TLB;
            if ((a & 3) !== 0 || tagR[ti] !== (vp | dtag)) break run;
            hits++;
            x[rd] = r32[((a + toff[ti]) | 0) >> 2];
            x[0] = 0;
            break;
          }
          case Op.SW: {
            const a = (x[rs1] + imm) | 0;
            const vp = a >>> 12;
            const ti = vp & Lit.TLB;
            const o = (a + toff[ti]) | 0;
            if ((a & 3) !== 0 || (tagW[ti] !== (vp | dtag) && (tagC[ti] !== (vp | dtag) || holdsCode(lines, o)))) break run;
            hits++;
            if (marks[o >>> 12] === epoch) unstamp(dc, o);
            r32[o >> 2] = x[rs2];
            break;
          }
          case Op.ADD: x[rd] = (x[rs1] + x[rs2]) | 0; break;
          case Op.LUI: x[rd] = imm; break;
          case Op.AUIPC: x[rd] = (pc + imm) | 0; break;
          case Op.JAL: {
            const t = (pc + imm) | 0;
            if ((t & tmask) !== 0) break run;
            x[rd] = npc;
            x[0] = 0;
            npc = t;
            break jump;
          }
          case Op.JALR: {
            const t = ((x[rs1] + imm) & ~1) | 0;
            if ((t & tmask) !== 0) break run;
            x[rd] = npc;
            x[0] = 0;
            npc = t;
            break jump;
          }
          case Op.BEQ:
            if (x[rs1] === x[rs2]) {
              const t = (pc + imm) | 0;
              if ((t & tmask) !== 0) break run;
              npc = t;
            }
            break jump;
          case Op.BNE:
            if (x[rs1] !== x[rs2]) {
              const t = (pc + imm) | 0;
              if ((t & tmask) !== 0) break run;
              npc = t;
            }
            break jump;
          case Op.BLT:
            if (x[rs1] < x[rs2]) {
              const t = (pc + imm) | 0;
              if ((t & tmask) !== 0) break run;
              npc = t;
            }
            break jump;
          case Op.BGE:
            if (x[rs1] >= x[rs2]) {
              const t = (pc + imm) | 0;
              if ((t & tmask) !== 0) break run;
              npc = t;
            }
            break jump;
          case Op.BLTU:
            if ((x[rs1] ^ Lit.SIGN) < (x[rs2] ^ Lit.SIGN)) {
              const t = (pc + imm) | 0;
              if ((t & tmask) !== 0) break run;
              npc = t;
            }
            break jump;
          case Op.BGEU:
            if ((x[rs1] ^ Lit.SIGN) >= (x[rs2] ^ Lit.SIGN)) {
              const t = (pc + imm) | 0;
              if ((t & tmask) !== 0) break run;
              npc = t;
            }
            break jump;
          case Op.LH: case Op.LHU: {
            const a = (x[rs1] + imm) | 0;
            const vp = a >>> 12;
            const ti = vp & Lit.TLB;
            if ((a & 1) !== 0 || tagR[ti] !== (vp | dtag)) break run;
            hits++;
            const v = r16[((a + toff[ti]) | 0) >> 1];
            x[rd] = (info & 0xff) === Op.LH ? (v << 16) >> 16 : v;
            x[0] = 0;
            break;
          }
          case Op.LB: case Op.LBU: {
            const a = (x[rs1] + imm) | 0;
            const vp = a >>> 12;
            const ti = vp & Lit.TLB;
            if (tagR[ti] !== (vp | dtag)) break run;
            hits++;
            const v = r8[(a + toff[ti]) | 0];
            x[rd] = (info & 0xff) === Op.LB ? (v << 24) >> 24 : v;
            x[0] = 0;
            break;
          }
          case Op.SH: {
            const a = (x[rs1] + imm) | 0;
            const vp = a >>> 12;
            const ti = vp & Lit.TLB;
            const o = (a + toff[ti]) | 0;
            if ((a & 1) !== 0 || (tagW[ti] !== (vp | dtag) && (tagC[ti] !== (vp | dtag) || holdsCode(lines, o)))) break run;
            hits++;
            if (marks[o >>> 12] === epoch) unstamp(dc, o);
            r16[o >> 1] = x[rs2];
            break;
          }
          case Op.SB: {
            const a = (x[rs1] + imm) | 0;
            const vp = a >>> 12;
            const ti = vp & Lit.TLB;
            const o = (a + toff[ti]) | 0;
            if ((tagW[ti] !== (vp | dtag) && (tagC[ti] !== (vp | dtag) || holdsCode(lines, o)))) break run;
            hits++;
            if (marks[o >>> 12] === epoch) unstamp(dc, o);
            r8[o] = x[rs2];
            break;
          }
          case Op.SLTI: x[rd] = x[rs1] < imm ? 1 : 0; break;
          case Op.SLTIU: x[rd] = (x[rs1] ^ Lit.SIGN) < (imm ^ Lit.SIGN) ? 1 : 0; break;
          case Op.XORI: x[rd] = x[rs1] ^ imm; break;
          case Op.ORI: x[rd] = x[rs1] | imm; break;
          case Op.ANDI: x[rd] = x[rs1] & imm; break;
          case Op.SLLI: x[rd] = x[rs1] << rs2; break;
          case Op.SRLI: x[rd] = x[rs1] >>> rs2; break;
          case Op.SRAI: x[rd] = x[rs1] >> rs2; break;
          case Op.SUB: x[rd] = (x[rs1] - x[rs2]) | 0; break;
          case Op.SLL: x[rd] = x[rs1] << (x[rs2] & 31); break;
          case Op.SLT: x[rd] = x[rs1] < x[rs2] ? 1 : 0; break;
          case Op.SLTU: x[rd] = (x[rs1] ^ Lit.SIGN) < (x[rs2] ^ Lit.SIGN) ? 1 : 0; break;
          case Op.XOR: x[rd] = x[rs1] ^ x[rs2]; break;
          case Op.SRL: x[rd] = x[rs1] >>> (x[rs2] & 31); break;
          case Op.SRA: x[rd] = x[rs1] >> (x[rs2] & 31); break;
          case Op.OR: x[rd] = x[rs1] | x[rs2]; break;
          case Op.AND: x[rd] = x[rs1] & x[rs2]; break;
          case Op.FENCE: case Op.FENCE_TSO: case Op.PAUSE: case Op.FENCE_I: break;
          case Op.MUL:
            if (!hasM) break run;
            x[rd] = Math.imul(x[rs1], x[rs2]);
            x[0] = 0;
            break;
          default:
            break run;
        }
        steps++;
        pc = npc;
        continue;
      }
      // The jump tail: with the translator on, the target may start a block or turn hot.
      steps++;
      pc = npc;
      if (blocks) {
        if (((npc - fbase) >>> 0) >= flimit) {
          const vpn = npc >>> 12;
          const ti = vpn & Lit.TLB;
          if (tagX[ti] !== (vpn | ftag) || (npc & 0xfff) >= 0xffe) {
            exit = FastExit.ENTRY;
            break run;
          }
          fbase = vpn << 12;
          foff = toff[ti];
          if (mustLeaveRun(pages![((fbase + foff) | 0) >>> 12], hot!, (npc + foff) | 0)) {
            exit = FastExit.ENTRY;
            break run;
          }
          continue run;
        }
        if (mustLeaveRun(fpg, hot!, (npc + foff) | 0)) {
          exit = FastExit.ENTRY;
          break run;
        }
      }
    }
  }
  st[0] = pc;
  st[1] = steps;
  st[2] = fbase;
  st[3] = foff;
  st[4] = flimit;
  st[5] = hits;
  st[6] = epoch;
  return exit;
}

/** jsRun's status words (pc, steps, fbase, foff, flimit, TLB hits, epoch). */
const JS_STATUS = new Int32Array(7);

// ---- the decode cache ----
// Decoded instructions, direct-mapped by RAM halfword offset, four int32 per slot: the 32 bits at
// the slot's pc when it was decoded (a compressed instruction's slot holds the next halfword too),
// then the Op id and register fields (id | rd << 8 | rs1 << 13 | rs2 << 18 | length 4 << 21),
// then the immediate (for branches and jumps the offset from pc), then a stamp (below). A slot is
// used only while its bits equal the bits in memory, so stores, DMA and reloads need no
// invalidation: the cache is exact by construction and slots may be shared by any harts and buses.
// The decoding depends on the C extension only, so there is one cache with C and one without.
// A const enum, so that the hot loop sees literals.
const enum Dc {
  /**
   * Slot index mask: 2^18 slots (512 KiB of code; Linux's boot decoded 329 k times with 2^16
   * slots, 132 k with these).
   */
  MASK = 0x3ffff,
  /** The slot for instructions fetched by the slow path (ROM, a page crossing): decoded every time. */
  SCRATCH = 0x100000,
  /** RAM offset bits below the alias bits: a slot's halfword index covers bits 1 to 18. */
  ALIAS_SHIFT = 19,
  /**
   * Low bits of a stamp: the RAM offset's bits above the slot index (offset >>> ALIAS_SHIFT), which
   * tell apart the pages that share slots (RAM is at most 2 GiB: 12 bits).
   */
  ALIAS_BITS = 12,
  /**
   * Epochs are renewed up to this: a stamp (epoch << ALIAS_BITS | alias) stays below 2^30, a small
   * integer to V8 (a larger one would be a heap number, allocated at each renewal).
   */
  EPOCH_LIMIT = (1 << 18) - 1,
}
let dcWithC: Int32Array | undefined;
let dcWithoutC: Int32Array | undefined;
/**
 * The last decode-cache epoch handed out (shifted left by Dc.ALIAS_BITS; 0: none yet). The inner
 * loop writes `epoch | alias bits` into the fourth int of every slot it has compared with memory;
 * while the epoch lasts, a slot holding the stamp of the running page needs no compare. An epoch
 * lasts from the first run of the inner loop after a call out of execute's loop (a slow path, a
 * translated block, the start of execute) to the next such call: in between nothing writes RAM but
 * execute's own fast stores, and those clear the stamps of the slots they may overlap in any page
 * the epoch has stamped (dcMarks). Epochs are unique over all harts and buses, so a slot stamped by
 * another hart or machine is compared again.
 */
let dcEpoch = 0;
/**
 * Per RAM page (offset >>> 12), the last epoch in which the inner loop stamped slots of the page;
 * shared by all buses (epochs are unique) and sized for the largest RAM (2 MiB). -1: never.
 */
const dcMarks = new Int32Array((MAX_RAM_SIZE + 4095) / 4096).fill(-1);

/** A new epoch (after clearing every stamp when they run out). */
function newEpoch(): number {
  if (dcEpoch >= Dc.EPOCH_LIMIT << Dc.ALIAS_BITS) resetStamps();
  dcEpoch += 1 << Dc.ALIAS_BITS;
  return dcEpoch;
}

/**
 * A store of up to 4 aligned bytes at RAM offset `o` into a page stamped in the running epoch: the
 * slots whose bits it may overlap (the halfword before, its own, the next) must be compared with
 * memory again.
 */
function unstamp(dc: Int32Array, o: number): void {
  const hw = o >> 1;
  dc[(((hw - 1) & Dc.MASK) << 2) + 3] = 0;
  dc[((hw & Dc.MASK) << 2) + 3] = 0;
  dc[(((hw + 1) & Dc.MASK) << 2) + 3] = 0;
}

/**
 * The general path's form of `if (marks[o >>> 12] === epoch) unstamp(dc, o)`, branch-free so that
 * every store of the general path runs all of it: a call or store V8 has never seen run throws its
 * compiled code away when it first runs. The warm-up never stored by the general path into a page
 * stamped in the same epoch; Linux nommu did, twice per boot, and each time V8 compiled execute
 * again (about 80 ms).
 */
function unstampIn(dc: Int32Array, marks: Int32Array, epoch: number, o: number): void {
  const keep = marks[o >>> 12] === epoch ? 0 : -1;
  const hw = o >> 1;
  dc[(((hw - 1) & Dc.MASK) << 2) + 3] &= keep;
  dc[((hw & Dc.MASK) << 2) + 3] &= keep;
  dc[(((hw + 1) & Dc.MASK) << 2) + 3] &= keep;
}

/** Whether the word at RAM offset `o` holds translated code (CodeCache.codeLines). */
function holdsCode(lines: Uint32Array, o: number): boolean {
  return ((lines[o >>> 7] >>> ((o >>> 2) & 31)) & 1) !== 0;
}

/** codeLines of a hart without the translator (its TLB never has a code-write tag). */
const NO_LINES = new Uint32Array(1);

function resetStamps(): void {
  clearStamps(dcWithC);
  clearStamps(dcWithoutC);
  dcEpoch = 0;
}

function clearStamps(dc: Int32Array | undefined): void {
  if (dc !== undefined) for (let i = 3; i < dc.length; i += 4) dc[i] = 0;
}

/**
 * Makes the next epoch the last before the stamps are cleared and epochs start again (for the
 * warm-up, so that V8 sees that path in execute, and for tests).
 */
export function lastDecodeEpoch(): void {
  dcEpoch = Dc.EPOCH_LIMIT << Dc.ALIAS_BITS;
}

function decodeCache(hasC: boolean): Int32Array {
  if (hasC) return (dcWithC ??= newDecodeCache(true));
  return (dcWithoutC ??= newDecodeCache(false));
}

function newDecodeCache(hasC: boolean): Int32Array {
  const dc = new Int32Array(Dc.SCRATCH + 4);
  // Every slot starts as the decoding of the bits 0 (a reserved compressed encoding: illegal),
  // which is all zeros: the new array already holds it, and its 4 MiB stay untouched until used
  // (filling them cost a start 2.5 ms and a thousand page faults). Copied in doubling runs should
  // that decoding ever differ.
  predecode(dc, 0, 0, hasC);
  if (dc[0] !== 0 || dc[1] !== 0 || dc[2] !== 0 || dc[3] !== 0) {
    for (let n = 4; n < dc.length; n *= 2) dc.copyWithin(n, 0, Math.min(n, dc.length - n));
  }
  return dc;
}

/** Decodes the instruction at the start of `raw` into slot `ci` of `dc`. */
function predecode(dc: Int32Array, ci: number, raw: number, hasC: boolean): void {
  let w = raw;
  let len = 4;
  if ((raw & 3) !== 3) {
    w = hasC ? EXPAND_C[raw & 0xffff] : 0;
    len = 2;
  }
  let id = DECODE_BUCKET[(w & 0x7f) | ((w >>> 5) & 0x380)];
  if (id < 0) id = id > -17 ? DECODE_FUNCT7[(-1 - id) * 128 + (w >>> 25)] : decodeSlow(w, id);
  let imm: number;
  if (id === Op.LUI || id === Op.AUIPC) imm = w & 0xfffff000;
  else if (id === Op.JAL) imm = ((w >> 31) << 20) | (w & 0xff000) | ((w >>> 9) & 0x800) | ((w >>> 20) & 0x7fe);
  else if (id >= Op.BEQ && id <= Op.BGEU) imm = ((w >> 31) << 12) | ((w << 4) & 0x800) | ((w >>> 20) & 0x7e0) | ((w >>> 7) & 0x1e);
  else if (id >= Op.SB && id <= Op.SW) imm = ((w >> 25) << 5) | ((w >>> 7) & 31);
  else imm = w >> 20;
  // An instruction whose only effect is writing x0 is a no-op (nop, hints), so the loop never
  // writes x0 for it; the cases that may still write x0 (jumps, loads, M) zero it again.
  if (((w >>> 7) & 31) === 0 && (id === Op.LUI || id === Op.AUIPC || (id >= Op.ADDI && id <= Op.AND))) id = Op.FENCE;
  dc[ci] = raw;
  // A slot stamped for another page's instruction in the running epoch must not keep its stamp.
  dc[ci + 3] = 0;
  dc[ci + 1] = id | (((w >>> 7) & 31) << 8) | (((w >>> 15) & 31) << 13) | (((w >>> 20) & 31) << 18) | (len === 4 ? 1 << 23 : 0);
  dc[ci + 2] = imm;
}

/** The instruction bits of a decoded slot (16 of them for a compressed instruction). */
function rawBits(dc: Int32Array, ci: number, info: number): number {
  return (info & (1 << 23)) !== 0 ? dc[ci] : dc[ci] & 0xffff;
}

/** Whether a breakpoint lies in the `bytes` bytes of code starting at `pc`. */
function breakpointIn(list: Int32Array, pc: number, bytes: number): boolean {
  for (let i = 0; i < list.length; i++) if (((list[i] - pc) >>> 0) < bytes) return true;
  return false;
}

/** Whether a breakpoint lies in the code of block `bi` of `pg`, whose page starts at virtual `base`: in its page, or in another (FarCode). */
function breakpointsIn(list: Int32Array, pg: PageBlocks, bi: number, base: number): boolean {
  const far = pg.far[bi];
  return breakpointIn(list, base + pg.first[bi], pg.bytes[bi]) || (far !== undefined && breakpointIn(list, far.va, far.bytes));
}

/**
 * Per Op id, 1 for the rare instructions that leave RAM as they were when they retire (so the
 * decode-cache epoch goes on): CSR instructions, sfence.vma, mret and sret. A table, so that V8
 * needs no feedback for ids the warm-up does not run.
 */
const KEEPS_EPOCH = new Uint8Array(Op.COUNT);
for (const id of [Op.CSRRW, Op.CSRRS, Op.CSRRC, Op.CSRRWI, Op.CSRRSI, Op.CSRRCI, Op.SFENCE_VMA, Op.MRET, Op.SRET]) KEEPS_EPOCH[id] = 1;

/**
 * Per CSR number, the lowest privilege at which the inner loop runs an access to it (rareInLoop),
 * 4 (none) for the CSRs it leaves to the general path. These are the ones a kernel's locks and
 * traps access (Linux's boot: sstatus read, cleared and set 65 k times; OpenSBI's mscratch, mstatus,
 * mepc, mcause, mtval, misa), whose accesses change only the hart's fields, its data context and
 * the slice's end (Hart.writeMstatus, setMie, setMipSw): never the TLB, the fetch context or the
 * counters (whose reads want the hart's step count in sync). Each is writable and allowed by its
 * predicate at that privilege, so csrAccess never faults on them.
 */
const FAST_CSR = new Uint8Array(4096).fill(4);
for (const num of [Csr.SSTATUS, Csr.SIE, Csr.SSCRATCH, Csr.SEPC, Csr.SCAUSE, Csr.STVAL, Csr.SIP,
  Csr.MSTATUS, Csr.MISA, Csr.MIE, Csr.MSCRATCH, Csr.MEPC, Csr.MCAUSE, Csr.MTVAL, Csr.MIP]) FAST_CSR[num] = (num >>> 8) & 3;
const NO_FAST_CSR = new Uint8Array(4096).fill(4);

const SLOW_RETIRED = 1;
const SLOW_TRAPPED = 0;

function illegal(h: Hart, raw: number): number {
  h.raise(Cause.ILLEGAL, raw);
  return SLOW_TRAPPED;
}

/** Executes one rare instruction with h.pc at it; leaves h.pc at the next pc or the trap vector. */
function slowInstruction(h: Hart, id: number, w: number, raw: number, rd: number, rs1: number, rs2: number, npc: number, hasA: boolean, hasXs: boolean): number {
  const x = h.x;
  const priv = h.priv;
  if (h.features.h) {
    // The H extension: V changes these instructions and adds its own (hext.ts).
    const r = hInstruction(h, id, w, raw, rd, rs1, rs2, npc);
    if (r !== NOT_H) return r;
  }
  switch (id) {
    case Op.ECALL:
      h.raise(Cause.ECALL_U + priv, 0);
      return SLOW_TRAPPED;
    case Op.EBREAK:
      h.raise(Cause.BREAKPOINT, 0);
      return SLOW_TRAPPED;
    case Op.CSRRW: case Op.CSRRS: case Op.CSRRC: case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI: {
      const imm = id >= Op.CSRRWI;
      const src = imm ? rs1 : x[rs1];
      const kind = id === Op.CSRRW || id === Op.CSRRWI ? CsrOp.WRITE : id === Op.CSRRS || id === Op.CSRRSI ? CsrOp.SET : CsrOp.CLEAR;
      const writes = kind === CsrOp.WRITE || rs1 !== 0;
      const old = h.csrAccess(w >>> 20, kind, src, writes);
      if (h.fault !== 0) return illegal(h, raw);
      x[rd] = old;
      h.pc = npc;
      return SLOW_RETIRED;
    }
    case Op.MRET:
      if (priv < Priv.M) return illegal(h, raw);
      return h.mret() ? SLOW_RETIRED : SLOW_TRAPPED;
    case Op.SRET:
      if (priv < Priv.S || (priv === Priv.S && (h.mstatus & Mstatus.TSR) !== 0)) return illegal(h, raw);
      h.sret();
      return SLOW_RETIRED;
    case Op.WFI:
      if (priv === Priv.U || (priv === Priv.S && (h.mstatus & Mstatus.TW) !== 0)) return illegal(h, raw);
      h.pc = npc;
      if (!h.wakeupPending()) {
        h.waiting = true;
        h.sliceEnd = 0;
      }
      return SLOW_RETIRED;
    case Op.SFENCE_VMA:
      if (priv === Priv.U || (priv === Priv.S && (h.mstatus & Mstatus.TVM) !== 0)) return illegal(h, raw);
      h.tlb.flushTranslated(rs1 === 0 ? undefined : x[rs1], rs2 === 0 ? undefined : x[rs2] & 0x1ff);
      h.pc = npc;
      return SLOW_RETIRED;
    case Op.LR_W: case Op.SC_W: case Op.AMOSWAP_W: case Op.AMOADD_W: case Op.AMOXOR_W: case Op.AMOAND_W:
    case Op.AMOOR_W: case Op.AMOMIN_W: case Op.AMOMAX_W: case Op.AMOMINU_W: case Op.AMOMAXU_W:
      if (!hasA) return illegal(h, raw);
      return atomic(h, id, rd, rs1, rs2, npc);
    case Op.RDPRIV:
      if (!hasXs) return illegal(h, raw);
      x[rd] = priv;
      h.pc = npc;
      return SLOW_RETIRED;
    case Op.SETSIE:
      if (!hasXs) return illegal(h, raw);
      // docs/reference.md: like x86 POPF, silently ignored below S-mode.
      if (priv >= Priv.S) h.writeMstatus((h.mstatus & ~Mstatus.SIE) | ((x[rs1] & 1) << 1));
      h.pc = npc;
      return SLOW_RETIRED;
    case Op.TOUSER: {
      if (!hasXs) return illegal(h, raw);
      const target = x[rs1] & ~1;
      if (priv !== Priv.U) {
        h.priv = Priv.U;
        h.contextChanged();
        h.interruptsChanged();
      }
      h.pc = target;
      return SLOW_RETIRED;
    }
    default:
      return illegal(h, raw);
  }
}

/**
 * LR/SC and AMOs (unprivileged spec ch. 8). Faults follow the spec: a misaligned or faulting AMO
 * or SC raises the store/AMO cause (QEMU 7.2 reports the load cause instead, see docs/machine.md).
 * SC succeeds as QEMU's does: same address and the reserved value still in memory.
 */
function atomic(h: Hart, id: number, rd: number, rs1: number, rs2: number, npc: number): number {
  const x = h.x;
  const a = x[rs1];
  if ((a & 3) !== 0) {
    h.raise(id === Op.LR_W ? Cause.LOAD_MISALIGNED : Cause.STORE_MISALIGNED, a);
    return SLOW_TRAPPED;
  }
  // The TLB first, as for plain loads and stores: LR needs a readable entry, SC and the AMOs a
  // writable one (or one of a page holding translated code). Without one, the slow path walks.
  const vp = a >>> 12;
  const ti = vp & Lit.TLB;
  const tlb = h.tlb;
  const tag = vp | h.dataTag;
  if (id === Op.LR_W) {
    let v: number;
    if (tlb.tagR[ti] === tag) {
      tlb.hits++;
      v = h.bus.ram32[((a + tlb.off[ti]) | 0) >> 2];
    } else {
      v = h.loadSlow(a, 4);
      if (h.fault !== 0) return faulted(h);
    }
    h.reservation = a;
    h.reservedValue = v | 0;
    x[rd] = v;
    h.pc = npc;
    return SLOW_RETIRED;
  }
  if (id === Op.SC_W && h.reservation !== a) {
    h.reservation = -1;
    x[rd] = 1;
    h.pc = npc;
    return SLOW_RETIRED;
  }
  let ramOff = -1;
  if (tlb.tagW[ti] === tag || tlb.tagC[ti] === tag) {
    ramOff = (a + tlb.off[ti]) | 0;
    tlb.hits++;
  }
  const pa = ramOff >= 0 ? 0 : h.translate(a, 4, Access.STORE);
  // A faulting SC leaves the reservation to the trap: the hart's own trap entry ends it, and a
  // VMM that emulates the SC (a write-protected page) checks it.
  if (pa < 0) return faulted(h);
  if (id === Op.SC_W) {
    h.reservation = -1;
    const cur = ramOff >= 0 ? h.bus.ram32[ramOff >> 2] : h.bus.load(pa, 4) | 0;
    if (cur === h.reservedValue) {
      storeWord(h, ramOff, pa, x[rs2]);
      x[rd] = 0;
    } else {
      x[rd] = 1;
    }
    h.pc = npc;
    return SLOW_RETIRED;
  }
  const old = ramOff >= 0 ? h.bus.ram32[ramOff >> 2] : h.bus.load(pa, 4) | 0;
  if (ramOff < 0 && !h.bus.ok) {
    h.fault = Cause.STORE_ACCESS;
    return faulted(h);
  }
  storeWord(h, ramOff, pa, amoValue(id, old, x[rs2]));
  x[rd] = old;
  h.pc = npc;
  return SLOW_RETIRED;
}

/** The word an AMO (not LR or SC) stores, from the old word and rs2's value (both int32). */
export function amoValue(id: number, old: number, b: number): number {
  switch (id) {
    case Op.AMOSWAP_W: return b;
    case Op.AMOADD_W: return (old + b) | 0;
    case Op.AMOXOR_W: return old ^ b;
    case Op.AMOAND_W: return old & b;
    case Op.AMOOR_W: return old | b;
    case Op.AMOMIN_W: return old < b ? old : b;
    case Op.AMOMAX_W: return old > b ? old : b;
    case Op.AMOMINU_W: return (old ^ Lit.SIGN) < (b ^ Lit.SIGN) ? old : b;
    default: return (old ^ Lit.SIGN) > (b ^ Lit.SIGN) ? old : b;
  }
}

/**
 * Runs a CSR instruction or an atomic (decoded `info` and `imm`) for the inner loop, as
 * slowInstruction would, when it cannot trap and changes nothing the loop keeps but the data
 * context and the slice's end: a CSR of FAST_CSR (fastCsr, its privilege allowing), an LR, SC or
 * AMO whose word the TLB maps (writable for SC and the AMOs, not a page holding translated code;
 * an SC without a reservation needs none). Returns false, having changed nothing, otherwise.
 * `dtag` and `epoch` are the loop's data context and decode-cache epoch: a store clears the stamps
 * of the slots it overlaps, as the loop's stores do, so the epoch goes on.
 */
function rareInLoop(h: Hart, info: number, imm: number, dtag: number, epoch: number): boolean {
  const x = h.x;
  const f = h.features;
  // With the H extension no CSR (V changes them).
  const fastCsr = f.h === true ? NO_FAST_CSR : FAST_CSR;
  const id = info & 0xff;
  const rd = (info >>> 8) & 31;
  const rs1 = (info >>> 13) & 31;
  if (id < Op.LR_W) {
    if (id > Op.CSRRCI) return false;
    const num = imm & 0xfff;
    if (fastCsr[num] > h.priv) return false;
    const k = id - Op.CSRRW;
    x[rd] = h.csrAccess(num, k % 3, k >= 3 ? rs1 : x[rs1], k === 0 || k === 3 || rs1 !== 0);
    x[0] = 0;
    return true;
  }
  const a = x[rs1];
  if ((a & 3) !== 0 || f.a !== true) return false;
  const vp = a >>> 12;
  const ti = vp & Lit.TLB;
  const tlb = h.tlb;
  const r32 = h.bus.ram32;
  if (id === Op.LR_W) {
    if (tlb.tagR[ti] !== (vp | dtag)) return false;
    tlb.hits++;
    const v = r32[((a + tlb.off[ti]) | 0) >> 2];
    h.reservation = a;
    h.reservedValue = v;
    x[rd] = v;
    x[0] = 0;
    return true;
  }
  if (id === Op.SC_W && h.reservation !== a) {
    h.reservation = -1;
    x[rd] = 1;
    x[0] = 0;
    return true;
  }
  if (tlb.tagW[ti] !== (vp | dtag)) return false;
  tlb.hits++;
  const o = (a + tlb.off[ti]) | 0;
  const old = r32[o >> 2];
  const b = x[(info >>> 18) & 31];
  if (id === Op.SC_W) {
    h.reservation = -1;
    if (old !== h.reservedValue) {
      x[rd] = 1;
      x[0] = 0;
      return true;
    }
  }
  if (dcMarks[o >>> 12] === epoch) unstamp(decodeCache(f.c === true), o);
  r32[o >> 2] = id === Op.SC_W ? b : amoValue(id, old, b);
  x[rd] = id === Op.SC_W ? 0 : old;
  x[0] = 0;
  return true;
}

/**
 * An atomic's store of word `v`: at RAM offset `ramOff` when its TLB entry gave one (telling the
 * translator when the word holds code), else at physical `pa` through the bus.
 */
function storeWord(h: Hart, ramOff: number, pa: number, v: number): void {
  if (ramOff >= 0) {
    const code = h.code;
    if (code !== undefined && code.codeChunks[ramOff >>> 12] !== 0 && code.written(ramOff, 4, h.stepsNow())) h.codeWritten = true;
    h.bus.ram32[ramOff >> 2] = v;
  } else {
    h.noteStore(pa, 4);
    h.bus.store(pa, 4, v);
  }
}

function faulted(h: Hart): number {
  h.raiseFault();
  return SLOW_TRAPPED;
}

/** Compressed Op of a 16-bit encoding (for tracing). */
export function compressedId(half: number): number {
  return C_ID[half & 0xffff];
}
