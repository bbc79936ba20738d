// Binary translation: while the guest runs in virtual S- or M-mode, the VMM runs none of its code
// natively. It translates the guest kernel block by block (translate.ts) into a translation cache
// keyed by guest-physical address and virtual privilege (cache.ts) and runs the translations on the
// physical hart's registers, over the shadow tables of trap mode. Sensitive instructions in them
// are callouts into the emulation routines trap mode runs after an exit, with no trap, so the
// Xsensitive instructions that do not trap behave as bare. Blocks that end in a plain control
// transfer are chained to the block they continued at. A guest page holding translated code is
// write-protected in the shadows; a guest store to it faults, is emulated, and drops the blocks it
// overwrote. Guest user code runs directly on the physical hart as in trap mode.

import { CsrOp, Priv } from '../../cpu/hart';
import { execute } from '../../cpu/interp';
import { Mstatus } from '../../cpu/csr-defs';
import { TLB_MASK, TLB_SIZE } from '../../mmu/tlb';
import { Access, Cause } from '../../mmu/walk';
import { TrapVcpu } from '../trap/trap-vcpu';
import type { Vm } from '../vm';
import type { Vmm } from '../vmm';
import { BtBlock, TranslationCache } from './cache';
import { buildBlock, Callout, CALLOUT_NAMES, calloutOf, coldLength, scanBlock, type BtBlockFn, type BtFeatures, type Callouts, type ScannedBlock } from './translate';
import { DECODE_BUCKET, decodeSlow, EXPAND_C } from '../../isa/decode';

/** The function of a block of no instructions (its first one runs outside translated code). */
const EMPTY: BtBlockFn = () => 0;

/**
 * Functions by their source, shared by every bt VM: code translated again after a store (a guest
 * rewriting its own code in a loop) or the same code in another VM costs no new function.
 */
const MEMO = new Map<string, BtBlockFn>();
const MEMO_LIMIT = 8192;

function functionOf(scan: ScannedBlock): BtBlockFn {
  let fn = MEMO.get(scan.source);
  if (fn === undefined) {
    if (MEMO.size >= MEMO_LIMIT) MEMO.clear();
    fn = buildBlock(scan);
    MEMO.set(scan.source, fn);
  }
  return fn;
}

/**
 * Adaptive hotness: once a VM has translated this many blocks (a large kernel such as Linux, where
 * most blocks run a handful of times and compiling one costs what interpreting it thousands of
 * times does), a block start is translated only on its HOT_ENTRIES-th entry; until then its
 * innocuous instructions run natively on the physical hart as in trap mode. Small kernels (the labs,
 * the first 1,024 blocks of any kernel) are translated at their first entry as before. Linux's first
 * 41 M instructions: 16,173 blocks translated without this, 3,648 with it, and 5.4 against 8.4 CPU s.
 */
export const EAGER_TRANSLATIONS = 1024;
export const HOT_ENTRIES = 128;

/** The bt-mode vCPU of one VM. */
export class BtVcpu extends TrapVcpu implements Callouts {
  readonly cache = new TranslationCache();
  /** Bumped whenever the guest's context or the shadows change: chains are valid within one generation. */
  private gen = 0;
  /** Guest page number of each host RAM page of this VM (-1: not the VM's). */
  private readonly guestPage: Int32Array;
  private readonly features: BtFeatures;
  /** One-instruction translations of block starts, used where a whole block does not fit (slice end, breakpoint). */
  private readonly singles = new Map<BtBlock, BtBlock>();
  /** Callouts the running block went on after (the VMM retired those instructions itself). */
  private continued = 0;
  /** Callouts by kind, and CSR accesses emulated, not yet added to the VM's statistics (by name). */
  private readonly calloutCounts = new Float64Array(CALLOUT_NAMES.length);
  private csrEmulated = 0;
  /** Blocks translated since the cache was last emptied (adaptive hotness starts past EAGER_TRANSLATIONS). */
  private translations = 0;
  /** Entries of block starts not yet translated, by privilege, then by keyOf their address. */
  private readonly heat = [new Map<number, number>(), new Map<number, number>(), new Map<number, number>(), new Map<number, number>()];
  /** Block starts run natively while cold (statistics for docs/speed.md; not a guest-visible count). */
  coldRuns = 0;
  /**
   * Inline stores to pages holding translated code (translate.ts, CODE_WRITE). Per physical TLB
   * slot: the tag of a page that holds translated code and that the guest may write in its current
   * context (the VMM saw one of its stores there go through the guest's tables and PMP), or -1; that
   * page's RAM byte offset minus its virtual base; and a bit per word of the page that holds a
   * block's code. Valid while the physical TLB was not flushed, the guest's context and the cache
   * stayed (flushes, gen) and the VMM walked no guest table (a walk may make a page a table page,
   * whose stores must exit: if it held code its shadows were read-only already, so no flush tells);
   * any other change drops them all.
   */
  private readonly tagCW = new Int32Array(TLB_SIZE).fill(-1);
  private readonly cwOff = new Int32Array(TLB_SIZE);
  private readonly cw = new Uint32Array(TLB_SIZE * 32);
  private cwLive = false;
  private cwFlushes = -1;
  private cwGen = -1;
  private cwWalks = -1;
  /** Code of the physical hart's own translator, per RAM page (zeros without it). */
  private hartCode: Uint32Array | undefined;

