// qcow2 host cluster management (qcow2.txt "Host cluster management"): the refcount table, refcount
// blocks, cluster allocation, and growth of both. Refcounts are kept exact: an allocated cluster gets
// refcount 1 at once (in memory) and the caller frees a cluster only after no durable metadata points to it.
// Invariants kept on disk (docs/disks.md): every cluster with a nonzero refcount lies inside the file;
// a refcount block is durable before the table entry that points to it; the header names a refcount
// table only after that table and its blocks are durable.

import { geometry, getU64, HEADER_REFTABLE_OFFSET, MAX_REFTABLE_BYTES, setU64, type Geometry } from './qcow2-format';
import { DiskError, type ByteStore } from './types';

/** Most clean refcount blocks kept in memory. */
const CLEAN_BLOCK_LIMIT = 1024;

/** Reads refcount `index` of a refcount block (any refcount_order 0..6). */
export function getRefcount(block: Uint8Array, view: DataView, order: number, index: number): number {
  switch (order) {
    case 4: return view.getUint16(index * 2);
    case 5: return view.getUint32(index * 4);
    case 6: return getU64(view, index * 8);
    case 3: return block[index];
    default: {
      // Sub-byte widths: bit 0 of the refcount is the least significant bit of its bit range (qcow2.txt).
      const bits = 1 << order;
      const bit = index * bits;
      return (block[bit >> 3] >> (bit & 7)) & ((1 << bits) - 1);
    }
  }
}

/** Writes refcount `index` of a refcount block. */
export function setRefcount(block: Uint8Array, view: DataView, order: number, index: number, value: number): void {
  switch (order) {
    case 4: view.setUint16(index * 2, value); return;
    case 5: view.setUint32(index * 4, value); return;
    case 6: setU64(view, index * 8, value); return;
    case 3: block[index] = value; return;
    default: {
      const bits = 1 << order;
      const bit = index * bits;
      const mask = ((1 << bits) - 1) << (bit & 7);
      block[bit >> 3] = (block[bit >> 3] & ~mask) | ((value << (bit & 7)) & mask);
    }
  }
}

function corrupt(message: string): DiskError {
  return new DiskError('corrupt', `qcow2: ${message}`);
}

interface Block {
  bytes: Uint8Array;
  view: DataView;
}

/** The refcount structures of one open image, cached in memory and written back in a safe order. */
export class Refcounts {
  private readonly g: Geometry;
  private table: Uint8Array;
  private tableView: DataView;
  private tableOffset: number;
  private tableClusters: number;
  private readonly blocks = new Map<number, Block>();
  private readonly dirtyBlocks = new Set<number>();
  private readonly dirtyEntries = new Set<number>();
  private freeHint = 0;
  /** One past the highest cluster index allocated or inside the file. */
  end: number;

  /** Loads the refcount table; `metadata` collects the clusters holding refcount structures. */
  constructor(private readonly store: ByteStore, clusterBits: number, readonly order: number, tableOffset: number, tableClusters: number, private readonly metadata: Set<number>) {
    this.g = geometry(clusterBits, order);
    this.tableOffset = tableOffset;
    this.tableClusters = tableClusters;
    this.table = new Uint8Array(tableClusters * this.g.clusterSize);
    store.read(tableOffset, this.table);
    this.tableView = new DataView(this.table.buffer);
    this.end = Math.ceil(store.length / this.g.clusterSize);
    this.markTable(true);
  }

  /** Entries the refcount table can hold. */
  get capacity(): number {
    return this.table.length / 8;
  }

  /** Host offset of the refcount table. */
  get offset(): number {
    return this.tableOffset;
  }

  /** Whether refcount changes are waiting to be written. */
  get dirty(): boolean {
    return this.dirtyBlocks.size > 0 || this.dirtyEntries.size > 0;
  }

  /** Bytes of refcount blocks waiting to be written. */
  get dirtyBytes(): number {
    return this.dirtyBlocks.size * this.g.clusterSize;
  }

  /** Offset of refcount block `t`, or 0 when it is not allocated; throws on a malformed entry. */
  blockOffset(t: number): number {
    if (t >= this.capacity) return 0;
    const hi = this.tableView.getUint32(t * 8);
    const lo = this.tableView.getUint32(t * 8 + 4);
    if (lo & 0x1ff) throw corrupt(`refcount table entry ${t} has reserved bits set`);
    return hi * 2 ** 32 + lo;
  }

