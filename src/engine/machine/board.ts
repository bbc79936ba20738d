// The virt board around one hart: devices at DESIGN 2's addresses, the boot ROM, the device tree and
// the kernel image. The bare machine builds one over host RAM; every VM builds one over its own
// guest-physical space, so a kernel boots the same way bare and in each VM.

import { Irq } from '../cpu/csr-defs';
import type { Hart } from '../cpu/hart';
import type { BlockDevice } from '../disk/types';
import { Clint } from '../devices/clint';
import { GuestMemory } from '../devices/guest-memory';
import { Htif } from '../devices/htif';
import type { IrqLine, TimeSource } from '../devices/irq';
import { Plic } from '../devices/plic';
import { TestFinisher } from '../devices/test-finisher';
import { Uart16550 } from '../devices/uart16550';
import { VirtioBlk } from '../devices/virtio-blk';
import { VIRTIO_MMIO_WINDOW, VirtioMmio } from '../devices/virtio-mmio';
import { Rom, type Device, type PhysicalBus, type Region } from './bus';
import { ElfError, isElf, parseElf, type ElfImage } from './elf';
import { generateFdt } from './fdt';
import { IRQ, MEMORY_MAP } from './memory-map';

/** A physical address space a board can populate. */
export interface BoardBus extends PhysicalBus {
  map(base: number, size: number, device: Device): void;
  /** The mapped device regions. */
  readonly deviceRegions: readonly Region[];
}

/** A disk on the board's virtio-mmio slots. */
export interface DiskAttachment {
  /** The disk format over its host file (raw, qcow2) or memory. */
  device: BlockDevice;
  /** Version 1 (legacy) transport, as QEMU 7.2's default `virtio-mmio.force-legacy=on`; default true. */
  legacy?: boolean;
  /** GET_ID answer (QEMU's `serial=`); default empty. */
  serial?: string;
}

/**
 * The slot disk `n` lands in: QEMU's virt creates the transports in address order and qbus prepends
 * each new bus, so `-device virtio-blk-device` fills the highest free slot first (read back from
 * qemu-system-riscv32 7.2: one disk answers at 0x10008000).
 */
export function diskSlot(n: number): number {
  return MEMORY_MAP.virtio.count - 1 - n;
}

/** How a board is wired. */
export interface BoardOptions {
  ramSize: number;
  /** Disks, in order; disk n goes to slot diskSlot(n). At most 8. */
  disks?: readonly DiskAttachment[];
  onUart: (byte: number) => void;
  bootargs?: string;
  /** Called when the guest ends through the test finisher or HTIF. */
  onExit: (code: number) => void;
  /** Called when the guest asks the test finisher for a reset. */
  onReset: () => void;
}

/** A line into a hart's mip. */
export class HartLine implements IrqLine {
  constructor(private readonly hart: Hart, private readonly irq: number) {}
  set(level: boolean): void {
    this.hart.setIrq(this.irq, level);
  }
}

/** Devices, ROM, device tree and kernel image of one virt machine. */
export class Board {
  readonly uart: Uart16550;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly finisher: TestFinisher;
  /** The loaded kernel, when it was an ELF. */
  image: ElfImage | undefined;
  /** Entry point of the loaded kernel. */
  entry: number = MEMORY_MAP.ram.base;
  /** Address of the device tree blob in RAM. */
  fdtAddress = 0;
  /** The generated device tree blob. */
  fdt: Uint8Array = new Uint8Array(0);
  /** HTIF, when the kernel has a `tohost` symbol. */
  htif: Htif | undefined;
  /** Guest RAM as devices reach it (DMA). */
  readonly dma: GuestMemory;
  /** The eight virtio-mmio transports, by slot. */
  readonly virtio: readonly VirtioMmio[];
  /** The virtio-blk devices, in the order of `options.disks`. */
  readonly disks: readonly VirtioBlk[];
  private readonly rom = new Uint8Array(MEMORY_MAP.bootRom.size);

