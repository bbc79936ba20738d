// virtio-blk (virtio 1.2 §5.2) over a BlockDevice, with the feature bits and configuration space
// QEMU 7.2's `-device virtio-blk-device` presents (read back from QEMU by test/devices): SEG_MAX,
// GEOMETRY, BLK_SIZE, FLUSH, TOPOLOGY, CONFIG_WCE, DISCARD, WRITE_ZEROES, RO for read-only disks, and
// the legacy-only SCSI bit on legacy transports. Requests complete synchronously inside QueueNotify,
// so runs stay deterministic. Request-level problems (sector range, read-only disk, a DiskError from
// the backend) answer VIRTIO_BLK_S_IOERR for that request; unknown types VIRTIO_BLK_S_UNSUPP; a
// request without its headers is a ring error (QEMU: "virtio-blk missing headers"), so the device
// needs a reset.

import { utf8Encode } from '../asm/utf8';
import { DiskError, type BlockDevice } from '../disk/types';
import type { DiskUndoLog } from '../disk/undo-log';
import type { GuestMemory } from './guest-memory';
import type { VirtioDevice } from './virtio-mmio';
import { VirtqueueError, type Chain } from './virtqueue';

/** virtio device ID of a block device (§5). */
export const VIRTIO_ID_BLOCK = 2;

/** Feature bits (§5.2.3; SCSI 7 is legacy only). */
export const VirtioBlkF = {
  SIZE_MAX: 1, SEG_MAX: 2, GEOMETRY: 4, RO: 5, BLK_SIZE: 6, SCSI: 7, FLUSH: 9, TOPOLOGY: 10,
  CONFIG_WCE: 11, MQ: 12, DISCARD: 13, WRITE_ZEROES: 14,
} as const;

/** Request types (§5.2.6). */
export const VirtioBlkT = { IN: 0, OUT: 1, SCSI_CMD: 2, FLUSH: 4, GET_ID: 8, DISCARD: 11, WRITE_ZEROES: 13 } as const;

/** Status byte values (§5.2.6). */
export const VirtioBlkS = { OK: 0, IOERR: 1, UNSUPP: 2 } as const;

/** The optional barrier flag of legacy request types, ignored as QEMU ignores it. */
const VIRTIO_BLK_T_BARRIER = 0x8000_0000;
/** Flag of a WRITE_ZEROES segment that allows deallocation. */
const VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1;
/** GET_ID answers at most 20 bytes (§5.2.6). */
const VIRTIO_BLK_ID_BYTES = 20;
const SECTOR = 512;
/** QEMU's BDRV_REQUEST_MAX_SECTORS (INT_MAX >> 9), its max_discard_sectors and max_write_zeroes_sectors. */
const MAX_DISCARD_SECTORS = 0x3f_ffff;
/** QEMU 7.2 virtio-blk's default queue-size; seg_max is queue-size - 2. */
const QUEUE_SIZE = 256;
/** Bytes of configuration space QEMU exposes with DISCARD and WRITE_ZEROES: up to write_zeroes_may_unmap. */
const CONFIG_SIZE = 0x39;
/** Offset of `writeback` in the configuration space (VIRTIO_BLK_F_CONFIG_WCE). */
const WRITEBACK = 0x20;
/** Largest chunk moved between the disk and guest memory at once. */
const CHUNK = 128 * 1024;

/** Options of a virtio-blk device. */
export interface VirtioBlkOptions {
  /** Answer of GET_ID (QEMU's `serial=` property; default empty, as QEMU). */
  serial?: string;
}

/** Request and byte counters of one disk. */
export class VirtioBlkStats {
  reads = 0;
  writes = 0;
  flushes = 0;
  getIds = 0;
  discards = 0;
  writeZeroes = 0;
  unsupported = 0;
  ioErrors = 0;
  bytesRead = 0;
  bytesWritten = 0;

