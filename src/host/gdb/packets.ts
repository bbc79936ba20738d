// GDB remote serial protocol framing (gdb manual, "Overview" of Remote Protocol): `$data#cc` with a
// modulo-256 checksum, `+`/`-` acknowledgements, 0x03 for Ctrl-C, `}` escapes in binary data and
// run-length encoding, which gdb never sends but a stub may not choke on. Nothing here knows the
// machine; the reader never throws on bytes from the socket.

/** Modulo-256 sum of the bytes of `data`, as two hex digits. */
export function checksum(data: string): string {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data.charCodeAt(i)) & 0xff;
  return sum.toString(16).padStart(2, '0');
}

/** Escapes `$`, `#`, `}` and `*` in a reply body (binary replies such as qXfer). */
export function escapeBinary(data: string): string {
  return data.replace(/[$#}*]/g, (c) => '}' + String.fromCharCode(c.charCodeAt(0) ^ 0x20));
}

/** A packet ready for the wire. */
export function frame(data: string): string {
  return `$${data}#${checksum(data)}`;
}

/** What the reader found in the byte stream. */
export type Incoming =
  | { kind: 'packet'; data: string }
  | { kind: 'bad-checksum' }
  | { kind: 'interrupt' }
  | { kind: 'ack' }
  | { kind: 'nak' };

/** Largest packet body the stub accepts (it announces PacketSize as this). */
export const MAX_PACKET = 0x4000;

/** Splits a byte stream into packets, acknowledgements and interrupts. */
export class PacketReader {
  private state: 'idle' | 'body' | 'escape' | 'sum1' | 'sum2' = 'idle';
  private body: number[] = [];
  private sum = '';
  private overflow = false;

  /** Feeds bytes; returns every complete item they finish, in order. */
  feed(bytes: Uint8Array): Incoming[] {
    const out: Incoming[] = [];
    for (const b of bytes) {
      switch (this.state) {
        case 'idle':
          if (b === 0x24) {
            this.state = 'body';
            this.body = [];
            this.overflow = false;
          } else if (b === 0x03) out.push({ kind: 'interrupt' });
          else if (b === 0x2b) out.push({ kind: 'ack' });
          else if (b === 0x2d) out.push({ kind: 'nak' });
          break;
        case 'body':
          if (b === 0x23) {
            this.state = 'sum1';
            this.sum = '';
          } else this.push(b);
          break;
        case 'sum1':
          this.sum = String.fromCharCode(b);
          this.state = 'sum2';
          break;
        case 'sum2': {
          this.sum += String.fromCharCode(b);
          this.state = 'idle';
          const raw = String.fromCharCode(...this.body);
          if (this.overflow || this.sum.toLowerCase() !== checksum(raw)) out.push({ kind: 'bad-checksum' });
          else out.push({ kind: 'packet', data: expandRuns(raw) });
          break;
        }
        default:
          break;
      }
    }
    return out;
  }

  private push(b: number): void {
    if (this.body.length >= MAX_PACKET + 16) {
      this.overflow = true;
      return;
    }
    this.body.push(b);
  }
}

/** Expands run-length encoding (`X*n`: n - 29 more copies of X). */
function expandRuns(raw: string): string {
  if (!raw.includes('*')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '*' && i > 0 && i + 1 < raw.length) {
      const n = raw.charCodeAt(i + 1) - 29;
      out += out[out.length - 1].repeat(Math.max(0, n));
      i++;
    } else out += c;
  }
  return out;
}

/** Undoes `}` escapes of binary packet data (the X packet). */
export function unescapeBinary(data: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x7d && i + 1 < data.length) out.push(data.charCodeAt(++i) ^ 0x20);
    else out.push(c & 0xff);
  }
  return Uint8Array.from(out);
}

/** Bytes as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Hex text as bytes, or undefined when it is not an even run of hex digits. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A 32-bit register value in target (little-endian) byte order, as hex. */
export function word32Hex(v: number): string {
  const u = v >>> 0;
  return toHex(Uint8Array.of(u & 0xff, (u >>> 8) & 0xff, (u >>> 16) & 0xff, u >>> 24));
}

/** Parses a hex number (at most 8 digits: addresses and lengths are 32-bit), or undefined. */
export function parseHex32(text: string): number | undefined {
  if (!/^[0-9a-fA-F]{1,8}$/.test(text)) return undefined;
  return parseInt(text, 16);
}
