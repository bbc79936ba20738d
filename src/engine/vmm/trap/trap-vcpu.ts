// Trap-and-emulate: the guest kernel runs deprivileged in U-mode on the physical hart, over shadow
// page tables. Every trap the hart raises comes here (Hart.trapHook): privileged instructions are
// emulated against the VM's virtual hart (its CSR table and trap logic, reused), guest exceptions
// are reflected through the virtual trap CSRs, page faults fill shadows or emulate device and
// page-table accesses. Handlers leave the physical hart as the guest must continue.

import { CsrOp, Priv, type Hart } from '../../cpu/hart';
import { amoValue, execute } from '../../cpu/interp';
import { Mstatus } from '../../cpu/csr-defs';
import { C_ID, decodeWord, EXPAND_C } from '../../isa/decode';
import { Op } from '../../isa/opcodes';
import { StopReason } from '../../machine/machine';
import { inBootRom } from '../../machine/memory-map';
import { Access, Cause, leafAllows, Pte, walkSv32, WalkResult, type PteMemory, type WalkContext } from '../../mmu/walk';
import { shadowKeyFor, ShadowSet, type Shadow } from '../shadow';
import { BootRomRunner } from './boot-rom';
import { sleepInWfi, type ExitHandler, type Vcpu } from '../vcpu';
import type { Vm } from '../vm';
import type { Vmm } from '../vmm';

/** Exits in a row without a retired instruction after which a guest counts as crashed. */
export const TRAP_STORM_LIMIT = 10_000;

/** Guest page-table reads and A/D writes through the VM's guest-physical space. */
class GuestPtes implements PteMemory {
  ok = true;
  reads = 0;
  constructor(private readonly vm: Vm) {}
  readPte(pa: number): number {
    this.reads++;
    const v = this.vm.bus.load(pa, 4);
    this.ok = this.vm.bus.ok && this.vm.bus.ramOffset(pa, 4) >= 0;
    return v;
  }
  writePte(pa: number, value: number): void {
    this.vm.bus.store(pa, 4, value);
    this.ok = this.vm.bus.ok;
  }
}

const ACCESS_OF_CAUSE: Record<number, Access> = { [Cause.INSN_PAGE]: Access.FETCH, [Cause.LOAD_PAGE]: Access.LOAD, [Cause.STORE_PAGE]: Access.STORE };
const ACCESS_FAULT = [Cause.INSN_ACCESS, Cause.LOAD_ACCESS, Cause.STORE_ACCESS];
const PAGE_FAULT = [Cause.INSN_PAGE, Cause.LOAD_PAGE, Cause.STORE_PAGE];
/** PMP permission bit (X 4, R 1, W 2) and shadow PTE bit of each access (fetch, load, store). */
const PMP_BIT = [4, 1, 2];
const PTE_BIT = [Pte.X, Pte.R, Pte.W];
/** The statistics' name of each reflected exception (no string is built per exit). */
const EXCEPTION_NAME = Array.from({ length: 32 }, (_, i) => `exception${i}`);
/** The mstatus bits a shadow context depends on (besides privilege and satp). */
const CONTEXT_MSTATUS = Mstatus.SUM | Mstatus.MXR | Mstatus.MPRV | Mstatus.MPP;

/**
 * What the current shadow was chosen from (privilege, satp, the mstatus bits of CONTEXT_MSTATUS), so
 * an exit that changed none of them finds its shadow without building its key. A class, not a plain
 * record: a cache, never saved in a snapshot.
 */
class ContextInputs {
  priv = -1;
  satp = 0;
  mstatus = 0;
}

/** Where a guest translation went (TrapVcpu.guestTranslate's result, one object per vCPU). */
class GuestTranslation {
  gpa = 0;
  paged = false;
  priv = 0;
}

/** The trap-mode vCPU of one VM. */
export class TrapVcpu implements Vcpu, ExitHandler {
  readonly onHart = true;
  readonly shadows: ShadowSet;
  private current: Shadow | undefined;
  private readonly ptes: GuestPtes;
  private readonly walkOut = new WalkResult();
  private readonly ctx: WalkContext = { priv: 1, sum: false, mxr: false, updateAD: true };
  private readonly inputs = new ContextInputs();
  private readonly translation = new GuestTranslation();
  private retiredMark = 0;
  private stormCount = 0;
  /** Steps of the current physical slice spent on faults the guest never sees (shadow fills). */
  hiddenSteps = 0;
  private lastInstret = -1;
  /** Loaded while still in the boot ROM: `run` interprets the ROM and loads the guest after it. */
  private inRom = false;
  /** Interprets the boot ROM for the virtual hart (boot-rom.ts; public for its tests). */
  readonly romRunner: BootRomRunner;

