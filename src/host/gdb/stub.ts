// A GDB remote stub for one machine or VM (gdb manual, "Remote Protocol"), answering as QEMU 7.2's
// gdbstub does for an rv32 CPU: registers through the target description of target-xml.ts, memory in
// the guest's view, software and hardware breakpoints (both kept by the engine as breakpoint
// addresses, as QEMU keeps Z0 as an internal breakpoint: memory never holds an ebreak), write/read/
// access watchpoints, step, continue, Ctrl-C, detach and kill. Transport-free: bytes come in through
// `receive`, replies leave through `send`; gdb-server.ts puts it on a socket.
//
// Watchpoints are checked before each instruction: while one is set, a continue runs one step at a
// time and decodes the load, store or AMO about to run; when it touches a watched range, the stub
// reports the stop in front of that instruction, as a RISC-V trigger fires before the access and as
// gdb expects of this architecture (its watchpoints are "non-steppable": gdb itself steps over the
// access with the watchpoint removed, then compares the old and new values).
//
// Reverse execution (`bs`, `bc`: gdb's reverse-stepi and reverse-continue) rewinds the guest to the
// nearest in-memory checkpoint before the wanted step and replays forward, delivering the console
// input the guest had received at the same steps (replay/checkpoints.ts, replay/input-timeline.ts).
// Checkpoints are taken while the debugger runs the guest forward; a debugger write to registers or
// memory starts history afresh, since the past no longer leads to the present.

import { CSR_BY_NUM } from '../../engine/cpu/csr';
import { EXPAND_C } from '../../engine/isa/decode';
import { StopReason } from '../../engine/machine/machine';
import { Access } from '../../engine/mmu/walk';
import { translateDebug } from '../../engine/machine/inspect';
import { readVirtual, STOP_CRASHED, type DebugTarget } from './debug-target';
import {
  escapeBinary, frame, fromHex, MAX_PACKET, PacketReader, parseHex32, toHex, unescapeBinary, word32Hex,
} from './packets';
import { CSR_BASE_REGNUM, debugCsrs, PC_REGNUM, PRIV_REGNUM, targetDocument } from './target-xml';
import type { CheckpointLimits } from '../replay/checkpoints';
import type { InputTimeline } from '../replay/input-timeline';
import { Rewinder, stepOnce } from '../replay/rewinder';

/** Signal numbers gdb knows (gdb/signals.def). */
const SIGINT = 2;
const SIGTRAP = 5;
const SIGKILL = 9;
const SIGSEGV = 11;

/** Steps a continue runs before looking at the socket again (Ctrl-C is answered within one). */
const CONTINUE_CHUNK = 200_000;

type WatchKind = 'watch' | 'rwatch' | 'awatch';

interface Watchpoint {
  addr: number;
  len: number;
  kind: WatchKind;
}

/** What the stub tells its owner a run call came to. */
export type GdbRunResult = StopReason | 'killed';

/** How the stub is set up. */
export interface GdbStubOptions {
  /** Writes bytes to gdb (latin1 text). */
  send: (text: string) => void;
  /** Hold the guest before its first instruction until gdb continues it (QEMU's -S). */
  waitForDebugger?: boolean;
  /** The run's console input, replayed when reverse execution rewinds the guest. */
  timeline?: InputTimeline;
  /** Checkpoint spacing and memory bounds for reverse execution. */
  checkpoints?: CheckpointLimits;
}

/** The protocol state of one debugged target. */
export class GdbStub {
  private readonly reader = new PacketReader();
  private readonly swBreaks = new Set<number>();
  private readonly hwBreaks = new Set<number>();
  private watches: Watchpoint[] = [];
  private noAck = false;
  private multiprocess = false;
  private connected = false;
  /** The guest is held for the debugger. */
  private halted: boolean;
  private stepping = false;
  private interruptRequested = false;
  private killed = false;
  private wake: (() => void) | undefined;
  /** Checkpoints of the debugged run, for reverse execution. */
  readonly rewinder: Rewinder;

