// One RISC-V hart: architectural state, CSRs, traps and interrupts, and the slow (non-TLB) memory
// path. The interpreter loop lives in interp.ts. Privileged spec 20211203 ch. 3 and 4.

import { Access, Cause, leafAllows, Pte, walkSv32, WalkResult, type PteMemory, type WalkContext } from '../mmu/walk';
import { CTX_BARE, CTX_MXR, CTX_SUM, CTX_VIRT, Tlb, TLB_MASK } from '../mmu/tlb';
import { writeRam, type PhysicalBus } from '../machine/bus';
import type { TimeSource } from '../devices/irq';
import { CSR_BY_NUM, legalMstatus } from './csr';
import { IRQ_PRIORITY, Mstatus } from './csr-defs';
import { Pmp, PmpPerm } from './pmp';
import { TriggerAccess, Triggers } from './triggers';
import { CodeCache, jitDefaults } from './jit';
import { fastRunDefaults, type FastRun } from './fast-run';
import { arenaViews, claimHartArena, hartArenaBytes, wasmAvailable, WasmRuntime, type JitBackend } from './jit-wasm';
import { mulDiv } from './muldiv';
import { contextChangedH, csrAccessH, enterTrapH, HState, mretH, pendingInterruptH, translateVirtual } from './hext';

/** fastStatus of a hart without the fast run in WebAssembly. */
const NO_STATUS = new Int32Array(6);

/** CPU features selectable like QEMU's `-cpu rv32,pmp=false,h=true,...`. */
export interface CpuFeatures {
  pmp: boolean;
  h: boolean;
  c: boolean;
  a: boolean;
  m: boolean;
  xsensitive: boolean;
  /** Translate hot blocks (vmlab option, not an ISA feature). */
  jit?: boolean;
  /**
   * What the translator generates: JavaScript functions, or WebAssembly (jit-wasm.ts; only on a bus
   * made with a WebAssembly arena, see jitArenaBytes, else JavaScript). Default: jitDefaults.backend.
   */
  jitBackend?: JitBackend;
}

/** Bytes a bus for a hart with these features keeps after RAM for the WebAssembly backend (0: none). */
export function jitArenaBytes(features: Partial<CpuFeatures> | undefined, ramSize: number): number {
  if (features?.jit === false || (features?.jitBackend ?? jitDefaults.backend) !== 'wasm' || !wasmAvailable()) return 0;
  return hartArenaBytes(ramSize);
}

/** Defaults: what QEMU's rv32 CPU offers less F/D; H (hext.ts) only when asked for, as `h=on`. */
export const DEFAULT_FEATURES: Readonly<CpuFeatures> = { pmp: true, h: false, c: true, a: true, m: true, xsensitive: false };

/** Receiver of the exceptions of a hart that runs guests (the VMM). */
export interface TrapHook {
  /** Handles exception `cause` raised at hart.pc with trap value `tval`. */
  trap(cause: number, tval: number): void;
}

/** M-mode firmware provided by the engine (`--bios sbi`): answers ecalls from S-mode. */
export interface EcallFirmware {
  /** Handles an ecall the hart raised in S-mode at hart.pc; leaves pc and registers as the caller continues. */
  ecallFromS(): void;
}

/** What a CSR instruction does with its source operand. */
export const enum CsrOp {
  WRITE = 0,
  SET = 1,
  CLEAR = 2,
}

/** Privilege levels. */
export const enum Priv {
  U = 0,
  S = 1,
  M = 3,
}

const PAGE_FAULT_OF = [Cause.INSN_PAGE, Cause.LOAD_PAGE, Cause.STORE_PAGE];
const ACCESS_FAULT_OF = [Cause.INSN_ACCESS, Cause.LOAD_ACCESS, Cause.STORE_ACCESS];

/** The encoding of mret, the tval of the illegal-instruction trap QEMU 7.2 raises at it. */
const MRET_BITS = 0x30200073;
const PMP_BIT_OF = [PmpPerm.X, PmpPerm.R, PmpPerm.W];

/** The hart. Fields are public for the interpreter and inspectors; change them through methods. */
export class Hart implements PteMemory {
  readonly x: Int32Array;
  /** Program counter as an int32 (use pcU for the unsigned value). */
  pc = 0;
  priv: number = Priv.M;
  readonly hartId: number;
  readonly features: CpuFeatures;
  readonly misa: number;
  readonly tlb: Tlb;
  readonly pmp = new Pmp();
  /** Debug triggers (tselect, tdata1..3), as QEMU 7.2's. */
  readonly triggers = new Triggers();
  /** The H extension's state (used only with the `h` feature). */
  readonly hx: HState = new HState(this);

