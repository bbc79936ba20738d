// Hardware-assisted virtualization with the H extension: the guest runs in VS/VU-mode on an H-capable
// physical hart, its own page tables in vsatp and the VM's pmap (a real Sv32x4 table) in hgatp, so the
// hart walks both stages itself and nothing is shadowed. Exceptions the guest delegated to its S-mode
// go there in hardware (hedeleg = the guest's medeleg); the VMM sees only the exits it asks for:
// guest-page faults on guest-physical addresses that are devices (the access is emulated), ecalls
// from VS (SBI calls, or the guest's own virtual M-mode), counter reads and WFI (virtual-instruction
// exceptions: the guest's clock is its own), and whatever the guest's virtual M-mode must handle.
// Virtual M-mode itself (firmware, machine trap handlers) is interpreted on the VM's virtual hart,
// on top, so unmodified bare-metal kernels and firmware run; it returns to the hardware at mret.

import { CsrOp, Priv, type Hart } from '../../cpu/hart';
import { execute } from '../../cpu/interp';
import { Mstatus } from '../../cpu/csr-defs';
import { HEDELEG_WRITABLE, Hstatus, MEDELEG_H_EXTRA, MIP_WRITABLE_H, HS_INTS } from '../../cpu/hext';
import { MEDELEG_WRITABLE } from '../../cpu/csr-defs';
import { decodeAny, decodeWord, EXPAND_C } from '../../isa/decode';
import { Op } from '../../isa/opcodes';
import { StopReason } from '../../machine/machine';
import { inBootRom } from '../../machine/memory-map';
import { Access, Cause } from '../../mmu/walk';
import { sleepInWfi, type ExitHandler, type Vcpu } from '../vcpu';
import type { Vm } from '../vm';
import type { Vmm } from '../vmm';

/** Exits in a row without a retired instruction after which a guest counts as crashed. */
const EXIT_STORM_LIMIT = 10_000;
/** Steps of virtual M-mode interpreted between checks whether the guest left it. */
const VIRTUAL_M_CHUNK = 65536;
/** The mstatus bits of the running S level (vsstatus while V=1). */
const S_STATUS = (Mstatus.MXR | Mstatus.SUM | Mstatus.SPP | Mstatus.SPIE | Mstatus.SIE) >>> 0;
/** The guest's S-level interrupt bits (SSI, STI, SEI). */
const S_IRQS = 0x222;

/** The hw-mode vCPU of one VM. */
export class HwVcpu implements Vcpu, ExitHandler {
  readonly onHart = false;
  /** Whether the physical hart holds the guest's live state (between load and save). */
  private live = false;
  private stormCount = 0;
  private lastInstret = -1;
  /** Two-stage walks and their memory references before this VM's run, to count its share. */
  private walksMark = 0;
  private refsMark = 0;
  /** Faults of the dirty log in this slice: the guest never sees them, so they are no steps of its clock. */
  private hiddenSteps = 0;
  /**
   * The virtual hart's TLB flush count when the guest last left the hardware: a flush since (an
   * sfence.vma or satp write its virtual M-mode interpreted) must reach the physical hart's
   * translations too, or the guest's S and U code keeps using entries its M-mode fenced away.
   */
  private vhFlushMark = -1;

  constructor(private readonly vm: Vm, private readonly vmm: Vmm) {}

  private get p(): Hart {
    return this.vmm.hwHart;
  }

  private get vh(): Hart {
    return this.vm.vhart;
  }

  /** The VMID this VM's translations are tagged with on the physical hart. */
  private get vmid(): number {
    return this.vm.id & 0x7f;
  }

