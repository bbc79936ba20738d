// Disk image tools behind `vmlab disk` (and the lab service): create, info, convert, check, in the
// manner of qemu-img.

import { closeSync, fstatSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { checkQcow2, type Qcow2CheckResult } from '../engine/disk/qcow2-check';
import { createQcow2, Qcow2Disk } from '../engine/disk/qcow2';
import { RawDisk } from '../engine/disk/raw';
import { DiskError, MemoryByteStore } from '../engine/disk/types';
import { FileByteStore, openDisk, probeFormat, resolveDiskPath, type DiskFormat, type DiskPath } from './disk-files';
import { openResolved, type ResolvedPath } from './paths';

/** Options for createDisk. */
export interface CreateDiskOptions {
  format?: DiskFormat;
  /** Backing file name, stored as given; a relative name is relative to the new image's folder. */
  backing?: string;
  /** qcow2 cluster size in bytes: a power of two from 512 to 2 MiB (default 64 KiB). */
  clusterSize?: number;
}

/** Creates a disk image; `size` (rounded up to 512 bytes) defaults to the backing file's size. */
export function createDisk(path: DiskPath, size: number | undefined, opts: CreateDiskOptions = {}): void {
  const p = resolveDiskPath(path);
  const format = opts.format ?? 'qcow2';
  if (format === 'raw' && opts.backing !== undefined) throw new DiskError('unsupported', 'raw images cannot have a backing file (use --format qcow2)');
  if (format === 'raw' && opts.clusterSize !== undefined) throw new DiskError('unsupported', 'raw images have no cluster size');
  let backing: { file: string; format: DiskFormat } | undefined;
  if (opts.backing !== undefined) {
    const backingPath = p.policy.backing(p, opts.backing);
    const backingFormat = probeFormat(backingPath);
    const disk = openDisk(backingPath, { format: backingFormat, readOnly: true });
    size ??= disk.size;
    disk.close();
    backing = { file: opts.backing, format: backingFormat };
  }
  if (size === undefined) throw new DiskError('range', 'a size is needed (or a backing file to take it from)');
  size = Math.ceil(size / 512) * 512;
  let clusterBits: number | undefined;
  if (opts.clusterSize !== undefined) {
    clusterBits = Math.log2(opts.clusterSize);
    if (!Number.isInteger(clusterBits) || clusterBits < 9 || clusterBits > 21) {
      throw new DiskError('range', `cluster size ${opts.clusterSize} is not a power of two from 512 to 2M`);
    }
  }
  const store = FileByteStore.open(p, { create: true });
  try {
    if (format === 'raw') store.resize(size);
    else createQcow2(store, size, { clusterBits, backing });
    store.flush();
  } finally {
    store.close();
  }
}

/** What `vmlab disk info` reports about an image. */
export interface DiskInfo {
  filename: string;
  format: DiskFormat;
  /** Virtual disk size in bytes. */
  virtualSize: number;
  /** Bytes the image file takes on the host file system (allocated blocks). */
  diskSize: number;
  /** qcow2 cluster size in bytes. */
  clusterSize?: number;
  /** qcow2 version (2 or 3). */
  version?: number;
  /** Backing file name as stored in the image. */
  backingFile?: string;
  /** The backing file's path, resolved against the image's real folder (as openDisk opens it). */
  fullBackingFile?: string;
  backingFormat?: string;
  /** Bytes of the virtual disk that the image itself defines (its backing chain not counted). */
  allocatedBytes: number;
}

/** Describes a disk image without locking it. */
export function diskInfo(path: DiskPath): DiskInfo {
  const p = resolveDiskPath(path);
  return named(p.name, () => describe(p, typeof path === 'string' ? path : p.name));
}

function describe(p: ResolvedPath, filename: string): DiskInfo {
  const format = probeFormat(p);
  const diskSize = allocatedOnHost(p);
  if (format === 'raw') {
    const disk = new RawDisk(FileByteStore.open(p, { readOnly: true }));
    const info: DiskInfo = { filename, format, virtualSize: disk.size, diskSize, allocatedBytes: disk.size };
    disk.close();
    return info;
  }
  // The header alone describes the image: its backing file need not be present for info.
  const disk = Qcow2Disk.open(FileByteStore.open(p, { readOnly: true }), { openBacking: () => new RawDisk(new MemoryByteStore(0, true)) });
  try {
    const h = disk.header;
    return {
      filename,
      format,
      virtualSize: disk.size,
      diskSize,
      clusterSize: disk.clusterSize,
      version: h.version,
      backingFile: h.backingFile,
      fullBackingFile: h.backingFile === undefined ? undefined : fullBacking(p, h.backingFile),
      backingFormat: h.backingFormat,
      allocatedBytes: disk.allocatedBytes(),
    };
  } finally {
    disk.close();
  }
}

/** Copies a disk's contents (its backing chain flattened) into a new image; all-zero clusters are not written. */
export function convertDisk(input: DiskPath, output: DiskPath, outFormat: DiskFormat = 'qcow2'): void {
  const from = resolveDiskPath(input);
  const to = resolveDiskPath(output);
  if (from.real === to.real) throw new DiskError('range', 'the output must be a different file from the input');
  const src = openDisk(from, { readOnly: true });
  try {
    createDisk(to, src.size, { format: outFormat });
    const dst = openDisk(to, { format: outFormat });
    try {
      const chunk = dst instanceof Qcow2Disk ? dst.clusterSize : 64 * 1024;
      const buf = new Uint8Array(chunk);
      for (let pos = 0; pos < src.size; pos += chunk) {
        const n = Math.min(chunk, src.size - pos);
        const part = n === chunk ? buf : buf.subarray(0, n);
        src.read(pos, part);
        if (!isZero(part)) dst.write(pos, part);
      }
      dst.flush();
    } finally {
      dst.close();
    }
  } finally {
    src.close();
  }
}

function isZero(bytes: Uint8Array): boolean {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  for (let i = words.length << 2; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** The result of checking an image file: the qcow2 check, or undefined for a raw image (nothing to check). */
export function checkDisk(path: DiskPath): Qcow2CheckResult | undefined {
  const p = resolveDiskPath(path);
  return named(p.name, () => {
    if (probeFormat(p) === 'raw') return undefined;
    const store = FileByteStore.open(p, { readOnly: true });
    try {
      return checkQcow2(store);
    } finally {
      store.close();
    }
  });
}

/** Runs `op`; a DiskError that does not name the image yet gets its name in front. */
function named<T>(name: string, op: () => T): T {
  try {
    return op();
  } catch (err) {
    if (err instanceof DiskError && !err.message.startsWith(name)) throw new DiskError(err.code, `${name}: ${err.message}`);
    throw err;
  }
}

/** The bytes an image file takes on the host file system (allocated blocks). */
function allocatedOnHost(p: ResolvedPath): number {
  const { fd } = openResolved(p, { what: 'a disk image' });
  try {
    return fstatSync(fd).blocks * 512;
  } finally {
    closeSync(fd);
  }
}

/** An image file's length in bytes (a regular file, opened through the path policy). */
export function imageFileSize(path: DiskPath): number {
  const { fd, size } = openResolved(resolveDiskPath(path), { what: 'a disk image' });
  closeSync(fd);
  return size;
}

/** Where a backing file name leads, for display: relative names against the image's real folder, as openDisk opens them. */
function fullBacking(image: ResolvedPath, name: string): string {
  return isAbsolute(name) ? name : resolve(dirname(image.real), name);
}

/** Formats a byte count the way qemu-img does: "64 MiB", "1.5 GiB", "512 B". */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number(v.toPrecision(3))} ${units[u]}`;
}
