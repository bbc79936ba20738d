// A virtual machine: its own guest-physical space (pmap onto its own host frames), its own virt
// board (UART, CLINT, PLIC, test finisher, ROM, device tree) and a virtual hart holding its
// architectural state. How the guest's instructions run depends on the mode: the vCPU of its technique
// (vcpu.ts; emulate/, trap/).

import type { CpuFeatures } from '../cpu/hart';
import type { DiskAttachment } from '../machine/board';
import type { Bus } from '../machine/bus';
import { Machine } from '../machine/machine';
import { MEMORY_MAP } from '../machine/memory-map';
import { type FrameAllocator, type Placement } from './frames';
import { GuestBus } from './guest-bus';
import { Pmap } from './pmap';
import { VmStats } from './stats';

/** The techniques of docs/vmm.md this VMM implements. */
export type VmMode = 'emulate' | 'trap' | 'bt' | 'pv' | 'hw';

/** The modes an unmodified kernel runs in (all but pv), in the order the compare view shows them. */
export const VM_MODES: readonly VmMode[] = ['emulate', 'trap', 'bt', 'hw'];

/** Every mode a VM can run in: those of VM_MODES and `pv`, which needs a kernel written for it. */
export const ALL_VM_MODES: readonly VmMode[] = ['emulate', 'trap', 'bt', 'pv', 'hw'];

/** Lifecycle of a VM. */
export type VmState = 'running' | 'paused' | 'waiting' | 'halted' | 'crashed' | 'stopped';

/** What a VM is made of. */
export interface VmConfig {
  name: string;
  mode: VmMode;
  /** Guest RAM in bytes (default 16 MiB). */
  memSize?: number;
  /** ELF or raw kernel image. */
  kernel: Uint8Array;
  placement?: Placement;
  cpu?: Partial<CpuFeatures>;
  onUart?: (byte: number) => void;
  /** Kernel command line for /chosen/bootargs (QEMU's -append). */
  bootargs?: string;
  /** Firmware at the start of guest RAM (QEMU's -bios FILE); it starts in virtual M-mode. */
  firmware?: Uint8Array;
  /** `--bios sbi`: the kernel starts in virtual S-mode and the VMM answers its SBI calls. */
  sbi?: boolean;
  /** Initial ramdisk (QEMU's -initrd). */
  initrd?: Uint8Array;
  /** virtio-blk disks, placed as on the bare machine (disk-slots.ts); DMA reaches only the VM's RAM. */
  disks?: readonly DiskAttachment[];
}

/** Default guest RAM size. */
export const DEFAULT_VM_MEM = 16 * 1024 * 1024;

/** One guest. */
export class Vm {
  readonly name: string;
  readonly mode: VmMode;
  readonly memSize: number;
  readonly pmap: Pmap;
  readonly bus: GuestBus;
  /** The VM's board and virtual hart (in emulate mode the hart also executes the guest). */
  readonly machine: Machine;
  /** Counted since the VM was created or last reset by the user. */
  readonly stats = new VmStats();
  state: VmState = 'running';
  /** Why the VM crashed, in words a student can act on. */
  crashReason: string | undefined;
  /**
   * Steps the guest has run, over however many scheduler slices, since it last retired an
   * instruction (not counting time waited in WFI): a guest stuck in a loop of traps is ended as
   * crashed when this reaches STUCK_STEPS, however short the slices another VM leaves it.
   */
  stuckSteps = 0;
  /** Guest-virtual pcs the VM pauses in front of (set through Vmm.setBreakpoints). */
  readonly breakpoints = new Set<number>();
  /** The pc the VM resumes from: its breakpoint is passed once, as a debugger continues. -1: none. */
  resumePc = -1;
  /** Whether the VM paused in front of a breakpoint (until it runs again). */
  atBreakpoint = false;
  private readonly kernel: Uint8Array;

