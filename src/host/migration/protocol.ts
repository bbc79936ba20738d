// The wire format of live migration between two vmlab processes (docs/migration.md). A stream of
// frames over TCP on 127.0.0.1:
//   length   u32 little-endian: bytes that follow (type and payload), at most MAX_FRAME
//   type     u8 (MessageType)
//   payload  JSON (UTF-8) for control messages; raw bytes for pages, state and console bytes
// The VM's CPU and device state travels as a vmlab snapshot (snapshot-file.ts: the same format as
// a snapshot file, its RAM left out); RAM travels as PAGES frames: a u32 count, then for each page
// its u32 index from the start of guest RAM and its 4096 bytes. Everything a peer sends is checked
// before it is used; a frame that breaks the format ends the migration with one line naming it.

import { z } from 'zod';

/** Protocol name and version in HELLO; a peer of another version is refused. */
export const PROTOCOL = 'vmlab-migration';
export const PROTOCOL_VERSION = 1;
/** The largest frame accepted: the state with kernel, firmware and initrd images (pages go apart). */
export const MAX_FRAME = 64 * 1024 * 1024;
/** Pages per PAGES frame. */
export const PAGES_PER_FRAME = 64;
const PAGE = 4096;

/** Message types. Source to destination: 1-9; destination to source: 10-19. */
export enum MessageType {
  HELLO = 1,
  PAGES = 2,
  STATE = 3,
  INPUT = 4,
  /** The source closed its disk images (the destination may open them now). */
  RELEASED = 5,
  READY = 10,
  /** The destination checked the state and can continue the VM once the disks are released. */
  PREPARED = 11,
  RESUMED = 12,
  OUTPUT = 13,
  EXIT = 14,
  ERROR = 15,
}

const NAMES: Record<number, string> = {
  1: 'HELLO', 2: 'PAGES', 3: 'STATE', 4: 'INPUT', 5: 'RELEASED', 10: 'READY', 11: 'PREPARED', 12: 'RESUMED', 13: 'OUTPUT', 14: 'EXIT', 15: 'ERROR',
};

/** The name of a message type, for errors. */
export function messageName(type: number): string {
  return NAMES[type] ?? `unknown type ${type}`;
}

/** HELLO: what the source is about to send. */
export const Hello = z.object({
  protocol: z.literal(PROTOCOL),
  version: z.number().int(),
  mode: z.string().max(16),
  ramPages: z.number().int().min(1).max(1 << 20),
  live: z.boolean(),
}).strict();
export type Hello = z.infer<typeof Hello>;

/** RESUMED: the VM runs at the destination. */
export const Resumed = z.object({ restoreMs: z.number().min(0) }).strict();
/** EXIT: how the VM's run ended at the destination. */
export const Exit = z.object({
  end: z.string().max(64),
  exitCode: z.number().int().nullable(),
  instret: z.number().int().min(0),
  steps: z.number().int().min(0),
  message: z.string().max(1000).optional(),
}).strict();
export type Exit = z.infer<typeof Exit>;
/** ERROR: why the peer gave up. */
export const PeerError = z.object({ message: z.string().max(1000) }).strict();
/** Empty control messages. */
export const Empty = z.object({}).strict();

/** One frame as read. */
export interface Frame {
  type: number;
  payload: Buffer;
}

/** Encodes one frame. */
export function frame(type: MessageType, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(payload.length + 1, 0);
  head.writeUInt8(type, 4);
  return Buffer.concat([head, payload]);
}

/** Encodes a control message. */
export function jsonFrame(type: MessageType, value: object): Buffer {
  return frame(type, Buffer.from(JSON.stringify(value), 'utf8'));
}

/** Encodes a PAGES frame of `pages` (index and bytes). */
export function pagesFrame(pages: readonly { index: number; bytes: Uint8Array }[]): Buffer {
  const body = Buffer.alloc(4 + pages.length * (4 + PAGE));
  body.writeUInt32LE(pages.length, 0);
  let at = 4;
  for (const p of pages) {
    body.writeUInt32LE(p.index, at);
    body.set(p.bytes, at + 4);
    at += 4 + PAGE;
  }
  return frame(MessageType.PAGES, body);
}

/** Reads a PAGES payload; throws one line when it is malformed or names a page outside `ramPages`. */
export function readPages(payload: Buffer, ramPages: number): { index: number; bytes: Uint8Array }[] {
  if (payload.length < 4) throw new Error('a PAGES message shorter than its count');
  const count = payload.readUInt32LE(0);
  if (payload.length !== 4 + count * (4 + PAGE)) throw new Error(`a PAGES message of ${payload.length} bytes does not hold the ${count} pages it announces`);
  const out: { index: number; bytes: Uint8Array }[] = [];
  for (let i = 0, at = 4; i < count; i++, at += 4 + PAGE) {
    const index = payload.readUInt32LE(at);
    if (index >= ramPages) throw new Error(`a PAGES message names page ${index}; the VM has ${ramPages} pages`);
    out.push({ index, bytes: payload.subarray(at + 4, at + 4 + PAGE) });
  }
  return out;
}

/** Parses a control message against `schema`; throws one line naming the message when it does not fit. */
export function parseJson<T>(f: Frame, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(f.payload.toString('utf8'));
  } catch {
    throw new Error(`a ${messageName(f.type)} message that is not JSON`);
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`a ${messageName(f.type)} message that does not fit: ${issue.path.join('.') || 'the message'}: ${issue.message}`);
  }
  return r.data;
}

/**
 * Splits a byte stream into frames. `push` takes what the socket delivered and returns the whole
 * frames it completes; it throws one line on a frame longer than MAX_FRAME or of length 0.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;

  push(data: Buffer): Frame[] {
    this.chunks.push(data);
    this.size += data.length;
    const out: Frame[] = [];
    for (;;) {
      if (this.size < 4) break;
      const head = this.peek(5);
      const length = head.readUInt32LE(0);
      if (length === 0) throw new Error('a frame of length 0');
      if (length > MAX_FRAME) throw new Error(`a frame of ${length} bytes, more than the ${MAX_FRAME} a migration sends`);
      if (this.size < 4 + length) break;
      const all = this.take(4 + length);
      out.push({ type: all.readUInt8(4), payload: all.subarray(5) });
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length < n && this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, Math.min(n, this.chunks[0].length));
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.size -= n;
    return all.subarray(0, n);
  }
}

/**
 * Checks that `host:port` or `port` names 127.0.0.1; returns the port or throws one line. With
 * `anyPort`, 0 is accepted too (a listener's: the system picks a free port).
 */
export function parseLoopbackAddress(option: string, text: string, anyPort = false): number {
  const m = /^(?:(127\.0\.0\.1|localhost):)?(\d{1,5})$/.exec(text);
  if (m === null) {
    if (/^[^:]+:\d+$/.test(text)) throw new Error(`${option} ${text}: a migration goes to 127.0.0.1 only`);
    throw new Error(`${option} ${text}: expected PORT or 127.0.0.1:PORT`);
  }
  const port = Number(m[2]);
  if (port === 0 && anyPort) return 0;
  if (port < 1 || port > 65535) throw new Error(`${option} ${text}: the port must be 1 to 65535${anyPort ? ' (or 0: any free port)' : ''}`);
  return port;
}