  constructor(vm: Vm, vmm: Vmm) {
    super(vm, vmm);
    this.guestPage = new Int32Array(Math.ceil(vmm.host.ramSize / 4096)).fill(-1);
    for (const { gpa, hpa } of vm.pmap.entries()) this.guestPage[Math.floor((hpa - vmm.host.ramBase) / 4096)] = Math.floor(gpa / 4096);
    const f = vm.vhart.features;
    this.features = { c: f.c, m: f.m, a: f.a, xsensitive: f.xsensitive };
  }

  /** The guest's clock now (for the invalidation history). */
  private get clock(): number {
    return this.vh.steps + this.p.sliceSteps;
  }

  /** Instructions the guest has retired now (for the invalidation history). */
  private get retired(): number {
    return this.vh.instret + this.p.sliceDone;
  }

  override applyContext(): void {
    super.applyContext();
    this.gen++;
  }

  override dmaWritten(gpa: number, hostOffset: number, length: number): void {
    super.dmaWritten(gpa, hostOffset, length);
    const n = this.cache.invalidate(gpa, length, 'dma', this.clock, this.retired);
    this.vm.stats.translationInvalidations += n;
    this.gen++;
  }

  override reset(): void {
    super.reset();
    this.dropAll();
  }

  override destroy(): void {
    super.destroy();
    this.dropAll();
  }

  private dropAll(): void {
    this.dropCodeWrites();
    this.cache.clear(this.clock, this.retired);
    this.singles.clear();
    this.translations = 0;
    for (const h of this.heat) h.clear();
    this.gen++;
  }

  protected override writeProtectsCode(gpn: number): boolean {
    return this.cache.holdsCode(gpn);
  }

  /** A guest store to a page holding translated code: emulate it, drop the blocks it overwrote. */
  protected override codeWrite(va: number, gpa: number): void {
    this.vm.stats.writeProtectFaults++;
    const pc = this.p.pc;
    const size = this.emulateStore(va, gpa);
    if (size === undefined) return;
    const n = this.cache.invalidate(gpa, size, 'store', this.clock, this.retired, pc);
    this.vm.stats.translationInvalidations += n;
    if (n > 0) this.gen++;
    else this.allowCodeWrites(va, gpa);
  }

