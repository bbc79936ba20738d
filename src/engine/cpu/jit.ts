// Block translator: hot guest code becomes JavaScript functions (as v86 does), so the
// interpreter's fetch/decode/dispatch is paid once per block instead of once per instruction. A
// function is a region: the block at a hot start and the blocks of the same page it reaches by
// branches and direct jumps, run in a loop with a switch on the
// block's pc, so loops and calls within a page never return to the dispatcher; guest registers live
// in locals and are written back when the function leaves. Blocks end at a control transfer, at the
// page's end or at an instruction that needs the hart's slow path (CSRs, system, atomics).
// Regions are kept per physical RAM page, indexed by their start within the page and checked
// against the virtual pc (they embed pcs), so hot code never evicts other hot code. A page holding
// translated code loses its TLB write tag (the TLB keeps a code-write tag instead): stores to a word
// holding translated code take the hart's slow path, which drops exactly the regions whose code
// the store overwrites (self-modifying code, a page reused for other code); stores beside the code
// stay fast.
// Translating costs far more than interpreting a block a few times (V8 first runs a new function in
// its own interpreter), so a start is translated only after HOT_THRESHOLD entries and BUILD_BUDGET
// retired instructions, a page whose code keeps being overwritten waits longer each time (backoff),
// and a region whose bytes and pc were translated before reuses that function (a program exec'd
// again into other frames).
// A block that branches back to its own start runs its passes in an inner loop of the region, and
// a fill loop (a C memset's `sb; addi; bne`) does its passes up to its store's page end at once.
// Regions retire, trap and count steps exactly as the interpreter would; tests compare the two.

import { DECODE_BUCKET, decodeSlow, EXPAND_C } from '../isa/decode';
import { Op } from '../isa/opcodes';
import { TLB_MASK } from '../mmu/tlb';
import type { Hart } from './hart';
import type { JitBackend, WasmRuntime } from './jit-wasm';

/** A translated block: returns instructions retired, or -1 - retired when it trapped. */
export type BlockFn = (
  h: Hart, x: Int32Array, r8: Uint8Array, r16: Uint16Array, r32: Int32Array,
  tagR: Int32Array, tagW: Int32Array, toff: Int32Array, dtag: number, n0: number, s0: number,
) => number;

const HOT_BITS = 15;
/** Mask for the heat table index (RAM halfword offset). */
export const HOT_MASK = (1 << HOT_BITS) - 1;
/** Entries of a block start (in the interpreter) before it is translated. */
export const HOT_THRESHOLD = 64;
const MAX_BLOCK = 48;
/**
 * Instructions retired from a start (its entries times its block's length) before a function is
 * built for it. Building costs far more than interpreting a block: V8 parses the source, runs the
 * new function in its own interpreter, then compiles it with its optimizing compiler (milliseconds
 * for a block with memory accesses), so a start must retire about this many instructions to pay
 * that back. A kernel's boot path runs thousands of lukewarm blocks a few hundred times each;
 * translating them all made Linux boot slower than interpreting it (docs/speed.md).
 */
export const BUILD_BUDGET = 1 << 17;
/**
 * Defaults of new code caches. The test suite sets buildBudget to 0 (test/setup.ts), so that the
 * tests comparing the translator with the interpreter build every block entered HOT_THRESHOLD times.
 */
export const jitDefaults: { buildBudget: number; backend: JitBackend } = { buildBudget: BUILD_BUDGET, backend: 'wasm' };
/**
 * Most entries of a start between two looks at its credit. A look costs a trip out of the
 * interpreter's inner loop and a decode of the start's block; the start is built once its own
 * entries have retired the budget whatever this is (each wait is the entries still needed when
 * fewer), so it only bounds how late credit from other frames (the same code exec'd elsewhere) is
 * noticed. 16,384 halved the looks on Linux's boots (1,583 -> 980 decodes) with the same regions
 * built and no change in their time, but made bench/os.ts's fill kernel slower with the same
 * counters but for the looks (0.33-0.36 -> 0.44-0.48 CPU s, alternating runs) and exec no faster,
 * so it stays at 4,096 (docs/speed.md).
 */
const MAX_WAIT = 4096;
/**
 * Entries of a hot start whose region has no loop between two looks: such a start (a routine called
 * from everywhere) stays hot, and xv6's stressfs looked 1,313 times every 4,160 entries, 337 so.
 */
const LOOPLESS_WAIT = 16384;
/**
 * Characters of region source per BUILD_BUDGET a start must retire before its region is built: V8's
 * compile time grows with a function's size, and Linux's boot built regions of 25 to 43 KB that
 * ran no faster than the interpreter (docs/speed.md).
 */
const REGION_SOURCE_UNIT = 4096;

/** Multiple of the build budget a region of this source must retire first (at least 1). */
function regionWeight(source: string): number {
  return Math.max(1, source.length / REGION_SOURCE_UNIT);
}

/** Content keys whose credit is kept before the table restarts. */
const CREDIT_LIMIT = 1 << 16;
/** Shortest block worth a function call (a block that loops back to its start always is). */
const MIN_BLOCK = 3;
/**
 * Instructions on a WebAssembly region's straight path from its entry (blocks that fall or jump into
 * each other) that make it worth building without a loop: each entry then retires at least this many
 * (Linux's blake2s_compress_generic: 1,900 instructions without a branch, 10 % of its boot).
 */
const LONG_PATH = 96;
/** Steps within which a second invalidation of a page doubles its translation threshold. */
const BACKOFF_WINDOW = 2_000_000;
/** Largest threshold shift of a page (its threshold at most HOT_THRESHOLD << this). */
const MAX_BACKOFF = 10;
/** Translated functions remembered by content (pc and instruction bits) before the memo restarts. */
const MEMO_LIMIT = 8192;

/** Words of one page's block-start bitmap (CodeCache.blockBits): a bit per halfword. */
export const BLOCK_BITS_WORDS = 64;
/** blockBits of a code cache outside a WebAssembly arena (no fast run reads it). */
const NO_BITS = new Int32Array(0);

/** What CodeCache.translate did. */
export const enum TranslateResult {
  INSTALLED = 0,
  /**
   * Nothing installed: the memo does not know the block and building was not asked for (a
   * backed-off page), the start has not retired its budget yet, or its region has no loop; the
   * translator has set when the interpreter calls again.
   */
  NOT_YET = 1,
  /** Too short to be a block: fewer than two instructions before one that needs the hart. */
  UNTRANSLATABLE = 2,
}

/** The blocks of one RAM page, indexed by halfword offset within the page. */
export class PageBlocks {
  readonly fn: (BlockFn | undefined)[] = new Array<BlockFn | undefined>(2048).fill(undefined);
  /** Virtual pc each block was translated for. */
  readonly pc = new Int32Array(2048);
  /** Instructions in each block. */
  readonly len = new Int32Array(2048);
  /** Page offset of the lowest byte of each block's code (below its start when it follows a jump back). */
  readonly first = new Int32Array(2048);
  /** Bytes from `first` that span each block's code (breakpoints inside send execution to the interpreter). */
  readonly bytes = new Int32Array(2048);
  /** Words of the page holding each block's code (bit per word, 32 words of 32 bits). */
  readonly words: (Uint32Array | undefined)[] = new Array<Uint32Array | undefined>(2048).fill(undefined);
  /** Each block's code in another page (FarCode), or undefined. */
  readonly far: (FarCode | undefined)[] = new Array<FarCode | undefined>(2048).fill(undefined);
  /** Halfword offsets of the live blocks. */
  readonly starts: number[] = [];
  /** Halfword offsets ever translated (statistics: retranslations). */
  readonly seen = new Uint8Array(2048);
}

/** Translator counters (cheap; for `vmlab run --stats` and bench/os.ts). */
export class JitStats {
  /** Blocks translated (functions built, or reused from the content memo). */
  translations = 0;
  /** Translations of a start that had been translated before (after an invalidation). */
  retranslations = 0;
  /** Translations served from the content memo without building a function. */
  memoHits = 0;
  /** Translations that enter a WebAssembly region installed at another start of the page, at its block there. */
  entered = 0;
  /** Blocks dropped because a store, DMA or reload overwrote their bytes. */
  invalidations = 0;
  /** Stores that dropped at least one block. */
  invalidatingStores = 0;
  /** Stores that took the slow path because their page holds translated code. */
  codePageStores = 0;
  /** Times a page's translation threshold was raised (its code keeps being overwritten). */
  backoffs = 0;
  /** Translated blocks run (each a round trip through the dispatcher). */
  blockRuns = 0;
  /** WebAssembly regions entered from another region without a round trip through the dispatcher. */
  chainedRuns = 0;
  /** Of blockRuns, the regions the interpreter's fast run in WebAssembly entered itself (without leaving for execute's top). */
  fastRunEntries = 0;
  /** Instructions retired inside translated blocks. */
  blockInsns = 0;
  /** Milliseconds spent looking at hot starts' code and building blocks, when a clock is given (first deferrals and entries into installed regions are not timed). */
  translateMs = 0;
  /** Times a hot start was left interpreted: too few instructions retired from it yet (BUILD_BUDGET). */
  deferred = 0;
  /** Times a hot start's code was scanned (decoded to find its block and content key). */
  scans = 0;
  /** Times a start that had retired its budget was left interpreted: its region holds no loop. */
  loopless = 0;

