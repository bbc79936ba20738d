// The virtio-mmio transport (virtio 1.2 §4.2) as QEMU 7.2's virt machine presents it: version 2
// (modern, §4.2.2) or version 1 (legacy, §4.2.4: GuestPageSize, QueuePFN, QueueAlign) per device, as
// `-global virtio-mmio.force-legacy=on|off` selects; magic "virt", vendor "QEMU". A slot without a
// device answers magic, version and vendor and reads DeviceID 0 (QEMU: "the device ID of zero means
// no backend will claim it"). Registers take aligned 4-byte accesses only (others read 0 and are
// ignored, as QEMU does); the device-specific configuration at 0x100 takes any size. The slot is
// 0x200 bytes long, as QEMU maps it; beyond that accesses fault.
//
// A driver's mistakes in the rings (virtqueue.ts) set DEVICE_NEEDS_RESET and, once DRIVER_OK, raise
// a configuration-change interrupt (§2.1.2); the device then ignores notifications until the driver
// writes 0 to Status, as QEMU's virtio_error leaves a device "broken".

import type { Device } from '../machine/bus';
import type { GuestMemory } from './guest-memory';
import type { IrqLine } from './irq';
import { Chain, SplitVirtqueue, VirtqueueError, VIRTQUEUE_MAX_SIZE } from './virtqueue';

/** Size of one transport's register window (QEMU: memory_region_init_io(..., 0x200)). */
export const VIRTIO_MMIO_WINDOW = 0x200;
/** MagicValue: "virt" little-endian. */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** VendorID: "QEMU" (docs/machine.md: real drivers check it). */
export const VIRTIO_MMIO_VENDOR = 0x554d4551;

/** Register offsets (§4.2.2, §4.2.4). */
export const enum Reg {
  MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, VENDOR_ID = 0x00c,
  DEVICE_FEATURES = 0x010, DEVICE_FEATURES_SEL = 0x014, DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024,
  GUEST_PAGE_SIZE = 0x028, QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038, QUEUE_ALIGN = 0x03c,
  QUEUE_PFN = 0x040, QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050, INTERRUPT_STATUS = 0x060, INTERRUPT_ACK = 0x064,
  STATUS = 0x070, QUEUE_DESC_LOW = 0x080, QUEUE_DESC_HIGH = 0x084, QUEUE_DRIVER_LOW = 0x090, QUEUE_DRIVER_HIGH = 0x094,
  QUEUE_DEVICE_LOW = 0x0a0, QUEUE_DEVICE_HIGH = 0x0a4, QUEUE_RESET = 0x0c0, CONFIG_GENERATION = 0x0fc, CONFIG = 0x100,
}

/** Device status bits (§2.1). */
export const enum Status {
  ACKNOWLEDGE = 1, DRIVER = 2, DRIVER_OK = 4, FEATURES_OK = 8, DEVICE_NEEDS_RESET = 64, FAILED = 128,
}

/** Transport feature bits (§6), as bit numbers. */
export const VIRTIO_F_NOTIFY_ON_EMPTY = 24;
/** Indirect descriptors. */
export const VIRTIO_F_INDIRECT_DESC = 28;
/** used_event / avail_event. */
export const VIRTIO_F_EVENT_IDX = 29;
/** A modern (non-legacy) device. */
export const VIRTIO_F_VERSION_1 = 32;
/** Per-queue reset through QueueReset (QEMU 7.2 offers it on modern transports). */
export const VIRTIO_F_RING_RESET = 40;

/** InterruptStatus bits (§4.2.2). */
export const VIRTIO_MMIO_INT_VRING = 1;
/** A configuration change (also: the device needs a reset). */
export const VIRTIO_MMIO_INT_CONFIG = 2;

/** What a virtio device model gives the transport (TinyEMU's split: transport, device, backend). */
export interface VirtioDevice {
  /** Virtio device ID (§5: 2 = block). */
  readonly deviceId: number;
  /** Number of virtqueues. */
  readonly queueCount: number;
  /** Queue size before the driver sets one (QEMU virtio-blk's queue-size: 256). */
  readonly defaultQueueSize: number;
  /** Device-specific feature bits 0..31 and 32..63 for a legacy or modern transport. */
  features(legacy: boolean): readonly [number, number];
  /** Reads the device configuration space (little-endian, `size` 1, 2 or 4). */
  configRead(offset: number, size: number): number;
  /** Writes the device configuration space. */
  configWrite(offset: number, value: number, size: number): void;
  /**
   * Serves one chain from queue `queue`; returns the number of bytes written into its writable part
   * (the used length). Throws VirtqueueError for a malformed request (the device then needs a reset).
   */
  process(queue: number, chain: Chain, mem: GuestMemory): number;
  /** Drops negotiated state (device reset); the backend stays. */
  reset(): void;
  /** The driver's accepted feature bits, set when negotiation finishes. */
  negotiated(lo: number, hi: number): void;
}

