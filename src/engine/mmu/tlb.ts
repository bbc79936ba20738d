// A direct-mapped software TLB in typed arrays (STYLE: "TLB first, one slow path"). Each slot holds
// one 4 KiB virtual page for one translation context and three tags, one per access type: a tag is
// set only when that access is allowed without a walk (write: only when the PTE's D bit is already
// set), so a hit is one compare. Only RAM pages are cached; device pages always take the slow path.

/**
 * Number of slots; a power of two. 4,096 slots span 16 MiB of virtual space: with 1,024 (4 MiB),
 * pages 4 MiB apart evicted each other and Linux's boot made 19.5 k page walks (2.4 k now). Full
 * flushes clear only the slots filled since the last one, so trap mode's frequent flushes do not
 * grow with the size.
 */
export const TLB_SIZE = 4096;
/** Mask for the slot index of a virtual page number. */
export const TLB_MASK = TLB_SIZE - 1;

/** Context code for an untranslated (bare) access, OR-ed with the privilege. */
export const CTX_BARE = 4;
/**
 * Context bit of a guest access under the H extension (V=1): such entries hold the combined
 * two-stage translation and carry the VMID in context bits 4..10. No sfence.vma keeps them.
 */
export const CTX_VIRT = 8;
/**
 * Context bits of a translated data access (not under V=1): mstatus.SUM for an S-mode access and
 * mstatus.MXR. They key the entry as QEMU keys its TLB by MMU index, so toggling either (Linux does
 * SUM around every user copy) needs no flush: entries filled under the other setting just miss.
 */
export const CTX_SUM = 16;
export const CTX_MXR = 32;

/** Number of flushes the TLB remembers for the inspector. */
export const FLUSH_HISTORY = 32;

/** One remembered flush: all entries, or sfence.vma semantics with an optional page and ASID. */
export interface TlbFlush {
  /** Sequence number (the TLB's flush count when it happened). */
  readonly seq: number;
  readonly kind: 'all' | 'translated';
  readonly va: number | undefined;
  readonly asid: number | undefined;
}

/** One valid TLB slot, decoded for the inspector. */
export interface TlbEntry {
  readonly slot: number;
  /** Virtual page number and the context it belongs to. */
  readonly vpn: number;
  /** Effective privilege of the context (0 U, 1 S, 3 M) and whether translation was off. */
  readonly priv: number;
  readonly bare: boolean;
  readonly asid: number;
  /** Leaf PTE (0 when bare), its level, and the physical page number. */
  readonly pte: number;
  readonly level: number;
  readonly ppn: number;
  /** A guest access under the H extension (V=1): the combined two-stage translation, and its VMID. */
  readonly virt: boolean;
  readonly vmid: number;
  /** Which accesses hit without a walk. */
  readonly read: boolean;
  readonly write: boolean;
  readonly exec: boolean;
}

/** A context-tagged TLB; tag = vpn | (ctx << 20). */
export class Tlb {
  /** Tag allowing loads, or -1. */
  readonly tagR: Int32Array;
  /** Tag allowing stores, or -1. */
  readonly tagW: Int32Array;
  /** Tag allowing fetches, or -1. */
  readonly tagX: Int32Array;
  /**
   * Tag allowing stores to a page that holds translated code, or -1 (then tagW is -1): such stores
   * take the hart's slow path, which checks the code they overwrite but needs no walk.
   */
  readonly tagC: Int32Array;
  /** RAM byte offset minus the virtual page base, modulo 2^32: ram offset = (va + off) | 0. */
  readonly off: Int32Array;
  /** For inspection: the leaf PTE (0 for bare), its level, ASID, and the physical page number. */
  readonly pte = new Int32Array(TLB_SIZE);
  readonly level = new Uint8Array(TLB_SIZE);
  readonly asid = new Uint16Array(TLB_SIZE);
  readonly ppn = new Int32Array(TLB_SIZE);
  /** Counters for statistics: hits are loads and stores served without the slow path; misses are walks. */
  hits = 0;
  misses = 0;
  flushes = 0;
  /** Whether any megapage (level 1) entry has been filled since the last full flush. */
  private megaFilled = false;
  /**
   * Per 4 MiB region of virtual space (vpn >>> 10): whether a megapage entry of it may be present.
   * A single-page sfence.vma checks the page's own slot and scans the table only for such a region
   * (Linux's boot makes 129 k of those flushes, nearly all outside its megapages).
   */
  private readonly megaRegion = new Uint8Array(1024);
  /** Whether any entry under V=1 has been filled since the last full flush (a sfence.vma with V=0 drops them all). */
  private virtFilled = false;
  /**
   * Per 4 MiB region of virtual space: whether a V=1 entry of it may come from a VS-stage megapage
   * (V=1 entries hold 4 KiB of the combined translation each, so such a leaf is split over many
   * slots). A single-page sfence.vma in VS-mode checks the page's own slot unless its region is set.
   */
  private readonly virtMegaRegion = new Uint8Array(1024);
  /**
   * The slots filled since the last full flush, each once (`listed` marks them), so that a full
   * flush and the scans of sfence.vma and codeAdded visit those slots instead of all TLB_SIZE: trap
   * mode flushes everything at each shadow change and context switch, with a few dozen fills between.
   * A slot emptied by a partial flush stays listed until the next full flush.
   */
  private readonly used = new Int32Array(TLB_SIZE);
  private readonly listed = new Uint8Array(TLB_SIZE);
  private usedCount = 0;
  /** The last FLUSH_HISTORY flushes, oldest first once full (a ring indexed by flushes). */
  private readonly history: TlbFlush[] = [];

