// qcow2 on-disk format: header, header extensions, table entries (QEMU docs/interop/qcow2.txt).
// All numbers are big-endian. Offsets are held as JS numbers: every offset a valid image uses is below
// 2^53, and anything larger fails the "inside the file" checks anyway.

import { utf8Decode, utf8Encode } from '../asm/utf8';
import { DiskError, type ByteStore } from './types';

/** "QFI\xfb", the first four bytes of every qcow2 image. */
export const QCOW2_MAGIC = 0x514649fb;

/** Header extension types (qcow2.txt "Header extensions"). */
export const EXT_END = 0;
/** Backing file format name string. */
export const EXT_BACKING_FORMAT = 0xe2792aca;
/** Feature name table. */
export const EXT_FEATURE_TABLE = 0x6803f857;
/** Bitmaps extension. */
export const EXT_BITMAPS = 0x23852875;
/** Full disk encryption header pointer. */
export const EXT_CRYPTO = 0x0537be77;
/** External data file name. */
export const EXT_DATA_FILE = 0x44415441;

/** Incompatible feature bits this implementation knows the meaning of (bit → name). */
export const INCOMPATIBLE_NAMES = ['dirty bit', 'corrupt bit', 'external data file', 'compression type', 'extended L2 entries'];

/** Smallest and largest cluster_bits accepted (512 B .. 2 MiB, QEMU's limits). */
export const MIN_CLUSTER_BITS = 9;
/** Largest cluster_bits accepted (QEMU's 2 MiB implementation limit). */
export const MAX_CLUSTER_BITS = 21;
/** QEMU's limit on the L1 table size in bytes. */
export const MAX_L1_BYTES = 32 * 1024 * 1024;
/** QEMU's limit on the refcount table size in bytes. */
export const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
/** Longest backing file name the spec allows. */
export const MAX_BACKING_NAME = 1023;
/** Header length this implementation writes for version 3 images. */
export const V3_HEADER_LENGTH = 104;

/** L1/L2 entry bit 63 (in the high word): the cluster's refcount is exactly one. */
export const OFLAG_COPIED = 0x80000000;
/** L2 entry bit 62 (in the high word): compressed cluster. */
export const OFLAG_COMPRESSED = 0x40000000;
/** Standard cluster descriptor bit 0 (in the low word): reads as zeros (version 3). */
export const OFLAG_ZERO = 1;

/** A parsed qcow2 header with its extensions. */
export interface Qcow2Header {
  version: 2 | 3;
  backingFileOffset: number;
  backingFileSize: number;
  clusterBits: number;
  /** Virtual size in bytes. */
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  headerLength: number;
  compressionType: number;
  backingFile?: string;
  backingFormat?: string;
  /** Names from the feature name table, keyed "type:bit" (type 0 incompatible, 1 compatible, 2 autoclear). */
  featureNames: Map<string, string>;
  /** Extension types present, in order. */
  extensions: number[];
  /** Offset just past the end-of-extensions marker. */
  extensionsEnd: number;
}

/** Sizes derived from a header that every table walk needs. */
export interface Geometry {
  clusterBits: number;
  clusterSize: number;
  /** Entries per L2 table (cluster_size / 8). */
  l2Entries: number;
  /** log2(l2Entries). */
  l2Bits: number;
  refcountOrder: number;
  /** Refcount entries per refcount block (cluster_size * 8 / refcount_bits). */
  refblockEntries: number;
  /** Bit position of the sector count in a compressed descriptor: 62 - (cluster_bits - 8). */
  csizeShift: number;
}

/** The geometry of an image with these cluster bits and refcount order. */
export function geometry(clusterBits: number, refcountOrder: number): Geometry {
  const clusterSize = 2 ** clusterBits;
  return {
    clusterBits,
    clusterSize,
    l2Entries: clusterSize / 8,
    l2Bits: clusterBits - 3,
    refcountOrder,
    refblockEntries: (clusterSize * 8) / 2 ** refcountOrder,
    csizeShift: 62 - (clusterBits - 8),
  };
}

/** Reads a big-endian unsigned 64-bit value as a number (exact below 2^53). */
export function getU64(view: DataView, at: number): number {
  return view.getUint32(at) * 2 ** 32 + view.getUint32(at + 4);
}

/** Writes a non-negative integer below 2^53 as a big-endian 64-bit value. */
export function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, Math.floor(value / 2 ** 32));
  view.setUint32(at + 4, value >>> 0);
}

/** Mask of bits 9..55 of a table entry, split into words: offset = (hi & HI) * 2^32 + (lo & LO). */
export const OFFSET_MASK_HI = 0x00ffffff;
/** Low word part of the offset mask (bits 9..31). */
export const OFFSET_MASK_LO = 0xfffffe00;