  /** Plain copy for JSON. */
  toJSON(): Record<string, number> {
    return { ...(this as unknown as Record<string, number>) };
  }
}

/** Translated blocks and the bookkeeping of which RAM holds code. */
export class CodeCache {
  /** Per RAM page: its blocks, or undefined when it never held any. */
  readonly pages: (PageBlocks | undefined)[];
  /** Per RAM page: bit i set when chunk i (128 bytes) holds translated code. */
  readonly codeChunks: Uint32Array;
  /** Per 128 bytes of RAM (index: offset >>> 7): bit i set when its word i holds translated code. */
  readonly codeLines: Uint32Array;
  /** Heat of block starts, indexed by RAM halfword offset (collisions only share heat). */
  readonly hot: Int32Array;
  /**
   * Per RAM page: its installed blocks (PageBlocks.starts' length), which the fast run in WebAssembly
   * reads to leave for the top of execute's loop at a jump into such a page.
   */
  readonly liveBlocks: Int32Array;
  /**
   * Bitmaps of pages' block starts (BLOCK_BITS_WORDS words each, bit i for halfword i), one per page
   * with blocks while there are free ones: liveBlocks[page] is 0 for a page without blocks, the
   * bitmap's index + 1, or -1 for a page with blocks and no bitmap (the fast run then leaves at every
   * jump into it). Only the fast run reads them.
   */
  private readonly blockBits: Int32Array;
  /** Bitmaps not in use. */
  private readonly freeBits: number[] = [];
  /**
   * Instructions retired so far from blocks not built yet, by content key (start pc and instruction
   * bits): a program exec'd into other frames each time adds up to one figure.
   */
  private credit = new Map<string, number>();
  /** Budget multiples of starts whose region is large (regionWeight), by content key. */
  private weight = new Map<string, number>();
  /**
   * Content keys (entry block) of starts whose region was found to have no loop: looked at again,
   * such a start is left interpreted without scanning its region. The key covers the entry block
   * only, so a loop that other code of the page gains later goes unnoticed until the set restarts
   * (a flush, or CREDIT_LIMIT keys); that costs speed, never results.
   */
  private loopless = new Set<string>();
  /**
   * Start pcs the memo or the credit table may know (a superset): a start entered HOT_THRESHOLD
   * times whose pc is not here cannot have a built function nor credit from other frames, so its
   * first deferral needs no scan (a kernel's boot defers thousands of lukewarm starts once each).
   */
  private knownPcs = new Set<number>();
  /**
   * knownPcs as a filter the interpreter reads (index: (pc >>> 1) & HOT_MASK, 1 where a pc of the
   * set may fall): a 0 there lets it defer a start's first call itself (firstWait).
   */
  readonly knownPc = new Uint8Array(1 << HOT_BITS);
  /**
   * Per page threshold shift s, the first deferral of a start nothing is known of, as translate
   * would make it: [2s] the entries it still needs (0: none, translate decides), [2s + 1] its
   * `waiting`. The interpreter makes it itself, without calling translate, when the start's page has
   * no installed block either (wide's 2,052 first deferrals; docs/speed.md).
   */
  readonly firstWait = new Int32Array(2 * (MAX_BACKOFF + 1));
  /** Whether anything was translated, deferred or dropped since the last flush (flush clears megabytes; the interpreter sets it when it defers). */
  dirty = false;
  /** Entries of each start until the translator is called again (same index as hot; 0: first call). */
  readonly waiting = new Int32Array(1 << HOT_BITS);
  /** Per RAM page: threshold shift (backoff) and the step of its last invalidation. */
  readonly shift: Uint8Array;
  private readonly lastInvalidation: Float64Array;
  /**
   * By RAM page, the starts (RAM page, halfword index, function) whose region has code there
   * (FarCode); a start dropped or replaced leaves its list (unFar).
   */
  private readonly farStarts = new Map<number, { page: number; i: number; fn: BlockFn }[]>();
  /**
   * Built functions by their entry block's content key (start pc and instruction bits), with the
   * key of their whole region (the source is a function of it) and its blocks' start pcs.
   */
  private memo = new Map<string, { fn: BlockFn; key: string; pcs: number[] }>();
  readonly stats = new JitStats();
  private budget = 0;
  /** Milliseconds clock for stats.translateMs (injected; the engine reads no host clock itself). */
  clock: (() => number) | undefined = undefined;

  /** The WebAssembly backend's runtime, when regions are built as WebAssembly (jit-wasm.ts). */
  readonly wasm: WasmRuntime | undefined;

  /** With `arena`, codeLines, hot and liveBlocks are its views (the WebAssembly code reads them in its memory). */
  constructor(ramSize: number, wasm?: WasmRuntime, arena?: { lines: Uint32Array; hot: Int32Array; liveBlocks: Int32Array; blockBits: Int32Array }) {
    const pages = Math.ceil(ramSize / 4096);
    this.wasm = wasm;
    this.hot = arena?.hot ?? new Int32Array(1 << HOT_BITS);
    this.liveBlocks = arena?.liveBlocks ?? new Int32Array(pages);
    this.blockBits = arena?.blockBits ?? NO_BITS;
    this.freeAllBits();
    this.pages = new Array<PageBlocks | undefined>(pages).fill(undefined);
    this.codeChunks = new Uint32Array(pages);
    this.codeLines = arena?.lines ?? new Uint32Array(pages * 32);
    this.shift = new Uint8Array(pages);
    this.lastInvalidation = new Float64Array(pages).fill(-Infinity);
    this.buildBudget = jitDefaults.buildBudget;
  }

  /** Instructions a start must retire before a function is built for it (0: at HOT_THRESHOLD entries). */
  get buildBudget(): number {
    return this.budget;
  }

  set buildBudget(budget: number) {
    this.budget = budget;
    // Most instructions an entry can retire: a block, or a WebAssembly region's straight line.
    const per = this.wasm !== undefined ? wasmRegion.instructions : MAX_BLOCK;
    for (let s = 0; s <= MAX_BACKOFF; s++) {
      const step = HOT_THRESHOLD << s;
      const need = step * per < budget ? Math.min(MAX_WAIT, Math.ceil((budget - step * per) / per)) : 0;
      this.firstWait[2 * s] = need;
      this.firstWait[2 * s + 1] = need === 0 ? 0 : need + step - HOT_THRESHOLD + step;
    }
  }

  /** Blocks translated so far. */
  get translated(): number {
    return this.stats.translations;
  }

  /** Drops every block (after RAM was rewritten from outside: load, reset, restore). */
  flush(): void {
    this.hot.fill(0);
    if (!this.dirty) return;
    this.dirty = false;
    this.pages.fill(undefined);
    this.liveBlocks.fill(0);
    this.freeAllBits();
    this.wasm?.unlinkAll();
    this.credit.clear();
    this.weight.clear();
    this.loopless.clear();
    this.knownPcs.clear();
    this.knownPc.fill(0);
    this.waiting.fill(0);
    this.codeChunks.fill(0);
    this.codeLines.fill(0);
    this.shift.fill(0);
    this.lastInvalidation.fill(-Infinity);
    this.farStarts.clear();
  }

  /** Every block-start bitmap free (flush). */
  private freeAllBits(): void {
    this.freeBits.length = 0;
    for (let k = this.blockBits.length / BLOCK_BITS_WORDS - 1; k >= 0; k--) this.freeBits.push(k);
  }

  /** Writes `page`'s block starts (pg.starts) into liveBlocks and its bitmap, after they changed. */
  private syncStarts(page: number, pg: PageBlocks): void {
    const live = this.liveBlocks[page];
    if (pg.starts.length === 0) {
      if (live > 0) this.freeBits.push(live - 1);
      this.liveBlocks[page] = 0;
      return;
    }
    let k = live - 1;
    if (k < 0) {
      const free = this.freeBits.pop();
      if (free === undefined) {
        this.liveBlocks[page] = -1;
        return;
      }
      k = free;
      this.liveBlocks[page] = k + 1;
    }
    const bits = this.blockBits;
    const at = k * BLOCK_BITS_WORDS;
    bits.fill(0, at, at + BLOCK_BITS_WORDS);
    for (const i of pg.starts) bits[at + (i >>> 5)] |= 1 << (i & 31);
  }

