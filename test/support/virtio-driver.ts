// A minimal virtio-blk driver written in TypeScript against a PhysicalBus (the bare machine's bus or a
// VM's guest bus): registers through load/store as a hart would, rings and buffers written straight
// into guest RAM. Tests use it to drive the transport register by register, well-behaved or hostile.
import type { PhysicalBus } from '../../src/engine/machine/bus';

/** One descriptor as the test lays it out. */
export interface Desc {
  addr: number;
  len: number;
  flags: number;
  next?: number;
  /** High 32 bits of the address (default 0). */
  addrHi?: number;
}

/** Register offsets used by the tests. */
export const R = {
  MAGIC: 0x0, VERSION: 0x4, DEVICE_ID: 0x8, VENDOR: 0xc, DEV_FEATURES: 0x10, DEV_FEATURES_SEL: 0x14,
  DRV_FEATURES: 0x20, DRV_FEATURES_SEL: 0x24, GUEST_PAGE_SIZE: 0x28, QUEUE_SEL: 0x30, QUEUE_NUM_MAX: 0x34,
  QUEUE_NUM: 0x38, QUEUE_ALIGN: 0x3c, QUEUE_PFN: 0x40, QUEUE_READY: 0x44, QUEUE_NOTIFY: 0x50, ISR: 0x60,
  ISR_ACK: 0x64, STATUS: 0x70, DESC_LO: 0x80, DESC_HI: 0x84, DRIVER_LO: 0x90, DRIVER_HI: 0x94,
  DEVICE_LO: 0xa0, DEVICE_HI: 0xa4, CONFIG: 0x100,
} as const;

/** Status bits. */
export const ST = { ACK: 1, DRIVER: 2, DRIVER_OK: 4, FEATURES_OK: 8, NEEDS_RESET: 64 } as const;

/** Driver state for one device. */
export class TestVirtioDriver {
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  /** Scratch area for request buffers (headers, data, status). */
  readonly buf: number;
  private availIdx = 0;
  private usedSeen = 0;

  constructor(readonly bus: PhysicalBus, readonly base: number, readonly legacy: boolean, readonly ringBase: number, readonly qsize = 8) {
    this.desc = ringBase;
    this.avail = ringBase + 16 * qsize;
    this.used = Math.ceil((this.avail + 4 + 2 * qsize) / 4096) * 4096;
    this.buf = this.used + 4096;
  }

  reg(off: number): number {
    return this.bus.load(this.base + off, 4);
  }

  setReg(off: number, v: number): void {
    this.bus.store(this.base + off, 4, v);
  }