  run(budget: number): StopReason {
    const vm = this.vm;
    const m = vm.machine;
    const vh = m.hart;
    const p = this.p;
    const stats = vm.stats;
    const hitsBefore = p.tlb.hits;
    const missesBefore = p.tlb.misses;
    this.walksMark = p.hx.walker.stats.walks;
    this.refsMark = p.hx.walker.stats.refs;
    this.vmm.claimVmid(this.vmid, vm.id);
    let reason: StopReason = StopReason.BUDGET;
    let remaining = budget;
    while (remaining > 0 && vm.runnable) {
      if (m.exitCode !== undefined) {
        reason = StopReason.EXIT;
        break;
      }
      // Virtual M-mode, the boot ROM, and S-mode under the guest's mstatus.TVM (the hardware's VTVM
      // does not trap satp accesses, as in QEMU 7.2): the virtual hart interprets (the VMM emulates
      // that level on top of the hardware) until the guest leaves it.
      const tvm = vh.priv === Priv.S && (vh.mstatus & Mstatus.TVM) !== 0;
      if (vh.priv === Priv.M || tvm || inBootRom(vh.pcU)) {
        copySet(vm.breakpoints, vh.breakpoints);
        const rom = inBootRom(vh.pcU);
        const priv = vh.priv;
        const before = m.clockSteps;
        const retired = vh.instret;
        const accesses = vm.bus.deviceAccesses;
        // Machine.run passes a breakpoint at the pc it starts from; only a resume may do that.
        if (vh.breakpoints.has(vh.pcU) && vh.pcU !== vm.resumePc) {
          reason = StopReason.BREAKPOINT;
          break;
        }
        const r = rom ? m.run(1) : m.run(Math.min(remaining, VIRTUAL_M_CHUNK), priv);
        const used = m.clockSteps - before;
        if (used > 0) vm.resumePc = -1;
        stats.retired[priv] += vh.instret - retired;
        // The boot ROM is the machine's boot, not the guest (as in the other modes).
        if (!rom) {
          stats.emulate(priv === Priv.M ? 'virtual-m' : 'interpreted', vh.instret - retired);
          stats.deviceAccesses += vm.bus.deviceAccesses - accesses;
        }
        remaining -= Math.max(1, used);
        if (r !== StopReason.BUDGET) {
          reason = r;
          break;
        }
        continue;
      }
      m.clint.update();
      m.board.htif?.poll();
      const slept = sleepInWfi(m, vh, remaining);
      if (slept < 0) {
        reason = StopReason.IDLE;
        break;
      }
      if (slept > 0) {
        remaining -= slept;
        continue;
      }
      // A pending virtual interrupt enters the guest through its own trap logic.
      const irq = vh.pendingInterrupt();
      if (irq >= 0) {
        vh.takeInterrupt(irq);
        stats.reflect(`irq${irq}`);
        continue;
      }
      const slice = Math.max(1, Math.min(remaining, m.stepsUntilDeadline()));
      this.load();
      p.sliceDone = 0;
      p.sliceSteps = 0;
      p.sliceEnd = slice;
      p.bpSkip = vm.resumePc;
      copySet(vm.breakpoints, p.breakpoints);
      const priv = p.priv;
      execute(p, slice);
      if (p.sliceDone > 0) vm.resumePc = -1;
      // Retired instructions count at the privilege the slice started in (exits end slices at changes the VMM sees).
      stats.retired[priv] += p.sliceDone;
      vh.instret += p.sliceDone;
      vh.steps += p.sliceSteps - this.hiddenSteps;
      this.hiddenSteps = 0;
      p.instret += p.sliceDone;
      p.steps += p.sliceSteps;
      remaining -= Math.max(1, p.sliceSteps);
      vh.sliceDone = vh.sliceSteps = 0;
      const atBreakpoint = p.atBreakpoint;
      p.sliceDone = p.sliceSteps = 0;
      if (this.live) this.save();
      if (atBreakpoint) {
        reason = StopReason.BREAKPOINT;
        break;
      }
    }
    stats.tlbHits += p.tlb.hits - hitsBefore;
    stats.hartTlbMisses += p.tlb.misses - missesBefore;
    stats.tlbMisses += p.hx.walker.stats.walks - this.walksMark;
    stats.walkReferences += p.hx.walker.stats.refs - this.refsMark;
    return reason;
  }