  /** A plain JSON-ready copy. */
  toJSON(): Record<string, number> {
    const { reads, writes, flushes, getIds, discards, writeZeroes, unsupported, ioErrors, bytesRead, bytesWritten } = this;
    return { reads, writes, flushes, getIds, discards, writeZeroes, unsupported, ioErrors, bytesRead, bytesWritten };
  }
}

/** A virtio block device. */
export class VirtioBlk implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly queueCount = 1;
  readonly defaultQueueSize = QUEUE_SIZE;
  readonly stats = new VirtioBlkStats();
  /** The last DiskError a request met (for the CLI to report). */
  lastDiskError: DiskError | undefined;
  private readonly config = new Uint8Array(CONFIG_SIZE);
  private readonly serial: Uint8Array;
  private readonly header = new Uint8Array(16);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly buffer = new Uint8Array(CHUNK);
  private readonly views = new Map<number, Uint8Array>();
  /** While reverse execution keeps history: the old contents of what each request changes (undo-log.ts). */
  undo: DiskUndoLog | undefined;
  private discardNegotiated = false;
  private writeZeroesNegotiated = false;

  constructor(readonly disk: BlockDevice, options: VirtioBlkOptions = {}) {
    this.serial = utf8Encode(options.serial ?? '').subarray(0, VIRTIO_BLK_ID_BYTES);
    this.buildConfig();
  }

  features(legacy: boolean): readonly [number, number] {
    const F = VirtioBlkF;
    let bits = (1 << F.SEG_MAX) | (1 << F.GEOMETRY) | (1 << F.BLK_SIZE) | (1 << F.FLUSH) | (1 << F.TOPOLOGY) |
      (1 << F.CONFIG_WCE) | (1 << F.DISCARD) | (1 << F.WRITE_ZEROES);
    if (legacy) bits |= 1 << F.SCSI;
    if (this.disk.readOnly) bits |= 1 << F.RO;
    return [bits >>> 0, 0];
  }

  /**
   * §5.2.5.2 and QEMU's virtio_blk_set_status: without CONFIG_WCE the cache mode follows FLUSH, so a
   * driver that cannot flush gets a write-through disk (writeback reads 0).
   */
  negotiated(lo: number): void {
    this.discardNegotiated = (lo & (1 << VirtioBlkF.DISCARD)) !== 0;
    this.writeZeroesNegotiated = (lo & (1 << VirtioBlkF.WRITE_ZEROES)) !== 0;
    if ((lo & (1 << VirtioBlkF.CONFIG_WCE)) === 0) this.config[WRITEBACK] = (lo & (1 << VirtioBlkF.FLUSH)) !== 0 ? 1 : 0;
  }

  reset(): void {
    this.discardNegotiated = false;
    this.writeZeroesNegotiated = false;
    this.config[WRITEBACK] = 1;
  }

  /** Config reads past the end read as all ones (QEMU virtio_config_readX). */
  configRead(offset: number, size: number): number {
    if (offset < 0 || offset + size > CONFIG_SIZE) return size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.config[offset + i] << (8 * i);
    return v >>> 0;
  }

  /** Only `writeback` (offset 0x20, VIRTIO_BLK_F_CONFIG_WCE) is writable. */
  configWrite(offset: number, value: number, size: number): void {
    if (offset === WRITEBACK && size === 1) this.config[WRITEBACK] = value & 1;
  }

  /** Flushes the backend; returns the DiskError, if any, instead of throwing. */
  flush(): DiskError | undefined {
    try {
      this.disk.flush();
      return undefined;
    } catch (err) {
      if (err instanceof DiskError) return err;
      throw err;
    }
  }

  process(_queue: number, chain: Chain, mem: GuestMemory): number {
    // §5.2.6.1: a 16-byte header in device-readable buffers, a status byte last in device-writable ones.
    const lastLen = chain.writable > 0 ? chain.len[chain.addr.length - 1] : 0;
    if (chain.readableBytes < 16 || lastLen < 1) throw new VirtqueueError('virtio-blk request without its headers');
    chain.gather(mem, 0, this.header);
    const h = this.headerView;
    const type = h.getUint32(0, true);
    const sector = h.getUint32(8, true) + h.getUint32(12, true) * 0x1_0000_0000;
    const dataIn = chain.writableBytes - 1;
    let status: number;
    // QEMU switches on the type without OUT and BARRIER, then tells the direction by OUT.
    switch ((type & ~(VirtioBlkT.OUT | VIRTIO_BLK_T_BARRIER)) >>> 0) {
      case VirtioBlkT.IN:
        status = (type & VirtioBlkT.OUT) !== 0 ? this.write(chain, mem, sector) : this.read(chain, mem, sector, dataIn);
        break;
      case VirtioBlkT.FLUSH:
        this.stats.flushes++;
        status = this.guard(() => this.disk.flush());
        break;
      case VirtioBlkT.GET_ID: {
        this.stats.getIds++;
        const n = Math.min(this.serial.length + 1, VIRTIO_BLK_ID_BYTES, dataIn);
        const id = new Uint8Array(n);
        id.set(this.serial.subarray(0, n));
        chain.scatter(mem, 0, id);
        status = VirtioBlkS.OK;
        break;
      }
      case VirtioBlkT.DISCARD & ~VirtioBlkT.OUT:
      case VirtioBlkT.WRITE_ZEROES & ~VirtioBlkT.OUT:
        status = this.discardOrZero(chain, mem, ((type & ~VIRTIO_BLK_T_BARRIER) >>> 0) === VirtioBlkT.WRITE_ZEROES);
        break;
      default:
        status = VirtioBlkS.UNSUPP;
    }
    if (status === VirtioBlkS.UNSUPP) this.stats.unsupported++;
    else if (status === VirtioBlkS.IOERR) this.stats.ioErrors++;
    const last = chain.addr.length - 1;
    mem.store8(chain.addr[last] + chain.len[last] - 1, status);
    // QEMU pushes the whole device-writable length (req->in_len) for every request.
    return chain.writableBytes;
  }

  private read(chain: Chain, mem: GuestMemory, sector: number, length: number): number {
    this.stats.reads++;
    if (!this.rangeOk(sector, length, mem)) return VirtioBlkS.IOERR;
    try {
      for (let done = 0; done < length;) {
        const part = this.view(Math.min(CHUNK, length - done));
        this.disk.read(sector * SECTOR + done, part);
        chain.scatter(mem, done, part);
        done += part.length;
      }
    } catch (err) {
      return this.failed(err);
    }
    this.stats.bytesRead += length;
    return VirtioBlkS.OK;
  }

  private write(chain: Chain, mem: GuestMemory, sector: number): number {
    this.stats.writes++;
    const length = chain.readableBytes - 16;
    if (!this.rangeOk(sector, length, mem)) return VirtioBlkS.IOERR;
    if (this.disk.readOnly) return VirtioBlkS.IOERR;
    try {
      this.undo?.beforeWrite(sector * SECTOR, length);
      for (let done = 0; done < length;) {
        const part = this.view(Math.min(CHUNK, length - done));
        chain.gather(mem, 16 + done, part);
        this.disk.write(sector * SECTOR + done, part);
        done += part.length;
      }
      // Write-through (writeback = 0): the data is durable before the request completes.
      if (this.config[WRITEBACK] === 0) this.disk.flush();
    } catch (err) {
      return this.failed(err);
    }
    this.stats.bytesWritten += length;
    return VirtioBlkS.OK;
  }

  /** The transfer buffer's first `n` bytes (views of the common sizes are made once). */
  private view(n: number): Uint8Array {
    if (n === CHUNK) return this.buffer;
    let v = this.views.get(n);
    if (v === undefined) {
      v = this.buffer.subarray(0, n);
      if (this.views.size < 16) this.views.set(n, v);
    }
    return v;
  }

  /** QEMU virtio_blk_handle_discard_write_zeroes, one 16-byte segment {sector, num_sectors, flags}. */
  private discardOrZero(chain: Chain, mem: GuestMemory, zero: boolean): number {
    if (zero) this.stats.writeZeroes++;
    else this.stats.discards++;
    if (!(zero ? this.writeZeroesNegotiated : this.discardNegotiated)) return VirtioBlkS.UNSUPP;
    if (chain.readableBytes !== 32) throw new VirtqueueError('virtio-blk discard/write_zeroes header too short');
    const seg = new Uint8Array(16);
    chain.gather(mem, 16, seg);
    const v = new DataView(seg.buffer);
    const sector = v.getUint32(0, true) + v.getUint32(4, true) * 0x1_0000_0000;
    const count = v.getUint32(8, true);
    const flags = v.getUint32(12, true);
    if (count > MAX_DISCARD_SECTORS) return VirtioBlkS.IOERR;
    if (!this.rangeOk(sector, count * SECTOR, undefined)) return VirtioBlkS.IOERR;
    if ((flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) !== 0) return VirtioBlkS.UNSUPP;
    if (!zero && flags !== 0) return VirtioBlkS.UNSUPP;
    return this.guard(() => {
      this.undo?.beforeClear(sector * SECTOR, count * SECTOR);
      if (zero) this.disk.writeZeroes(sector * SECTOR, count * SECTOR);
      else this.disk.discard(sector * SECTOR, count * SECTOR);
    });
  }

  /**
   * QEMU virtio_blk_sect_range_ok: whole sectors inside the disk. A transfer larger than guest RAM
   * is refused too: it can only come from buffers named twice, and would stall the VMM.
   */
  private rangeOk(sector: number, bytes: number, mem: GuestMemory | undefined): boolean {
    if (bytes % SECTOR !== 0) return false;
    if (mem !== undefined && bytes > mem.ramSize) return false;
    const total = this.disk.size / SECTOR;
    return sector <= total && bytes / SECTOR <= total - sector;
  }

  /** Runs a backend operation; a DiskError becomes IOERR for this request only. */
  private guard(op: () => void): number {
    try {
      op();
      return VirtioBlkS.OK;
    } catch (err) {
      return this.failed(err);
    }
  }

  /** A DiskError is IOERR for this request; anything else is a bug and propagates (the transport contains it). */
  private failed(err: unknown): number {
    if (!(err instanceof DiskError)) throw err;
    this.lastDiskError = err;
    return VirtioBlkS.IOERR;
  }

  /** The configuration space (§5.2.4) with QEMU 7.2's values for this disk. */
  private buildConfig(): void {
    const c = new DataView(this.config.buffer);
    const sectors = Math.floor(this.disk.size / SECTOR);
    c.setUint32(0x00, sectors >>> 0, true);
    c.setUint32(0x04, Math.floor(sectors / 0x1_0000_0000), true);
    c.setUint32(0x08, 0, true); // size_max
    c.setUint32(0x0c, QUEUE_SIZE - 2, true); // seg_max
    // geometry: QEMU's guess_chs_for_size (hw/block/hd-geometry.c) for a disk without an MBR.
    c.setUint16(0x10, Math.min(16383, Math.max(2, Math.floor(sectors / (16 * 63)))), true);
    c.setUint8(0x12, 16);
    c.setUint8(0x13, 63);
    c.setUint32(0x14, SECTOR, true); // blk_size
    // topology (0x18..0x1f) all zero.
    c.setUint8(WRITEBACK, 1); // QEMU's default cache mode is writeback
    c.setUint16(0x22, 1, true); // num_queues
    c.setUint32(0x24, MAX_DISCARD_SECTORS, true);
    c.setUint32(0x28, 1, true); // max_discard_seg
    c.setUint32(0x2c, 1, true); // discard_sector_alignment (blk_size / 512)
    c.setUint32(0x30, MAX_DISCARD_SECTORS, true); // max_write_zeroes_sectors
    c.setUint32(0x34, 1, true); // max_write_zeroes_seg
    c.setUint8(0x38, 1); // write_zeroes_may_unmap (QEMU 7.2 sets it whenever WRITE_ZEROES is offered)
  }
}