  constructor(private readonly target: DebugTarget, private readonly options: GdbStubOptions) {
    this.halted = options.waitForDebugger === true;
    this.rewinder = new Rewinder(target, options.checkpoints, options.timeline);
  }

  /** Whether a debugger is attached. */
  get attached(): boolean {
    return this.connected;
  }

  /** Whether the debugger holds the guest (stopped at its request, until it continues or steps it). */
  get held(): boolean {
    return this.halted;
  }

  /** A debugger connected: the guest stops for it, as QEMU stops the VM on a gdb connection. */
  connect(): void {
    this.connected = true;
    this.noAck = false;
    this.multiprocess = false;
    this.halted = true;
    this.stepping = false;
  }

  /** The debugger went away without detaching: forget its breakpoints and let the guest run. */
  disconnect(): void {
    this.connected = false;
    this.clearDebugState();
    this.rewinder.history.clear();
    this.halted = false;
    this.resumeWaiter();
  }

  /** Bytes from the debugger. */
  receive(bytes: Uint8Array): void {
    for (const item of this.reader.feed(bytes)) {
      if (item.kind === 'interrupt') {
        if (!this.halted) this.interruptRequested = true;
        this.resumeWaiter();
      } else if (item.kind === 'bad-checksum') {
        if (!this.noAck) this.options.send('-');
      } else if (item.kind === 'packet') {
        if (!this.noAck) this.options.send('+');
        let reply: string | undefined;
        try {
          reply = this.handle(item.data);
        } catch {
          reply = 'E01';
        }
        if (reply !== undefined) this.reply(reply);
        // The OK to QStartNoAckMode is the last packet gdb acknowledges.
        if (item.data === 'QStartNoAckMode') this.noAck = true;
      }
    }
  }

  /**
   * Runs the guest for up to `budget` steps as the debugger allows: waits while it holds the guest,
   * then continues or steps it. Returns the machine's stop reason, or 'killed' after gdb's kill.
   */
  async run(budget: number): Promise<GdbRunResult> {
    while (this.halted && !this.killed) await new Promise<void>((resolve) => { this.wake = resolve; });
    if (this.killed) return 'killed';
    const t = this.target;
    if (this.timeline !== undefined) budget = Math.min(budget, this.timeline.due());
    if (this.connected) this.rewinder.forward();
    if (this.interruptRequested) {
      this.interruptRequested = false;
      this.stop(`T${hex2(SIGINT)}thread:${this.threadId()};`);
      return StopReason.STOPPED;
    }
    if (this.stepping) {
      this.stepping = false;
      const watch = this.watchedAccess();
      if (watch !== undefined) {
        this.stop(this.watchReply(watch));
        return StopReason.BREAKPOINT;
      }
      const r = this.stepOnce();
      if (r === StopReason.EXIT || r === STOP_CRASHED) return this.ended(r);
      this.stop(`T${hex2(SIGTRAP)}thread:${this.threadId()};`);
      return r;
    }
    if (this.watches.length > 0) {
      const start = t.steps;
      let r: StopReason = StopReason.BUDGET;
      let first = true;
      while (t.steps - start < Math.min(budget, CONTINUE_CHUNK)) {
        if (!first && this.atBreakpoint()) {
          this.stopAtBreakpoint();
          return StopReason.BREAKPOINT;
        }
        first = false;
        const watch = this.watchedAccess();
        if (watch !== undefined) {
          this.stop(this.watchReply(watch));
          return StopReason.BREAKPOINT;
        }
        r = this.stepOnce();
        if (r === StopReason.EXIT || r === STOP_CRASHED) return this.ended(r);
        if (r !== StopReason.BUDGET) break;
      }
      return r;
    }
    const r = t.run(Math.min(budget, this.connected ? CONTINUE_CHUNK : budget));
    if (r === StopReason.EXIT || r === STOP_CRASHED) return this.ended(r);
    if (r === StopReason.BREAKPOINT && this.connected) this.stopAtBreakpoint();
    return r;
  }