  constructor(readonly id: number, config: VmConfig, host: Bus, frames: FrameAllocator) {
    this.name = config.name;
    this.mode = config.mode;
    this.memSize = config.memSize ?? DEFAULT_VM_MEM;
    if (this.memSize % 4096 !== 0 || this.memSize <= 0) throw new Error(`VM ${this.name}: memory size must be a positive multiple of 4 KiB`);
    this.kernel = config.kernel;
    if (config.mode === 'pv' && config.firmware !== undefined) throw new Error(`VM ${this.name}: a pv kernel boots with the VMM's SBI (--bios sbi), not a firmware file`);
    this.pmap = new Pmap(host, frames, MEMORY_MAP.ram.base, this.memSize);
    try {
      placeFrames(this.pmap, frames, id, config.placement ?? 'contiguous');
      this.bus = new GuestBus(host, this.pmap);
      this.machine = new Machine({
        bus: this.bus,
        cpu: { ...config.cpu, jit: false },
        onUart: config.onUart,
        bootargs: config.bootargs,
        firmware: config.firmware,
        // A pv kernel is written for the VMM's SBI: it always boots as under `--bios sbi`.
        sbi: config.sbi || config.mode === 'pv',
        initrd: config.initrd,
        disks: config.disks,
      });
      this.machine.loadKernel(this.kernel);
      const stats = this.stats;
      if (this.machine.sbi !== undefined) this.machine.sbi.onCall = (name) => { stats.hypercalls[name] = (stats.hypercalls[name] ?? 0) + 1; };
    } catch (err) {
      // Full host RAM, a bad placement or kernel: the pmap's own table frames go back (the caller
      // frees the guest frames, which belong to the VM's owner id).
      this.pmap.release();
      throw err;
    }
  }

  /** The virtual hart. */
  get vhart(): Machine['hart'] {
    return this.machine.hart;
  }

  /** The guest's exit code once it halted. */
  get exitCode(): number | undefined {
    return this.machine.exitCode;
  }

  /** Whether the scheduler should give this VM time. */
  get runnable(): boolean {
    return this.state === 'running';
  }

  /** Marks the VM crashed (the others run on). */
  crash(reason: string): void {
    if (this.state === 'crashed') return;
    this.state = 'crashed';
    this.crashReason = reason;
  }

  /** Queues console input; a VM waiting for input becomes runnable. */
  sendInput(bytes: Uint8Array): void {
    this.machine.sendInput(bytes);
    if (this.state === 'waiting') this.state = 'running';
  }

  /** Stops scheduling the VM until `resume`. */
  pause(): void {
    if (this.state === 'running' || this.state === 'waiting') this.state = 'paused';
  }

  /** Lets a paused VM run again. */
  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'running';
    this.resumePc = this.vhart.pcU;
    this.atBreakpoint = false;
  }

  /** Powers the VM off for good; its disks are flushed. */
  stop(): void {
    if (this.state !== 'crashed' && this.state !== 'halted') this.state = 'stopped';
    this.machine.flushDisks();
  }

  /**
   * Starts the statistics afresh, with the counters they are read from (the UART's device accesses,
   * an emulated hart's TLB): after a reset by the user, a run counts what the first run counted.
   */
  resetStats(): void {
    this.stats.clear();
    this.bus.deviceAccesses = 0;
    this.vhart.tlb.hits = 0;
    this.vhart.tlb.misses = 0;
  }

  /** Reboots the guest from its kernel image; the mode keeps its own state via `onReset`. */
  reset(): void {
    this.machine.reset(true);
    this.state = 'running';
    this.crashReason = undefined;
    this.stuckSteps = 0;
    this.resumePc = -1;
    this.atBreakpoint = false;
  }
}

/** Backs every guest RAM page with a host frame as `placement` says. */
function placeFrames(pmap: Pmap, frames: FrameAllocator, owner: number, placement: Placement): void {
  const pages = pmap.guestRamSize / 4096;
  const explicit = typeof placement === 'object' ? new Map(placement.explicit) : new Map<number, number>();
  const rest = typeof placement === 'object' ? placement.rest ?? 'contiguous' : placement;
  for (const [page, frame] of explicit) {
    if (page < 0 || page >= pages) throw new Error(`explicit placement names guest page 0x${page.toString(16)}, outside the VM's ${pages} pages`);
    pmap.map(pmap.guestRamBase + page * 4096, frames.take(frame, owner));
  }
  // Both placements take one run of host frames, so VMs do not fragment host RAM; scattered
  // placement maps the run's frames to guest pages in a shuffled (seeded) order.
  const needed = pages - explicit.size;
  if (needed === 0) return;
  const first = frames.allocRun(needed, owner);
  if (explicit.size === 0 && rest === 'contiguous') {
    pmap.mapRun(pmap.guestRamBase, first, needed);
    return;
  }
  const order = Array.from({ length: needed }, (_, k) => first + k);
  if (rest === 'scattered') frames.shuffle(order);
  let k = 0;
  for (let page = 0; page < pages; page++) if (!explicit.has(page)) pmap.map(pmap.guestRamBase + page * 4096, order[k++]);
}