  /** Whether a store of `size` bytes at RAM offset `off` hits a chunk holding translated code. */
  hitsCode(off: number, size: number): boolean {
    const bits = this.codeChunks[off >>> 12];
    if (bits === 0) return false;
    const first = (off & 0xfff) >>> 7;
    const last = ((off + size - 1) & 0xfff) >>> 7;
    return ((bits >>> first) & 1) !== 0 || ((bits >>> last) & 1) !== 0;
  }

  /**
   * A store of `size` bytes (within one page) at RAM offset `off` at step `now`: drops the blocks
   * whose bytes it overwrites. Returns whether any was dropped.
   */
  written(off: number, size: number, now: number): boolean {
    const page = off >>> 12;
    const pg = this.pages[page];
    const far = this.farStarts.size === 0 ? undefined : this.farStarts.get(page);
    if ((pg === undefined && far === undefined) || !this.hitsCode(off, size)) return false;
    const lo = off & 0xfff;
    const hi = lo + size;
    let dropped = 0;
    if (pg !== undefined) {
      const starts = pg.starts;
      for (let j = starts.length - 1; j >= 0; j--) {
        const i = starts[j];
        const b = pg.first[i];
        if (b < hi && b + pg.bytes[i] > lo && overlaps(pg.words[i]!, lo, hi)) {
          this.unFar(page, pg, i);
          pg.fn[i] = undefined;
          this.wasm?.unlink(page * 4096 + i * 2);
          starts[j] = starts[starts.length - 1];
          starts.pop();
          dropped++;
        }
      }
      this.syncStarts(page, pg);
    }
    const farDropped = far === undefined ? 0 : this.dropFar(page, far, (code) => overlaps(code.words, lo, hi));
    if (dropped === 0 && farDropped === 0) return false;
    this.stats.invalidatingStores++;
    this.dropped(page, dropped, now);
    return true;
  }

  /**
   * Drops the starts listed for RAM page `page` (farStarts) whose code there `hit` says was
   * overwritten, and forgets the stale entries; returns how many it dropped. The caller marks
   * `page`'s code words again.
   */
  private dropFar(page: number, list: { page: number; i: number; fn: BlockFn }[], hit: (code: FarCode) => boolean): number {
    let n = 0;
    for (let j = list.length - 1; j >= 0; j--) {
      const e = list[j];
      const pg = this.pages[e.page];
      const live = pg !== undefined && pg.fn[e.i] === e.fn;
      if (live && !hit(pg.far[e.i]!)) continue;
      list[j] = list[list.length - 1];
      list.pop();
      if (!live) continue;
      pg.fn[e.i] = undefined;
      pg.far[e.i] = undefined;
      this.wasm?.unlink(e.page * 4096 + e.i * 2);
      const k = pg.starts.indexOf(e.i);
      if (k >= 0) {
        pg.starts[k] = pg.starts[pg.starts.length - 1];
        pg.starts.pop();
      }
      this.syncStarts(e.page, pg);
      // The start's own code is as it was: its page's backoff stays (the written page takes one).
      this.dirty = true;
      this.stats.invalidations++;
      this.remark(e.page);
      n++;
    }
    if (list.length === 0) this.farStarts.delete(page);
    return n;
  }

  /**
   * Forgets the RAM page containing `off` entirely: its blocks and its history of invalidations
   * (the page changed hands, or was rewritten from outside, and starts afresh).
   */
  releasePage(off: number): void {
    const page = off >>> 12;
    const pg = this.pages[page];
    if (pg !== undefined) {
      for (const i of pg.starts) {
        this.unFar(page, pg, i);
        pg.fn[i] = undefined;
        this.wasm?.unlink(page * 4096 + i * 2);
      }
      pg.starts.length = 0;
      this.syncStarts(page, pg);
    }
    const far = this.farStarts.get(page);
    if (far !== undefined) this.dropFar(page, far, () => true);
    this.codeChunks[page] = 0;
    this.codeLines.fill(0, page * 32, page * 32 + 32);
    this.shift[page] = 0;
    this.lastInvalidation[page] = -Infinity;
  }

  /** Drops the blocks of the RAM page containing `off` (DMA or a host write into it). */
  invalidatePage(off: number, now = 0): void {
    const page = off >>> 12;
    const pg = this.pages[page];
    const far = this.farStarts.get(page);
    const farDropped = far === undefined ? 0 : this.dropFar(page, far, () => true);
    if (pg === undefined || pg.starts.length === 0) {
      if (farDropped === 0) {
        this.codeChunks[page] = 0;
        this.codeLines.fill(0, page * 32, page * 32 + 32);
      } else {
        this.dropped(page, 0, now);
      }
      return;
    }
    const n = pg.starts.length;
    for (const i of pg.starts) {
      this.unFar(page, pg, i);
      pg.fn[i] = undefined;
      this.wasm?.unlink(page * 4096 + i * 2);
    }
    pg.starts.length = 0;
    this.syncStarts(page, pg);
    this.dropped(page, n, now);
  }

  /** Marks the code words of RAM page `page` given by `words`; returns the page's chunks they touch. */
  private markWords(page: number, words: Uint32Array): number {
    let bits = 0;
    for (let c = 0; c < 32; c++) {
      if (words[c] === 0) continue;
      this.codeLines[page * 32 + c] |= words[c];
      bits |= 1 << c;
    }
    return bits;
  }

  /** After `n` blocks of RAM page `page` were dropped (or blocks elsewhere with code in it): its code words again, and its backoff. */
  private dropped(page: number, n: number, now: number): void {
    this.dirty = true;
    this.stats.invalidations += n;
    this.remark(page);
    // Code overwritten soon after the last overwrite: wait longer before translating it again.
    if (now - this.lastInvalidation[page] < BACKOFF_WINDOW) {
      if (this.shift[page] < MAX_BACKOFF) {
        this.shift[page]++;
        this.stats.backoffs++;
      }
    } else if (this.shift[page] > 0) {
      this.shift[page]--;
    }
    this.lastInvalidation[page] = now;
  }

  /** Marks the code words of RAM page `page` again: its live blocks' and the far code there of live starts elsewhere. */
  private remark(page: number): void {
    let bits = 0;
    this.codeLines.fill(0, page * 32, page * 32 + 32);
    const pg = this.pages[page];
    if (pg !== undefined) for (const i of pg.starts) bits |= this.markWords(page, pg.words[i]!);
    const far = this.farStarts.get(page);
    if (far !== undefined) {
      for (const e of far) {
        const home = this.pages[e.page];
        if (home !== undefined && home.fn[e.i] === e.fn) bits |= this.markWords(page, home.far[e.i]!.words);
      }
    }
    this.codeChunks[page] = bits >>> 0;
  }

  /**
   * Translates the block at RAM offset `off` (virtual `pc`) if it has enough instructions; returns
   * what it did. Without `build`, only a function the memo holds is installed.
   */
  translate(h: Hart, off: number, pc: number, build = true): TranslateResult {
    const page = off >>> 12;
    const hi = (off >>> 1) & HOT_MASK;
    this.dirty = true;
    const step = HOT_THRESHOLD << this.shift[page];
    // A block of a WebAssembly region installed in this page: entered there, nothing built.
    if (build && this.wasm !== undefined && this.enterInstalled(h, off, pc)) {
      this.waiting[hi] = 0;
      return TranslateResult.INSTALLED;
    }
    if (this.waiting[hi] === 0 && !this.knownPcs.has(pc) && this.firstWait[2 * this.shift[page]] !== 0) {
      // The first call for a start nothing is known of: no function to reuse, and its entries so
      // far cannot have retired the budget. Come back when they might have (blocks of MAX_BLOCK).
      if (build) {
        const s = this.shift[page];
        this.hot[hi] = HOT_THRESHOLD - this.firstWait[2 * s];
        this.waiting[hi] = this.firstWait[2 * s + 1];
        this.stats.deferred++;
      }
      return TranslateResult.NOT_YET;
    }
    // The clock (statistics) is read only around a look at the code: the calls above, most of
    // them (wide's 2,052 calls are all first deferrals), cost less than reading it twice.
    const clock = this.clock;
    if (clock === undefined) return this.translateScanned(h, off, pc, build, hi, step);
    const t0 = clock();
    const result = this.translateScanned(h, off, pc, build, hi, step);
    this.stats.translateMs += clock() - t0;
    return result;
  }