  mstatus = 0;
  medeleg = 0;
  mideleg = 0;
  mie = 0;
  /** Software-set pending bits (SSIP, STIP, SEIP). */
  mipSw = 0;
  /** Device-driven pending bits (MSIP, MTIP, MEIP, SEIP). */
  mipHw = 0;
  mtvec = 0;
  mscratch = 0;
  mepc = 0;
  mcause = 0;
  mtval = 0;
  mcounteren = 0;
  mcountinhibit = 0;
  /** mhpmcounter3..18 and mhpmcounter3h..18h by counter number (QEMU 7.2's 16 counters): they hold what is written. */
  readonly mhpmcounter = new Uint32Array(32);
  readonly mhpmcounterh = new Uint32Array(32);
  /** mhpmevent3..31 by number, as written. */
  readonly mhpmevent = new Uint32Array(32);
  menvcfg = 0;
  stvec = 0;
  sscratch = 0;
  sepc = 0;
  scause = 0;
  stval = 0;
  scounteren = 0;
  senvcfg = 0;
  satp = 0;

  /** Retired instructions before the current slice; instretNow() adds the slice's progress. */
  instret = 0;
  /** Steps (retired instructions and traps taken) before the current slice: the machine's clock. */
  steps = 0;
  /** Instructions retired so far in the running slice (kept current before slow calls). */
  sliceDone = 0;
  /** Steps so far in the running slice (kept current before slow calls). */
  sliceSteps = 0;
  /** The interpreter loop stops when sliceSteps reaches this; set to 0 to leave the loop early. */
  sliceEnd = 0;
  private cycleOffset = 0;
  private instretOffset = 0;
  /** LR/SC reservation: the virtual address LR used (as QEMU 7.2 keeps it), or -1. */
  reservation = -1;
  /** Value loaded by the LR that made the reservation. */
  reservedValue = 0;
  /** Waiting in WFI for an interrupt. */
  waiting = false;
  /** Breakpoint addresses (virtual pc); while any is set, every instruction is interpreted. */
  readonly breakpoints = new Set<number>();
  /** Set by the interpreter when it stopped in front of a breakpoint. */
  atBreakpoint = false;
  /** A pc whose breakpoint is ignored until the next slice retires an instruction (resuming). */
  bpSkip = -1;

  /** TLB tag context bits (ctx << 20) for data accesses and for fetches. */
  dataTag = 0;
  fetchTag = 0;
  /** Result of the last slow-path access: 0, or the exception cause it raised. */
  fault = 0;
  /** Counts of traps taken, by cause (interrupts at 32 + irq). */
  readonly trapCounts = new Float64Array(64);

  readonly bus: PhysicalBus;
  /** Translated code, when the block translator is on. */
  readonly code: CodeCache | undefined;
  /** The interpreter's fast run in WebAssembly (fast-run.ts), for a hart with a WebAssembly arena. */
  readonly fastRun: FastRun | undefined = undefined;
  /** Its status words: pc, steps, fbase, foff, flimit and TLB hits at its end. */
  readonly fastStatus: Int32Array = NO_STATUS;
  time: TimeSource = { now: () => 0 };
  ok = true;
  private readonly walkOut = new WalkResult();
  private readonly walkCtx: WalkContext = { priv: 0, sum: false, mxr: false, updateAD: true };

