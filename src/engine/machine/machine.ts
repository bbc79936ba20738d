// The bare "physical" machine of DESIGN 2: hart, bus, devices, boot ROM, device tree, and the run
// loop with deterministic time. Booting follows `qemu-system-riscv32 -machine virt -bios none
// -kernel K`: the ROM at 0x1000 loads a0 = hartid, a1 = DTB address and jumps to the kernel.

import { execute } from '../cpu/interp';
import { Hart, type CpuFeatures } from '../cpu/hart';
import { Irq } from '../cpu/csr-defs';
import { Clint } from '../devices/clint';
import { Htif } from '../devices/htif';
import type { IrqLine, TimeSource } from '../devices/irq';
import { Plic } from '../devices/plic';
import { TestFinisher } from '../devices/test-finisher';
import { Uart16550 } from '../devices/uart16550';
import { Bus, Rom } from './bus';
import { ElfError, isElf, parseElf, type ElfImage } from './elf';
import { generateFdt } from './fdt';
import { DEFAULT_RAM_SIZE, IRQ, MEMORY_MAP, TIMEBASE_HZ } from './memory-map';

/** Why `run` returned. */
export const enum StopReason {
  /** The guest ended through the test finisher or HTIF; see `exitCode`. */
  EXIT = 1,
  /** The instruction budget ran out. */
  BUDGET = 2,
  /** The hart waits in WFI and nothing can wake it but input. */
  IDLE = 3,
  /** A caller asked to stop (`requestStop`). */
  STOPPED = 4,
  /** The guest asked for a reset through the test finisher. */
  RESET = 5,
  /** The hart reached a breakpoint (it has not executed the instruction there yet). */
  BREAKPOINT = 6,
}

/** How the machine is built. */
export interface MachineOptions {
  /** RAM size in bytes (multiple of 4 KiB). Default 128 MiB. */
  ramSize?: number;
  /** CPU features, as `-cpu rv32,pmp=false,...`. */
  cpu?: Partial<CpuFeatures>;
  /** UART transmit sink. */
  onUart?: (byte: number) => void;
  /** Time: 'deterministic' (mtime from executed steps) or 'realtime' (from `clock`). */
  timeMode?: 'deterministic' | 'realtime';
  /** Steps per mtime tick in deterministic mode; default 10 (a 100 MIPS virtual hart at 10 MHz). */
  stepsPerTick?: number;
  /** Milliseconds clock for realtime mode (injected: the engine does not read host time itself). */
  clock?: () => number;
  /** Kernel command line for /chosen/bootargs. */
  bootargs?: string;
}

/** Default steps per mtime tick. */
export const DEFAULT_STEPS_PER_TICK = 10;

/** A line into the hart's mip. */
class HartLine implements IrqLine {
  constructor(private readonly hart: Hart, private readonly irq: number) {}
  set(level: boolean): void {
    this.hart.setIrq(this.irq, level);
  }
}

/** One RV32 virt machine. */
export class Machine {
  readonly bus: Bus;
  readonly hart: Hart;
  readonly uart: Uart16550;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly finisher: TestFinisher;
  readonly ramSize: number;
  /** Guest exit code once it ended (finisher or HTIF). */
  exitCode: number | undefined;
  /** The loaded kernel, when it was an ELF. */
  image: ElfImage | undefined;
  /** Entry point of the loaded kernel. */
  entry: number = MEMORY_MAP.ram.base;
  /** Address of the device tree blob in RAM. */
  fdtAddress = 0;
  private htif: Htif | undefined;
  private stopRequested = false;
  private resetRequested = false;
  /** Steps the hart spent waiting in WFI (they advance time but retire nothing). */
  private idleSteps = 0;
  private readonly stepsPerTick: number;
  private readonly time: TimeSource;
  private readonly options: MachineOptions;
  private kernel: Uint8Array | undefined;

  constructor(options: MachineOptions = {}) {
    Machine.warmUp();
    this.options = options;
    this.ramSize = options.ramSize ?? DEFAULT_RAM_SIZE;
    this.stepsPerTick = options.stepsPerTick ?? DEFAULT_STEPS_PER_TICK;
    if (options.cpu?.h) throw new Error('the H extension is not available yet: run with h=false');
    this.bus = new Bus(MEMORY_MAP.ram.base, this.ramSize);
    this.hart = new Hart(this.bus, options.cpu);
    if (options.timeMode === 'realtime') {
      const clock = options.clock;
      if (!clock) throw new Error('realtime mode needs a clock');
      const t0 = clock();
      this.time = { now: () => Math.floor((clock() - t0) * (TIMEBASE_HZ / 1000)) };
    } else {
      this.time = { now: () => Math.floor((this.hart.stepsNow() + this.idleSteps) / this.stepsPerTick) };
    }
    this.hart.time = this.time;
    this.plic = new Plic([new HartLine(this.hart, Irq.MEI), new HartLine(this.hart, Irq.SEI)]);
    this.clint = new Clint(this.time, new HartLine(this.hart, Irq.MSI), new HartLine(this.hart, Irq.MTI));
    const sink = options.onUart ?? (() => {});
    this.uart = new Uart16550(this.plic.irqLine(IRQ.uart0), sink);
    this.finisher = new TestFinisher(
      (code) => this.finish(code),
      () => { this.resetRequested = true; this.hart.sliceEnd = 0; },
    );
    this.bus.map(MEMORY_MAP.testFinisher.base, MEMORY_MAP.testFinisher.size, this.finisher);
    this.bus.map(MEMORY_MAP.clint.base, MEMORY_MAP.clint.size, this.clint);
    this.bus.map(MEMORY_MAP.plic.base, MEMORY_MAP.plic.size, this.plic);
    // QEMU's ns16550a answers in 8 bytes of its 256-byte slot; the rest faults, as on QEMU.
    this.bus.map(MEMORY_MAP.uart0.base, 8, this.uart);
  }

