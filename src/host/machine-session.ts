// One machine and its debugger state, driven by commands: run in time-boxed slices, pause, step,
// step over calls, run to an address, breakpoints, inspection. Transport-free so tests can drive
// it directly; machine-worker.ts binds it to a worker_thread port.

import { Access } from '../engine/mmu/walk';
import { Machine, StopReason } from '../engine/machine/machine';
import { readCsrs, readPhysical, translateDebug, writePhysical } from '../engine/machine/inspect';
import type { AddressLocation, AddressSpace, CpuOptions, DisasmLine, MachineState, MemoryBlock, RegisterSnapshot, TranslationInfo } from '../shared/lab-api';
import { haltedText } from '../shared/state-words';
import { callReturnAddress, disassembleBlock } from './disasm-lines';
import type { BootImages, WorkerStatus } from './worker-protocol';
import { inspectMachine, type InspectReplies, type InspectRequest } from './vm-inspect';
import { DEFAULT_RAM_SIZE } from '../engine/machine/memory-map';
import { StuckWatch } from '../engine/vmm/stuck';
import type { SnapshotEntry } from '../shared/snapshot-api';
import type { Snapshot } from './snapshot-file';
import { restoreMachine, saveMachineSnapshot, type BuiltFrom, type SnapshotTarget } from './snapshot-state';
import { InputTimeline } from './replay/input-timeline';
import { Rewinder } from './replay/rewinder';
import { DEFAULT_CHECKPOINT_LIMITS } from './replay/checkpoints';
import { AppGdb } from './gdb/app-gdb';
import { machineDebugTarget } from './gdb/debug-target';

/** Steps between the app's checkpoints for reverse step and reverse continue (docs/replay.md). */
export const APP_CHECKPOINT_INTERVAL = 20_000_000;
/** How long one run slice may hold the thread before messages get a turn (ms). */
export const SLICE_MS = 10;
/** Interval of progress ticks while running (ms). */
export const TICK_MS = 250;
/** Largest memory block one request may read. */
export const MAX_READ = 1 << 20;

/** Callbacks of a session. */
export interface SessionSink {
  uart(data: Uint8Array): void;
  status(status: WorkerStatus): void;
}

/** A machine under the debugger's control. */
export class MachineSession {
  private machine: Machine | undefined;
  /** What the machine was built from, for a snapshot. */
  private built: BuiltFrom | undefined;
  /** The machine's gdb stub, when its switch is on. */
  private gdbStub: AppGdb | undefined;
  private state: MachineState = 'paused';
  private reason: string | undefined = 'not started';
  private userBreakpoints = new Set<number>();
  private tempBreakpoint: number | undefined;
  private out = new Uint8Array(4096);
  private outLen = 0;
  private budget = 1 << 16;
  private scheduled = false;
  private lastTick = 0;
  private tickInstret = 0;
  /** The rule that pauses a hart stuck in a loop of traps (`vmlab run`'s, engine/vmm/stuck.ts). */
  private stuck = new StuckWatch();
  private mips = 0;
  /** Console input on the guest's clock and checkpoints, for reverse step and reverse continue. */
  private timeline: InputTimeline | undefined;
  private rewinder: Rewinder | undefined;

  constructor(private readonly sink: SessionSink, private readonly now: () => number, private readonly defer: (fn: () => void) => void) {}

  /** Builds the machine and loads the kernel (throws ElfError for a bad one). */
  load(kernel: Uint8Array, ramSize: number | undefined, cpu: CpuOptions | undefined, boot: BootImages = {}): WorkerStatus {
    const machine = new Machine({ ramSize, cpu, onUart: (b) => this.pushUart(b), ...boot });
    machine.loadKernel(kernel);
    this.machine = machine;
    this.stuck = new StuckWatch();
    this.timeline = new InputTimeline((b) => machine.sendInput(b), () => machine.clockSteps);
    this.rewinder = new Rewinder(machineDebugTarget(machine), { ...DEFAULT_CHECKPOINT_LIMITS, interval: APP_CHECKPOINT_INTERVAL }, this.timeline);
    this.built = { kernel, ramSize: ramSize ?? DEFAULT_RAM_SIZE, cpu, boot };
    this.syncBreakpoints();
    return this.setState('paused', 'loaded');
  }

