// qcow2 images (QEMU docs/interop/qcow2.txt): version 3 read/write, version 2 read/write without zero
// flags, backing files, zero clusters, discard, compressed clusters read (raw deflate).
//
// Write ordering (docs/disks.md): guest data goes straight to the file into clusters no durable metadata
// points to yet; metadata changes stay in memory until flush(), which writes them in dependency order
// with a sync after each step: refcount blocks, refcount table entries, L2 tables, L1 entries. Clusters
// that lose their last reference are freed only after that, so a crash at any point leaves at worst
// leaked clusters, never a reference to a cluster whose refcount is not durable or that was reused.

import { inflateSync } from 'fflate';
import {
  buildHeader, ClusterKind, decodeL2, entryOffset, geometry, HEADER_AUTOCLEAR, OFLAG_COPIED, OFLAG_ZERO,
  readHeader, setU64, type Geometry, type L2Entry, type Qcow2Header,
} from './qcow2-format';
import { Refcounts } from './qcow2-refcount';
import { DiskError, type BlockDevice, type ByteStore } from './types';

/** Opens the backing file named in an image header (name as stored, format from the header extension). */
export type BackingOpener = (name: string, format: string | undefined) => BlockDevice;

/** Options for Qcow2Disk.open. */
export interface Qcow2OpenOptions {
  /** Opens the backing file; an image with a backing file and no opener fails to open. */
  openBacking?: BackingOpener;
}

/** Options for createQcow2. */
export interface Qcow2CreateOptions {
  /** log2 of the cluster size, 9..21 (default 16: 64 KiB clusters, as qemu-img). */
  clusterBits?: number;
  /** Backing file name as stored in the image and its format. */
  backing?: { file: string; format: 'raw' | 'qcow2' };
}

/** Clean L2 tables kept in memory, in bytes. */
const L2_CACHE_BYTES = 32 * 1024 * 1024;
/** Dirty metadata held in memory before an operation starts with a flush of its own. */
const DIRTY_LIMIT_BYTES = 16 * 1024 * 1024;

function corrupt(message: string): DiskError {
  return new DiskError('corrupt', `qcow2: ${message}`);
}

/** A qcow2 image over a byte store. */
export class Qcow2Disk implements BlockDevice {
  readonly format = 'qcow2';
  readonly size: number;
  readonly header: Qcow2Header;
  private readonly g: Geometry;
  private readonly l1: Uint8Array;
  private readonly l1View: DataView;
  private readonly dirtyL1 = new Set<number>();
  private readonly l2Cache = new Map<number, Uint8Array>();
  private readonly dirtyL2 = new Set<number>();
  private readonly metadata = new Set<number>();
  private readonly refs: Refcounts | undefined;
  private pendingFree: number[] = [];
  private dataWritten = false;
  private inflated: { offset: number; data: Uint8Array } | undefined;
  private closed = false;

  private constructor(private readonly store: ByteStore, readonly backing: BlockDevice | undefined, header: Qcow2Header) {
    this.header = header;
    this.g = geometry(header.clusterBits, header.refcountOrder);
    this.size = Math.floor(header.size / 512) * 512;
    this.l1 = new Uint8Array(header.l1Size * 8);
    store.read(header.l1TableOffset, this.l1);
    this.l1View = new DataView(this.l1.buffer);
    const cs = this.g.clusterSize;
    this.metadata.add(0);
    for (let i = 0; i < header.l1Size * 8; i += cs) this.metadata.add((header.l1TableOffset + i) / cs);
    for (let i = 0; i < header.l1Size; i++) {
      const off = this.l2Offset(i);
      if (off !== 0) this.metadata.add(off / cs);
    }
    if (!store.readOnly) {
      this.refs = new Refcounts(store, header.clusterBits, header.refcountOrder, header.refcountTableOffset, header.refcountTableClusters, this.metadata);
    }
  }