/** One virtio-mmio slot of the virt board, with or without a device behind it. */
export class VirtioMmio implements Device {
  readonly name: string;
  /** Why the device last went into DEVICE_NEEDS_RESET (for inspectors and tests). */
  lastError: string | undefined;
  /** Notifications served and interrupts raised, for statistics. */
  notifications = 0;
  interrupts = 0;
  private status = 0;
  private isr = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private readonly driverFeatures = [0, 0];
  private queueSel = 0;
  private guestPageShift = 0;
  private readonly queues: SplitVirtqueue[] = [];
  private readonly queueAlign: number[] = [];
  private readonly queueResetFlag: boolean[] = [];
  /** Modern queue address registers, [desc lo, desc hi, driver lo, driver hi, device lo, device hi] per queue. */
  private readonly queueRegs: Uint32Array[] = [];
  private broken = false;
  private readonly chain = new Chain();

  constructor(
    readonly slot: number,
    private readonly irq: IrqLine,
    private readonly mem: GuestMemory,
    readonly device: VirtioDevice | undefined,
    /** Version 1 (legacy) instead of 2, as QEMU's virtio-mmio.force-legacy. */
    readonly legacy: boolean,
  ) {
    this.name = `virtio-mmio@${slot}`;
    for (let q = 0; q < (device?.queueCount ?? 0); q++) {
      this.queues.push(new SplitVirtqueue(mem, device!.defaultQueueSize));
      this.queueAlign.push(4096);
      this.queueResetFlag.push(false);
      this.queueRegs.push(new Uint32Array(6));
    }
  }

  /** The device status register (for tests and inspectors). */
  get deviceStatus(): number {
    return this.status;
  }

  /** Feature bits the transport offers: the device's plus the ring features QEMU offers. */
  offeredFeatures(): [number, number] {
    const [lo, hi] = this.device?.features(this.legacy) ?? [0, 0];
    const ring = (1 << VIRTIO_F_INDIRECT_DESC) | (1 << VIRTIO_F_EVENT_IDX) | (this.legacy ? 1 << VIRTIO_F_NOTIFY_ON_EMPTY : 0);
    const high = this.legacy ? 0 : (1 << (VIRTIO_F_VERSION_1 - 32)) | (1 << (VIRTIO_F_RING_RESET - 32));
    return [(lo | ring) >>> 0, (hi | high) >>> 0];
  }

  read(offset: number, size: number): number {
    if (offset >= Reg.CONFIG) {
      if (!this.device) return 0;
      return this.device.configRead(offset - Reg.CONFIG, size) >>> 0;
    }
    if (size !== 4 || (offset & 3) !== 0) return 0;
    switch (offset) {
      case Reg.MAGIC: return VIRTIO_MMIO_MAGIC;
      case Reg.VERSION: return this.legacy ? 1 : 2;
      case Reg.VENDOR_ID: return VIRTIO_MMIO_VENDOR;
    }
    const dev = this.device;
    if (!dev) return 0;
    const q = this.queueSel < this.queues.length ? this.queues[this.queueSel] : undefined;
    switch (offset) {
      case Reg.DEVICE_ID: return dev.deviceId;
      case Reg.DEVICE_FEATURES: return this.deviceFeaturesSel <= 1 && !(this.legacy && this.deviceFeaturesSel !== 0) ? this.offeredFeatures()[this.deviceFeaturesSel] : 0;
      case Reg.QUEUE_NUM_MAX: return q ? VIRTQUEUE_MAX_SIZE : 0;
      case Reg.QUEUE_PFN: return this.legacy && q ? Math.floor(q.desc / 2 ** this.guestPageShift) >>> 0 : 0;
      case Reg.QUEUE_READY: return !this.legacy && q?.ready ? 1 : 0;
      case Reg.INTERRUPT_STATUS: return this.isr;
      case Reg.STATUS: return this.status;
      case Reg.CONFIG_GENERATION: return 0;
      case Reg.QUEUE_RESET: return !this.legacy && this.queueResetFlag[this.queueSel] ? 1 : 0;
      case Reg.QUEUE_DESC_LOW: case Reg.QUEUE_DESC_HIGH: case Reg.QUEUE_DRIVER_LOW:
      case Reg.QUEUE_DRIVER_HIGH: case Reg.QUEUE_DEVICE_LOW: case Reg.QUEUE_DEVICE_HIGH:
        return !this.legacy && q ? this.queueRegs[this.queueSel][queueRegIndex(offset)] : 0;
      default: return 0;
    }
  }