  constructor(bus: PhysicalBus, features: Partial<CpuFeatures> = {}, hartId = 0) {
    this.bus = bus;
    this.hartId = hartId;
    const f = { ...DEFAULT_FEATURES, ...features };
    // One object shape for every hart, whatever keys the caller gave: execute reads its flags.
    this.features = { pmp: f.pmp, h: f.h, c: f.c, a: f.a, m: f.m, xsensitive: f.xsensitive, jit: f.jit, jitBackend: f.jitBackend };
    // The WebAssembly backend: registers, TLB arrays and code lines in the bus's WebAssembly memory.
    const at = f.jit === false || (f.jitBackend ?? jitDefaults.backend) !== 'wasm' ? -1 : claimHartArena(bus);
    if (at < 0) {
      this.x = new Int32Array(32);
      this.tlb = new Tlb();
      this.code = f.jit === false ? undefined : new CodeCache(bus.ramSize);
    } else {
      const buffer = bus.ram.buffer as ArrayBuffer;
      const views = arenaViews(buffer, at, bus.ramSize);
      this.x = views.x;
      this.tlb = new Tlb(views.tlb);
      const wasm = new WasmRuntime(this, views, bus.arena!.memory);
      this.code = new CodeCache(bus.ramSize, wasm, views);
      this.fastRun = fastRunDefaults.enabled ? wasm.fastRun : undefined;
      this.fastStatus = views.fast;
    }
    const letter = (c: string): number => 1 << (c.charCodeAt(0) - 65);
    this.misa = ((1 << 30) | letter('I') | letter('S') | letter('U') | (f.m ? letter('M') : 0) | (f.a ? letter('A') : 0) |
      (f.c ? letter('C') : 0) | (f.h ? letter('H') : 0) | (f.xsensitive ? letter('X') : 0)) >>> 0;
    this.reset(0);
  }

  /** Unsigned program counter. */
  get pcU(): number {
    return this.pc >>> 0;
  }

  /** Power-on reset: M-mode at `pc`, CSRs cleared as QEMU's virt machine leaves them. */
  reset(pc: number): void {
    this.x.fill(0);
    this.pc = pc | 0;
    this.priv = Priv.M;
    this.mstatus = this.medeleg = this.mideleg = this.mie = this.mipSw = this.mipHw = 0;
    this.mtvec = this.mscratch = this.mepc = this.mcause = this.mtval = 0;
    this.mhpmcounter.fill(0);
    this.mhpmcounterh.fill(0);
    this.mhpmevent.fill(0);
    this.mcounteren = this.mcountinhibit = this.menvcfg = 0;
    this.stvec = this.sscratch = this.sepc = this.scause = this.stval = this.scounteren = this.senvcfg = this.satp = 0;
    this.instret = this.steps = this.sliceDone = this.sliceSteps = this.cycleOffset = this.instretOffset = 0;
    this.reservation = -1;
    this.waiting = false;
    this.pmp.reset();
    this.triggers.reset();
    this.trapCounts.fill(0);
    this.hx.reset();
    this.tlb.flushAll();
    this.code?.flush();
    this.contextChanged();
  }

  // ---- counters -------------------------------------------------------------------------

  /** Retired instructions including the running slice. */
  instretNow(): number {
    return this.instret + this.sliceDone + this.instretOffset;
  }

  /** Steps so far, including the running slice: one per retired instruction or trap. */
  stepsNow(): number {
    return this.steps + this.sliceSteps;
  }

  /** Cycle counter: one cycle per step. */
  cycle(): number {
    return this.stepsNow() + this.cycleOffset;
  }

  /** Writes mcycle (64-bit value). */
  setCycle(v: number): void {
    this.cycleOffset = v - this.stepsNow() - 1;
  }

  /** Writes minstret (64-bit value); the writing instruction itself does not count (§3.1.10). */
  setInstret(v: number): void {
    this.instretOffset = v - (this.instret + this.sliceDone) - 1;
  }

  // ---- status, context, interrupts ------------------------------------------------------

  /** mstatus with SD computed. */
  readMstatus(): number {
    return this.mstatus >>> 0;
  }

  /** Writes mstatus through its legal values; translation context may change. */
  writeMstatus(v: number): void {
    const old = this.mstatus;
    this.mstatus = legalMstatus(old, v);
    // Without H, SUM and MXR are part of the data context (CTX_SUM, CTX_MXR); the H extension's
    // contexts do not carry them, so they still flush.
    if (this.features.h && ((old ^ this.mstatus) & (Mstatus.SUM | Mstatus.MXR)) !== 0) this.tlb.flushAll();
    this.contextChanged();
    // Only a rise of MIE or SIE while an interrupt is pending can make one deliverable (a CSR write
    // keeps the privilege; whatever pends one later ends the slice itself), so only that ends the
    // slice. Kernels clear and set SIE around every spinlock (xv6's push_off and pop_off): ending the
    // slice each time cost a trip through the run loop per lock and changed nothing.
    // test/cpu/mstatus-slice.test.ts.
    if ((~old & this.mstatus & (Mstatus.MIE | Mstatus.SIE)) !== 0 && ((this.mipSw | this.mipHw) & this.mie) !== 0) this.interruptsChanged();
  }

