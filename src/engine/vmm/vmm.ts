// The VMM: one physical machine (a hart over host RAM), a frame allocator over that RAM, and the
// VMs it hosts, scheduled round robin in quanta of steps. In emulate mode a VM's own virtual hart
// interprets its guest; in trap mode the guest runs on the physical hart, deprivileged, and every
// trap comes back to the VM's TrapVcpu. Each VM has its own clock (its own steps), so timing and
// output of a guest do not depend on what else runs.

import { Hart } from '../cpu/hart';
import { execute } from '../cpu/interp';
import { Bus } from '../machine/bus';
import { StopReason } from '../machine/machine';
import { MEMORY_MAP } from '../machine/memory-map';
import { FrameAllocator } from './frames';
import { TrapVcpu } from './trap';
import { Vm, type VmConfig } from './vm';

/** How the VMM is built. */
export interface VmmOptions {
  /** Host RAM in bytes (default 1 GiB; pages are committed only when used). */
  hostRamSize?: number;
  /** Steps a VM runs before the next one gets the hart (default 100,000). */
  quantum?: number;
  /** Seed of the scattered placement. */
  seed?: number;
  /** Translate hot guest code on the physical hart (trap mode). Default true. */
  jit?: boolean;
}

/**
 * Memory references of a software two-stage walk in emulate mode: two guest levels, each guest PTE
 * address and the final address translated through the two-level pmap (privileged spec §8.5).
 */
export const WALK_REFERENCES_PER_MISS = 2 + 3 * 2;

/** Default host RAM. */
export const DEFAULT_HOST_RAM = 1024 * 1024 * 1024;

/** The hypervisor. */
export class Vmm {
  readonly host: Bus;
  /** The physical hart trap-mode guests run on. */
  readonly hart: Hart;
  readonly frames: FrameAllocator;
  readonly vms: Vm[] = [];
  readonly quantum: number;
  private readonly vcpus = new Map<Vm, TrapVcpu>();
  /** Device accesses each emulate-mode VM's boot ROM made (its fetches and loads), left out of its statistics. */
  private readonly romAccesses = new Map<Vm, number>();
  private nextId = 2;
  private loaded: Vm | undefined;
  private turn = 0;

  constructor(options: VmmOptions = {}) {
    const size = options.hostRamSize ?? DEFAULT_HOST_RAM;
    this.host = new Bus(MEMORY_MAP.ram.base, size);
    this.hart = new Hart(this.host, { pmp: false, jit: options.jit ?? true });
    this.frames = new FrameAllocator(MEMORY_MAP.ram.base, size / 4096, options.seed ?? 1);
    this.quantum = options.quantum ?? 100_000;
  }

  /** Creates a VM and boots its kernel (it starts running at the next `run`). */
  createVm(config: VmConfig): Vm {
    if (this.vms.some((v) => v.name === config.name)) throw new Error(`a VM named '${config.name}' exists already`);
    const id = this.nextId++;
    let vm: Vm;
    try {
      vm = new Vm(id, config, this.host, this.frames);
    } catch (err) {
      // A bad kernel or full host RAM: give back the guest frames taken so far.
      this.frames.freeAll(id);
      throw err;
    }
    this.vms.push(vm);
    if (vm.mode === 'trap') {
      const vcpu = new TrapVcpu(vm, this);
      this.vcpus.set(vm, vcpu);
      // A disk's DMA lands in the VM's frames behind the physical hart's back: drop translated code
      // there, and shadows when it rewrites one of the guest's page-table pages.
      const code = this.hart.code;
      vm.machine.board.dma.onWrite = (gpa, off, length) => {
        if (code !== undefined && code.codeChunks[off >>> 12] !== 0) code.invalidatePage(off);
        vcpu.dmaWritten(gpa, length);
      };
    }
    return vm;
  }

  /** The trap-mode vCPU of a VM (its shadows, for inspectors and tests). */
  trapVcpu(vm: Vm): TrapVcpu | undefined {
    return this.vcpus.get(vm);
  }

  /** Reboots a VM: fresh kernel image, empty shadows. */
  resetVm(vm: Vm): void {
    if (this.loaded === vm) this.unload();
    vm.reset();
    // The image was written into the VM's frames behind the physical hart's back.
    this.releaseCode(vm);
    this.vcpus.get(vm)?.shadows.destroy();
    // The shadow's frames go back to the allocator, and a later shadow root may land on the same
    // frame (the same satp, so writeSatp keeps the TLB): no entry derived from this one may survive.
    this.hart.tlb.flushAll();
  }

  /**
   * The user's reset: reboots the VM and starts its statistics afresh (a reboot the guest asks for
   * itself keeps counting, as the machine kept running).
   */
  restartVm(vm: Vm): void {
    this.resetVm(vm);
    // The translator's heat table is indexed by code address, not by VM: left warm, it would
    // translate the rebooted guest's blocks at other moments than its first boot, and the TLB hits
    // counted would differ. Starting cold costs the other VMs a retranslation of their hot blocks.
    this.hart.code?.flush();
    this.hart.tlb.flushAll();
    vm.resetStats();
    this.romAccesses.delete(vm);
  }