  /** Puts the guest's state on the physical hart: V=1, its S registers as the live VS ones. */
  private load(): void {
    const p = this.p;
    const vh = this.vh;
    const hx = p.hx;
    p.trapHook = this;
    p.x.set(vh.x);
    p.pc = vh.pc;
    hx.virt = true;
    p.priv = vh.priv;
    p.mstatus = (vh.mstatus & S_STATUS) >>> 0;
    p.stvec = vh.stvec;
    p.sscratch = vh.sscratch;
    p.sepc = vh.sepc;
    p.scause = vh.scause;
    p.stval = vh.stval;
    if (p.satp !== vh.satp || vh.tlb.flushes !== this.vhFlushMark) p.tlb.flushTranslated(undefined, undefined);
    p.satp = vh.satp;
    p.scounteren = vh.scounteren;
    // The guest's S-level interrupt enables and pending bits at their VS positions (reads of sie/sip).
    const sDeleg = vh.mideleg & S_IRQS;
    p.mie = ((vh.mie & sDeleg) << 1) >>> 0;
    p.mipSw = (((vh.mipSw | vh.mipHw) & sDeleg) << 1) & MIP_WRITABLE_H;
    p.mipHw = 0;
    p.mideleg = 0x2222 | HS_INTS;
    p.medeleg = MEDELEG_WRITABLE | MEDELEG_H_EXTRA;
    p.mcounteren = 0xffffffff;
    hx.hideleg = 0x444;
    // Exceptions the guest's M-mode delegated to its S-mode go there in hardware.
    hx.hedeleg = vh.medeleg & HEDELEG_WRITABLE;
    hx.hcounteren = 0;
    hx.hstatus = Hstatus.SPV | Hstatus.VTW | ((vh.mstatus & Mstatus.TSR) !== 0 ? Hstatus.VTSR : 0) |
      ((vh.mstatus & Mstatus.TVM) !== 0 ? Hstatus.VTVM : 0);
    // (A guest in S-mode under TVM is interpreted; VTVM still covers its U-mode's sfence.vma.)
    hx.hgatp = (this.vm.pmap.hgatp | (this.vmid << 22)) >>> 0;
    hx.walker.logPteWrites(this.vm.bus.writeLog, this.vmm.host.ramBase);
    p.features.xsensitive = vh.features.xsensitive;
    p.features.c = vh.features.c;
    p.features.m = vh.features.m;
    p.features.a = vh.features.a;
    // The guest's PMP filters its accesses as a narrowed G-stage would; a denied access exits.
    hx.guestPmp = vh.features.pmp ? vh.pmp : undefined;
    p.waiting = false;
    p.contextChanged();
    this.live = true;
  }

  /** Saves the guest's live state back into the virtual hart. */
  private save(): void {
    const p = this.p;
    const vh = this.vh;
    this.live = false;
    vh.x.set(p.x);
    vh.pc = p.pc;
    vh.priv = p.priv;
    vh.mstatus = ((vh.mstatus & ~S_STATUS) | (p.mstatus & S_STATUS)) >>> 0;
    vh.stvec = p.stvec;
    vh.sscratch = p.sscratch;
    vh.sepc = p.sepc;
    vh.scause = p.scause;
    vh.stval = p.stval;
    vh.satp = p.satp;
    const sDeleg = vh.mideleg & S_IRQS;
    vh.mie = ((vh.mie & ~sDeleg) | ((p.mie >>> 1) & sDeleg)) >>> 0;
    if ((sDeleg & 2) !== 0) vh.mipSw = ((vh.mipSw & ~2) | ((p.mipSw >>> 1) & 2)) >>> 0;
    vh.reservation = p.reservation;
    // The guest may have changed its tables and fenced on the hardware: the virtual hart's own TLB
    // (used when it interprets) must not keep older translations.
    vh.tlb.flushAll();
    this.vhFlushMark = vh.tlb.flushes;
    vh.contextChanged();
    p.trapHook = undefined;
  }

