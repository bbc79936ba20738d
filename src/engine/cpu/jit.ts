// Block translator: hot straight-line runs of guest code become JavaScript functions (as v86 does),
// so the interpreter's fetch/decode/dispatch is paid once per block instead of once per
// instruction. Blocks end at the first control transfer (but go on through a direct jump or call
// within the page, and loop inside the function when they jump back to their start) or at an
// instruction that needs the hart's slow path (CSRs, system, atomics), and never cross a page.
// They are kept per physical RAM page, indexed by their start within the page and checked against
// the virtual pc (blocks embed pcs), so hot code never evicts other hot code. A page holding translated code loses its TLB write tag (the
// TLB keeps a code-write tag instead): stores to a word holding translated code take the hart's
// slow path, which drops exactly the blocks whose bytes the store overwrites (self-modifying code, a
// page reused for other code); stores beside the code stay fast.
// Translating costs far more than interpreting a block a few times (V8 first runs a new function in
// its own interpreter), so a start is translated only after HOT_THRESHOLD entries, a page whose
// code keeps being overwritten waits longer each time (backoff), and a block whose bytes and pc were
// translated before reuses that function (a program exec'd again into other frames).
// Blocks retire, trap and count steps exactly as the interpreter would; tests compare the two.

import { DECODE_BUCKET, decodeSlow, EXPAND_C } from '../isa/decode';
import { Op } from '../isa/opcodes';
import type { Hart } from './hart';

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
export const jitDefaults = { buildBudget: BUILD_BUDGET };
/** Most entries of a start between two looks at its credit. */
const MAX_WAIT = 4096;
/** Content keys whose credit is kept before the table restarts. */
const CREDIT_LIMIT = 1 << 16;
/** Shortest block worth a function call (a block that loops back to its start always is). */
const MIN_BLOCK = 3;
/** Steps within which a second invalidation of a page doubles its translation threshold. */
const BACKOFF_WINDOW = 2_000_000;
/** Largest threshold shift of a page (its threshold at most HOT_THRESHOLD << this). */
const MAX_BACKOFF = 10;
/** Translated functions remembered by content (pc and instruction bits) before the memo restarts. */
const MEMO_LIMIT = 8192;

