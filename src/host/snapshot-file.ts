// Snapshot files: a machine's or a VM's whole state in one versioned file, written to a temporary
// name beside the target, fsynced and renamed, so a crash leaves the old file or the new one.
//
// Layout (little-endian; the envelope is host/envelope-file.ts's):
//   "VMLABSNP"                  8 bytes, magic
//   version                     u32, FORMAT_VERSION
//   header length               u32
//   header                      JSON (SnapshotHeader), UTF-8
//   blobs                       the kernel, firmware and initrd images, then RAM pages (4 KiB each,
//                               in the order `ramPages` lists), where the header's `blobs` says
//   SHA-256                     32 bytes over everything before it
// Reading checks magic, version, lengths and the checksum before anything is parsed, and says in one
// line what is wrong with a file that fails.

import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { CpuFeatures } from '../engine/cpu/hart';
import type { MachineState, VmState } from '../engine/snapshot/machine-state';
import { STATE_VERSION } from '../engine/snapshot/machine-state';
import { decodeEnvelope, encodeEnvelope, readProblem, readWholeFile, writeFileDurably, type EnvelopeKind } from './envelope-file';
import { fileKind } from './paths';

/** The file format's version; a file of another version is refused. */
export const FORMAT_VERSION = 1;
export const SNAPSHOT_FILE: EnvelopeKind = { magic: 'VMLABSNP', version: FORMAT_VERSION, noun: 'snapshot' };

/** A disk a snapshot was taken with: where it is and what it held then. */
export interface SnapshotDisk {
  /** Absolute path of the image when the snapshot was taken. */
  path: string;
  format: 'raw' | 'qcow2';
  readOnly: boolean;
  legacy: boolean;
  serial?: string;
  slot: number;
  /** Size in bytes and SHA-256 of the image file when the snapshot was taken (after its flush). */
  size: number;
  sha256: string;
}

/** What the machine was built from, so it can be built again. */
export interface SnapshotConfig {
  mode: string;
  ramSize: number;
  cpu: Partial<CpuFeatures>;
  bootargs?: string;
  sbi?: boolean;
  /** A VM's placement of its pages in host frames, as the run was given it. */
  place?: string;
  /** The kernel's file name, for `snapshot info` (the app: its workspace path). */
  kernelName: string;
  /** The app's name of the machine or VM the snapshot was taken of. */
  name?: string;
}

/** Where a blob lies in the file, after the header. */
interface BlobRef {
  offset: number;
  length: number;
}

/** The JSON header of a snapshot file. */
export interface SnapshotHeader {
  format: 'vmlab-snapshot';
  stateVersion: number;
  created: string;
  config: SnapshotConfig;
  disks: SnapshotDisk[];
  /** Where the run stood, for `snapshot info`. */
  summary: { steps: number; instret: number; pc: number; priv: number; state: string };
  /** The bare machine's state, or a VM's. */
  machine?: MachineState;
  vm?: VmState;
  ramPages: number[];
  blobs: { kernel: BlobRef; firmware?: BlobRef; initrd?: BlobRef; ram: BlobRef };
}

/** A snapshot in memory. */
export interface Snapshot {
  header: SnapshotHeader;
  kernel: Uint8Array;
  firmware?: Uint8Array;
  initrd?: Uint8Array;
  /** RAM page index → its 4096 bytes. */
  ram: Map<number, Uint8Array>;
}

/** What a snapshot is made from; the header's blob table is filled in by `writeSnapshotFile`. */
export type SnapshotParts = Omit<Snapshot, 'header' | 'ram'> & {
  header: Omit<SnapshotHeader, 'blobs' | 'ramPages' | 'format' | 'stateVersion'>;
  ram: Iterable<{ index: number; bytes: Uint8Array }>;
};

/**
 * A snapshot as the bytes of its file (the chunks in order, the SHA-256 last): what a file holds and
 * what a migration sends (docs/migration.md).
 */
