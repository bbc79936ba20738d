// The block translator's WebAssembly backend (`jitBackend: 'wasm'`): a region (jit.ts's scanRegion)
// becomes one WebAssembly function instead of a JavaScript one, as v86 translates x86 code. V8
// compiles WebAssembly quickly (Liftoff first, TurboFan for hot functions) and never deoptimizes it,
// so a region's branches that never ran before cost nothing when they first run.
//
// The function reads guest RAM, the hart's registers, the TLB's tagR/tagW/tagC/off and the code
// cache's codeLines where the JavaScript engine keeps them: the bus allocates RAM in a
// WebAssembly.Memory with room after it (an arena), and the hart takes its registers, TLB arrays
// and code lines there as views (hartArena). Registers live in locals, loaded on entry and written
// back on exit; loads and stores take the TLB's fast path inline and call the hart's slow paths
// through imported JavaScript functions, which sync pc, sliceDone and sliceSteps first exactly as
// a JavaScript region does. The function returns the instructions retired and leaves its exit pc,
// TLB hits, trap kind and trap value in a status area of the arena, which the BlockFn wrapper hands
// to the hart. Retired instructions, steps, traps and TLB hits are those of the JavaScript regions.
// Regions chain: the wrapper calls them through one trampoline, which goes on into the region
// holding a block at the exit pc (a chain table in the arena, kept by the code cache's link and
// unlink) exactly when the dispatcher would enter it there, without returning to JavaScript.

import { Op } from '../isa/opcodes';
import { TLB_MASK, TLB_SIZE } from '../mmu/tlb';
import type { PhysicalBus, WasmArena } from '../machine/bus';
import { BLOCK_BITS_WORDS, End, fillLoop, HOT_MASK, HOT_THRESHOLD, type BlockFn, type FarCode } from './jit';
import type { Hart } from './hart';
import { instantiateFastRun, type Dispatch, type FastRun } from './fast-run';

/** Return points a region's jalr compares its target with (a region calling more routines leaves for the rest). */
const MAX_RETURNS = 4;

/** The host's WebAssembly API, as much as the translator uses (the engine's types name no host API). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Table: new (d: { element: 'anyfunc'; initial: number }) => WasmTable;
}

interface WasmTable {
  readonly length: number;
  grow(n: number): number;
  set(i: number, f: unknown): void;
}

/** The host's WebAssembly, or undefined when it has none. */
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Which code the block translator generates. */
export type JitBackend = 'js' | 'wasm';

// Layout of a hart's arena (byte offsets from its start).
/** The 32 registers (Hart.x). */
const X_AT = 0;
/** Status words between a region and its wrapper or slow-path imports (STATUS_*). */
const S_AT = 128;
/** tagR, tagW, tagC, off and tagX, TLB_SIZE words each (Tlb). */
const TLB_AT = 256;
const TLB_BYTES = TLB_SIZE * 4;
/**
 * The chain table: the blocks of the regions installed in the code cache, direct-mapped by RAM
 * halfword offset, four words each (RAM offset or -1, virtual pc, table slot, the block's
 * instructions | its index in the region << 8). A region leaving for a pc found here goes on into
 * that region at that block inside WebAssembly (WasmRuntime's trampoline) under the dispatcher's
 * own conditions; the code cache clears a region's entries when it drops the region (link, unlink).
 */
const CHAIN_AT = TLB_AT + 5 * TLB_BYTES;
const CHAIN_BITS = 12;
const CHAIN_MASK = (1 << CHAIN_BITS) - 1;
/** CodeCache.hot, the heat of block starts (HOT_MASK + 1 words), which the fast run counts too. */
const HOT_AT = CHAIN_AT + (16 << CHAIN_BITS);
/** EXPAND_C, each compressed encoding's 32-bit form, for the fast run's decoding. */
const EXP_AT = HOT_AT + 4 * (HOT_MASK + 1);
/** CodeCache.blockBits: BLOCK_BITMAPS bitmaps of a page's block starts, for the fast run. */
const BITS_AT = EXP_AT + 4 * 65536;
const BLOCK_BITMAPS = 1024;
/**
 * The entry table: the region entries installed in the code cache's pages (its `fn` of a start:
 * a region from its entry block, or an entry into another of its blocks), direct-mapped by RAM
 * halfword offset, four words each as in the chain table. The fast run enters a region found here
 * itself, where it would otherwise leave for execute's top to enter it; a start that lost its
 * entry to another in the same row is entered by execute as before.
 */
const ENT_AT = BITS_AT + BLOCK_BITMAPS * BLOCK_BITS_WORDS * 4;
const ENT_BITS = 12;
const ENT_MASK = (1 << ENT_BITS) - 1;
/** CodeCache.codeLines, one word per 128 bytes of RAM; after them CodeCache.liveBlocks, one word per RAM page. */
const LINES_AT = ENT_AT + (16 << ENT_BITS);
/**
 * The fast run's status words in the status area (FastWord): pc, steps, fbase, foff, flimit and TLB
 * hits at its end, then the regions it entered and what they did, then the hart's LR reservation.
 */
const FAST_AT = S_AT + 64;
const FAST_WORDS = 14;

/** The arena's layout, as fast-run.wat's constants (scripts/build-fast-run.ts). */
export const FAST_RUN_LAYOUT: Readonly<Record<string, number>> = {
  TLB_MASK,
  TAGR: TLB_AT,
  TAGW: TLB_AT + TLB_BYTES,
  TAGC: TLB_AT + 2 * TLB_BYTES,
  TOFF: TLB_AT + 3 * TLB_BYTES,
  TAGX: TLB_AT + 4 * TLB_BYTES,
  HOT: HOT_AT,
  HOT_MASK,
  HOT_THRESHOLD,
  EXP: EXP_AT,
  BITS: BITS_AT,
  ST: FAST_AT,
  ST4: FAST_AT + 4,
  ST8: FAST_AT + 8,
  ST12: FAST_AT + 12,
  ST16: FAST_AT + 16,
  ST20: FAST_AT + 20,
  ST28: FAST_AT + 28,
  ST32: FAST_AT + 32,
  ST36: FAST_AT + 36,
  ST40: FAST_AT + 40,
  ST44: FAST_AT + 44,
  ENT: ENT_AT,
  ENT4: ENT_AT + 4,
  ENT8: ENT_AT + 8,
  ENT12: ENT_AT + 12,
  ENT_MASK,
  CH: CHAIN_AT,
  CH4: CHAIN_AT + 4,
  CH8: CHAIN_AT + 8,
  CH12: CHAIN_AT + 12,
  CHAIN_MASK,
  S_ROOM: S_AT + 4 * 1,
  S_PC: S_AT + 4 * 3,
  S_HITS: S_AT + 4 * 4,
  S_TRAP: S_AT + 4 * 5,
  S_CHAINS: S_AT + 4 * 7,
  S_VIA: S_AT + 4 * 8,
  S_N0: S_AT + 4 * 9,
  S_S0: S_AT + 4 * 10,
  S_SLOW: S_AT + 4 * 11,
  S_RESV: FAST_AT + 48,
  S_RESV_VALUE: FAST_AT + 52,
  ROOM_MAX: 1 << 30,
};