  /** The run ends for good (budget, timeout, a signal, quit): a debugger sees the guest killed. */
  finish(): void {
    if (this.connected) this.reply(`X${hex2(SIGKILL)}`);
    this.connected = false;
    this.killed = true;
    this.resumeWaiter();
  }

  private ended(r: StopReason): StopReason {
    if (this.connected) {
      this.reply(r === StopReason.EXIT ? `W${hex2((this.target.exitCode ?? 0) & 0xff)}` : `X${hex2(SIGSEGV)}`);
      this.connected = false;
    }
    return r;
  }

  private stopAtBreakpoint(): void {
    this.target.sync();
    const pc = this.target.hart.pcU;
    this.stop(`T${hex2(SIGTRAP)}${this.swBreaks.has(pc) ? 'swbreak' : 'hwbreak'}:;thread:${this.threadId()};`);
  }

  private atBreakpoint(): boolean {
    this.target.sync();
    const pc = this.target.hart.pcU;
    return this.swBreaks.has(pc) || this.hwBreaks.has(pc);
  }

  private stop(reply: string): void {
    this.halted = true;
    this.target.sync();
    if (this.connected) this.reply(reply);
  }

  /** One guest step (a VM's step may need a few VMM turns before its own clock moves). */
  private stepOnce(): StopReason {
    return stepOnce(this.target);
  }

  /** The one thread's id as gdb expects it (QEMU's spelling). */
  private threadId(): string {
    return this.multiprocess ? 'p01.01' : '01';
  }

  private reply(data: string): void {
    this.options.send(frame(data));
  }

