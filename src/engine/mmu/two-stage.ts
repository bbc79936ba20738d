// Two-stage address translation of the H extension (privileged spec 20211203 §8.5): the VS-stage
// walks the guest's Sv32 table (vsatp) over guest-physical addresses, and every guest-physical
// address it produces, its own PTE addresses included, goes through the G-stage (hgatp, Sv32x4:
// a 16 KiB root indexed by guest-physical bits 33:22, leaves checked as U-mode accesses). One walk of
// Sv32 over Sv32x4 reads at most 8 PTEs here (2 VS PTEs, each located by a 2-level G walk, and the
// final 2-level G walk), 12 references with the A/D writes of its four leaves (the VS leaf and the
// three G leaves). Faults follow QEMU 7.2's
// target/riscv/cpu_helper.c (docs/machine.md): a G-stage failure while reading a VS PTE is a load
// guest-page fault (21) whatever the access, with htval = that PTE's guest-physical address >> 2; a
// PMP failure of the final access under two-stage translation is a guest-page fault too.

import { Access, Cause, leafAllows, Pte, walkSv32, WalkResult, type PteMemory, type WalkContext } from './walk';

/** Guest-page-fault cause of an access kind. */
export const GUEST_PAGE_FAULT_OF = [Cause.INSN_GUEST_PAGE, Cause.LOAD_GUEST_PAGE, Cause.STORE_GUEST_PAGE];

/** Physical memory the walks read (the hart: PMP-checked S-mode PTE reads and A/D writes). */
export interface HostPteMemory extends PteMemory {
  /** PMP permission bits (1 R, 2 W, 4 X) for `size` bytes at `pa` in privilege `priv`, 7 without PMP. */
  pmpBits(pa: number, size: number, priv: number): number;
}

/** A translation's outcome: a host physical address, or a fault with its trap values. */
export class TwoStageResult {
  /** Host physical address; -1 on a fault. */
  pa = -1;
  /** Guest-physical address (the VS-stage's output). */
  gpa = 0;
  /** 0, or the exception cause. */
  fault = 0;
  /** For guest-page faults: the faulting guest-physical address >> 2 (htval / mtval2). */
  htval = 0;
  /** The leaf PTEs of both stages (0 where that stage is bare) and the VS leaf's level. */
  vsPte = 0;
  gPte = 0;
  vsLevel = 0;
  /** Whether each stage was bare. */
  vsBare = true;
  gBare = true;
}

/** Counts of memory references made by two-stage walks, for the technique table. */
export class TwoStageStats {
  /** Two-stage walks (TLB misses under V=1, HLV/HSV accesses). */
  walks = 0;
  /** PTE reads and A/D writes of those walks, both stages. */
  refs = 0;
}

/** Which part of a two-stage walk the next memory references belong to (TwoStageTrace.part). */
export const enum WalkPart {
  /** A VS-stage PTE at a guest-physical address. */
  VS_PTE = 0,
  /** The G-stage walk that locates a VS PTE's guest-physical address in host memory. */
  G_FOR_PTE = 1,
  /** The G-stage walk of the VS-stage's result (the final guest-physical address). */
  G_FINAL = 2,
}

/**
 * Sees every memory reference of a two-stage walk, for the page-table inspector's recorder: `part`
 * names what the references that follow are for (with the guest-physical address concerned), `ref`
 * is one PTE read or A/D write in host-physical memory. Unset on the hart (no cost in its walks).
 */
export interface TwoStageTrace {
  part(part: WalkPart, gpa: number): void;
  ref(pa: number, value: number, write: boolean): void;
}

/** The G-stage seen from the VS-stage walk: PTE addresses are guest-physical and translated first. */
class GuestPteMemory implements PteMemory {
  ok = true;
  /** Set when a VS PTE's guest-physical address failed the G-stage (then ok is false). */
  gFault = false;
  gFaultGpa = 0;
  hgatp = 0;
  mxr = false;
  private lastGpa = -1;
  private lastPa = 0;
  private readonly out = new WalkResult();
  private readonly ctx: WalkContext = { priv: 0, sum: false, mxr: false, updateAD: true };
  trace: TwoStageTrace | undefined = undefined;
  /** Dirty log of A/D updates (TwoStage.logPteWrites), indexed by host page from `logBase`. */
  writeLog: Uint8Array | undefined = undefined;
  logBase = 0;