// Status words (index into the status area's Int32Array).
const enum St {
  /** A slow call faulted (1) or not (0). */
  FAULT = 0,
  /** Steps left in the slice after a slow call (sliceEnd - s0, clamped to ROOM_MAX). */
  ROOM = 1,
  /** A slow store dropped translated code (Hart.codeWritten). */
  CODE = 2,
  /** At exit: the pc, TLB hits, trap kind (1: the slow access's fault, 2: a misaligned jump to V) and value. */
  PC = 3,
  HITS = 4,
  TRAP = 5,
  V = 6,
  /** Regions the trampoline went on into after the first (JitStats.chainedRuns). */
  CHAINS = 7,
  /** Whether the running region was entered by the fast run (1), which left its n0 and s0 in N0 and S0, or by run (0). */
  VIA = 8,
  N0 = 9,
  S0 = 10,
  /** Set by every slow call (the fast run clears it before it enters a region). */
  SLOW = 11,
}
const ROOM_MAX = 1 << 30;

/** Bytes of one hart's arena for RAM of `ramSize` bytes. */
export function hartArenaBytes(ramSize: number): number {
  return LINES_AT + Math.ceil(ramSize / 128) * 4 + Math.ceil(ramSize / 4096) * 4;
}

/** Whether the host can run the WebAssembly backend. */
export function wasmAvailable(): boolean {
  return WA !== undefined;
}

/** Byte offset of a new hart's arena in `bus`'s WebAssembly memory, or -1 (no arena or no room left). */
export function claimHartArena(bus: PhysicalBus): number {
  const arena: WasmArena | undefined = bus.arena;
  if (arena === undefined || WA === undefined) return -1;
  const need = hartArenaBytes(bus.ramSize);
  if (arena.next + need > arena.end) return -1;
  const at = arena.next;
  arena.next += need;
  return at;
}

/** Views of a hart's arena at byte offset `at` of `buffer`. */
export function arenaViews(buffer: ArrayBuffer, at: number, ramSize: number): ArenaViews {
  const lines = Math.ceil(ramSize / 128);
  return {
    x: new Int32Array(buffer, at + X_AT, 32),
    tlb: { buffer, offset: at + TLB_AT },
    lines: new Uint32Array(buffer, at + LINES_AT, lines),
    hot: new Int32Array(buffer, at + HOT_AT, HOT_MASK + 1),
    expand: new Int32Array(buffer, at + EXP_AT, 65536),
    blockBits: new Int32Array(buffer, at + BITS_AT, BLOCK_BITMAPS * BLOCK_BITS_WORDS),
    liveBlocks: new Int32Array(buffer, at + LINES_AT + lines * 4, Math.ceil(ramSize / 4096)),
    fast: new Int32Array(buffer, at + FAST_AT, FAST_WORDS),
    at,
  };
}

/** A hart's arena as the JavaScript engine sees it. */
export interface ArenaViews {
  x: Int32Array;
  tlb: { buffer: ArrayBuffer; offset: number };
  lines: Uint32Array;
  hot: Int32Array;
  expand: Int32Array;
  blockBits: Int32Array;
  liveBlocks: Int32Array;
  /** The fast run's status words (FastWord). */
  fast: Int32Array;
  /** Byte offset of the arena in the memory. */
  at: number;
}

// ---- the encoder -------------------------------------------------------------------------------

const enum W {
  BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, BR_TABLE = 0x0e,
  RETURN = 0x0f, CALL = 0x10, DROP = 0x1a, SELECT = 0x1b,
  GET = 0x20, SET = 0x21, TEE = 0x22,
  LOAD = 0x28, LOAD8_S = 0x2c, LOAD8_U = 0x2d, LOAD16_S = 0x2e, LOAD16_U = 0x2f,
  STORE = 0x36, STORE8 = 0x3a, STORE16 = 0x3b,
  CONST = 0x41,
  EQZ = 0x45, EQ = 0x46, NE = 0x47, LT_S = 0x48, LT_U = 0x49, GT_S = 0x4a, GT_U = 0x4b, LE_S = 0x4c, LE_U = 0x4d, GE_S = 0x4e, GE_U = 0x4f,
  ADD = 0x6a, SUB = 0x6b, MUL = 0x6c, DIV_S = 0x6d, DIV_U = 0x6e, REM_S = 0x6f, REM_U = 0x70,
  AND = 0x71, OR = 0x72, XOR = 0x73, SHL = 0x74, SHR_S = 0x75, SHR_U = 0x76,
  I64_MUL = 0x7e, I64_SHR_U = 0x88, WRAP = 0xa7, EXTEND_S = 0xac, EXTEND_U = 0xad,
  EXT8_S = 0xc0, EXT16_S = 0xc1,
  VOID = 0x40, I32 = 0x7f,
}

/**
 * Bytes of a function body with structured-control bookkeeping (label depths), written straight
 * into a growable byte array (reused: `reset` starts a new body in the same memory). The encoder
 * runs rarely, so V8 mostly runs it unoptimized: every write is a plain indexed store, with no
 * array growth, spread or closure per byte (about 110 ns a byte of a region's body with an
 * array of numbers, docs/speed.md).
 */
class Code {
  b: Uint8Array;
  /** Bytes written. */
  n = 0;
  /** Open blocks, loops and ifs. */
  depth = 0;

  constructor(size = 1 << 16) {
    this.b = new Uint8Array(size);
  }

  /** Starts a new body at `at` (room left before it for the module's head). */
  reset(at: number): void {
    this.n = at;
    this.depth = 0;
  }

  /** Makes room for `k` more bytes. */
  private room(k: number): void {
    if (this.n + k <= this.b.length) return;
    const b = new Uint8Array(Math.max(this.b.length * 2, this.n + k));
    b.set(this.b.subarray(0, this.n));
    this.b = b;
  }

  op(o: number): this {
    if (this.n + 16 > this.b.length) this.room(16);
    this.b[this.n++] = o;
    return this;
  }
  /** Two bytes (an opcode and a one-byte immediate). */
  op2(o: number, v: number): this {
    if (this.n + 16 > this.b.length) this.room(16);
    const b = this.b;
    const n = this.n;
    b[n] = o;
    b[n + 1] = v;
    this.n = n + 2;
    return this;
  }
  uleb(v: number): this {
    if (this.n + 16 > this.b.length) this.room(16);
    const b = this.b;
    let n = this.n;
    v >>>= 0;
    while (v >= 0x80) {
      b[n++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[n++] = v;
    this.n = n;
    return this;
  }
  sleb(v: number): this {
    if (this.n + 16 > this.b.length) this.room(16);
    const b = this.b;
    let n = this.n;
    v |= 0;
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
        b[n++] = byte;
        this.n = n;
        return this;
      }
      b[n++] = byte | 0x80;
    }
  }
  const(v: number): this {
    // One byte for -64 to 63, the most common constants (counts, shifts, masks).
    if (v >= -64 && v < 64) return this.op2(W.CONST, v & 0x7f);
    return this.op(W.CONST).sleb(v);
  }
  get(l: number): this {
    return l < 128 ? this.op2(W.GET, l) : this.op(W.GET).uleb(l);
  }
  set(l: number): this {
    return l < 128 ? this.op2(W.SET, l) : this.op(W.SET).uleb(l);
  }
  tee(l: number): this {
    return l < 128 ? this.op2(W.TEE, l) : this.op(W.TEE).uleb(l);
  }
  /** Opens a block, loop or if; returns its label (for br). */
  open(kind: number, type: number = W.VOID): number {
    this.op2(kind, type);
    return ++this.depth;
  }
  end(): this {
    this.depth--;
    return this.op(W.END);
  }
  br(label: number): this {
    return this.op(W.BR).uleb(this.depth - label);
  }
  brIf(label: number): this {
    return this.op(W.BR_IF).uleb(this.depth - label);
  }
  /** A memory access at the address on the stack plus the constant `offset`. */
  mem(op: number, offset: number): this {
    const align = op === W.LOAD || op === W.STORE ? 2 : op === W.LOAD16_S || op === W.LOAD16_U || op === W.STORE16 ? 1 : 0;
    return this.op2(op, align).uleb(offset);
  }
  /** Copies `t` (a template). */
  raw(t: Uint8Array): this {
    if (this.n + t.length + 16 > this.b.length) this.room(t.length + 16);
    this.b.set(t, this.n);
    this.n += t.length;
    return this;
  }
  /** The bytes written from `at` on. */
  bytes(at = 0): Uint8Array {
    return this.b.slice(at, this.n);
  }
}