  private resumeWaiter(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private resume(step: boolean): undefined {
    this.stepping = step;
    this.halted = false;
    this.target.setBreakpoints(new Set([...this.swBreaks, ...this.hwBreaks]));
    this.resumeWaiter();
    return undefined;
  }

  private clearDebugState(): void {
    this.swBreaks.clear();
    this.hwBreaks.clear();
    this.watches = [];
    this.target.setBreakpoints(new Set());
  }

  /** Answers one packet; undefined when the answer comes later (a stop reply after c/s). */
  private handle(p: string): string | undefined {
    const t = this.target;
    switch (p[0]) {
      case '?':
        return `T${hex2(SIGTRAP)}thread:${this.threadId()};`;
      case 'g':
        t.sync();
        return this.allRegisters();
      case 'G':
        return this.writeAllRegisters(p.slice(1));
      case 'p': {
        const n = parseHex32(p.slice(1));
        if (n === undefined) return 'E22';
        t.sync();
        const v = this.readRegister(n);
        return v === undefined ? 'E01' : word32Hex(v);
      }
      case 'P':
        return this.writeRegisterPacket(p.slice(1));
      case 'm':
        return this.readMemoryPacket(p.slice(1));
      case 'M':
      case 'X':
        return this.writeMemoryPacket(p);
      case 'c':
      case 's':
        if (p.length > 1) {
          const addr = parseHex32(p.slice(1));
          if (addr === undefined) return 'E22';
          t.sync();
          t.hart.pc = addr | 0;
          t.stateChanged();
          this.historyChanged();
        }
        return this.resume(p[0] === 's');
      case 'C':
      case 'S':
        return this.resume(p[0] === 'S');
      case 'v':
        return this.handleV(p);
      case 'b':
        if (p === 'bs') return this.reverseStep();
        if (p === 'bc') return this.reverseContinue();
        return '';
      case 'Z':
      case 'z':
        return this.breakpointPacket(p);
      case 'D':
        this.clearDebugState();
        this.rewinder.history.clear();
        this.halted = false;
        this.connected = false;
        this.resumeWaiter();
        return 'OK';
      case 'k':
        this.killed = true;
        this.connected = false;
        this.resumeWaiter();
        return undefined;
      case 'H':
      case 'T':
        return 'OK';
      case 'q':
      case 'Q':
        return this.handleQuery(p);
      default:
        return '';
    }
  }

  private handleQuery(p: string): string {
    if (p.startsWith('qSupported')) {
      // As QEMU: with gdb's multiprocess extension, threads are named p1.1 (one process, one hart).
      this.multiprocess = /[:;]multiprocess\+/.test(p);
      return `PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+;ReverseStep+;ReverseContinue+${this.multiprocess ? ';multiprocess+' : ''}`;
    }
    if (p === 'QStartNoAckMode') return 'OK';
    if (p.startsWith('qXfer:features:read:')) {
      const m = /^qXfer:features:read:([^:]+):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
      if (!m) return 'E00';
      this.target.sync();
      const doc = targetDocument(m[1], this.target.hart);
      if (doc === undefined) return 'E00';
      const offset = parseInt(m[2], 16);
      const length = Math.min(parseInt(m[3], 16), MAX_PACKET - 16);
      if (offset > doc.length) return 'E00';
      const part = doc.slice(offset, offset + length);
      return (offset + length >= doc.length ? 'l' : 'm') + escapeBinary(part);
    }
    if (p === 'qAttached' || p.startsWith('qAttached:')) return '1';
    if (p === 'qC') return `QC${this.threadId()}`;
    if (p === 'qfThreadInfo') return `m${this.threadId()}`;
    if (p === 'qsThreadInfo') return 'l';
    if (p.startsWith('qSymbol')) return 'OK';
    return '';
  }

  private handleV(p: string): string | undefined {
    if (p === 'vCont?') return 'vCont;c;C;s;S';
    if (p.startsWith('vCont;')) {
      for (const action of p.slice(6).split(';')) {
        const kind = action[0];
        if (kind === 's' || kind === 'S') return this.resume(true);
        if (kind === 'c' || kind === 'C') return this.resume(false);
      }
      return 'E22';
    }
    if (p.startsWith('vKill')) {
      this.killed = true;
      this.connected = false;
      this.resumeWaiter();
      return 'OK';
    }
    return '';
  }

  // ---- reverse execution ------------------------------------------------------------------

  private get timeline(): InputTimeline | undefined {
    return this.options.timeline;
  }

  /** The debugger changed the guest: the recorded past no longer leads here, so history starts anew. */
  private historyChanged(): void {
    this.rewinder.changed();
  }

  /** The stop reply at the start of recorded history (gdb: "no more reverse-execution history"). */
  private historyBegins(): string {
    return `T${hex2(SIGTRAP)}replaylog:begin;thread:${this.threadId()};`;
  }

  /** `bs`: back to the position one guest step before this one. */
  private reverseStep(): string {
    if (!this.rewinder.stepBack()) return this.historyBegins();
    return `T${hex2(SIGTRAP)}thread:${this.threadId()};`;
  }

  /** `bc`: back to the latest breakpoint or watchpoint hit before this position, else to where history begins. */
  private reverseContinue(): string {
    const breaks = new Set([...this.swBreaks, ...this.hwBreaks]);
    const reply = this.rewinder.continueBack(breaks, this.watches.length > 0, () => {
      const watch = this.watchedAccess();
      if (watch !== undefined) return this.watchReply(watch);
      return breaks.has(this.target.hart.pcU) ? this.breakReply() : undefined;
    });
    return reply ?? this.historyBegins();
  }

  private breakReply(): string {
    const pc = this.target.hart.pcU;
    return `T${hex2(SIGTRAP)}${this.swBreaks.has(pc) ? 'swbreak' : 'hwbreak'}:;thread:${this.threadId()};`;
  }

  // ---- registers --------------------------------------------------------------------------

  private allRegisters(): string {
    const h = this.target.hart;
    let s = '';
    for (let i = 0; i < 32; i++) s += word32Hex(h.x[i]);
    return s + word32Hex(h.pc);
  }

  private writeAllRegisters(text: string): string {
    const bytes = fromHex(text);
    if (bytes === undefined || bytes.length < 33 * 4) return 'E22';
    this.target.sync();
    const h = this.target.hart;
    const word = (i: number): number => (bytes[4 * i] | (bytes[4 * i + 1] << 8) | (bytes[4 * i + 2] << 16) | (bytes[4 * i + 3] << 24)) | 0;
    for (let i = 1; i < 32; i++) h.x[i] = word(i);
    h.pc = word(32);
    this.target.stateChanged();
    this.historyChanged();
    return 'OK';
  }

  private readRegister(n: number): number | undefined {
    const h = this.target.hart;
    if (n < 32) return h.x[n];
    if (n === PC_REGNUM) return h.pc;
    if (n === PRIV_REGNUM) return h.priv;
    const csr = n - CSR_BASE_REGNUM;
    if (csr >= 0 && csr < 4096 && debugCsrs(h).some((c) => c.num === csr)) return CSR_BY_NUM[csr]!.read(h);
    return undefined;
  }

  private writeRegisterPacket(text: string): string {
    const m = /^([0-9a-fA-F]{1,8})=([0-9a-fA-F]{8})$/.exec(text);
    if (!m) return 'E22';
    const n = parseInt(m[1], 16);
    const b = fromHex(m[2])!;
    const v = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) | 0;
    this.target.sync();
    const h = this.target.hart;
    if (n === 0) return 'OK';
    if (n < 32) h.x[n] = v;
    else if (n === PC_REGNUM) h.pc = v;
    else if (n === PRIV_REGNUM) {
      const priv = v & 3;
      if (priv === 2) return 'E22';
      h.priv = priv;
    } else {
      const csr = n - CSR_BASE_REGNUM;
      const def = csr >= 0 && csr < 4096 && debugCsrs(h).some((c) => c.num === csr) ? CSR_BY_NUM[csr] : undefined;
      if (def?.write === undefined) return 'E01';
      def.write(h, v >>> 0);
    }
    this.target.stateChanged();
    this.historyChanged();
    return 'OK';
  }