  /**
   * With `shared`, tagR, tagW, tagC, off and tagX are views into it, TLB_SIZE entries each at that
   * byte offset, in this order (translated WebAssembly code reads them there: jit-wasm.ts).
   */
  constructor(shared?: { buffer: ArrayBuffer; offset: number }) {
    const view = (i: number): Int32Array =>
      shared === undefined ? new Int32Array(TLB_SIZE) : new Int32Array(shared.buffer, shared.offset + i * TLB_SIZE * 4, TLB_SIZE);
    this.tagR = view(0).fill(-1);
    this.tagW = view(1).fill(-1);
    this.tagC = view(2).fill(-1);
    this.off = view(3);
    this.tagX = view(4).fill(-1);
  }

  /** Installs a translation for the page of `va` in context `ctx`. */
  fill(va: number, ctx: number, ramOffset: number, canRead: boolean, canWrite: boolean, canExec: boolean, pte: number, level: number, asid: number, ppn: number, holdsCode = false): void {
    const vpn = va >>> 12;
    const i = vpn & TLB_MASK;
    const tag = vpn | (ctx << 20);
    if (this.listed[i] === 0) {
      this.listed[i] = 1;
      this.used[this.usedCount++] = i;
    }
    this.tagR[i] = canRead ? tag : -1;
    this.tagW[i] = canWrite && !holdsCode ? tag : -1;
    this.tagC[i] = canWrite && holdsCode ? tag : -1;
    this.tagX[i] = canExec ? tag : -1;
    this.off[i] = (ramOffset - (vpn << 12)) | 0;
    this.pte[i] = pte;
    this.level[i] = level;
    this.asid[i] = asid;
    this.ppn[i] = ppn;
    if (level > 0) {
      this.megaFilled = true;
      this.megaRegion[vpn >>> 10] = 1;
    }
    if ((ctx & CTX_VIRT) !== 0) this.virtFilled = true;
  }

  /** Drops every entry. */
  flushAll(): void {
    const n = this.usedCount;
    if (n > TLB_SIZE >>> 2) {
      this.tagR.fill(-1);
      this.tagW.fill(-1);
      this.tagX.fill(-1);
      this.tagC.fill(-1);
      this.listed.fill(0);
    } else {
      for (let k = 0; k < n; k++) {
        const i = this.used[k];
        this.tagR[i] = this.tagW[i] = this.tagX[i] = this.tagC[i] = -1;
        this.listed[i] = 0;
      }
    }
    this.usedCount = 0;
    this.megaFilled = false;
    this.megaRegion.fill(0);
    this.virtFilled = false;
    this.virtMegaRegion.fill(0);
    this.flushes++;
    this.remember('all', undefined, undefined);
  }

  /** The V=1 entry just filled for the page of `va` comes from a VS-stage megapage leaf. */
  virtMegapage(va: number): void {
    this.virtMegaRegion[va >>> 22] = 1;
  }

  /**
   * sfence.vma executed with V=1 (privileged spec §8.2.2): it covers only the VS-stage translations of
   * the running VMID, so only V=1 entries of `vmid` go, by the same page and ASID rule as
   * flushTranslated (a VS-stage megapage's entries go with any page of its 4 MiB region).
   */
  flushVirtual(va: number | undefined, asid: number | undefined, vmid: number): void {
    this.flushes++;
    this.remember('translated', va === undefined ? undefined : va >>> 0, asid);
    if (!this.virtFilled) return;
    const vpn = va === undefined ? -1 : va >>> 12;
    const ctxOf = CTX_VIRT | ((vmid & 0x7f) << 4);
    if (vpn !== -1 && this.virtMegaRegion[vpn >>> 10] === 0) {
      // Only this page's own slot can hold a V=1 entry for it.
      const i = vpn & TLB_MASK;
      const tag = this.tagOf(i);
      if (tag === -1 || ((tag >>> 20) & ~3) !== ctxOf || (tag & 0xfffff) !== vpn) return;
      if (asid !== undefined && ((this.pte[i] & 0x20) !== 0 || this.asid[i] !== asid)) return;
      this.tagR[i] = this.tagW[i] = this.tagX[i] = this.tagC[i] = -1;
      return;
    }
    for (let k = 0; k < this.usedCount; k++) {
      const i = this.used[k];
      const tag = this.tagOf(i);
      if (tag === -1 || ((tag >>> 20) & ~3) !== ctxOf) continue;
      if (asid !== undefined && ((this.pte[i] & 0x20) !== 0 || this.asid[i] !== asid)) continue;
      // A page in a region holding VS-stage megapage entries: every entry of the region goes.
      if (vpn !== -1 && (tag & 0xfffff) >>> 10 !== vpn >>> 10) continue;
      this.tagR[i] = this.tagW[i] = this.tagX[i] = this.tagC[i] = -1;
    }
  }