function uleb(v: number): number[] {
  const out: number[] = [];
  v >>>= 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

/** The encoder of region bodies (one, made at the first build: regions are built one at a time). */
let ENC: Code | undefined;

let HEAD: Uint8Array | undefined;

/** Scratch: each guest register's local in the region being built. */
const LOCAL_OF = new Int32Array(32);

/** A region module's sections before its code: types, imports (memory, load, store), one function, its export. */
function regionHead(): Uint8Array {
  if (HEAD !== undefined) return HEAD;
  const i32 = 0x7f;
  const types = vec([
    [0x60, ...vec([[i32], [i32], [i32], [i32]]), ...vec([[i32]])],
    [0x60, ...vec([[i32], [i32], [i32], [i32], [i32]]), 0],
    [0x60, ...vec([[i32], [i32], [i32], [i32]]), ...vec([[i32]])],
  ]);
  const imports = vec([
    [...name('e'), ...name('m'), 0x02, 0x00, 0x00],
    [...name('e'), ...name('l'), 0x00, F_LOAD],
    [...name('e'), ...name('s'), 0x00, F_STORE],
  ]);
  HEAD = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, vec([uleb(2)])),
    ...section(7, vec([[...name('f'), 0x00, ...uleb(F_REGION)]])),
  ]);
  return HEAD;
}

// ---- regions -----------------------------------------------------------------------------------

/** One straight-line block of a region, as jit.ts scans it. */
export interface WasmBlock {
  pc: number;
  ids: number[];
  ws: number[];
  pcs: number[];
  end: End;
  target: number;
  next: number;
}

// Locals of a region's function: parameters dtag, room, tot (the instructions retired before it in
// a chain: its counts start there) and the index of the block it starts at, then scratch, then the
// guest registers the region names (only those: Liftoff zeroes every local at each entry), then a
// fill loop's two (bulkStore) when it has one.
const DTAG = 0;
const ROOM = 1;
const TOT = 2;
const BI = 3;
const PARAMS = 4;
const A = 4;
const V = 5;
const VP = 6;
const TI = 7;
const HH = 8;
const TK = 9;
const EPC = 10;
/** The first guest register's local. */
const G1 = 11;

/** Fixed byte sequences of loads and stores (WasmRuntime.memTemplates), by load (id - Op.LB) or store size. */
interface MemTemplates {
  loadHead: Uint8Array[];
  loadTail: Uint8Array[];
  storeHead: Uint8Array[];
  storeMid: Uint8Array[];
  storeSlow: Uint8Array[];
  fault: Uint8Array;
  room: Uint8Array;
  codeWritten: Uint8Array;
}

// Imported functions.
const F_LOAD = 0;
const F_STORE = 1;
const F_REGION = 2;

/** The per-hart half of the backend: status view, slow-path imports, and the module compiler. */
export class WasmRuntime {
  private readonly s: Int32Array;
  private readonly xAt: number;
  private readonly sAt: number;
  private readonly tlbAt: number;
  private readonly linesAt: number;
  /** n0 and s0 of the region run entered (its slow-path imports need them; the fast run leaves its own in St.N0 and St.S0). */
  private n0 = 0;
  private s0 = 0;
  private readonly imports: object;
  /**
   * Every region function, by slot: the dispatcher calls them all through one exported function,
   * the trampoline in the fast run's module (call_indirect), so V8's call from JavaScript into
   * WebAssembly stays monomorphic.
   */
  private readonly table: WasmTable;
  private readonly call: Dispatch;
  /** Table slots handed out so far, and those given back (their region is neither installed nor in the memo). */
  private slots = 0;
  private readonly free: number[] = [];
  /** Per slot: the starts its region is installed at (link), and whether the code cache's memo holds it. */
  private readonly installs: number[] = [];
  private readonly inMemo: boolean[] = [];
  /** Per slot: the region function holding it. */
  private readonly owner: (BlockFn | undefined)[] = [];
  /** The chain table (CHAIN_AT). */
  private readonly chains: Int32Array;
  /** The entry table (ENT_AT). */
  private readonly entries: Int32Array;
  /** The interpreter's fast run on this hart's arena (fast-run.ts). */
  readonly fastRun: FastRun;
  /** Each region function's table slot and blocks (page offset, pc, instructions), entry block first. */
  private readonly regionOf = new WeakMap<BlockFn, { slot: number; blocks: number[] }>();
  /** Chain table entries (their RAM offsets) of the regions installed, by RAM offset of their start. */
  private readonly linked = new Map<number, { slot: number; offs: number[] }>();
  /** WebAssembly bytes compiled so far (statistics). */
  bytes = 0;
  /** The fixed parts of loads and stores (made at the first build). */
  private tpl: MemTemplates | undefined;
  /** Each guest register's local in the region being built (regionBody). */
  private readonly local = LOCAL_OF;
  /** Locals of the region being built's fill loop (bulkStore): passes done at once, the store's index. */
  private bp = 0;
  private bi2 = 0;

