// Split virtqueues (virtio 1.2 §2.7): descriptor table, available ring and used ring in guest
// memory, reached only through GuestMemory. Whatever the driver writes there, a walk ends after at
// most `size` descriptors (or the indirect table's length), and every buffer is checked to lie in
// guest RAM before a device touches it; a malformed ring raises VirtqueueError, which the transport
// turns into DEVICE_NEEDS_RESET (as QEMU's virtio_error does), never an exception past the device.

import { address64, type GuestMemory } from './guest-memory';

/** Descriptor flags (§2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
/** The buffer is device-writable. */
export const VIRTQ_DESC_F_WRITE = 2;
/** The buffer holds an indirect descriptor table (§2.7.5.3). */
export const VIRTQ_DESC_F_INDIRECT = 4;
/** avail->flags: the driver asks for no interrupts (§2.7.7). */
export const VRING_AVAIL_F_NO_INTERRUPT = 1;
/** Largest queue the transport offers (QEMU's VIRTQUEUE_MAX_SIZE, read back as QueueNumMax). */
export const VIRTQUEUE_MAX_SIZE = 1024;

const DESC_SIZE = 16;

/** A broken ring: the device must stop using the queue until the driver resets it. */
export class VirtqueueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VirtqueueError';
  }
}

/**
 * One descriptor chain popped from the available ring: `readable` device-readable segments followed
 * by `writable` device-writable ones (§2.7.4.2: writable ones come last). Reused between requests.
 */
export class Chain {
  /** Head descriptor index (the id written to the used ring). */
  head = 0;
  readonly addr: number[] = [];
  readonly len: number[] = [];
  readable = 0;
  writable = 0;
  readableBytes = 0;
  writableBytes = 0;

  /** Empties the chain for reuse. */
  clear(): void {
    this.addr.length = 0;
    this.len.length = 0;
    this.readable = 0;
    this.writable = 0;
    this.readableBytes = 0;
    this.writableBytes = 0;
  }

  /** Copies up to `into.length` device-readable bytes starting `skip` bytes in; returns the count. */
  gather(mem: GuestMemory, skip: number, into: Uint8Array): number {
    return this.copy(mem, 0, this.readable, skip, into, false);
  }

  /** Writes `data` into the device-writable segments starting `skip` bytes in; returns the count. */
  scatter(mem: GuestMemory, skip: number, data: Uint8Array): number {
    return this.copy(mem, this.readable, this.readable + this.writable, skip, data, true);
  }

  private copy(mem: GuestMemory, first: number, end: number, skip: number, buf: Uint8Array, write: boolean): number {
    let done = 0;
    for (let i = first; i < end && done < buf.length; i++) {
      const len = this.len[i];
      if (skip >= len) {
        skip -= len;
        continue;
      }
      const n = Math.min(len - skip, buf.length - done);
      // Segments were checked to be RAM when popped; a failure here cannot happen on a fixed map.
      if (write ? !mem.write(this.addr[i] + skip, buf, done, n) : !mem.read(this.addr[i] + skip, buf, done, n)) break;
      done += n;
      skip = 0;
    }
    return done;
  }
}

/** A split virtqueue as the device side keeps it. */
export class SplitVirtqueue {
  /** Queue size (QueueNum); the device's default until the driver writes one (QEMU: virtio_add_queue). */
  size: number;
  /** The driver made the queue live (QueueReady, or a non-zero legacy QueuePFN). */
  ready = false;
  /** Guest-physical addresses of the descriptor table, available ring and used ring. */
  desc = 0;
  avail = 0;
  used = 0;
  /** Negotiated ring features. */
  eventIdx = false;
  notifyOnEmpty = false;
  private lastAvail = 0;
  private usedIdx = 0;
  private signalledUsed = 0;
  private signalledValid = false;
  private readonly seen: Uint8Array = new Uint8Array(VIRTQUEUE_MAX_SIZE);

  constructor(private readonly mem: GuestMemory, private readonly defaultSize: number) {
    this.size = defaultSize;
  }

  /** Forgets the queue (device or queue reset). */
  reset(): void {
    this.size = this.defaultSize;
    this.ready = false;
    this.desc = 0;
    this.avail = 0;
    this.used = 0;
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.signalledUsed = 0;
    this.signalledValid = false;
  }

  /**
   * Checks the queue's layout before use: a power-of-two size (§2.7: split queues) and rings that
   * lie in guest RAM. Throws VirtqueueError.
   */
  validate(): void {
    const n = this.size;
    if (n === 0 || n > VIRTQUEUE_MAX_SIZE || (n & (n - 1)) !== 0) throw new VirtqueueError(`queue size ${n} is not a power of two up to ${VIRTQUEUE_MAX_SIZE}`);
    if (!this.mem.isRam(this.desc, DESC_SIZE * n)) throw new VirtqueueError('descriptor table outside guest RAM');
    if (!this.mem.isRam(this.avail, 6 + 2 * n)) throw new VirtqueueError('available ring outside guest RAM');
    if (!this.mem.isRam(this.used, 6 + 8 * n)) throw new VirtqueueError('used ring outside guest RAM');
  }

  /** Whether the driver has made chains available that the device has not taken. */
  hasAvailable(): boolean {
    const idx = this.u16(this.avail + 2);
    const pending = (idx - this.lastAvail) & 0xffff;
    // QEMU: "Guest moved used index from %u to %u" — more than a queue's worth is a broken driver.
    if (pending > this.size) throw new VirtqueueError(`avail index moved by ${pending}, more than the queue size ${this.size}`);
    return pending !== 0;
  }

