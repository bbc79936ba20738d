// Recording files (`vmlab run --record FILE`): where a run started, the console input it received
// on the guest's clock, and how it ended, so `vmlab run --replay FILE` reproduces it exactly and
// checks that it did (docs/replay.md).
//
// Layout (little-endian; the envelope is host/envelope-file.ts's):
//   "VMLABREC"        8 bytes, magic
//   version           u32, RECORD_VERSION
//   header length     u32
//   header            JSON (RecordHeader), UTF-8
//   start state       the bytes of a snapshot file (host/snapshot-file.ts) of the run's first step
//   SHA-256           32 bytes over everything before it
// Reading checks magic, version, lengths and the checksum before anything is parsed, and refuses a
// file that fails in one line naming it and what is wrong.

import { createHash } from 'node:crypto';
import type { MachineState, VmState } from '../../engine/snapshot/machine-state';
import { decodeEnvelope, encodeEnvelope, readWholeFile, writeFileDurably, type EnvelopeKind } from '../envelope-file';
import { decodeSnapshot, encodeSnapshot, type Snapshot, type SnapshotParts } from '../snapshot-file';
import type { InputEvent } from './input-timeline';

/** The recording format's version; a file of another version is refused. */
export const RECORD_VERSION = 1;
export const RECORD_FILE: EnvelopeKind = { magic: 'VMLABREC', version: RECORD_VERSION, noun: 'recording' };

/** How a recorded run ended: what a replay must reproduce. */
export interface RecordEnd {
  /** The guest's clock (steps) at the end. */
  steps: number;
  /** Instructions retired (the guest's; a VM's count in a VM mode). */
  instret: number;
  /** Why the run stopped (exit, budget, quit, signal, idle, crashed, ...). */
  stopReason: string;
  /** vmlab's exit status. */
  exitStatus: number;
  /** Console output: its length and SHA-256. */
  outputBytes: number;
  outputSha256: string;
  /** SHA-256 of the guest's architectural state and RAM at the end (`stateDigest`). */
  stateSha256: string;
}

/** The JSON header of a recording. */
export interface RecordHeader {
  format: 'vmlab-record';
  created: string;
  /** What the recorded run started from: `reset`, or the snapshot file it continued. */
  startedFrom: string;
  mode: string;
  /** Console input: steps and base64 bytes. */
  inputs: { at: number; data: string }[];
  end: RecordEnd;
  /** Bytes of the start state after the header. */
  startLength: number;
}

/** A recording in memory. */
export interface Recording {
  header: RecordHeader;
  /** The run's first state. */
  start: Snapshot;
  /** Console input, decoded. */
  inputs: InputEvent[];
}

/** The state `stateDigest` covers: a machine's or VM's saved state and its RAM. */
export interface DigestState {
  machine?: MachineState;
  vm?: VmState;
  ram: Iterable<{ index: number; bytes: Uint8Array }>;
}

/**
 * SHA-256 over the guest's machine state (hart, CSRs, devices, clock) and its non-zero RAM pages.
 * A VM contributes its virtual machine and its run state, not the VMM's statistics or vCPU counters,
 * which count caches (TLB fills, translations) a replay rebuilds differently.
 */
export function stateDigest(s: DigestState): string {
  const hash = createHash('sha256');
  const machine = JSON.parse(JSON.stringify(s.machine ?? s.vm?.machine ?? null)) as { board?: { clint?: Record<string, unknown> } } | null;
  // The CLINT's last sample of its time source (mtime = sample + delta) is taken when a run call
  // starts or the guest reads the timer, so it depends on where runs were cut; the guest-visible
  // time is the step count and the delta, which stay in.
  const clint = machine?.board?.clint;
  if (clint !== undefined) for (const k of ['raw', 'mtimeLo', 'mtimeHi']) delete clint[k];
  hash.update(JSON.stringify({ machine, vmState: s.vm?.vm.state ?? null }));
  for (const page of s.ram) {
    const index = Buffer.alloc(4);
    index.writeUInt32LE(page.index);
    hash.update(index);
    hash.update(page.bytes);
  }
  return hash.digest('hex');
}

/** Bytes of a snapshot as its file holds them. */
export function snapshotBytes(parts: SnapshotParts): Buffer {
  return Buffer.concat(encodeSnapshot(parts));
}

/** Writes a recording: to a temporary name beside `path`, fsynced, then renamed over it. */
export function writeRecordFile(path: string, header: Omit<RecordHeader, 'format' | 'startLength'>, start: Uint8Array): void {
  const full: RecordHeader = { format: 'vmlab-record', ...header, startLength: start.length };
  writeFileDurably(path, encodeEnvelope(RECORD_FILE, full, [start]), `--record ${path}`);
}

/** Reads and checks a recording; throws one line naming the file and what is wrong with it. */
export function readRecordFile(path: string): Recording {
  const fail = (why: string): never => {
    throw new Error(`--replay ${path}: ${why}`);
  };
  const envelope = decodeEnvelope(readWholeFile(path, fail), RECORD_FILE, fail, {
    VMLABSNP: 'a vmlab snapshot, not a recording: continue it with vmlab run --snapshot FILE',
  });
  const header = envelope.header as RecordHeader;
  if (typeof header !== 'object' || header === null || header.format !== 'vmlab-record') return fail('the header is not a vmlab recording header');
  const e = header.end;
  if (typeof e !== 'object' || e === null || !Number.isSafeInteger(e.steps) || !Number.isSafeInteger(e.instret) || !Number.isSafeInteger(e.exitStatus) ||
    typeof e.outputSha256 !== 'string' || typeof e.stateSha256 !== 'string') {
    return fail('the header does not say how the run ended');
  }
  if (!Array.isArray(header.inputs)) return fail('the header has no input list');
  const inputs: InputEvent[] = [];
  let last = 0;
  for (const [i, ev] of header.inputs.entries()) {
    if (typeof ev !== 'object' || ev === null || !Number.isSafeInteger(ev.at) || ev.at < last || ev.at > e.steps || typeof ev.data !== 'string' ||
      !/^[A-Za-z0-9+/]*={0,2}$/.test(ev.data)) {
      return fail(`input ${i + 1} is malformed (its step is out of order or past the end, or its bytes are not base64)`);
    }
    last = ev.at;
    inputs.push({ at: ev.at, bytes: new Uint8Array(Buffer.from(ev.data, 'base64')) });
  }
  if (!Number.isSafeInteger(header.startLength) || header.startLength !== envelope.body.length) return fail('the start state does not fill the rest of the file');
  let start: Snapshot;
  try {
    start = decodeSnapshot(Buffer.from(envelope.body.buffer, envelope.body.byteOffset, envelope.body.length), 'start');
  } catch (err) {
    return fail(`its start state: ${(err as Error).message.replace(/^snapshot [^:]*: /, '')}`);
  }
  return { header, start, inputs };
}

/** Base64 of bytes, for the header's input list. */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}
