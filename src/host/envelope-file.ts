// The envelope vmlab's own binary files share (snapshots, recordings):
//
//   magic            8 bytes, ASCII ("VMLABSNP", "VMLABREC")
//   version          u32 little-endian, the file format's version
//   header length    u32 little-endian
//   header           JSON, UTF-8
//   body             what the header describes
//   SHA-256          32 bytes over everything before it
//
// Writing goes to a temporary name beside the target, is fsynced and renamed over it, so a crash
// leaves the old file or the new one. Reading checks the signature, version, lengths and checksum
// before anything is parsed.

import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const PREFIX = 16;
const DIGEST = 32;
/** A version above this is no version at all: text or other bytes follow the signature. */
const MAX_PLAUSIBLE_VERSION = 0xffff;

/** One kind of enveloped file. */
export interface EnvelopeKind {
  /** 8 ASCII bytes. */
  magic: string;
  version: number;
  /** What users call it: "snapshot", "recording". */
  noun: string;
}

/** The file's chunks in order, the SHA-256 last. */
export function encodeEnvelope(kind: EnvelopeKind, header: unknown, body: readonly Uint8Array[]): Uint8Array[] {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX);
  prefix.write(kind.magic, 0, 'latin1');
  prefix.writeUInt32LE(kind.version, 8);
  prefix.writeUInt32LE(json.length, 12);
  const chunks: Uint8Array[] = [prefix, json, ...body];
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  chunks.push(hash.digest());
  return chunks;
}

/** A checked envelope: its parsed header and its body (a view into the file's bytes). */
export interface Envelope {
  header: unknown;
  body: Uint8Array;
}

/**
 * Checks an envelope's signature, version, lengths and checksum and parses its header; `fail` is
 * called with one line saying what is wrong. `mistaken` names other vmlab files by their magic,
 * with what to say when one is given here. `summed` is whether the checksum matched when the
 * caller hashed the file already (envelopeChecksumAsync); without it the file is hashed here.
 */
export function decodeEnvelope(data: Buffer, kind: EnvelopeKind, fail: (why: string) => never, mistaken: Record<string, string> = {}, summed?: boolean): Envelope {
  const magic = data.toString('latin1', 0, 8);
  if (mistaken[magic] !== undefined) return fail(mistaken[magic]);
  if (data.length < PREFIX || magic !== kind.magic) return fail(`not a vmlab ${kind.noun} (no ${kind.magic} signature)`);
  const version = data.readUInt32LE(8);
  if (version > MAX_PLAUSIBLE_VERSION) return fail(`damaged: the ${kind.magic} signature is not followed by a format version`);
  if (version !== kind.version) return fail(`${kind.noun} format version ${version}; this vmlab reads version ${kind.version}`);
  const headerLength = data.readUInt32LE(12);
  if (PREFIX + headerLength + DIGEST > data.length) return fail(`truncated: ${data.length} bytes, the header alone needs ${PREFIX + headerLength + DIGEST}`);
  const end = data.length - DIGEST;
  if (!(summed ?? createHash('sha256').update(data.subarray(0, end)).digest().equals(data.subarray(end)))) {
    return fail('checksum mismatch: the file is damaged or truncated');
  }
  let header: unknown;
  try {
    header = JSON.parse(data.toString('utf8', PREFIX, PREFIX + headerLength));
  } catch {
    return fail('the header is not valid JSON');
  }
  return { header, body: data.subarray(PREFIX + headerLength, end) };
}

/** Bytes envelopeChecksumAsync hashes between two turns of the event loop. */
const SUM_STEP = 1 << 20;

/**
 * Whether the closing SHA-256 of `data` matches the bytes before it, hashed SUM_STEP at a time with
 * the event loop let run after each step (the host's snapshot list: a snapshot of 256 MiB of RAM
 * hashed in one go held it 170 ms). False for data too short to hold a digest.
 */
export async function envelopeChecksumAsync(data: Buffer): Promise<boolean> {
  if (data.length < DIGEST) return false;
  const end = data.length - DIGEST;
  const hash = createHash('sha256');
  for (let at = 0; at < end; at += SUM_STEP) {
    hash.update(data.subarray(at, Math.min(end, at + SUM_STEP)));
    await new Promise<void>((resume) => setImmediate(resume));
  }
  return hash.digest().equals(data.subarray(end));
}

/** A file's bytes; `fail` gets one line when it cannot be read. */
export function readWholeFile(path: string, fail: (why: string) => never): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    return fail(readProblem(err));
  }
}

/** Why a file could not be read or looked at, in a few words ('no such file', 'permission denied'). */
export function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
}

/**
 * Writes chunks to a temporary name beside `path`, fsyncs, renames over `path` and syncs the
 * folder. A failure throws `${label}: cannot write the file: <why>` and leaves no temporary file.
 */
export function writeFileDurably(path: string, chunks: readonly Uint8Array[], label: string): void {
  const target = resolve(path);
  const tmp = `${target}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    for (const c of chunks) {
      let done = 0;
      while (done < c.length) done += writeSync(fd, c, done, c.length - done);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) try { closeSync(fd); } catch { /* closed already */ }
    try { unlinkSync(tmp); } catch { /* not there */ }
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
    throw new Error(`${label}: cannot write the file: ${why}`);
  }
  // The rename itself is durable once the folder is synced.
  try {
    const dirFd = openSync(dirname(target), 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  } catch {
    // Some file systems refuse to sync a folder; the file itself is synced.
  }
}
