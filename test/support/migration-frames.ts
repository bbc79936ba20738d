// A fake migration host's side of the wire (docs/migration.md): the frames an app or CLI sends.
import type { Socket } from 'node:net';

/** Calls `onFrame` with the type and payload of each whole frame (4-byte little-endian length, then the type byte) that arrives on `s`. */
export function onFrames(s: Socket, onFrame: (type: number, payload: Buffer) => void): void {
  let buf = Buffer.alloc(0);
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5 && buf.length >= 4 + buf.readUInt32LE(0)) {
      const type = buf.readUInt8(4);
      const payload = buf.subarray(5, 4 + buf.readUInt32LE(0));
      buf = buf.subarray(4 + buf.readUInt32LE(0));
      onFrame(type, payload);
    }
  });
}
