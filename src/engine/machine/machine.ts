// The bare "physical" machine of docs/machine.md: hart, bus, devices, boot ROM, device tree, and the run
// loop with deterministic time. Booting follows `qemu-system-riscv32 -machine virt -bios B -kernel K
// -initrd I -append A` (boot.ts): the ROM at 0x1000 loads a0 = hartid, a1 = DTB address, a2 = the
// fw_dynamic info and jumps to the firmware, or to the kernel without one.

import { execute } from '../cpu/interp';
import { warmUpInterpreter, WarmLoops, widen } from '../cpu/warmup';
import { Hart, jitArenaBytes, type CpuFeatures } from '../cpu/hart';
import type { Clint } from '../devices/clint';
import type { TimeSource } from '../devices/irq';
import type { Plic } from '../devices/plic';
import type { Uart16550 } from '../devices/uart16550';
import { Board, type BoardBus, type DiskAttachment } from './board';
import { Bus } from './bus';
import type { ElfImage } from './elf';
import { DEFAULT_RAM_SIZE, MEMORY_MAP, TIMEBASE_HZ } from './memory-map';
import { Sbi } from './sbi';

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
  /** Kernel command line for /chosen/bootargs (QEMU's -append). */
  bootargs?: string;
  /** Firmware at the start of RAM (QEMU's -bios FILE; ELF or raw); undefined is -bios none. */
  firmware?: Uint8Array;
  /** Initial ramdisk (QEMU's -initrd), announced in /chosen. */
  initrd?: Uint8Array;
  /** `--bios sbi`: the kernel starts in S-mode and the machine answers its SBI calls (sbi.ts). */
  sbi?: boolean;
  /** The physical address space to build on (a VM's guest-physical space); default: new RAM. */
  bus?: BoardBus;
  /** virtio-blk disks, each in its slot (disk-slots.ts: explicit, else QEMU's order from slot 7 down). */
  disks?: readonly DiskAttachment[];
}

/** Default steps per mtime tick. */
export const DEFAULT_STEPS_PER_TICK = 10;
/** Steps of the guest's clock in one second of its time (its timer's ticks at DEFAULT_STEPS_PER_TICK). */
export const GUEST_STEPS_PER_SECOND = TIMEBASE_HZ * DEFAULT_STEPS_PER_TICK;

/** One RV32 virt machine. */
export class Machine {
  readonly bus: BoardBus;
  readonly hart: Hart;
  readonly board: Board;
  readonly ramSize: number;
  /** Guest exit code once it ended (finisher or HTIF). */
  exitCode: number | undefined;
  private stopRequested = false;
  private resetRequested = false;
  /** Steps the hart spent waiting in WFI (they advance time but retire nothing). */
  private idleSteps = 0;
  /** clockSteps of the runs before each reset (elapsedSteps). */
  private stepsBeforeReset = 0;
  private readonly stepsPerTick: number;
  private readonly options: MachineOptions;
  private kernel: Uint8Array | undefined;
  /** The SBI the machine answers under `--bios sbi` (the VMM counts its calls and adds its own extension). */
  readonly sbi: Sbi | undefined;
  /**
   * Called after an SBI remote fence reached this hart, for whoever caches translations of it (the
   * VMM's shadows); the hart's own TLB is already flushed.
   */
  onSbiFence: ((kind: 'i' | 'vma') => void) | undefined;