  constructor(private readonly bus: BoardBus, private readonly hart: Hart, time: TimeSource, private readonly options: BoardOptions) {
    this.plic = new Plic([new HartLine(hart, Irq.MEI), new HartLine(hart, Irq.SEI)]);
    this.clint = new Clint(time, new HartLine(hart, Irq.MSI), new HartLine(hart, Irq.MTI));
    this.uart = new Uart16550(this.plic.irqLine(IRQ.uart0), options.onUart);
    this.finisher = new TestFinisher(options.onExit, options.onReset);
    bus.map(MEMORY_MAP.bootRom.base, MEMORY_MAP.bootRom.size, new Rom(this.rom));
    bus.map(MEMORY_MAP.testFinisher.base, MEMORY_MAP.testFinisher.size, this.finisher);
    bus.map(MEMORY_MAP.clint.base, MEMORY_MAP.clint.size, this.clint);
    bus.map(MEMORY_MAP.plic.base, MEMORY_MAP.plic.size, this.plic);
    // QEMU's ns16550a answers in 8 bytes of its 256-byte slot; the rest faults, as on QEMU.
    bus.map(MEMORY_MAP.uart0.base, 8, this.uart);
    this.dma = new GuestMemory(bus);
    const attached = options.disks ?? [];
    if (attached.length > MEMORY_MAP.virtio.count) throw new Error(`at most ${MEMORY_MAP.virtio.count} disks fit on the virtio-mmio slots, got ${attached.length}`);
    const disks = attached.map((d) => new VirtioBlk(d.device, { serial: d.serial }));
    // Empty slots answer with the version of the first disk's transport (QEMU's force-legacy is global).
    const emptyLegacy = attached[0]?.legacy ?? true;
    const slots: VirtioMmio[] = [];
    for (let slot = 0; slot < MEMORY_MAP.virtio.count; slot++) {
      const n = diskSlot(slot); // the numbering runs backwards, so the map is its own inverse
      const device = n < disks.length ? disks[n] : undefined;
      const legacy = n < disks.length ? (attached[n].legacy ?? true) : emptyLegacy;
      const t = new VirtioMmio(slot, this.plic.irqLine(IRQ.virtioBase + slot), this.dma, device, legacy);
      slots.push(t);
      bus.map(MEMORY_MAP.virtio.base + slot * MEMORY_MAP.virtio.size, VIRTIO_MMIO_WINDOW, t);
    }
    this.virtio = slots;
    this.disks = disks;
  }

  /** The riscv,isa string for the device tree. */
  isaString(): string {
    const f = this.hart.features;
    return `rv32i${f.m ? 'm' : ''}${f.a ? 'a' : ''}${f.c ? 'c' : ''}_zicsr_zifencei`;
  }

  /**
   * Loads a kernel into zeroed RAM: an ELF32 RISC-V executable by its PT_LOAD physical addresses,
   * or any other file as a raw image at the start of RAM (as QEMU does); then builds ROM and DTB.
   * Throws ElfError with a readable message for a bad ELF.
   */
  load(bytes: Uint8Array): void {
    this.image = undefined;
    this.htif = undefined;
    this.fillRam(MEMORY_MAP.ram.base, this.options.ramSize, undefined);
    if (isElf(bytes)) {
      const image = parseElf(bytes);
      for (const seg of image.segments) this.copySegment(seg.paddr, seg.data, seg.memsz);
      this.image = image;
      this.entry = image.entry;
      const tohost = image.symbols.get('tohost');
      if (tohost !== undefined) this.htif = new Htif(this.bus, tohost, image.symbols.get('fromhost'), this.options.onUart, this.options.onExit);
    } else {
      if (bytes.length > this.options.ramSize) throw new Error(`raw image of ${bytes.length} bytes does not fit in ${this.options.ramSize} bytes of RAM`);
      this.fillRam(MEMORY_MAP.ram.base, bytes.length, bytes);
      this.entry = MEMORY_MAP.ram.base;
    }
    this.buildBootRom();
  }