  /**
   * The guest's store at `va` (guest-physical `gpa`) to a page holding translated code went through
   * its tables (and PMP) and overwrote no code: translated stores to the rest of the page may be done
   * inline from now on, while the context lasts (see tagCW). Not while the VMM logs dirty pages, a
   * debug trigger is armed, MPRV moves data accesses to another privilege, or PMP splits the page.
   */
  private allowCodeWrites(va: number, gpa: number): void {
    const p = this.p;
    const vh = this.vh;
    if (this.vm.bus.writeLog !== undefined || p.triggers.armed || vh.triggers.armed) return;
    if (vh.priv === Priv.M && (vh.mstatus & Mstatus.MPRV) !== 0) return;
    const base = gpa - (gpa % 4096);
    if (vh.features.pmp) {
      const perms = vh.pmp.pagePermissions(base, vh.priv);
      if (perms < 0 || (perms & 2) === 0) return;
    }
    const hpa = this.vm.pmap.lookup(base);
    if (hpa < 0) return;
    if (this.cwFlushes !== p.tlb.flushes || this.cwGen !== this.gen || this.cwWalks !== this.vm.stats.tlbMisses) {
      this.dropCodeWrites();
      this.cwFlushes = p.tlb.flushes;
      this.cwGen = this.gen;
      this.cwWalks = this.vm.stats.tlbMisses;
    }
    const vpn = va >>> 12;
    const ti = vpn & TLB_MASK;
    this.tagCW[ti] = vpn | p.dataTag;
    this.cwOff[ti] = (hpa - p.bus.ramBase - (vpn << 12)) | 0;
    this.cw.fill(0, ti * 32, ti * 32 + 32);
    this.cache.markCode(Math.floor(gpa / 4096), this.cw, ti * 32);
    this.cwLive = true;
  }

  /** Drops every inline code-page store permission (tagCW). */
  private dropCodeWrites(): void {
    if (!this.cwLive) return;
    this.tagCW.fill(-1);
    this.cwLive = false;
  }

  protected override runSlice(slice: number): void {
    if (this.vh.priv === Priv.U) execute(this.p, slice);
    else {
      this.runTranslated(slice);
      this.countCallouts();
    }
  }

  /** Adds the callouts and CSR accesses counted in the slice to the VM's statistics. */
  private countCallouts(): void {
    const stats = this.vm.stats;
    const counts = this.calloutCounts;
    for (let k = 0; k < counts.length; k++) {
      if (counts[k] === 0) continue;
      const name = CALLOUT_NAMES[k];
      stats.calloutKinds[name] = (stats.calloutKinds[name] ?? 0) + counts[k];
      counts[k] = 0;
    }
    if (this.csrEmulated > 0) stats.emulate('csr', this.csrEmulated);
    this.csrEmulated = 0;
  }