  /**
   * Writes satp (MODE, ASID, PPN); the hart keeps all nine ASID bits. The TLB does not match
   * ASIDs, so a new address space drops the translated entries (the spec allows keeping entries of
   * the same ASID until sfence.vma; dropping them is also correct).
   */
  writeSatp(v: number): void {
    if (v >>> 0 !== this.satp) this.tlb.flushTranslated(undefined, undefined);
    this.satp = v >>> 0;
    this.contextChanged();
  }

  /** Runs a PMP register write and drops cached translations that depended on it. */
  pmpWrite(write: () => void): void {
    write();
    this.tlb.flushAll();
  }

  /** A trigger now watches other addresses: drop the TLB entries and translated code that skip the checks. */
  triggersChanged(): void {
    this.tlb.flushAll();
    this.code?.flush();
  }

  /** Legal value of an xepc register: bit 0 clear, bit 1 clear too without C. */
  legalEpc(v: number): number {
    return (v & (this.features.c ? ~1 : ~3)) >>> 0;
  }

  /** Sets mie and re-checks interrupts. */
  setMie(v: number): void {
    this.mie = v >>> 0;
    this.interruptsChanged();
  }

  /** Sets the software-writable pending bits. */
  setMipSw(v: number): void {
    this.mipSw = v >>> 0;
    this.interruptsChanged();
  }

  /** mip as software reads it. */
  readMip(): number {
    return (this.mipSw | this.mipHw) >>> 0;
  }

  /** Drives a device interrupt line into mip. */
  setIrq(irq: number, level: boolean): void {
    const bit = 1 << irq;
    const next = level ? this.mipHw | bit : this.mipHw & ~bit;
    if (next !== this.mipHw) {
      this.mipHw = next;
      this.interruptsChanged();
    }
  }

  /** Something that affects interrupt delivery changed: leave the interpreter loop to re-check. */
  interruptsChanged(): void {
    this.sliceEnd = 0;
  }

  /** Recomputes TLB context tags after a change of privilege, mstatus or satp. */
  contextChanged(): void {
    if (this.features.h) {
      contextChangedH(this);
      return;
    }
    const translating = (this.satp >>> 31) === 1;
    const fetchCtx = this.priv === Priv.M || !translating ? this.priv | CTX_BARE : this.priv;
    let dataPriv = this.priv;
    if (this.priv === Priv.M && (this.mstatus & Mstatus.MPRV) !== 0) dataPriv = (this.mstatus & Mstatus.MPP) >>> Mstatus.MPP_SHIFT;
    let dataCtx = dataPriv === Priv.M || !translating ? dataPriv | CTX_BARE : dataPriv;
    if ((dataCtx & CTX_BARE) === 0) {
      if (dataPriv === Priv.S && (this.mstatus & Mstatus.SUM) !== 0) dataCtx |= CTX_SUM;
      if ((this.mstatus & Mstatus.MXR) !== 0) dataCtx |= CTX_MXR;
    }
    this.fetchTag = fetchCtx << 20;
    this.dataTag = dataCtx << 20;
  }

  /** The highest-priority interrupt that would be taken now, or -1 (§3.1.6.1, §3.1.9). */
  pendingInterrupt(): number {
    if (this.features.h) return pendingInterruptH(this);
    const pending = (this.mipSw | this.mipHw) & this.mie;
    if (pending === 0) return -1;
    const mEnabled = this.priv < Priv.M || (this.mstatus & Mstatus.MIE) !== 0;
    const sEnabled = this.priv < Priv.S || (this.priv === Priv.S && (this.mstatus & Mstatus.SIE) !== 0);
    let take = 0;
    if (mEnabled) take |= pending & ~this.mideleg;
    if (sEnabled) take |= pending & this.mideleg;
    if (take === 0) return -1;
    // M-level interrupts outrank S-level ones, then the fixed order.
    const mLevel = take & ~this.mideleg;
    const pick = mLevel !== 0 ? mLevel : take;
    for (const irq of IRQ_PRIORITY) if (pick & (1 << irq)) return irq;
    return -1;
  }

  /** Whether WFI should stop waiting: any enabled-in-mie interrupt pending, regardless of MIE/SIE. */
  wakeupPending(): boolean {
    return ((this.mipSw | this.mipHw) & this.mie) !== 0;
  }

  // ---- traps ----------------------------------------------------------------------------