/** What CodeCache.translate did. */
export const enum TranslateResult {
  INSTALLED = 0,
  /** The memo does not know the block and building was not asked for (a backed-off page). */
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
  /** Instructions retired inside translated blocks. */
  blockInsns = 0;
  /** Milliseconds spent building blocks, when a clock is given. */
  translateMs = 0;
  /** Times a hot start was left interpreted: too few instructions retired from it yet (BUILD_BUDGET). */
  deferred = 0;

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
  readonly hot = new Int32Array(1 << HOT_BITS);
  /**
   * Instructions retired so far from blocks not built yet, by content key (start pc and instruction
   * bits): a program exec'd into other frames each time adds up to one figure.
   */
  private credit = new Map<string, number>();
  /** Entries of each start until the translator is called again (same index as hot; 0: first call). */
  private readonly waiting = new Int32Array(1 << HOT_BITS);
  /** Per RAM page: threshold shift (backoff) and the step of its last invalidation. */
  readonly shift: Uint8Array;
  private readonly lastInvalidation: Float64Array;
  /** Built functions by start pc and instruction bits (the source is a function of both). */
  private memo = new Map<string, BlockFn>();
  readonly stats = new JitStats();
  /** Instructions a start must retire before a function is built for it (0: at HOT_THRESHOLD entries). */
  buildBudget = jitDefaults.buildBudget;
  /** Milliseconds clock for stats.translateMs (injected; the engine reads no host clock itself). */
  clock: (() => number) | undefined = undefined;

  constructor(ramSize: number) {
    const pages = Math.ceil(ramSize / 4096);
    this.pages = new Array<PageBlocks | undefined>(pages).fill(undefined);
    this.codeChunks = new Uint32Array(pages);
    this.codeLines = new Uint32Array(pages * 32);
    this.shift = new Uint8Array(pages);
    this.lastInvalidation = new Float64Array(pages).fill(-Infinity);
  }

  /** Blocks translated so far. */
  get translated(): number {
    return this.stats.translations;
  }

  /** Drops every block (after RAM was rewritten from outside: load, reset, restore). */
  flush(): void {
    this.pages.fill(undefined);
    this.hot.fill(0);
    this.credit.clear();
    this.waiting.fill(0);
    this.codeChunks.fill(0);
    this.codeLines.fill(0);
    this.shift.fill(0);
    this.lastInvalidation.fill(-Infinity);
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
    if (pg === undefined || !this.hitsCode(off, size)) return false;
    const lo = off & 0xfff;
    const hi = lo + size;
    const starts = pg.starts;
    let dropped = 0;
    for (let j = starts.length - 1; j >= 0; j--) {
      const i = starts[j];
      const b = pg.first[i];
      if (b < hi && b + pg.bytes[i] > lo) {
        pg.fn[i] = undefined;
        starts[j] = starts[starts.length - 1];
        starts.pop();
        dropped++;
      }
    }
    if (dropped === 0) return false;
    this.stats.invalidatingStores++;
    this.dropped(page, pg, dropped, now);
    return true;
  }

  /**
   * Forgets the RAM page containing `off` entirely: its blocks and its history of invalidations
   * (the page changed hands, or was rewritten from outside, and starts afresh).
   */
  releasePage(off: number): void {
    const page = off >>> 12;
    const pg = this.pages[page];
    if (pg !== undefined) {
      for (const i of pg.starts) pg.fn[i] = undefined;
      pg.starts.length = 0;
    }
    this.codeChunks[page] = 0;
    this.codeLines.fill(0, page * 32, page * 32 + 32);
    this.shift[page] = 0;
    this.lastInvalidation[page] = -Infinity;
  }

  /** Drops the blocks of the RAM page containing `off` (DMA or a host write into it). */
  invalidatePage(off: number, now = 0): void {
    const page = off >>> 12;
    const pg = this.pages[page];
    if (pg === undefined || pg.starts.length === 0) {
      this.codeChunks[page] = 0;
      this.codeLines.fill(0, page * 32, page * 32 + 32);
      return;
    }
    const n = pg.starts.length;
    for (const i of pg.starts) pg.fn[i] = undefined;
    pg.starts.length = 0;
    this.dropped(page, pg, n, now);
  }

  /** Marks the words of `bytes` bytes of code at RAM offset `off` (within one page). */
  private markLines(off: number, bytes: number): void {
    for (let l = off >>> 2; l <= (off + bytes - 1) >>> 2; l++) this.codeLines[l >>> 5] |= 1 << (l & 31);
  }

  private dropped(page: number, pg: PageBlocks, n: number, now: number): void {
    this.stats.invalidations += n;
    let bits = 0;
    this.codeLines.fill(0, page * 32, page * 32 + 32);
    for (const i of pg.starts) {
      bits |= chunkBits(pg.first[i], pg.bytes[i]);
      this.markLines((page << 12) + pg.first[i], pg.bytes[i]);
    }
    this.codeChunks[page] = bits >>> 0;
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

  /**
   * Translates the block at RAM offset `off` (virtual `pc`) if it has enough instructions; returns
   * what it did. Without `build`, only a function the memo holds is installed.
   */
  translate(h: Hart, off: number, pc: number, build = true): TranslateResult {
    const t0 = this.clock === undefined ? 0 : this.clock();
    const page = off >>> 12;
    const hi = (off >>> 1) & HOT_MASK;
    // A cheap scan (decode only) finds the block's extent and its memo key.
    const scan = scanBlock(h, off, pc, false);
    let fn = scan === undefined ? undefined : this.memo.get(scan.key);
    let result = TranslateResult.INSTALLED;
    if (scan === undefined) {
      result = TranslateResult.UNTRANSLATABLE;
    } else if (fn === undefined) {
      // Since the last call the start was entered `waiting` times (HOT_THRESHOLD << shift the first time).
      const step = HOT_THRESHOLD << this.shift[page];
      const entries = this.waiting[hi] !== 0 ? this.waiting[hi] : step;
      const credit = (this.credit.get(scan.key) ?? 0) + (build ? entries * scan.length : 0);
      if (!build || credit < this.buildBudget) {
        result = TranslateResult.NOT_YET;
        if (build) {
          // Come back (the interpreter calls again HOT_THRESHOLD << shift entries after the count
          // passes HOT_THRESHOLD) once the budget is retired, or sooner to notice other frames' share.
          const need = Math.min(MAX_WAIT, Math.ceil((this.buildBudget - credit) / scan.length));
          this.hot[hi] = HOT_THRESHOLD - need;
          this.waiting[hi] = need + step - HOT_THRESHOLD;
          if (this.credit.size >= CREDIT_LIMIT) this.credit = new Map();
          this.credit.set(scan.key, credit);
          this.stats.deferred++;
        }
      } else {
        fn = buildBlock(scanBlock(h, off, pc, true)!.source);
        if (this.memo.size >= MEMO_LIMIT) this.memo = new Map();
        this.memo.set(scan.key, fn);
      }
    } else {
      this.stats.memoHits++;
    }
    if (result !== TranslateResult.INSTALLED || scan === undefined || fn === undefined) {
      if (this.clock !== undefined) this.stats.translateMs += this.clock() - t0;
      return result;
    }
    this.credit.delete(scan.key);
    this.waiting[hi] = 0;
    let pg = this.pages[page];
    if (pg === undefined) pg = this.pages[page] = new PageBlocks();
    const i = (off & 0xfff) >>> 1;
    if (pg.fn[i] === undefined) pg.starts.push(i);
    pg.fn[i] = fn;
    pg.pc[i] = pc;
    pg.len[i] = scan.length;
    pg.first[i] = scan.first;
    pg.bytes[i] = scan.bytes;
    if (pg.seen[i] !== 0) this.stats.retranslations++;
    pg.seen[i] = 1;
    this.stats.translations++;
    const bits = this.codeChunks[page];
    this.codeChunks[page] = (bits | chunkBits(scan.first, scan.bytes)) >>> 0;
    this.markLines((page << 12) + scan.first, scan.bytes);
    if (bits === 0) h.codePageAdded(page);
    if (this.clock !== undefined) this.stats.translateMs += this.clock() - t0;
    return TranslateResult.INSTALLED;
  }
}

/** Chunk bits (128 bytes each) covered by `bytes` bytes at page offset `lo`. */
function chunkBits(lo: number, bytes: number): number {
  let bits = 0;
  for (let c = lo >>> 7; c <= ((lo + bytes - 1) >>> 7); c++) bits |= 1 << c;
  return bits;
}

const R = (r: number): string => (r === 0 ? '0' : `x[${r}]`);

/**
 * The JavaScript expression of an instruction that only computes rd from registers and constants
 * (x[] holds the registers, h the hart), or undefined for every other instruction. The block
 * translator and bt's translator both emit these the same way.
 */
export function aluExpr(id: number, w: number, pc: number): string | undefined {
  const rs1 = (w >>> 15) & 31;
  const rs2 = (w >>> 20) & 31;
  const immI = w >> 20;
  const a = R(rs1);
  const b = R(rs2);
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

/** A scanned block: its content key, JavaScript body (when asked for), instructions and bytes. */
interface Scanned {
  /** Start pc and instruction bits in order (the body is a function of them). */
  key: string;
  source: string;
  length: number;
  /** Page offset of the lowest code byte, and the bytes from there past the highest. */
  first: number;
  bytes: number;
}

/** Instructions a block may contain (everything else ends the block before it). */
function simple(id: number, hasM: boolean): boolean {
  if (id >= Op.MUL && id <= Op.REMU) return hasM;
  return (id >= Op.LUI && id <= Op.AND) || id === Op.FENCE || id === Op.FENCE_TSO || id === Op.PAUSE;
}

/** Scratch for scanBlock's known register values. */
const KNOWN = new Int32Array(32);

/** Halfwords of the block's instructions, for its memo key (scratch). */
const BITS: number[] = [];

/**
 * Scans the block at RAM offset `off` (virtual `pc`): its extent and memo key, and its JavaScript
 * body when `withCode`; undefined when too short to be worth a block.
 */
function scanBlock(h: Hart, off: number, pc: number, withCode: boolean): Scanned | undefined {
  const r16 = h.bus.ram16;
  const hasC = h.features.c;
  const lines: string[] = ['let a = 0, v = 0, vp = 0, ti = 0;'];
  const bits = BITS;
  bits.length = 0;
  let loops = false;
  let k = 0;
  let cur = off;
  let vpc = pc;
  let ended = false;
  let lo = off & 0xfff;
  let hi = lo;
  // Registers holding a value known at translation time (set by auipc or lui in this block), so
  // that auipc + jalr (a far call) has a known target too: bit r of knownMask, value in known[r].
  let knownMask = 0;
  const known = KNOWN;
  while (k < MAX_BLOCK && !ended) {
    const inPage = cur & 0xfff;
    if (inPage > 0xffe) break;
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
    if (!simple(id, h.features.m)) break;
    if (!hasC && misalignedTarget(id, w, vpc)) break;
    const next = (vpc + size) | 0;
    lo = Math.min(lo, cur & 0xfff);
    hi = Math.max(hi, (cur & 0xfff) + size);
    const rd = (w >>> 7) & 31;
    const rs1 = (w >>> 15) & 31;
    let target = -1;
    if (id === Op.JAL) target = (vpc + (((w >> 31) << 20) | (w & 0xff000) | ((w >>> 9) & 0x800) | ((w >>> 20) & 0x7fe))) | 0;
    else if (id === Op.JALR && ((knownMask >>> rs1) & 1) !== 0) target = ((known[rs1] + (w >> 20)) & ~1) | 0;
    if (target !== -1 && target !== pc && target >>> 12 === vpc >>> 12 && (hasC || (target & 2) === 0) && k + 1 < MAX_BLOCK) {
      // A direct jump or call within the virtual page: the block goes on at its target.
      bits.push(raw & 0xffff, raw >>> 16);
      if (withCode && rd !== 0) lines.push(`x[${rd}] = ${next};`);
      knownMask &= ~(1 << rd);
      k++;
      cur = cur - (cur & 0xfff) + (target & 0xfff);
      vpc = target;
      continue;
    }
    const writesRd = !(id >= Op.BEQ && id <= Op.BGEU) && !(id >= Op.SB && id <= Op.SW) && id !== Op.FENCE && id !== Op.FENCE_TSO && id !== Op.PAUSE;
    if (writesRd && rd !== 0) {
      if (id === Op.AUIPC || id === Op.LUI) {
        known[rd] = id === Op.LUI ? w & 0xfffff000 : (vpc + (w & 0xfffff000)) | 0;
        knownMask |= 1 << rd;
      } else {
        knownMask &= ~(1 << rd);
      }
    }
    bits.push(raw & 0xffff, raw >>> 16);
    ended = id === Op.JAL || id === Op.JALR || (id >= Op.BEQ && id <= Op.BGEU);
    if (ended && id !== Op.JALR && (id !== Op.JAL || rd === 0) && controlTarget(id, w, vpc) === pc) loops = true;
    if (withCode) lines.push(emit(id, w, k, vpc, next, hasC, pc).text);
    k++;
    cur += size;
    vpc = next;
  }
  if (k < MIN_BLOCK && !loops) return undefined;
  const key = `${pc}:${String.fromCharCode(...bits)}`;
  if (!withCode) return { key, source: '', length: k, first: lo, bytes: hi - lo };
  if (!ended) lines.push(`h.pc = ${vpc}; return ${k};`);
  let body = lines.join('\n');
  // A block whose last instruction jumps back to its start loops inside the function while the
  // slice has room for one more pass (chaining without a round trip through the dispatcher); tot
  // counts the instructions of the passes done, n0 and s0 move on with them.
  if (body.includes('__LOOP__')) {
    body = body.replace(/return (-?\d+);/g, (_m, v: string) => (Number(v) < 0 ? `return ${v} - tot;` : `return ${v} + tot;`));
    body = body.replace('__LOOP__', `{ tot += ${k}; n0 += ${k}; s0 += ${k}; if (s0 + ${k} <= h.sliceEnd) continue; h.pc = ${pc}; return tot; }`);
    body = `let tot = 0;\nfor (;;) {\n${body}\n}`;
  }
  // TLB hits of the block's loads and stores are counted in a local and added at every exit.
  if (body.includes('hh++')) body = 'let hh = 0;\n' + body.replace(/return /g, 'h.tlb.hits += hh; return ');
  if (body.includes('tagC[')) body = 'const tagC = h.tlb.tagC, cc = h.code.codeLines;\n' + body;
  return { key, source: body, length: k, first: lo, bytes: hi - lo };
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

/** Code that syncs the hart before a slow call for instruction k at `pc`. */
function sync(k: number, pc: number): string {
  return `h.pc = ${pc}; h.sliceDone = n0 + ${k}; h.sliceSteps = s0 + ${k + 1};`;
}

/** After a slow access: trap, or leave the block when the slice was cut short (device access). */
function afterSlow(k: number, next: number): string {
  return `if (h.fault !== 0) { h.raiseFault(); return ${-1 - k}; } if (h.sliceEnd <= s0 + ${k + 1}) { __WRITE__ h.pc = ${next}; return ${k + 1}; }`;
}

/** After a slow store: also leave the block when the store overwrote translated code (maybe this block's). */
function afterSlowStore(k: number, next: number): string {
  return `if (h.fault !== 0) { h.raiseFault(); return ${-1 - k}; } if (h.sliceEnd <= s0 + ${k + 1} || h.codeWritten) { h.codeWritten = false; h.pc = ${next}; return ${k + 1}; }`;
}

/** JavaScript for instruction `id` (bits `w`, number k of the block, at `pc`); misaligned targets were excluded by the scan. */
function emit(id: number, w: number, k: number, pc: number, next: number, hasC: boolean, start: number): { text: string; ends: boolean } {
  const rd = (w >>> 7) & 31;
  const rs1 = (w >>> 15) & 31;
  const rs2 = (w >>> 20) & 31;
  const immI = w >> 20;
  const set = (expr: string): { text: string; ends: boolean } => ({ text: rd === 0 ? '' : `x[${rd}] = ${expr};`, ends: false });
  const a = R(rs1);
  const b = R(rs2);
  const alu = aluExpr(id, w, pc);
  if (alu !== undefined) return set(alu);
  switch (id) {
    case Op.FENCE: case Op.FENCE_TSO: case Op.PAUSE: return { text: '', ends: false };
    case Op.JAL: {
      const t = (pc + (((w >> 31) << 20) | (w & 0xff000) | ((w >>> 9) & 0x800) | ((w >>> 20) & 0x7fe))) | 0;
      if (t === start && rd === 0) return { text: '__LOOP__', ends: true };
      return { text: `${rd === 0 ? '' : `x[${rd}] = ${next};`} h.pc = ${t}; return ${k + 1};`, ends: true };
    }
    case Op.JALR: {
      const check = hasC ? '' : `if ((v & 2) !== 0) { h.pc = ${pc}; h.raise(0, v); return ${-1 - k}; }`;
      return { text: `v = ((${a} + ${immI}) & ~1) | 0; ${check} ${rd === 0 ? '' : `x[${rd}] = ${next};`} h.pc = v; return ${k + 1};`, ends: true };
    }
    case Op.BEQ: case Op.BNE: case Op.BLT: case Op.BGE: case Op.BLTU: case Op.BGEU: {
      const t = (pc + (((w >> 31) << 12) | ((w << 4) & 0x800) | ((w >>> 20) & 0x7e0) | ((w >>> 7) & 0x1e))) | 0;
      const cond = { [Op.BEQ]: `${a} === ${b}`, [Op.BNE]: `${a} !== ${b}`, [Op.BLT]: `${a} < ${b}`, [Op.BGE]: `${a} >= ${b}`,
        [Op.BLTU]: `${a} >>> 0 < ${b} >>> 0`, [Op.BGEU]: `${a} >>> 0 >= ${b} >>> 0` }[id];
      if (t === start) return { text: `if (${cond}) __LOOP__ h.pc = ${next}; return ${k + 1};`, ends: true };
      return { text: `h.pc = (${cond}) ? ${t} : ${next}; return ${k + 1};`, ends: true };
    }
    case Op.LW: case Op.LH: case Op.LHU: case Op.LB: case Op.LBU: {
      const size = id === Op.LW ? 4 : id === Op.LB || id === Op.LBU ? 1 : 2;
      const fast = size === 4 ? 'r32[((a + toff[ti]) | 0) >> 2]' : size === 2 ? 'r16[((a + toff[ti]) | 0) >> 1]' : 'r8[(a + toff[ti]) | 0]';
      const align = size === 1 ? '' : `(a & ${size - 1}) === 0 && `;
      const ext = id === Op.LH ? '(v << 16) >> 16' : id === Op.LB ? '(v << 24) >> 24' : size === 4 ? 'v | 0' : 'v';
      const write = rd === 0 ? '' : `x[${rd}] = ${ext};`;
      return {
        text: `a = (${a} + ${immI}) | 0; vp = a >>> 12; ti = vp & 1023;
if (${align}tagR[ti] === (vp | dtag)) { hh++; v = ${fast}; } else { ${sync(k, pc)} v = h.loadSlow(a, ${size}); ${afterSlow(k, next).replace('__WRITE__', write)} }
${write}`,
        ends: false,
      };
    }
    case Op.SW: case Op.SH: case Op.SB: {
      const size = id === Op.SW ? 4 : id === Op.SH ? 2 : 1;
      const immS = ((w >> 25) << 5) | ((w >>> 7) & 31);
      const fast = size === 4 ? `r32[((a + toff[ti]) | 0) >> 2] = ${b};` : size === 2 ? `r16[((a + toff[ti]) | 0) >> 1] = ${b};` : `r8[(a + toff[ti]) | 0] = ${b};`;
      const align = size === 1 ? '' : `(a & ${size - 1}) === 0 && `;
      // A page holding code (code-write tag): the store stays here unless its word holds code.
      const beside = size === 4 ? `r32[v >> 2] = ${b};` : size === 2 ? `r16[v >> 1] = ${b};` : `r8[v] = ${b};`;
      return {
        text: `a = (${a} + ${immS}) | 0; vp = a >>> 12; ti = vp & 1023;
if (${align}tagW[ti] === (vp | dtag)) { hh++; ${fast} }
else if (${align}tagC[ti] === (vp | dtag) && ((cc[(v = (a + toff[ti]) | 0) >>> 7] >>> ((v >>> 2) & 31)) & 1) === 0) { hh++; ${beside} }
else { ${sync(k, pc)} h.storeSlow(a, ${size}, ${b}); ${afterSlowStore(k, next)} }`,
        ends: false,
      };
    }
    default:
      throw new Error(`instruction ${id} cannot be translated`);
  }
}