  /** ExitHandler: an exception of the physical hart the guest did not delegate to its VS-mode. */
  trap(cause: number, tval: number): void {
    const p = this.p;
    const vh = this.vh;
    const stats = this.vm.stats;
    stats.exits[cause & 31]++;
    if (cause === Cause.STORE_GUEST_PAGE && this.logWrite(p.hx.faultGpa * 4 + (tval & 3))) return;
    // Progress is what the guest retired at every level: instructions of its virtual M-mode, which
    // the VMM interprets between exits, count too (an exit loop through a handler is no storm).
    const instret = vh.instret + p.sliceDone;
    this.stormCount = instret === this.lastInstret ? this.stormCount + 1 : 0;
    this.lastInstret = instret;
    // The guest's clock up to the exit (the faulting attempt is a step, as in trap mode).
    vh.sliceDone = p.sliceDone;
    vh.sliceSteps = p.sliceSteps - this.hiddenSteps;
    const gpa = p.hx.faultGpa * 4 + (tval & 3);
    this.save();
    if (this.stormCount > EXIT_STORM_LIMIT) {
      this.vm.crash(`exit storm: ${EXIT_STORM_LIMIT} exits in a row without progress, the last one cause ${cause} at pc 0x${(vh.pc >>> 0).toString(16)}`);
      p.sliceEnd = 0;
      return;
    }
    switch (cause) {
      case Cause.ECALL_VS:
        // The guest kernel's ecall: an SBI call the VMM answers, or its virtual M-mode's.
        if (this.vm.machine.sbi !== undefined) {
          if (this.vm.machine.sbi.call(vh.x)) vh.pc = (vh.pc + 4) | 0;
        } else {
          this.reflect(Cause.ECALL_S, 0);
        }
        break;
      case Cause.INSN_GUEST_PAGE:
      case Cause.LOAD_GUEST_PAGE:
      case Cause.STORE_GUEST_PAGE:
        this.guestPageFault(cause, tval, gpa);
        break;
      case Cause.VIRTUAL_INSN:
        this.emulate(tval);
        break;
      default:
        this.reflect(cause, tval);
    }
    // The slice's progress is added when the interpreter hands back (run).
    vh.sliceDone = vh.sliceSteps = 0;
    if (vh.priv !== Priv.M && !vh.waiting && this.vm.runnable && this.vm.machine.exitCode === undefined) this.load();
    // The loop re-reads the hart: end the slice so the VMM looks at interrupts, timers and modes.
    p.sliceEnd = 0;
  }

  /**
   * Dirty logging (docs/migration.md): a store guest-page fault on guest RAM whose G-stage leaf the
   * log write-protected. The page is logged and gets W back, the hart's TLB is fenced, and the store
   * runs again; the fault is no step of the guest's clock. False: the fault is the guest's own.
   */
  private logWrite(gpa: number): boolean {
    const vm = this.vm;
    const log = vm.bus.writeLog;
    if (log === undefined || !vm.pmap.allowWrite(gpa)) return false;
    log[(vm.pmap.lookup(gpa) - this.vmm.host.ramBase) >>> 12] = 1;
    this.p.tlb.flushAll();
    this.hiddenSteps++;
    return true;
  }

  /** Reflects an exception into the guest through its virtual trap logic (to its S- or M-mode). */
  private reflect(cause: number, tval: number): void {
    this.vh.raise(cause, tval);
    this.vm.stats.reflect(`exception${cause}`);
  }

  /** A retired instruction the VMM emulated. */
  private retire(): void {
    this.vh.instret++;
    this.vm.stats.retired[this.vh.priv]++;
  }

  /**
   * A guest-page fault: guest RAM is always mapped, so the address is a device. A load or store is
   * decoded and performed on the VM's device model; a fetch there is an access fault for the guest.
   */
  private guestPageFault(cause: number, tval: number, gpa: number): void {
    const vh = this.vh;
    const vm = this.vm;
    const access = cause === Cause.INSN_GUEST_PAGE ? Access.FETCH : cause === Cause.LOAD_GUEST_PAGE ? Access.LOAD : Access.STORE;
    const faultOf = [Cause.INSN_ACCESS, Cause.LOAD_ACCESS, Cause.STORE_ACCESS][access];
    // The guest's own PMP (the filter on the G-stage): its denial is an access fault for the guest.
    if (vh.features.pmp && (vh.pmp.permissions(gpa, 1, vh.priv) & [4, 1, 2][access]) === 0) return this.reflect(faultOf, tval);
    if (vm.pmap.lookup(gpa) >= 0) {
      vm.crash(`guest-page fault on guest RAM at 0x${gpa.toString(16)}: the VM's pmap is damaged`);
      return;
    }
    if (access === Access.FETCH) return this.reflect(Cause.INSN_ACCESS, tval);
    const bits = this.fetch();
    if (bits === undefined) return;
    const length = (bits & 3) === 3 ? 4 : 2;
    const w = length === 2 ? EXPAND_C[bits & 0xffff] : bits;
    const op = decodeWord(w >>> 0);
    const size = op === Op.LW || op === Op.SW ? 4 : op === Op.LH || op === Op.LHU || op === Op.SH ? 2 : op === Op.LB || op === Op.LBU || op === Op.SB ? 1 : 0;
    if (size === 0) return this.reflect(faultOf, tval);
    const bus = vm.bus;
    if (access === Access.STORE) {
      bus.store(gpa, size, vh.x[(w >>> 20) & 31]);
      if (!bus.ok) return this.reflect(Cause.STORE_ACCESS, tval);
      vm.stats.emulate('mmio-store');
    } else {
      let v = bus.load(gpa, size);
      if (!bus.ok) return this.reflect(Cause.LOAD_ACCESS, tval);
      if (op === Op.LB) v = (v << 24) >> 24;
      else if (op === Op.LH) v = (v << 16) >> 16;
      const rd = (w >>> 7) & 31;
      if (rd !== 0) vh.x[rd] = v | 0;
      vm.stats.emulate('mmio-load');
    }
    vm.stats.deviceAccesses++;
    vh.pc = (vh.pc + length) | 0;
    this.retire();
  }

