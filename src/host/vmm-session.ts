// The one VMM of the lab (docs/vmm.md): one physical machine, one host RAM, every VM in emulate or
// trap mode, scheduled round robin in time-boxed slices. Per-VM commands (run, pause, step, reset,
// stop, input) act on one VM while the others keep running; inspection reads a VM's virtual hart
// and its memory in three address spaces. Transport-free so tests can drive it directly;
// machine-worker.ts binds it to a worker_thread port.

import { readCsrs, translateDebug } from '../engine/machine/inspect';
import { Access } from '../engine/mmu/walk';
import { FrameTaken } from '../engine/vmm/frames';
import { modeledCycles, type VmStats } from '../engine/vmm/stats';
import type { Vm, VmConfig } from '../engine/vmm/vm';
import { Vmm, type VmmOptions } from '../engine/vmm/vmm';
import type {
  AddressLocation, AddressSpace, AttachedDiskInfo, CpuOptions, DisasmLine, MachineState, MemoryBlock, RegisterSnapshot,
  SectorBlock, TranslationInfo, VmPlacement, VmState, VmStatsInfo,
} from '../shared/lab-api';
import { callReturnAddress, disassembleBlock } from './disasm-lines';
import { SLICE_MS, TICK_MS, MAX_READ } from './machine-session';
import { locateVm, readVmMemory, reversePmap, writeVmMemory, type InspectedVm } from './vm-memory';
import { inspectVm, type InspectReplies, type InspectRequest } from './vm-inspect';
import { attachments, closeDisks, describeDisks, openVmDisks, readSector, type DiskOpenSpec, type OpenedDisk } from './vm-disks';
import type { VmmMode, VmWorkerStatus } from './vmm-protocol';
import type { SnapshotEntry } from '../shared/snapshot-api';
import { haltedText } from '../shared/state-words';
import type { Snapshot } from './snapshot-file';
import { restoreVm, saveVmSnapshot, type SnapshotTarget } from './snapshot-state';
import { AppGdb } from './gdb/app-gdb';
import { vmDebugTarget } from './gdb/debug-target';
import { VmHistory } from './vm-history';
import type { BootImages } from './worker-protocol';
import type { MigrationEvent, MigrationFiguresInfo, MigrationPlace } from '../shared/migration-api';
import { decodeSnapshot } from './snapshot-file';
import { Peer } from './migration/peer';
import { Exit, frame, MessageType, parseJson } from './migration/protocol';
import { migrateOut, type MigrationOptions } from './migration/source';
import { AppMigratingGuest, migrationProblem } from './vm-migration';

/** Host RAM of the lab's VMM (committed only where VMs use it). */
export const LAB_HOST_RAM = 1024 * 1024 * 1024;

/**
 * Output a moved VM's host sends comes back to the VM's console at most this often (ms), gathered.
 * A host sends it as it runs (a frame per run chunk, often a line): one console event per frame
 * came to thousands per second, more than a page can take under load, and the replies to its
 * requests waited behind them on the same connection for seconds.
 */
export const RELAY_FLUSH_MS = 50;

/** Callbacks of the VMM session, per VM key. */
export interface VmmSink {
  uart(key: string, data: Uint8Array): void;
  status(key: string, status: VmWorkerStatus): void;
  /** A migration's progress (the key is the event's id). */
  migration?(key: string, event: MigrationEvent): void;
}

/** One VM with its console buffer and progress counters. */
class Slot implements InspectedVm {
  out: number[] = [];
  reported: VmState;
  tickInstret = 0;
  /** When the interval that tickInstret began started (the session's clock, ms). */
  tickAt = 0;
  mips = 0;
  /** The VM's open disk images, in slot order, and what it was created from (to rebuild it with other disks). */
  disks: OpenedDisk[] = [];
  made: Omit<VmConfig, 'disks' | 'onUart'> | undefined;
  /** The debugger's breakpoints, and the temporary one of run-to and step over. */
  breakpoints = new Set<number>();
  temp: number | undefined;
  /** Why the VM last paused, for the status bar ('breakpoint', 'reached', 'step', 'paused', 'held by gdb'). */
  pausedFor = 'paused';
  /** The VM's gdb stub, when its switch is on. */
  gdb: AppGdb | undefined;
  /** Checkpoints and console input on the VM's clock, for reverse step and reverse continue. */
  history: VmHistory;
  /** Where the VM is moving or moved to; the migration under way; the connection its console comes back on. */
  migration: MigrationPlace | undefined;
  moving: AppMigratingGuest | undefined;
  peer: Peer | undefined;
  /** The pending flush of output relayed from the host the VM moved to (RELAY_FLUSH_MS). */
  relayTimer: ReturnType<typeof setTimeout> | undefined;
  constructor(readonly key: string, readonly vmm: Vmm, readonly vm: Vm, readonly frames: Map<number, number>) {
    this.reported = vm.state;
    this.history = new VmHistory(vmm, vm);
  }