  // ---- memory -----------------------------------------------------------------------------

  private readMemoryPacket(text: string): string {
    const m = /^([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})$/.exec(text);
    if (!m) return 'E22';
    const addr = parseInt(m[1], 16);
    const len = parseInt(m[2], 16);
    if (len > MAX_PACKET / 2) return 'E22';
    this.target.sync();
    const bytes = readVirtual(this.target.hart, addr, len);
    return bytes === undefined ? 'E14' : toHex(bytes);
  }

  private writeMemoryPacket(p: string): string {
    const colon = p.indexOf(':');
    if (colon < 0) return 'E22';
    const m = /^([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})$/.exec(p.slice(1, colon));
    if (!m) return 'E22';
    const addr = parseInt(m[1], 16);
    const len = parseInt(m[2], 16);
    const data = p[0] === 'X' ? unescapeBinary(p.slice(colon + 1)) : fromHex(p.slice(colon + 1));
    if (data === undefined || data.length !== len) return 'E22';
    this.target.sync();
    const h = this.target.hart;
    // Translate every byte first, so a fault on a later page leaves memory unchanged.
    const pas: number[] = [];
    for (let i = 0; i < len; i++) {
      const pa = translateDebug(h, (addr + i) >>> 0, Access.LOAD).pa;
      if (pa === undefined || h.bus.ramOffset(pa, 1) < 0) return 'E14';
      pas.push(pa);
    }
    for (let i = 0; i < len; i++) this.target.writePhysical(pas[i], data.subarray(i, i + 1));
    if (len > 0) this.historyChanged();
    return 'OK';
  }