  /** Writes the machine's whole state to a snapshot file; the machine goes on as it was. */
  saveSnapshot(target: SnapshotTarget): SnapshotEntry {
    return saveMachineSnapshot(this.m, this.built!, target, this.state);
  }

  /** Builds the machine from a snapshot's configuration and continues from its state, paused. */
  restore(snapshot: Snapshot, cpu: CpuOptions | undefined, boot: BootImages): WorkerStatus {
    this.load(snapshot.kernel, snapshot.header.config.ramSize, cpu, boot);
    restoreMachine(this.m, snapshot);
    this.rewinder?.changed();
    return this.setState('paused', 'restored');
  }

  private get m(): Machine {
    if (!this.machine) throw new Error('no kernel loaded');
    return this.machine;
  }

  private pushUart(byte: number): void {
    // Output the guest repeats while it replays its past was shown already.
    if (this.timeline?.quiet) return;
    if (this.outLen === this.out.length) {
      const bigger = new Uint8Array(this.out.length * 2);
      bigger.set(this.out);
      this.out = bigger;
    }
    this.out[this.outLen++] = byte;
  }

  private flushUart(): void {
    if (this.outLen === 0) return;
    this.sink.uart(this.out.slice(0, this.outLen));
    this.outLen = 0;
    if (this.out.length > 1 << 16) this.out = new Uint8Array(4096);
  }

  /** Current status. */
  status(): WorkerStatus {
    const m = this.machine;
    const s: WorkerStatus = {
      state: this.state,
      pc: m ? m.hart.pcU : 0,
      priv: m ? m.hart.priv : 3,
      instret: m ? m.hart.instret : 0,
      mips: this.state === 'running' ? this.mips : 0,
    };
    if (m?.exitCode !== undefined) s.exitCode = m.exitCode;
    if (this.reason !== undefined) s.reason = this.reason;
    const g = this.gdbStub;
    if (g !== undefined) {
      s.gdb = { port: g.port, attached: g.attached };
      // gdb runs the machine itself (continue): the session's own scheduler has it paused.
      if (g.running && this.state === 'paused') {
        s.state = 'running';
        delete s.reason;
      }
    }
    return s;
  }

  private setState(state: MachineState, reason?: string): WorkerStatus {
    this.state = state;
    this.reason = reason;
    const s = this.status();
    this.sink.status(s);
    return s;
  }

  /**
   * Turns the machine's gdb stub on (127.0.0.1:`port`, 0 for a free one) or off. While a debugger
   * is attached it holds the machine and the session's own run and step commands are refused.
   */
  async gdb(enabled: boolean, port: number): Promise<WorkerStatus> {
    if (!enabled) {
      const g = this.gdbStub;
      this.gdbStub = undefined;
      await g?.close();
      this.syncBreakpoints();
      return this.setState(this.state, this.reason);
    }
    if (this.gdbStub !== undefined) return this.status();
    const held = 'held by gdb';
    this.gdbStub = await AppGdb.start(machineDebugTarget(this.m), port, {
      attached: (on) => {
        if (on) {
          if (this.state === 'running' || this.state === 'idle') this.clearTemp();
          if (this.state !== 'exited' && this.state !== 'error') this.state = 'paused';
          this.setState(this.state, this.state === 'paused' ? held : this.reason);
        } else {
          // gdb's breakpoints go with it; the app's come back. Detach lets the guest run on, as QEMU's.
          this.syncBreakpoints();
          if (this.state === 'paused' && this.reason === held) this.run();
          else this.setState(this.state, this.reason);
        }
      },
      changed: () => {
        this.flushUart();
        const m = this.m;
        if (m.exitCode !== undefined) this.setState('exited', haltedText(m.exitCode));
        else this.setState('paused', held);
      },
      killed: () => {
        const g = this.gdbStub;
        this.gdbStub = undefined;
        void g?.close();
        this.syncBreakpoints();
        this.flushUart();
        this.setState('paused', 'killed by gdb');
      },
    });
    return this.setState(this.state, this.reason);
  }