  /** A byte of console output; what the VM repeats while it replays its past was shown already. */
  uart(byte: number): void {
    if (!this.history.timeline.quiet) this.out.push(byte);
  }
}

const MACHINE_STATE: Record<VmState, MachineState> = {
  running: 'running', paused: 'paused', waiting: 'idle', halted: 'exited', crashed: 'error', stopped: 'exited',
};

/** The VMM and its VMs under the debugger's control. */
export class VmmSession {
  readonly vmm: Vmm;
  private readonly slots = new Map<string, Slot>();
  private budget = 1 << 16;
  private scheduled = false;

  constructor(private readonly sink: VmmSink, private readonly now: () => number, private readonly defer: (fn: () => void) => void, options: VmmOptions = {}) {
    this.vmm = new Vmm({ hostRamSize: LAB_HOST_RAM, ...options });
  }

  private slot(key: string): Slot {
    const s = this.slots.get(key);
    if (!s) throw new Error(`no VM '${key}'`);
    return s;
  }

  /** Creates a VM, paused before its first instruction (throws ElfError for a bad kernel, Error for a disk). */
  create(key: string, name: string, mode: VmmMode, memSize: number, placement: VmPlacement, kernel: Uint8Array, cpu: CpuOptions | undefined, disks: readonly DiskOpenSpec[] = [], boot: BootImages = {}): VmWorkerStatus {
    if (this.slots.has(key)) throw new Error(`a VM '${key}' exists already`);
    const opened = openVmDisks(disks, [], this.disksBesides(key));
    try {
      return this.report(this.build(key, { name, mode, memSize, placement, kernel, cpu, ...boot }, opened));
    } catch (err) {
      closeDisks(opened);
      throw this.namedHolder(err);
    }
  }

  /**
   * Writes a VM's whole state to a snapshot file, between two run slices (a running VM runs on).
   * Its disks are flushed first so the digests the file records hold.
   */
  saveSnapshot(key: string, target: SnapshotTarget): SnapshotEntry {
    const s = this.slot(key);
    this.notMoving(s, 'save a snapshot of');
    const made = s.made!;
    const built = { kernel: made.kernel, ramSize: s.vm.memSize, cpu: made.cpu, boot: { firmware: made.firmware, initrd: made.initrd, bootargs: made.bootargs, sbi: made.sbi } };
    return saveVmSnapshot(this.vmm, s.vm, built, s.disks, target);
  }

  /**
   * Creates a VM from a snapshot's configuration (in `mode`) and lays the snapshot's state over
   * it: paused where the snapshot was taken. A snapshot that does not fit leaves no VM behind.
   */
  restore(key: string, name: string, mode: VmmMode, placement: VmPlacement, snapshot: Snapshot, cpu: CpuOptions | undefined, disks: readonly DiskOpenSpec[], boot: BootImages): VmWorkerStatus {
    this.create(key, name, mode, snapshot.header.config.ramSize, placement, snapshot.kernel, cpu, disks, boot);
    const s = this.slot(key);
    try {
      restoreVm(this.vmm, s.vm, snapshot);
    } catch (err) {
      this.destroy(key);
      throw err;
    }
    // A snapshot of a running guest restores paused; one of a guest that ended keeps its end.
    if (s.vm.state === 'running' || s.vm.state === 'waiting') s.vm.pause();
    s.history = new VmHistory(this.vmm, s.vm);
    s.pausedFor = 'restored';
    return this.report(s);
  }

  /** A frame another VM holds, named by that VM: the user can remove it, or pick another frame. */
  private namedHolder(err: unknown): unknown {
    if (!(err instanceof FrameTaken)) return err;
    const holder = this.vmm.vms.find((v) => v.id === err.owner);
    if (holder === undefined) return err;
    return new Error(`placement: host frame 0x${err.frame.toString(16)} is already in use by VM ${holder.name}: remove that VM or choose another frame`);
  }