export function encodeSnapshot(parts: SnapshotParts): Uint8Array[] {
  const ramPages: number[] = [];
  const ramChunks: Uint8Array[] = [];
  for (const page of parts.ram) {
    ramPages.push(page.index);
    ramChunks.push(page.bytes.slice());
  }
  const blobs: SnapshotHeader['blobs'] = { kernel: { offset: 0, length: 0 }, ram: { offset: 0, length: 0 } };
  let at = 0;
  const place = (bytes: Uint8Array): BlobRef => {
    const ref = { offset: at, length: bytes.length };
    at += bytes.length;
    return ref;
  };
  blobs.kernel = place(parts.kernel);
  if (parts.firmware !== undefined) blobs.firmware = place(parts.firmware);
  if (parts.initrd !== undefined) blobs.initrd = place(parts.initrd);
  blobs.ram = { offset: at, length: ramChunks.length * 4096 };
  const header: SnapshotHeader = { format: 'vmlab-snapshot', stateVersion: STATE_VERSION, ...parts.header, ramPages, blobs };
  const body: Uint8Array[] = [parts.kernel];
  if (parts.firmware !== undefined) body.push(parts.firmware);
  if (parts.initrd !== undefined) body.push(parts.initrd);
  body.push(...ramChunks);
  return encodeEnvelope(SNAPSHOT_FILE, header, body);
}

/**
 * Writes a snapshot file: to a temporary name beside `path`, fsynced, then renamed over it. A
 * failure throws one line starting with `label` (what the user named the file by).
 */
export function writeSnapshotFile(path: string, parts: SnapshotParts, label = `--save-snapshot ${path}`): void {
  writeFileDurably(path, encodeSnapshot(parts), label);
}

/**
 * Reads and checks a snapshot file; throws one line naming the file (as `label`, default its path)
 * and what is wrong with it.
 */
export function readSnapshotFile(path: string, label = path): Snapshot {
  return decodeSnapshot(readWholeFile(path, (why) => { throw new Error(`snapshot ${label}: ${why}`); }), label);
}

/**
 * Checks and reads a snapshot's bytes; throws one line naming it (`label`) and what is wrong.
 * `summed`: the checksum's verdict when the caller hashed the bytes already (envelopeChecksumAsync).
 */