/** The cluster offset held in bits 9..55 of an L1 or standard L2 entry. */
export function entryOffset(hi: number, lo: number): number {
  return (hi & OFFSET_MASK_HI) * 2 ** 32 + ((lo & OFFSET_MASK_LO) >>> 0);
}

/** Kinds of L2 entry (qcow2.txt "Cluster mapping"). */
export const enum ClusterKind {
  Unallocated,
  Normal,
  ZeroPlain,
  ZeroAlloc,
  Compressed,
}

/** One decoded L2 entry. */
export interface L2Entry {
  kind: ClusterKind;
  /** Host offset of the cluster (Normal, ZeroAlloc) or of the compressed bytes (Compressed). */
  offset: number;
  /** Bytes of compressed data from `offset` (Compressed only), as QEMU computes it. */
  compressedBytes: number;
  copied: boolean;
  /** Why the entry is malformed, if it is. */
  error?: string;
}

/** Decodes an L2 entry given as its two 32-bit words. */
export function decodeL2(hi: number, lo: number, g: Geometry, version: number): L2Entry {
  const copied = (hi & OFLAG_COPIED) !== 0;
  if (hi & OFLAG_COMPRESSED) {
    const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    const shift = BigInt(g.csizeShift);
    const offset = Number(v & ((1n << shift) - 1n));
    const sectors = Number((v >> shift) & ((1n << BigInt(g.clusterBits - 8)) - 1n)) + 1;
    const entry: L2Entry = { kind: ClusterKind.Compressed, offset, compressedBytes: sectors * 512 - (offset % 512), copied };
    if (copied) entry.error = 'compressed cluster with the copied flag set';
    else if (offset >= 2 ** 56) entry.error = 'compressed cluster offset has bits above 55 set';
    return entry;
  }
  const offset = entryOffset(hi, lo);
  const zero = (lo & OFLAG_ZERO) !== 0;
  let error: string | undefined;
  if ((hi & 0x3f000000) !== 0 || (lo & 0x1fe) !== 0) error = 'reserved bits are set';
  else if (zero && version < 3) error = 'zero flag in a version 2 image';
  else if (offset % g.clusterSize !== 0) error = `cluster offset 0x${offset.toString(16)} is not cluster-aligned`;
  let kind: ClusterKind;
  if (zero) kind = offset === 0 ? ClusterKind.ZeroPlain : ClusterKind.ZeroAlloc;
  else kind = offset === 0 ? ClusterKind.Unallocated : ClusterKind.Normal;
  return { kind, offset, compressedBytes: 0, copied, error };
}

function corrupt(message: string): DiskError {
  return new DiskError('corrupt', `qcow2: ${message}`);
}

/** Reads and validates the header and extensions; every size and offset is checked against the file. */
export function readHeader(store: ByteStore): Qcow2Header {
  const length = store.length;
  if (length < 72) throw corrupt(`the file is ${length} bytes, shorter than a qcow2 header (truncated image)`);
  const fixed = new Uint8Array(Math.min(length, V3_HEADER_LENGTH));
  store.read(0, fixed);
  const v = new DataView(fixed.buffer);
  if (v.getUint32(0) !== QCOW2_MAGIC) throw corrupt('bad magic (not a qcow2 image)');
  const version = v.getUint32(4);
  if (version !== 2 && version !== 3) throw new DiskError('unsupported', `qcow2: version ${version} is not supported (only 2 and 3)`);
  const clusterBits = v.getUint32(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    throw corrupt(`cluster_bits ${clusterBits} is out of range (${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS})`);
  }
  const clusterSize = 2 ** clusterBits;
  const h: Qcow2Header = {
    version,
    backingFileOffset: getU64(v, 8),
    backingFileSize: v.getUint32(16),
    clusterBits,
    size: getU64(v, 24),
    cryptMethod: v.getUint32(32),
    l1Size: v.getUint32(36),
    l1TableOffset: getU64(v, 40),
    refcountTableOffset: getU64(v, 48),
    refcountTableClusters: v.getUint32(56),
    nbSnapshots: v.getUint32(60),
    snapshotsOffset: getU64(v, 64),
    incompatibleFeatures: 0n,
    compatibleFeatures: 0n,
    autoclearFeatures: 0n,
    refcountOrder: 4,
    headerLength: 72,
    compressionType: 0,
    featureNames: new Map(),
    extensions: [],
    extensionsEnd: 72,
  };
  if (version === 3) {
    if (length < V3_HEADER_LENGTH) throw corrupt(`the file is ${length} bytes, shorter than a version 3 header (truncated image)`);
    h.incompatibleFeatures = v.getBigUint64(72);
    h.compatibleFeatures = v.getBigUint64(80);
    h.autoclearFeatures = v.getBigUint64(88);
    h.refcountOrder = v.getUint32(96);
    h.headerLength = v.getUint32(100);
    if (h.headerLength < V3_HEADER_LENGTH || h.headerLength % 8 !== 0 || h.headerLength > clusterSize) {
      throw corrupt(`header_length ${h.headerLength} is invalid (at least 104, a multiple of 8, within the first cluster)`);
    }
    if (h.refcountOrder > 6) throw corrupt(`refcount_order ${h.refcountOrder} is out of range (0..6)`);
    if (h.headerLength > length) throw corrupt(`the file is ${length} bytes, shorter than its ${h.headerLength}-byte header (truncated image)`);
  }
  // The header cluster holds the header, its extensions and the backing file name (qcow2.txt).
  const first = new Uint8Array(Math.min(clusterSize, length));
  store.read(0, first);
  const fv = new DataView(first.buffer);
  if (h.headerLength >= 112) h.compressionType = first[104];
  parseExtensions(h, first, fv, clusterSize);
  checkFeatures(h);
  checkLayout(h, length);
  if (h.backingFileOffset !== 0) {
    if (h.backingFileSize === 0 || h.backingFileSize > MAX_BACKING_NAME) throw corrupt(`backing file name length ${h.backingFileSize} is invalid (1..${MAX_BACKING_NAME})`);
    if (h.backingFileOffset + h.backingFileSize > clusterSize || h.backingFileOffset + h.backingFileSize > length) {
      throw corrupt('the backing file name lies outside the header cluster');
    }
    const name = first.subarray(h.backingFileOffset, h.backingFileOffset + h.backingFileSize);
    // QEMU reads the name as a C string; a NUL inside it is damage, not a shorter name.
    if (name.includes(0)) throw corrupt(`the backing file name contains a NUL byte (at offset ${name.indexOf(0)} of ${name.length})`);
    h.backingFile = utf8Decode(name);
  }
  return h;
}