  private build(key: string, made: Omit<VmConfig, 'disks' | 'onUart'>, disks: OpenedDisk[]): Slot {
    const holder: { slot?: Slot } = {};
    const vm = this.vmm.createVm({ ...made, disks: attachments(disks), onUart: (b) => holder.slot?.uart(b) });
    vm.pause();
    const slot = new Slot(key, this.vmm, vm, reversePmap(vm));
    slot.disks = disks;
    slot.made = made;
    holder.slot = slot;
    this.slots.set(key, slot);
    return slot;
  }

  /** The open disks of every VM but `key`, by VM name. */
  private disksBesides(key: string): Map<string, OpenedDisk[]> {
    return new Map([...this.slots.values()].filter((s) => s.key !== key).map((s) => [s.vm.name, s.disks]));
  }

  /** A VM's disks. */
  disks(key: string): AttachedDiskInfo[] {
    const s = this.slot(key);
    return describeDisks(s.vm, s.disks);
  }

  /**
   * Gives a VM another disk list. The board's devices are fixed at power-on, so the VM is rebuilt
   * from its kernel, paused at the reset vector: allowed only when that loses nothing, i.e. it is
   * stopped, halted, crashed or paused before its first instruction. Disks that stay keep their open.
   */
  setDisks(key: string, specs: readonly DiskOpenSpec[]): AttachedDiskInfo[] {
    const s = this.slot(key);
    this.notMoving(s, 'change the disks of');
    const vm = s.vm;
    const booted = vm.state === 'paused' && vm.vhart.instret !== 0;
    if (vm.state === 'running' || vm.state === 'waiting' || booted) {
      throw new Error(`VM ${vm.name} is ${booted ? 'paused after it booted' : vm.state}: stop or reset it before attaching or detaching disks`);
    }
    const next = openVmDisks(specs, s.disks, this.disksBesides(key));
    const kept = new Set(next.map((d) => d.device));
    this.vmm.removeVm(vm);
    this.slots.delete(key);
    const error = closeDisks(s.disks.filter((d) => !kept.has(d.device)));
    const rebuilt = this.build(key, s.made!, next);
    // The debugger's breakpoints belong to the VM, not to its board.
    rebuilt.breakpoints = s.breakpoints;
    this.syncBreakpoints(rebuilt);
    this.report(rebuilt);
    if (error !== undefined) throw new Error(`the VM has its new disks, but closing the old one failed: ${error}`);
    return this.disks(key);
  }

  /** One sector of a VM's disk as its guest reads it (the VM must not be running). */
  readSector(key: string, index: number, sector: number): SectorBlock {
    return readSector(this.slot(key).vm, index, sector);
  }

  /** Flushes and closes every VM's disks and powers the VMs off (before the worker ends). */
  closeAllDisks(): string | undefined {
    let first: string | undefined;
    for (const s of this.slots.values()) {
      // A VM that moved closed its disks for the host.
      if (s.migration === undefined) s.vm.stop();
      s.peer?.close();
      clearTimeout(s.relayTimer);
      s.relayTimer = undefined;
      first ??= closeDisks(s.disks);
      s.disks = [];
    }
    return first;
  }

  /** The VM's status as reported to the service. */
  status(key: string): VmWorkerStatus {
    return this.statusOf(this.slot(key));
  }

  private statusOf(s: Slot): VmWorkerStatus {
    const vm = s.vm;
    const vh = vm.vhart;
    const st: VmWorkerStatus = {
      state: MACHINE_STATE[vm.state],
      vmState: vm.state,
      pc: vh.pcU,
      priv: vh.priv,
      instret: vh.instret,
      mips: vm.state === 'running' ? s.mips : 0,
    };
    if (vm.exitCode !== undefined) st.exitCode = vm.exitCode;
    if (vm.crashReason !== undefined) st.crashReason = vm.crashReason;
    const reason = vm.state === 'paused' ? s.pausedFor : reasonOf(vm);
    if (reason !== undefined) st.reason = reason;
    if (s.migration !== undefined) {
      st.migration = s.migration;
      if (s.moving !== undefined && s.moving.runState === 'running') {
        st.state = 'running';
        st.vmState = 'running';
      } else if (s.moving === undefined) {
        st.state = 'exited';
        st.vmState = 'stopped';
      }
      st.reason = s.migration.phase === 'moving' ? `moving to ${s.migration.to}` : s.migration.end ?? `moved to ${s.migration.to}`;
    }
    if (s.gdb !== undefined) {
      st.gdb = { port: s.gdb.port, attached: s.gdb.attached };
      // gdb runs the guest itself (continue): the scheduler sees it paused, the user sees it run.
      if (s.gdb.running && vm.state === 'paused') {
        st.state = 'running';
        st.vmState = 'running';
        delete st.reason;
      }
    }
    return st;
  }

