// The virt board around one hart: devices at the addresses of docs/machine.md, the boot ROM, the device tree and
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
import { assignDiskSlots } from './disk-slots';
import { ElfError, isElf, parseElf, type ElfImage } from './elf';
import { checkOverlaps, fdtLoadAddress, initrdStartAddress, kernelStartAddress, parseImageHeader, resetVector, SBI_KERNEL_ADDRESS, type BootRegion } from './boot';
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
  /** virtio-mmio slot 0..7 (QEMU's `bus=virtio-mmio-bus.N`); default: QEMU's order (assignDiskSlots). */
  slot?: number;
}


/** How a board is wired. */
export interface BoardOptions {
  ramSize: number;
  /** Disks, in order, each in its slot (assignDiskSlots). At most 8. */
  disks?: readonly DiskAttachment[];
  onUart: (byte: number) => void;
  /** Kernel command line for /chosen/bootargs (QEMU's -append). */
  bootargs?: string;
  /** Firmware at the start of RAM, ELF or raw (QEMU's -bios FILE); none when undefined (-bios none). */
  firmware?: Uint8Array;
  /** Initial ramdisk (QEMU's -initrd), placed and announced in /chosen as QEMU does. */
  initrd?: Uint8Array;
  /**
   * `--bios sbi`: no firmware in RAM; the engine answers the kernel's SBI calls (sbi.ts). The kernel
   * goes where QEMU puts it behind OpenSBI and the CLINT's timer line drives STIP, as OpenSBI turns
   * its machine timer interrupt into the supervisor's.
   */
  sbi?: boolean;
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
  /** Where the reset vector jumps: the start of RAM with a firmware, else the kernel's entry. */
  entry: number = MEMORY_MAP.ram.base;
  /** The kernel's address handed to the firmware (fw_dynamic next_addr): its load base. */
  kernelEntry: number = MEMORY_MAP.ram.base;
  /** What the boot put where in RAM (firmware, kernel, initrd, device tree). */
  regions: BootRegion[] = [];
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
  /** The slot of each disk, in the order of `options.disks`. */
  readonly diskSlots: readonly number[];
  private readonly rom = new Uint8Array(MEMORY_MAP.bootRom.size);

  constructor(private readonly bus: BoardBus, private readonly hart: Hart, time: TimeSource, private readonly options: BoardOptions) {
    this.plic = new Plic([new HartLine(hart, Irq.MEI), new HartLine(hart, Irq.SEI)]);
    if (options.sbi && options.firmware !== undefined) throw new Error("--bios takes 'sbi' or a firmware file, not both");
    this.clint = new Clint(time, new HartLine(hart, Irq.MSI), new HartLine(hart, options.sbi ? Irq.STI : Irq.MTI));
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
    const diskSlots = assignDiskSlots(attached);
    const disks = attached.map((d) => new VirtioBlk(d.device, { serial: d.serial }));
    // Empty slots answer with the version of the first disk's transport (QEMU's force-legacy is global).
    const emptyLegacy = attached[0]?.legacy ?? true;
    const slots: VirtioMmio[] = [];
    for (let slot = 0; slot < MEMORY_MAP.virtio.count; slot++) {
      const n = diskSlots.indexOf(slot);
      const device = n >= 0 ? disks[n] : undefined;
      const legacy = n >= 0 ? (attached[n].legacy ?? true) : emptyLegacy;
      const t = new VirtioMmio(slot, this.plic.irqLine(IRQ.virtioBase + slot), this.dma, device, legacy);
      slots.push(t);
      bus.map(MEMORY_MAP.virtio.base + slot * MEMORY_MAP.virtio.size, VIRTIO_MMIO_WINDOW, t);
    }
    this.virtio = slots;
    this.disks = disks;
    this.diskSlots = diskSlots;
  }

  /**
   * The riscv,isa string for the device tree, as QEMU 7.2 spells it for its rv32 without F/D and the
   * bit-manipulation set: single letters in QEMU's order (I M A C H), then Zicsr, Zifencei and
   * Zihintpause (its `pause` is a FENCE encoding, a no-op here).
   */
  isaString(): string {
    const f = this.hart.features;
    return `rv32i${f.m ? 'm' : ''}${f.a ? 'a' : ''}${f.c ? 'c' : ''}${f.h ? 'h' : ''}_zicsr_zifencei_zihintpause`;
  }