  constructor(protected readonly vm: Vm, protected readonly vmm: Vmm) {
    this.shadows = new ShadowSet(vmm.host, vmm.frames, vm.id, vm.stats);
    this.ptes = new GuestPtes(vm);
    this.romRunner = new BootRomRunner(vm);
    // An SBI remote sfence.vma reaches the physical TLB that caches the shadows; the shadows hold
    // nothing stale (see the SFENCE.VMA case of emulate).
    vm.machine.onSbiFence = (kind) => {
      if (kind !== 'vma') return;
      this.p.tlb.flushAll();
    };
  }

  /**
   * An ecall from the guest's virtual S-mode under `--bios sbi`: the VMM answers it with the SBI the
   * bare machine uses (machine/sbi.ts), on the registers the physical hart holds; a legacy call's bad
   * pointer delivers a page fault to the guest instead.
   */
  protected sbiCall(): void {
    const p = this.p;
    this.vh.pc = p.pc;
    if (this.vm.machine.sbi!.call(p.x)) {
      p.pc = (p.pc + 4) | 0;
    } else {
      p.pc = this.vh.pc;
      this.applyContext();
    }
    p.sliceEnd = 0;
  }

  protected get p(): Hart {
    return this.vmm.hart;
  }

  protected get vh(): Hart {
    return this.vm.vhart;
  }

  /**
   * Whether the guest is still in the boot ROM: M-mode, no paging, pc in the ROM. (A guest that
   * jumped anywhere else outside its RAM runs on the physical hart and faults there, where a storm
   * of such faults ends it as crashed.)
   */
  private inBootRom(): boolean {
    const vh = this.vh;
    return inBootRom(vh.pcU) && vh.priv === Priv.M && vh.satp >>> 31 === 0;
  }

  /**
   * Runs the guest's boot ROM for the virtual hart by interpretation (boot-rom.ts), one
   * instruction at a time for at most `budget` steps, stopping in front of a breakpoint (but the
   * resumed pc): the ROM is a device, not RAM, so it cannot run on the physical hart. It leaves
   * a0/a1/a2 set and pc at the kernel entry. Returns the steps it took, or -1 in front of a
   * breakpoint.
   */
  bootThroughRom(budget: number): number {
    const vh = this.vh;
    const start = vh.steps;
    for (let i = 0; i < 64 && vh.steps - start < budget && this.inBootRom(); i++) {
      if (this.vm.breakpoints.has(vh.pcU) && vh.pcU !== this.vm.resumePc) return -1;
      vh.sliceDone = 0;
      vh.sliceSteps = 0;
      this.romRunner.step();
      if (vh.sliceSteps > 0) this.vm.resumePc = -1;
      vh.instret += vh.sliceDone;
      vh.steps += vh.sliceSteps;
      this.vm.stats.retired[vh.priv] += vh.sliceDone;
      this.vm.stats.emulate('boot-rom', vh.sliceDone);
    }
    vh.sliceDone = 0;
    vh.sliceSteps = 0;
    return vh.steps - start;
  }

  /** Loads the VM onto the physical hart (a VM still in its boot ROM is loaded once `run` leaves it). */
  switchIn(): void {
    this.inRom = this.inBootRom();
    if (!this.inRom) this.load();
  }

  private load(): void {
    const p = this.p;
    const vh = this.vh;
    p.x.set(vh.x);
    p.pc = vh.pc;
    p.priv = Priv.U;
    p.mcounteren = 0;
    p.scounteren = 0;
    // Written only when they differ: V8 takes a field no object ever changed as a constant in the
    // interpreter's compiled code, and the first change throws that code away (docs/speed.md).
    const pf = p.features;
    const vf = vh.features;
    if (pf.xsensitive !== vf.xsensitive) pf.xsensitive = vf.xsensitive;
    if (pf.c !== vf.c) pf.c = vf.c;
    if (pf.m !== vf.m) pf.m = vf.m;
    if (pf.a !== vf.a) pf.a = vf.a;
    p.trapHook = this;
    p.breakpoints.clear();
    this.retiredMark = p.instretNow();
    this.current = undefined;
    this.applyContext();
  }

  /** Saves the guest's registers back into the virtual hart. */
  switchOut(): void {
    const p = this.p;
    // Still in the ROM, the guest never went onto the physical hart: its state is the virtual hart's.
    if (this.inRom) return;
    this.account();
    this.vh.x.set(p.x);
    this.vh.pc = p.pc;
    p.trapHook = undefined;
  }