  /** Sends the VM's status to the sink and returns it. */
  private report(s: Slot): VmWorkerStatus {
    if (s.vm.state !== 'running' && s.vm.state !== s.reported) this.stopped(s);
    s.reported = s.vm.state;
    const st = this.statusOf(s);
    this.sink.status(s.key, st);
    return st;
  }

  /** Notes why a VM that ran has stopped, and drops a run-to's temporary breakpoint. */
  private stopped(s: Slot): void {
    const vm = s.vm;
    if (vm.state === 'paused' && vm.atBreakpoint) s.pausedFor = s.temp === vm.vhart.pcU ? 'reached' : 'breakpoint';
    if (s.temp !== undefined) {
      s.temp = undefined;
      this.syncBreakpoints(s);
    }
  }

  private syncBreakpoints(s: Slot): void {
    this.vmm.setBreakpoints(s.vm, s.temp === undefined ? s.breakpoints : [...s.breakpoints, s.temp]);
  }

  /** Replaces a VM's breakpoints (guest-virtual pcs). */
  setBreakpoints(key: string, addresses: readonly number[]): void {
    const s = this.slot(key);
    s.breakpoints = new Set(addresses.map((a) => a >>> 0));
    this.syncBreakpoints(s);
  }

  /** Runs a paused VM until its pc reaches `address` (its breakpoints and other stops still apply). */
  runTo(key: string, address: number): VmWorkerStatus {
    const s = this.requirePaused(key, 'run to an address');
    this.notHeld(s, 'run to an address in');
    if (s.vm.state !== 'paused') return this.statusOf(s);
    s.temp = address >>> 0;
    this.syncBreakpoints(s);
    return this.run(key);
  }

  /** Steps one instruction of a paused VM; a call (jal/jalr writing a link register) runs until it returns. */
  stepOver(key: string): VmWorkerStatus {
    const s = this.requirePaused(key, 'step');
    this.notHeld(s, 'step');
    const next = callReturnAddress(s.vm.vhart.pcU, this.readMemory(key, s.vm.vhart.pcU, 4, 'guest-virtual'));
    return next === undefined ? this.step(key, 1) : this.runTo(key, next);
  }

  private requirePaused(key: string, what: string): Slot {
    const s = this.slot(key);
    if (s.vm.state === 'running' || s.vm.state === 'waiting') throw new Error(`cannot ${what} in VM ${s.vm.name} while it runs: pause it first`);
    return s;
  }

  /** Lets a paused VM run (the others are not touched). */
  run(key: string): VmWorkerStatus {
    const s = this.slot(key);
    this.notHeld(s, 'run');
    if (s.vm.state === 'paused') {
      s.history.forward();
      s.vm.resume();
      this.startTick(s);
    }
    this.schedule();
    return this.report(s);
  }

  /** Starts a VM's MIPS interval now: it runs again after a pause, a hold by gdb or a failed move. */
  private startTick(s: Slot): void {
    s.tickInstret = s.vm.vhart.instret;
    s.tickAt = this.now();
    s.mips = 0;
  }

  /** Pauses one VM; the others run on. */
  pause(key: string): VmWorkerStatus {
    const s = this.slot(key);
    this.notHeld(s, 'pause');
    s.pausedFor = 'paused';
    s.vm.pause();
    return this.report(s);
  }

  /** Executes `count` steps of a paused VM alone. */
  step(key: string, count: number): VmWorkerStatus {
    const s = this.slot(key);
    this.notHeld(s, 'step');
    const vm = s.vm;
    if (vm.state === 'running' || vm.state === 'waiting') throw new Error(`cannot step VM ${vm.name} while it runs: pause it first`);
    if (vm.state !== 'paused') return this.statusOf(s);
    s.history.forward();
    vm.resume();
    s.reported = vm.state;
    s.pausedFor = 'step';
    try {
      // In the VM's past (after a reverse step) its console input comes back at the steps it came.
      for (let left = count; left > 0;) {
        const due = s.history.due();
        if ((vm.state as VmState) !== 'running') break;
        const used = this.vmm.runVm(vm, Math.min(left, Math.max(1, due)));
        if (used === 0) break;
        left -= used;
      }
    } finally {
      // runVm changed the state behind the compiler's narrowing.
      const after = vm.state as VmState;
      if (after === 'running' || after === 'waiting') vm.state = 'paused';
      this.vmm.unload();
    }
    this.flush(s);
    return this.report(s);
  }