  /** Opens an image; a writable store gives a writable disk. Throws DiskError on a malformed or unsupported image. */
  static open(store: ByteStore, opts: Qcow2OpenOptions = {}): Qcow2Disk {
    const header = readHeader(store);
    if (!store.readOnly) {
      const refuse = (why: string): never => {
        throw new DiskError('unsupported', `qcow2: ${why}; open the image read-only (or repair it with qemu-img check -r all)`);
      };
      if (header.incompatibleFeatures & 1n) refuse('the image is marked dirty (its refcounts may be stale)');
      if (header.incompatibleFeatures & 2n) refuse('the image is marked corrupt');
      if (header.nbSnapshots > 0) refuse(`the image has ${header.nbSnapshots} internal snapshot(s), which vmlab cannot write around`);
    }
    let backing: BlockDevice | undefined;
    if (header.backingFile !== undefined) {
      if (!opts.openBacking) throw new DiskError('unsupported', `qcow2: the image needs its backing file '${header.backingFile}'`);
      backing = opts.openBacking(header.backingFile, header.backingFormat);
    }
    try {
      const disk = new Qcow2Disk(store, backing, header);
      if (!store.readOnly && header.autoclearFeatures !== 0n) {
        // qcow2.txt: a writer must clear auto-clear bits it does not know before changing the image.
        store.write(HEADER_AUTOCLEAR, new Uint8Array(8));
        store.flush();
        header.autoclearFeatures = 0n;
      }
      return disk;
    } catch (err) {
      backing?.close();
      throw err;
    }
  }

  get readOnly(): boolean {
    return this.store.readOnly;
  }

  /** Cluster size in bytes. */
  get clusterSize(): number {
    return this.g.clusterSize;
  }

  /** The L2 entry that maps guest cluster `gc` (unallocated when its L2 table is missing). */
  entry(gc: number): L2Entry {
    const l2 = this.l2Table(Math.floor(gc / this.g.l2Entries), false);
    if (!l2) return { kind: ClusterKind.Unallocated, offset: 0, compressedBytes: 0, copied: false };
    const i = (gc % this.g.l2Entries) * 8;
    const v = new DataView(l2.buffer, l2.byteOffset);
    const e = decodeL2(v.getUint32(i), v.getUint32(i + 4), this.g, this.header.version);
    if (e.error) throw corrupt(`L2 entry for guest cluster ${gc}: ${e.error}`);
    return e;
  }

  /** Bytes of the virtual disk this image itself defines (data, compressed or zero clusters), not its backing. */
  allocatedBytes(): number {
    let total = 0;
    const clusters = Math.ceil(this.size / this.g.clusterSize);
    for (let gc = 0; gc < clusters; gc++) {
      if (gc % this.g.l2Entries === 0 && this.l2Offset(gc / this.g.l2Entries) === 0) {
        gc += this.g.l2Entries - 1;
        continue;
      }
      if (this.entry(gc).kind !== ClusterKind.Unallocated) total += Math.min(this.g.clusterSize, this.size - gc * this.g.clusterSize);
    }
    return total;
  }

  read(offset: number, into: Uint8Array): void {
    this.range(offset, into.length);
    const cs = this.g.clusterSize;
    for (let done = 0; done < into.length;) {
      const pos = offset + done;
      const within = pos % cs;
      const n = Math.min(cs - within, into.length - done);
      this.readCluster(Math.floor(pos / cs), within, into.subarray(done, done + n));
      done += n;
    }
  }

  write(offset: number, data: Uint8Array): void {
    this.writable();
    this.range(offset, data.length);
    this.maybeCheckpoint();
    const cs = this.g.clusterSize;
    for (let done = 0; done < data.length;) {
      const pos = offset + done;
      const within = pos % cs;
      const n = Math.min(cs - within, data.length - done);
      this.writeCluster(Math.floor(pos / cs), within, data.subarray(done, done + n));
      done += n;
    }
  }

  discard(offset: number, length: number): void {
    this.writable();
    this.range(offset, length);
    this.maybeCheckpoint();
    // A discarded cluster reads as zeros: unallocated without a backing file, the zero flag with one
    // (version 2 has no zero flag, so there the clusters keep their data). Partial clusters stay as they are.
    this.forWholeClusters(offset, length, (gc) => {
      if (!this.backing) this.setEntry(gc, 0, 0);
      else if (this.header.version >= 3) this.setEntry(gc, 0, OFLAG_ZERO);
    });
  }

