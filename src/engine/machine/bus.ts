// The physical address space: RAM as one ArrayBuffer plus memory-mapped devices (STYLE: one device
// interface; the memory map one constant table, see memory-map.ts).

/** The device contract: register reads and writes at an offset, reset, state for snapshots. */
export interface Device {
  readonly name: string;
  /** Reads `size` bytes (1, 2 or 4) at `offset`; returns the zero-extended value. */
  read(offset: number, size: number): number;
  /** Writes the low `size` bytes of `value` at `offset`. */
  write(offset: number, value: number, size: number): void;
  /** Returns the device to its power-on state. */
  reset(): void;
  /**
   * True when no access to the device writes RAM, moves a timer deadline or ends the run: what it
   * does to interrupts goes through its IRQ line (Hart.setIrq, which ends the hart's slice itself).
   * The hart's slice then goes on after such an access (PhysicalBus.quiet).
   */
  readonly quiet?: boolean;
}

/** A mapped device region. */
export interface Region {
  readonly base: number;
  readonly size: number;
  readonly device: Device;
  /**
   * The device's `quiet`, read once when it is mapped: the slow paths read it on every device access,
   * where a read through the device (one class per device) threw their optimized code away at the
   * first device of another class ("wrong map", Linux's boot: Bus.load and Hart.loadSlow).
   */
  readonly quiet: boolean;
}

/**
 * What a hart needs of its physical address space: RAM as typed arrays over one buffer (addresses
 * map to buffer offsets page by page through `ramOffset`), and loads/stores that report failure
 * through `ok`. The bare machine's Bus is one; a VM's guest-physical space is another.
 */
export interface PhysicalBus {
  readonly ram: Uint8Array;
  readonly ram16: Uint16Array;
  readonly ram32: Int32Array;
  readonly ramBase: number;
  readonly ramSize: number;
  ok: boolean;
  deviceAccesses: number;
  /** Whether the last device access reached a quiet device (Device.quiet). */
  quiet: boolean;
  /** Buffer offset of `size` bytes at `pa` when they are RAM and contiguous in the buffer, else -1. */
  ramOffset(pa: number, size: number): number;
  /**
   * Makes all of RAM read as zero, writing only where it may hold data: RAM the guest has not
   * touched yet is left alone, so the host commits memory as the guest touches it, not up front.
   */
  clearRam(): void;
  /**
   * Dirty log of RAM writes while a machine or VM migrates (docs/migration.md): one byte per 4 KiB
   * page of the RAM buffer (index: buffer offset >>> 12), set by every store that reaches RAM through
   * the bus or a device; a hart fills no writable TLB entry for a page still clear, so its first
   * store there takes the slow path here. Undefined: no log.
   */
  writeLog: Uint8Array | undefined;
  /**
   * The pages that may hold data: one byte per 4 KiB page of the RAM buffer (index: buffer offset
   * >>> 12), set for good by whatever may write the page. A hart's stores reach RAM through a
   * writable TLB entry, whose fill sets it, or through `store`, which sets it; devices, loaders,
   * snapshots and debuggers set it for the bytes they write. Zeroing sets nothing. So a page whose
   * byte is 0 is all zero, and whoever wants the RAM that holds data (a migration's first round)
   * reads only the marked pages, never the rest, which the host has not committed.
   */
  readonly written: Uint8Array;
  /**
   * The WebAssembly memory holding RAM (at offset 0) and room after it for one hart's state that
   * translated WebAssembly code reads (jit-wasm.ts), when the bus was made for that backend.
   */
  readonly arena?: WasmArena;
  load(pa: number, size: number): number;
  store(pa: number, size: number, value: number): void;
}

/** A WebAssembly.Memory as the engine sees it (the engine's types name no host API). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/** RAM in a WebAssembly memory, and the bytes after it that harts claim (HART_ARENA_BYTES each). */
export interface WasmArena {
  readonly memory: WasmMemory;
  /** First byte not claimed yet, and the end of the memory. */
  next: number;
  readonly end: number;
}

/** Options of a Bus. */
export interface BusOptions {
  /**
   * Bytes to keep after RAM in a WebAssembly memory holding both (0 or absent: RAM is a plain
   * ArrayBuffer). Falls back to a plain buffer when the host has no WebAssembly or the memory would
   * pass 4 GiB.
   */
  arenaBytes?: number;
}

interface WasmMemoryApi {
  Memory: new (d: { initial: number; maximum: number }) => WasmMemory;
}

/** Physical memory: RAM and devices. Accesses report failure through `ok`, never by throwing. */
export class Bus implements PhysicalBus {
  readonly ram: Uint8Array;
  readonly ram16: Uint16Array;
  readonly ram32: Int32Array;
  readonly ramBase: number;
  readonly ramSize: number;
  private readonly regions: Region[] = [];
  /** Whether the last load/store reached something. */
  ok = true;
  /** Count of device accesses, for statistics. */
  deviceAccesses = 0;
  quiet = false;
  writeLog: Uint8Array | undefined = undefined;
  readonly written: Uint8Array;
  /** False while RAM is as allocated (all zero, no page committed by the host). */
  private ramUsed = false;

  readonly arena: WasmArena | undefined;