  /**
   * translate for a start that needs a look at its code (a separate function: translate, mostly
   * deferring, stays small for V8 to compile).
   */
  private translateScanned(h: Hart, off: number, pc: number, build: boolean, hi: number, step: number): TranslateResult {
    // A cheap scan (decode only, the entry block alone) gives the start's content key.
    const entry = scanEntry(h, off, pc);
    this.stats.scans++;
    let scan: Scanned | undefined;
    let fn: BlockFn | undefined;
    let result = TranslateResult.INSTALLED;
    const known = entry === undefined ? undefined : this.memo.get(entry.key);
    if (known !== undefined) {
      // The memo knows the entry block: the whole region must match too.
      scan = scanRegion(h, off, pc, false, known.pcs);
      if (scan !== undefined && scan.key === known.key) {
        fn = known.fn;
        this.stats.memoHits++;
      }
    }
    if (entry === undefined) {
      result = TranslateResult.UNTRANSLATABLE;
    } else if (fn === undefined) {
      // Since the last call the start was entered `waiting` times (HOT_THRESHOLD << shift the first time).
      const entries = this.waiting[hi] !== 0 ? this.waiting[hi] : step;
      const credit = (this.credit.get(entry.key) ?? 0) + (build ? entries * entry.length : 0);
      const required = this.buildBudget * (this.weight.get(entry.key) ?? 1);
      if (!build || credit < required) {
        result = TranslateResult.NOT_YET;
        if (build) this.defer(hi, step, pc, entry, credit, required);
      } else {
        // A region without a loop runs each of its blocks once per call: with the budget on, it is
        // left to the interpreter, which runs such code as fast (Linux's boot: 18 instructions per
        // region run, 10 ns each, no faster than interpreted, after a build and V8 compiles that
        // cost more than the boot gained; docs/speed.md).
        const needLoop = this.buildBudget > 0;
        const knownLoopless = needLoop && this.loopless.has(entry.key);
        scan = knownLoopless ? undefined : scanRegion(h, off, pc, true, undefined, needLoop);
        if (knownLoopless || (needLoop && scan !== undefined && !scan.loops)) {
          // Hot and still without a loop: look again after LOOPLESS_WAIT entries (such a start, a
          // routine called from everywhere, stays hot; xv6's stressfs looked 1,313 times).
          this.stats.loopless++;
          if (this.loopless.size >= CREDIT_LIMIT) this.loopless = new Set<string>();
          this.loopless.add(entry.key);
          this.hot[hi] = HOT_THRESHOLD - LOOPLESS_WAIT;
          this.waiting[hi] = LOOPLESS_WAIT;
          scan = undefined;
          result = TranslateResult.NOT_YET;
        } else if (scan === undefined) {
          result = TranslateResult.UNTRANSLATABLE;
        } else if (needLoop && this.wasm === undefined && credit < this.buildBudget * regionWeight(scan.source)) {
          // A large region costs V8 more to compile: its start must retire a larger budget first.
          this.weight.set(entry.key, regionWeight(scan.source));
          this.defer(hi, step, pc, entry, credit, this.buildBudget * regionWeight(scan.source));
          result = TranslateResult.NOT_YET;
        } else {
          fn = this.wasm !== undefined ? this.wasm.build(scan.blocks, scan.index, scan.far) : buildBlock(scan.source);
          // A WebAssembly region the memo lets go of gives its table slot back once it is not installed.
          if (this.wasm !== undefined) {
            if (this.memo.size >= MEMO_LIMIT) for (const m of this.memo.values()) this.wasm.forget(m.fn);
            else if (known !== undefined) this.wasm.forget(known.fn);
          }
          if (this.memo.size >= MEMO_LIMIT) this.memo = new Map();
          this.memo.set(entry.key, { fn, key: scan.key, pcs: scan.pcs });
          this.knowPc(pc);
        }
      }
    }
    if (result !== TranslateResult.INSTALLED || entry === undefined || scan === undefined || fn === undefined) {
      return result;
    }
    this.credit.delete(entry.key);
    this.weight.delete(entry.key);
    this.waiting[hi] = 0;
    this.install(h, off, pc, fn, scan.length, scan.first, scan.bytes, scan.words, scan.far);
    // WebAssembly regions chain to it from now on (until it is dropped).
    this.wasm?.link(off, pc, fn, scan.length);
    return TranslateResult.INSTALLED;
  }

  /** Puts `fn` at RAM offset `off` (virtual `pc`): its entry block's length, the span and words of its code, and its code in another page. */
  private install(h: Hart, off: number, pc: number, fn: BlockFn, len: number, first: number, bytes: number, words: Uint32Array, far: FarCode | undefined): void {
    const page = off >>> 12;
    let pg = this.pages[page];
    if (pg === undefined) pg = this.pages[page] = new PageBlocks();
    const i = (off & 0xfff) >>> 1;
    if (pg.fn[i] === undefined) pg.starts.push(i);
    else this.unFar(page, pg, i);
    pg.fn[i] = fn;
    this.syncStarts(page, pg);
    pg.pc[i] = pc;
    pg.len[i] = len;
    pg.first[i] = first;
    pg.bytes[i] = bytes;
    pg.words[i] = words;
    pg.far[i] = far;
    if (pg.seen[i] !== 0) this.stats.retranslations++;
    pg.seen[i] = 1;
    this.stats.translations++;
    const bits = this.codeChunks[page];
    this.codeChunks[page] = (bits | this.markWords(page, words)) >>> 0;
    if (bits === 0) h.codePageAdded(page);
    if (far !== undefined) {
      // Stores into the far code drop the region (written), as stores into its own page do.
      const fbits = this.codeChunks[far.page];
      this.codeChunks[far.page] = (fbits | this.markWords(far.page, far.words)) >>> 0;
      if (fbits === 0) h.codePageAdded(far.page);
      let list = this.farStarts.get(far.page);
      if (list === undefined) this.farStarts.set(far.page, (list = []));
      list.push({ page, i, fn });
    }
  }

  /**
   * Start `i` of RAM page `page` is dropped or replaced: its region's code in another page no
   * longer counts there (its words are marked again without it, so stores there are fast again
   * once no other code is left).
   */
  private unFar(page: number, pg: PageBlocks, i: number): void {
    const far = pg.far[i];
    if (far === undefined) return;
    pg.far[i] = undefined;
    const list = this.farStarts.get(far.page);
    if (list !== undefined) {
      const k = list.findIndex((e) => e.page === page && e.i === i);
      if (k >= 0) {
        list[k] = list[list.length - 1];
        list.pop();
      }
      if (list.length === 0) this.farStarts.delete(far.page);
    }
    this.remark(far.page);
  }

  /**
   * When a WebAssembly region installed at another start of this page has a block at RAM offset
   * `off` for `pc` (a start that turns hot inside a region: a loop's head reached from outside, a
   * call's return point), installs the entry into that block there and returns true. The entry
   * shares the region's code words and span, so whatever drops the region (a store into its code,
   * DMA, a released page, a flush) drops the entry too.
   */
  private enterInstalled(h: Hart, off: number, pc: number): boolean {
    const wasm = this.wasm!;
    const at = wasm.blockAt(off, pc);
    const pg = this.pages[off >>> 12];
    if (at === undefined || pg === undefined) return false;
    const k = pg.starts.find((j) => pg.fn[j] === at.owner);
    if (k === undefined) return false;
    const fn = wasm.enter(off, pc, at.owner, at.block, at.len);
    this.install(h, off, pc, fn, at.len, pg.first[k], pg.bytes[k], pg.words[k]!, pg.far[k]);
    this.stats.entered++;
    return true;
  }

  /**
   * Leaves a start interpreted for now, with `credit` instructions retired from it, and tells the
   * interpreter to call again (HOT_THRESHOLD << shift entries after the count passes
   * HOT_THRESHOLD) once `required` is retired, or sooner to notice other frames' share.
   */
  private defer(hi: number, step: number, pc: number, entry: { key: string; length: number }, credit: number, required: number): void {
    const need = Math.min(MAX_WAIT, Math.ceil((required - credit) / entry.length));
    this.hot[hi] = HOT_THRESHOLD - need;
    this.waiting[hi] = need + step - HOT_THRESHOLD;
    if (this.credit.size >= CREDIT_LIMIT) {
      this.credit = new Map();
      this.weight = new Map();
    }
    this.credit.set(entry.key, credit);
    this.knowPc(pc);
    this.stats.deferred++;
  }

  /** Notes that the memo or the credit table holds something for start `pc`. */
  private knowPc(pc: number): void {
    if (this.knownPcs.size >= MEMO_LIMIT + CREDIT_LIMIT) {
      // Rebuilt from the tables, which restart on their own.
      this.knownPcs = new Set<number>();
      for (const m of this.memo.values()) this.knownPcs.add(m.pcs[0]);
      for (const k of this.credit.keys()) this.knownPcs.add(Number(k.slice(0, k.indexOf(':'))));
      this.knownPc.fill(0);
      for (const p of this.knownPcs) this.knownPc[(p >>> 1) & HOT_MASK] = 1;
    }
    this.knownPcs.add(pc);
    this.knownPc[(pc >>> 1) & HOT_MASK] = 1;
  }
}

/** Whether bytes [lo, hi) of a page touch a word set in `words` (bit per word of the page). */
function overlaps(words: Uint32Array, lo: number, hi: number): boolean {
  for (let l = lo >>> 2; l <= (hi - 1) >>> 2; l++) if (((words[l >>> 5] >>> (l & 31)) & 1) !== 0) return true;
  return false;
}

const R = (r: number): string => (r === 0 ? '0' : `x[${r}]`);