  constructor(private readonly host: CountingMemory) {
    // A hw VM's switch-in sets both (logPteWrites), the base a host address past 2^31. Written
    // again here, the base once as a fraction, so that code V8 compiled before (the interpreter,
    // in the warm-up) relies on neither the first values nor a small integer: it was thrown away
    // at the first hw run ("code dependencies") and compiled again on the machine's thread.
    this.writeLog = undefined;
    this.logBase = 0.5;
    this.logBase = 0;
  }

  begin(hgatp: number, mxr: boolean): void {
    this.hgatp = hgatp;
    this.mxr = mxr;
    this.gFault = false;
    this.lastGpa = -1;
  }

  /** The host address of a VS PTE (G-stage as a load, as QEMU 7.2 translates the PTE address), or -1. */
  private hostOf(gpa: number): number {
    if (gpa === this.lastGpa) return this.lastPa;
    let pa = gpa;
    if ((this.hgatp >>> 31) !== 0) {
      this.ctx.mxr = this.mxr;
      this.trace?.part(WalkPart.G_FOR_PTE, gpa);
      const r = walkSv32(this.out, this.host, this.hgatp & 0x3fffff, gpa, Access.LOAD, this.ctx, 12);
      if (r.fault !== 0) {
        this.gFault = true;
        this.gFaultGpa = gpa;
        return -1;
      }
      pa = r.pa;
    }
    this.lastGpa = gpa;
    this.lastPa = pa;
    return pa;
  }

  readPte(gpa: number): number {
    const pa = this.hostOf(gpa);
    if (pa < 0) {
      this.ok = false;
      return 0;
    }
    this.trace?.part(WalkPart.VS_PTE, gpa);
    const v = this.host.readPte(pa);
    this.ok = this.host.ok;
    return v;
  }

  writePte(gpa: number, value: number): void {
    const pa = this.hostOf(gpa);
    if (pa < 0) {
      this.ok = false;
      return;
    }
    this.trace?.part(WalkPart.VS_PTE, gpa);
    this.host.writePte(pa, value);
    this.ok = this.host.ok;
    if (this.writeLog !== undefined && this.ok) this.writeLog[(pa - this.logBase) >>> 12] = 1;
  }
}

/** The host memory, counting references. */
class CountingMemory implements PteMemory {
  ok = true;
  trace: TwoStageTrace | undefined = undefined;
  constructor(private readonly host: HostPteMemory, private readonly stats: TwoStageStats) {}
  readPte(pa: number): number {
    this.stats.refs++;
    const v = this.host.readPte(pa);
    this.ok = this.host.ok;
    this.trace?.ref(pa, v, false);
    return v;
  }
  writePte(pa: number, value: number): void {
    this.stats.refs++;
    this.trace?.ref(pa, value, true);
    this.host.writePte(pa, value);
    this.ok = this.host.ok;
  }
}

/** The two-stage translator of one hart. Allocation-free after construction. */
export class TwoStage {
  readonly stats = new TwoStageStats();
  readonly result = new TwoStageResult();
  /** Contexts of the last translation's permission checks (for the TLB fill). */
  readonly vsCtx: WalkContext = { priv: 0, sum: false, mxr: false, updateAD: true };
  readonly gCtx: WalkContext = { priv: 0, sum: false, mxr: false, updateAD: true };
  private readonly counting: CountingMemory;
  private readonly guest: GuestPteMemory;
  private readonly vsOut = new WalkResult();
  private readonly gOut = new WalkResult();

  constructor(private readonly host: HostPteMemory) {
    this.counting = new CountingMemory(host, this.stats);
    this.guest = new GuestPteMemory(this.counting);
  }

  /**
   * Logs the pages of the VS-stage A/D updates that follow in `log` (one byte per host page from
   * host address `base`), or stops with undefined. The hart translates a VS PTE's address as a
   * load (as QEMU 7.2), so these writes pass a write-protected G-stage: a VMM logging dirty pages
   * through the G-stage learns of them here, as x86's EPT sets its dirty flag for A/D updates.
   */
  logPteWrites(log: Uint8Array | undefined, base: number): void {
    this.guest.writeLog = log;
    this.guest.logBase = base;
  }

