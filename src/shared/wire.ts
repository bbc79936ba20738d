// The LabApi over a text channel (web mode's WebSocket): JSON frames, with every Uint8Array carried
// as {"$bytes": base64} so memory blocks and console output survive the trip as bytes.

import type { LabErrorInfo, LabEventName, LabEvents, LabMethod } from './lab-api';

/** A request from the client. */
export interface CallFrame {
  readonly t: 'call';
  readonly id: number;
  readonly method: LabMethod;
  readonly params: unknown;
}

/** A reply or an event from the host. */
export type HostFrame =
  | { readonly t: 'result'; readonly id: number; readonly result: unknown }
  | { readonly t: 'error'; readonly id: number; readonly error: LabErrorInfo }
  | { readonly t: 'event'; readonly event: LabEventName; readonly payload: LabEvents[LabEventName] };

const CHUNK = 0x8000;

/** Base64 of bytes (btoa works in browsers and Node). */
export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += CHUNK) s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(s);
}

/** Bytes of a base64 string. */
export function base64ToBytes(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Serializes a frame to JSON text, bytes as base64. */
export function encodeFrame(frame: CallFrame | HostFrame): string {
  return JSON.stringify(frame, (_key, value: unknown) =>
    value instanceof Uint8Array ? { $bytes: bytesToBase64(value) } : value,
  );
}

/** Parses JSON text into a frame, restoring bytes; throws SyntaxError on bad JSON. */
export function decodeFrame(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      const b64 = (value as { $bytes?: unknown }).$bytes;
      if (keys.length === 1 && typeof b64 === 'string') return base64ToBytes(b64);
    }
    return value;
  });
}