export function decodeSnapshot(data: Buffer, label: string, summed?: boolean): Snapshot {
  const fail = (why: string): never => {
    throw new Error(`snapshot ${label}: ${why}`);
  };
  // A recording (host/replay/record-file.ts) is the file users most often give here by mistake.
  const envelope = decodeEnvelope(data, SNAPSHOT_FILE, fail, { VMLABREC: 'a vmlab recording, not a snapshot: replay it with vmlab run --replay FILE' }, summed);
  const header = envelope.header as SnapshotHeader;
  if (typeof header !== 'object' || header === null || header.format !== 'vmlab-snapshot') return fail('the header is not a vmlab snapshot header');
  if (header.stateVersion !== STATE_VERSION) return fail(`machine state version ${header.stateVersion}; this vmlab reads version ${STATE_VERSION}`);
  const blobStart = envelope.body.byteOffset - data.byteOffset;
  const blobEnd = blobStart + envelope.body.length;
  const blob = (name: string, ref: BlobRef | undefined): Uint8Array | undefined => {
    if (ref === undefined) return undefined;
    if (typeof ref !== 'object' || !Number.isSafeInteger(ref.offset) || !Number.isSafeInteger(ref.length) || ref.offset < 0 || ref.length < 0 ||
      blobStart + ref.offset + ref.length > blobEnd) {
      return fail(`the ${name} lies outside the file`);
    }
    return new Uint8Array(data.buffer, data.byteOffset + blobStart + ref.offset, ref.length);
  };
  const blobs = header.blobs;
  if (typeof blobs !== 'object' || blobs === null) return fail('the header has no blob table');
  const kernel = blob('kernel', blobs.kernel);
  if (kernel === undefined) return fail('the header names no kernel');
  const ramBytes = blob('RAM', blobs.ram);
  if (ramBytes === undefined) return fail('the header names no RAM');
  const pages = header.ramPages;
  if (!Array.isArray(pages) || pages.length * 4096 !== ramBytes.length) return fail('the RAM page list does not match the RAM it holds');
  const ram = new Map<number, Uint8Array>();
  pages.forEach((index, i) => {
    if (!Number.isSafeInteger(index) || ram.has(index)) fail(`RAM page ${String(index)} is listed twice or is no page number`);
    ram.set(index, ramBytes.subarray(i * 4096, (i + 1) * 4096));
  });
  const config = header.config;
  if (typeof config !== 'object' || config === null || typeof config.mode !== 'string' || !Number.isSafeInteger(config.ramSize)) {
    return fail('the header has no machine configuration');
  }
  if (!Array.isArray(header.disks)) return fail('the header has no disk list');
  header.disks.forEach((d: unknown, i) => {
    if (typeof d !== 'object' || d === null || typeof (d as SnapshotDisk).path !== 'string') fail(`the header's disk ${i} has no path`);
  });
  if (typeof header.created !== 'string') return fail('the header has no date');
  const summary = header.summary as Partial<SnapshotHeader['summary']> | null;
  if (typeof summary !== 'object' || summary === null || typeof summary.state !== 'string' ||
    !(['steps', 'instret', 'pc', 'priv'] as const).every((k) => Number.isFinite(summary[k]))) {
    return fail('the header has no summary of the run');
  }
  if ((config.mode === 'bare') !== (header.machine !== undefined) || (config.mode !== 'bare') !== (header.vm !== undefined)) {
    return fail(`the header holds no state for mode ${config.mode}`);
  }
  return { header, kernel, firmware: blob('firmware', blobs.firmware), initrd: blob('initrd', blobs.initrd), ram };
}

/**
 * Why a snapshot taken in mode `from` cannot continue in mode `to` (undefined when it can): a pv
 * kernel needs pv's hypercalls, and pv mode runs only kernels written for them.
 */
export function modeChangeProblem(from: string, to: string): string | undefined {
  if (from === to || (from !== 'pv' && to !== 'pv')) return undefined;
  if (from === 'pv') return `it was taken in pv mode and holds a pv kernel, which runs only in pv mode; it cannot continue in ${to}`;
  return `it was taken in ${from} mode; pv mode runs only kernels written for its hypercalls, so it cannot continue in pv`;
}

/** Size in bytes and SHA-256 (hex) of a file's bytes. */
export interface FileDigest {
  size: number;
  sha256: string;
}

/**
 * Why an image is not the one the snapshot recorded as `d`, or undefined when it is: its size
 * differs, else (when `now` has it) its SHA-256. `digests` names both SHA-256s by their first 12
 * digits (the Snapshots panel's line); without it they are said to differ (restore's refusal, which
 * names the image by its whole path).
 */
export function diskChange(d: SnapshotDisk, now: { size: number; sha256?: string }, digests = false): string | undefined {
  if (now.size !== d.size) return `changed since the snapshot was taken (size ${now.size} bytes, was ${d.size})`;
  if (now.sha256 === undefined || now.sha256 === d.sha256) return undefined;
  return `changed since the snapshot was taken (${digests ? `same size, but its SHA-256 is ${now.sha256.slice(0, 12)}…, was ${d.sha256.slice(0, 12)}…` : 'its SHA-256 differs'})`;
}

/**
 * Checks that every disk is the image the snapshot was taken with (size and SHA-256, hashed without
 * blocking the event loop: fileDigestAsync); throws one line starting with `label` otherwise.
 * `pathOf` maps a recorded path to the file to check.
 */