  write(offset: number, value: number, size: number): void {
    const dev = this.device;
    if (!dev) return;
    if (offset >= Reg.CONFIG) {
      dev.configWrite(offset - Reg.CONFIG, value, size);
      return;
    }
    if (size !== 4 || (offset & 3) !== 0) return;
    const v = value >>> 0;
    const sel = this.queueSel;
    const q = sel < this.queues.length ? this.queues[sel] : undefined;
    switch (offset) {
      case Reg.DEVICE_FEATURES_SEL: this.deviceFeaturesSel = v; return;
      case Reg.DRIVER_FEATURES_SEL: this.driverFeaturesSel = v; return;
      case Reg.DRIVER_FEATURES:
        // Legacy: only the low word exists, and it takes effect at once (QEMU virtio_set_features).
        if (this.driverFeaturesSel <= 1 && !(this.legacy && this.driverFeaturesSel !== 0)) {
          this.driverFeatures[this.driverFeaturesSel] = v;
          if (this.legacy) this.applyFeatures();
        }
        return;
      case Reg.GUEST_PAGE_SIZE:
        if (this.legacy) this.guestPageShift = v === 0 ? 0 : 31 - Math.clz32(v & -v);
        return;
      case Reg.QUEUE_SEL:
        // QEMU keeps queue_sel below VIRTIO_QUEUE_MAX; a selector past the device's queues reads as absent.
        if (v < VIRTIO_QUEUE_MAX) this.queueSel = v;
        return;
      case Reg.QUEUE_NUM:
        // QEMU virtio_queue_set_num: sizes above the maximum, and 0, leave the size unchanged.
        if (q && v !== 0 && v <= VIRTQUEUE_MAX_SIZE) {
          q.size = v;
          if (this.legacy && q.ready) this.legacyLayout(sel);
        }
        return;
      case Reg.QUEUE_ALIGN:
        if (this.legacy && q) {
          this.queueAlign[sel] = v;
          if (q.ready) this.legacyLayout(sel);
        }
        return;
      case Reg.QUEUE_PFN:
        if (!this.legacy || !q) return;
        // QEMU: a zero PFN resets the whole device (the legacy driver's way to release a queue).
        if (v === 0) return this.resetDevice();
        q.desc = v * 2 ** this.guestPageShift;
        q.ready = true;
        this.legacyLayout(sel);
        return;
      case Reg.QUEUE_READY:
        if (this.legacy || !q) return;
        if ((v & 1) === 1) {
          const r = this.queueRegs[sel];
          q.desc = r[1] === 0 ? r[0] : NaN;
          q.avail = r[3] === 0 ? r[2] : NaN;
          q.used = r[5] === 0 ? r[4] : NaN;
          q.ready = true;
          this.queueResetFlag[sel] = false;
        } else {
          q.ready = false;
        }
        return;
      case Reg.QUEUE_DESC_LOW: case Reg.QUEUE_DESC_HIGH: case Reg.QUEUE_DRIVER_LOW:
      case Reg.QUEUE_DRIVER_HIGH: case Reg.QUEUE_DEVICE_LOW: case Reg.QUEUE_DEVICE_HIGH:
        if (!this.legacy && q) this.queueRegs[sel][queueRegIndex(offset)] = v;
        return;
      case Reg.QUEUE_RESET:
        if (!this.legacy && q && v === 1 && (this.driverFeatures[1] & (1 << (VIRTIO_F_RING_RESET - 32))) !== 0) {
          q.reset();
          this.queueRegs[sel].fill(0);
          this.queueResetFlag[sel] = true;
        }
        return;
      case Reg.QUEUE_NOTIFY:
        if (v < this.queues.length) this.notify(v);
        return;
      case Reg.INTERRUPT_ACK:
        this.isr &= ~v;
        this.updateIrq();
        return;
      case Reg.STATUS:
        this.writeStatus(v & 0xff);
        return;
      default:
        return;
    }
  }