  // ---- breakpoints and watchpoints ----------------------------------------------------------

  private breakpointPacket(p: string): string {
    const m = /^[Zz]([0-4]),([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})(;.*)?$/.exec(p);
    if (!m) return 'E22';
    const type = Number(m[1]);
    const addr = parseInt(m[2], 16) >>> 0;
    const kind = parseInt(m[3], 16);
    const insert = p[0] === 'Z';
    if (type === 0 || type === 1) {
      const set = type === 0 ? this.swBreaks : this.hwBreaks;
      if (insert) set.add(addr);
      else set.delete(addr);
      return 'OK';
    }
    if (kind === 0) return 'E22';
    const wk: WatchKind = type === 2 ? 'watch' : type === 3 ? 'rwatch' : 'awatch';
    if (insert) this.watches.push({ addr, len: kind, kind: wk });
    else {
      const i = this.watches.findIndex((w) => w.addr === addr && w.len === kind && w.kind === wk);
      if (i >= 0) this.watches.splice(i, 1);
    }
    return 'OK';
  }

  private watchReply(w: { watch: Watchpoint; addr: number }): string {
    return `T${hex2(SIGTRAP)}${w.watch.kind}:${w.addr.toString(16)};thread:${this.threadId()};`;
  }

  /** The watchpoint the instruction at pc is about to touch, with the first watched address it touches. */
  private watchedAccess(): { watch: Watchpoint; addr: number } | undefined {
    if (this.watches.length === 0) return undefined;
    this.target.sync();
    const access = memoryAccessAt(this.target);
    if (access === undefined) return undefined;
    for (const w of this.watches) {
      const wanted = w.kind === 'awatch' || (w.kind === 'watch' ? access.write : access.read);
      if (!wanted) continue;
      const lo = Math.max(access.addr, w.addr);
      const hi = Math.min(access.addr + access.size, w.addr + w.len);
      if (lo < hi) return { watch: w, addr: lo >>> 0 };
    }
    return undefined;
  }
}

/** The data access the instruction at pc makes: loads, stores, LR/SC and AMOs (compressed ones too). */
function memoryAccessAt(t: DebugTarget): { addr: number; size: number; read: boolean; write: boolean } | undefined {
  const h = t.hart;
  const bytes = readVirtualFetch(t, h.pcU);
  if (bytes === undefined) return undefined;
  let word = bytes[0] | (bytes[1] << 8);
  if ((word & 3) !== 3) word = EXPAND_C[word];
  else word = (word | (bytes[2] << 16) | (bytes[3] << 24)) | 0;
  if (word === 0) return undefined;
  const opcode = word & 0x7f;
  const funct3 = (word >>> 12) & 7;
  const rs1 = h.x[(word >>> 15) & 31];
  if (opcode === 0x03) {
    return { addr: (rs1 + (word >> 20)) >>> 0, size: 1 << (funct3 & 3), read: true, write: false };
  }
  if (opcode === 0x23) {
    const imm = ((word >> 25) << 5) | ((word >>> 7) & 31);
    return { addr: (rs1 + imm) >>> 0, size: 1 << (funct3 & 3), read: false, write: true };
  }
  if (opcode === 0x2f && funct3 === 2) {
    const funct5 = word >>> 27;
    return { addr: rs1 >>> 0, size: 4, read: funct5 !== 3, write: funct5 !== 2 };
  }
  return undefined;
}

function readVirtualFetch(t: DebugTarget, pc: number): Uint8Array | undefined {
  const h = t.hart;
  const first = readVirtual(h, pc, 2, Access.FETCH);
  if (first === undefined) return undefined;
  if ((first[0] & 3) !== 3) return Uint8Array.of(first[0], first[1], 0, 0);
  const second = readVirtual(h, (pc + 2) >>> 0, 2, Access.FETCH);
  if (second === undefined) return undefined;
  return Uint8Array.of(first[0], first[1], second[0], second[1]);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