  /** Takes exception `cause` at the current pc with trap value `tval` (§3.1.6-3.1.7, §3.3.1). */
  raise(cause: number, tval: number): void {
    this.trapCounts[cause & 31]++;
    // With H, what the hypervisor delegated to VS-mode (hedeleg) goes there without an exit.
    if (this.trapHook !== undefined && !(this.hx.virt && ((this.hx.hedeleg >>> cause) & 1) !== 0)) this.trapHook.trap(cause >>> 0, tval >>> 0);
    else if (cause === Cause.ECALL_S && this.firmware !== undefined) this.firmware.ecallFromS();
    else this.enterTrap(cause >>> 0, tval, false);
  }

  /** Takes interrupt `irq`. */
  takeInterrupt(irq: number): void {
    this.trapCounts[32 + irq]++;
    this.waiting = false;
    this.enterTrap(irq, 0, true);
  }

  /**
   * When set, exceptions go to this handler instead of the hart's trap CSRs: the VMM sits at the
   * most privileged level and sees every trap a guest running on this hart causes. The handler
   * leaves the hart as the guest should continue (pc, registers, privilege, satp).
   */
  trapHook: TrapHook | undefined = undefined;

  /** When set, ecalls from S-mode go to this firmware instead of to M-mode code at mtvec. */
  firmware: EcallFirmware | undefined = undefined;

  private enterTrap(cause: number, tval: number, interrupt: boolean): void {
    if (this.features.h) {
      enterTrapH(this, cause, tval, interrupt);
      return;
    }
    this.reservation = -1;
    const deleg = interrupt ? this.mideleg : this.medeleg;
    const epc = this.pc >>> 0;
    const causeValue = interrupt ? (cause | 0x80000000) >>> 0 : cause;
    if (this.priv <= Priv.S && ((deleg >>> cause) & 1) !== 0) {
      this.scause = causeValue;
      this.sepc = epc;
      this.stval = tval >>> 0;
      let s = this.mstatus & ~(Mstatus.SPP | Mstatus.SPIE | Mstatus.SIE);
      if (this.priv === Priv.S) s |= Mstatus.SPP;
      if (this.mstatus & Mstatus.SIE) s |= Mstatus.SPIE;
      this.mstatus = s >>> 0;
      this.priv = Priv.S;
      this.pc = this.vectorOf(this.stvec, cause, interrupt);
    } else {
      this.mcause = causeValue;
      this.mepc = epc;
      this.mtval = tval >>> 0;
      let s = this.mstatus & ~(Mstatus.MPP | Mstatus.MPIE | Mstatus.MIE);
      s |= this.priv << Mstatus.MPP_SHIFT;
      if (this.mstatus & Mstatus.MIE) s |= Mstatus.MPIE;
      this.mstatus = s >>> 0;
      this.priv = Priv.M;
      this.pc = this.vectorOf(this.mtvec, cause, interrupt);
    }
    this.contextChanged();
  }

  private vectorOf(tvec: number, cause: number, interrupt: boolean): number {
    const base = tvec & ~3;
    return ((tvec & 3) === 1 && interrupt ? base + 4 * cause : base) | 0;
  }

  /** mret (§3.3.2): returns `true` when done, `false` when it raised an exception. */
  mret(): boolean {
    const mpp = (this.mstatus & Mstatus.MPP) >>> Mstatus.MPP_SHIFT;
    // QEMU 7.2 (op_helper.c helper_mret): with PMP and no rule at all, an mret that leaves M-mode
    // is an illegal instruction (tval: its bits). The spec would let it return and fault the fetch
    // (instruction access fault at mepc); QEMU 8 raises that access fault at the mret. The labs'
    // reference is QEMU 7.2 (docs/machine.md).
    if (this.features.pmp && this.pmp.activeRules === 0 && mpp !== Priv.M) {
      this.raise(Cause.ILLEGAL, MRET_BITS);
      return false;
    }
    let s = this.mstatus & ~(Mstatus.MIE | Mstatus.MPP);
    if (this.mstatus & Mstatus.MPIE) s |= Mstatus.MIE;
    s |= Mstatus.MPIE;
    if (mpp !== Priv.M) s &= ~Mstatus.MPRV;
    this.mstatus = s >>> 0;
    this.priv = mpp;
    if (this.features.h) mretH(this, this.hx.mpv);
    this.pc = this.mepc | 0;
    this.contextChanged();
    this.interruptsChanged();
    return true;
  }