  constructor(private readonly h: Hart, views: ArenaViews, memory: object) {
    const buffer = views.x.buffer as ArrayBuffer;
    const at = views.at;
    this.s = new Int32Array(buffer, at + S_AT, 32);
    this.chains = new Int32Array(buffer, at + CHAIN_AT, 4 << CHAIN_BITS);
    this.chains.fill(-1);
    this.entries = new Int32Array(buffer, at + ENT_AT, 4 << ENT_BITS);
    this.entries.fill(-1);
    this.xAt = at + X_AT;
    this.sAt = at + S_AT;
    this.tlbAt = at + TLB_AT;
    this.linesAt = at + LINES_AT;
    const s = this.s;
    // A slow call's steps: from the run that entered the region (execute's, or the fast run's).
    // Syncs the hart for a slow call at instruction `kt` of the running region (at `pc`); returns
    // the region's s0.
    const sync = (kt: number, pc: number): number => {
      const via = s[St.VIA] !== 0;
      const s0 = via ? s[St.S0] : this.s0;
      h.pc = pc;
      h.sliceDone = (via ? s[St.N0] : this.n0) + kt;
      h.sliceSteps = s0 + kt + 1;
      return s0;
    };
    // After a slow call: whether it faulted, the slice's room left, and that a slow call was made.
    const after = (s0: number): void => {
      s[St.FAULT] = h.fault !== 0 ? 1 : 0;
      const r = h.sliceEnd - s0;
      s[St.ROOM] = r > ROOM_MAX ? ROOM_MAX : r < -ROOM_MAX ? -ROOM_MAX : r;
      s[St.SLOW] = 1;
    };
    const load = (a: number, size: number, kt: number, pc: number): number => {
      const s0 = sync(kt, pc);
      const v = h.loadSlow(a, size);
      after(s0);
      return v | 0;
    };
    const store = (a: number, size: number, value: number, kt: number, pc: number): void => {
      const s0 = sync(kt, pc);
      h.storeSlow(a, size, value);
      after(s0);
      s[St.CODE] = h.codeWritten ? 1 : 0;
      h.codeWritten = false;
    };
    this.table = new WA!.Table({ element: 'anyfunc', initial: 64 });
    this.imports = { e: { m: memory, l: load, s: store } };
    // The trampoline is in the fast run's module (fast-run.wat), compiled once per process.
    const fast = instantiateFastRun(memory, views, this.table);
    this.call = fast.dispatch;
    this.fastRun = fast.run;
  }

  /**
   * Notes region function `fn` installed at RAM offset `off` for virtual `pc`, its entry block of
   * `len` instructions: regions leaving for the start of any of its blocks go on into it there (its
   * entry block last, so that it keeps its own entry whatever other regions hold the same block),
   * and the fast run enters it at `off` (the entry table).
   */
  link(off: number, pc: number, fn: BlockFn, len: number): void {
    const r = this.regionOf.get(fn);
    this.unlink(off);
    if (r === undefined) return;
    this.installs[r.slot]++;
    const offs: number[] = [];
    this.linked.set(off, { slot: r.slot, offs });
    // Regions are built for the pc they run at (the memo reuses them only at that pc).
    if (r.blocks[1] !== pc) return;
    const base = off - (off & 0xfff);
    const t = this.chains;
    for (let j = r.blocks.length - 3; j >= 0; j -= 3) {
      // Blocks in another page (FarCode) are entered only from the region's own.
      if (r.blocks[j + 1] >>> 12 !== pc >>> 12) continue;
      const at = base + r.blocks[j];
      const e = ((at >>> 1) & CHAIN_MASK) << 2;
      t[e] = at;
      t[e + 1] = r.blocks[j + 1];
      t[e + 2] = r.slot;
      t[e + 3] = r.blocks[j + 2] | ((j / 3) << 8);
      offs.push(at);
    }
    this.setEntry(off, pc, r.slot, 0, len);
  }

  /** Notes in the entry table that the page's start at RAM offset `off` (for `pc`) enters block `block` (of `len` instructions) of region `slot`. */
  private setEntry(off: number, pc: number, slot: number, block: number, len: number): void {
    const t = this.entries;
    const e = ((off >>> 1) & ENT_MASK) << 2;
    t[e] = off;
    t[e + 1] = pc;
    t[e + 2] = slot;
    t[e + 3] = len | (block << 8);
  }

  /** Forgets the region installed at RAM offset `off` (dropped): no region chains into it any more. */
  unlink(off: number): void {
    const l = this.linked.get(off);
    if (l === undefined) return;
    this.linked.delete(off);
    const t = this.chains;
    for (const at of l.offs) {
      const e = ((at >>> 1) & CHAIN_MASK) << 2;
      if (t[e] === at && t[e + 2] === l.slot) t[e] = -1;
    }
    const e = ((off >>> 1) & ENT_MASK) << 2;
    if (this.entries[e] === off) this.entries[e] = -1;
    if (--this.installs[l.slot] === 0 && !this.inMemo[l.slot]) this.release(l.slot);
  }

  /** Forgets every region (the code cache was flushed). */
  unlinkAll(): void {
    for (const l of this.linked.values()) {
      if (--this.installs[l.slot] === 0 && !this.inMemo[l.slot]) this.release(l.slot);
    }
    this.linked.clear();
    this.chains.fill(-1);
    this.entries.fill(-1);
  }

  /** The code cache's memo no longer holds region function `fn`: its slot is free once nothing has it installed. */
  forget(fn: BlockFn): void {
    const r = this.regionOf.get(fn);
    if (r === undefined || this.owner[r.slot] !== fn || !this.inMemo[r.slot]) return;
    this.inMemo[r.slot] = false;
    if (this.installs[r.slot] === 0) this.release(r.slot);
  }

  /** Table slots in use (regions installed or remembered by the memo). */
  get slotsInUse(): number {
    return this.slots - this.free.length;
  }

  /** Gives `slot` back (its module can be collected); the next region built takes it. */
  private release(slot: number): void {
    this.table.set(slot, null);
    this.owner[slot] = undefined;
    this.free.push(slot);
  }

  /**
   * The block of an installed region that starts at RAM offset `off` for virtual `pc` (the chain
   * table's entry): the region's function, the block's index and its instructions; undefined when
   * no installed region has a block there.
   */
  blockAt(off: number, pc: number): { owner: BlockFn; block: number; len: number } | undefined {
    const t = this.chains;
    const e = ((off >>> 1) & CHAIN_MASK) << 2;
    if (t[e] !== off || t[e + 1] !== pc) return undefined;
    const owner = this.owner[t[e + 2]];
    if (owner === undefined) return undefined;
    return { owner, block: t[e + 3] >>> 8, len: t[e + 3] & 255 };
  }

  /**
   * Installs at RAM offset `off` the entry into block `block` of region function `owner` (see
   * blockAt): the dispatcher runs the installed region from that block, as a chain would enter it,
   * instead of a region built for the start. It counts as an install of the region, so the
   * region's function and table slot live until unlink(off).
   */
  enter(off: number, pc: number, owner: BlockFn, block: number, len: number): BlockFn {
    const slot = this.regionOf.get(owner)!.slot;
    this.unlink(off);
    this.installs[slot]++;
    this.linked.set(off, { slot, offs: [] });
    this.setEntry(off, pc, slot, block, len);
    return (_h, _x, _r8, _r16, _r32, _tagR, _tagW, _toff, dtag, n0, s0) => this.run(slot, dtag, n0, s0, block);
  }

  /**
   * Raises the trap of a region the fast run entered (it left with FastExit.TRAP), as run does for
   * one execute entered.
   */
  raiseTrap(): void {
    const s = this.s;
    const h = this.h;
    h.pc = s[St.PC];
    if (s[St.TRAP] === 1) h.raiseFault();
    else h.raise(0, s[St.V]);
  }

  /** Runs region function `f` for the dispatcher (the BlockFn contract), from its block `block`. */
  private run(slot: number, dtag: number, n0: number, s0: number, block = 0): number {
    const h = this.h;
    this.n0 = n0;
    this.s0 = s0;
    this.s[St.VIA] = 0;
    const r = h.sliceEnd - s0;
    const tot = this.call(slot, dtag, r > ROOM_MAX ? ROOM_MAX : r, h.fetchTag, (h.breakpoints.size === 0 ? 1 : 0) | (block << 1));
    const s = this.s;
    h.pc = s[St.PC];
    h.tlb.hits += s[St.HITS];
    h.code!.stats.chainedRuns += s[St.CHAINS];
    if (s[St.TRAP] === 0) return tot;
    this.raiseTrap();
    return -1 - tot;
  }