  /**
   * Loads firmware, kernel and initrd into zeroed RAM as QEMU 7.2 places them (boot.ts), then builds
   * the device tree and the ROM. An ELF32 RISC-V executable goes by its PT_LOAD physical addresses,
   * any other file raw. Throws an Error (ElfError for a bad ELF) with a readable message.
   */
  load(kernel: Uint8Array): void {
    const ramBase = MEMORY_MAP.ram.base;
    const ramEnd = ramBase + this.options.ramSize;
    this.image = undefined;
    this.htif = undefined;
    this.bus.clearRam();
    const regions: BootRegion[] = [];
    let kernelStart: number = ramBase;
    if (this.options.firmware !== undefined) {
      const fw = this.loadFile('firmware', this.options.firmware, ramBase, regions);
      kernelStart = kernelStartAddress(fw.end);
    } else if (this.options.sbi) {
      kernelStart = SBI_KERNEL_ADDRESS;
    }
    const k = this.loadFile('kernel', kernel, kernelStart, regions);
    if (k.image !== undefined) {
      this.image = k.image;
      const tohost = k.image.symbols.get('tohost');
      if (tohost !== undefined) this.htif = new Htif(this.bus, tohost, k.image.symbols.get('fromhost'), this.options.onUart, this.options.onExit);
    }
    this.kernelEntry = k.start;
    // QEMU jumps to the start of RAM; without firmware vmlab starts an ELF at its entry (docs/machine.md).
    // Under `--bios sbi` the kernel starts where a firmware would enter it: its load base (next_addr).
    this.entry = this.options.firmware !== undefined ? ramBase : this.options.sbi ? k.start : (k.image?.entry ?? kernelStart);
    let initrd: { start: number; end: number } | undefined;
    if (this.options.initrd !== undefined) {
      const start = initrdStartAddress(this.kernelEntry, this.options.ramSize);
      const end = start + this.options.initrd.length;
      if (end > ramEnd) throw new Error(`the initrd of ${this.options.initrd.length} bytes at 0x${start.toString(16)} (QEMU's place for it) runs past the end of RAM at 0x${ramEnd.toString(16)}: use more memory (--mem)`);
      this.fillRam(start, this.options.initrd.length, this.options.initrd);
      initrd = { start, end };
      regions.push({ what: 'initrd', ...initrd });
    }
    const fdt = generateFdt({ ramBase, ramSize: this.options.ramSize, isa: this.isaString(), bootargs: this.options.bootargs, initrd });
    this.fdtAddress = fdtLoadAddress(ramBase, this.options.ramSize, fdt.length);
    // Small RAM: QEMU's rounding would put the DTB on the kernel at the start of RAM; use the end.
    if (this.fdtAddress < ramBase + this.options.ramSize / 2) this.fdtAddress = ramEnd - ((fdt.length + 7) & ~7);
    this.fdt = fdt;
    regions.push({ what: 'device tree', start: this.fdtAddress, end: this.fdtAddress + fdt.length });
    checkOverlaps(regions);
    this.regions = regions;
    this.fillRam(this.fdtAddress, fdt.length, fdt);
    this.rom.fill(0);
    const view = new DataView(this.rom.buffer);
    resetVector(this.entry, this.fdtAddress, this.kernelEntry).forEach((w, i) => view.setUint32(4 * i, w >>> 0, true));
  }

  /**
   * Loads one file: an ELF by its physical addresses (start = its lowest address in RAM, end = its
   * highest, as QEMU's load_elf reports them), any other file raw at `rawAt`. A raw file with a
   * Linux Image header occupies its image_size.
   */
  private loadFile(what: string, bytes: Uint8Array, rawAt: number, regions: BootRegion[]): { start: number; end: number; image?: ElfImage } {
    const ramEnd = MEMORY_MAP.ram.base + this.options.ramSize;
    // QEMU refuses an empty -kernel ("could not load kernel"); loaded raw, it would run zeros for ever.
    if (bytes.length === 0) throw new Error(`could not load the ${what}: the file is empty`);
    if (isElf(bytes)) {
      const image = parseElf(bytes);
      let start = Infinity;
      let end = 0;
      for (const seg of image.segments) {
        this.copySegment(seg.paddr, seg.data, seg.memsz);
        const lo = Math.max(seg.paddr, MEMORY_MAP.ram.base);
        const hi = Math.min(seg.paddr + Math.max(seg.memsz, seg.data.length), ramEnd);
        if (hi <= lo) continue;
        start = Math.min(start, lo);
        end = Math.max(end, hi);
        regions.push({ what: what, start: lo, end: hi });
      }
      if (end === 0) start = end = rawAt;
      return { start, end, image };
    }
    const header = parseImageHeader(bytes);
    const size = Math.max(bytes.length, header?.imageSize ?? 0);
    if (rawAt + size > ramEnd) {
      const need = header !== undefined && header.imageSize > bytes.length ? ` (its Image header's image_size, bss included)` : '';
      throw new Error(`the ${what} needs ${size} bytes${need} from 0x${rawAt.toString(16)}, past the end of RAM at 0x${ramEnd.toString(16)}: use more memory (--mem)`);
    }
    this.fillRam(rawAt, bytes.length, bytes);
    regions.push({ what, start: rawAt, end: rawAt + size });
    return { start: rawAt, end: rawAt + bytes.length };
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

  /**
   * Writes `data` (or zeros) into RAM page by page through the bus's RAM mapping, logging each page
   * while a dirty log is on (a reboot loads the image again while the guest migrates).
   */
  private fillRam(pa: number, length: number, data: Uint8Array | undefined): void {
    const log = this.bus.writeLog;
    let done = 0;
    while (done < length) {
      const at = pa + done;
      const chunk = Math.min(length - done, 4096 - (at & 0xfff));
      const off = this.bus.ramOffset(at, chunk);
      if (off < 0) throw new Error(`address 0x${at.toString(16)} is not RAM`);
      if (data) this.bus.ram.set(data.subarray(done, done + chunk), off);
      else this.bus.ram.fill(0, off, off + chunk);
      this.bus.written[off >>> 12] = 1;
      if (log !== undefined) log[off >>> 12] = 1;
      done += chunk;
    }
  }
}