  /** sret (§3.3.2). The caller has checked privilege and TSR. */
  sret(): void {
    const spp = (this.mstatus & Mstatus.SPP) !== 0 ? Priv.S : Priv.U;
    let s = this.mstatus & ~(Mstatus.SIE | Mstatus.SPP);
    if (this.mstatus & Mstatus.SPIE) s |= Mstatus.SIE;
    s |= Mstatus.SPIE;
    s &= ~Mstatus.MPRV;
    this.mstatus = s >>> 0;
    this.priv = spp;
    this.pc = this.sepc | 0;
    this.contextChanged();
    this.interruptsChanged();
  }

  // ---- CSR access -----------------------------------------------------------------------

  /**
   * Reads and/or writes CSR `num`. Returns the old value; on an illegal access sets `fault`
   * to ILLEGAL and returns 0 (§2.1, §3.1).
   */
  csrAccess(num: number, op: CsrOp, src: number, write: boolean): number {
    this.fault = 0;
    const def = CSR_BY_NUM[num];
    if (this.features.h) return csrAccessH(this, def, num, op, src, write);
    if (!def || ((num >>> 8) & 3) > this.priv || (write && (num >>> 10) === 3) || def.pred(this, num) !== 0) {
      this.fault = Cause.ILLEGAL;
      return 0;
    }
    const old = def.read(this) >>> 0;
    if (write && def.write) def.write(this, op === CsrOp.WRITE ? src : op === CsrOp.SET ? old | src : old & ~src);
    return old;
  }

  // ---- memory: translation and the slow path --------------------------------------------

  /** PteMemory: the walk's PTE reads obey PMP as S-mode accesses (§3.7.1). */
  readPte(pa: number): number {
    this.ok = this.pmpAllows(pa, 4, Access.LOAD, Priv.S);
    if (!this.ok) return 0;
    const v = this.bus.load(pa, 4);
    this.ok = this.bus.ok;
    return v;
  }

  /** PteMemory: A/D updates. */
  writePte(pa: number, value: number): void {
    this.ok = this.pmpAllows(pa, 4, Access.STORE, Priv.S);
    if (!this.ok) return;
    // A PTE may share its word with translated code (a page that is both code and a table): the
    // walk's A/D write drops that code, and the slice ends so that a region whose own load or store
    // made the walk leaves before it runs the old word (a store's slow path leaves on codeWritten).
    const written = this.codeWritten;
    this.noteStore(pa, 4);
    if (this.codeWritten && !written) this.sliceEnd = 0;
    this.bus.store(pa, 4, value);
    this.ok = this.bus.ok;
  }

  /** PMP permission bits (PmpPerm) of `size` bytes at `pa` for privilege `priv`; all without PMP. */
  pmpBits(pa: number, size: number, priv: number): number {
    return this.features.pmp ? this.pmp.permissions(pa, size, priv) : PmpPerm.ALL;
  }

  private pmpAllows(pa: number, size: number, access: Access, priv: number): boolean {
    if (!this.features.pmp) return true;
    return (this.pmp.permissions(pa, size, priv) & PMP_BIT_OF[access]) !== 0;
  }