  constructor(ramBase: number, ramSize: number, options: BusOptions = {}) {
    if (ramSize % 4096 !== 0 || ramSize <= 0) throw new RangeError(`RAM size must be a positive multiple of 4 KiB, got ${ramSize}`);
    if (ramBase + ramSize > 2 ** 32) throw new RangeError(`RAM of ${ramSize} bytes at 0x${ramBase.toString(16)} does not fit in 32-bit physical addresses`);
    const arenaBytes = options.arenaBytes ?? 0;
    const wasm = (globalThis as unknown as { WebAssembly?: WasmMemoryApi }).WebAssembly;
    const pages = Math.ceil((ramSize + arenaBytes) / 65536);
    let memory: WasmMemory | undefined;
    if (arenaBytes > 0 && wasm !== undefined && pages <= 65536) {
      // Fixed size (initial = maximum): the memory never grows, so its buffer and views stay valid.
      // The host may refuse one (each reserves address space): RAM is a plain buffer then.
      try {
        memory = new wasm.Memory({ initial: pages, maximum: pages });
      } catch {
        memory = undefined;
      }
    }
    const buffer = memory === undefined ? new ArrayBuffer(ramSize) : memory.buffer;
    this.arena = memory === undefined ? undefined : { memory, next: ramSize, end: pages * 65536 };
    this.ram = new Uint8Array(buffer, 0, ramSize);
    this.ram16 = new Uint16Array(buffer, 0, ramSize >>> 1);
    this.ram32 = new Int32Array(buffer, 0, ramSize >>> 2);
    this.ramBase = ramBase;
    this.ramSize = ramSize;
    this.written = new Uint8Array(ramSize / 4096);
  }

  /** Maps a device; regions must not overlap RAM or each other. */
  map(base: number, size: number, device: Device): void {
    const end = base + size;
    const clash = this.regions.find((r) => base < r.base + r.size && r.base < end);
    if (clash) throw new Error(`device ${device.name} at 0x${base.toString(16)} overlaps ${clash.device.name}`);
    this.regions.push({ base, size, device, quiet: device.quiet === true });
    this.regions.sort((a, b) => a.base - b.base);
  }

  /** All mapped device regions, by address. */
  get deviceRegions(): readonly Region[] {
    return this.regions;
  }

  /** RAM byte offset of a physical address range, or -1 when it is not wholly in RAM. */
  ramOffset(pa: number, size: number): number {
    const off = pa - this.ramBase;
    return off >= 0 && off + size <= this.ramSize ? off : -1;
  }

  /**
   * Zeroes RAM unless it is still as allocated (then it is zero and untouched). While a dirty log is
   * on, only pages holding data are written, and each is logged: a guest's reboot clears RAM while
   * it migrates.
   */
  clearRam(): void {
    if (this.ramUsed) {
      const log = this.writeLog;
      if (log === undefined) this.ram.fill(0);
      else for (let off = 0; off < this.ramSize; off += 4096) clearLoggedPage(this.ram32, off, log);
    }
    this.ramUsed = true;
  }

  /** The device region containing `pa`, if any. */
  regionAt(pa: number): Region | undefined {
    for (const r of this.regions) if (pa >= r.base && pa < r.base + r.size) return r;
    return undefined;
  }

  /** Loads `size` bytes (little-endian, any alignment inside one target) from physical `pa`. */
  load(pa: number, size: number): number {
    const off = this.ramOffset(pa, size);
    if (off >= 0) {
      this.ok = true;
      return readRam(this.ram, off, size);
    }
    const region = this.regionAt(pa);
    if (!region || pa + size > region.base + region.size) {
      this.ok = false;
      return 0;
    }
    this.ok = true;
    this.deviceAccesses++;
    this.quiet = region.quiet;
    return region.device.read(pa - region.base, size) >>> 0;
  }

  /** Stores the low `size` bytes of `value` at physical `pa`. */
  store(pa: number, size: number, value: number): void {
    const off = this.ramOffset(pa, size);
    if (off >= 0) {
      this.ok = true;
      writeRam(this.ram, off, size, value);
      this.written[off >>> 12] = 1;
      if (this.writeLog !== undefined) this.writeLog[off >>> 12] = 1;
      return;
    }
    const region = this.regionAt(pa);
    if (!region || pa + size > region.base + region.size) {
      this.ok = false;
      return;
    }
    this.ok = true;
    this.deviceAccesses++;
    this.quiet = region.quiet;
    region.device.write(pa - region.base, value, size);
  }
}

/**
 * Zeroes the 4 KiB page at RAM offset `off` (page-aligned) if it holds data, and logs it in `log`
 * (PhysicalBus.writeLog); an all-zero page is neither written nor logged, as zeroing changes nothing.
 */
export function clearLoggedPage(ram32: Int32Array, off: number, log: Uint8Array): void {
  const first = off >>> 2;
  const end = first + 1024;
  for (let w = first; w < end; w++) {
    if (ram32[w] !== 0) {
      ram32.fill(0, first, end);
      log[off >>> 12] = 1;
      return;
    }
  }
}

/** Little-endian load of 1, 2 or 4 bytes at any alignment from a RAM byte array. */
export function readRam(ram: Uint8Array, off: number, size: number): number {
  if (size === 1) return ram[off];
  if (size === 2) return ram[off] | (ram[off + 1] << 8);
  return (ram[off] | (ram[off + 1] << 8) | (ram[off + 2] << 16) | (ram[off + 3] << 24)) >>> 0;
}

/** Little-endian store of the low 1, 2 or 4 bytes of `value` at any alignment into a RAM byte array. */
export function writeRam(ram: Uint8Array, off: number, size: number, value: number): void {
  ram[off] = value;
  if (size >= 2) ram[off + 1] = value >>> 8;
  if (size === 4) {
    ram[off + 2] = value >>> 16;
    ram[off + 3] = value >>> 24;
  }
}

/** Read-only memory (the boot ROM): reads return its bytes, writes are ignored. */
export class Rom implements Device {
  readonly name = 'rom';
  get quiet(): boolean {
    return true;
  }
  constructor(private readonly bytes: Uint8Array) {}
  read(offset: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= (this.bytes[offset + i] ?? 0) << (8 * i);
    return v >>> 0;
  }
  write(): void {}
  reset(): void {}
}
