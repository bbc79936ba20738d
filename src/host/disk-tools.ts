// Disk image tools behind `vmlab disk` (and the lab service): create, info, convert, check, in the
// manner of qemu-img.

import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkQcow2, type Qcow2CheckResult } from '../engine/disk/qcow2-check';
import { createQcow2, Qcow2Disk } from '../engine/disk/qcow2';
import { RawDisk } from '../engine/disk/raw';
import { DiskError, MemoryByteStore } from '../engine/disk/types';
import { FileByteStore, openDisk, probeFormat, resolveBacking, type DiskFormat } from './disk-files';

/** Options for createDisk. */
export interface CreateDiskOptions {
  format?: DiskFormat;
  /** Backing file name, stored as given; a relative name is relative to the new image's folder. */
  backing?: string;
  /** qcow2 cluster size in bytes: a power of two from 512 to 2 MiB (default 64 KiB). */
  clusterSize?: number;
}

/** Creates a disk image; `size` (rounded up to 512 bytes) defaults to the backing file's size. */
export function createDisk(path: string, size: number | undefined, opts: CreateDiskOptions = {}): void {
  const format = opts.format ?? 'qcow2';
  if (format === 'raw' && opts.backing !== undefined) throw new DiskError('unsupported', 'raw images cannot have a backing file (use --format qcow2)');
  if (format === 'raw' && opts.clusterSize !== undefined) throw new DiskError('unsupported', 'raw images have no cluster size');
  let backing: { file: string; format: DiskFormat } | undefined;
  if (opts.backing !== undefined) {
    const backingPath = resolveBacking(resolve(path), opts.backing);
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
  const store = FileByteStore.open(path, { create: true });
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
  /** The backing file's path, resolved against the image's folder. */
  fullBackingFile?: string;
  backingFormat?: string;
  /** Bytes of the virtual disk that the image itself defines (its backing chain not counted). */
  allocatedBytes: number;
}

/** Describes a disk image without locking it. */
export function diskInfo(path: string): DiskInfo {
  const format = probeFormat(path);
  const diskSize = statSync(path).blocks * 512;
  if (format === 'raw') {
    const disk = new RawDisk(FileByteStore.open(path, { readOnly: true }));
    const info: DiskInfo = { filename: path, format, virtualSize: disk.size, diskSize, allocatedBytes: disk.size };
    disk.close();
    return info;
  }
  // The header alone describes the image: its backing file need not be present for info.
  const disk = Qcow2Disk.open(FileByteStore.open(path, { readOnly: true }), { openBacking: () => new RawDisk(new MemoryByteStore(0, true)) });
  try {
    const h = disk.header;
    return {
      filename: path,
      format,
      virtualSize: disk.size,
      diskSize,
      clusterSize: disk.clusterSize,
      version: h.version,
      backingFile: h.backingFile,
      fullBackingFile: h.backingFile === undefined ? undefined : resolveBacking(path, h.backingFile),
      backingFormat: h.backingFormat,
      allocatedBytes: disk.allocatedBytes(),
    };
  } finally {
    disk.close();
  }
}

/** Copies a disk's contents (its backing chain flattened) into a new image; all-zero clusters are not written. */
export function convertDisk(input: string, output: string, outFormat: DiskFormat = 'qcow2'): void {
  if (resolve(input) === resolve(output)) throw new DiskError('range', 'the output must be a different file from the input');
  const src = openDisk(input, { readOnly: true });
  try {
    createDisk(output, src.size, { format: outFormat });
    const dst = openDisk(output, { format: outFormat });
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
export function checkDisk(path: string): Qcow2CheckResult | undefined {
  if (probeFormat(path) === 'raw') return undefined;
  const store = FileByteStore.open(path, { readOnly: true });
  try {
    return checkQcow2(store);
  } finally {
    store.close();
  }
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
