// A consistency check of a qcow2 image, modelled on `qemu-img check`: count every reference to every
// host cluster (header, L1 and L2 tables, data and compressed clusters, refcount table and blocks,
// snapshot tables), compare with the stored refcounts, and verify the copied flags. A stored refcount
// above the references is a leak (harmless, wasted space); below is a corruption (a write could reuse
// a live cluster).

import { ClusterKind, decodeL2, entryOffset, geometry, getU64, readHeader, OFLAG_COPIED, type Geometry, type Qcow2Header } from './qcow2-format';
import { getRefcount } from './qcow2-refcount';
import type { ByteStore } from './types';

/** The outcome of checkQcow2, with the same counts `qemu-img check` reports. */
export interface Qcow2CheckResult {
  /** Errors that could lose data: refcounts below the references, malformed or overlapping entries. */
  corruptions: number;
  /** Clusters with refcounts above their references. */
  leaks: number;
  /** Problems that stopped parts of the check from running. */
  checkErrors: number;
  /** One readable line per problem found (at most MAX_MESSAGES). */
  messages: string[];
  /** Guest clusters of the virtual disk. */
  totalClusters: number;
  /** Guest clusters allocated in this image (data, compressed, preallocated zero). */
  allocatedClusters: number;
  /** Allocated guest clusters not directly after the previous one in the file. */
  fragmentedClusters: number;
  /** Guest clusters stored compressed. */
  compressedClusters: number;
  /** One past the last byte of the highest used host cluster. */
  imageEndOffset: number;
}

/** Most problem lines kept in a check result. */
export const MAX_MESSAGES = 200;

/** Checks a qcow2 image; throws DiskError only when the header itself cannot be read. */
export function checkQcow2(store: ByteStore): Qcow2CheckResult {
  const header = readHeader(store);
  return new Checker(store, header).run();
}

class Checker {
  private readonly g: Geometry;
  private readonly nbClusters: number;
  private refs: Uint32Array;
  private readonly result: Qcow2CheckResult;
  private readonly copiedChecks: { cluster: number; copied: boolean; what: string }[] = [];
  private nextContiguous = 0;

  constructor(private readonly store: ByteStore, private readonly h: Qcow2Header) {
    this.g = geometry(h.clusterBits, h.refcountOrder);
    this.nbClusters = Math.ceil(store.length / this.g.clusterSize);
    this.refs = new Uint32Array(this.nbClusters);
    this.result = {
      corruptions: 0, leaks: 0, checkErrors: 0, messages: [],
      totalClusters: Math.ceil(h.size / this.g.clusterSize), allocatedClusters: 0, fragmentedClusters: 0, compressedClusters: 0, imageEndOffset: 0,
    };
  }

  run(): Qcow2CheckResult {
    const cs = this.g.clusterSize;
    this.inc(0, cs, 'header');
    this.checkL1(this.h.l1TableOffset, this.h.l1Size, true, 'active L1');
    this.checkSnapshots();
    const blocks = this.checkRefcountTable();
    if (this.h.extensions.includes(0x23852875)) this.problem('check', 'bitmaps extension present: bitmap clusters were not counted');
    const stored = this.compare(blocks);
    for (const { cluster, copied, what } of this.copiedChecks) {
      const refcount = stored(cluster);
      if ((refcount === 1) !== copied) this.problem('corruption', `OFLAG_COPIED ${what}: refcount=${refcount} but the copied flag is ${copied ? 'set' : 'clear'}`);
    }
    return this.result;
  }

  private problem(kind: 'corruption' | 'leak' | 'check', message: string): void {
    if (kind === 'corruption') this.result.corruptions++;
    else if (kind === 'leak') this.result.leaks++;
    else this.result.checkErrors++;
    if (this.result.messages.length < MAX_MESSAGES) this.result.messages.push(`${kind === 'leak' ? 'Leaked' : kind === 'check' ? 'Check error:' : 'ERROR'} ${message}`);
  }