  /** Power-on state (machine reset). */
  reset(): void {
    this.resetDevice();
  }

  /** §2.4 device reset: status, features, queues and interrupts cleared; the backend stays. */
  private resetDevice(): void {
    this.status = 0;
    this.isr = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures[0] = 0;
    this.driverFeatures[1] = 0;
    this.queueSel = 0;
    this.guestPageShift = 0;
    this.broken = false;
    for (let i = 0; i < this.queues.length; i++) {
      this.queues[i].reset();
      this.queueAlign[i] = 4096;
      this.queueResetFlag[i] = false;
      this.queueRegs[i].fill(0);
    }
    this.device?.reset();
    this.updateIrq();
  }

  private writeStatus(v: number): void {
    if (v === 0) return this.resetDevice();
    if (!this.legacy && (v & Status.FEATURES_OK) !== 0 && (this.status & Status.FEATURES_OK) === 0) {
      // §2.2.2: the device accepts only features it offered, and a modern device needs VERSION_1.
      const [lo, hi] = this.offeredFeatures();
      const [dlo, dhi] = this.driverFeatures;
      const ok = (dlo & ~lo) === 0 && (dhi & ~hi) === 0 && (dhi & (1 << (VIRTIO_F_VERSION_1 - 32))) !== 0;
      if (!ok) v &= ~Status.FEATURES_OK;
      else this.applyFeatures();
    }
    this.status = (v | (this.status & Status.DEVICE_NEEDS_RESET)) & 0xff;
  }

  /** Hands the accepted features to the queues and the device (unoffered bits are dropped, as QEMU masks them). */
  private applyFeatures(): void {
    const [lo, hi] = this.offeredFeatures();
    const flo = this.driverFeatures[0] & lo;
    const fhi = this.driverFeatures[1] & hi;
    for (const q of this.queues) {
      q.eventIdx = (flo & (1 << VIRTIO_F_EVENT_IDX)) !== 0;
      q.notifyOnEmpty = (flo & (1 << VIRTIO_F_NOTIFY_ON_EMPTY)) !== 0;
    }
    this.device?.negotiated(flo >>> 0, fhi >>> 0);
  }

  /** Legacy ring layout (§4.2.4; QEMU virtio_queue_update_rings): avail after the table, used aligned. */
  private legacyLayout(sel: number): void {
    const q = this.queues[sel];
    const align = this.queueAlign[sel];
    q.avail = q.desc + 16 * q.size;
    const availEnd = q.avail + 4 + 2 * q.size;
    q.used = align > 0 && (align & (align - 1)) === 0 ? Math.ceil(availEnd / align) * align : NaN;
  }

  /** QueueNotify: serve every available chain of the queue, synchronously (deterministic runs). */
  private notify(index: number): void {
    const q = this.queues[index];
    if (this.broken || !q.ready || !this.device) return;
    this.notifications++;
    const chain = this.chain;
    let served = 0;
    try {
      q.validate();
      while (q.hasAvailable()) {
        q.pop(chain);
        const written = this.device.process(index, chain, this.mem);
        q.push(chain.head, written);
        served++;
      }
      q.publishAvailEvent();
      if (served > 0 && q.shouldNotify()) this.raise(VIRTIO_MMIO_INT_VRING);
    } catch (err) {
      // Only VirtqueueError is expected here; anything else is a device bug, and the guest must not
      // take the engine down with it either way.
      this.needsReset(err instanceof VirtqueueError ? err.message : `internal error: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /** §2.1.2: the device cannot go on; tell the driver through status and a config interrupt. */
  private needsReset(reason: string): void {
    this.lastError = reason;
    this.broken = true;
    this.status |= Status.DEVICE_NEEDS_RESET;
    if ((this.status & Status.DRIVER_OK) !== 0) this.raise(VIRTIO_MMIO_INT_CONFIG);
  }

  private raise(bits: number): void {
    this.isr |= bits;
    this.interrupts++;
    this.updateIrq();
  }

  private updateIrq(): void {
    this.irq.set(this.isr !== 0);
  }
}

/** QEMU's VIRTIO_QUEUE_MAX: QueueSel values at or above it are ignored. */
const VIRTIO_QUEUE_MAX = 1024;

function queueRegIndex(offset: number): number {
  return ((offset - Reg.QUEUE_DESC_LOW) >>> 4) * 2 + ((offset >>> 2) & 1);
}