  constructor(options: MachineOptions = {}) {
    this.options = options;
    this.ramSize = options.bus?.ramSize ?? options.ramSize ?? DEFAULT_RAM_SIZE;
    this.stepsPerTick = options.stepsPerTick ?? DEFAULT_STEPS_PER_TICK;
    this.bus = options.bus ?? new Bus(MEMORY_MAP.ram.base, this.ramSize, { arenaBytes: jitArenaBytes(options.cpu, this.ramSize) });
    this.hart = new Hart(this.bus, options.cpu);
    let time: TimeSource;
    if (options.timeMode === 'realtime') {
      const clock = options.clock;
      if (!clock) throw new Error('realtime mode needs a clock');
      const t0 = clock();
      time = { now: () => Math.floor((clock() - t0) * (TIMEBASE_HZ / 1000)) };
    } else {
      time = { now: () => Math.floor((this.hart.stepsNow() + this.idleSteps) / this.stepsPerTick) };
    }
    this.hart.time = time;
    this.board = new Board(this.bus, this.hart, time, {
      ramSize: this.ramSize,
      onUart: options.onUart ?? (() => {}),
      bootargs: options.bootargs,
      firmware: options.firmware,
      initrd: options.initrd,
      sbi: options.sbi,
      disks: options.disks,
      onExit: (code) => this.finish(code),
      onReset: () => {
        this.resetRequested = true;
        this.hart.sliceEnd = 0;
      },
    });
    if (options.sbi) {
      const hart = this.hart;
      const sbi = new Sbi({
        bus: this.bus,
        uart: this.board.uart,
        clint: this.board.clint,
        hart,
        shutdown: () => this.finish(0),
        reboot: () => {
          this.resetRequested = true;
          hart.sliceEnd = 0;
        },
        fence: (kind) => {
          // fence.i needs nothing: stores into code already drop its translations.
          if (kind === 'vma') hart.tlb.flushAll();
          this.onSbiFence?.(kind);
        },
        loadWord: (va) => {
          const v = hart.loadSlow(va, 4);
          if (hart.fault === 0) return v;
          hart.raiseFault();
          return undefined;
        },
      });
      this.sbi = sbi;
      hart.firmware = {
        ecallFromS: () => {
          if (sbi.call(hart.x)) hart.pc = (hart.pc + 4) | 0;
          hart.sliceEnd = 0;
        },
      };
    }
    // DMA writes bypass the hart's stores: drop translated code on the pages they touch.
    const code = this.hart.code;
    if (code !== undefined) {
      this.board.dma.onWrite = (_pa, off) => {
        if (code.codeChunks[off >>> 12] !== 0) code.invalidatePage(off);
      };
    }
    // After the hart and its board exist: their first objects settle the field types V8 records for
    // the Hart's class, so the code the warm-up has V8 compile needs no recompile for them.
    Machine.warmUp(this.hart.fastRun !== undefined ? WarmLoops.FAST : WarmLoops.ALL);
    widen(this.hart);
  }

  /** What the warm-up has covered so far (0: nothing). */
  private static warmed: WarmLoops | 0 = 0;

  /**
   * Runs the interpreter's exit path once before any real slice: V8 compiles the hot loop on stack
   * while it has never seen the code after the loop, and without this each later slice would leave
   * optimized code there (measured: one deoptimization per slice). Then the warm-up program
   * (cpu/warmup.ts) for the inner loops `loops` names: a machine whose hart has the fast run in
   * WebAssembly asks for it alone, the others and a VMM (which calls this before it makes its
   * physical harts) for all; asked for all after the fast run alone, it runs again with all harts.
   */
  static warmUp(loops: WarmLoops = WarmLoops.ALL): void {
    if (Machine.warmed >= loops) return;
    const first = Machine.warmed === 0;
    Machine.warmed = loops;
    if (first) {
      const hart = new Hart(new Bus(MEMORY_MAP.ram.base, 4096), { jit: false });
      execute(hart, 0);
    }
    warmUpInterpreter(loops);
  }

  /** The guest asked for a reboot (test finisher or SBI), which the next run performs. */
  get resetPending(): boolean {
    return this.resetRequested;
  }

  private finish(code: number): void {
    if (this.exitCode === undefined) this.exitCode = code;
    this.hart.sliceEnd = 0;
  }

  /** The UART. */
  get uart(): Uart16550 {
    return this.board.uart;
  }