  /** Drops the physical hart's translated code in every frame of a VM. */
  private releaseCode(vm: Vm): void {
    const code = this.hart.code;
    if (code === undefined) return;
    for (const { hpa } of vm.pmap.entries()) code.releasePage(hpa - this.host.ramBase);
  }

  /** Removes a VM for good: its guest frames, shadows and pmap tables go back to the allocator. */
  removeVm(vm: Vm): void {
    const i = this.vms.indexOf(vm);
    if (i < 0) return;
    if (this.loaded === vm) this.unload();
    vm.stop();
    this.vcpus.get(vm)?.shadows.destroy();
    this.vcpus.delete(vm);
    this.vms.splice(i, 1);
    this.turn = this.vms.length === 0 ? 0 : this.turn % this.vms.length;
    // The frames go to the next VM: no block translated from this VM's code may run there.
    this.releaseCode(vm);
    // Its shadow roots and frames go to the next VM, whose root may have the same satp: drop every
    // cached translation (the fetch fast path reads the TLB's entries without a walk).
    this.hart.tlb.flushAll();
    this.frames.freeAll(vm.id);
    vm.pmap.release();
    this.romAccesses.delete(vm);
  }

  /** Whether any VM can still make progress. */
  get active(): boolean {
    return this.vms.some((v) => v.runnable);
  }

  /**
   * Runs the VMs round robin for at most `budget` steps in total; returns the steps used. Stops early
   * when no VM is runnable (all halted, crashed, paused, stopped or waiting for input).
   */
  run(budget: number): number {
    let used = 0;
    let idleRounds = 0;
    while (used < budget && this.active) {
      const vm = this.pick();
      const steps = this.runVm(vm, Math.min(this.quantum, budget - used));
      used += steps;
      idleRounds = steps === 0 ? idleRounds + 1 : 0;
      if (idleRounds > this.vms.length * 2) break;
    }
    return used;
  }

  /**
   * Sets a VM's breakpoints (guest-virtual pcs): the VM pauses in front of one, with `atBreakpoint`
   * set, while the others run on. An emulate-mode VM's virtual hart checks them as a bare hart does;
   * a trap-mode VM's are the physical hart's while that VM holds it.
   */
  setBreakpoints(vm: Vm, addresses: Iterable<number>): void {
    vm.breakpoints.clear();
    for (const a of addresses) vm.breakpoints.add(a >>> 0);
    if (vm.mode === 'emulate') copySet(vm.breakpoints, vm.vhart.breakpoints);
    else if (this.loaded === vm) copySet(vm.breakpoints, this.hart.breakpoints);
  }

  /** Runs one VM alone for up to `budget` steps (stepping a VM in the debugger). */
  runVm(vm: Vm, budget: number): number {
    if (!vm.runnable) return 0;
    const t0 = Date.now();
    const used = vm.mode === 'emulate' ? this.runEmulated(vm, budget) : this.runTrapped(vm, budget);
    vm.stats.wallMs += Date.now() - t0;
    return used;
  }

  private pick(): Vm {
    for (let i = 0; i < this.vms.length; i++) {
      const vm = this.vms[(this.turn + i) % this.vms.length];
      if (vm.runnable) {
        this.turn = (this.turn + i + 1) % this.vms.length;
        return vm;
      }
    }
    return this.vms[0];
  }

  private runEmulated(vm: Vm, budget: number): number {
    const m = vm.machine;
    const before = m.clockSteps;
    const retiredBefore = m.hart.instret;
    // The boot ROM (the reset vector) is the machine's boot, not the guest: as trap mode runs it
    // outside the statistics (TrapVcpu.bootThroughRom), its fetches and loads are no device accesses.
    let reason: StopReason = StopReason.BUDGET;
    let rom = this.romAccesses.get(vm) ?? 0;
    while (reason === StopReason.BUDGET && m.clockSteps - before < budget && inBootRom(m.hart.pcU)) {
      const accesses = vm.bus.deviceAccesses;
      reason = m.run(1);
      rom += vm.bus.deviceAccesses - accesses;
    }
    this.romAccesses.set(vm, rom);
    const left = budget - (m.clockSteps - before);
    // Machine.run passes a breakpoint at the pc it starts from; only a resume may do that.
    if (reason === StopReason.BUDGET && left > 0 && m.hart.breakpoints.has(m.hart.pcU) && m.hart.pcU !== vm.resumePc) reason = StopReason.BREAKPOINT;
    if (reason === StopReason.BUDGET && left > 0) reason = m.run(left);
    if (m.clockSteps !== before) vm.resumePc = -1;
    const used = m.clockSteps - before;
    vm.stats.retired[m.hart.priv] += m.hart.instret - retiredBefore;
    vm.stats.emulate('interpreted', m.hart.instret - retiredBefore);
    vm.stats.tlbHits = m.hart.tlb.hits;
    vm.stats.tlbMisses = m.hart.tlb.misses;
    vm.stats.walkReferences = m.hart.tlb.misses * WALK_REFERENCES_PER_MISS;
    vm.stats.deviceAccesses = vm.bus.deviceAccesses - rom;
    this.settle(vm, reason, used, m.hart.instret - retiredBefore);
    return used;
  }