  /** Reboots a VM from its kernel, paused at the reset vector, with fresh statistics. */
  reset(key: string): VmWorkerStatus {
    const s = this.slot(key);
    this.notHeld(s, 'reset');
    this.vmm.restartVm(s.vm);
    s.vm.pause();
    s.history = new VmHistory(this.vmm, s.vm);
    s.pausedFor = 'reset';
    s.out = [];
    return this.report(s);
  }

  /** Powers a VM off for good (it stays inspectable). */
  stop(key: string): VmWorkerStatus {
    const s = this.slot(key);
    this.notHeld(s, 'stop');
    s.vm.stop();
    return this.report(s);
  }

  /** Removes a VM and gives its frames back; its disks are flushed and closed. */
  destroy(key: string): void {
    const s = this.slot(key);
    if (s.moving !== undefined) throw new Error(`cannot remove VM ${s.vm.name}: it is moving to ${s.migration!.to}`);
    // A VM that moved runs on at the host; only its console stops coming back.
    s.peer?.close();
    s.peer = undefined;
    clearTimeout(s.relayTimer);
    s.relayTimer = undefined;
    void s.gdb?.close();
    s.gdb = undefined;
    this.vmm.removeVm(s.vm);
    this.slots.delete(key);
    const error = closeDisks(s.disks);
    if (error !== undefined) throw new Error(`VM ${s.vm.name} is removed, but ${error}`);
  }

