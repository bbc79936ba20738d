// The bt translation cache: translated blocks keyed by guest-physical address and the virtual
// privilege they were translated for, the guest pages that hold translated code (the VMM
// write-protects them), and the history of invalidations for the translation-cache view.

import type { BtBlockFn, GuestInsn } from './translate';

/** One translated block. */
export class BtBlock {
  /** Whether the block may still run (a write to its code, DMA or a reset drops it). */
  valid = true;
  /** Times the dispatcher found it in the cache (a chained jump into it counts too). */
  hits = 0;
  /** Chaining: the pc the block last continued at, the block there, and the context it was valid in. */
  chainPc = -1;
  chain: BtBlock | undefined = undefined;
  chainGen = -1;

  constructor(
    /** Guest-virtual pc of its first instruction. */
    readonly pc: number,
    /** Guest-physical address of its first instruction. */
    readonly gpa: number,
    /** Virtual privilege it was translated for (1 = S, 3 = M). */
    readonly priv: number,
    readonly fn: BtBlockFn,
    /** Instructions (a callout counts). */
    readonly length: number,
    /** Bytes of guest code from gpa. */
    readonly bytes: number,
    /** The generated function body. */
    readonly source: string,
    readonly insns: readonly GuestInsn[],
  ) {}
}

/** Why translations were dropped. */
export type InvalidationCause = 'store' | 'dma' | 'reset';

/** One invalidation, for the translation-cache view. */
export interface Invalidation {
  /** The guest's clock (its steps) when it happened, and the instructions it had retired. */
  step: number;
  instret: number;
  /** Guest-virtual pc of the store that wrote the code (-1 for DMA and reset). */
  pc: number;
  /** Guest-physical address and length of the write. */
  gpa: number;
  length: number;
  cause: InvalidationCause;
  /** Guest-physical start addresses of the blocks dropped. */
  blocks: number[];
}

/** Invalidations kept for the view. */
export const INVALIDATION_HISTORY = 32;

/**
 * Cache key of a block start within its privilege's map: a small integer for every guest-physical
 * address below 4 GiB (code is 2-byte aligned), so V8 hashes it without a heap number.
 */
function keyOf(gpa: number): number {
  return gpa / 2 - 0x40000000;
}

/** Translated blocks of one VM. */
export class TranslationCache {
  /** Live blocks by virtual privilege (U, S, -, M), then by keyOf their address. */
  private readonly blocks = [new Map<number, BtBlock>(), new Map<number, BtBlock>(), new Map<number, BtBlock>(), new Map<number, BtBlock>()];
  private count = 0;
  /** Live blocks by guest-physical page. */
  private readonly pages = new Map<number, BtBlock[]>();
  private readonly history: Invalidation[] = [];

  /** The block translated at `gpa` for `priv`, if it is live. */
  get(gpa: number, priv: number): BtBlock | undefined {
    return this.blocks[priv].get(keyOf(gpa));
  }

  /** Adds a block (replacing one at the same key); returns whether its page held no code before. */
  put(block: BtBlock): boolean {
    const key = keyOf(block.gpa);
    const map = this.blocks[block.priv];
    const old = map.get(key);
    const gpn = Math.floor(block.gpa / 4096);
    let list = this.pages.get(gpn);
    const fresh = list === undefined || list.length === 0;
    if (list === undefined) this.pages.set(gpn, (list = []));
    if (old !== undefined) {
      old.valid = false;
      const i = list.indexOf(old);
      if (i >= 0) list.splice(i, 1);
    } else {
      this.count++;
    }
    map.set(key, block);
    list.push(block);
    return fresh;
  }

  /** Whether guest page `gpn` holds translated code. */
  holdsCode(gpn: number): boolean {
    const list = this.pages.get(gpn);
    return list !== undefined && list.length > 0;
  }

  /**
   * Sets in `bits` (from index `at`: 32 words of 32 bits, a bit per 4-byte word of the page) the
   * words of guest page `gpn` that hold a live block's code.
   */
  markCode(gpn: number, bits: Uint32Array, at: number): void {
    const list = this.pages.get(gpn);
    if (list === undefined) return;
    for (const b of list) {
      const first = (b.gpa & 0xfff) >>> 2;
      const last = ((b.gpa & 0xfff) + Math.max(b.bytes, 1) - 1) >>> 2;
      for (let w = first; w <= last && w < 1024; w++) bits[at + (w >>> 5)] |= 1 << (w & 31);
    }
  }

  /**
   * Drops the blocks whose code overlaps `length` bytes at `gpa` (within one page); returns how
   * many. Every invalidation that dropped a block is remembered with the guest's `step` and
   * `instret` and, for a guest store, the store's `pc`.
   */
  invalidate(gpa: number, length: number, cause: InvalidationCause, step: number, instret: number, pc = -1): number {
    const gpn = Math.floor(gpa / 4096);
    const list = this.pages.get(gpn);
    if (list === undefined || list.length === 0) return 0;
    const dropped: number[] = [];
    for (let j = list.length - 1; j >= 0; j--) {
      const b = list[j];
      if (b.gpa < gpa + length && b.gpa + b.bytes > gpa) {
        b.valid = false;
        this.blocks[b.priv].delete(keyOf(b.gpa));
        this.count--;
        list[j] = list[list.length - 1];
        list.pop();
        dropped.push(b.gpa);
      }
    }
    if (dropped.length > 0) {
      this.history.push({ step, instret, pc, gpa, length, cause, blocks: dropped.sort((p, q) => p - q) });
      if (this.history.length > INVALIDATION_HISTORY) this.history.shift();
    }
    return dropped.length;
  }

  /** Drops every block (the guest was rebooted); returns how many. */
  clear(step: number, instret: number): number {
    const n = this.count;
    for (const map of this.blocks) {
      for (const b of map.values()) b.valid = false;
      map.clear();
    }
    this.count = 0;
    this.pages.clear();
    if (n > 0) {
      this.history.push({ step, instret, pc: -1, gpa: 0, length: 0, cause: 'reset', blocks: [] });
      if (this.history.length > INVALIDATION_HISTORY) this.history.shift();
    }
    return n;
  }

  /** The live blocks, by guest-physical address. */
  entries(): BtBlock[] {
    return this.blocks.flatMap((map) => [...map.values()]).sort((p, q) => p.gpa - q.gpa || p.priv - q.priv);
  }

  /** The last invalidations, oldest first. */
  invalidations(): readonly Invalidation[] {
    return this.history;
  }

  /** Live blocks. */
  get size(): number {
    return this.count;
  }
}
