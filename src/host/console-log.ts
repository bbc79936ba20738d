// A machine's console as the host keeps it: the newest CONSOLE_LOG_BYTES bytes in a ring, and how
// many bytes the console printed in all, so a page that attaches late (a reload) gets the
// scrollback and can tell which live chunks it already has.

import { CONSOLE_LOG_BYTES, type ConsoleLogInfo } from '../shared/session-api';

/** One console's retained output. */
export class ConsoleLog {
  private readonly ring: Uint8Array;
  /** Bytes printed in all; the ring holds the last min(total, capacity) of them. */
  private total = 0;
  /** Whether bytes arrived since the last `takeDirty`. */
  private dirty = false;

  constructor(readonly capacity = CONSOLE_LOG_BYTES) {
    this.ring = new Uint8Array(capacity);
  }

  /** Bytes printed in all. */
  get end(): number {
    return this.total;
  }

  /** Appends output; returns the offset of its first byte in the console's whole output. */
  append(data: Uint8Array): number {
    const at = this.total;
    const cap = this.capacity;
    // Only the newest `cap` bytes of a chunk can survive it.
    const src = data.length > cap ? data.subarray(data.length - cap) : data;
    let pos = (this.total + data.length - src.length) % cap;
    let i = 0;
    while (i < src.length) {
      const n = Math.min(src.length - i, cap - pos);
      this.ring.set(src.subarray(i, i + n), pos);
      i += n;
      pos = (pos + n) % cap;
    }
    this.total += data.length;
    if (data.length > 0) this.dirty = true;
    return at;
  }

  /** The retained bytes, oldest first, and where they end. */
  snapshot(): ConsoleLogInfo {
    const kept = Math.min(this.total, this.capacity);
    const data = new Uint8Array(kept);
    const start = (this.total - kept) % this.capacity;
    const first = Math.min(kept, this.capacity - start);
    data.set(this.ring.subarray(start, start + first), 0);
    data.set(this.ring.subarray(0, kept - first), first);
    return { data, end: this.total };
  }

  /** Whether output arrived since the last call (the store writes the log then). */
  takeDirty(): boolean {
    const d = this.dirty;
    this.dirty = false;
    return d;
  }
}