  /** Refuses the session's own run and step commands while gdb holds the machine. */
  private notHeld(what: string): void {
    const g = this.gdbStub;
    if (g?.attached) throw new Error(`cannot ${what} the machine: gdb is attached to it (port ${g.port}); continue, step or detach in gdb, or turn its gdb switch off`);
  }

  /** Starts or resumes running. */
  run(): WorkerStatus {
    this.notHeld('run');
    const m = this.m;
    if (this.state === 'exited' || this.state === 'error') return this.status();
    if (this.state !== 'running') {
      this.lastTick = this.now();
      this.tickInstret = m.hart.instret;
      this.mips = 0;
      this.setState('running');
    }
    this.schedule();
    return this.status();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.slice();
    });
  }

  /** Runs for about SLICE_MS, then yields (so pause, input and inspection get through). */
  private slice(): void {
    if (this.state !== 'running') return;
    const m = this.m;
    const t0 = this.now();
    let reason: StopReason = StopReason.BUDGET;
    let stuck: string | undefined;
    try {
      while (true) {
        const start = this.now();
        const budget = this.forward(this.budget);
        const from = m.clockSteps;
        const instret = m.hart.instret;
        // Runs end at the stuck rule's window edges on the guest's clock, where it judges them.
        reason = m.run(this.stuck.budget(from, budget));
        const took = this.now() - start;
        const progressed = reason !== StopReason.BUDGET || m.hart.waiting || m.hart.instret !== instret;
        stuck = this.stuck.ran(from, m.clockSteps, progressed, m.hart.pcU);
        if (stuck !== undefined) break;
        // Aim each call at about a quarter of the slice so the deadline check stays fine-grained.
        if (reason === StopReason.BUDGET) {
          if (took < SLICE_MS / 8 && this.budget < 1 << 22) this.budget *= 2;
          else if (took > SLICE_MS / 2 && this.budget > 1024) this.budget >>= 1;
        }
        if (reason !== StopReason.BUDGET && reason !== StopReason.RESET) break;
        if (this.now() - t0 >= SLICE_MS) break;
      }
    } catch (err) {
      this.flushUart();
      this.clearTemp();
      this.setState('error', `engine failure: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.flushUart();
    if (stuck !== undefined) {
      // Paused, not ended: the user inspects the trap CSRs, and may fix memory and run on.
      this.clearTemp();
      this.setState('paused', `${stuck}; ${trapCsrs(m)}`);
      return;
    }
    this.afterStop(reason);
    if (this.state === 'running') {
      const t = this.now();
      if (t - this.lastTick >= TICK_MS) {
        this.mips = (m.hart.instret - this.tickInstret) / ((t - this.lastTick) * 1000);
        this.lastTick = t;
        this.tickInstret = m.hart.instret;
        this.sink.status(this.status());
      }
      this.schedule();
    }
  }

  private afterStop(reason: StopReason): void {
    const m = this.m;
    switch (reason) {
      case StopReason.EXIT:
        this.clearTemp();
        this.setState('exited', haltedText(m.exitCode));
        break;
      case StopReason.IDLE:
        this.setState('idle', 'waiting for input (wfi)');
        break;
      case StopReason.BREAKPOINT: {
        const reached = this.tempBreakpoint === m.hart.pcU;
        this.clearTemp();
        this.setState('paused', reached ? 'reached' : 'breakpoint');
        break;
      }
      case StopReason.STOPPED:
        this.clearTemp();
        this.setState('paused', 'paused');
        break;
      default:
        break;
    }
  }

  /** Pauses a running or idle machine. */
  pause(): WorkerStatus {
    this.notHeld('pause');
    if (this.state === 'running' || this.state === 'idle') {
      this.clearTemp();
      return this.setState('paused', 'paused');
    }
    return this.status();
  }

  private requirePaused(what: string): void {
    if (this.state === 'running' || this.state === 'idle') throw new Error(`cannot ${what} while the machine runs: pause it first`);
  }

  /** Executes `count` steps (instructions or trap entries). */
  step(count: number): WorkerStatus {
    this.requirePaused('step');
    this.notHeld('step');
    const m = this.m;
    if (this.state === 'exited' || this.state === 'error') return this.status();
    let reason: StopReason = StopReason.BUDGET;
    for (let i = 0; i < count && reason === StopReason.BUDGET; i++) {
      this.forward(1);
      reason = m.step();
    }
    this.flushUart();
    if (reason === StopReason.EXIT) return this.setState('exited', haltedText(m.exitCode));
    const why = reason === StopReason.BREAKPOINT ? 'breakpoint' : reason === StopReason.IDLE ? 'waiting for input (wfi)' : 'step';
    return this.setState('paused', why);
  }

  /** Before running forward: a checkpoint when due, the input due now; returns `budget` cut at the next input. */
  private forward(budget: number): number {
    this.rewinder?.forward();
    return Math.max(1, Math.min(budget, this.timeline?.due() ?? Infinity));
  }

  /** Goes back one step (docs/replay.md): rewinds to a checkpoint and replays to the step before. */
  reverseStep(): WorkerStatus {
    this.requirePaused('step back');
    this.notHeld('step back');
    const back = this.rewinder!.stepBack();
    this.flushUart();
    return this.setState('paused', back ? 'reverse step' : 'start of history');
  }

  /** Goes back to the latest breakpoint hit before this step, or to the start of history. */
  reverseContinue(): WorkerStatus {
    this.requirePaused('continue back');
    this.notHeld('continue back');
    const m = this.m;
    this.clearTemp();
    const hit = this.rewinder!.continueBack(this.userBreakpoints, false, () => (this.userBreakpoints.has(m.hart.pcU) ? true : undefined));
    this.syncBreakpoints();
    this.flushUart();
    return this.setState('paused', hit ? 'breakpoint' : 'start of history');
  }

  /** Steps one instruction; a call (jal/jalr writing a link register) runs until it returns. */
  stepOver(): WorkerStatus {
    this.requirePaused('step');
    this.notHeld('step');
    const next = callReturnAddress(this.m.hart.pcU, this.readMemory(this.m.hart.pcU, 4, 'virtual'));
    if (next === undefined) return this.step(1);
    return this.runTo(next);
  }


  /** An inspector request (page table, walk, TLB) on the machine's hart. */
  inspect(request: InspectRequest): InspectReplies[InspectRequest['what']] {
    return inspectMachine(this.m.hart, request);
  }

  /** Runs until the pc reaches `address` (breakpoints and other stops still apply). */
  runTo(address: number): WorkerStatus {
    this.requirePaused('run to an address');
    this.notHeld('run to an address in');
    this.tempBreakpoint = address >>> 0;
    this.syncBreakpoints();
    return this.run();
  }

  /** Reloads the kernel, paused at the reset vector. */
  reset(): WorkerStatus {
    this.notHeld('reset');
    this.m.reset(true);
    this.rewinder?.changed();
    this.outLen = 0;
    this.clearTemp();
    return this.setState('paused', 'reset');
  }

  /** Queues UART input; an idle machine wakes and runs on. */
  input(data: Uint8Array): void {
    if (this.timeline === undefined) throw new Error('no kernel loaded');
    this.timeline.input(data);
    if (this.state === 'idle') {
      this.state = 'running';
      this.reason = undefined;
      this.schedule();
    }
  }

  /** Replaces the user's breakpoints. */
  setBreakpoints(addresses: number[]): void {
    this.userBreakpoints = new Set(addresses.map((a) => a >>> 0));
    this.syncBreakpoints();
  }

  private clearTemp(): void {
    if (this.tempBreakpoint === undefined) return;
    this.tempBreakpoint = undefined;
    this.syncBreakpoints();
  }

  private syncBreakpoints(): void {
    const set = this.machine?.hart.breakpoints;
    if (!set) return;
    set.clear();
    for (const a of this.userBreakpoints) set.add(a);
    if (this.tempBreakpoint !== undefined) set.add(this.tempBreakpoint);
  }

  /** Registers and CSRs. */
  registers(): RegisterSnapshot {
    const h = this.m.hart;
    return { pc: h.pcU, priv: h.priv, x: Array.from(h.x, (v) => v >>> 0), csrs: readCsrs(h) };
  }

  /** Reads memory; virtual addresses go through the current satp page by page. */
  readMemory(address: number, length: number, space: AddressSpace): MemoryBlock {
    if (length > MAX_READ) throw new Error(`read at most ${MAX_READ} bytes at once`);
    const m = this.m;
    const bytes = new Uint8Array(length);
    const valid = new Uint8Array(length);
    let i = 0;
    while (i < length) {
      const va = (address + i) >>> 0;
      const chunk = Math.min(length - i, 4096 - (va & 4095));
      const pa = space === 'physical' ? va : translateDebug(m.hart, va, Access.LOAD).pa;
      if (pa !== undefined) {
        const r = readPhysical(m.bus, pa, chunk);
        bytes.set(r.bytes, i);
        valid.set(r.valid, i);
      }
      i += chunk;
    }
    return { address: address >>> 0, bytes, valid };
  }

  /** Writes bytes into RAM while paused; returns how many landed. */
  writeMemory(address: number, data: Uint8Array, space: AddressSpace): { written: number } {
    this.requirePaused('edit memory');
    const m = this.m;
    this.rewinder?.changed();
    let written = 0;
    for (let i = 0; i < data.length; i++) {
      const va = (address + i) >>> 0;
      const pa = space === 'physical' ? va : translateDebug(m.hart, va, Access.STORE).pa;
      if (pa !== undefined) written += writePhysical(m.hart, pa, data.subarray(i, i + 1));
    }
    return { written };
  }

  /** Disassembles `count` instructions from virtual address `address`. */
  disassemble(address: number, count: number): DisasmLine[] {
    return disassembleBlock(this.readMemory(address, count * 4, 'virtual'), count);
  }

  /** Names an address in both spaces: virtual → physical through the current satp. */
  locate(address: number, space: AddressSpace): AddressLocation {
    const a = address >>> 0;
    if (space === 'physical') return { space, address: a, addresses: { physical: a } };
    const t = translateDebug(this.m.hart, a, Access.LOAD);
    if (t.pa === undefined) return { space, address: a, addresses: { virtual: a }, note: `page fault (cause ${t.fault}) in the current page table` };
    return { space, address: a, addresses: { virtual: a, physical: t.pa } };
  }

  /** Translates a virtual address through the current satp (no side effects). */
  translate(address: number): TranslationInfo {
    const t = translateDebug(this.m.hart, address >>> 0, Access.LOAD);
    const info: TranslationInfo = { va: address >>> 0, fault: t.fault, paged: t.paged, steps: t.steps.map((s) => ({ ...s })) };
    return t.pa === undefined ? info : { ...info, pa: t.pa };
  }
}

/** The trap CSRs of the mode the hart traps into: its cause, epc and tvec. */
function trapCsrs(m: Machine): string {
  const h = m.hart;
  const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;
  const [mode, cause, epc, tvec] = h.priv === 1 ? ['s', h.scause, h.sepc, h.stvec] : ['m', h.mcause, h.mepc, h.mtvec];
  return `${mode}cause ${cause}, ${mode}epc ${hex(epc)}, ${mode}tvec ${hex(tvec)}`;
}
