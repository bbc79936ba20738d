// The two small interfaces every disk goes through (docs/disks.md; TinyEMU's split of transport, device and
// host backend). A ByteStore is the host's file (node:fs in src/host, memory in tests); a BlockDevice is
// a disk format (raw, qcow2) over byte stores, as the virtio-blk device sees it. Both are synchronous:
// the engine completes a guest request inside the MMIO write that submitted it, so a run stays
// deterministic. Failures throw DiskError; the device turns them into VIRTIO_BLK_S_IOERR.

/** A disk error with a stable code and a readable message. */
export class DiskError extends Error {
  constructor(readonly code: DiskErrorCode, message: string) {
    super(message);
    this.name = 'DiskError';
  }
}

/** What went wrong: malformed image, I/O failure, write to a read-only disk, range, or lock held. */
export type DiskErrorCode = 'corrupt' | 'io' | 'readonly' | 'range' | 'locked' | 'unsupported';

/** Bytes addressed by offset: a host file or a buffer. */
export interface ByteStore {
  /** Current length in bytes. */
  readonly length: number;
  /** Whether writes are refused. */
  readonly readOnly: boolean;
  /** Reads `into.length` bytes at `offset`; bytes past the end read as zero. */
  read(offset: number, into: Uint8Array): void;
  /** Writes `data` at `offset`, growing the store when it ends past the end. */
  write(offset: number, data: Uint8Array): void;
  /** Sets the length (truncates or zero-extends). */
  resize(length: number): void;
  /** Makes every completed write durable (fsync of data and metadata for a file). */
  flush(): void;
  /** Releases the store (and its lock); further calls throw. */
  close(): void;
}

/** A virtual disk as a guest sees it: `size` bytes in 512-byte sectors. */
export interface BlockDevice {
  /** Format name: 'raw' or 'qcow2'. */
  readonly format: string;
  /** Virtual size in bytes (a multiple of 512). */
  readonly size: number;
  readonly readOnly: boolean;
  /** Reads `into.length` bytes at byte `offset` (both multiples of 512). */
  read(offset: number, into: Uint8Array): void;
  /** Writes `data` at byte `offset` (both multiples of 512). */
  write(offset: number, data: Uint8Array): void;
  /** Deallocates a range when the format can (contents then read as zero or unchanged, as virtio allows). */
  discard(offset: number, length: number): void;
  /** Makes a range read as zeros, deallocating where the format can. */
  writeZeroes(offset: number, length: number): void;
  /** Completes when every earlier write is durable in the host file. */
  flush(): void;
  /** Flushes and releases the underlying stores. */
  close(): void;
}

/** An in-memory byte store (tests, scratch disks). */
export class MemoryByteStore implements ByteStore {
  private bytes: Uint8Array;
  private size: number;
  private closed = false;
  /** Number of flush() calls, so tests can see that a flush reached the store. */
  flushes = 0;

  constructor(initial: Uint8Array | number = 0, readonly readOnly = false) {
    this.bytes = typeof initial === 'number' ? new Uint8Array(initial) : initial.slice();
    this.size = this.bytes.length;
  }

  get length(): number {
    return this.size;
  }

  /** A copy of the contents. */
  contents(): Uint8Array {
    return this.bytes.slice(0, this.size);
  }

  read(offset: number, into: Uint8Array): void {
    this.check();
    into.fill(0);
    if (offset < this.size) into.set(this.bytes.subarray(offset, Math.min(this.size, offset + into.length)));
  }

  write(offset: number, data: Uint8Array): void {
    this.check();
    if (this.readOnly) throw new DiskError('readonly', 'the store is read-only');
    const end = offset + data.length;
    if (end > this.size) this.resize(end);
    this.bytes.set(data, offset);
  }

  resize(length: number): void {
    this.check();
    if (length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(length, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.size));
      this.bytes = grown;
    } else if (length < this.size) {
      this.bytes.fill(0, length, this.size);
    }
    this.size = length;
  }

  flush(): void {
    this.check();
    this.flushes++;
  }

  close(): void {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw new DiskError('io', 'the store is closed');
  }
}
