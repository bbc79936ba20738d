// A raw image: the disk's bytes are the file's bytes, sector for sector.
//
// A file that is not a whole number of 512-byte sectors (a 5-byte file, say) is one sector longer
// than its whole sectors, as QEMU has it (block.c, refresh_total_sectors: DIV_ROUND_UP(length,
// BDRV_SECTOR_SIZE)); the bytes past the file's end read as zeros and a write there grows the file to
// the sector's end. qemu-img info gives such a file's virtual size rounded up the same way, and
// qemu-system-riscv32 boots labs/disk/disk.S on a 5-byte image with "boot 1", leaving 512 bytes.

import { DiskError, type BlockDevice, type ByteStore } from './types';

/** A raw disk image over a byte store; its size is the store's length rounded up to 512 bytes. */
export class RawDisk implements BlockDevice {
  readonly format = 'raw';
  readonly size: number;

  constructor(private readonly store: ByteStore) {
    this.size = Math.ceil(store.length / 512) * 512;
  }

  get readOnly(): boolean {
    return this.store.readOnly;
  }

  read(offset: number, into: Uint8Array): void {
    this.range(offset, into.length);
    this.store.read(offset, into);
  }

  write(offset: number, data: Uint8Array): void {
    this.writable();
    this.range(offset, data.length);
    this.store.write(offset, data);
  }

  discard(offset: number, length: number): void {
    // A raw file cannot deallocate through this interface; virtio lets a discarded range keep its data.
    this.writable();
    this.range(offset, length);
  }

  writeZeroes(offset: number, length: number): void {
    this.writable();
    this.range(offset, length);
    const chunk = new Uint8Array(Math.min(length, 1 << 20));
    for (let done = 0; done < length; done += chunk.length) {
      const n = Math.min(chunk.length, length - done);
      this.store.write(offset + done, n === chunk.length ? chunk : chunk.subarray(0, n));
    }
  }

  flush(): void {
    if (!this.store.readOnly) this.store.flush();
  }

  close(): void {
    this.flush();
    this.store.close();
  }

  private writable(): void {
    if (this.store.readOnly) throw new DiskError('readonly', 'the disk is read-only');
  }

  private range(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.size || offset % 512 !== 0 || length % 512 !== 0) {
      throw new DiskError('range', `access of ${length} bytes at ${offset} is outside the ${this.size}-byte disk or not sector-aligned`);
    }
  }
}