  /** Counts one reference to each host cluster overlapping [offset, offset + bytes). */
  private inc(offset: number, bytes: number, what: string): boolean {
    const cs = this.g.clusterSize;
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + Math.max(bytes, 1) - 1) / cs);
    if (last >= this.nbClusters) {
      this.problem('corruption', `${what} at 0x${offset.toString(16)} lies past the end of the file`);
      return false;
    }
    for (let c = first; c <= last; c++) this.refs[c]++;
    return true;
  }

  private readTable(offset: number, bytes: number): DataView {
    const buf = new Uint8Array(bytes);
    this.store.read(offset, buf);
    return new DataView(buf.buffer);
  }

  private checkL1(offset: number, size: number, active: boolean, name: string): void {
    const cs = this.g.clusterSize;
    if (size === 0) return;
    if (offset % cs !== 0) {
      this.problem('corruption', `${name} table offset 0x${offset.toString(16)} is not cluster-aligned`);
      return;
    }
    if (size * 8 > 32 * 1024 * 1024 || !this.inc(offset, size * 8, `${name} table`)) return;
    const l1 = this.readTable(offset, size * 8);
    for (let i = 0; i < size; i++) {
      const hi = l1.getUint32(i * 8);
      const lo = l1.getUint32(i * 8 + 4);
      const off = entryOffset(hi, lo);
      if ((hi & 0x7f000000) !== 0 || (lo & 0x1ff) !== 0) {
        this.problem('corruption', `${name} entry ${i} has reserved bits set`);
        continue;
      }
      if (off === 0) continue;
      if (off % cs !== 0) {
        this.problem('corruption', `${name} entry ${i}: L2 table offset 0x${off.toString(16)} is not cluster-aligned`);
        continue;
      }
      if (!this.inc(off, cs, `L2 table ${i}`)) continue;
      if (active) this.copiedChecks.push({ cluster: off / cs, copied: (hi & OFLAG_COPIED) !== 0, what: `L2 table at 0x${off.toString(16)}` });
      this.checkL2(off, i, active);
    }
  }

  private checkL2(offset: number, l1Index: number, active: boolean): void {
    const cs = this.g.clusterSize;
    const l2 = this.readTable(offset, cs);
    for (let j = 0; j < this.g.l2Entries; j++) {
      const e = decodeL2(l2.getUint32(j * 8), l2.getUint32(j * 8 + 4), this.g, this.h.version);
      const where = `L2 entry ${j} of table ${l1Index} (guest offset 0x${((l1Index * this.g.l2Entries + j) * cs).toString(16)})`;
      if (e.error) {
        this.problem('corruption', `${where}: ${e.error}`);
        if (e.kind !== ClusterKind.Compressed) continue;
      }
      if (e.kind === ClusterKind.Compressed) {
        if (active) {
          this.result.allocatedClusters++;
          this.result.compressedClusters++;
        }
        this.inc(e.offset, e.compressedBytes, `compressed data of ${where}`);
      } else if (e.kind === ClusterKind.Normal || e.kind === ClusterKind.ZeroAlloc) {
        if (active) {
          this.result.allocatedClusters++;
          if (this.nextContiguous !== 0 && e.offset !== this.nextContiguous) this.result.fragmentedClusters++;
          this.nextContiguous = e.offset + cs;
        }
        if (e.offset < cs) this.problem('corruption', `${where} maps onto the header`);
        if (this.inc(e.offset, cs, `data cluster of ${where}`) && active) {
          this.copiedChecks.push({ cluster: e.offset / cs, copied: e.copied, what: `data cluster at 0x${e.offset.toString(16)} (${where})` });
        }
      }
    }
  }

  private checkSnapshots(): void {
    const n = this.h.nbSnapshots;
    if (n === 0) return;
    let at = this.h.snapshotsOffset;
    const start = at;
    for (let s = 0; s < n; s++) {
      const head = this.readTable(at, 40);
      const l1Offset = getU64(head, 0);
      const l1Size = head.getUint32(8);
      const idLen = head.getUint16(12);
      const nameLen = head.getUint16(14);
      const extra = head.getUint32(36);
      if (extra > 1024 || at + 40 + extra + idLen + nameLen > this.store.length) {
        this.problem('corruption', `snapshot table entry ${s} is malformed`);
        return;
      }
      this.checkL1(l1Offset, l1Size, false, `snapshot ${s} L1`);
      at += Math.ceil((40 + extra + idLen + nameLen) / 8) * 8;
    }
    this.inc(start, at - start, 'snapshot table');
  }

  private checkRefcountTable(): Map<number, DataView> {
    const cs = this.g.clusterSize;
    const blocks = new Map<number, DataView>();
    const bytes = this.h.refcountTableClusters * cs;
    this.inc(this.h.refcountTableOffset, bytes, 'refcount table');
    const table = this.readTable(this.h.refcountTableOffset, bytes);
    for (let t = 0; t < bytes / 8; t++) {
      const off = getU64(table, t * 8);
      if (off === 0) continue;
      if (off % 512 !== 0) {
        this.problem('corruption', `refcount table entry ${t} has reserved bits set`);
      } else if (off % cs !== 0) {
        this.problem('corruption', `refcount block ${t} at 0x${off.toString(16)} is not cluster-aligned`);
      } else if (this.inc(off, cs, `refcount block ${t}`)) {
        blocks.set(t, this.readTable(off, cs));
      }
    }
    return blocks;
  }

  /** Compares stored refcounts with the references counted; returns a lookup of stored refcounts. */
  private compare(blocks: Map<number, DataView>): (cluster: number) => number {
    const e = this.g.refblockEntries;
    const order = this.g.refcountOrder;
    const stored = (c: number): number => {
      const b = blocks.get(Math.floor(c / e));
      return b ? getRefcount(new Uint8Array(b.buffer), b, order, c % e) : 0;
    };
    let highest = -1;
    for (let c = 0; c < this.nbClusters; c++) {
      const disk = stored(c);
      const counted = this.refs[c];
      if (disk > 0 || counted > 0) highest = c;
      if (disk > counted) this.problem('leak', `cluster ${c} refcount=${disk} reference=${counted}`);
      else if (disk < counted) this.problem('corruption', `cluster ${c} refcount=${disk} reference=${counted}`);
    }
    this.result.imageEndOffset = (highest + 1) * this.g.clusterSize;
    return stored;
  }
}
