// A WebSocket client written byte by byte over a TCP socket (RFC 6455 section 5), so the tests can
// send what no library would: unmasked client frames, reserved opcodes and bits, lying lengths,
// bad UTF-8 and close codes. It reads the server's frames back to learn how the server closed.
import { connect, type Socket } from 'node:net';

/** One frame as the attacker writes it. */
export interface RawFrame {
  /** Default true. */
  fin?: boolean;
  /** RSV1..RSV3 as bits 2..0; default 0. */
  rsv?: number;
  opcode: number;
  /** The 4-byte masking key; null sends the frame unmasked. Default 00 00 00 00. */
  mask?: Uint8Array | null;
  payload?: Uint8Array;
  /** The length the header claims, when it should differ from the payload's. */
  declaredLength?: bigint;
  /** The length field's width: 7, 16 or 64 bits; default the shortest that holds the length. */
  lengthBits?: 7 | 16 | 64;
}

/** The bytes of `frame` on the wire. */
export function encodeRawFrame(frame: RawFrame): Buffer {
  const payload = frame.payload ?? new Uint8Array(0);
  const length = frame.declaredLength ?? BigInt(payload.length);
  const bits = frame.lengthBits ?? (length < 126n ? 7 : length < 65536n ? 16 : 64);
  const mask = frame.mask === undefined ? new Uint8Array(4) : frame.mask;
  const head: number[] = [((frame.fin ?? true) ? 0x80 : 0) | ((frame.rsv ?? 0) & 7) << 4 | (frame.opcode & 15)];
  const maskBit = mask ? 0x80 : 0;
  if (bits === 7) head.push(maskBit | Number(length & 0x7fn));
  else if (bits === 16) head.push(maskBit | 126, Number((length >> 8n) & 0xffn), Number(length & 0xffn));
  else {
    head.push(maskBit | 127);
    for (let i = 7; i >= 0; i--) head.push(Number((length >> BigInt(8 * i)) & 0xffn));
  }
  const body = Buffer.from(payload);
  if (mask) {
    head.push(...mask);
    for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  }
  return Buffer.concat([Buffer.from(head), body]);
}

/** A close frame's payload: the code and a reason. */
export function closePayload(code: number, reason: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = Buffer.alloc(2 + reason.length);
  b.writeUInt16BE(code & 0xffff, 0);
  b.set(reason, 2);
  return b;
}

/** How the server answered a raw connection. */
export interface RawOutcome {
  /** The server ended the TCP connection. */
  ended: boolean;
  /** Status code of the server's close frame (1005 when it had none), if it sent one. */
  closeCode?: number;
  /** Text frames the server sent. */
  texts: string[];
  /** Pong payloads the server sent. */
  pongs: number;
}

/** The request line and headers of a WebSocket handshake for `path`. */
export function handshake(port: number, path: string, headers: Record<string, string>): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return lines.join('\r\n') + '\r\n\r\n';
}

/** A raw WebSocket connection after a successful handshake. */
export class RawSocket {
  private chunks: Buffer[] = [];
  private have = 0;
  private need = 2;
  private readonly outcome: RawOutcome = { ended: false, texts: [], pongs: 0 };
  private readonly done: Promise<void>;

  private constructor(private readonly socket: Socket, rest: Buffer) {
    this.done = new Promise((resolve) => socket.once('close', () => {
      this.outcome.ended = true;
      resolve();
    }));
    socket.on('data', (d: Buffer) => this.take(d));
    socket.on('error', () => {});
    this.take(rest);
  }

  /** Opens `path` (default /api) with `headers` (the token, a matching Origin) and completes the handshake. */
  static open(port: number, headers: Record<string, string>, path = '/api'): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(handshake(port, path, headers)));
      let got = Buffer.alloc(0);
      const onData = (d: Buffer): void => {
        got = Buffer.concat([got, d]);
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const status = got.subarray(0, got.indexOf('\r\n')).toString();
        if (!status.startsWith('HTTP/1.1 101')) {
          socket.destroy();
          return reject(new Error(`handshake refused: ${status}`));
        }
        resolve(new RawSocket(socket, got.subarray(end + 4)));
      };
      socket.on('data', onData);
      socket.on('error', (err) => reject(err));
    });
  }

  /** Writes bytes; a server that already closed is not an error here. */
  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  /** Waits until the server ends the connection or `ms` pass, then drops it; gives what the server did. */
  async finish(ms: number): Promise<RawOutcome> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.done, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    const result = { ...this.outcome, texts: [...this.outcome.texts] };
    this.socket.destroy();
    return result;
  }

  /** Stops reading: what the server sends waits in its queues. */
  pause(): void {
    this.socket.pause();
  }

  /** Reads again. */
  resume(): void {
    this.socket.resume();
  }

  private take(d: Buffer): void {
    this.chunks.push(d);
    this.have += d.length;
    // Joined only once a whole frame is there, so a long reply is not copied chunk by chunk.
    if (this.have < this.need) return;
    let buf = Buffer.concat(this.chunks);
    for (;;) {
      const need = frameLength(buf);
      if (need === undefined || buf.length < need) {
        this.chunks = [buf];
        this.have = buf.length;
        this.need = need ?? buf.length + 1;
        return;
      }
      const opcode = buf[0] & 15;
      const len = buf[1] & 0x7f;
      const at = len === 126 ? 4 : len === 127 ? 10 : 2;
      const payload = buf.subarray(at, need);
      if (opcode === 1) this.outcome.texts.push(payload.toString());
      else if (opcode === 8) this.outcome.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      else if (opcode === 10) this.outcome.pongs++;
      buf = buf.subarray(need);
    }
  }
}

/** Bytes of the (unmasked, server) frame at the start of `buf`, header included; undefined until its header is there. */
function frameLength(buf: Buffer): number | undefined {
  if (buf.length < 2) return undefined;
  const len = buf[1] & 0x7f;
  if (len < 126) return 2 + len;
  if (len === 126) return buf.length < 4 ? undefined : 4 + buf.readUInt16BE(2);
  return buf.length < 10 ? undefined : 10 + Number(buf.readBigUInt64BE(2));
}

/** Sends one raw HTTP request; resolves with the status line of the answer ('' when none came). */
export function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    const timer = setTimeout(() => socket.destroy(), 5_000);
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got.split('\r\n')[0]);
    });
  });
}