/**
 * The JavaScript expression of an instruction that only computes rd from registers and constants
 * (x[] holds the registers, h the hart), or undefined for every other instruction. The block
 * translator and bt's translator both emit these the same way.
 */
export function aluExpr(id: number, w: number, pc: number, reg: (r: number) => string = R): string | undefined {
  const rs1 = (w >>> 15) & 31;
  const rs2 = (w >>> 20) & 31;
  const immI = w >> 20;
  const a = reg(rs1);
  const b = reg(rs2);
  switch (id) {
    case Op.LUI: return String(w & 0xfffff000);
    case Op.AUIPC: return String((pc + (w & 0xfffff000)) | 0);
    case Op.ADDI: return `(${a} + ${immI}) | 0`;
    case Op.SLTI: return `${a} < ${immI} ? 1 : 0`;
    case Op.SLTIU: return `${a} >>> 0 < ${immI >>> 0} ? 1 : 0`;
    case Op.XORI: return `${a} ^ ${immI}`;
    case Op.ORI: return `${a} | ${immI}`;
    case Op.ANDI: return `${a} & ${immI}`;
    case Op.SLLI: return `${a} << ${rs2}`;
    case Op.SRLI: return `(${a} >>> ${rs2}) | 0`;
    case Op.SRAI: return `${a} >> ${rs2}`;
    case Op.ADD: return `(${a} + ${b}) | 0`;
    case Op.SUB: return `(${a} - ${b}) | 0`;
    case Op.SLL: return `${a} << (${b} & 31)`;
    case Op.SLT: return `${a} < ${b} ? 1 : 0`;
    case Op.SLTU: return `${a} >>> 0 < ${b} >>> 0 ? 1 : 0`;
    case Op.XOR: return `${a} ^ ${b}`;
    case Op.SRL: return `(${a} >>> (${b} & 31)) | 0`;
    case Op.SRA: return `${a} >> (${b} & 31)`;
    case Op.OR: return `${a} | ${b}`;
    case Op.AND: return `${a} & ${b}`;
    case Op.MUL: return `Math.imul(${a}, ${b})`;
    case Op.MULH: case Op.MULHSU: case Op.MULHU:
    case Op.DIV: case Op.DIVU: case Op.REM: case Op.REMU:
      return `h.mulDiv(${id}, ${a}, ${b})`;
    default: return undefined;
  }
}

/** A scanned region: its content key, JavaScript body (when asked for), extent and code words. */
interface Scanned {
  /** Start pc and instruction bits in scan order (the body is a function of them). */
  key: string;
  source: string;
  /** Instructions of the entry block (the dispatcher runs the region only when they fit the slice). */
  length: number;
  /** Page offset of the lowest code byte, and the bytes from there past the highest. */
  first: number;
  bytes: number;
  /** Bit per word of the page (32 words of 32 bits) holding code of the region. */
  words: Uint32Array;
  /** Start pcs of the region's blocks. */
  pcs: number[];
  /**
   * Whether a block of the region branches or jumps back to a block of the region at or before it,
   * or (WebAssembly) its straight path from the entry is LONG_PATH instructions or more.
   */
  loops: boolean;
  /** The blocks, and block index by pc (-1: not in the region). */
  blocks: RBlock[];
  index: Map<number, number>;
  /** The blocks' code in another page (a WebAssembly region's callee there), or undefined. */
  far: FarCode | undefined;
}

/**
 * Code of a WebAssembly region in a page other than its start's (jit-wasm.ts): the blocks of a
 * routine its start's page calls (SLOB's slob_next, called from slob_page_alloc's loop in the next
 * page, ran 715 k calls of nommu Linux's boot as two regions chaining). The region goes on into
 * them only while the TLB still maps their virtual page to the same RAM page for the same fetch
 * context (the tag and offset it was built with), and a store into them drops the region as one
 * into its own page does.
 */
export interface FarCode {
  /** RAM page number. */
  page: number;
  /** Virtual address of the lowest code byte, and the bytes from there past the highest (breakpoints). */
  va: number;
  bytes: number;
  /** Bit per word of the page holding the region's code there. */
  words: Uint32Array;
  /** The TLB's fetch tag (vpn | fetch context) and offset (RAM offset less virtual address) for the page. */
  tag: number;
  toff: number;
}

/** Instructions a block may contain (everything else ends the block before it). */
function simple(id: number, hasM: boolean): boolean {
  if (id >= Op.MUL && id <= Op.REMU) return hasM;
  return (id >= Op.LUI && id <= Op.AND) || id === Op.FENCE || id === Op.FENCE_TSO || id === Op.PAUSE;
}

/**
 * Most instructions of a region (all its blocks), and most blocks. Larger regions (48 blocks, 384
 * instructions) ran CoreMark 5 % and matmul 15 % faster but sort half as fast (2.8 against 1.9 CPU
 * s): V8 drops a function's optimized code the first time one of its paths runs that had not run
 * when it was compiled, and a large region of data-dependent branches keeps meeting new ones.
 */
const MAX_REGION = 96;
const MAX_REGION_BLOCKS = 6;
/**
 * The same limits for WebAssembly regions (jit-wasm.ts), which V8 never deoptimizes: a path that
 * first runs late costs nothing, so a region may take in more of its page.
 */
export const wasmRegion = { instructions: 384, blocks: 48, straight: 1024 };
/**
 * Page caches of one self-looping block. Each of its slow calls forgets them all, so their code
 * grows with the square of their number: Linux's unrolled copy loop (32 loads and stores) made a
 * 43 KB region, and V8's compile of it cost more than the loop gained.
 */
const MAX_PAGE_CACHES = 8;

/** How a block of a region ends (both backends read it). */
export const enum End {
  /** Falls through to `next` (an instruction the hart must run, the page's end, MAX_BLOCK). */
  FALL = 0,
  BRANCH = 1,
  /** jal, or jalr whose target is known at translation time (auipc/lui earlier in the block). */
  JUMP = 2,
  /** jalr on a register. */
  JALR = 3,
}

/** One straight-line block of a region. */
interface RBlock {
  pc: number;
  /** Instruction ids, bits and pcs. */
  ids: number[];
  ws: number[];
  pcs: number[];
  end: End;
  /** Branch or jump target (BRANCH, JUMP), and the pc after the last instruction. */
  target: number;
  next: number;
}

/** Scratch for scanOne's known register values. */
const KNOWN = new Int32Array(32);

/**
 * Scans one block at virtual `pc` of the page at RAM offset `pageOff`: up to MAX_BLOCK instructions
 * to the first control transfer or instruction the hart must run. Adds its halfwords to `bits`.
 */
function scanOne(h: Hart, pageOff: number, pc: number, bits: number[], words: Uint32Array, span: number[]): RBlock {
  const r16 = h.bus.ram16;
  const hasC = h.features.c;
  const hasM = h.features.m;
  const b: RBlock = { pc, ids: [], ws: [], pcs: [], end: End.FALL, target: 0, next: pc };
  let vpc = pc;
  // Registers holding a value known at translation time (set by auipc or lui in this block), so
  // that auipc + jalr (a far call) has a known target too: bit r of knownMask, value in known[r].
  let knownMask = 0;
  const known = KNOWN;
  while (b.ids.length < MAX_BLOCK) {
    // Blocks never cross the page's end (the next page may map anywhere, or nowhere).
    if (vpc >>> 12 !== pc >>> 12) break;
    const inPage = vpc & 0xfff;
    if (inPage > 0xffe) break;
    const cur = pageOff + inPage;
    let raw = r16[cur >> 1];
    let size = 4;
    let w: number;
    if ((raw & 3) === 3) {
      if (inPage === 0xffe) break;
      raw = (raw | (r16[(cur >> 1) + 1] << 16)) | 0;
      w = raw;
    } else {
      if (!hasC) break;
      w = EXPAND_C[raw];
      size = 2;
    }
    let id = DECODE_BUCKET[(w & 0x7f) | ((w >>> 5) & 0x380)];
    if (id < 0) id = decodeSlow(w, id);
    if (!simple(id, hasM)) break;
    if (!hasC && misalignedTarget(id, w, vpc)) break;
    const next = (vpc + size) | 0;
    bits.push(raw & 0xffff, raw >>> 16);
    span[0] = Math.min(span[0], inPage);
    span[1] = Math.max(span[1], inPage + size);
    for (let l = inPage >>> 2; l <= (inPage + size - 1) >>> 2; l++) words[l >>> 5] |= 1 << (l & 31);
    b.ids.push(id);
    b.ws.push(w);
    b.pcs.push(vpc);
    vpc = next;
    b.next = next;
    const rd = (w >>> 7) & 31;
    const rs1 = (w >>> 15) & 31;
    if (id === Op.JAL) {
      b.end = End.JUMP;
      b.target = controlTarget(id, w, b.pcs[b.pcs.length - 1]);
      break;
    }
    if (id === Op.JALR) {
      const t = ((known[rs1] + (w >> 20)) & ~1) | 0;
      b.end = ((knownMask >>> rs1) & 1) !== 0 && (hasC || (t & 2) === 0) ? End.JUMP : End.JALR;
      b.target = t;
      break;
    }
    if (id >= Op.BEQ && id <= Op.BGEU) {
      b.end = End.BRANCH;
      b.target = controlTarget(id, w, b.pcs[b.pcs.length - 1]);
      break;
    }
    const writesRd = !(id >= Op.SB && id <= Op.SW) && id !== Op.FENCE && id !== Op.FENCE_TSO && id !== Op.PAUSE;
    if (writesRd && rd !== 0) {
      if (id === Op.AUIPC || id === Op.LUI) {
        known[rd] = id === Op.LUI ? w & 0xfffff000 : (b.pcs[b.pcs.length - 1] + (w & 0xfffff000)) | 0;
        knownMask |= 1 << rd;
      } else {
        knownMask &= ~(1 << rd);
      }
    }
  }
  return b;
}