  private static warmedUp = false;

  /**
   * Runs the interpreter's exit path once before any real slice: V8 compiles the hot loop on stack
   * while it has never seen the code after the loop, and without this each later slice would leave
   * optimized code there (measured: one deoptimization per slice).
   */
  private static warmUp(): void {
    if (Machine.warmedUp) return;
    Machine.warmedUp = true;
    const hart = new Hart(new Bus(MEMORY_MAP.ram.base, 4096), { jit: false });
    execute(hart, 0);
  }

  private finish(code: number): void {
    if (this.exitCode === undefined) this.exitCode = code;
    this.hart.sliceEnd = 0;
  }

  /**
   * Loads a kernel: an ELF32 RISC-V executable by its PT_LOAD physical addresses, or any other file
   * as a raw image at the start of RAM (as QEMU does). Then builds the ROM and DTB and resets.
   * Throws ElfError with a readable message for a bad ELF.
   */
  loadKernel(bytes: Uint8Array): void {
    this.kernel = bytes;
    this.image = undefined;
    this.htif = undefined;
    this.bus.ram.fill(0);
    const ramBase = MEMORY_MAP.ram.base;
    if (isElf(bytes)) {
      const image = parseElf(bytes);
      for (const seg of image.segments) this.copySegment(seg.paddr, seg.data, seg.memsz);
      this.image = image;
      this.entry = image.entry;
      const tohost = image.symbols.get('tohost');
      if (tohost !== undefined) {
        this.htif = new Htif(this.bus, tohost, image.symbols.get('fromhost'), this.options.onUart ?? (() => {}), (code) => this.finish(code));
      }
    } else {
      if (bytes.length > this.ramSize) throw new Error(`raw image of ${bytes.length} bytes does not fit in ${this.ramSize} bytes of RAM`);
      this.bus.ram.set(bytes, 0);
      this.entry = ramBase;
    }
    this.installBootRom();
    this.reset(false);
  }

  /**
   * Copies the RAM part of a segment. As QEMU's loader does, bytes outside RAM are dropped (ld's
   * first PT_LOAD often starts a page below the text to hold the ELF headers); a segment with no
   * byte in RAM is an error.
   */
  private copySegment(paddr: number, data: Uint8Array, memsz: number): void {
    const ramBase = MEMORY_MAP.ram.base;
    const ramEnd = ramBase + this.ramSize;
    const end = paddr + Math.max(memsz, data.length);
    if (end <= ramBase || paddr >= ramEnd) {
      if (memsz === 0) return;
      throw new ElfError('outside-ram', `segment at physical 0x${paddr.toString(16)}..0x${end.toString(16)} lies outside RAM ` +
        `(0x${ramBase.toString(16)}..0x${ramEnd.toString(16)}): link the program at 0x80000000, e.g. ld -Ttext=0x80000000`);
    }
    const from = Math.max(paddr, ramBase);
    const to = Math.min(paddr + data.length, ramEnd);
    if (to > from) this.bus.ram.set(data.subarray(from - paddr, to - paddr), from - ramBase);
  }

  private installBootRom(): void {
    const fdt = generateFdt({ ramBase: MEMORY_MAP.ram.base, ramSize: this.ramSize, isa: this.isaString(), bootargs: this.options.bootargs });
    // QEMU's riscv_load_fdt: the end of RAM (below 3 GiB), rounded down to 2 MiB.
    const ramEnd = MEMORY_MAP.ram.base + this.ramSize;
    this.fdtAddress = Math.floor((ramEnd - fdt.length) / (2 * 1024 * 1024)) * 2 * 1024 * 1024;
    if (this.fdtAddress < MEMORY_MAP.ram.base) this.fdtAddress = ramEnd - ((fdt.length + 7) & ~7);
    this.fdtBlob = fdt;
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
    const rom = new Uint8Array(MEMORY_MAP.bootRom.size);
    const view = new DataView(rom.buffer);
    words.forEach((w, i) => view.setUint32(4 * i, w >>> 0, true));
    if (!this.romMapped) {
      this.rom = rom;
      this.bus.map(MEMORY_MAP.bootRom.base, MEMORY_MAP.bootRom.size, new Rom(rom));
      this.romMapped = true;
    } else {
      this.rom!.set(rom);
    }
  }