  /** Queues console input; a VM waiting for input runs on. */
  input(key: string, data: Uint8Array): void {
    const s = this.slot(key);
    if (s.moving !== undefined) return s.moving.input(data);
    if (s.peer !== undefined) {
      s.peer.send(frame(MessageType.INPUT, data));
      return;
    }
    const waiting = s.vm.state === 'waiting';
    // On the VM's clock: typed while it stands in its past, the bytes wait for the step where the past ends.
    s.history.timeline.input(data);
    if (waiting) {
      this.report(s);
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.scheduled || !this.vmm.active) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.slice();
    });
  }

  /** Runs the VMs round robin for about SLICE_MS, then yields so requests and input get through. */
  private slice(): void {
    const t0 = this.now();
    try {
      while (true) {
        const due = this.inputDue();
        if (!this.vmm.active) break;
        const start = this.now();
        const used = this.vmm.run(Math.min(this.budget, due));
        const took = this.now() - start;
        if (used >= this.budget) {
          if (took < SLICE_MS / 8 && this.budget < 1 << 22) this.budget *= 2;
          else if (took > SLICE_MS / 2 && this.budget > 1024) this.budget >>= 1;
        }
        if (this.now() - t0 >= SLICE_MS) break;
      }
    } catch (err) {
      // An engine failure is the VMM's, not one guest's: every running VM stops with the reason.
      for (const s of this.slots.values()) if (s.vm.runnable) s.vm.crash(`engine failure: ${err instanceof Error ? err.message : String(err)}`);
    }
    // Between slices every VM's registers live in its virtual hart, where inspectors read them.
    this.vmm.unload();
    const t = this.now();
    for (const s of this.slots.values()) {
      if (s.vm.state === 'running' || s.vm.state === 'waiting') s.history.forward();
      this.flush(s);
      // Each VM's interval starts when it was last run or measured, not when the session last
      // measured any VM: a VM started after the VMM sat idle got that idle time in its first figure.
      if (s.vm.state === 'running' && t - s.tickAt >= TICK_MS) {
        s.mips = (s.vm.vhart.instret - s.tickInstret) / ((t - s.tickAt) * 1000);
        s.tickInstret = s.vm.vhart.instret;
        s.tickAt = t;
        this.report(s);
      } else if (s.vm.state !== s.reported) {
        this.report(s);
      }
    }
    this.schedule();
  }

  /**
   * Delivers the console input due now to each VM that runs or waits; returns the steps until the
   * next is due or a VM's past ends (at least 1), so that no VM runs past either within a slice.
   */
  private inputDue(): number {
    let limit = Infinity;
    for (const s of this.slots.values()) if (s.vm.state === 'running' || s.vm.state === 'waiting') limit = Math.min(limit, s.history.due());
    return Math.max(1, limit);
  }

  /**
   * Goes back one step of a paused VM (docs/replay.md): it is rewound to its last checkpoint before
   * and replayed alone to the step before; the other VMs are not touched.
   */
  reverseStep(key: string): VmWorkerStatus {
    const s = this.reversible(key, 'step back');
    const back = s.history.stepBack();
    return this.afterReverse(s, back ? 'reverse step' : 'start of history');
  }

  /** Goes back to the VM's previous pass through one of its breakpoints, or to the start of its history. */
  reverseContinue(key: string): VmWorkerStatus {
    const s = this.reversible(key, 'continue back');
    s.temp = undefined;
    const hit = s.history.continueBack(s.breakpoints);
    this.syncBreakpoints(s);
    return this.afterReverse(s, hit ? 'breakpoint' : 'start of history');
  }

  private reversible(key: string, what: string): Slot {
    const s = this.requirePaused(key, what);
    this.notHeld(s, what);
    return s;
  }

  /** A reverse request left the VM where it went back to: paused there, its past output not shown again. */
  private afterReverse(s: Slot, why: string): VmWorkerStatus {
    const after = s.vm.state as VmState;
    if (after === 'running' || after === 'waiting') s.vm.pause();
    this.vmm.unload();
    s.pausedFor = s.vm.state === 'paused' ? why : s.pausedFor;
    this.flush(s);
    s.reported = s.vm.state;
    return this.report(s);
  }

  private flush(s: Slot): void {
    if (s.out.length === 0) return;
    this.sink.uart(s.key, Uint8Array.from(s.out));
    s.out = [];
  }

  /**
   * Turns a VM's gdb stub on (on 127.0.0.1:`port`, 0 for a free one) or off. While a debugger is
   * attached it holds the VM: the VM is paused in the scheduler, gdb's continue and step run it,
   * and the app's own run and step commands are refused until gdb detaches.
   */
  async gdb(key: string, enabled: boolean, port: number): Promise<VmWorkerStatus> {
    const s = this.slot(key);
    if (enabled) this.notMoving(s, 'debug');
    if (!enabled) {
      const g = s.gdb;
      s.gdb = undefined;
      await g?.close();
      this.syncBreakpoints(s);
      return this.report(s);
    }
    if (s.gdb !== undefined) return this.report(s);
    s.gdb = await AppGdb.start(vmDebugTarget(this.vmm, s.vm), port, {
      attached: (on) => {
        // gdb may write registers and memory or rewind the VM itself: the app's history starts anew.
        s.history.changed();
        if (on) {
          if (s.vm.state === 'running' || s.vm.state === 'waiting') s.vm.pause();
          s.pausedFor = 'held by gdb';
        } else {
          // gdb's breakpoints go with it; the app's come back. Detach lets the guest run on, as QEMU's.
          this.syncBreakpoints(s);
          if (s.vm.state === 'paused' && s.pausedFor === 'held by gdb') {
            s.pausedFor = 'paused';
            s.vm.resume();
            this.startTick(s);
            this.schedule();
          }
        }
        this.flush(s);
        s.reported = s.vm.state;
        this.report(s);
      },
      changed: () => {
        const after = s.vm.state as VmState;
        if (after === 'running' || after === 'waiting') s.vm.pause();
        this.vmm.unload();
        if (s.vm.state === 'paused') s.pausedFor = 'held by gdb';
        this.flush(s);
        s.reported = s.vm.state;
        this.report(s);
      },
      killed: () => {
        s.vm.stop();
        const g = s.gdb;
        s.gdb = undefined;
        void g?.close();
        this.syncBreakpoints(s);
        this.flush(s);
        this.report(s);
      },
    });
    return this.report(s);
  }

  /** Refuses the app's own run and step commands while gdb holds the VM, or while it moves or after it moved. */
  private notHeld(s: Slot, what: string): void {
    this.notMoving(s, what);
    if (s.gdb?.attached) throw new Error(`cannot ${what} VM ${s.vm.name}: gdb is attached to it (port ${s.gdb.port}); continue, step or detach in gdb, or turn its gdb switch off`);
  }

  private notMoving(s: Slot, what: string): void {
    const m = s.migration;
    if (m === undefined) return;
    if (m.phase === 'moving') throw new Error(`cannot ${what} VM ${s.vm.name}: it is moving to ${m.to}`);
    throw new Error(`cannot ${what} VM ${s.vm.name}: it moved to ${m.to} and runs there`);
  }

  /**
   * Moves a running VM to the `vmlab host` on 127.0.0.1:`opts.port` (docs/migration.md, "In the
   * app"); each round goes to the sink as it ends. Once the host runs it, the VM here is stopped
   * and shows where it went, and the host's console output comes back to its console. A failure
   * leaves it running here as it was (rebuilt from the state it sent if its disks were already
   * closed) and throws the reason in one line.
   */
  async migrate(key: string, opts: MigrationOptions): Promise<MigrationFiguresInfo> {
    const s = this.slot(key);
    const to = `127.0.0.1:${opts.port}`;
    this.notMoving(s, 'migrate');
    if (s.gdb !== undefined) throw new Error(`cannot migrate VM ${s.vm.name} while its gdb switch is on (port ${s.gdb.port}): turn it off first`);
    const problem = migrationProblem(s.vm, s.made);
    if (problem !== undefined) throw new Error(problem);
    const guest = new AppMigratingGuest(s);
    s.moving = guest;
    s.migration = { to, phase: 'moving' };
    s.vm.pause();
    this.vmm.setBreakpoints(s.vm, []);
    this.report(s);
    this.sink.migration?.(key, { id: key, kind: 'start', to, live: opts.live });
    const result = await migrateOut(guest, opts, (round) => {
      this.flush(s);
      this.sink.migration?.(key, { id: key, kind: 'round', to, round });
    });
    s.moving = undefined;
    this.flush(s);
    if (result.ok) {
      s.vm.state = 'stopped';
      s.migration = { to, phase: 'moved' };
      this.relay(s, result.peer);
      // Typed while the host restored the VM: it goes there, before anything typed later.
      for (const data of guest.held.release()) this.input(key, data);
      this.report(s);
      this.sink.migration?.(key, { id: key, kind: 'done', to, figures: result.figures });
      return result.figures;
    }
    s.migration = undefined;
    const error = `migration of VM ${s.vm.name} to ${to} failed: ${result.error}; the VM runs on here`;
    let here = s;
    if (result.disksReleased) {
      // The images were closed for the host: the VM continues from the state it sent, with them opened again.
      const snapshot = decodeSnapshot(Buffer.from(result.state!), `of VM ${s.vm.name}`);
      snapshot.ram = guest.ramCopy();
      const made = s.made!;
      this.vmm.removeVm(s.vm);
      this.slots.delete(key);
      this.restore(key, made.name, made.mode as VmmMode, (made.placement ?? 'contiguous') as VmPlacement, snapshot, made.cpu, guest.openedDisks.map((d) => d.spec),
        { firmware: made.firmware, initrd: made.initrd, bootargs: made.bootargs, sbi: made.sbi });
      here = this.slot(key);
      here.breakpoints = s.breakpoints;
      here.vm.state = guest.runState;
    } else {
      s.vm.state = guest.runState;
    }
    this.syncBreakpoints(here);
    this.startTick(here);
    // Typed after the state was taken: the VM here runs on from that state, so it gets the bytes.
    for (const data of guest.held.release()) this.input(key, data);
    this.schedule();
    this.report(here);
    this.sink.migration?.(key, { id: key, kind: 'failed', to, error, rounds: result.ok ? [] : result.rounds });
    throw new Error(error);
  }

  /** After the move: the host's console output to the VM's console, until its run there ends. */
  private relay(s: Slot, peer: Peer): void {
    s.peer = peer;
    const to = s.migration!.to;
    const flush = (): void => {
      clearTimeout(s.relayTimer);
      s.relayTimer = undefined;
      if (this.slots.get(s.key) === s) this.flush(s);
      else s.out = [];
    };
    const end = (text: string): void => {
      if (s.peer !== peer) return;
      s.peer = undefined;
      flush();
      s.migration = { to, phase: 'ended', end: text };
      if (this.slots.get(s.key) === s) this.report(s);
    };
    peer.onFrame = (f) => {
      try {
        if (f.type === MessageType.OUTPUT) {
          if (this.slots.get(s.key) !== s) return;
          for (const b of f.payload) s.out.push(b);
          s.relayTimer ??= setTimeout(flush, RELAY_FLUSH_MS);
        } else if (f.type === MessageType.EXIT) {
          const e = parseJson(f, Exit);
          end(e.end === 'exit' ? `${haltedText(e.exitCode ?? undefined)} at ${to}` : `${e.message ?? e.end} at ${to}`);
          peer.close();
        } else {
          throw new Error(`${peer.name} sent a message of type ${f.type} where console output belongs`);
        }
      } catch (err) {
        end(`${(err as Error).message}; its console no longer comes back`);
        peer.destroy();
      }
    };
    peer.onEnd = (error) => end(`${error.message}; the VM runs on there, its console no longer comes back`);
  }

  /** The virtual hart's registers and CSRs (the VM's virtual M and S state). */
  registers(key: string): RegisterSnapshot {
    const h = this.slot(key).vm.vhart;
    return { pc: h.pcU, priv: h.priv, x: Array.from(h.x, (v) => v >>> 0), csrs: readCsrs(h) };
  }

  /** Reads memory in one of the VM's three spaces. */
  readMemory(key: string, address: number, length: number, space: AddressSpace): MemoryBlock {
    if (length > MAX_READ) throw new Error(`read at most ${MAX_READ} bytes at once`);
    return readVmMemory(this.slot(key), address, length, space);
  }

  /** Writes bytes into a paused VM's RAM; returns how many landed. */
  writeMemory(key: string, address: number, data: Uint8Array, space: AddressSpace): { written: number } {
    const s = this.slot(key);
    this.notMoving(s, 'edit the memory of');
    if (s.vm.state === 'running' || s.vm.state === 'waiting') throw new Error(`cannot edit the memory of VM ${s.vm.name} while it runs: pause it first`);
    const written = writeVmMemory(s, address, data, space);
    if (written > 0) s.history.changed();
    return { written };
  }

  /** Translates a guest-virtual address through the guest's satp (to guest-physical). */
  translate(key: string, address: number): TranslationInfo {
    const t = translateDebug(this.slot(key).vm.vhart, address >>> 0, Access.LOAD);
    const info: TranslationInfo = { va: address >>> 0, fault: t.fault, paged: t.paged, steps: t.steps.map((s) => ({ ...s })) };
    return t.pa === undefined ? info : { ...info, pa: t.pa };
  }

  /** Names an address in the VM's three spaces. */
  locate(key: string, address: number, space: AddressSpace): AddressLocation {
    return locateVm(this.slot(key), address, space);
  }

  /** Disassembles `count` instructions from a guest-virtual address. */
  disassemble(key: string, address: number, count: number): DisasmLine[] {
    return disassembleBlock(this.readMemory(key, address, count * 4, 'guest-virtual'), count);
  }

  /** An inspector request (page tables, the layered walk, the TLB) on a VM. */
  inspect(key: string, request: InspectRequest): InspectReplies[InspectRequest['what']] {
    return inspectVm(this.vmm, this.slot(key).vm, request);
  }

  /** The VM's counters and modeled cycles. */
  stats(key: string): VmStatsInfo {
    const vm = this.slot(key).vm;
    return statsInfo(vm.stats, vm.mode === 'emulate');
  }
}

/** The status bar's words for a VM's state. */
function reasonOf(vm: Vm): string | undefined {
  switch (vm.state) {
    case 'paused': return 'paused';
    case 'waiting': return 'waiting for input (wfi)';
    case 'halted': return haltedText(vm.exitCode);
    case 'crashed': return vm.crashReason;
    case 'stopped': return 'stopped';
    default: return undefined;
  }
}

/** The API's copy of a VM's counters. */
export function statsInfo(stats: VmStats, interpreted: boolean): VmStatsInfo {
  const j = stats.toJSON() as Omit<VmStatsInfo, 'modeledCycles' | 'cycleBreakdown'>;
  const cycles = modeledCycles(stats, interpreted);
  return {
    instructions: j.instructions,
    retired: j.retired,
    exitCount: j.exitCount,
    exits: j.exits,
    emulated: j.emulated,
    reflected: j.reflected,
    shadow: j.shadow,
    tlb: j.tlb,
    translation: j.translation,
    hypercalls: j.hypercalls,
    pv: j.pv,
    deviceAccesses: j.deviceAccesses,
    wallMs: j.wallMs,
    modeledCycles: cycles.total,
    cycleBreakdown: cycles.breakdown,
  };
}