  /** Takes the next available chain into `chain`; call only after hasAvailable(). Throws VirtqueueError. */
  pop(chain: Chain): void {
    const n = this.size;
    const head = this.u16(this.avail + 4 + 2 * (this.lastAvail % n));
    if (head >= n) throw new VirtqueueError(`descriptor index ${head} is outside the queue of ${n}`);
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    chain.clear();
    chain.head = head;
    this.seen.fill(0, 0, n);
    let i = head;
    for (let count = 0; ; count++) {
      if (count >= n || this.seen[i]) throw new VirtqueueError('descriptor chain loops or is longer than the queue');
      this.seen[i] = 1;
      const at = this.desc + DESC_SIZE * i;
      const flags = this.u16(at + 12);
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        // §2.7.5.3.2: the device handles direct descriptors followed by one indirect one, which ends
        // the chain. Like QEMU, it also takes a table the driver did not negotiate, and ignores NEXT
        // and WRITE on the descriptor that points at the table.
        this.walkIndirect(chain, address64(this.u32(at), this.u32(at + 4)), this.u32(at + 8));
        return;
      }
      this.addSegment(chain, address64(this.u32(at), this.u32(at + 4)), this.u32(at + 8), flags);
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) return;
      i = this.u16(at + 14);
      if (i >= n) throw new VirtqueueError(`next descriptor ${i} is outside the queue of ${n}`);
    }
  }

  /** Walks an indirect table of `len / 16` descriptors (§2.7.5.3.2: no nested indirection). */
  private walkIndirect(chain: Chain, table: number, len: number): void {
    if (len === 0 || len % DESC_SIZE !== 0) throw new VirtqueueError(`indirect table length ${len} is not a multiple of 16`);
    const n = len / DESC_SIZE;
    if (n > VIRTQUEUE_MAX_SIZE) throw new VirtqueueError(`indirect table of ${n} descriptors`);
    if (!this.mem.isRam(table, len)) throw new VirtqueueError('indirect table outside guest RAM');
    let i = 0;
    for (let count = 0; ; count++) {
      if (count >= n) throw new VirtqueueError('indirect chain loops or is longer than its table');
      const at = table + DESC_SIZE * i;
      const flags = this.u16(at + 12);
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) throw new VirtqueueError('nested indirect descriptor');
      this.addSegment(chain, address64(this.u32(at), this.u32(at + 4)), this.u32(at + 8), flags);
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) return;
      i = this.u16(at + 14);
      if (i >= n) throw new VirtqueueError(`next indirect descriptor ${i} is outside the table of ${n}`);
    }
  }

  private addSegment(chain: Chain, addr: number, len: number, flags: number): void {
    // QEMU: "zero sized buffers are not allowed"; "bogus descriptor or out of resources".
    if (len === 0) throw new VirtqueueError('zero-length descriptor');
    if (!this.mem.isRam(addr, len)) throw new VirtqueueError(`buffer of ${len} bytes at 0x${addr.toString(16)} is outside guest RAM`);
    const writable = (flags & VIRTQ_DESC_F_WRITE) !== 0;
    if (!writable && chain.writable > 0) throw new VirtqueueError('device-readable descriptor after a device-writable one');
    chain.addr.push(addr);
    chain.len.push(len);
    if (writable) {
      chain.writable++;
      chain.writableBytes += len;
    } else {
      chain.readable++;
      chain.readableBytes += len;
    }
  }

  /** Returns a chain to the driver: used element {head, len}, then the used index (§2.7.8). */
  push(head: number, len: number): void {
    const slot = this.used + 4 + 8 * (this.usedIdx % this.size);
    this.put32(slot, head);
    this.put32(slot + 4, len);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    this.put16(this.used + 2, this.usedIdx);
  }

  /** After a batch: publishes avail_event (event-idx) so the driver knows when to notify again. */
  publishAvailEvent(): void {
    if (this.eventIdx) this.put16(this.used + 4 + 8 * this.size, this.lastAvail);
  }

  /**
   * Whether the driver wants an interrupt for the chains pushed since the last one (§2.7.7.2,
   * §2.7.10; QEMU's virtio_split_should_notify, including VIRTIO_F_NOTIFY_ON_EMPTY).
   */
  shouldNotify(): boolean {
    if (this.notifyOnEmpty && ((this.u16(this.avail + 2) - this.lastAvail) & 0xffff) === 0) return true;
    if (!this.eventIdx) return (this.u16(this.avail) & VRING_AVAIL_F_NO_INTERRUPT) === 0;
    const valid = this.signalledValid;
    const old = this.signalledUsed;
    this.signalledValid = true;
    this.signalledUsed = this.usedIdx;
    const usedEvent = this.u16(this.avail + 4 + 2 * this.size);
    return !valid || needEvent(usedEvent, this.usedIdx, old);
  }

  private u16(pa: number): number {
    const v = this.mem.load(pa, 2);
    if (v < 0) throw new VirtqueueError(`ring read at 0x${pa.toString(16)} outside guest RAM`);
    return v;
  }

  private u32(pa: number): number {
    const v = this.mem.load(pa, 4);
    if (v < 0) throw new VirtqueueError(`descriptor read at 0x${pa.toString(16)} outside guest RAM`);
    return v;
  }

  private put16(pa: number, v: number): void {
    if (!this.mem.store(pa, 2, v)) throw new VirtqueueError(`ring write at 0x${pa.toString(16)} outside guest RAM`);
  }

  private put32(pa: number, v: number): void {
    if (!this.mem.store(pa, 4, v)) throw new VirtqueueError(`ring write at 0x${pa.toString(16)} outside guest RAM`);
  }
}

/** vring_need_event (§2.7.10): whether `event` lies in (old, new], modulo 2^16. */
export function needEvent(event: number, newIdx: number, old: number): boolean {
  return ((newIdx - event - 1) & 0xffff) < ((newIdx - old) & 0xffff);
}
