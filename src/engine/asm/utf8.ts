// UTF-8 without TextEncoder/TextDecoder (the engine's lib has neither: no DOM, no Node types).

/** Encodes a string as UTF-8 bytes. */
export function utf8Encode(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return Uint8Array.from(out);
}

/** Decodes UTF-8 bytes; malformed sequences become U+FFFD. */
export function utf8Decode(b: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    let cp = 0xfffd;
    let n = 1;
    if (c < 0x80) cp = c;
    else if (c >= 0xc0 && c < 0xe0 && i + 1 < b.length) [cp, n] = [((c & 31) << 6) | (b[i + 1] & 63), 2];
    else if (c >= 0xe0 && c < 0xf0 && i + 2 < b.length) [cp, n] = [((c & 15) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63), 3];
    else if (c >= 0xf0 && c < 0xf8 && i + 3 < b.length) [cp, n] = [((c & 7) << 18) | ((b[i + 1] & 63) << 12) | ((b[i + 2] & 63) << 6) | (b[i + 3] & 63), 4];
    s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
    i += n;
  }
  return s;
}