  writeZeroes(offset: number, length: number): void {
    this.writable();
    this.range(offset, length);
    this.maybeCheckpoint();
    const cs = this.g.clusterSize;
    const whole = this.forWholeClusters(offset, length, (gc) => {
      if (this.header.version >= 3) this.setEntry(gc, 0, OFLAG_ZERO);
      else if (!this.backing) this.setEntry(gc, 0, 0);
      else this.writeCluster(gc, 0, new Uint8Array(cs));
    });
    const zeroPart = (from: number, to: number): void => {
      for (let pos = from; pos < to;) {
        const gc = Math.floor(pos / cs);
        const n = Math.min(cs - (pos % cs), to - pos);
        if (!this.readsAsZero(gc)) this.writeCluster(gc, pos % cs, new Uint8Array(n));
        pos += n;
      }
    };
    zeroPart(offset, Math.min(offset + length, whole.start));
    zeroPart(Math.max(offset, whole.end), offset + length);
  }

  /**
   * Makes every completed write durable and leaves the image consistent on disk: refcounts, then
   * L2 tables, then L1 entries, each step synced before the next (see the file comment).
   */
  flush(): void {
    if (this.closed) throw new DiskError('io', 'qcow2: the disk is closed');
    if (this.store.readOnly || !this.refs) return;
    const metadataDirty = this.refs.dirty || this.dirtyL2.size > 0 || this.dirtyL1.size > 0;
    if (!metadataDirty && this.pendingFree.length === 0) {
      if (this.dataWritten) this.store.flush();
      this.dataWritten = false;
      return;
    }
    this.refs.writeBack();
    if (this.dirtyL2.size > 0) {
      for (const off of this.dirtyL2) this.store.write(off, this.l2Cache.get(off)!);
      this.dirtyL2.clear();
      this.store.flush();
    }
    if (this.dirtyL1.size > 0) {
      const sectors = new Set([...this.dirtyL1].map((i) => Math.floor((i * 8) / 512)));
      for (const s of sectors) {
        const bytes = this.l1.subarray(s * 512, Math.min(this.l1.length, s * 512 + 512));
        this.store.write(this.header.l1TableOffset + s * 512, bytes);
      }
      this.dirtyL1.clear();
      this.store.flush();
    }
    // No durable metadata points at these clusters any more: now they may be freed and reused.
    const freed = this.pendingFree;
    this.pendingFree = [];
    for (const c of freed) this.refs.free(c);
    this.dataWritten = false;
    this.trimL2Cache();
  }

  close(): void {
    if (this.closed) return;
    try {
      if (!this.store.readOnly && this.refs) {
        this.flush();
        // Persist the frees of the last flush too, so a cleanly closed image has no leaked clusters.
        if (this.refs.dirty) this.refs.writeBack();
      }
    } finally {
      this.closed = true;
      this.store.close();
      this.backing?.close();
    }
  }

  private maybeCheckpoint(): void {
    if (!this.refs) return;
    const dirty = this.refs.dirtyBytes + this.dirtyL2.size * this.g.clusterSize;
    if (dirty > DIRTY_LIMIT_BYTES || this.pendingFree.length > 65536) this.flush();
  }

  private readCluster(gc: number, within: number, into: Uint8Array): void {
    const e = this.entry(gc);
    switch (e.kind) {
      case ClusterKind.Normal:
        this.checkData(e.offset, gc);
        this.store.read(e.offset + within, into);
        return;
      case ClusterKind.Compressed:
        into.set(this.inflate(e, gc).subarray(within, within + into.length));
        return;
      case ClusterKind.ZeroPlain:
      case ClusterKind.ZeroAlloc:
        into.fill(0);
        return;
      default:
        this.readBacking(gc * this.g.clusterSize + within, into);
    }
  }