  private runTrapped(vm: Vm, budget: number): number {
    const vcpu = this.vcpus.get(vm)!;
    const m = vm.machine;
    const vh = m.hart;
    const p = this.hart;
    // Counted before the switch: loading a VM that has not booted runs its boot ROM on the virtual hart.
    const before = m.clockSteps;
    const retiredBefore = vh.instret;
    if (this.loaded !== vm) {
      this.unload();
      vcpu.switchIn();
      this.loaded = vm;
      copySet(vm.breakpoints, p.breakpoints);
    }
    const hitsBefore = p.tlb.hits;
    const missesBefore = p.tlb.misses;
    let reason: StopReason = StopReason.BUDGET;
    let remaining = budget - (m.clockSteps - before);
    while (remaining > 0 && vm.runnable) {
      if (m.exitCode !== undefined) {
        reason = StopReason.EXIT;
        break;
      }
      m.clint.update();
      m.board.htif?.poll();
      if (vh.waiting) {
        if (vh.wakeupPending()) {
          vh.waiting = false;
        } else {
          const idle = m.skipIdle(remaining);
          if (idle === 0) {
            reason = StopReason.IDLE;
            break;
          }
          remaining -= idle;
          continue;
        }
      }
      vcpu.injectInterrupts();
      const slice = Math.max(1, Math.min(remaining, m.stepsUntilDeadline()));
      p.sliceDone = 0;
      p.sliceSteps = 0;
      p.bpSkip = vm.resumePc;
      execute(p, slice);
      if (p.sliceDone > 0) vm.resumePc = -1;
      vcpu.syncClock();
      // The guest's clock advances by what it executed; the physical counters keep the total.
      vh.instret += p.sliceDone;
      vh.steps += p.sliceSteps - vcpu.hiddenSteps;
      vcpu.hiddenSteps = 0;
      vh.sliceDone = 0;
      vh.sliceSteps = 0;
      p.instret += p.sliceDone;
      p.steps += p.sliceSteps;
      remaining -= Math.max(1, p.sliceSteps);
      p.sliceDone = 0;
      p.sliceSteps = 0;
      if (p.atBreakpoint) {
        reason = StopReason.BREAKPOINT;
        break;
      }
    }
    const used = m.clockSteps - before;
    vcpu.account();
    vm.stats.tlbHits += p.tlb.hits - hitsBefore;
    vm.stats.hartTlbMisses += p.tlb.misses - missesBefore;
    this.settle(vm, reason, used, vh.instret - retiredBefore);
    return used;
  }

  /**
   * Saves the loaded trap-mode VM's registers back into its virtual hart. Inspectors call it between
   * runs so that every VM's state is in its virtual hart; the next run loads the VM again.
   */
  unload(): void {
    if (this.loaded !== undefined) this.vcpus.get(this.loaded)?.switchOut();
    this.loaded = undefined;
    this.hart.breakpoints.clear();
  }

  /** Updates a VM's state after it ran: halted, waiting, or crashed on a storm of traps. */
  private settle(vm: Vm, reason: StopReason, used: number, retired: number): void {
    if (vm.machine.exitCode !== undefined && vm.state === 'running') vm.state = 'halted';
    else if (reason === StopReason.IDLE && vm.state === 'running') vm.state = 'waiting';
    else if (reason === StopReason.RESET) this.resetVm(vm);
    else if (reason === StopReason.BREAKPOINT && vm.state === 'running') {
      vm.state = 'paused';
      vm.atBreakpoint = true;
    }
    if (vm.state === 'running' && retired === 0 && used >= 10_000 && !vm.vhart.waiting) {
      vm.crash(`no instruction completed in ${used} steps: the guest is stuck in a loop of traps at pc 0x${vm.vhart.pcU.toString(16)}`);
    }
    if (vm.state !== 'running' && this.loaded === vm) this.unload();
  }
}

/** Makes `to` hold exactly the addresses of `from`. */
function copySet(from: ReadonlySet<number>, to: Set<number>): void {
  to.clear();
  for (const a of from) to.add(a);
}

/** Whether `pc` lies in the boot ROM. */
function inBootRom(pc: number): boolean {
  return pc >= MEMORY_MAP.bootRom.base && pc < MEMORY_MAP.bootRom.base + MEMORY_MAP.bootRom.size;
}