  /**
   * Translates `va` for `access` and checks PMP; returns the physical address, or -1 with `fault`
   * set. Fills the TLB when the whole page is RAM with uniform PMP permissions.
   */
  translate(va: number, size: number, access: Access): number {
    this.fault = 0;
    this.faultVa = va | 0;
    const tag = access === Access.FETCH ? this.fetchTag : this.dataTag;
    const ctx = tag >>> 20;
    if ((ctx & CTX_VIRT) !== 0) return translateVirtual(this, va, size, access, tag);
    const priv = ctx & 3;
    va >>>= 0;
    let pa = va;
    let pte = 0;
    let level = 0;
    if ((ctx & CTX_BARE) === 0) {
      this.tlb.misses++;
      const c = this.walkCtx;
      c.priv = priv;
      c.sum = (this.mstatus & Mstatus.SUM) !== 0;
      c.mxr = (this.mstatus & Mstatus.MXR) !== 0;
      const r = walkSv32(this.walkOut, this, this.satp & 0x3fffff, va, access, c);
      if (r.fault !== 0) {
        this.fault = r.fault;
        return -1;
      }
      pa = r.pa;
      pte = r.pte;
      level = r.level;
    }
    if (pa >= 4294967296 || !this.pmpAllows(pa, size, access, priv)) {
      this.fault = ACCESS_FAULT_OF[access];
      return -1;
    }
    const pagePa = pa - (pa % 4096);
    const ramOff = this.bus.ramOffset(pagePa, 4096);
    if (ramOff >= 0) {
      const perms = this.features.pmp ? this.pmp.pagePermissions(pagePa, priv) : PmpPerm.ALL;
      if (perms >= 0) {
        const bare = (ctx & CTX_BARE) !== 0;
        const c = this.walkCtx;
        const canR = (perms & PmpPerm.R) !== 0 && (bare || leafAllows(pte, Access.LOAD, c));
        const isCode = this.code !== undefined && this.code.codeChunks[ramOff >>> 12] !== 0;
        // While RAM writes are logged, a page not yet written since the log was read gets no
        // writable entry: its first store goes through the bus, which logs it.
        const log = this.bus.writeLog;
        const canW = (perms & PmpPerm.W) !== 0 && (bare || ((pte & Pte.D) !== 0 && leafAllows(pte, Access.STORE, c))) &&
          (log === undefined || log[ramOff >>> 12] !== 0);
        const canX = (perms & PmpPerm.X) !== 0 && (bare || leafAllows(pte, Access.FETCH, c));
        // Only the context that walked may use the entry: fetch and data contexts can differ. A page a
        // trigger watches gets no entry, so its accesses keep reaching the slow path's trigger check.
        if ((tag === this.fetchTag || tag === this.dataTag) && !(this.triggers.armed && this.triggers.watchesPage(va >>> 12))) {
          // Stores through a writable entry reach RAM behind the bus: the page may hold data from now on.
          if (canW && tag === this.dataTag) this.bus.written[ramOff >>> 12] = 1;
          this.tlb.fill(va, ctx, ramOff, canR && tag === this.dataTag, canW && tag === this.dataTag, canX && tag === this.fetchTag,
            pte, level, (this.satp >>> 22) & 0x1ff, Math.floor(pagePa / 4096), isCode);
        }
      }
    }
    return pa;
  }

  /** Raises the fault left in `fault` by translate/loadSlow/storeSlow/fetchSlow, tval = faultVa. */
  raiseFault(): void {
    this.raise(this.fault, this.faultVa >>> 0);
  }

  /** Loads `size` bytes at virtual `va` by the slow path (any alignment); sets `fault` on failure. */
  loadSlow(va: number, size: number): number {
    if (this.triggers.armed && this.triggerHit(va, size, TriggerAccess.LOAD)) return 0;
    if ((va & 0xfff) + size > 4096) {
      let v = 0;
      for (let i = 0; i < size; i++) {
        const b = this.loadSlow((va + i) | 0, 1);
        if (this.fault) return 0;
        v |= b << (8 * i);
      }
      return v >>> 0;
    }
    const pa = this.translate(va, size, Access.LOAD);
    if (pa < 0) return 0;
    const touched = this.bus.deviceAccesses;
    const v = this.bus.load(pa, size);
    if (!this.bus.ok) this.fault = Cause.LOAD_ACCESS;
    // A device access may move a deadline or write RAM: let the machine re-check (a quiet device's
    // interrupt changes end the slice through Hart.setIrq).
    if (touched !== this.bus.deviceAccesses && !this.bus.quiet) this.sliceEnd = 0;
    return v;
  }

