// DMA for devices (TinyEMU's split: the transport reaches guest memory only through this object).
// Every access goes through the PhysicalBus's `ramOffset`, one guest page at a time, so a device
// on the bare machine reaches the machine's RAM and nothing else, and a device of a VM reaches the
// VM's own frames through its pmap and nothing else. Device registers are never DMA targets.
// Failures are reported by return value, never by throwing.

import { readRam, writeRam, type PhysicalBus } from '../machine/bus';

const PAGE = 4096;
const TWO_32 = 0x1_0000_0000;

/** Called after a DMA write, once per page touched: physical address, RAM buffer offset, length. */
export type DmaWriteHook = (pa: number, off: number, length: number) => void;

/** Guest RAM as a device sees it: byte ranges and little-endian words at guest-physical addresses. */
export class GuestMemory {
  /** Told about every write (translated-code invalidation, shadow page tables). */
  onWrite: DmaWriteHook | undefined;

  constructor(private readonly bus: PhysicalBus) {}

  /** Total RAM bytes the guest has (an upper bound for any sane transfer). */
  get ramSize(): number {
    return this.bus.ramSize;
  }

  /** Whether `length` bytes at `pa` are all guest RAM. */
  isRam(pa: number, length: number): boolean {
    if (!validRange(pa, length)) return false;
    for (let done = 0; done < length;) {
      const at = pa + done;
      const n = Math.min(length - done, PAGE - (at % PAGE));
      if (this.bus.ramOffset(at, n) < 0) return false;
      done += n;
    }
    return true;
  }

  /**
   * Copies `length` bytes (default: all of `into` from `start`) from guest RAM at `pa` into `into`
   * at `start`; false (and nothing meaningful) when not RAM.
   */
  read(pa: number, into: Uint8Array, start = 0, length = into.length - start): boolean {
    if (!validRange(pa, length)) return false;
    const ram = this.bus.ram;
    for (let done = 0; done < length;) {
      const at = pa + done;
      const n = Math.min(length - done, PAGE - (at % PAGE));
      const off = this.bus.ramOffset(at, n);
      if (off < 0) return false;
      into.set(ram.subarray(off, off + n), start + done);
      done += n;
    }
    return true;
  }

  /**
   * Copies `length` bytes of `data` from `start` (default: all of it) into guest RAM at `pa`; false
   * when some page is not RAM (earlier pages are written).
   */
  write(pa: number, data: Uint8Array, start = 0, length = data.length - start): boolean {
    if (!validRange(pa, length)) return false;
    const ram = this.bus.ram;
    for (let done = 0; done < length;) {
      const at = pa + done;
      const n = Math.min(length - done, PAGE - (at % PAGE));
      const off = this.bus.ramOffset(at, n);
      if (off < 0) return false;
      if (n === data.length) ram.set(data, off);
      else ram.set(data.subarray(start + done, start + done + n), off);
      this.bus.written[off >>> 12] = 1;
      if (this.bus.writeLog !== undefined) this.bus.writeLog[off >>> 12] = 1;
      this.onWrite?.(at, off, n);
      done += n;
    }
    return true;
  }

  /** Stores one byte; false when not RAM. */
  store8(pa: number, value: number): boolean {
    if (!validRange(pa, 1)) return false;
    const off = this.bus.ramOffset(pa, 1);
    if (off < 0) return false;
    this.bus.ram[off] = value;
    this.bus.written[off >>> 12] = 1;
    if (this.bus.writeLog !== undefined) this.bus.writeLog[off >>> 12] = 1;
    this.onWrite?.(pa, off, 1);
    return true;
  }

  /** Little-endian 16- or 32-bit load; -1 when not RAM. */
  load(pa: number, size: 2 | 4): number {
    if (!validRange(pa, size)) return -1;
    const off = this.bus.ramOffset(pa, size);
    if (off >= 0) return readRam(this.bus.ram, off, size);
    // Crosses into another page, which need not be adjacent in the RAM buffer.
    let v = 0;
    for (let i = 0; i < size; i++) {
      const b = this.bus.ramOffset(pa + i, 1);
      if (b < 0) return -1;
      v |= this.bus.ram[b] << (8 * i);
    }
    return v >>> 0;
  }

  /** Little-endian 16- or 32-bit store; false when not RAM. */
  store(pa: number, size: 2 | 4, value: number): boolean {
    if (!validRange(pa, size)) return false;
    const off = this.bus.ramOffset(pa, size);
    if (off >= 0) {
      writeRam(this.bus.ram, off, size, value);
      this.bus.written[off >>> 12] = 1;
      if (this.bus.writeLog !== undefined) this.bus.writeLog[off >>> 12] = 1;
      this.onWrite?.(pa, off, size);
      return true;
    }
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = value >>> (8 * i);
    return this.write(pa, bytes);
  }
}

/** A 64-bit guest address from its two 32-bit halves; NaN when it cannot be a 32-bit physical address. */
export function address64(lo: number, hi: number): number {
  return hi === 0 ? lo >>> 0 : NaN;
}

/** Whether [pa, pa + length) lies in the 32-bit physical address space. */
function validRange(pa: number, length: number): boolean {
  return Number.isInteger(pa) && pa >= 0 && length >= 0 && pa + length <= TWO_32;
}