  /** Writes bytes into guest RAM (page by page through the bus's RAM mapping). */
  poke(pa: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) this.bus.store(pa + i, 1, bytes[i]);
  }

  peek(pa: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.bus.load(pa + i, 1);
    return out;
  }

  w16(pa: number, v: number): void {
    this.bus.store(pa, 2, v);
  }

  w32(pa: number, v: number): void {
    this.bus.store(pa, 4, v);
  }

  r16(pa: number): number {
    return this.bus.load(pa, 2);
  }

  r32(pa: number): number {
    return this.bus.load(pa, 4);
  }

  /** Device features 0..31 and 32..63. */
  features(): [number, number] {
    this.setReg(R.DEV_FEATURES_SEL, 0);
    const lo = this.reg(R.DEV_FEATURES);
    this.setReg(R.DEV_FEATURES_SEL, 1);
    return [lo, this.reg(R.DEV_FEATURES)];
  }

  /** §3.1.1 initialization, accepting `accept` of the offered features (default: all offered). */
  init(accept?: [number, number]): number {
    this.setReg(R.STATUS, 0);
    this.setReg(R.STATUS, ST.ACK);
    this.setReg(R.STATUS, ST.ACK | ST.DRIVER);
    const [lo, hi] = accept ?? this.features();
    this.setReg(R.DRV_FEATURES_SEL, 0);
    this.setReg(R.DRV_FEATURES, lo);
    this.setReg(R.DRV_FEATURES_SEL, 1);
    this.setReg(R.DRV_FEATURES, hi);
    if (!this.legacy) this.setReg(R.STATUS, ST.ACK | ST.DRIVER | ST.FEATURES_OK);
    this.setReg(R.QUEUE_SEL, 0);
    this.setReg(R.QUEUE_NUM, this.qsize);
    for (let i = 0; i < 16 * this.qsize + 4096 * 2; i += 4) this.w32(this.ringBase + i, 0);
    if (this.legacy) {
      this.setReg(R.GUEST_PAGE_SIZE, 4096);
      this.setReg(R.QUEUE_ALIGN, 4096);
      this.setReg(R.QUEUE_PFN, this.ringBase / 4096);
    } else {
      this.setReg(R.DESC_LO, this.desc);
      this.setReg(R.DESC_HI, 0);
      this.setReg(R.DRIVER_LO, this.avail);
      this.setReg(R.DRIVER_HI, 0);
      this.setReg(R.DEVICE_LO, this.used);
      this.setReg(R.DEVICE_HI, 0);
      this.setReg(R.QUEUE_READY, 1);
    }
    this.availIdx = 0;
    this.usedSeen = 0;
    const status = this.legacy ? ST.ACK | ST.DRIVER | ST.DRIVER_OK : ST.ACK | ST.DRIVER | ST.FEATURES_OK | ST.DRIVER_OK;
    this.setReg(R.STATUS, status);
    return this.reg(R.STATUS);
  }

  /** Writes descriptor `i` of the table. */
  setDesc(i: number, d: Desc): void {
    const at = this.desc + 16 * i;
    this.w32(at, d.addr);
    this.w32(at + 4, d.addrHi ?? 0);
    this.w32(at + 8, d.len);
    this.w16(at + 12, d.flags);
    this.w16(at + 14, d.next ?? 0);
  }

  /** Offers chain `head` in the next avail slot and notifies (unless `notify` is false). */
  offer(head: number, notify = true): void {
    this.w16(this.avail + 4 + 2 * (this.availIdx % this.qsize), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.w16(this.avail + 2, this.availIdx);
    if (notify) this.setReg(R.QUEUE_NOTIFY, 0);
  }

  /** Sets the avail index directly (hostile tests). */
  setAvailIdx(idx: number): void {
    this.availIdx = idx & 0xffff;
    this.w16(this.avail + 2, this.availIdx);
  }

  /** The used ring's index. */
  usedIdx(): number {
    return this.r16(this.used + 2);
  }

  /** The next used element, or undefined when the device has not returned one. */
  takeUsed(): { id: number; len: number } | undefined {
    if (this.usedIdx() === this.usedSeen) return undefined;
    const at = this.used + 4 + 8 * (this.usedSeen % this.qsize);
    this.usedSeen = (this.usedSeen + 1) & 0xffff;
    return { id: this.r32(at), len: this.r32(at + 4) };
  }

  /**
   * A block request as a three-descriptor chain at descriptors 0..2 (header, data, status):
   * `data` is written for OUT-like requests; `inLength` bytes are read back for IN-like ones.
   */
  request(type: number, sector: number, data?: Uint8Array, inLength = 0): { status: number; data: Uint8Array; used?: { id: number; len: number } } {
    const hdr = this.buf;
    const dataAt = this.buf + 0x100;
    const statusAt = this.buf + 0x100 + Math.max(data?.length ?? 0, inLength) + 0x10;
    this.w32(hdr, type);
    this.w32(hdr + 4, 0);
    this.w32(hdr + 8, sector >>> 0);
    this.w32(hdr + 12, Math.floor(sector / 2 ** 32));
    this.bus.store(statusAt, 1, 0xee);
    const chain: Desc[] = [{ addr: hdr, len: 16, flags: 1 }];
    if (data && data.length > 0) {
      this.poke(dataAt, data);
      chain.push({ addr: dataAt, len: data.length, flags: 1 });
    } else if (inLength > 0) {
      chain.push({ addr: dataAt, len: inLength, flags: 1 | 2 });
    }
    chain.push({ addr: statusAt, len: 1, flags: 2 });
    chain.forEach((d, i) => this.setDesc(i, { ...d, next: i + 1 }));
    this.offer(0);
    const used = this.takeUsed();
    return { status: this.bus.load(statusAt, 1), data: inLength > 0 ? this.peek(dataAt, inLength) : new Uint8Array(0), used };
  }
}