  /**
   * sfence.vma semantics (privileged spec §4.2.1): `va` undefined flushes all pages, `asid`
   * undefined all address spaces; global entries survive an ASID-specific flush. Bare entries stay.
   */
  flushTranslated(va: number | undefined, asid: number | undefined): void {
    this.flushes++;
    this.remember('translated', va === undefined ? undefined : va >>> 0, asid);
    const vpn = va === undefined ? -1 : va >>> 12;
    if (vpn !== -1 && !this.virtFilled && this.megaRegion[vpn >>> 10] === 0) {
      // Only 4 KiB entries can map this page, and only in its own slot.
      this.dropIfMatches(vpn & TLB_MASK, vpn, asid);
      return;
    }
    for (let k = 0; k < this.usedCount; k++) {
      const i = this.used[k];
      const tag = this.tagOf(i);
      if (tag === -1 || ((tag >>> 20) & CTX_BARE) !== 0) continue;
      if (((tag >>> 20) & CTX_VIRT) !== 0) {
        this.tagR[i] = this.tagW[i] = this.tagX[i] = this.tagC[i] = -1;
        continue;
      }
      if (asid !== undefined && (this.pte[i] & 0x20) !== 0) continue;
      if (asid !== undefined && this.asid[i] !== asid) continue;
      if (vpn !== -1) {
        const entryVpn = tag & 0xfffff;
        const same = this.level[i] > 0 ? entryVpn >>> 10 === vpn >>> 10 : entryVpn === vpn;
        if (!same) continue;
      }
      this.tagR[i] = this.tagW[i] = this.tagX[i] = this.tagC[i] = -1;
    }
    // The scan dropped every V=1 entry, and without an ASID every megapage entry it covered.
    this.virtFilled = false;
    this.virtMegaRegion.fill(0);
    if (asid === undefined) {
      if (va === undefined) {
        this.megaFilled = false;
        this.megaRegion.fill(0);
      } else {
        this.megaRegion[vpn >>> 10] = 0;
      }
    }
  }

  /** Drops slot `i` when it holds a translated (not V=1) 4 KiB entry for `vpn` that an sfence.vma for `asid` covers. */
  private dropIfMatches(i: number, vpn: number, asid: number | undefined): void {
    const tag = this.tagOf(i);
    if (tag === -1 || ((tag >>> 20) & CTX_BARE) !== 0 || (tag & 0xfffff) !== vpn) return;
    if (asid !== undefined && ((this.pte[i] & 0x20) !== 0 || this.asid[i] !== asid)) return;
    this.tagR[i] = this.tagW[i] = this.tagX[i] = this.tagC[i] = -1;
  }

  /** The valid slots, decoded (side-effect free). */
  entries(): TlbEntry[] {
    const out: TlbEntry[] = [];
    for (let i = 0; i < TLB_SIZE; i++) {
      const tag = this.tagOf(i);
      if (tag === -1) continue;
      const ctx = tag >>> 20;
      out.push({
        slot: i, vpn: tag & 0xfffff, priv: ctx & 3, bare: (ctx & CTX_BARE) !== 0, asid: this.asid[i],
        pte: this.pte[i] >>> 0, level: this.level[i], ppn: this.ppn[i] >>> 0,
        virt: (ctx & CTX_VIRT) !== 0, vmid: (ctx & CTX_VIRT) !== 0 ? (ctx >>> 4) & 0x7f : 0,
        read: this.tagR[i] === tag, write: this.tagW[i] === tag, exec: this.tagX[i] === tag,
      });
    }
    return out;
  }

  /** Slot `i`'s tag (any access type), or -1 when the slot is empty. */
  private tagOf(i: number): number {
    return this.tagR[i] !== -1 ? this.tagR[i] : this.tagW[i] !== -1 ? this.tagW[i] : this.tagX[i] !== -1 ? this.tagX[i] : this.tagC[i];
  }

  /** A RAM page now holds translated code: entries mapping physical page `ppn` trade the write tag for the code-write tag. */
  codeAdded(ppn: number): void {
    for (let k = 0; k < this.usedCount; k++) {
      const i = this.used[k];
      if (this.tagW[i] !== -1 && this.ppn[i] === ppn) {
        this.tagC[i] = this.tagW[i];
        this.tagW[i] = -1;
      }
    }
  }

  /** The remembered flushes, oldest first. */
  flushHistory(): TlbFlush[] {
    return this.history.filter((f) => f !== undefined).sort((a, b) => a.seq - b.seq);
  }

  private remember(kind: TlbFlush['kind'], va: number | undefined, asid: number | undefined): void {
    this.history[this.flushes % FLUSH_HISTORY] = { seq: this.flushes, kind, va, asid };
  }

  /** Whether a megapage entry may be present (callers may skip scans otherwise). */
  get hasMegapages(): boolean {
    return this.megaFilled;
  }
}