  /** Runs translated guest-kernel code until the slice ends or the guest leaves its kernel. */
  private runTranslated(limit: number): void {
    const p = this.p;
    const vh = this.vh;
    const stats = this.vm.stats;
    const x = p.x;
    const bus = p.bus;
    const r8 = bus.ram;
    const r16 = bus.ram16;
    const r32 = bus.ram32;
    const tlb = p.tlb;
    const tagR = tlb.tagR;
    const tagW = tlb.tagW;
    const tagX = tlb.tagX;
    const toff = tlb.off;
    const bps = p.breakpoints.size > 0 ? p.breakpoints : undefined;
    const firstDone = p.sliceDone;
    // Debug triggers the guest armed (mirrored on the physical hart): every instruction's fetch is
    // checked against them, so blocks run one instruction at a time and are not chained.
    const watch = p.triggers.armed;
    const tagCW = this.tagCW;
    const cwOff = this.cwOff;
    const cw = this.cw;
    const cch = p.code !== undefined ? p.code.codeChunks : (this.hartCode ??= new Uint32Array(Math.ceil(p.bus.ramSize / 4096)));
    p.sliceEnd = limit;
    p.atBreakpoint = false;
    // The block that ran last when it left through a plain control transfer (chaining).
    let prev: BtBlock | undefined;
    while (p.sliceSteps < p.sliceEnd && vh.priv !== Priv.U) {
      const pc = p.pc;
      if (bps !== undefined && bps.has(pc >>> 0) && !(p.sliceDone === firstDone && pc >>> 0 === p.bpSkip)) {
        p.atBreakpoint = true;
        break;
      }
      if (watch) {
        prev = undefined;
        p.fetchSlow(pc);
        if (p.fault !== 0) {
          p.sliceSteps++;
          p.raiseFault();
          continue;
        }
      }
      let blk: BtBlock;
      if (prev !== undefined && prev.chainPc === pc && prev.chainGen === this.gen && prev.chain!.valid) {
        blk = prev.chain!;
        stats.chainedJumps++;
      } else {
        const vpn = pc >>> 12;
        const ti = vpn & TLB_MASK;
        let off: number;
        if (tagX[ti] === (vpn | p.fetchTag)) {
          off = (pc + toff[ti]) | 0;
        } else {
          const pa = p.translate(pc, 2, Access.FETCH);
          off = pa < 0 ? -1 : bus.ramOffset(pa, 2);
          if (off < 0) {
            // The fetch faults as the hart's would: a shadow fill (hidden) or a guest trap.
            if (p.fault === 0) p.fault = Cause.INSN_ACCESS;
            p.sliceSteps++;
            p.raiseFault();
            prev = undefined;
            continue;
          }
        }
        const gpa = this.guestPage[off >>> 12] * 4096 + (off & 0xfff);
        const found = this.cache.get(gpa, vh.priv);
        if (found !== undefined && found.pc === pc) {
          blk = found;
          stats.translationHits++;
        } else if (this.translations >= EAGER_TRANSLATIONS && bps === undefined && !watch && this.runCold(off, gpa, vh.priv)) {
          prev = undefined;
          continue;
        } else {
          blk = this.translateBlock(off, gpa, pc, vh.priv);
        }
        if (prev !== undefined) {
          prev.chainPc = pc;
          prev.chain = blk;
          prev.chainGen = this.gen;
        }
      }
      blk.hits++;
      if (blk.length === 0) {
        this.stepOutside(pc);
        prev = undefined;
        continue;
      }
      let run = blk;
      if (watch || p.sliceSteps + blk.length > p.sliceEnd || (bps !== undefined && breakpointIn(bps, pc, blk.bytes))) run = this.single(blk);
      const n0 = p.sliceDone;
      const s0 = p.sliceSteps;
      const gen = this.gen;
      this.continued = 0;
      if (this.cwLive && (tlb.flushes !== this.cwFlushes || gen !== this.cwGen || stats.tlbMisses !== this.cwWalks)) this.dropCodeWrites();
      const r = run.fn(p, x, r8, r16, r32, tagR, tagW, toff, p.dataTag, n0, s0, this, tagCW, cwOff, cw, cch);
      if (r >= 0) {
        p.sliceDone = n0 + r - this.continued;
        p.sliceSteps = s0 + r;
        prev = gen === this.gen && run === blk ? blk : undefined;
      } else {
        // A callout or a trap: the block chains to where the guest went on when its context
        // stayed (a CSR read, a shadow fill); a reflected trap or a new context bumped gen.
        p.sliceDone = n0 - 1 - r - this.continued;
        p.sliceSteps = s0 - r;
        prev = gen === this.gen && run === blk ? blk : undefined;
      }
    }
  }

  /**
   * A block start that is still cold: counts its entry and, below HOT_ENTRIES, runs its innocuous
   * instructions (up to a sensitive one, an atomic or a control transfer) natively on the physical
   * hart, exactly as trap mode would. Returns false when the start is to be translated now.
   */
  private runCold(off: number, gpa: number, priv: number): boolean {
    const p = this.p;
    const heat = this.heat[priv];
    const key = gpa / 2 - 0x40000000;
    const n = (heat.get(key) ?? 0) + 1;
    if (n >= HOT_ENTRIES) {
      heat.delete(key);
      return false;
    }
    heat.set(key, n);
    const len = coldLength(p.bus.ram16, off, this.features);
    if (len === 0 || p.sliceSteps + len > p.sliceEnd) return false;
    this.coldRuns++;
    const end = p.sliceEnd;
    const stop = p.sliceSteps + len;
    execute(p, stop);
    if (p.sliceEnd === stop) p.sliceEnd = end;
    return true;
  }