  /** Sets (or clears) the observer of every memory reference of the walks that follow. */
  setTrace(trace: TwoStageTrace | undefined): void {
    this.counting.trace = trace;
    this.guest.trace = trace;
  }

  /**
   * Translates `va` for `access`. `vsatp` and `hgatp` are the two roots, `priv` the VS-stage's
   * effective privilege (0 or 1), `sum`/`vsMxr` the guest's status bits, `hsMxr` the hypervisor's
   * MXR, `lx` an HLVX access (execute permission in lieu of read; faults stay load faults).
   */
  translate(va: number, size: number, access: Access, vsatp: number, hgatp: number, priv: number, sum: boolean,
    vsMxr: boolean, hsMxr: boolean, lx = false): TwoStageResult {
    const out = this.result;
    const stats = this.stats;
    stats.walks++;
    out.pa = -1;
    out.fault = 0;
    out.htval = 0;
    out.vsPte = out.gPte = out.vsLevel = 0;
    const walkAccess = lx ? Access.FETCH : access;
    va >>>= 0;
    // VS-stage.
    let gpa = va;
    out.vsBare = (vsatp >>> 31) === 0;
    if (!out.vsBare) {
      const c = this.vsCtx;
      c.priv = priv;
      c.sum = sum;
      c.mxr = vsMxr || hsMxr;
      this.guest.begin(hgatp, hsMxr);
      const r = walkSv32(this.vsOut, this.guest, vsatp & 0x3fffff, va, walkAccess, c);
      if (r.fault !== 0) {
        if (this.guest.gFault) {
          out.fault = Cause.LOAD_GUEST_PAGE;
          out.htval = Math.floor(this.guest.gFaultGpa / 4);
        } else {
          out.fault = lx ? loadCauseOf(r.fault) : r.fault;
        }
        return out;
      }
      gpa = r.pa;
      out.vsPte = r.pte;
      out.vsLevel = r.level;
    }
    out.gpa = gpa;
    // G-stage: leaves are checked as U-mode accesses.
    let pa = gpa;
    out.gBare = (hgatp >>> 31) === 0;
    if (!out.gBare) {
      const c = this.gCtx;
      c.priv = 0;
      c.sum = false;
      c.mxr = hsMxr;
      this.guest.trace?.part(WalkPart.G_FINAL, gpa);
      const r = walkSv32(this.gOut, this.counting, hgatp & 0x3fffff, gpa, walkAccess, c, 12);
      if (r.fault !== 0) {
        out.fault = GUEST_PAGE_FAULT_OF[access];
        out.htval = Math.floor(gpa / 4);
        return out;
      }
      pa = r.pa;
      out.gPte = r.pte;
    }
    // PMP on the final access, in the guest's privilege; QEMU 7.2 reports its failure as a guest-page fault.
    if (pa >= 4294967296 || (this.host.pmpBits(pa, size, priv) & PMP_BIT_OF[walkAccess]) === 0) {
      out.fault = GUEST_PAGE_FAULT_OF[access];
      out.htval = Math.floor(gpa / 4);
      return out;
    }
    out.pa = pa;
    return out;
  }

  /**
   * Which accesses the last successful translation allows without another walk: bit 0 load, bit 1
   * store (only with D set in both stages' leaves), bit 2 fetch.
   */
  allowed(): number {
    const out = this.result;
    let bits = 0;
    if (this.allows(Access.LOAD)) bits |= 1;
    if (this.allows(Access.STORE) && (out.vsBare || (out.vsPte & Pte.D) !== 0) && (out.gBare || (out.gPte & Pte.D) !== 0)) bits |= 2;
    if (this.allows(Access.FETCH)) bits |= 4;
    return bits;
  }

  private allows(access: Access): boolean {
    const out = this.result;
    return (out.vsBare || leafAllows(out.vsPte, access, this.vsCtx)) && (out.gBare || leafAllows(out.gPte, access, this.gCtx));
  }
}

const PMP_BIT_OF = [4, 1, 2];

/** HLVX walks with fetch permissions but reports load faults. */
function loadCauseOf(cause: number): number {
  if (cause === Cause.INSN_PAGE) return Cause.LOAD_PAGE;
  if (cause === Cause.INSN_ACCESS) return Cause.LOAD_ACCESS;
  return cause;
}