/**
 * The entry block at RAM offset `off` (virtual `pc`): its content key (start pc and instruction
 * bits) and length, or undefined when no region can start there (no instruction, or a block too
 * short to be worth a call that branches nowhere within its page).
 */
function scanEntry(h: Hart, off: number, pc: number): { key: string; length: number } | undefined {
  const bits = BITS;
  bits.length = 0;
  const b = scanOne(h, off - (off & 0xfff), pc, bits, SCRATCH_WORDS, [0, 0]);
  const n = b.ids.length;
  if (n === 0) return undefined;
  const inPage = (t: number): boolean => t >>> 12 === pc >>> 12;
  const goes = (b.end === End.BRANCH && (inPage(b.target) || inPage(b.next))) || (b.end === End.JUMP && inPage(b.target));
  if (n < MIN_BLOCK && !goes) return undefined;
  const key = `${pc}:${String.fromCharCode(...bits)}`;
  // A full block that falls into more of the page runs on in a WebAssembly region: each entry retires
  // the whole straight line (an unrolled hash round: 1,900 instructions without a branch).
  let length = n;
  if (h.code?.wasm !== undefined) {
    let c = b;
    while (c.end === End.FALL && c.ids.length === MAX_BLOCK && length + MAX_BLOCK <= wasmRegion.straight && c.next >>> 12 === pc >>> 12) {
      c = scanOne(h, off - (off & 0xfff), c.next, bits, SCRATCH_WORDS, [0, 0]);
      length += c.ids.length;
    }
  }
  return { key, length };
}

/** Code words of scanEntry's block (unused). */
const SCRATCH_WORDS = new Uint32Array(32);

/** Halfwords of the region's instructions, for its memo key (scratch). */
const BITS: number[] = [];

/**
 * Scans the region at RAM offset `off` (virtual `pc`): the block starting there and every block
 * of the same page that it reaches by a branch or a direct jump, breadth first, up to MAX_REGION
 * instructions. Its function runs the blocks in a loop with a switch on the block's pc, so branches
 * and jumps between them (loops, if/else, calls within the page) never return to the dispatcher;
 * registers live in locals, written back when the function leaves. With `only`, exactly the
 * blocks starting at those pcs join (the memo checks a region built before). Undefined when too
 * short to be worth a call.
 */
function scanRegion(h: Hart, off: number, pc: number, withCode: boolean, only?: readonly number[], needLoop = false): Scanned | undefined {
  const pageOff = off - (off & 0xfff);
  const vpage = pc >>> 12;
  const hasC = h.features.c;
  const bits = BITS;
  bits.length = 0;
  const words = new Uint32Array(32);
  const span = [off & 0xfff, off & 0xfff];
  const blocks: RBlock[] = [scanOne(h, pageOff, pc, bits, words, span)];
  if (blocks[0].ids.length === 0) return undefined;
  // Block index by pc; -1: not in the region (its pc is left to the dispatcher).
  const index = new Map<number, number>([[pc, 0]]);
  const wasm = h.code?.wasm !== undefined;
  const maxBlocks = wasm ? wasmRegion.blocks : MAX_REGION_BLOCKS;
  const maxInsns = wasm ? wasmRegion.instructions : MAX_REGION;
  let total = blocks[0].ids.length;
  let internal = false;
  // A WebAssembly region's blocks in one other virtual page (FarCode), where the TLB maps it now
  // for this fetch context to another RAM page: its RAM page offset, code words and span.
  let farVpage = -1;
  let farOff = 0;
  let farTag = 0;
  let farToff = 0;
  const farWords = new Uint32Array(32);
  const farSpan = [4096, 0];
  const farPage = (vp: number): boolean => {
    if (farVpage >= 0) return vp === farVpage;
    const ti = vp & TLB_MASK;
    const tlb = h.tlb;
    if (tlb.tagX[ti] !== (vp | h.fetchTag)) return false;
    const o = ((vp << 12) + tlb.off[ti]) | 0;
    // Not the start's own RAM page, nor one whose code was overwritten lately (its backoff).
    if (o === pageOff || h.code!.shift[o >>> 12] !== 0) return false;
    farVpage = vp;
    farOff = o;
    farTag = vp | h.fetchTag;
    farToff = tlb.off[ti];
    return true;
  };
  // Every block reached joins (taking only the blocks whose start the interpreter had entered made
  // exec's and mixed's regions two to three times shorter: a start's heat restarts when a region
  // is installed there, and blocks run inside regions are never counted).
  const inRegion = (t: number, cap = maxInsns): boolean => {
    if (!hasC && (t & 2) !== 0) return false;
    const near = t >>> 12 === vpage;
    if (!near && !(wasm && farPage(t >>> 12))) return false;
    let i = index.get(t);
    if (i === undefined) {
      i = -1;
      if ((only === undefined || only.includes(t)) && blocks.length < maxBlocks && total + MAX_BLOCK <= cap) {
        const mark = bits.length;
        const b = near ? scanOne(h, pageOff, t, bits, words, span) : scanOne(h, farOff, t, bits, farWords, farSpan);
        if (b.ids.length > 0) {
          i = blocks.length;
          blocks.push(b);
          total += b.ids.length;
        } else {
          bits.length = mark;
        }
      }
      index.set(t, i);
    }
    if (i >= 0) internal = true;
    return i >= 0;
  };
  for (let j = 0; j < blocks.length; j++) {
    const b = blocks[j];
    if (b.end === End.BRANCH) {
      inRegion(b.target);
      inRegion(b.next);
    } else if (b.end === End.JUMP) {
      inRegion(b.target);
      // A call's return point joins a WebAssembly region too, so that the callee's return goes on
      // into the region there (jit-wasm.ts chains regions at any of their blocks).
      if (wasm && ((b.ws[b.ws.length - 1] >>> 7) & 31) !== 0) inRegion(b.next);
    } else if (b.end === End.JALR) {
      if (wasm && ((b.ws[b.ws.length - 1] >>> 7) & 31) !== 0) inRegion(b.next);
    } else if (b.end === End.FALL && b.ids.length === MAX_BLOCK) {
      // A straight line runs on to its page's end in a WebAssembly region.
      inRegion(b.next, wasm ? wasmRegion.straight : maxInsns);
    }
  }
  if (total < MIN_BLOCK && !internal) return undefined;
  const hasFar = farSpan[1] > farSpan[0];
  // The far page's RAM offset is part of the content: the region's guard holds it.
  const key = `${pc}:${String.fromCharCode(...bits)}${hasFar ? `@${farOff}` : ''}`;
  let loops = false;
  for (const b of blocks) {
    if (b.end !== End.BRANCH && b.end !== End.JUMP) continue;
    const i = index.get(b.target);
    if (i !== undefined && i >= 0 && b.target <= b.pc && b.target >>> 12 === b.pc >>> 12) loops = true;
  }
  if (!loops && wasm && straightPath(blocks, index) >= LONG_PATH) loops = true;
  const far: FarCode | undefined = hasFar
    ? { page: farOff >>> 12, va: ((farVpage << 12) + farSpan[0]) | 0, bytes: farSpan[1] - farSpan[0], words: farWords, tag: farTag, toff: farToff }
    : undefined;
  const result: Scanned = { key, source: '', length: blocks[0].ids.length, first: span[0], bytes: span[1] - span[0], words, pcs: blocks.map((b) => b.pc), loops, blocks, index, far };
  if (withCode && (loops || !needLoop) && !wasm) result.source = regionSource(h, blocks, index, internal);
  return result;
}

/** Instructions from a region's entry on its straight path (falls and direct jumps within it). */
function straightPath(blocks: RBlock[], index: Map<number, number>): number {
  let n = 0;
  let b: RBlock | undefined = blocks[0];
  for (let k = 0; b !== undefined && k < blocks.length; k++) {
    n += b.ids.length;
    const t: number = b.end === End.FALL ? b.next : b.end === End.JUMP ? b.target : -1;
    const i: number | undefined = t === -1 ? undefined : index.get(t);
    b = i !== undefined && i >= 0 ? blocks[i] : undefined;
  }
  return n;
}