  /** Resets the devices and places the DTB again (the kernel image stays as it is). */
  resetDevices(): void {
    this.fillRam(this.fdtAddress, this.fdt.length, this.fdt);
    this.uart.reset();
    this.clint.reset();
    this.plic.reset();
    for (const t of this.virtio) t.reset();
    this.clint.update();
  }

  /**
   * Copies the RAM part of a segment. As QEMU's loader does, bytes outside RAM are dropped (ld's
   * first PT_LOAD often starts a page below the text to hold the ELF headers); a segment with no
   * byte in RAM is an error.
   */
  private copySegment(paddr: number, data: Uint8Array, memsz: number): void {
    const ramBase = MEMORY_MAP.ram.base;
    const ramEnd = ramBase + this.options.ramSize;
    const end = paddr + Math.max(memsz, data.length);
    if (end <= ramBase || paddr >= ramEnd) {
      if (memsz === 0) return;
      throw new ElfError('outside-ram', `segment at physical 0x${paddr.toString(16)}..0x${end.toString(16)} lies outside RAM ` +
        `(0x${ramBase.toString(16)}..0x${ramEnd.toString(16)}): link the program at 0x80000000, e.g. ld -Ttext=0x80000000`);
    }
    const from = Math.max(paddr, ramBase);
    const to = Math.min(paddr + data.length, ramEnd);
    if (to > from) this.fillRam(from, to - from, data.subarray(from - paddr, to - paddr));
  }

  /** Writes `data` (or zeros) into RAM page by page through the bus's RAM mapping. */
  private fillRam(pa: number, length: number, data: Uint8Array | undefined): void {
    let done = 0;
    while (done < length) {
      const at = pa + done;
      const chunk = Math.min(length - done, 4096 - (at & 0xfff));
      const off = this.bus.ramOffset(at, chunk);
      if (off < 0) throw new Error(`address 0x${at.toString(16)} is not RAM`);
      if (data) this.bus.ram.set(data.subarray(done, done + chunk), off);
      else this.bus.ram.fill(0, off, off + chunk);
      done += chunk;
    }
  }

  private buildBootRom(): void {
    const fdt = generateFdt({ ramBase: MEMORY_MAP.ram.base, ramSize: this.options.ramSize, isa: this.isaString(), bootargs: this.options.bootargs });
    // QEMU's riscv_load_fdt: the end of RAM (below 3 GiB), rounded down to 2 MiB.
    const ramEnd = MEMORY_MAP.ram.base + this.options.ramSize;
    this.fdtAddress = Math.floor((ramEnd - fdt.length) / (2 * 1024 * 1024)) * 2 * 1024 * 1024;
    // Small RAM: QEMU's rounding would put the DTB on the kernel at the start of RAM; use the end.
    if (this.fdtAddress < MEMORY_MAP.ram.base + this.options.ramSize / 2) this.fdtAddress = ramEnd - ((fdt.length + 7) & ~7);
    this.fdt = fdt;
    // QEMU's riscv_setup_rom_reset_vec for rv32, followed by its fw_dynamic_info.
    const words = [
      0x00000297, // auipc t0, 0
      0x02828613, // addi  a2, t0, 40
      0xf1402573, // csrr  a0, mhartid
      0x0202a583, // lw    a1, 32(t0)
      0x0182a283, // lw    t0, 24(t0)
      0x00028067, // jr    t0
      this.entry >>> 0, 0, this.fdtAddress >>> 0, 0,
      0x4942534f, 2, this.entry >>> 0, 1, 0, 0,
    ];
    this.rom.fill(0);
    const view = new DataView(this.rom.buffer);
    words.forEach((w, i) => view.setUint32(4 * i, w >>> 0, true));
  }
}