  /** The refcount of host cluster `c`. */
  get(c: number): number {
    const t = Math.floor(c / this.g.refblockEntries);
    const off = this.blockOffset(t);
    if (off === 0) return 0;
    const b = this.block(off);
    return getRefcount(b.bytes, b.view, this.order, c % this.g.refblockEntries);
  }

  /** Allocates `n` contiguous free clusters with refcount 1 and returns the first cluster index. */
  allocate(n: number): number {
    // Each round either succeeds or creates one refcount block (or grows the table), so it terminates.
    for (let round = 0; round < 1024; round++) {
      const start = this.findFree(n);
      const missing = this.firstMissingBlock(start, n);
      if (missing < 0) {
        for (let c = start; c < start + n; c++) this.requireUnused(c);
        for (let c = start; c < start + n; c++) this.set(c, 1);
        this.end = Math.max(this.end, start + n);
        return start;
      }
      this.createBlock(missing);
    }
    throw corrupt('cannot allocate clusters: the refcount structures do not settle');
  }

  /** Decrements the refcount of cluster `c`; a cluster reaching 0 becomes free for allocation. */
  free(c: number): void {
    const v = this.get(c);
    if (v === 0) throw corrupt(`freeing cluster ${c}, whose refcount is already 0`);
    this.set(c, v - 1);
    if (v === 1) this.freeHint = Math.min(this.freeHint, c);
  }

  /**
   * Makes every refcount change durable: grows the file over allocated clusters, writes the dirty
   * blocks, syncs, then writes the table entries that point to new blocks and syncs again.
   */
  writeBack(): void {
    const cs = this.g.clusterSize;
    if (this.store.length < this.end * cs) this.store.resize(this.end * cs);
    for (const off of this.dirtyBlocks) this.store.write(off, this.block(off).bytes);
    this.dirtyBlocks.clear();
    this.store.flush();
    if (this.dirtyEntries.size > 0) {
      const sectors = new Set([...this.dirtyEntries].map((t) => Math.floor((t * 8) / 512)));
      for (const s of sectors) this.store.write(this.tableOffset + s * 512, this.table.subarray(s * 512, s * 512 + 512));
      this.dirtyEntries.clear();
      this.store.flush();
    }
    this.trimCache();
  }

  private set(c: number, value: number): void {
    const off = this.blockOffset(Math.floor(c / this.g.refblockEntries));
    if (off === 0) throw new Error(`refcount block for cluster ${c} is missing`);
    if (value >= 2 ** (1 << this.order)) throw corrupt(`refcount of cluster ${c} would overflow ${1 << this.order} bits`);
    const b = this.block(off);
    setRefcount(b.bytes, b.view, this.order, c % this.g.refblockEntries, value);
    this.dirtyBlocks.add(off);
  }

  /**
   * A cluster with refcount 0 that holds the header, a table or a refcount block means damaged
   * refcounts: handing it out would overwrite metadata, so the write fails instead (QEMU's overlap
   * check does the same and marks the image corrupt).
   */
  private requireUnused(c: number): void {
    if (this.metadata.has(c)) {
      throw corrupt(`cluster ${c} holds image metadata but its refcount is 0 (damaged refcounts; qemu-img check -r all repairs them)`);
    }
  }

  private findFree(n: number): number {
    let run = 0;
    let firstFree = -1;
    for (let c = this.freeHint; ; c++) {
      if (this.get(c) === 0) {
        if (firstFree < 0) firstFree = c;
        if (++run === n) {
          const start = c - n + 1;
          this.freeHint = start === firstFree ? start + n : firstFree;
          return start;
        }
      } else {
        run = 0;
      }
    }
  }

  private firstMissingBlock(start: number, n: number): number {
    const e = this.g.refblockEntries;
    for (let t = Math.floor(start / e); t <= Math.floor((start + n - 1) / e); t++) {
      if (this.blockOffset(t) === 0) return t;
    }
    return -1;
  }