  /** The instruction at the guest's pc, fetched through both stages; undefined after reflecting a fault. */
  private fetch(): number | undefined {
    const p = this.p;
    const vh = this.vh;
    // The hart still holds the guest's translation context (V=1): fetch as the guest.
    const bits = p.fetchSlow(vh.pc);
    if (p.fault !== 0) {
      const f = p.fault;
      this.reflect(f === Cause.INSN_GUEST_PAGE ? Cause.INSN_ACCESS : f, p.faultVa >>> 0);
      return undefined;
    }
    return bits >>> 0;
  }

  /**
   * A virtual-instruction exit: counter reads (hcounteren is 0, so the guest reads its own clock) and
   * WFI (hstatus.VTW), emulated against the virtual hart; anything else is illegal for the guest.
   */
  private emulate(bits: number): void {
    const vh = this.vh;
    const d = decodeAny(bits);
    if (d.def === undefined) return this.reflect(Cause.ILLEGAL, bits);
    const w = d.size === 2 ? EXPAND_C[bits & 0xffff] : bits;
    const id = d.size === 2 ? decodeWord(w >>> 0) : d.def.id;
    const rd = (w >>> 7) & 31;
    const rs1 = (w >>> 15) & 31;
    const next = (vh.pc + d.size) | 0;
    switch (id) {
      case Op.CSRRW: case Op.CSRRS: case Op.CSRRC: case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI: {
        const imm = id >= Op.CSRRWI;
        const src = imm ? rs1 : vh.x[rs1];
        const kind = id === Op.CSRRW || id === Op.CSRRWI ? CsrOp.WRITE : id === Op.CSRRS || id === Op.CSRRSI ? CsrOp.SET : CsrOp.CLEAR;
        const old = vh.csrAccess(w >>> 20, kind, src, kind === CsrOp.WRITE || rs1 !== 0);
        if (vh.fault !== 0) return this.reflect(Cause.ILLEGAL, bits);
        if (rd !== 0) vh.x[rd] = old;
        vh.pc = next;
        this.vm.stats.emulate('csr');
        this.retire();
        return;
      }
      case Op.WFI:
        if (vh.priv === Priv.U || (vh.priv === Priv.S && (vh.mstatus & Mstatus.TW) !== 0)) return this.reflect(Cause.ILLEGAL, bits);
        vh.pc = next;
        this.retire();
        if (!vh.wakeupPending()) vh.waiting = true;
        this.vm.stats.emulate('wfi');
        return;
      default:
        // sret under the guest's TSR, sfence.vma under its TVM, and anything the guest may not run.
        return this.reflect(Cause.ILLEGAL, bits);
    }
  }

  switchIn(): void {}

  switchOut(): void {}

  /** A device wrote guest RAM: translated code there goes (the hart's TLB maps frames, not contents). */
  dmaWritten(gpa: number, hostOffset: number): void {
    void gpa;
    const code = this.p.code;
    if (code !== undefined && code.codeChunks[hostOffset >>> 12] !== 0) code.invalidatePage(hostOffset);
  }

  /** The guest was rebooted: no translation of its old context may survive. */
  reset(): void {
    this.forget();
  }

  restart(): void {}

  destroy(): void {
    this.forget();
  }

  private forget(): void {
    const p = this.p;
    p.tlb.flushTranslated(undefined, undefined);
    const code = p.code;
    if (code !== undefined) for (const { hpa } of this.vm.pmap.entries()) code.releasePage(hpa - this.vmm.host.ramBase);
  }
}


function copySet(from: ReadonlySet<number>, to: Set<number>): void {
  if (from.size === 0 && to.size === 0) return;
  to.clear();
  for (const a of from) to.add(a);
}