  /** A BlockFn running the region of `blocks` (index: block by pc, -1 outside; see jit.ts), some of them in the page of `far`. */
  build(blocks: WasmBlock[], index: Map<number, number>, far?: FarCode): BlockFn {
    // The body goes into the reused encoder after room for the module's head, which is written
    // just before it once the body's size is known; the module is compiled from that view.
    const c = (ENC ??= new Code());
    const head = regionHead();
    const at = head.length + 24;
    c.reset(at);
    const locals = this.regionBody(c, blocks, index, far) - PARAMS;
    const end = c.n;
    const slot = this.free.length > 0 ? this.free.pop()! : this.slots++;
    if (slot >= this.table.length) this.table.grow(this.table.length);
    // The code cache puts every new function in its memo.
    this.installs[slot] = 0;
    this.inMemo[slot] = true;
    // The code section: one function, its locals (one run of i32) and body.
    const localsDecl = [1, ...uleb(locals), 0x7f];
    const fnSize = localsDecl.length + end - at;
    const code = [1, ...uleb(fnSize)];
    const codeHead = [10, ...uleb(code.length + fnSize), ...code, ...localsDecl];
    const start = at - codeHead.length - head.length;
    const b = c.b;
    b.set(head, start);
    for (let i = 0; i < codeHead.length; i++) b[start + head.length + i] = codeHead[i];
    const bytes = b.subarray(start, end);
    this.bytes += bytes.length;
    this.table.set(slot, new WA!.Instance(new WA!.Module(bytes), this.imports).exports.f);
    const fn: BlockFn = (_h, _x, _r8, _r16, _r32, _tagR, _tagW, _toff, dtag, n0, s0) => this.run(slot, dtag, n0, s0);
    const where: number[] = [];
    for (const bl of blocks) where.push(bl.pc & 0xfff, bl.pc, bl.ids.length);
    this.regionOf.set(fn, { slot, blocks: where });
    this.owner[slot] = fn;
    return fn;
  }

  /** Writes the function body (locals excluded) of a region into `c`; returns its locals' count (parameters included). */
  private regionBody(c: Code, blocks: WasmBlock[], index: Map<number, number>, far: FarCode | undefined): number {
    // Registers the region names: loaded on entry; those it writes are written back on exit.
    let used = 0;
    let written = 0;
    for (const b of blocks) {
      for (let k = 0; k < b.ids.length; k++) {
        const w = b.ws[k];
        const id = b.ids[k];
        used |= readsOf(id, w);
        const rd = (w >>> 7) & 31;
        if (writesRd(id) && rd !== 0) written |= 1 << rd;
      }
    }
    used = (used | written) & ~1;
    // Guest register r's local (r named by the region).
    const local = LOCAL_OF;
    let locals = G1;
    for (let r = 1; r < 32; r++) if (((used >>> r) & 1) !== 0) local[r] = locals++;
    const g = (r: number): number => local[r];
    for (const b of blocks) {
      if (b.end === End.BRANCH && b.target === b.pc && b.ids.length > 1 && fillLoop(b.ids, b.ws) !== undefined) {
        this.bp = locals;
        this.bi2 = locals + 1;
        locals += 2;
        break;
      }
    }
    for (let r = 1; r < 32; r++) {
      if (((used >>> r) & 1) !== 0) c.const(0).mem(W.LOAD, this.xAt + 4 * r).set(g(r));
    }
    const out = c.open(W.BLOCK);
    const top = c.open(W.LOOP);
    const n = blocks.length;
    const labels: number[] = [];
    for (let i = n - 1; i >= 0; i--) labels[i] = c.open(W.BLOCK);
    c.get(BI).op(W.BR_TABLE).uleb(n);
    for (let i = 0; i < n; i++) c.uleb(c.depth - labels[i]);
    c.uleb(c.depth - labels[n - 1]);
    const lenOf = (t: number): number => blocks[index.get(t)!].ids.length;
    /** Leaves the region with pc `pc` (a constant) after `tot` was updated. */
    const exitTo = (pc: number): void => {
      c.const(pc).set(EPC).br(out);
    };
    /**
     * Per block, the loads and stores among its first k instructions (k = 0 to its length). TLB
     * hits are counted per block: the accesses the block ran, added where its instructions are,
     * less one for each that took the slow path (which counts none), instead of one addition per
     * fast access.
     */
    const accesses = blocks.map((b) => {
      const a = [0];
      for (const id of b.ids) a.push(a[a.length - 1] + ((id >= Op.LB && id <= Op.LHU) || (id >= Op.SB && id <= Op.SW) ? 1 : 0));
      return a;
    });
    /** The block whose code is being emitted. */
    let cur = 0;
    /** Adds the current block's first k instructions (and their TLB hits) to the counts. */
    const addTot = (k: number): void => {
      if (k !== 0) c.get(TOT).const(k).op(W.ADD).set(TOT);
      const a = accesses[cur][k];
      if (a !== 0) c.get(HH).const(a).op(W.ADD).set(HH);
    };
    // Blocks in the far page (FarCode): entered from the start's page only while the TLB's fetch
    // entry for that page still has the tag and offset the region was built with.
    const home = blocks[0].pc >>> 12;
    const isFar = (i: number): boolean => blocks[i].pc >>> 12 !== home;
    // On to block i (at pc t) once its instructions fit the slice, else back to the dispatcher. A
    // block laid out after the current one is reached by a branch to its label (its code follows
    // that label's end); any other goes round the loop through the br_table.
    const enter = (i: number, t: number): void => {
      if (far !== undefined && isFar(i) && !isFar(cur)) {
        const ti = 4 * (far.tag & TLB_MASK);
        c.const(0).mem(W.LOAD, this.tlbAt + 4 * TLB_BYTES + ti).const(far.tag).op(W.NE);
        c.const(0).mem(W.LOAD, this.tlbAt + 3 * TLB_BYTES + ti).const(far.toff).op(W.NE).op(W.OR);
        c.open(W.IF);
        exitTo(t);
        c.end();
      }
      c.get(TOT).const(lenOf(t)).op(W.ADD).get(ROOM).op(W.GT_S);
      c.open(W.IF);
      exitTo(t);
      c.end();
      if (i > cur) c.br(labels[i]);
      else c.const(i).set(BI).br(top);
    };
    // On to block `t` after the current block's k instructions, or back to the dispatcher.
    const goTo = (t: number, k: number): void => {
      addTot(k);
      const i = index.get(t);
      if (i === undefined || i < 0) {
        exitTo(t);
        return;
      }
      enter(i, t);
    };
    // The blocks where a call of the region returns (they follow a jump or jalr that links): a
    // jalr going to one of them (the callee's return) goes on there as a jump would.
    const returns: number[] = [];
    for (const b of blocks) {
      if (b.end !== End.JUMP && b.end !== End.JALR) continue;
      const i = index.get(b.next);
      if (((b.ws[b.ws.length - 1] >>> 7) & 31) !== 0 && i !== undefined && i >= 0 && !returns.includes(i) && returns.length < MAX_RETURNS) returns.push(i);
    }
    const reg = (r: number): void => {
      if (r === 0) c.const(0);
      else c.get(g(r));
    };
    // rd = the value `value` pushes.
    const setReg = (rd: number, value: () => void): void => {
      value();
      c.set(g(rd));
    };
    for (let bi = 0; bi < n; bi++) {
      c.end();
      cur = bi;
      const b = blocks[bi];
      const len = b.ids.length;
      const self = b.end === End.BRANCH && b.target === b.pc && len > 1;
      let selfOut = 0;
      let selfTop = 0;
      if (self) {
        selfOut = c.open(W.BLOCK);
        selfTop = c.open(W.LOOP);
        this.bulkStore(c, b, reg, g);
      }
      for (let k = 0; k < len; k++) {
        const id = b.ids[k];
        const w = b.ws[k];
        const ipc = b.pcs[k];
        const next = k + 1 < len ? b.pcs[k + 1] : b.next;
        const last = k === len - 1;
        const rd = (w >>> 7) & 31;
        const rs1 = (w >>> 15) & 31;
        if (last && b.end !== End.FALL) {
          if (self) {
            addTot(len);
            this.cond(c, id, w, reg, true);
            c.brIf(selfOut);
            // Another pass only while it fits the slice.
            c.get(TOT).const(len).op(W.ADD).get(ROOM).op(W.GT_S);
            c.open(W.IF);
            exitTo(b.pc);
            c.end();
            c.br(selfTop);
            c.end();
            c.end();
            goTo(b.next, 0);
          } else if (b.end === End.BRANCH) {
            this.cond(c, id, w, reg);
            c.open(W.IF);
            goTo(b.target, len);
            c.end();
            goTo(b.next, len);
          } else if (b.end === End.JUMP) {
            if (rd !== 0) setReg(rd, () => c.const(next));
            goTo(b.target, len);
          } else {
            reg(rs1);
            c.const(w >> 20).op(W.ADD).const(~1).op(W.AND).set(V);
            if (!this.h.features.c) {
              c.get(V).const(2).op(W.AND);
              c.open(W.IF);
              addTot(k);
              c.const(2).set(TK);
              exitTo(ipc);
              c.end();
            }
            if (rd !== 0) setReg(rd, () => c.const(next));
            addTot(len);
            for (const i of returns) {
              c.get(V).const(blocks[i].pc).op(W.EQ);
              c.open(W.IF);
              enter(i, blocks[i].pc);
              c.end();
            }
            c.get(V).set(EPC).br(out);
          }
          continue;
        }
        this.insn(c, id, w, k, accesses[bi][k + 1], ipc, next, out, reg, setReg);
      }
      if (b.end === End.FALL) goTo(b.next, len);
    }
    c.end();
    c.end();
    // The exit: registers written back, then the status for the wrapper.
    for (let r = 1; r < 32; r++) {
      if (((written >>> r) & 1) !== 0) c.const(0).get(g(r)).mem(W.STORE, this.xAt + 4 * r);
    }
    const s = this.sAt;
    c.const(0).get(EPC).mem(W.STORE, s + 4 * St.PC);
    c.const(0).get(ROOM).mem(W.STORE, s + 4 * St.ROOM);
    c.const(0).get(HH).mem(W.STORE, s + 4 * St.HITS);
    c.const(0).get(TK).mem(W.STORE, s + 4 * St.TRAP);
    c.const(0).get(V).mem(W.STORE, s + 4 * St.V);
    c.get(TOT);
    c.op(W.END);
    return locals;
  }

