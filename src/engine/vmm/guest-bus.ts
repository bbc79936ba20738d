// A VM's guest-physical address space: guest RAM is reached through the pmap (so it lives in the
// VM's own host frames and nowhere else), device addresses reach the VM's virtual devices. It
// implements PhysicalBus, so a Hart can run on it directly (emulate mode) or keep a VM's virtual
// CSR state (trap mode).

import { warmUpBus } from '../cpu/warmup';
import { Bus, readRam, writeRam, type Device, type PhysicalBus, type Region } from '../machine/bus';
import { FrameAllocator } from './frames';
import { Pmap } from './pmap';

/** Guest-physical memory of one VM. */
export class GuestBus implements PhysicalBus {
  readonly ram: Uint8Array;
  readonly ram16: Uint16Array;
  readonly ram32: Int32Array;
  readonly ramBase: number;
  readonly ramSize: number;
  ok = true;
  deviceAccesses = 0;
  quiet = false;
  /** The dirty log (PhysicalBus.writeLog), indexed by host RAM page. */
  writeLog: Uint8Array | undefined = undefined;
  /** The host bus's (PhysicalBus.written), indexed by host RAM page. */
  readonly written: Uint8Array;
  private readonly regions: Region[] = [];
  /** False until the first clearRam: the guest's frames then hold only what earlier owners left. */
  private ramUsed = false;

  constructor(private readonly host: Bus, readonly pmap: Pmap) {
    this.ram = host.ram;
    this.ram16 = host.ram16;
    this.ram32 = host.ram32;
    this.written = host.written;
    this.ramBase = pmap.guestRamBase;
    this.ramSize = pmap.guestRamSize;
  }

  /**
   * Zeroes the guest's RAM; the first time only frames an earlier owner may have written. While the
   * dirty log is on, every frame it changes is logged (PhysicalBus.clearRam).
   */
  clearRam(): void {
    this.pmap.clearGuestRam(!this.ramUsed, this.writeLog);
    this.ramUsed = true;
  }

  /** Maps a virtual device at a guest-physical address. */
  map(base: number, size: number, device: Device): void {
    this.regions.push({ base, size, device, quiet: device.quiet === true });
  }

  /** The device regions, for inspectors. */
  get deviceRegions(): readonly Region[] {
    return this.regions;
  }

  /** Host RAM offset of guest-physical `pa` when all `size` bytes are in one guest RAM page. */
  ramOffset(pa: number, size: number): number {
    if ((pa & 0xfff) + size > 4096 && size <= 4096) {
      // Pages are contiguous in host RAM only by chance: check the last byte's frame too.
      const first = this.pmap.lookup(pa);
      const last = this.pmap.lookup(pa + size - 1);
      if (first < 0 || last !== first + size - 1) return -1;
      return first - this.host.ramBase;
    }
    const hpa = this.pmap.lookup(pa);
    return hpa < 0 ? -1 : hpa - this.host.ramBase;
  }

  /** Loads from guest RAM or a virtual device; `ok` false when nothing is there. */
  load(pa: number, size: number): number {
    const off = this.ramOffset(pa, size);
    if (off >= 0) {
      this.ok = true;
      return readRam(this.ram, off, size);
    }
    if (this.isRam(pa)) return this.bytewise(pa, size, 0, false);
    const region = this.regionAt(pa, size);
    if (!region) {
      this.ok = false;
      return 0;
    }
    this.ok = true;
    this.deviceAccesses++;
    this.quiet = region.quiet;
    return region.device.read(pa - region.base, size) >>> 0;
  }

  /** Stores into guest RAM or a virtual device. */
  store(pa: number, size: number, value: number): void {
    const off = this.ramOffset(pa, size);
    if (off >= 0) {
      this.ok = true;
      writeRam(this.ram, off, size, value);
      this.written[off >>> 12] = 1;
      if (this.writeLog !== undefined) this.writeLog[off >>> 12] = 1;
      return;
    }
    if (this.isRam(pa)) {
      this.bytewise(pa, size, value, true);
      return;
    }
    const region = this.regionAt(pa, size);
    if (!region) {
      this.ok = false;
      return;
    }
    this.ok = true;
    this.deviceAccesses++;
    this.quiet = region.quiet;
    region.device.write(pa - region.base, value, size);
  }

  private isRam(pa: number): boolean {
    return pa >= this.ramBase && pa < this.ramBase + this.ramSize;
  }

  /** An access that crosses into another (non-adjacent) host frame, byte by byte. */
  private bytewise(pa: number, size: number, value: number, write: boolean): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const hpa = this.pmap.lookup(pa + i);
      if (hpa < 0) {
        this.ok = false;
        return 0;
      }
      const off = hpa - this.host.ramBase;
      if (write) {
        this.ram[off] = value >>> (8 * i);
        this.written[off >>> 12] = 1;
        if (this.writeLog !== undefined) this.writeLog[off >>> 12] = 1;
      } else {
        v |= this.ram[off] << (8 * i);
      }
    }
    this.ok = true;
    return v >>> 0;
  }

  private regionAt(pa: number, size: number): Region | undefined {
    for (const r of this.regions) if (pa >= r.base && pa + size <= r.base + r.size) return r;
    return undefined;
  }
}

/**
 * The warm-up's guest-physical bus (cpu/warmup.ts): `bytes` of guest RAM at `base` in host frames
 * 0.., so guest RAM offset 0 is host RAM offset 0.
 */
warmUpBus.make = (base: number, bytes: number): GuestBus => {
  const pages = Math.ceil(bytes / 4096);
  // Room after the guest's frames for the pmap's root (4 frames, aligned) and one level-0 table.
  const host = new Bus(base, (pages + 16) * 4096);
  const frames = new FrameAllocator(base, pages + 16);
  const pmap = new Pmap(host, frames, base, pages * 4096);
  for (let i = 0; i < pages; i++) pmap.map(base + i * 4096, frames.take(i, 2));
  return new GuestBus(host, pmap);
};
