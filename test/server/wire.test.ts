// The WebSocket frame codec keeps bytes as bytes.
import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, decodeFrame, encodeFrame } from '../../src/shared/wire';

describe('wire codec', () => {
  it('round-trips Uint8Array payloads of any size, nested', () => {
    const big = new Uint8Array(200_000).map((_, i) => (i * 7) & 255);
    const frame = { t: 'event' as const, event: 'vm.console' as const, payload: { id: 'm1', data: big } };
    const back = decodeFrame(encodeFrame(frame)) as typeof frame;
    expect(back.payload.data).toBeInstanceOf(Uint8Array);
    expect(back.payload.data).toEqual(big);
  });

  it('agrees with Node base64', () => {
    const b = new Uint8Array([0, 1, 2, 250, 251, 255]);
    expect(bytesToBase64(b)).toBe(Buffer.from(b).toString('base64'));
    expect(base64ToBytes(Buffer.from(b).toString('base64'))).toEqual(b);
  });

  it('leaves objects that only look like bytes alone when they carry more keys', () => {
    expect(decodeFrame('{"$bytes":"AA==","x":1}')).toEqual({ $bytes: 'AA==', x: 1 });
  });
});