  /** Brings the virtual hart's counters up to the physical hart's progress in this slice. */
  syncClock(): void {
    this.vh.sliceDone = this.p.sliceDone;
    this.vh.sliceSteps = this.p.sliceSteps - this.hiddenSteps;
  }

  /**
   * Attributes the instructions retired since the last exit to the guest's current privilege (the
   * VMM calls it after every run, so a VM's statistics are exact even when it ran out of budget).
   */
  account(): void {
    const now = this.p.instretNow();
    this.vm.stats.retired[this.vh.priv] += now - this.retiredMark;
    this.retiredMark = now;
  }

  /** An instruction the VMM emulated retires for the guest (at `priv`, default the current one). */
  protected retireEmulated(priv = this.vh.priv): void {
    this.vh.instret++;
    this.vm.stats.retired[priv]++;
  }

  /**
   * A device wrote guest RAM (DMA, within one page) behind the physical hart's back: translated code
   * there goes, and when a page-table page changed, the shadows go too.
   */
  dmaWritten(gpa: number, hostOffset: number, length: number): void {
    const code = this.p.code;
    if (code !== undefined && code.codeChunks[hostOffset >>> 12] !== 0) code.invalidatePage(hostOffset);
    if (length > 0 && this.shadows.tablePages.has(Math.floor(gpa / 4096))) {
      if (!this.shadows.syncTableWrite(gpa, length)) this.shadows.flush();
      this.p.tlb.flushAll();
      this.p.sliceEnd = 0;
    }
  }

  /** The guest was rebooted: its shadows describe the old guest tables. */
  reset(): void {
    this.shadows.destroy();
  }

  /** The user's reset: nothing is counted outside the VM's statistics. */
  restart(): void {}

  /** The VM is removed: the shadows' frames go back to the allocator. */
  destroy(): void {
    this.shadows.destroy();
  }