  private createBlock(t: number): void {
    if (t >= this.capacity) {
      this.growTable(t);
      return;
    }
    // Every cluster in a missing block's range has refcount 0; the block takes the range's first cluster
    // and so describes itself.
    const c = t * this.g.refblockEntries;
    this.requireUnused(c);
    const off = c * this.g.clusterSize;
    const block = this.newBlock();
    setRefcount(block.bytes, block.view, this.order, 0, 1);
    this.blocks.set(off, block);
    this.dirtyBlocks.add(off);
    setU64(this.tableView, t * 8, off);
    this.dirtyEntries.add(t);
    this.metadata.add(c);
    this.end = Math.max(this.end, c + 1);
  }

  private growTable(needed: number): void {
    // Everything pending goes to disk first, so the new table copies only durable entries.
    this.writeBack();
    const cs = this.g.clusterSize;
    const e = this.g.refblockEntries;
    const oldClusters = this.tableClusters;
    let k = 1;
    let clusters = 0;
    for (;;) {
      clusters = Math.max(oldClusters * 2, Math.ceil(((needed + k) * 8) / cs));
      const k2 = Math.ceil((k + clusters) / e);
      if (k2 <= k) break;
      k = k2;
    }
    if (clusters * cs > MAX_REFTABLE_BYTES) throw new DiskError('range', `qcow2: the refcount table would exceed ${MAX_REFTABLE_BYTES} bytes`);
    // New blocks for ranges needed..needed+k-1 sit at the start of range `needed`, the table right after;
    // those clusters are free because no block covered them.
    const start = needed * e;
    const table = new Uint8Array(clusters * cs);
    table.set(this.table);
    const tv = new DataView(table.buffer);
    const newBlocks: Block[] = [];
    for (let j = 0; j < k; j++) {
      newBlocks.push(this.newBlock());
      setU64(tv, (needed + j) * 8, (start + j) * cs);
    }
    for (let c = start; c < start + k + clusters; c++) {
      const b = newBlocks[Math.floor(c / e) - needed];
      setRefcount(b.bytes, b.view, this.order, c % e, 1);
    }
    newBlocks.forEach((b, j) => this.store.write((start + j) * cs, b.bytes));
    this.store.write((start + k) * cs, table);
    this.store.flush();
    const field = new Uint8Array(12);
    const fv = new DataView(field.buffer);
    setU64(fv, 0, (start + k) * cs);
    fv.setUint32(8, clusters);
    this.store.write(HEADER_REFTABLE_OFFSET, field);
    this.store.flush();
    // The old table is unreferenced once the header switch is durable.
    const oldStart = this.tableOffset / cs;
    this.markTable(false);
    this.table = table;
    this.tableView = tv;
    this.tableOffset = (start + k) * cs;
    this.tableClusters = clusters;
    newBlocks.forEach((b, j) => this.blocks.set((start + j) * cs, b));
    for (let j = 0; j < k; j++) this.metadata.add(start + j);
    this.markTable(true);
    this.end = Math.max(this.end, start + k + clusters);
    for (let c = oldStart; c < oldStart + oldClusters; c++) this.free(c);
  }

  private markTable(add: boolean): void {
    const first = this.tableOffset / this.g.clusterSize;
    for (let c = first; c < first + this.tableClusters; c++) {
      if (add) this.metadata.add(c);
      else this.metadata.delete(c);
    }
    if (add) {
      for (let t = 0; t < this.capacity; t++) {
        const off = this.blockOffset(t);
        if (off !== 0) this.metadata.add(off / this.g.clusterSize);
      }
    }
  }

  private newBlock(): Block {
    const bytes = new Uint8Array(this.g.clusterSize);
    return { bytes, view: new DataView(bytes.buffer) };
  }

  private block(off: number): Block {
    let b = this.blocks.get(off);
    if (b) return b;
    const cs = this.g.clusterSize;
    if (off % cs !== 0) throw corrupt(`refcount block offset 0x${off.toString(16)} is not cluster-aligned`);
    if (off < cs) throw corrupt('a refcount block overlaps the header');
    if (off + cs > Math.max(this.store.length, this.end * cs)) throw corrupt(`refcount block at 0x${off.toString(16)} lies past the end of the file`);
    b = this.newBlock();
    this.store.read(off, b.bytes);
    this.blocks.set(off, b);
    return b;
  }

  private trimCache(): void {
    if (this.blocks.size <= CLEAN_BLOCK_LIMIT) return;
    for (const off of this.blocks.keys()) {
      if (this.blocks.size <= CLEAN_BLOCK_LIMIT / 2) break;
      if (!this.dirtyBlocks.has(off)) this.blocks.delete(off);
    }
  }
}