  /**
   * A self-looping block that stores a register's value at consecutive addresses (`sb v, imm(p);
   * addi p, p, size; bne p, e`, a C memset's byte loop): at the top of its loop, all the passes but
   * one up to the end of the store's page, the slice's bound and the pass whose branch leaves, at
   * once, when the page has a write tag, as the JavaScript region does (jit.ts bulkStore); the last
   * of those passes then runs as usual. Emits nothing for any other block.
   */
  private bulkStore(c: Code, b: WasmBlock, reg: (r: number) => void, g: (r: number) => number): void {
    const f = fillLoop(b.ids, b.ws);
    if (f === undefined) return;
    const { size, shift, p, val, imm, e } = f;
    const n = b.ids.length;
    const BP = this.bp;
    const BI2 = this.bi2;
    const tagW = this.tlbAt + TLB_BYTES;
    const toff = this.tlbAt + 3 * TLB_BYTES;
    // a = p + imm; vp = a >>> 12; ti = (vp & TLB_MASK) * 4; a write tag and an aligned address.
    reg(p);
    c.const(imm).op(W.ADD).tee(A).const(12).op(W.SHR_U).tee(VP).const(TLB_MASK).op(W.AND).const(2).op(W.SHL).tee(TI);
    c.mem(W.LOAD, tagW).get(VP).get(DTAG).op(W.OR).op(W.EQ);
    if (size > 1) c.get(A).const(size - 1).op(W.AND).op(W.EQZ).op(W.AND);
    c.open(W.IF);
    // Passes that may run: to the page's end; within the slice; before the pass after which p
    // equals e (when e - p is a positive multiple of the size).
    c.const(4096).get(A).const(4095).op(W.AND).op(W.SUB).const(shift).op(W.SHR_U).set(BP);
    c.get(ROOM).get(TOT).op(W.SUB).const(n).op(W.DIV_S).tee(V).get(BP).op(W.LT_S);
    c.open(W.IF);
    c.get(V).set(BP);
    c.end();
    reg(e);
    reg(p);
    c.op(W.SUB).set(V);
    c.get(V).const(0).op(W.GT_S);
    c.get(V).const(size - 1).op(W.AND).op(W.EQZ).op(W.AND);
    c.get(V).const(shift).op(W.SHR_S).get(BP).op(W.LT_S).op(W.AND);
    c.open(W.IF);
    c.get(V).const(shift).op(W.SHR_S).set(BP);
    c.end();
    c.get(BP).const(1).op(W.GT_S);
    c.open(W.IF);
    c.get(BP).const(1).op(W.SUB).set(BP);
    // The RAM offset of the first store.
    c.get(A).get(TI).mem(W.LOAD, toff).op(W.ADD).set(V);
    if (size === 1) {
      c.get(V);
      reg(val);
      c.get(BP).op(0xfc).uleb(11).op(0);
    } else {
      const st = size === 4 ? W.STORE : W.STORE16;
      c.const(0).set(BI2);
      const loop = c.open(W.LOOP);
      c.get(V).get(BI2).const(shift).op(W.SHL).op(W.ADD);
      reg(val);
      c.mem(st, 0);
      c.get(BI2).const(1).op(W.ADD).tee(BI2).get(BP).op(W.LT_S).brIf(loop);
      c.end();
    }
    // p, the instructions and the TLB hits of those passes.
    reg(p);
    c.get(BP).const(shift).op(W.SHL).op(W.ADD).set(g(p));
    c.get(TOT).get(BP).const(n).op(W.MUL).op(W.ADD).set(TOT);
    c.get(HH).get(BP).op(W.ADD).set(HH);
    c.end();
    c.end();
  }