  /** Translates the block at RAM offset `off` (guest-physical `gpa`, virtual `pc`) for `priv`. */
  private translateBlock(off: number, gpa: number, pc: number, priv: number): BtBlock {
    const r16 = this.p.bus.ram16;
    const scan = scanBlock(r16, off, pc, this.features);
    // A block of no instructions still covers its first instruction, so a store there drops it.
    const bytes = scan.length > 0 ? scan.bytes : (r16[off >> 1] & 3) === 3 ? 4 : 2;
    const blk = new BtBlock(pc, gpa, priv, scan.length > 0 ? functionOf(scan) : EMPTY, scan.length, Math.min(bytes, 4096 - (gpa & 0xfff)), scan.source, scan.insns);
    this.vm.stats.translatedBlocks++;
    this.translations++;
    // The page may have gained code words: inline code-page stores are allowed again one by one.
    this.dropCodeWrites();
    if (this.cache.put(blk)) {
      // The page holds translated code from now on: no shadow may map it writable.
      if (this.shadows.writeProtect(this.p.bus.ramBase + (off & ~0xfff)) > 0) this.p.tlb.flushAll();
    }
    return blk;
  }

  /** The one-instruction translation of a block's start. */
  private single(blk: BtBlock): BtBlock {
    if (blk.length === 1) return blk;
    let one = this.singles.get(blk);
    if (one === undefined) {
      if (this.singles.size > 4096) this.singles.clear();
      const scan = scanBlock(this.p.bus.ram16, this.hostOffsetOf(blk), blk.pc, this.features, 1);
      one = new BtBlock(blk.pc, blk.gpa, blk.priv, functionOf(scan), scan.length, scan.bytes, scan.source, scan.insns);
      this.singles.set(blk, one);
    }
    return one;
  }

  /** Host RAM offset of a block's first byte (the VM's pmap). */
  private hostOffsetOf(blk: BtBlock): number {
    return this.vm.pmap.lookup(blk.gpa) - this.p.bus.ramBase;
  }

  /**
   * Runs the instruction at pc that no block holds (a 4-byte instruction across the end of a page): a sensitive one through its callout, any other natively on the physical hart.
   */
  private stepOutside(pc: number): void {
    const p = this.p;
    const raw = p.fetchSlow(pc);
    if (p.fault !== 0) {
      p.sliceSteps++;
      p.raiseFault();
      return;
    }
    // The raw bits and the 32-bit word they stand for (a 16-bit encoding without C is illegal).
    const lo = raw & 0xffff;
    const bits = (lo & 3) === 3 ? raw | 0 : lo;
    const w = (lo & 3) === 3 ? bits : this.features.c ? EXPAND_C[lo] : 0;
    let id = DECODE_BUCKET[(w & 0x7f) | ((w >>> 5) & 0x380)];
    if (id < 0) id = decodeSlow(w, id);
    const kind = calloutOf(id, this.features);
    if (kind >= 0) {
      p.sliceSteps++;
      this.callout(kind, bits);
      return;
    }
    const end = p.sliceEnd;
    const one = p.sliceSteps + 1;
    execute(p, one);
    if (p.sliceEnd === one) p.sliceEnd = end;
  }

  /**
   * Callouts: translated code calls the VMM's emulation routine of a sensitive instruction at pc
   * directly (h.pc, sliceDone and sliceSteps are synced; the instruction's step is counted).
   */
  callout(kind: number, bits: number): boolean {
    const p = this.p;
    const vh = this.vh;
    const stats = this.vm.stats;
    this.syncClock();
    this.account();
    stats.callouts++;
    this.calloutCounts[kind]++;
    const rd = (bits >>> 7) & 31;
    const rs1 = (bits >>> 15) & 31;
    switch (kind) {
      case Callout.ECALL:
        if (vh.priv === Priv.S && this.vm.machine.sbi !== undefined) this.sbiCall();
        else this.reflect(Cause.ECALL_U + vh.priv, 0);
        return false;
      case Callout.EBREAK:
        this.reflect(Cause.BREAKPOINT, 0);
        return false;
      case Callout.RDPRIV:
        if (rd !== 0) p.x[rd] = vh.priv;
        p.pc = (p.pc + 4) | 0;
        this.retireEmulated();
        stats.emulate('rdpriv');
        return this.goOn();
      case Callout.SETSIE:
        // As bare: sstatus.SIE follows rs1 in S- and M-mode (the guest runs no user code here).
        vh.writeMstatus((vh.mstatus & ~Mstatus.SIE) | ((p.x[rs1] & 1) << 1));
        p.pc = (p.pc + 4) | 0;
        this.retireEmulated();
        stats.emulate('setsie');
        this.applyContext();
        return false;
      case Callout.TOUSER: {
        const target = p.x[rs1] & ~1;
        this.retireEmulated();
        vh.priv = Priv.U;
        vh.contextChanged();
        vh.interruptsChanged();
        p.pc = target;
        stats.emulate('touser');
        this.applyContext();
        return false;
      }
      case Callout.CSR: {
        const gen = this.gen;
        if (!this.csrAccess(bits)) {
          this.emulate(bits);
          return false;
        }
        return gen === this.gen && this.goOn();
      }
      default:
        // xRET, WFI, SFENCE.VMA and illegal instructions: trap mode's routines.
        this.emulate(bits);
        return false;
    }
  }