  private readBacking(pos: number, into: Uint8Array): void {
    into.fill(0);
    if (!this.backing || pos >= this.backing.size) return;
    const n = Math.min(into.length, this.backing.size - pos);
    this.backing.read(pos, n === into.length ? into : into.subarray(0, n));
  }

  private inflate(e: L2Entry, gc: number): Uint8Array {
    if (this.inflated?.offset === e.offset) return this.inflated.data;
    if (e.offset < this.g.clusterSize || e.offset >= this.store.length) throw corrupt(`compressed cluster for guest cluster ${gc} lies outside the file`);
    const packed = new Uint8Array(e.compressedBytes);
    this.store.read(e.offset, packed);
    let data: Uint8Array;
    try {
      data = inflateSync(packed, { out: new Uint8Array(this.g.clusterSize) });
    } catch (err) {
      throw corrupt(`compressed cluster for guest cluster ${gc} does not inflate: ${(err as Error).message}`);
    }
    if (data.length !== this.g.clusterSize) {
      const full = new Uint8Array(this.g.clusterSize);
      full.set(data.subarray(0, this.g.clusterSize));
      data = full;
    }
    this.inflated = { offset: e.offset, data };
    return data;
  }

  private writeCluster(gc: number, within: number, data: Uint8Array): void {
    const cs = this.g.clusterSize;
    const e = this.entry(gc);
    if (e.kind === ClusterKind.Normal && (e.copied || this.refs!.get(e.offset / cs) === 1)) {
      // Refcount 1: the cluster is this entry's alone and is overwritten in place.
      this.checkData(e.offset, gc);
      if (this.metadata.has(e.offset / cs)) throw corrupt(`guest cluster ${gc} maps onto image metadata at 0x${e.offset.toString(16)}`);
      this.store.write(e.offset + within, data);
      this.dataWritten = true;
      if (!e.copied) this.setEntry(gc, e.offset, 0, false);
      return;
    }
    // Copy on write into a fresh cluster: the old contents (backing, zeros, compressed or shared data)
    // fill the parts of the cluster this write does not cover.
    let full = data;
    if (within !== 0 || data.length !== cs) {
      full = new Uint8Array(cs);
      if (e.kind === ClusterKind.Normal) this.store.read(e.offset, full);
      else if (e.kind === ClusterKind.Compressed) full.set(this.inflate(e, gc));
      else if (e.kind === ClusterKind.Unallocated) this.readBacking(gc * cs, full);
      full.set(data, within);
    }
    const host = this.refs!.allocate(1) * cs;
    this.store.write(host, full);
    this.dataWritten = true;
    this.setEntry(gc, host, 0);
  }

  /** Points guest cluster `gc` at `host` (0 for none) with extra low flags; queues the old clusters' frees. */
  private setEntry(gc: number, host: number, lowFlags: number, release = true): void {
    const l2Index = Math.floor(gc / this.g.l2Entries);
    const old = this.entry(gc);
    if (old.kind === ClusterKind.Unallocated && host === 0 && lowFlags === 0) return;
    if (old.kind === ClusterKind.ZeroPlain && host === 0 && lowFlags === OFLAG_ZERO) return;
    const l2 = this.l2Table(l2Index, true)!;
    const v = new DataView(l2.buffer, l2.byteOffset);
    const i = (gc % this.g.l2Entries) * 8;
    v.setUint32(i, host === 0 ? 0 : (OFLAG_COPIED | Math.floor(host / 2 ** 32)) >>> 0);
    v.setUint32(i + 4, ((host >>> 0) | lowFlags) >>> 0);
    this.dirtyL2.add(this.l2Offset(l2Index));
    if (!release) return;
    const cs = this.g.clusterSize;
    if (old.kind === ClusterKind.Normal || old.kind === ClusterKind.ZeroAlloc) {
      this.pendingFree.push(old.offset / cs);
    } else if (old.kind === ClusterKind.Compressed) {
      // The compressed bytes may span two host clusters; each holds one reference (as QEMU counts them).
      const first = Math.floor(old.offset / cs);
      const last = Math.floor((old.offset + old.compressedBytes - 1) / cs);
      for (let c = first; c <= last; c++) this.pendingFree.push(c);
    }
    if (this.inflated?.offset === old.offset) this.inflated = undefined;
  }

