// The VMM: one physical machine (a hart over host RAM), a frame allocator over that RAM, and the
// VMs it hosts, scheduled round robin in quanta of steps. Each VM runs through the vCPU of its
// technique (vcpu.ts; one folder per technique): in emulate mode a VM's own virtual hart interprets
// its guest; in trap mode the guest runs on the physical hart, deprivileged, and every trap comes
// back to the VM's TrapVcpu. Each VM has its own clock (its own steps), so timing and output of a
// guest do not depend on what else runs.

import { Hart, jitArenaBytes } from '../cpu/hart';
import { Bus } from '../machine/bus';
import { Machine, StopReason } from '../machine/machine';
import { widen } from '../cpu/warmup';
import { MEMORY_MAP } from '../machine/memory-map';
import { BtVcpu } from './bt/bt-vcpu';
import { EmulateVcpu } from './emulate/emulate-vcpu';
import { HwVcpu } from './hw/hw-vcpu';
import { FrameAllocator } from './frames';
import { PvVcpu } from './pv/pv-vcpu';
import { TrapVcpu } from './trap/trap-vcpu';
import type { Vcpu } from './vcpu';
import { Vm, type VmConfig } from './vm';
import { STUCK_STEPS, stuckReason } from './stuck';

export { WALK_REFERENCES_PER_MISS } from './emulate/emulate-vcpu';

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

/** Default host RAM. */
export const DEFAULT_HOST_RAM = 1024 * 1024 * 1024;

export { STUCK_STEPS };

/** The hypervisor. */
export class Vmm {
  readonly host: Bus;
  /** The physical hart trap-mode guests run on. */
  readonly hart: Hart;
  readonly frames: FrameAllocator;
  readonly vms: Vm[] = [];
  readonly quantum: number;
  private readonly vcpus = new Map<Vm, Vcpu>();
  private nextId = 2;
  private loaded: Vm | undefined;
  private turn = 0;

  constructor(options: VmmOptions = {}) {
    const size = options.hostRamSize ?? DEFAULT_HOST_RAM;
    // With the WebAssembly backend the host RAM lives in its arena, so the physical harts translate
    // guest code as a bare machine does: room for two, the trap hart and the H-capable hw hart (made
    // at the first hw VM; without room it fell back to JavaScript regions). Untouched room costs no
    // memory: the host commits pages at first use.
    this.host = new Bus(MEMORY_MAP.ram.base, size, { arenaBytes: 2 * jitArenaBytes({ jit: options.jit ?? true }, size) });
    // The physical harts, like a machine's hart, come after the warm-up and are widened (warmup.ts):
    // a hart whose objects kept the classes of a hart made before the warm-up made V8 throw away
    // the compiled interpreter at the first slice of trap and bt ("wrong map"), and compile it
    // again on the machine's thread (0.15 s at every VMM's start).
    Machine.warmUp();
    this.hart = new Hart(this.host, { pmp: false, jit: options.jit ?? true });
    widen(this.hart);
    this.frames = new FrameAllocator(MEMORY_MAP.ram.base, size / 4096, options.seed ?? 1);
    this.quantum = options.quantum ?? 100_000;
    this.jit = options.jit ?? true;
  }

  private hwHartOf: Hart | undefined;
  private readonly vmidOwner = new Map<number, number>();
  private readonly jit: boolean;

  /**
   * The H-capable physical hart hw-mode guests run on (VS/VU over the VM's pmap in hgatp), made when
   * the first hw VM runs. Its TLB keeps each VM's translations apart by VMID.
   */
  get hwHart(): Hart {
    if (this.hwHartOf === undefined) {
      this.hwHartOf = new Hart(this.host, { pmp: false, h: true, jit: this.jit });
      widen(this.hwHartOf);
      this.hwHartOf.priv = 1;
    }
    return this.hwHartOf;
  }

  /** A hw VM takes VMID `vmid`: when another VM used it last, that VM's translations go. */
  claimVmid(vmid: number, vmId: number): void {
    const owner = this.vmidOwner.get(vmid);
    if (owner !== undefined && owner !== vmId) this.hwHart.tlb.flushTranslated(undefined, undefined);
    this.vmidOwner.set(vmid, vmId);
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
    const vcpu = this.createVcpu(vm);
    this.vcpus.set(vm, vcpu);
    // A disk's DMA lands in the VM's frames behind the technique's back (translated code, shadows
    // derived from a page-table page it rewrites).
    vm.machine.board.dma.onWrite = (gpa, off, length) => vcpu.dmaWritten(gpa, off, length);
    return vm;
  }

  /** The vCPU of a VM's technique. */
  private createVcpu(vm: Vm): Vcpu {
    switch (vm.mode) {
      case 'emulate':
        return new EmulateVcpu(vm);
      case 'trap':
        return new TrapVcpu(vm, this);
      case 'bt':
        return new BtVcpu(vm, this);
      case 'pv':
        return new PvVcpu(vm, this);
      case 'hw':
        return new HwVcpu(vm, this);
    }
  }

  /** A VM's vCPU. */
  vcpu(vm: Vm): Vcpu | undefined {
    return this.vcpus.get(vm);
  }

  /** The vCPU of a VM whose technique keeps shadow tables (its shadows, for inspectors and tests). */
  trapVcpu(vm: Vm): TrapVcpu | undefined {
    const vcpu = this.vcpus.get(vm);
    return vcpu instanceof TrapVcpu ? vcpu : undefined;
  }

  /** Reboots a VM: fresh kernel image, empty shadows. */
  resetVm(vm: Vm): void {
    if (this.loaded === vm) this.unload();
    vm.reset();
    // The image was written into the VM's frames behind the physical hart's back.
    this.releaseCode(vm);
    this.vcpus.get(vm)?.reset();
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
    this.vcpus.get(vm)?.restart();
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
    this.vcpus.get(vm)?.destroy();
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
    if (this.vcpus.get(vm)?.onHart !== true) copySet(vm.breakpoints, vm.vhart.breakpoints);
    else if (this.loaded === vm) copySet(vm.breakpoints, this.hart.breakpoints);
  }

  /** Runs one VM alone for up to `budget` steps (stepping a VM in the debugger). */
  runVm(vm: Vm, budget: number): number {
    if (!vm.runnable) return 0;
    const t0 = Date.now();
    const vcpu = this.vcpus.get(vm)!;
    const m = vm.machine;
    // Counted before the switch: loading a VM that has not booted runs its boot ROM on the virtual hart.
    const before = m.clockSteps;
    const retiredBefore = m.hart.instret;
    if (vcpu.onHart && this.loaded !== vm) {
      this.unload();
      vcpu.switchIn();
      this.loaded = vm;
      copySet(vm.breakpoints, this.hart.breakpoints);
    }
    const reason = vcpu.run(budget - (m.clockSteps - before));
    const used = m.clockSteps - before;
    this.settle(vm, reason, used, m.hart.instret - retiredBefore);
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

  /**
   * Saves the VM loaded on the physical hart back into its virtual hart. Inspectors call it between
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
    if (vm.state !== 'running' || vm.vhart.waiting || retired > 0) {
      vm.stuckSteps = 0;
    } else {
      vm.stuckSteps += used;
      if (vm.stuckSteps >= STUCK_STEPS) {
        vm.crash(stuckReason(vm.stuckSteps, vm.vhart.pcU));
      }
    }
    if (vm.state !== 'running' && this.loaded === vm) this.unload();
  }
}

/** Makes `to` hold exactly the addresses of `from`. */
function copySet(from: ReadonlySet<number>, to: Set<number>): void {
  to.clear();
  for (const a of from) to.add(a);
}