  /**
   * Runs the loaded guest on the physical hart in slices up to the next virtual timer deadline,
   * injecting virtual interrupts between them; every trap of a slice comes to `trap`.
   */
  run(budget: number): StopReason {
    const m = this.vm.machine;
    const vh = m.hart;
    const p = this.p;
    const hitsBefore = p.tlb.hits;
    const missesBefore = p.tlb.misses;
    let reason: StopReason = StopReason.BUDGET;
    let remaining = budget;
    if (this.inRom) {
      const used = this.bootThroughRom(budget);
      if (used < 0) return StopReason.BREAKPOINT;
      remaining -= used;
      if (this.inBootRom()) return m.exitCode !== undefined ? StopReason.EXIT : StopReason.BUDGET;
      this.inRom = false;
      this.load();
      for (const a of this.vm.breakpoints) p.breakpoints.add(a);
    }
    while (remaining > 0 && this.vm.runnable) {
      if (m.exitCode !== undefined) {
        reason = StopReason.EXIT;
        break;
      }
      // A reboot the guest asked for (its device write ended the slice): the VMM performs it.
      if (m.resetPending) {
        reason = StopReason.RESET;
        break;
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
      this.injectInterrupts();
      const slice = Math.max(1, Math.min(remaining, m.stepsUntilDeadline()));
      p.sliceDone = 0;
      p.sliceSteps = 0;
      p.bpSkip = this.vm.resumePc;
      this.runSlice(slice);
      if (p.sliceDone > 0) this.vm.resumePc = -1;
      this.syncClock();
      // The guest's clock advances by what it executed; the physical counters keep the total.
      vh.instret += p.sliceDone;
      vh.steps += p.sliceSteps - this.hiddenSteps;
      this.hiddenSteps = 0;
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
    this.account();
    this.vm.stats.tlbHits += p.tlb.hits - hitsBefore;
    this.vm.stats.hartTlbMisses += p.tlb.misses - missesBefore;
    return reason;
  }

  /** Runs one slice of at most `slice` steps on the physical hart (the guest runs natively). */
  protected runSlice(slice: number): void {
    execute(this.p, slice);
  }

  /** Injects a pending virtual interrupt, if the guest's virtual state lets one in. */
  injectInterrupts(): boolean {
    const irq = this.vh.pendingInterrupt();
    if (irq < 0) return false;
    this.account();
    this.vh.pc = this.p.pc;
    this.vh.takeInterrupt(irq);
    this.p.pc = this.vh.pc;
    this.vm.stats.reflect(`irq${irq}`);
    this.applyContext();
    return true;
  }

  /** TrapHook: every exception of the physical hart while this guest runs. */
  trap(cause: number, tval: number): void {
    const p = this.p;
    this.syncClock();
    this.account();
    this.vm.stats.exits[cause & 31]++;
    const instret = p.instretNow();
    this.stormCount = instret === this.lastInstret ? this.stormCount + 1 : 0;
    this.lastInstret = instret;
    if (this.stormCount > TRAP_STORM_LIMIT) {
      this.crash(`trap storm: ${TRAP_STORM_LIMIT} traps in a row without progress, the last one cause ${cause} at pc 0x${(p.pc >>> 0).toString(16)} (tval 0x${tval.toString(16)})`);
      return;
    }
    switch (cause) {
      case Cause.ILLEGAL:
        this.emulate(tval);
        break;
      case Cause.ECALL_U:
        if (this.vh.priv === Priv.S && this.vm.machine.sbi !== undefined) this.sbiCall();
        else this.reflect(Cause.ECALL_U + this.vh.priv, 0);
        break;
      case Cause.INSN_PAGE:
      case Cause.LOAD_PAGE:
      case Cause.STORE_PAGE:
        this.pageFault(ACCESS_OF_CAUSE[cause], tval);
        break;
      case Cause.BREAKPOINT:
      case Cause.INSN_MISALIGNED:
      case Cause.LOAD_MISALIGNED:
      case Cause.STORE_MISALIGNED:
        this.reflect(cause, tval);
        break;
      default:
        this.crash(`unexpected trap cause ${cause} at pc 0x${(p.pc >>> 0).toString(16)}: the VMM cannot continue this guest`);
    }
  }

  protected crash(reason: string): void {
    this.vm.crash(reason);
    this.p.sliceEnd = 0;
  }

  /** Reflects an exception into the guest through its virtual trap CSRs. */
  protected reflect(cause: number, tval: number): void {
    this.vh.pc = this.p.pc;
    this.vh.raise(cause, tval);
    this.p.pc = this.vh.pc;
    this.vm.stats.reflect(EXCEPTION_NAME[cause & 31]);
    this.applyContext();
  }

  /** Points the physical hart at the shadow for the guest's current virtual context. */
  applyContext(): void {
    const vh = this.vh;
    const inputs = this.inputs;
    const mstatus = vh.mstatus & CONTEXT_MSTATUS;
    if (this.current === undefined || vh.priv !== inputs.priv || vh.satp !== inputs.satp || mstatus !== inputs.mstatus) {
      inputs.priv = vh.priv;
      inputs.satp = vh.satp;
      inputs.mstatus = mstatus;
      const key = this.contextKey();
      if (this.current === undefined || this.current.key !== key) {
        this.current = this.shadows.get(key);
        this.p.writeSatp(this.shadows.satpOf(this.current));
      }
    }
    this.p.priv = Priv.U;
    this.p.contextChanged();
    this.p.sliceEnd = 0;
    // The guest's debug triggers watch on the physical hart at the guest's current privilege.
    const vt = this.vh.triggers;
    const pt = this.p.triggers;
    if ((vt.armed || pt.armed) && pt.mirror(vt, this.vh.priv)) this.p.triggersChanged();
  }

  /** Key of the shadow for the guest's current context. */
  currentKey(): string {
    return this.contextKey();
  }

  private contextKey(): string {
    const vh = this.vh;
    const paged = vh.satp >>> 31 === 1;
    const mstatus = vh.mstatus;
    if (vh.priv === Priv.M) {
      const mpp = (mstatus & Mstatus.MPP) >>> Mstatus.MPP_SHIFT;
      return paged && (mstatus & Mstatus.MPRV) !== 0 && mpp !== Priv.M ? `mprv${mpp}:${vh.satp}:${mstatus & (Mstatus.SUM | Mstatus.MXR)}` : 'bare3';
    }
    return shadowKeyFor(vh.priv, vh.satp, mstatus);
  }

  // ---- privileged instructions --------------------------------------------------------

  protected emulate(bits: number): void {
    const p = this.p;
    const vh = this.vh;
    // No compressed encoding expands to a privileged instruction: those reach `default` below.
    const size = (bits & 3) === 3 ? 4 : 2;
    if (size === 2 && C_ID[bits & 0xffff] === Op.ILLEGAL) return this.reflect(Cause.ILLEGAL, bits);
    const w = size === 2 ? EXPAND_C[bits & 0xffff] : bits;
    const id = decodeWord(w >>> 0);
    const rd = (w >>> 7) & 31;
    const rs1 = (w >>> 15) & 31;
    const next = (p.pc + size) | 0;
    const stats = this.vm.stats;
    switch (id) {
      case Op.CSRRW: case Op.CSRRS: case Op.CSRRC: case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI: {
        const imm = id >= Op.CSRRWI;
        const src = imm ? rs1 : p.x[rs1];
        const kind = id === Op.CSRRW || id === Op.CSRRWI ? CsrOp.WRITE : id === Op.CSRRS || id === Op.CSRRSI ? CsrOp.SET : CsrOp.CLEAR;
        const satp = vh.satp;
        const mstatus = vh.mstatus;
        const priv = vh.priv;
        const old = vh.csrAccess(w >>> 20, kind, src, kind === CsrOp.WRITE || rs1 !== 0);
        if (vh.fault !== 0) return this.reflect(Cause.ILLEGAL, bits);
        if (rd !== 0) p.x[rd] = old;
        p.pc = next;
        stats.emulate('csr');
        this.retireEmulated();
        const csr = w >>> 20;
        const pmp = csr >= 0x3a0 && csr <= 0x3bf;
        if (pmp && kind !== CsrOp.SET) this.shadows.flush();
        else if (pmp && src !== 0) this.shadows.flush();
        // The context is applied again (and the slice ended) only when the access changed what it
        // depends on, or let an interrupt in: kernels read and clear sstatus.SIE around every lock
        // (xv6's push_off and pop_off), and the guest then runs on in the same slice.
        if (pmp || (csr >= 0x7a0 && csr <= 0x7af) || vh.satp !== satp || vh.priv !== priv || ((vh.mstatus ^ mstatus) & CONTEXT_MSTATUS) !== 0 ||
          vh.pendingInterrupt() >= 0) this.applyContext();
        return;
      }
      case Op.MRET:
        if (vh.priv < Priv.M) return this.reflect(Cause.ILLEGAL, bits);
        vh.pc = p.pc;
        if (vh.mret()) this.retireEmulated(Priv.M);
        p.pc = vh.pc;
        stats.emulate('mret');
        this.applyContext();
        return;
      case Op.SRET:
        if (vh.priv < Priv.S || (vh.priv === Priv.S && (vh.mstatus & Mstatus.TSR) !== 0)) return this.reflect(Cause.ILLEGAL, bits);
        this.retireEmulated();
        vh.sret();
        p.pc = vh.pc;
        stats.emulate('sret');
        this.applyContext();
        return;
      case Op.WFI:
        if (vh.priv === Priv.U || (vh.priv === Priv.S && (vh.mstatus & Mstatus.TW) !== 0)) return this.reflect(Cause.ILLEGAL, bits);
        p.pc = next;
        this.retireEmulated();
        if (!vh.wakeupPending()) {
          vh.waiting = true;
          p.sliceEnd = 0;
        }
        stats.emulate('wfi');
        return;
      case Op.SFENCE_VMA:
        if (vh.priv === Priv.U || (vh.priv === Priv.S && (vh.mstatus & Mstatus.TVM) !== 0)) return this.reflect(Cause.ILLEGAL, bits);
        // The shadows keep everything: every guest store to a page its walks used as a table exited
        // and dropped the shadow entries derived from the entries it changed, DMA and debugger writes
        // there too, and a page first used as a table was write-protected in every shadow. So no
        // shadow entry differs from what the guest's tables give now, which is all a fence of any
        // address or ASID must ensure (the spec lets a hart see a new PTE before the fence; trap mode
        // sees it at once). Only the physical TLB, a cache of the shadows, is flushed as bare flushes its own.
        p.tlb.flushAll();
        p.pc = next;
        this.retireEmulated();
        stats.emulate('sfence.vma');
        this.applyContext();
        return;
      default:
        return this.reflect(Cause.ILLEGAL, bits);
    }
  }

  // ---- page faults ----------------------------------------------------------------------

  /** The privilege a data access of the guest is checked at (MPRV applies in M-mode). */
  private dataPriv(): number {
    const vh = this.vh;
    if (vh.priv === Priv.M && (vh.mstatus & Mstatus.MPRV) !== 0) return (vh.mstatus & Mstatus.MPP) >>> Mstatus.MPP_SHIFT;
    return vh.priv;
  }

  /**
   * Translates a guest-virtual address as the guest's MMU would (guest tables, A/D updates);
   * returns the guest-physical address and leaves the leaf PTE in walkOut, or -1 after reflecting.
   */
  private guestTranslate(va: number, access: Access): GuestTranslation | undefined {
    const vh = this.vh;
    const priv = access === Access.FETCH ? vh.priv : this.dataPriv();
    const paged = priv !== Priv.M && vh.satp >>> 31 === 1;
    const t = this.translation;
    t.paged = paged;
    t.priv = priv;
    if (!paged) {
      t.gpa = va >>> 0;
      return t;
    }
    const c = this.ctx;
    c.priv = priv;
    c.sum = (vh.mstatus & Mstatus.SUM) !== 0;
    c.mxr = (vh.mstatus & Mstatus.MXR) !== 0;
    this.ptes.reads = 0;
    const r = walkSv32(this.walkOut, this.ptes, vh.satp & 0x3fffff, va >>> 0, access, c);
    this.vm.stats.walkReferences += this.ptes.reads;
    this.vm.stats.tlbMisses++;
    // The root and the level-0 table (when the walk reached it) are table pages from now on: no
    // shadow may map them writable.
    const rootGpn = vh.satp & 0x3fffff;
    const l0Gpn = r.fault === 0 && r.level === 0 ? Math.floor(r.pteAddr / 4096) : -1;
    let changed = this.shadows.noteTablePage(rootGpn) && this.protectTablePage(rootGpn);
    if (l0Gpn >= 0 && this.shadows.noteTablePage(l0Gpn)) changed = this.protectTablePage(l0Gpn) || changed;
    this.shadows.noteWalk(rootGpn, va >>> 22, l0Gpn);
    if (changed) this.p.tlb.flushAll();
    if (r.fault !== 0) {
      this.reflect(r.fault, va);
      return undefined;
    }
    t.gpa = r.pa;
    return t;
  }

  /** Takes write permission away from every shadow entry mapping guest page `gpn`; whether any had it. */
  protected protectTablePage(gpn: number, sync = true): boolean {
    const hpa = this.vm.pmap.lookup(gpn * 4096);
    return hpa >= 0 && this.shadows.writeProtect(hpa, sync) > 0;
  }

  private pageFault(access: Access, va: number): void {
    const vh = this.vh;
    const t = this.guestTranslate(va, access);
    if (t === undefined) return;
    const { gpa, paged, priv } = t;
    let pmpPerms = 7;
    if (vh.features.pmp) {
      pmpPerms = vh.pmp.permissions(gpa, 1, priv);
      if ((pmpPerms & PMP_BIT[access]) === 0) return this.reflect(ACCESS_FAULT[access], va);
    }
    const hpa = this.vm.pmap.lookup(gpa);
    if (hpa < 0) return this.deviceAccess(access, va, gpa);
    const gpn = Math.floor(gpa / 4096);
    const tablePage = this.shadows.tablePages.has(gpn);
    if (access === Access.STORE && tablePage) return this.tableWrite(va, gpa);
    const codePage = this.writeProtectsCode(gpn);
    if (access === Access.STORE && codePage) return this.codeWrite(va, gpa);
    let perms: number;
    if (paged) {
      const pte = this.walkOut.pte;
      const c = this.ctx;
      perms = (leafAllows(pte, Access.LOAD, c) ? Pte.R : 0) | (leafAllows(pte, Access.FETCH, c) ? Pte.X : 0) |
        ((pte & Pte.D) !== 0 && leafAllows(pte, Access.STORE, c) ? Pte.W : 0);
    } else {
      perms = Pte.R | Pte.W | Pte.X;
    }
    if (this.current!.key.startsWith('mprv')) perms &= access === Access.FETCH ? Pte.X : Pte.R | Pte.W;
    if (vh.features.pmp) {
      const page = vh.pmp.pagePermissions(gpa - (gpa % 4096), priv);
      const allowed = page < 0 ? pmpPerms : page;
      perms &= (allowed & 1 ? Pte.R : 0) | (allowed & 2 ? Pte.W : 0) | (allowed & 4 ? Pte.X : 0);
    }
    if (tablePage || codePage) perms &= ~Pte.W;
    if ((perms & PTE_BIT[access]) === 0) return this.reflect(PAGE_FAULT[access], va);
    // Dirty logging (docs/migration.md): a page not written since the log was read is mapped
    // read-only; the store that faults on it is logged and maps it writable.
    const log = this.vm.bus.writeLog;
    if (log !== undefined && (perms & Pte.W) !== 0) {
      const page = (hpa - this.vmm.host.ramBase) >>> 12;
      if (access === Access.STORE) log[page] = 1;
      else if (log[page] === 0) perms &= ~Pte.W;
    }
    const flushes = this.vm.stats.shadowFlushes;
    this.shadows.install(this.current!, va, hpa - (hpa % 4096), perms);
    // At the level-0 limit the install emptied every shadow first.
    if (this.vm.stats.shadowFlushes !== flushes) this.p.tlb.flushAll();
    // The guest never sees this fault: its instruction runs again, so the attempt is no step of its clock.
    this.hiddenSteps++;
  }

  /** Fetches the guest instruction at pc through the guest's translation; undefined: a fault was reflected. */
  private fetchInstruction(): number | undefined {
    const pc = this.p.pc;
    const t = this.guestTranslate(pc, Access.FETCH);
    if (t === undefined) return undefined;
    const lo = this.vm.bus.load(t.gpa, 2);
    if ((lo & 3) !== 3) return lo;
    const t2 = this.guestTranslate((pc + 2) | 0, Access.FETCH);
    if (t2 === undefined) return undefined;
    return (lo | (this.vm.bus.load(t2.gpa, 2) << 16)) >>> 0;
  }

  /**
   * Decodes the faulting load/store (or LR/SC, AMO) at pc: its size in bytes, base op, register
   * fields and length; null when it is none of these; undefined when fetching it faulted (already
   * reflected).
   */
  private memoryInstruction(): { op: number; size: number; rd: number; rs2: number; length: number } | null | undefined {
    const bits = this.fetchInstruction();
    if (bits === undefined) return undefined;
    const length = (bits & 3) === 3 ? 4 : 2;
    const w = length === 2 ? EXPAND_C[bits & 0xffff] : bits;
    const op = decodeWord(w >>> 0);
    const size = op === Op.LW || op === Op.SW || (op >= Op.LR_W && op <= Op.AMOMAXU_W) ? 4 : op === Op.LH || op === Op.LHU || op === Op.SH ? 2 : op === Op.LB || op === Op.LBU || op === Op.SB ? 1 : 0;
    if (size === 0) return null;
    return { op, size, rd: (w >>> 7) & 31, rs2: (w >>> 20) & 31, length };
  }

  /** A load or store to a virtual device: decode it and perform it on the VM's device model. */
  private deviceAccess(access: Access, va: number, gpa: number): void {
    if (access === Access.FETCH) return this.reflect(Cause.INSN_ACCESS, va);
    const insn = this.memoryInstruction();
    if (insn === undefined) return;
    if (insn === null) return this.reflect(ACCESS_FAULT[access], va);
    const p = this.p;
    const bus = this.vm.bus;
    if (insn.op >= Op.LR_W && insn.op <= Op.AMOMAXU_W) {
      if (!this.deviceAtomic(insn.op, insn.rd, insn.rs2, va, gpa)) return;
    } else if (access === Access.STORE) {
      bus.store(gpa, insn.size, p.x[insn.rs2]);
      if (!bus.ok) return this.reflect(Cause.STORE_ACCESS, va);
      this.vm.stats.emulate('mmio-store');
    } else {
      let v = bus.load(gpa, insn.size);
      if (!bus.ok) return this.reflect(Cause.LOAD_ACCESS, va);
      if (insn.op === Op.LB) v = (v << 24) >> 24;
      else if (insn.op === Op.LH) v = (v << 16) >> 16;
      if (insn.rd !== 0) p.x[insn.rd] = v | 0;
      this.vm.stats.emulate('mmio-load');
    }
    this.vm.stats.deviceAccesses++;
    p.pc = (p.pc + insn.length) | 0;
    this.retireEmulated();
    // A device access may raise a virtual interrupt or move a timer: let the VMM look.
    p.sliceEnd = 0;
  }

  /**
   * An LR/SC or AMO on a device, as the interpreter performs it (cpu/interp.ts, atomic): LR reads
   * and reserves, SC (reached only with the reservation at `va`) stores when the word still holds
   * the value LR read, an AMO reads, computes and writes. Returns false after reflecting a fault.
   */
  private deviceAtomic(op: number, rd: number, rs2: number, va: number, gpa: number): boolean {
    const p = this.p;
    const bus = this.vm.bus;
    const old = bus.load(gpa, 4) | 0;
    if (op === Op.LR_W) {
      if (!bus.ok) {
        this.reflect(Cause.LOAD_ACCESS, va);
        return false;
      }
      p.reservation = va | 0;
      p.reservedValue = old;
      if (rd !== 0) p.x[rd] = old;
      this.vm.stats.emulate('mmio-load');
      return true;
    }
    if (op === Op.SC_W) {
      p.reservation = -1;
      const ok = old === p.reservedValue;
      if (ok) bus.store(gpa, 4, p.x[rs2]);
      if (rd !== 0) p.x[rd] = ok ? 0 : 1;
    } else {
      if (!bus.ok) {
        this.reflect(Cause.STORE_ACCESS, va);
        return false;
      }
      bus.store(gpa, 4, amoValue(op, old, p.x[rs2]));
      if (rd !== 0) p.x[rd] = old;
    }
    this.vm.stats.emulate('mmio-store');
    return true;
  }

  /**
   * Whether shadows map guest page `gpn` read-only because the VMM translated code in it (bt): a
   * guest store to it then comes to `codeWrite`. Trap mode translates no guest code.
   */
  protected writeProtectsCode(gpn: number): boolean {
    void gpn;
    return false;
  }

  /** A guest store to a page whose code the VMM translated (see writeProtectsCode). */
  protected codeWrite(va: number, gpa: number): void {
    void va;
    void gpa;
  }

  /** A guest store to one of its own page-table pages: emulate it, then drop stale shadows. */
  protected tableWrite(va: number, gpa: number): void {
    const p = this.p;
    this.vm.stats.writeProtectFaults++;
    const size = this.emulateStore(va, gpa);
    if (size === undefined) return;
    // A PTE changed: no shadow may keep a translation derived from the old value. The reverse map
    // names the shadow entries that came from it (a flooded page forgets all of them); a page of
    // unknown role empties every shadow.
    if (!this.shadows.tableStoreFloods(Math.floor(gpa / 4096))) {
      if (this.shadows.syncTableWrite(gpa, size)) this.vm.stats.shadowSyncs++;
      else this.shadows.flush();
    }
    p.tlb.flushAll();
    this.applyContext();
  }

  /**
   * Emulates the guest's store (or AMO, SC) at pc that faulted on write-protected guest-physical
   * `gpa` through the guest-physical space; the instruction retires and pc moves on. Returns the
   * bytes stored, or undefined when a fault was reflected instead.
   */
  protected emulateStore(va: number, gpa: number): number | undefined {
    const p = this.p;
    const bits = this.fetchInstruction();
    if (bits === undefined) return undefined;
    const length = (bits & 3) === 3 ? 4 : 2;
    const w = length === 2 ? EXPAND_C[bits & 0xffff] : bits;
    const op = decodeWord(w >>> 0);
    const rd = (w >>> 7) & 31;
    const rs2 = (w >>> 20) & 31;
    const bus = this.vm.bus;
    const size = op === Op.SW ? 4 : op === Op.SH ? 2 : op === Op.SB ? 1 : 4;
    if (op === Op.SW || op === Op.SH || op === Op.SB) {
      bus.store(gpa, size, p.x[rs2]);
    } else if (op === Op.SC_W) {
      // As the hart's own SC (cpu/interp.ts): the reservation must be at this address and the word
      // must still hold the value LR read; either way the reservation ends.
      const ok = p.reservation === (va | 0) && (bus.load(gpa, 4) | 0) === p.reservedValue;
      p.reservation = -1;
      if (ok) bus.store(gpa, 4, p.x[rs2]);
      if (rd !== 0) p.x[rd] = ok ? 0 : 1;
    } else if (op > Op.SC_W && op <= Op.AMOMAXU_W) {
      const old = bus.load(gpa, 4) | 0;
      const b = p.x[rs2];
      const values: Record<number, number> = {
        [Op.AMOSWAP_W]: b, [Op.AMOADD_W]: (old + b) | 0, [Op.AMOXOR_W]: old ^ b, [Op.AMOAND_W]: old & b,
        [Op.AMOOR_W]: old | b, [Op.AMOMIN_W]: Math.min(old, b), [Op.AMOMAX_W]: Math.max(old, b),
        [Op.AMOMINU_W]: (old >>> 0) < (b >>> 0) ? old : b, [Op.AMOMAXU_W]: (old >>> 0) > (b >>> 0) ? old : b,
      };
      bus.store(gpa, 4, values[op]);
      if (rd !== 0) p.x[rd] = old;
    } else {
      this.reflect(Cause.STORE_ACCESS, va);
      return undefined;
    }
    this.vm.stats.emulate(this.shadows.tablePages.has(Math.floor(gpa / 4096)) ? 'page-table-store' : 'code-page-store');
    this.retireEmulated();
    p.pc = (p.pc + length) | 0;
    return size;
  }
}