  private l2Offset(l1Index: number): number {
    const hi = this.l1View.getUint32(l1Index * 8);
    const lo = this.l1View.getUint32(l1Index * 8 + 4);
    if ((hi & 0x7f000000) !== 0 || (lo & 0x1ff) !== 0) throw corrupt(`L1 entry ${l1Index} has reserved bits set`);
    return entryOffset(hi, lo);
  }

  private l2Table(l1Index: number, allocate: boolean): Uint8Array | undefined {
    const cs = this.g.clusterSize;
    if (l1Index >= this.header.l1Size) throw corrupt(`guest cluster beyond the L1 table (index ${l1Index})`);
    let off = this.l2Offset(l1Index);
    if (off === 0) {
      if (!allocate) return undefined;
      off = this.refs!.allocate(1) * cs;
      const table = new Uint8Array(cs);
      this.l2Cache.set(off, table);
      this.dirtyL2.add(off);
      this.metadata.add(off / cs);
      this.setL1(l1Index, off);
      return table;
    }
    let table = this.l2Cache.get(off);
    if (table) {
      this.l2Cache.delete(off);
      this.l2Cache.set(off, table);
    } else {
      this.checkTable(off, l1Index);
      table = new Uint8Array(cs);
      this.store.read(off, table);
      this.l2Cache.set(off, table);
    }
    if (allocate && !(this.l1View.getUint32(l1Index * 8) & OFLAG_COPIED)) {
      // An L2 table without the copied flag is shared (snapshots); vmlab writes only unshared tables.
      if (this.refs!.get(off / cs) !== 1) throw new DiskError('unsupported', `qcow2: L2 table ${l1Index} is shared; vmlab does not copy shared tables`);
      this.setL1(l1Index, off);
    }
    return table;
  }

  private setL1(l1Index: number, off: number): void {
    this.l1View.setUint32(l1Index * 8, (OFLAG_COPIED | Math.floor(off / 2 ** 32)) >>> 0);
    this.l1View.setUint32(l1Index * 8 + 4, off >>> 0);
    this.dirtyL1.add(l1Index);
  }

  private checkTable(off: number, l1Index: number): void {
    const cs = this.g.clusterSize;
    if (off < cs) throw corrupt(`L1 entry ${l1Index} points at the header`);
    if (off % cs !== 0) throw corrupt(`L2 table ${l1Index} at 0x${off.toString(16)} is not cluster-aligned`);
    const l1Start = this.header.l1TableOffset;
    if (off + cs > l1Start && off < l1Start + this.l1.length) throw corrupt(`L1 entry ${l1Index} points into the L1 table`);
    const rt = this.header.refcountTableOffset;
    if (off + cs > rt && off < rt + this.header.refcountTableClusters * cs) throw corrupt(`L1 entry ${l1Index} points into the refcount table`);
    if (off + cs > this.fileEnd()) throw corrupt(`L2 table ${l1Index} at 0x${off.toString(16)} lies past the end of the file (truncated image?)`);
  }

  private checkData(off: number, gc: number): void {
    if (off < this.g.clusterSize) throw corrupt(`guest cluster ${gc} maps onto the header`);
    if (off >= this.fileEnd()) throw corrupt(`guest cluster ${gc} maps to 0x${off.toString(16)}, past the end of the file (truncated image?)`);
  }

  private fileEnd(): number {
    return Math.max(this.store.length, (this.refs?.end ?? 0) * this.g.clusterSize);
  }

  private readsAsZero(gc: number): boolean {
    const k = this.entry(gc).kind;
    return k === ClusterKind.ZeroPlain || k === ClusterKind.ZeroAlloc || (k === ClusterKind.Unallocated && !this.backing);
  }