/** Local holding guest register r within a region. */
const L = (r: number): string => (r === 0 ? '0' : `g${r}`);

/** JavaScript of a region's blocks (see scanRegion). */
function regionSource(h: Hart, blocks: RBlock[], index: Map<number, number>, internal: boolean): string {
  const hasC = h.features.c;
  // Registers the region writes (written back when it leaves or calls the hart); every register
  // it names lives in a local.
  let written = 0;
  for (const b of blocks) {
    for (let k = 0; k < b.ids.length; k++) {
      const rd = (b.ws[k] >>> 7) & 31;
      if (writesRd(b.ids[k]) && rd !== 0) written |= 1 << rd;
    }
  }
  const wb: string[] = [];
  for (let r = 1; r < 32; r++) if (((written >>> r) & 1) !== 0) wb.push(`x[${r}] = g${r};`);
  const writeBack = wb.join(' ');
  const body: string[] = [];
  const lenOf = (t: number): number => blocks[index.get(t)!].ids.length;
  // Leaving for pc `t` after the block's `k` instructions: on to another block of the region while
  // the slice has room for it, or back to the dispatcher.
  const goTo = (t: number, k: number): string => {
    const i = index.get(t);
    const count = `tot += ${k};`;
    if (i === undefined || i < 0) return `${count} h.pc = ${t}; break out;`;
    return `${count} if (s0 + tot + ${lenOf(t)} > end) { h.pc = ${t}; break out; } bpc = ${t}; continue;`;
  };
  // Per memory instruction of a self-looping block (the first MAX_PAGE_CACHES of each): the virtual
  // page its last fast access went to (cpN, -1: none) and that page's RAM offset (coN), so later
  // passes skip the TLB's tag check. A block's caches are forgotten when its loop is entered and
  // after each of its slow calls (they are read nowhere else).
  let caches = 0;
  let selfLoops = false;
  for (const b of blocks) {
    const lines: string[] = [];
    const n = b.ids.length;
    // A block whose branch goes back to its own start runs its passes in an inner loop: no switch
    // dispatch, and one test of the slice per pass against a bound computed when it changes.
    const self = b.end === End.BRANCH && b.target === b.pc && n > 1;
    const firstCache = caches;
    for (let k = 0; k < n; k++) {
      const id = b.ids[k];
      const w = b.ws[k];
      const ipc = b.pcs[k];
      const next = k + 1 < n ? b.pcs[k + 1] : b.next;
      const last = k === n - 1;
      if (last && b.end !== End.FALL) {
        const rd = (w >>> 7) & 31;
        const link = rd === 0 ? '' : `g${rd} = ${next};`;
        if (self) {
          const cond = branchCond(id, w);
          lines.push(`tot += ${n}; if (!(${cond})) break; if (tot > lim) { h.pc = ${b.pc}; break out; }\n}\n${goTo(b.next, 0)}`);
        } else if (b.end === End.BRANCH) {
          const cond = branchCond(id, w);
          lines.push(`if (${cond}) { ${goTo(b.target, n)} } else { ${goTo(b.next, n)} }`);
        } else if (b.end === End.JUMP) {
          lines.push(`${link} ${goTo(b.target, n)}`);
        } else {
          const rs1 = (w >>> 15) & 31;
          const check = hasC ? '' : `if ((v & 2) !== 0) { h.pc = ${ipc}; tot += ${k}; tk = 2; break out; }`;
          lines.push(`v = ((${L(rs1)} + ${w >> 20}) & ~1) | 0; ${check} ${link} tot += ${n}; h.pc = v; break out;`);
        }
        continue;
      }
      const memory = (id >= Op.LB && id <= Op.LHU) || (id >= Op.SB && id <= Op.SW);
      lines.push(emitInsn(id, w, k, ipc, next, self && memory && caches - firstCache < MAX_PAGE_CACHES ? caches++ : -1));
    }
    let reset = '';
    for (let c = firstCache; c < caches; c++) reset += ` cp${c} = -1;`;
    for (let j = 0; j < lines.length; j++) lines[j] = lines[j].replaceAll(RESET, reset);
    if (self) {
      selfLoops = true;
      // The bound: passes go on while s0 + tot + n <= end, i.e. tot <= lim (end only changes after a slow call).
      const bound = `lim = end - s0 - ${n};`;
      for (let j = 0; j < lines.length; j++) lines[j] = lines[j].replaceAll('end = h.sliceEnd;', `end = h.sliceEnd; ${bound}`);
      lines.unshift(`${bound}${reset}\nfor (;;) {\n${bulkStore(b)}`);
    }
    if (b.end === End.FALL) lines.push(goTo(b.next, n));
    body.push(internal ? `case ${b.pc}: {\n${lines.join('\n')}\n}` : lines.join('\n'));
  }
  const src = body.join('\n');
  let used = written;
  for (const m of src.matchAll(/\bg(\d+)\b/g)) used |= 1 << Number(m[1]);
  const decl: string[] = [];
  for (let r = 1; r < 32; r++) if (((used >>> r) & 1) !== 0) decl.push(`g${r} = x[${r}]`);
  const head = [
    'let a = 0, v = 0, vp = 0, ti = 0, hh = 0, tot = 0, tk = 0, end = h.sliceEnd;',
    decl.length > 0 ? `let ${decl.join(', ')};` : '',
    src.includes('tagC[') ? 'const tagC = h.tlb.tagC, cc = h.code.codeLines;' : '',
    internal ? `let bpc = ${blocks[0].pc};` : '',
    selfLoops ? 'let lim = 0, bp = 0;' : '',
    caches > 0 ? `let ${Array.from({ length: caches }, (_, c) => `cp${c} = -1, co${c} = 0`).join(', ')};` : '',
  ];
  const loop = internal ? `out: for (;;) {\nswitch (bpc) {\n${src}\n}\n}` : `out: {\n${src}\n}`;
  // One exit: registers written back, then the trap (tk 1: the slow access's fault, 2: a jump to
  // a misaligned target in v) after `tot` instructions, or the instructions retired.
  const trap = 'if (tk !== 0) { if (tk === 1) h.raiseFault(); else h.raise(0, v); return -1 - tot; }';
  return `${head.join('\n')}\n${loop}\n${writeBack}\nh.tlb.hits += hh;\n${trap}\nreturn tot;`;
}

/** The parts of a fill loop (`sb/sh/sw v, imm(p); addi p, p, size; bne p, e` or `bne e, p`). */
export interface FillLoop {
  /** Bytes per store, and its log2. */
  size: number;
  shift: number;
  /** Pointer, value and end registers, and the store's offset. */
  p: number;
  val: number;
  e: number;
  imm: number;
}

/**
 * The fill loop a self-looping block of instruction ids `ids` and words `ws` is, or undefined: its
 * pointer steps by the store's size, is not x0 and is neither the value nor the end register.
 * Both backends do such a loop's passes at once (bulkStore here, WasmRegion.bulkStore).
 */
export function fillLoop(ids: readonly number[], ws: readonly number[]): FillLoop | undefined {
  if (ids.length !== 3) return undefined;
  const [st, add, br] = ids;
  const [ws0, wa, wb] = ws;
  if (!(st >= Op.SB && st <= Op.SW) || add !== Op.ADDI || br !== Op.BNE) return undefined;
  const size = st === Op.SW ? 4 : st === Op.SH ? 2 : 1;
  const shift = size === 4 ? 2 : size === 2 ? 1 : 0;
  const p = (ws0 >>> 15) & 31;
  const val = (ws0 >>> 20) & 31;
  const imm = ((ws0 >> 25) << 5) | ((ws0 >>> 7) & 31);
  const brA = (wb >>> 15) & 31;
  const brB = (wb >>> 20) & 31;
  const e = brA === p ? brB : brA;
  if (p === 0 || val === p || ((wa >>> 7) & 31) !== p || ((wa >>> 15) & 31) !== p || wa >> 20 !== size) return undefined;
  if ((brA !== p && brB !== p) || e === p) return undefined;
  return { size, shift, p, val, e, imm };
}

/**
 * A self-looping block that stores a register's value at consecutive addresses (`sb v, imm(p);
 * addi p, p, size; bne p, e`, the byte loop of a C memset): code at the top of its loop that does
 * all the passes but one up to the end of the store's page, the slice's bound and the pass whose
 * branch leaves, at once (TypedArray.fill), when the page has a write tag; the last of those passes
 * then runs as usual. Instructions, steps, TLB hits and the memory written are those of the passes
 * run one by one; any other block gives ''.
 */
