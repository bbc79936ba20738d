// /favicon.ico for web mode (Chromium asks for it; a 404 shows as a console error): a 16x16
// 32-bit icon drawn in code, a chip in the app's accent colour.

/** The icon file bytes. */
export function faviconIco(): Uint8Array {
  const size = 16;
  const pixels = size * size * 4;
  const mask = size * 4; // 1-bit AND mask, rows padded to 32 bits
  const bmp = 40 + pixels + mask;
  const out = new Uint8Array(6 + 16 + bmp);
  const v = new DataView(out.buffer);
  v.setUint16(2, 1, true); // type: icon
  v.setUint16(4, 1, true); // one image
  out[6] = size;
  out[7] = size;
  v.setUint16(10, 1, true); // planes
  v.setUint16(12, 32, true); // bits per pixel
  v.setUint32(14, bmp, true);
  v.setUint32(18, 22, true); // offset of the image
  const h = 22;
  v.setUint32(h, 40, true);
  v.setInt32(h + 4, size, true);
  v.setInt32(h + 8, size * 2, true); // height counts the mask
  v.setUint16(h + 12, 1, true);
  v.setUint16(h + 14, 32, true);
  v.setUint32(h + 20, pixels + mask, true);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = h + 40 + ((size - 1 - y) * size + x) * 4; // bottom-up rows, BGRA
      const pin = (x === 0 || x === 15) && y % 3 === 1 && y > 2 && y < 14;
      const pinTop = (y === 0 || y === 15) && x % 3 === 1 && x > 2 && x < 14;
      const body = x >= 2 && x <= 13 && y >= 2 && y <= 13;
      const core = x >= 5 && x <= 10 && y >= 5 && y <= 10;
      if (core) out.set([0xff, 0xd0, 0x4f, 0xff], o);
      else if (body) out.set([0x5a, 0x3a, 0x1e, 0xff], o);
      else if (pin || pinTop) out.set([0xb0, 0xb0, 0xb0, 0xff], o);
    }
  }
  return out;
}