  private forWholeClusters(offset: number, length: number, fn: (gc: number) => void): { start: number; end: number } {
    const cs = this.g.clusterSize;
    const start = Math.ceil(offset / cs) * cs;
    // The disk's last cluster may be partial: it counts as whole when the range reaches the disk's end.
    const endLimit = offset + length === this.size ? Math.ceil(this.size / cs) * cs : offset + length;
    const end = Math.max(start, Math.floor(endLimit / cs) * cs);
    for (let pos = start; pos < end; pos += cs) fn(pos / cs);
    return { start, end: Math.min(end, offset + length) };
  }

  private trimL2Cache(): void {
    const limit = Math.max(4, Math.floor(L2_CACHE_BYTES / this.g.clusterSize));
    for (const off of this.l2Cache.keys()) {
      if (this.l2Cache.size <= limit) break;
      if (!this.dirtyL2.has(off)) this.l2Cache.delete(off);
    }
  }

  private writable(): void {
    if (this.closed) throw new DiskError('io', 'qcow2: the disk is closed');
    if (this.store.readOnly) throw new DiskError('readonly', 'the disk is read-only');
  }

  private range(offset: number, length: number): void {
    if (this.closed) throw new DiskError('io', 'qcow2: the disk is closed');
    if (offset < 0 || length < 0 || offset + length > this.size || offset % 512 !== 0 || length % 512 !== 0) {
      throw new DiskError('range', `access of ${length} bytes at ${offset} is outside the ${this.size}-byte disk or not sector-aligned`);
    }
  }
}

/** Writes a new, empty version 3 qcow2 image of `size` bytes into `store` (which is truncated first). */
export function createQcow2(store: ByteStore, size: number, opts: Qcow2CreateOptions = {}): void {
  const clusterBits = opts.clusterBits ?? 16;
  if (!Number.isInteger(clusterBits) || clusterBits < 9 || clusterBits > 21) throw new DiskError('range', `qcow2: cluster size must be a power of two from 512 bytes to 2 MiB`);
  if (!Number.isSafeInteger(size) || size < 0 || size % 512 !== 0) throw new DiskError('range', `qcow2: size ${size} must be a whole number of 512-byte sectors`);
  const g = geometry(clusterBits, 4);
  const cs = g.clusterSize;
  const l1Size = Math.ceil(size / cs / g.l2Entries);
  if (l1Size * 8 > 32 * 1024 * 1024) throw new DiskError('range', `qcow2: ${size} bytes is too large for ${cs}-byte clusters`);
  const l1Clusters = Math.max(1, Math.ceil((l1Size * 8) / cs));
  // Layout: header, refcount table, refcount blocks, L1 table; the blocks count every one of them.
  let blocks = 1;
  let tableClusters = 1;
  for (;;) {
    const total = 1 + tableClusters + blocks + l1Clusters;
    const b = Math.ceil(total / g.refblockEntries);
    const t = Math.ceil((b * 8) / cs);
    if (b === blocks && t === tableClusters) break;
    blocks = Math.max(b, blocks);
    tableClusters = Math.max(t, tableClusters);
  }
  const total = 1 + tableClusters + blocks + l1Clusters;
  const tableOffset = cs;
  const blocksOffset = (1 + tableClusters) * cs;
  const l1Offset = (1 + tableClusters + blocks) * cs;
  const header = buildHeader({
    size, clusterBits, l1Size, l1TableOffset: l1Offset, refcountTableOffset: tableOffset, refcountTableClusters: tableClusters,
    backingFile: opts.backing?.file, backingFormat: opts.backing?.format,
  });
  const table = new Uint8Array(tableClusters * cs);
  const tv = new DataView(table.buffer);
  for (let b = 0; b < blocks; b++) setU64(tv, b * 8, blocksOffset + b * cs);
  const refblocks = new Uint8Array(blocks * cs);
  const rv = new DataView(refblocks.buffer);
  for (let c = 0; c < total; c++) rv.setUint16(c * 2, 1);
  store.resize(0);
  store.write(0, header);
  store.write(tableOffset, table);
  store.write(blocksOffset, refblocks);
  store.resize(total * cs);
  store.flush();
}