  /**
   * The slow path of a translated atomic: the physical hart runs the one instruction at pc, as trap
   * mode runs it (a fault is an exit the VMM handles: a shadow fill, a store to a page holding
   * translated code, a device, a trap reflected into the guest). See Callouts.atomic.
   */
  atomic(): number {
    const p = this.p;
    const gen = this.gen;
    const done = p.sliceDone;
    const end = p.sliceEnd;
    const one = p.sliceSteps + 1;
    execute(p, one);
    if (p.sliceEnd === one) p.sliceEnd = end;
    p.codeWritten = false;
    if (p.sliceDone === done) return -1;
    return gen === this.gen && p.sliceSteps < p.sliceEnd ? 0 : 1;
  }

  /** The block goes on after the callout when the slice has room (it always has, unless cut short). */
  private goOn(): boolean {
    if (this.p.sliceSteps >= this.p.sliceEnd) return false;
    this.continued++;
    return true;
  }

  /**
   * A CSR access other than PMP and the debug triggers, emulated against the virtual hart as trap
   * mode does, but the guest's context is applied again (a new shadow, the slice ended for an
   * interrupt, chains dropped) only when the access changed what it depends on: the privilege,
   * satp, mstatus' SUM, MXR, MPRV and MPP, or an interrupt the guest now takes. Kernels read and
   * write sstatus around every lock (xv6: 1.7 million CSR callouts in 100 M instructions of
   * usertests), and each of them ended the slice. Returns false for trap mode's routine to run.
   */
  private csrAccess(bits: number): boolean {
    const csr = bits >>> 20;
    if ((csr >= 0x3a0 && csr <= 0x3bf) || (csr >= 0x7a0 && csr <= 0x7af)) return false;
    const p = this.p;
    const vh = this.vh;
    const f3 = (bits >>> 12) & 7;
    const rd = (bits >>> 7) & 31;
    const rs1 = (bits >>> 15) & 31;
    const op = (f3 & 3) === 1 ? CsrOp.WRITE : (f3 & 3) === 2 ? CsrOp.SET : CsrOp.CLEAR;
    const src = f3 >= 5 ? rs1 : p.x[rs1];
    const satp = vh.satp;
    const mstatus = vh.mstatus;
    const priv = vh.priv;
    const old = vh.csrAccess(csr, op, src, op === CsrOp.WRITE || rs1 !== 0);
    if (vh.fault !== 0) {
      this.reflect(Cause.ILLEGAL, bits);
      return true;
    }
    if (rd !== 0) p.x[rd] = old;
    p.pc = (p.pc + 4) | 0;
    this.csrEmulated++;
    this.retireEmulated();
    if (vh.satp !== satp || vh.priv !== priv || ((vh.mstatus ^ mstatus) & CONTEXT_BITS) !== 0 || vh.pendingInterrupt() >= 0) this.applyContext();
    return true;
  }
}

/** The mstatus bits a shadow context depends on. */
const CONTEXT_BITS = Mstatus.SUM | Mstatus.MXR | Mstatus.MPRV | Mstatus.MPP;

/** Whether a breakpoint lies in the `bytes` bytes of code at `pc` other than at pc itself. */
function breakpointIn(bps: ReadonlySet<number>, pc: number, bytes: number): boolean {
  for (const b of bps) {
    const d = (b - pc) >>> 0;
    if (d > 0 && d < bytes) return true;
  }
  return false;
}