  /**
   * Pushes the condition of conditional branch `id` (its negation with `not`) for an `if` or
   * `br_if`: zero when it does not hold, else nonzero. Liftoff fuses a comparison (or an eqz) with
   * the `if` or `br_if` that follows it into a compare and a jump, so a negated branch is its
   * opposite comparison, and a comparison with x0 is the register itself or its eqz.
   */
  private cond(c: Code, id: number, w: number, reg: (r: number) => void, not = false): void {
    const rs1 = (w >>> 15) & 31;
    const rs2 = (w >>> 20) & 31;
    if ((id === Op.BEQ || id === Op.BNE) && (rs1 === 0 || rs2 === 0) && rs1 !== rs2) {
      reg(rs1 === 0 ? rs2 : rs1);
      if ((id === Op.BEQ) !== not) c.op(W.EQZ);
      return;
    }
    reg(rs1);
    reg(rs2);
    switch (id) {
      case Op.BEQ: c.op(not ? W.NE : W.EQ); break;
      case Op.BNE: c.op(not ? W.EQ : W.NE); break;
      case Op.BLT: c.op(not ? W.GE_S : W.LT_S); break;
      case Op.BGE: c.op(not ? W.LT_S : W.GE_S); break;
      case Op.BLTU: c.op(not ? W.GE_U : W.LT_U); break;
      default: c.op(not ? W.LT_U : W.GE_U); break;
    }
  }

  /** A non-control instruction (number k of its block, at `pc`) on the region's locals. */
  private insn(c: Code, id: number, w: number, k: number, through: number, pc: number, next: number, out: number, reg: (r: number) => void, setReg: (rd: number, value: () => void) => void): void {
    const rd = (w >>> 7) & 31;
    const rs1 = (w >>> 15) & 31;
    const rs2 = (w >>> 20) & 31;
    const immI = w >> 20;
    if (id === Op.FENCE || id === Op.FENCE_TSO || id === Op.PAUSE) return;
    const isLoad = id >= Op.LB && id <= Op.LHU;
    const isStore = id >= Op.SB && id <= Op.SW;
    if (!isLoad && !isStore) {
      if (rd === 0) return;
      setReg(rd, () => {
        if (!this.alu(c, id, w, pc, reg)) throw new Error(`instruction ${id} cannot be translated`);
      });
      return;
    }
    // Loads and stores are most of a region's bytes: their fixed parts are copied from templates
    // (memTemplates, the same bytes as the calls they stand for), the rest written around them.
    const t = (this.tpl ??= this.memTemplates());
    const size = id === Op.LW || id === Op.SW ? 4 : id === Op.LB || id === Op.LBU || id === Op.SB ? 1 : 2;
    const imm = isStore ? ((w >> 25) << 5) | ((w >>> 7) & 31) : immI;
    reg(rs1);
    c.const(imm);
    if (isLoad) {
      // The fast path, the slow call's arguments, the call and what follows it to the fault's test.
      c.raw(t.loadHead[id - Op.LB]);
      c.depth++;
      c.const(k).op(W.ADD).const(pc).op2(W.CALL, F_LOAD);
      c.raw(t.loadTail[id - Op.LB]);
      c.depth++;
      this.afterSlow(c, t, k, through, pc, out);
      c.get(ROOM).get(TOT).const(k + 1).op(W.ADD).op(W.LE_S);
      this.leaveCut(c, k, through, next, out, rd !== 0 ? rd : -1);
      c.end();
      if (rd !== 0) c.get(V).set(this.local[rd]);
      return;
    }
    c.raw(t.storeHead[size]);
    c.depth += 3;
    reg(rs2);
    c.raw(t.storeMid[size]);
    c.depth--;
    reg(rs2);
    c.raw(t.storeSlow[size]);
    c.depth--;
    reg(rs2);
    c.get(TOT).const(k).op(W.ADD).const(pc).op2(W.CALL, F_STORE);
    c.raw(t.fault);
    c.depth++;
    this.afterSlow(c, t, k, through, pc, out);
    c.get(ROOM).get(TOT).const(k + 1).op(W.ADD).op(W.LE_S);
    c.raw(t.codeWritten);
    this.leaveCut(c, k, through, next, out, -1);
    c.end();
  }

  /**
   * After a slow call whose fault is tested by the open `if`: leave on the fault (the block's
   * first k instructions and the hits of its accesses so far retired), then re-read the slice's room.
   */
  private afterSlow(c: Code, t: MemTemplates, k: number, through: number, pc: number, out: number): void {
    if (k !== 0) c.get(TOT).const(k).op(W.ADD).set(TOT);
    c.get(HH).const(through).op(W.ADD).set(HH);
    c.const(1).set(TK).const(pc).set(EPC).br(out);
    c.end();
    c.raw(t.room);
  }

  /**
   * With the condition on the stack (the slice ends at this instruction, or a store dropped
   * code): leaves after this instruction (k of its block), its value in register `rd` first
   * (-1: none).
   */
  private leaveCut(c: Code, k: number, through: number, next: number, out: number, rd: number): void {
    c.open(W.IF);
    if (rd >= 0) c.get(V).set(this.local[rd]);
    c.get(HH).const(through).op(W.ADD).set(HH);
    c.get(TOT).const(k + 1).op(W.ADD).set(TOT).const(next).set(EPC).br(out);
    c.end();
  }