export async function checkSnapshotDisks(label: string, disks: readonly SnapshotDisk[], pathOf: (d: SnapshotDisk) => string = (d) => d.path): Promise<void> {
  for (const d of disks) {
    let now: FileDigest;
    try {
      now = await fileDigestAsync(pathOf(d));
    } catch (err) {
      throw new Error(`${label}: disk ${d.path}: ${readProblem(err)}`);
    }
    const change = diskChange(d, now);
    if (change !== undefined) throw new Error(`${label}: disk ${d.path} ${change}; restore it from the image as it was then`);
  }
}

/** Bytes hashed at a time: fileDigestAsync lets the event loop run between two chunks. */
const DIGEST_CHUNK = 1 << 20;
const NONBLOCK = constants.O_NONBLOCK ?? 0;

/**
 * Hashes a regular file one DIGEST_CHUNK per step and returns its digest. The file is opened
 * O_NONBLOCK and anything but a regular file refused before a byte is read, so a FIFO put where an
 * image was is never waited on.
 */
function* digestSteps(path: string): Generator<void, FileDigest, void> {
  const fd = openSync(path, constants.O_RDONLY | NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`it is ${fileKind(st)}, not a regular file`);
    const hash = createHash('sha256');
    const buf = Buffer.alloc(DIGEST_CHUNK);
    let size = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      size += n;
      yield;
    }
    return { size, sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/** Size and SHA-256 of a regular file, hashed at once (a snapshot's save, the command line). */
export function fileDigest(path: string): FileDigest {
  const steps = digestSteps(path);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * Size and SHA-256 of a regular file, as fileDigest, with the event loop let run after each chunk
 * (the host's snapshot list and restore: hashing a 1 GiB image holds it for some milliseconds at a
 * time, not seconds).
 */
export async function fileDigestAsync(path: string): Promise<FileDigest> {
  const steps = digestSteps(path);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise<void>((resume) => setImmediate(resume));
  }
}

/** Text for `vmlab snapshot info`. */
export function describeSnapshot(path: string, s: Snapshot): string {
  const h = s.header;
  const c = h.config;
  const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
  const lines = [
    `file: ${basename(path)}`,
    `format: vmlab snapshot version ${FORMAT_VERSION}, machine state version ${h.stateVersion}`,
    `created: ${h.created}`,
    `mode: ${c.mode}`,
    `kernel: ${c.kernelName} (${s.kernel.length} bytes)`,
    `memory: ${mib(c.ramSize)}, ${h.ramPages.length} pages saved (${h.ramPages.length * 4} KiB; pages of zeros are left out)`,
    `cpu: ${Object.entries(c.cpu).map(([k, v]) => `${k}=${v ? 'on' : 'off'}`).join(',') || 'defaults'}`,
  ];
  if (s.firmware !== undefined) lines.push(`firmware: ${s.firmware.length} bytes`);
  if (c.sbi) lines.push('firmware: sbi (the engine answers SBI calls)');
  if (s.initrd !== undefined) lines.push(`initrd: ${s.initrd.length} bytes`);
  if (c.bootargs !== undefined) lines.push(`append: ${c.bootargs}`);
  if (c.place !== undefined) lines.push(`place: ${c.place}`);
  lines.push(`state: ${h.summary.state}, pc 0x${(h.summary.pc >>> 0).toString(16).padStart(8, '0')}, privilege ${'USHM'[h.summary.priv] ?? h.summary.priv}`);
  lines.push(`progress: ${h.summary.instret.toLocaleString('en-US')} instructions, ${h.summary.steps.toLocaleString('en-US')} steps`);
  for (const d of h.disks) {
    lines.push(`disk: slot ${d.slot}: ${d.path} (${d.format}${d.readOnly ? ', read-only' : ''}, ${d.size} bytes, sha256 ${d.sha256.slice(0, 16)}...)`);
  }
  return lines.join('\n') + '\n';
}