  /** The CLINT. */
  get clint(): Clint {
    return this.board.clint;
  }

  /** The PLIC. */
  get plic(): Plic {
    return this.board.plic;
  }

  /** The loaded kernel, when it was an ELF. */
  get image(): ElfImage | undefined {
    return this.board.image;
  }

  /** Where the reset vector jumps (the firmware, or the kernel without one). */
  get entry(): number {
    return this.board.entry;
  }

  /** Address of the device tree blob in RAM. */
  get fdtAddress(): number {
    return this.board.fdtAddress;
  }

  /** The generated device tree blob. */
  get fdt(): Uint8Array {
    return this.board.fdt;
  }

  /** The riscv,isa string for the device tree. */
  isaString(): string {
    return this.board.isaString();
  }

  /**
   * Loads a kernel (ELF32 by physical address, or a raw image at the start of RAM), builds ROM and
   * DTB and resets. Throws ElfError with a readable message for a bad ELF.
   */
  loadKernel(bytes: Uint8Array): void {
    this.kernel = bytes;
    this.board.load(bytes);
    this.reset(false);
  }

  /** Resets the hart and devices to power-on and places the DTB; `reloadKernel` re-copies the image. */
  reset(reloadKernel = true): void {
    if (reloadKernel && this.kernel) {
      this.loadKernel(this.kernel);
      return;
    }
    this.stepsBeforeReset += this.clockSteps;
    this.hart.reset(MEMORY_MAP.bootRom.base);
    this.board.resetDevices();
    // No ROM and no firmware run: the hart starts as OpenSBI leaves it for the kernel.
    this.sbi?.boot(this.board.entry, this.board.fdtAddress);
    this.exitCode = undefined;
    this.idleSteps = 0;
    this.stopRequested = false;
    this.resetRequested = false;
  }

  /**
   * Makes every completed guest write durable in the disks' host files (on stop and close; the
   * guest's own FLUSH requests do it as they come). Returns the first error's message, if any.
   */
  flushDisks(): string | undefined {
    let first: string | undefined;
    for (const d of this.board.disks) {
      const err = d.flush();
      if (err !== undefined && first === undefined) first = err.message;
    }
    return first;
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
   * Steps executed since the machine was made, across its resets (clockSteps starts again at each,
   * a reboot the guest asks for included): a count that only grows, for budgets of steps.
   */
  get elapsedSteps(): number {
    return this.stepsBeforeReset + this.clockSteps;
  }

  /** Steps from now until the next timer deadline, or Infinity when none is armed. */
  stepsUntilDeadline(): number {
    const deadline = this.clint.nextDeadline();
    if (!Number.isFinite(deadline) || this.options.timeMode === 'realtime') return Infinity;
    return Math.max(0, Math.ceil(deadline * this.stepsPerTick - this.clockSteps));
  }

  /**
   * Runs at most `budget` steps (retired instructions plus traps taken). Returns why it stopped.
   * With `whilePriv`, it also returns (BUDGET) once the hart has left that privilege level (hw mode
   * interprets only a guest's virtual M-mode).
   */
  run(budget: number, whilePriv?: number): StopReason {
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
      this.board.htif?.poll();
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
      if (whilePriv !== undefined && h.priv !== whilePriv) return StopReason.BUDGET;
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

  /**
   * In WFI: advances time to the next timer deadline, at most `remaining` steps; returns the steps
   * skipped (0 when no deadline is armed, so only input can wake the guest). The bare run loop and
   * the VMM's trap-mode loop both sleep through this one rule.
   */
  skipIdle(remaining: number): number {
    if (this.options.timeMode === 'realtime') return 0;
    const deadline = this.clint.nextDeadline();
    if (!Number.isFinite(deadline)) return 0;
    const skip = Math.max(1, Math.min(remaining, Math.ceil(deadline * this.stepsPerTick - this.clockSteps)));
    this.idleSteps += skip;
    return skip;
  }
}