  /** The fixed parts of loads and stores (insn), written once with the encoder's own calls. */
  private memTemplates(): MemTemplates {
    const s = this.sAt;
    const tagR = this.tlbAt;
    const tagW = this.tlbAt + TLB_BYTES;
    const tagC = this.tlbAt + 2 * TLB_BYTES;
    const toff = this.tlbAt + 3 * TLB_BYTES;
    const c = new Code(256);
    const take = (): Uint8Array => {
      const b = c.bytes();
      c.reset(0);
      return b;
    };
    // a = rs1 + imm; vp = a >>> 12; ti = (vp & TLB_MASK) * 4.
    const address = (): void => {
      c.op(W.ADD).tee(A).const(12).op(W.SHR_U).tee(VP).const(TLB_MASK).op(W.AND).const(2).op(W.SHL).set(TI);
    };
    /**
     * Pushes zero when the page has the tag at `base` and the access is aligned, else nonzero (one
     * value to branch on: Liftoff turns each comparison of a conjunction into a 0/1 value).
     */
    const missing = (base: number, size: number): void => {
      c.get(TI).mem(W.LOAD, base).get(VP).get(DTAG).op(W.OR).op(W.XOR);
      if (size > 1) c.get(A).const(size - 1).op(W.AND).op(W.OR);
    };
    /** A slow access is no TLB hit (the block's hits are added where it leaves or ends). */
    const noHit = (): void => {
      c.get(HH).const(1).op(W.SUB).set(HH);
    };
    const t: MemTemplates = { loadHead: [], loadTail: [], storeHead: [], storeMid: [], storeSlow: [], fault: new Uint8Array(0), room: new Uint8Array(0), codeWritten: new Uint8Array(0) };
    for (let id = Op.LB; id <= Op.LHU; id++) {
      const size = id === Op.LW ? 4 : id === Op.LB || id === Op.LBU ? 1 : 2;
      const op = id === Op.LW ? W.LOAD : id === Op.LH ? W.LOAD16_S : id === Op.LHU ? W.LOAD16_U : id === Op.LB ? W.LOAD8_S : W.LOAD8_U;
      // The fast path, then (else) the slow call's first arguments.
      address();
      missing(tagR, size);
      c.op(W.EQZ).op2(W.IF, W.VOID);
      c.get(A).get(TI).mem(W.LOAD, toff).op(W.ADD).mem(op, 0).set(V);
      c.op(W.ELSE);
      noHit();
      c.get(A).const(size).get(TOT);
      t.loadHead[id - Op.LB] = take();
      // The slow call's value, then its fault tested.
      if (id === Op.LH) c.op(W.EXT16_S);
      else if (id === Op.LB) c.op(W.EXT8_S);
      c.set(V);
      c.const(0).mem(W.LOAD, s + 4 * St.FAULT).op2(W.IF, W.VOID);
      t.loadTail[id - Op.LB] = take();
    }
    for (const size of [1, 2, 4]) {
      const st = size === 4 ? W.STORE : size === 2 ? W.STORE16 : W.STORE8;
      // Blocks `done` and `slow`; a page with a write tag stores here (value: rs2, written between).
      address();
      c.op2(W.BLOCK, W.VOID).op2(W.BLOCK, W.VOID);
      missing(tagW, size);
      c.op(W.EQZ).op2(W.IF, W.VOID);
      c.get(A).get(TI).mem(W.LOAD, toff).op(W.ADD);
      t.storeHead[size] = take();
      // A page holding code (code-write tag): the store stays here unless its word holds code.
      c.mem(st, 0).op(W.BR).uleb(2).op(W.END);
      missing(tagC, size);
      c.op(W.BR_IF).uleb(0);
      c.get(A).get(TI).mem(W.LOAD, toff).op(W.ADD).tee(V);
      c.const(7).op(W.SHR_U).const(2).op(W.SHL).mem(W.LOAD, this.linesAt);
      c.get(V).const(2).op(W.SHR_U).op(W.SHR_U).const(1).op(W.AND).op(W.BR_IF).uleb(0);
      c.get(V);
      t.storeMid[size] = take();
      // The slow call's first arguments.
      c.mem(st, 0).op(W.BR).uleb(1).op(W.END);
      noHit();
      c.get(A).const(size);
      t.storeSlow[size] = take();
    }
    c.const(0).mem(W.LOAD, s + 4 * St.FAULT).op2(W.IF, W.VOID);
    t.fault = take();
    c.const(0).mem(W.LOAD, s + 4 * St.ROOM).set(ROOM);
    t.room = take();
    c.const(0).mem(W.LOAD, s + 4 * St.CODE).op(W.OR);
    t.codeWritten = take();
    return t;
  }

  /** Pushes rd's value of an instruction that only computes from registers and constants; false for any other. */
  private alu(c: Code, id: number, w: number, pc: number, reg: (r: number) => void): boolean {
    const rs1 = (w >>> 15) & 31;
    const rs2 = (w >>> 20) & 31;
    const immI = w >> 20;
    const ri = (op: number): void => {
      reg(rs1);
      c.const(immI).op(op);
    };
    const rr = (op: number): void => {
      reg(rs1);
      reg(rs2);
      c.op(op);
    };
    const sh = (op: number): void => {
      reg(rs1);
      c.const(rs2).op(op);
    };
    switch (id) {
      case Op.LUI: c.const(w & 0xfffff000); return true;
      case Op.AUIPC: c.const((pc + (w & 0xfffff000)) | 0); return true;
      case Op.ADDI: ri(W.ADD); return true;
      case Op.SLTI: ri(W.LT_S); return true;
      case Op.SLTIU: ri(W.LT_U); return true;
      case Op.XORI: ri(W.XOR); return true;
      case Op.ORI: ri(W.OR); return true;
      case Op.ANDI: ri(W.AND); return true;
      case Op.SLLI: sh(W.SHL); return true;
      case Op.SRLI: sh(W.SHR_U); return true;
      case Op.SRAI: sh(W.SHR_S); return true;
      case Op.ADD: rr(W.ADD); return true;
      case Op.SUB: rr(W.SUB); return true;
      case Op.SLL: rr(W.SHL); return true;
      case Op.SLT: rr(W.LT_S); return true;
      case Op.SLTU: rr(W.LT_U); return true;
      case Op.XOR: rr(W.XOR); return true;
      case Op.SRL: rr(W.SHR_U); return true;
      case Op.SRA: rr(W.SHR_S); return true;
      case Op.OR: rr(W.OR); return true;
      case Op.AND: rr(W.AND); return true;
      case Op.MUL: rr(W.MUL); return true;
      case Op.MULH: case Op.MULHSU: case Op.MULHU:
        reg(rs1);
        c.op(id === Op.MULHU ? W.EXTEND_U : W.EXTEND_S);
        reg(rs2);
        c.op(id === Op.MULH ? W.EXTEND_S : W.EXTEND_U);
        c.op(W.I64_MUL).op(0x42).sleb(32).op(W.I64_SHR_U).op(W.WRAP);
        return true;
      case Op.DIV: case Op.DIVU: case Op.REM: case Op.REMU: {
        // Division by zero gives -1 (quotients) or the dividend (remainders); the signed overflow
        // (-2^31 / -1) gives -2^31 and remainder 0 (unprivileged spec §7.2).
        const rem = id === Op.REM || id === Op.REMU;
        reg(rs2);
        c.op(W.EQZ);
        c.open(W.IF, W.I32);
        if (rem) reg(rs1);
        else c.const(-1);
        c.op(W.ELSE);
        if (id === Op.DIV) {
          reg(rs1);
          c.const(-0x80000000).op(W.EQ);
          reg(rs2);
          c.const(-1).op(W.EQ).op(W.AND);
          c.open(W.IF, W.I32);
          reg(rs1);
          c.op(W.ELSE);
          rr(W.DIV_S);
          c.end();
        } else {
          rr(id === Op.DIVU ? W.DIV_U : id === Op.REM ? W.REM_S : W.REM_U);
        }
        c.end();
        return true;
      }
      default: return false;
    }
  }
}

/** Registers instruction `id` (bits `w`) reads, as a bit mask (bit 0, x0, included when named). */
function readsOf(id: number, w: number): number {
  if (id === Op.LUI || id === Op.AUIPC || id === Op.JAL || id === Op.FENCE || id === Op.FENCE_TSO || id === Op.PAUSE) return 0;
  const rs1 = 1 << ((w >>> 15) & 31);
  // I-type: rs1 and an immediate where rs2 would be.
  if (id === Op.JALR || (id >= Op.LB && id <= Op.LHU) || (id >= Op.ADDI && id <= Op.SRAI)) return rs1;
  return rs1 | (1 << ((w >>> 20) & 31));
}

/** Whether instruction `id` writes its rd field. */
function writesRd(id: number): boolean {
  return !(id >= Op.BEQ && id <= Op.BGEU) && !(id >= Op.SB && id <= Op.SW) && id !== Op.FENCE && id !== Op.FENCE_TSO && id !== Op.PAUSE;
}