function parseExtensions(h: Qcow2Header, first: Uint8Array, fv: DataView, clusterSize: number): void {
  let at = h.headerLength;
  const limit = Math.min(first.length, clusterSize);
  // Each extension takes at least 8 bytes, so this walk ends within one cluster.
  while (at + 8 <= limit) {
    const type = fv.getUint32(at);
    const len = fv.getUint32(at + 4);
    at += 8;
    if (type === EXT_END) {
      h.extensionsEnd = at;
      return;
    }
    if (len > limit - at) throw corrupt(`header extension 0x${type.toString(16)} of ${len} bytes runs past the header cluster`);
    const data = first.subarray(at, at + len);
    h.extensions.push(type);
    if (type === EXT_BACKING_FORMAT) {
      h.backingFormat = utf8Decode(data);
    } else if (type === EXT_FEATURE_TABLE) {
      for (let i = 0; i + 48 <= len; i += 48) {
        const nameBytes = data.subarray(i + 2, i + 48);
        const end = nameBytes.indexOf(0);
        h.featureNames.set(`${data[i]}:${data[i + 1]}`, utf8Decode(end < 0 ? nameBytes : nameBytes.subarray(0, end)));
      }
    }
    at += Math.ceil(len / 8) * 8;
  }
  // A version 2 image may end its header right at 72 bytes with nothing after it.
  if (h.version === 3 && at < limit) throw corrupt('the header extension area has no end marker');
  h.extensionsEnd = Math.min(at, limit);
}

function checkFeatures(h: Qcow2Header): void {
  if (h.cryptMethod !== 0) throw new DiskError('unsupported', `qcow2: encrypted images (crypt_method ${h.cryptMethod}) are not supported`);
  const unknown: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (!((h.incompatibleFeatures >> BigInt(bit)) & 1n)) continue;
    if (bit === 0 || bit === 1) continue; // dirty and corrupt: the opener decides (writes are refused)
    const name = INCOMPATIBLE_NAMES[bit] ?? h.featureNames.get(`0:${bit}`) ?? `unknown feature bit ${bit}`;
    unknown.push(name);
  }
  if (unknown.length > 0) throw new DiskError('unsupported', `qcow2: the image uses incompatible features vmlab does not support: ${unknown.join(', ')}`);
  if (h.compressionType !== 0) throw corrupt(`compression_type ${h.compressionType} is set without the compression type feature bit`);
}