function bulkStore(b: RBlock): string {
  const f = fillLoop(b.ids, b.ws);
  if (f === undefined) return '';
  const { size, shift, p, val, imm, e } = f;
  const arr = size === 4 ? 'r32' : size === 2 ? 'r16' : 'r8';
  const n = b.ids.length;
  const align = size === 1 ? '' : `(a & ${size - 1}) === 0 && `;
  // Passes that may run: to the page's end; within the slice (each pass starts only when it fits);
  // before the pass after which p equals e (when e - p is a positive multiple of the size below 2^31;
  // otherwise that pass lies beyond the page's end).
  return `a = (${L(p)} + ${imm}) | 0; vp = a >>> 12;
if (${align}tagW[ti = vp & ${TLB_MASK}] === (vp | dtag)) {
bp = (4096 - (a & 4095)) >>> ${shift}; v = ((end - s0 - tot) / ${n}) | 0; if (v < bp) bp = v;
v = (${L(e)} - ${L(p)}) | 0; if (v > 0 && (v & ${size - 1}) === 0 && (v >> ${shift}) < bp) bp = v >> ${shift};
if (bp > 1) { bp--; v = ((a + toff[ti]) | 0) >> ${shift}; ${arr}.fill(${L(val)}, v, v + bp); ${L(p)} = (${L(p)} + (bp << ${shift})) | 0; tot += bp * ${n}; hh += bp; }
}`;
}

/** Whether instruction `id` writes its rd field. */
function writesRd(id: number): boolean {
  return !(id >= Op.BEQ && id <= Op.BGEU) && !(id >= Op.SB && id <= Op.SW) && id !== Op.FENCE && id !== Op.FENCE_TSO && id !== Op.PAUSE;
}

/** Condition of a conditional branch on the region's locals. */
function branchCond(id: number, w: number): string {
  const a = L((w >>> 15) & 31);
  const b = L((w >>> 20) & 31);
  switch (id) {
    case Op.BEQ: return `${a} === ${b}`;
    case Op.BNE: return `${a} !== ${b}`;
    case Op.BLT: return `${a} < ${b}`;
    case Op.BGE: return `${a} >= ${b}`;
    case Op.BLTU: return `(${a} ^ -0x80000000) < (${b} ^ -0x80000000)`;
    default: return `(${a} ^ -0x80000000) >= (${b} ^ -0x80000000)`;
  }
}

/** Target of a jal or conditional branch at `pc`. */
function controlTarget(id: number, w: number, pc: number): number {
  if (id === Op.JAL) return (pc + (((w >> 31) << 20) | (w & 0xff000) | ((w >>> 9) & 0x800) | ((w >>> 20) & 0x7fe))) | 0;
  return (pc + (((w >> 31) << 12) | ((w << 4) & 0x800) | ((w >>> 20) & 0x7e0) | ((w >>> 7) & 0x1e))) | 0;
}

/** Whether a jal or branch at `pc` targets a pc that is not 4-byte aligned (a trap without C). */
function misalignedTarget(id: number, w: number, pc: number): boolean {
  if (id !== Op.JAL && !(id >= Op.BEQ && id <= Op.BGEU)) return false;
  return (controlTarget(id, w, pc) & 2) !== 0;
}

function buildBlock(source: string): BlockFn {
  return new Function('h', 'x', 'r8', 'r16', 'r32', 'tagR', 'tagW', 'toff', 'dtag', 'n0', 's0', source) as BlockFn;
}

/**
 * Code that syncs the hart before a slow call for instruction k at `pc` (registers stay in locals:
 * the slow paths read none; a trap writes them back before the hart takes it).
 */
function sync(k: number, pc: number): string {
  return `h.pc = ${pc}; h.sliceDone = n0 + tot + ${k}; h.sliceSteps = s0 + tot + ${k + 1};${RESET}`;
}

/**
 * Placeholder in slow paths for forgetting the block's cached pages (regionSource replaces it): a
 * slow call may refill or flush the TLB, so a page's check is done afresh after one.
 */
const RESET = '/*reset*/';

/** A trap from the slow call of instruction k: leave, and take it once registers are written back. */
function trapped(k: number): string {
  return `if (h.fault !== 0) { tot += ${k}; tk = 1; break out; }`;
}

/**
 * JavaScript for the non-control instruction `id` (bits `w`, number k of its block, at `pc`) on
 * the region's locals.
 */
function emitInsn(id: number, w: number, k: number, pc: number, next: number, cache = -1): string {
  const rd = (w >>> 7) & 31;
  const rs1 = (w >>> 15) & 31;
  const rs2 = (w >>> 20) & 31;
  const immI = w >> 20;
  const a = L(rs1);
  const b = L(rs2);
  const alu = aluExpr(id, w, pc, L);
  if (alu !== undefined) return rd === 0 ? '' : `g${rd} = ${alu};`;
  // After a slow access: trap, or leave when the slice was cut short (a device access).
  const leave = `tot += ${k + 1}; h.pc = ${next}; break out;`;
  switch (id) {
    case Op.FENCE: case Op.FENCE_TSO: case Op.PAUSE: return '';
    case Op.LW: case Op.LH: case Op.LHU: case Op.LB: case Op.LBU: {
      const size = id === Op.LW ? 4 : id === Op.LB || id === Op.LBU ? 1 : 2;
      const at = (o: string): string => (size === 4 ? `r32[((a + ${o}) | 0) >> 2]` : size === 2 ? `r16[((a + ${o}) | 0) >> 1]` : `r8[(a + ${o}) | 0]`);
      const align = size === 1 ? '' : `(a & ${size - 1}) === 0 && `;
      const ext = id === Op.LH ? '(v << 16) >> 16' : id === Op.LB ? '(v << 24) >> 24' : size === 4 ? 'v | 0' : 'v';
      const write = rd === 0 ? '' : `g${rd} = ${ext};`;
      const slow = `${sync(k, pc)} v = h.loadSlow(a, ${size}); ${trapped(k)} end = h.sliceEnd; if (end <= s0 + tot + ${k + 1}) { ${write} ${leave} }`;
      if (cache >= 0) {
        // The page of this load's last fast access: later passes check it with one compare.
        const cp = `cp${cache}`;
        const co = `co${cache}`;
        return `a = (${a} + ${immI}) | 0; vp = a >>> 12;
if (${align}vp === ${cp}) { hh++; v = ${at(co)}; } else if (${align}tagR[ti = vp & ${TLB_MASK}] === (vp | dtag)) { hh++; ${cp} = vp; ${co} = toff[ti]; v = ${at(co)}; } else { ${slow} }
${write}`;
      }
      return `a = (${a} + ${immI}) | 0; vp = a >>> 12; ti = vp & ${TLB_MASK};
if (${align}tagR[ti] === (vp | dtag)) { hh++; v = ${at('toff[ti]')}; } else { ${slow} }
${write}`;
    }
    case Op.SW: case Op.SH: case Op.SB: {
      const size = id === Op.SW ? 4 : id === Op.SH ? 2 : 1;
      const immS = ((w >> 25) << 5) | ((w >>> 7) & 31);
      const at = (o: string): string => (size === 4 ? `r32[((a + ${o}) | 0) >> 2] = ${b};` : size === 2 ? `r16[((a + ${o}) | 0) >> 1] = ${b};` : `r8[(a + ${o}) | 0] = ${b};`);
      const align = size === 1 ? '' : `(a & ${size - 1}) === 0 && `;
      // A page holding code (code-write tag): the store stays here unless its word holds code.
      const beside = size === 4 ? `r32[v >> 2] = ${b};` : size === 2 ? `r16[v >> 1] = ${b};` : `r8[v] = ${b};`;
      const rest = `else if (${align}tagC[ti] === (vp | dtag) && ((cc[(v = (a + toff[ti]) | 0) >>> 7] >>> ((v >>> 2) & 31)) & 1) === 0) { hh++; ${beside} }
else { ${sync(k, pc)} h.storeSlow(a, ${size}, ${b}); ${trapped(k)} end = h.sliceEnd; if (end <= s0 + tot + ${k + 1} || h.codeWritten) { h.codeWritten = false; ${leave} } }`;
      if (cache >= 0) {
        // The page of this store's last fast access (a write tag, so no code in it): later passes
        // check it with one compare.
        const cp = `cp${cache}`;
        const co = `co${cache}`;
        return `a = (${a} + ${immS}) | 0; vp = a >>> 12;
if (${align}vp === ${cp}) { hh++; ${at(co)} }
else if (${align}tagW[ti = vp & ${TLB_MASK}] === (vp | dtag)) { hh++; ${cp} = vp; ${co} = toff[ti]; ${at(co)} }
${rest}`;
      }
      return `a = (${a} + ${immS}) | 0; vp = a >>> 12; ti = vp & ${TLB_MASK};
if (${align}tagW[ti] === (vp | dtag)) { hh++; ${at('toff[ti]')} }
${rest}`;
    }
    default:
      throw new Error(`instruction ${id} cannot be translated`);
  }
}