  /**
   * Stores by the slow path; sets `fault` on failure. A store leaves an LR reservation in place, as
   * QEMU 7.2 does (the SC then succeeds while the word still holds the value LR read; the spec lets
   * a hart's own stores keep it): test/guests/asm/rv32a-lrsc-store.S.
   */
  storeSlow(va: number, size: number, value: number): void {
    if (this.triggers.armed && this.triggerHit(va, size, TriggerAccess.STORE)) return;
    const code = this.code;
    if (code !== undefined) {
      // A page holding translated code: the TLB still knows the translation (code-write tag).
      const vpn = va >>> 12;
      const ti = vpn & TLB_MASK;
      const tlb = this.tlb;
      if (tlb.tagC[ti] === (vpn | this.dataTag) && (va & (size - 1)) === 0) {
        const off = (va + tlb.off[ti]) | 0;
        this.fault = 0;
        // Served by the TLB, as the same store is when the page holds no code.
        tlb.hits++;
        code.stats.codePageStores++;
        if (code.written(off, size, this.stepsNow())) this.codeWritten = true;
        // The page's last block is gone: stores to it are fast again.
        if (code.codeChunks[off >>> 12] === 0) {
          tlb.tagW[ti] = tlb.tagC[ti];
          tlb.tagC[ti] = -1;
        }
        writeRam(this.bus.ram, off, size, value);
        return;
      }
    }
    if ((va & 0xfff) + size > 4096) {
      // Translate both pages first so a fault on the second leaves memory unchanged.
      const first = 4096 - (va & 0xfff);
      this.translate(va, 1, Access.STORE);
      if (this.fault) return;
      this.translate((va + first) | 0, 1, Access.STORE);
      if (this.fault) return;
      for (let i = 0; i < size; i++) this.storeSlow((va + i) | 0, 1, value >>> (8 * i));
      return;
    }
    const pa = this.translate(va, size, Access.STORE);
    if (pa < 0) return;
    this.noteStore(pa, size);
    const touched = this.bus.deviceAccesses;
    this.bus.store(pa, size, value);
    if (!this.bus.ok) this.fault = Cause.STORE_ACCESS;
    if (touched !== this.bus.deviceAccesses && !this.bus.quiet) this.sliceEnd = 0;
  }

  /** Sets a breakpoint fault when an armed trigger watches this access (triggers.ts). */
  private triggerHit(va: number, size: number, kind: TriggerAccess): boolean {
    const priv = ((kind === TriggerAccess.EXECUTE ? this.fetchTag : this.dataTag) >>> 20) & 3;
    const at = this.triggers.hit(va, size, kind, priv);
    if (at < 0) return false;
    // QEMU 7.2 reports tval 0 for a trigger's breakpoint (its watchpoint_hit is not set on this path).
    this.fault = Cause.BREAKPOINT;
    this.faultVa = 0;
    return true;
  }

  /** The virtual address the last fault reports as tval (the first byte that faulted). */
  faultVa = 0;

  /** Fetches the instruction bits at `pc` by the slow path (ROM, page crossing); sets `fault`. */
  fetchSlow(pc: number): number {
    if (this.triggers.armed && this.triggerHit(pc, 2, TriggerAccess.EXECUTE)) return 0;
    const lo = this.fetchHalf(pc);
    if (this.fault) return 0;
    if ((lo & 3) !== 3) return lo;
    const hi = this.fetchHalf((pc + 2) | 0);
    if (this.fault) return 0;
    return (lo | (hi << 16)) | 0;
  }

  private fetchHalf(va: number): number {
    // An instruction in a page's last halfword comes here on every run although the TLB may hold
    // both pages (Linux's boot: 10.7 k such fetches, each walking the page table without this).
    const vpn = va >>> 12;
    const ti = vpn & TLB_MASK;
    if (this.tlb.tagX[ti] === (vpn | this.fetchTag)) {
      this.fault = 0;
      return this.bus.ram16[((va + this.tlb.off[ti]) | 0) >> 1];
    }
    const pa = this.translate(va, 2, Access.FETCH);
    if (pa < 0) return 0;
    const v = this.bus.load(pa, 2);
    if (!this.bus.ok) this.fault = Cause.INSN_ACCESS;
    return v;
  }

  /** Drops translated code that a store to physical `pa` overwrites. */
  noteStore(pa: number, size: number): void {
    const code = this.code;
    if (code === undefined) return;
    const off = this.bus.ramOffset(pa, size);
    if (off < 0 || code.codeChunks[off >>> 12] === 0) return;
    code.stats.codePageStores++;
    if ((off & 0xfff) + size > 4096) {
      const first = 4096 - (off & 0xfff);
      if (code.written(off, first, this.stepsNow())) this.codeWritten = true;
      if (code.written(off + first, size - first, this.stepsNow())) this.codeWritten = true;
    } else if (code.written(off, size, this.stepsNow())) {
      this.codeWritten = true;
    }
  }

  /** Set when a store dropped translated code; a running block leaves after that store. */
  codeWritten = false;

  /** A RAM page now holds translated code: stores to it must take the slow path. */
  codePageAdded(page: number): void {
    this.tlb.codeAdded(page + this.bus.ramBase / 4096);
  }

  /** M-extension operation for translated blocks. */
  mulDiv(id: number, a: number, b: number): number {
    return mulDiv(id, a, b);
  }

  /** The fault type of an access kind, for callers building their own checks. */
  static pageFaultOf(access: Access): number {
    return PAGE_FAULT_OF[access];
  }
}