function checkLayout(h: Qcow2Header, length: number): void {
  const g = geometry(h.clusterBits, h.refcountOrder);
  const cs = g.clusterSize;
  if (h.size > 2 ** 53 || h.size < 0) throw corrupt(`virtual size ${h.size} is too large`);
  const needL1 = Math.ceil(h.size / cs / g.l2Entries);
  if (h.l1Size < needL1) throw corrupt(`l1_size ${h.l1Size} is too small for a ${h.size}-byte disk (needs ${needL1})`);
  if (h.l1Size * 8 > MAX_L1_BYTES) throw corrupt(`l1_size ${h.l1Size} is too large (the L1 table would exceed ${MAX_L1_BYTES} bytes)`);
  if (h.l1Size > 0) {
    checkTableRange('L1 table', h.l1TableOffset, h.l1Size * 8, cs, length);
  }
  if (h.refcountTableClusters === 0) throw corrupt('the image has no refcount table');
  if (h.refcountTableClusters * cs > MAX_REFTABLE_BYTES) throw corrupt(`refcount_table_clusters ${h.refcountTableClusters} is too large`);
  checkTableRange('refcount table', h.refcountTableOffset, h.refcountTableClusters * cs, cs, length);
  if (h.nbSnapshots > 65536) throw corrupt(`nb_snapshots ${h.nbSnapshots} is too large`);
  if (h.nbSnapshots > 0 && (h.snapshotsOffset % cs !== 0 || h.snapshotsOffset < cs || h.snapshotsOffset >= length)) {
    throw corrupt('the snapshot table offset is invalid');
  }
}

function checkTableRange(name: string, offset: number, bytes: number, cs: number, length: number): void {
  if (offset % cs !== 0) throw corrupt(`${name} offset 0x${offset.toString(16)} is not cluster-aligned`);
  if (offset < cs) throw corrupt(`${name} overlaps the header`);
  if (offset + bytes > length) throw corrupt(`${name} at 0x${offset.toString(16)} (${bytes} bytes) runs past the end of the ${length}-byte file (truncated image?)`);
}

/** Options for serializing a new header. */
export interface NewHeader {
  size: number;
  clusterBits: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  backingFile?: string;
  backingFormat?: string;
}

const FEATURE_TABLE: [number, number, string][] = [
  [0, 0, 'dirty bit'],
  [0, 1, 'corrupt bit'],
  [0, 2, 'external data file'],
  [0, 3, 'compression type'],
  [0, 4, 'extended L2 entries'],
  [1, 0, 'lazy refcounts'],
  [2, 0, 'bitmaps'],
  [2, 1, 'raw external data'],
];

/** Serializes a version 3 header cluster (refcount_order 4, no features set) with its extensions. */
export function buildHeader(n: NewHeader): Uint8Array {
  const cs = 2 ** n.clusterBits;
  const out = new Uint8Array(cs);
  const v = new DataView(out.buffer);
  v.setUint32(0, QCOW2_MAGIC);
  v.setUint32(4, 3);
  v.setUint32(20, n.clusterBits);
  setU64(v, 24, n.size);
  v.setUint32(36, n.l1Size);
  setU64(v, 40, n.l1TableOffset);
  setU64(v, 48, n.refcountTableOffset);
  v.setUint32(56, n.refcountTableClusters);
  v.setUint32(96, 4);
  v.setUint32(100, V3_HEADER_LENGTH);
  let at = V3_HEADER_LENGTH;
  const ext = (type: number, data: Uint8Array): void => {
    if (at + 8 + data.length + 8 > cs) throw new DiskError('range', 'qcow2: header extensions do not fit in the first cluster');
    v.setUint32(at, type);
    v.setUint32(at + 4, data.length);
    out.set(data, at + 8);
    at += 8 + Math.ceil(data.length / 8) * 8;
  };
  if (n.backingFile !== undefined && n.backingFormat !== undefined) ext(EXT_BACKING_FORMAT, utf8Encode(n.backingFormat));
  // The feature name table is optional; it is left out when a small cluster would not hold it.
  if (cs >= 4096) {
    const table = new Uint8Array(FEATURE_TABLE.length * 48);
    FEATURE_TABLE.forEach(([type, bit, name], i) => {
      table[i * 48] = type;
      table[i * 48 + 1] = bit;
      table.set(utf8Encode(name), i * 48 + 2);
    });
    ext(EXT_FEATURE_TABLE, table);
  }
  at += 8; // end-of-extensions marker: type 0, length 0
  if (n.backingFile !== undefined) {
    const name = utf8Encode(n.backingFile);
    if (name.length === 0 || name.length > MAX_BACKING_NAME) throw new DiskError('range', `qcow2: backing file name must be 1..${MAX_BACKING_NAME} bytes`);
    if (at + name.length > cs) throw new DiskError('range', 'qcow2: the backing file name does not fit in the first cluster');
    setU64(v, 8, at);
    v.setUint32(16, name.length);
    out.set(name, at);
  }
  return out;
}

/** Header field offsets the writer updates in place. */
export const HEADER_REFTABLE_OFFSET = 48;
/** Offset of the 64-bit autoclear feature mask (version 3). */
export const HEADER_AUTOCLEAR = 88;
