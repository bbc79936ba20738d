// What a disk's writes overwrote, oldest first, so that reverse execution can put the disk back as
// it was at a checkpoint (src/host/replay/checkpoints.ts). A virtio-blk device with a log keeps, before
// each write, discard or write-zeroes request changes the disk, the bytes the request is about to
// replace; rolling back writes them again, newest first. Records are numbered from the log's start,
// so a checkpoint's mark stays valid when the oldest records are let go.

import type { BlockDevice } from './types';

/** Bytes read at a time while a discard or write-zeroes range is saved (only pieces holding data are kept). */
const PIECE = 128 * 1024;

interface UndoRecord {
  offset: number;
  old: Uint8Array;
}

export class DiskUndoLog {
  /** Bytes of old contents held. */
  bytes = 0;
  private records: UndoRecord[] = [];
  /** The number of the first record held (records before it were let go). */
  private first = 0;

  constructor(private readonly disk: BlockDevice) {}

  /** The mark of the present: rolling back to it undoes every change made from now on. */
  get mark(): number {
    return this.first + this.records.length;
  }

  /** Keeps what bytes [offset, offset + length) hold now, before a write replaces them. */
  beforeWrite(offset: number, length: number): void {
    const old = new Uint8Array(length);
    this.disk.read(offset, old);
    this.push(offset, old);
  }

  /**
   * Keeps what [offset, offset + length) holds now, before a discard or write-zeroes request,
   * whose range then reads as zeros (or, for a discard, unchanged): only the pieces that are not
   * all zero need putting back.
   */
  beforeClear(offset: number, length: number): void {
    const piece = new Uint8Array(Math.min(PIECE, length));
    for (let done = 0; done < length;) {
      const part = piece.subarray(0, Math.min(PIECE, length - done));
      this.disk.read(offset + done, part);
      if (part.some((b) => b !== 0)) this.push(offset + done, part.slice());
      done += part.length;
    }
  }

  /** Puts the disk back as it was at `mark`, and forgets the records after it. */
  rollBack(mark: number): void {
    if (mark < this.first) throw new Error(`the disk's undo log no longer reaches back to change ${mark} (it starts at ${this.first})`);
    for (let i = this.records.length - 1; i >= mark - this.first; i--) {
      const r = this.records[i];
      this.disk.write(r.offset, r.old);
      this.bytes -= r.old.length;
    }
    this.records.length = Math.min(this.records.length, mark - this.first);
  }

  /** Lets go of the records before `mark`: history no longer reaches back past it. */
  forgetBefore(mark: number): void {
    const n = Math.min(this.records.length, mark - this.first);
    if (n <= 0) return;
    for (let i = 0; i < n; i++) this.bytes -= this.records[i].old.length;
    this.records = this.records.slice(n);
    this.first += n;
  }

  private push(offset: number, old: Uint8Array): void {
    this.records.push({ offset, old });
    this.bytes += old.length;
  }
}