  private rom: Uint8Array | undefined;
  private romMapped = false;
  private fdtBlob: Uint8Array = new Uint8Array(0);

  /** The generated device tree blob. */
  get fdt(): Uint8Array {
    return this.fdtBlob;
  }

  /** The riscv,isa string for the device tree. */
  isaString(): string {
    const f = this.hart.features;
    return `rv32i${f.m ? 'm' : ''}${f.a ? 'a' : ''}${f.c ? 'c' : ''}_zicsr_zifencei`;
  }

  /** Resets the hart and devices to power-on and places the DTB; `reloadKernel` re-copies the image. */
  reset(reloadKernel = true): void {
    if (reloadKernel && this.kernel) {
      this.loadKernel(this.kernel);
      return;
    }
    this.bus.ram.set(this.fdtBlob, this.fdtAddress - MEMORY_MAP.ram.base);
    this.hart.reset(MEMORY_MAP.bootRom.base);
    this.uart.reset();
    this.clint.reset();
    this.plic.reset();
    this.exitCode = undefined;
    this.idleSteps = 0;
    this.stopRequested = false;
    this.resetRequested = false;
    this.clint.update();
  }

  /** Queues bytes for the UART receiver. */
  sendInput(bytes: Uint8Array): void {
    this.uart.pushInput(bytes);
  }

  /** Asks a running `run` to return soon with STOPPED (from a callback, e.g. a UART sink). */
  requestStop(): void {
    this.stopRequested = true;
    this.hart.sliceEnd = 0;
  }

  /** Steps (instructions plus traps) executed since reset, including time spent idle in WFI. */
  get clockSteps(): number {
    return this.hart.steps + this.idleSteps;
  }

  /**
   * Runs at most `budget` steps (retired instructions plus traps taken). Returns why it stopped.
   */
  run(budget: number): StopReason {
    const h = this.hart;
    let remaining = budget;
    // The instruction at the pc where this run starts may execute even if it has a breakpoint.
    let skip = h.pcU;
    while (true) {
      if (this.exitCode !== undefined) return StopReason.EXIT;
      if (this.resetRequested) {
        this.reset(true);
        return StopReason.RESET;
      }
      if (this.stopRequested) {
        this.stopRequested = false;
        return StopReason.STOPPED;
      }
      if (remaining <= 0) return StopReason.BUDGET;
      this.clint.update();
      this.htif?.poll();
      if (h.waiting) {
        if (h.wakeupPending()) {
          h.waiting = false;
        } else {
          const skipped = this.skipIdle(remaining);
          if (skipped === 0) return StopReason.IDLE;
          remaining -= skipped;
          continue;
        }
      }
      const irq = h.pendingInterrupt();
      if (irq >= 0) h.takeInterrupt(irq);
      if (h.breakpoints.size > 0 && h.breakpoints.has(h.pcU) && h.pcU !== skip) return StopReason.BREAKPOINT;
      h.bpSkip = skip;
      skip = -1;
      const slice = Math.min(remaining, this.stepsToDeadline());
      h.sliceDone = 0;
      h.sliceSteps = 0;
      execute(h, slice);
      h.instret += h.sliceDone;
      h.steps += h.sliceSteps;
      remaining -= Math.max(1, h.sliceSteps);
      h.sliceDone = 0;
      h.sliceSteps = 0;
      if (h.atBreakpoint) return StopReason.BREAKPOINT;
    }
  }

  /** Executes exactly one step: one instruction, or one trap/interrupt entry. */
  step(): StopReason {
    return this.run(1);
  }

  /** Steps until the next timer deadline (at least 1, at most 2^20 to keep slices short). */
  private stepsToDeadline(): number {
    const deadline = this.clint.nextDeadline();
    if (!Number.isFinite(deadline) || this.options.timeMode === 'realtime') return 1 << 20;
    const now = this.clockSteps;
    const at = deadline * this.stepsPerTick;
    return Math.max(1, Math.min(1 << 20, Math.ceil(at - now)));
  }

  /** In WFI: advance time to the next timer deadline; returns steps skipped (0 if none is armed). */
  private skipIdle(remaining: number): number {
    if (this.options.timeMode === 'realtime') return 0;
    const deadline = this.clint.nextDeadline();
    if (!Number.isFinite(deadline)) return 0;
    const skip = Math.max(1, Math.min(remaining, Math.ceil(deadline * this.stepsPerTick - this.clockSteps)));
    this.idleSteps += skip;
    return skip;
  }
}
