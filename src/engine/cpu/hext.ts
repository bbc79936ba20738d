// The H extension (privileged spec 20211203 ch. 8, v1.0) as QEMU 7.2 implements it for rv32: the V bit,
// HS/VS/VU, the hypervisor and VS CSRs, two-stage translation (mmu/two-stage.ts), guest-page faults,
// virtual-instruction exceptions, HLV/HLVX/HSV, HFENCE and delegation through hedeleg/hideleg. Only a
// hart built with the `h` feature calls in here. Like QEMU, the hart keeps one set of S-level
// registers (mstatus's S bits, stvec, sscratch, sepc, scause, stval, satp) for the running level and
// swaps them with the background copies when V changes, so while V=1 every S CSR and sret, the
// interrupt enable and the trap entry act on the guest's VS state. Where QEMU 7.2 departs from the spec
// it is followed (docs/machine.md lists these places).

import { Access, Cause } from '../mmu/walk';
import { CTX_BARE, CTX_VIRT } from '../mmu/tlb';
import { TwoStage, type HostPteMemory } from '../mmu/two-stage';
import { Op } from '../isa/opcodes';
import { Mstatus } from './csr-defs';
import type { CsrDef } from './csr';
import { PmpPerm, type Pmp } from './pmp';
import { GUEST_PAGE_FAULT_OF } from '../mmu/two-stage';
import type { Hart } from './hart';

/** hstatus bits (§8.2.1). */
export const enum Hstatus {
  VSBE = 1 << 5,
  GVA = 1 << 6,
  SPV = 1 << 7,
  SPVP = 1 << 8,
  HU = 1 << 9,
  VTVM = 1 << 20,
  VTW = 1 << 21,
  VTSR = 1 << 22,
}

/** Interrupt bit groups (QEMU's S_MODE_INTERRUPTS with LCOFI, VS_MODE_INTERRUPTS, HS_MODE_INTERRUPTS). */
export const S_INTS = 0x2222;
export const VS_INTS = 0x444;
export const HS_INTS = 0x1444;
/** mie bits with H as QEMU 7.2 keeps them (M, S, VS, SGEI and LCOFI). */
export const MIE_WRITABLE_H = 0x3eee;
/** mip and mideleg bits M-mode software may write with H (S and VS levels, LCOFI). */
export const MIP_WRITABLE_H = 0x2666;
/** With H, ecalls from VS and M, guest-page faults and virtual-instruction are delegable too (QEMU 7.2). */
export const MEDELEG_H_EXTRA = 0xf00c00;
/** hedeleg: what may reach VS-mode (no ecalls from S/VS/M, no guest-page or virtual-instruction faults). */
export const HEDELEG_WRITABLE = 0xb1ff;

/** mstatus bits that belong to the running S level and are swapped with vsstatus (QEMU's mask). */
const SWAP_MASK = (Mstatus.MXR | Mstatus.SUM | Mstatus.SPP | Mstatus.SPIE | Mstatus.SIE | (3 << 9)) >>> 0;

/** Interrupts in priority order, the H extension's after the base ones (§3.1.9, §8.2.3). */
const IRQ_ORDER_H: readonly number[] = [11, 3, 7, 9, 1, 5, 12, 10, 2, 6];

const ILLEGAL = Cause.ILLEGAL;
const VIRTUAL = Cause.VIRTUAL_INSN;
const PRIV_U = 0;
const PRIV_S = 1;
const PRIV_M = 3;

/** The H extension's state of one hart. */
export class HState {
  /** The virtualization mode V. */
  virt = false;
  hstatus = 0;
  hedeleg = 0;
  hideleg = 0;
  hcounteren = 0;
  htval = 0;
  htinst = 0;
  hgatp = 0;
  henvcfg = 0;
  /** htimedelta (64-bit value in a double). */
  htimedelta = 0;
  /** Background VS registers while V=0 (while V=1 the hart's S registers hold them). */
  vsstatus = 0;
  vstvec = 0;
  vsscratch = 0;
  vsepc = 0;
  vscause = 0;
  vstval = 0;
  vsatp = 0;
  /** Background HS registers while V=1. */
  private statusHs = 0;
  private stvecHs = 0;
  private sscratchHs = 0;
  private sepcHs = 0;
  private scauseHs = 0;
  private stvalHs = 0;
  private satpHs = 0;
  /** mstatush.MPV and mstatush.GVA. */
  mpv = false;
  gva = false;
  mtval2 = 0;
  mtinst = 0;
  /** Guest-physical address >> 2 of the last G-stage fault (QEMU's guest_phys_fault_addr). */
  faultGpa = 0;
  /** The last fault came from a two-stage access (sets GVA when the trap goes to HS or M). */
  twoStage = false;
  readonly walker: TwoStage;
  /**
   * An extra G-stage permission filter over guest-physical addresses: hw mode's image of a guest's
   * own PMP (a hypervisor would narrow its G-stage leaves the same way). Accesses it denies are
   * guest-page faults, so the hypervisor sees them; undefined: no filter.
   */
  guestPmp: Pmp | undefined = undefined;

  constructor(host: HostPteMemory) {
    this.walker = new TwoStage(host);
  }

  reset(): void {
    this.virt = false;
    this.hstatus = this.hedeleg = this.hideleg = this.hcounteren = this.htval = this.htinst = this.hgatp = this.henvcfg = 0;
    this.htimedelta = 0;
    this.vsstatus = this.vstvec = this.vsscratch = this.vsepc = this.vscause = this.vstval = this.vsatp = 0;
    this.statusHs = this.stvecHs = this.sscratchHs = this.sepcHs = this.scauseHs = this.stvalHs = this.satpHs = 0;
    this.mpv = this.gva = false;
    this.mtval2 = this.mtinst = this.faultGpa = 0;
    this.twoStage = false;
  }

  /** Swaps the running S registers with the background ones before V changes (QEMU's riscv_cpu_swap_hypervisor_regs). */
  swap(h: Hart): void {
    if (this.virt) {
      this.vsstatus = h.mstatus & SWAP_MASK;
      h.mstatus = ((h.mstatus & ~SWAP_MASK) | this.statusHs) >>> 0;
      this.vstvec = h.stvec; h.stvec = this.stvecHs;
      this.vsscratch = h.sscratch; h.sscratch = this.sscratchHs;
      this.vsepc = h.sepc; h.sepc = this.sepcHs;
      this.vscause = h.scause; h.scause = this.scauseHs;
      this.vstval = h.stval; h.stval = this.stvalHs;
      this.vsatp = h.satp; h.satp = this.satpHs;
    } else {
      this.statusHs = h.mstatus & SWAP_MASK;
      h.mstatus = ((h.mstatus & ~SWAP_MASK) | (this.vsstatus & SWAP_MASK)) >>> 0;
      this.stvecHs = h.stvec; h.stvec = this.vstvec;
      this.sscratchHs = h.sscratch; h.sscratch = this.vsscratch;
      this.sepcHs = h.sepc; h.sepc = this.vsepc;
      this.scauseHs = h.scause; h.scause = this.vscause;
      this.stvalHs = h.stval; h.stval = this.vstval;
      this.satpHs = h.satp; h.satp = this.vsatp;
    }
  }

  /** The hypervisor's own MXR (mstatus's while V=0, the background copy while V=1). */
  hsMxr(h: Hart): boolean {
    return ((this.virt ? this.statusHs : h.mstatus) & Mstatus.MXR) !== 0;
  }

  /** The VMID field of hgatp (7 bits on rv32). */
  get vmid(): number {
    return (this.hgatp >>> 22) & 0x7f;
  }
}

// ---- context, interrupts, traps --------------------------------------------------------------

const PMP_BIT_OF = [PmpPerm.X, PmpPerm.R, PmpPerm.W];

/** TLB contexts with H: V=1 accesses use priv | CTX_VIRT | VMID << 4, never bare. */
export function contextChangedH(h: Hart): void {
  const x = h.hx;
  const vctx = CTX_VIRT | (x.vmid << 4);
  if (x.virt) {
    h.fetchTag = h.dataTag = (h.priv | vctx) << 20;
    return;
  }
  const translating = (h.satp >>> 31) === 1;
  const fetchCtx = h.priv === PRIV_M || !translating ? h.priv | CTX_BARE : h.priv;
  let dataCtx: number;
  if (h.priv === PRIV_M && (h.mstatus & Mstatus.MPRV) !== 0) {
    const mpp = (h.mstatus & Mstatus.MPP) >>> Mstatus.MPP_SHIFT;
    // MPRV with MPV: loads and stores translate as the guest's (§8.2.3 / §3.1.6.3).
    if (x.mpv && mpp !== PRIV_M) dataCtx = mpp | vctx;
    else dataCtx = mpp === PRIV_M || !translating ? mpp | CTX_BARE : mpp;
  } else {
    dataCtx = fetchCtx;
  }
  h.fetchTag = fetchCtx << 20;
  h.dataTag = dataCtx << 20;
}

/** The interrupt to take now or -1, as QEMU 7.2's riscv_cpu_local_irq_pending: M, then HS, then VS level. */
export function pendingInterruptH(h: Hart): number {
  const x = h.hx;
  const pending = (h.mipSw | h.mipHw) & h.mie;
  if (pending === 0) return -1;
  const sie = (h.mstatus & Mstatus.SIE) !== 0;
  let mEnabled: boolean;
  let hsEnabled: boolean;
  let vsEnabled: boolean;
  if (x.virt) {
    mEnabled = hsEnabled = true;
    vsEnabled = h.priv < PRIV_S || (h.priv === PRIV_S && sie);
  } else {
    mEnabled = h.priv < PRIV_M || (h.mstatus & Mstatus.MIE) !== 0;
    hsEnabled = h.priv < PRIV_S || (h.priv === PRIV_S && sie);
    vsEnabled = false;
  }
  let irqs = pending & ~h.mideleg;
  if (mEnabled && irqs !== 0) return pick(irqs);
  irqs = pending & h.mideleg & ~x.hideleg;
  if (hsEnabled && irqs !== 0) return pick(irqs);
  irqs = pending & h.mideleg & x.hideleg;
  if (vsEnabled && irqs !== 0) return pick(irqs);
  return -1;
}

function pick(irqs: number): number {
  for (const irq of IRQ_ORDER_H) if (irqs & (1 << irq)) return irq;
  return -1;
}

/** Exceptions that carry an address in tval (QEMU writes GVA for them). */
const ADDRESS_CAUSES = (1 << 0) | (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 12) | (1 << 13) | (1 << 15) |
  (1 << 20) | (1 << 21) | (1 << 23);

/** Trap entry with H (QEMU 7.2's riscv_cpu_do_interrupt): to VS, HS or M. */
export function enterTrapH(h: Hart, cause: number, tval: number, interrupt: boolean): void {
  const x = h.hx;
  h.reservation = -1;
  const epc = h.pc >>> 0;
  let writeGva = !interrupt && ((ADDRESS_CAUSES >>> cause) & 1) !== 0 && (x.twoStage || x.virt);
  const deleg = interrupt ? h.mideleg : h.medeleg;
  if (h.priv <= PRIV_S && cause < 32 && ((deleg >>> cause) & 1) !== 0) {
    let htval = 0;
    const hdeleg = interrupt ? x.hideleg : x.hedeleg;
    if (x.virt && ((hdeleg >>> cause) & 1) !== 0) {
      // To VS-mode: a VS-level interrupt is reported as its S-level number.
      if (interrupt && (cause === 2 || cause === 6 || cause === 10)) cause -= 1;
      writeGva = false;
    } else if (x.virt) {
      x.swap(h);
      let hs = x.hstatus & ~(Hstatus.SPVP | Hstatus.SPV);
      if (h.priv === PRIV_S) hs |= Hstatus.SPVP;
      x.hstatus = (hs | Hstatus.SPV) >>> 0;
      htval = x.faultGpa;
      x.virt = false;
    } else {
      x.hstatus = (x.hstatus & ~Hstatus.SPV) >>> 0;
      htval = x.faultGpa;
    }
    x.hstatus = ((x.hstatus & ~Hstatus.GVA) | (writeGva ? Hstatus.GVA : 0)) >>> 0;
    let s = h.mstatus & ~(Mstatus.SPP | Mstatus.SPIE | Mstatus.SIE);
    if (h.priv === PRIV_S) s |= Mstatus.SPP;
    if (h.mstatus & Mstatus.SIE) s |= Mstatus.SPIE;
    h.mstatus = s >>> 0;
    h.scause = interrupt ? (cause | 0x80000000) >>> 0 : cause;
    h.sepc = epc;
    h.stval = tval >>> 0;
    x.htval = htval >>> 0;
    h.priv = PRIV_S;
    h.pc = vectorOf(h.stvec, cause, interrupt);
  } else {
    const wasVirt = x.virt;
    if (wasVirt) x.swap(h);
    x.mpv = wasVirt;
    // QEMU 7.2 sets GVA for any trap from V=1 with a nonzero tval and otherwise leaves it.
    if (wasVirt && tval !== 0) x.gva = true;
    x.mtval2 = x.faultGpa >>> 0;
    x.virt = false;
    let s = h.mstatus & ~(Mstatus.MPP | Mstatus.MPIE | Mstatus.MIE);
    s |= h.priv << Mstatus.MPP_SHIFT;
    if (h.mstatus & Mstatus.MIE) s |= Mstatus.MPIE;
    h.mstatus = s >>> 0;
    h.mcause = interrupt ? (cause | 0x80000000) >>> 0 : cause;
    h.mepc = epc;
    h.mtval = tval >>> 0;
    h.priv = PRIV_M;
    h.pc = vectorOf(h.mtvec, cause, interrupt);
  }
  x.twoStage = false;
  x.faultGpa = 0;
  h.contextChanged();
  // Leave the interpreter loop: the privilege (and V) changed, which the hw VMM counts by slice.
  h.sliceEnd = 0;
}

function vectorOf(tvec: number, cause: number, interrupt: boolean): number {
  const base = tvec & ~3;
  return ((tvec & 3) === 1 && interrupt ? base + 4 * cause : base) | 0;
}

/** The V half of mret: MPV returns to VS/VU (called after mstatus and priv were restored). */
export function mretH(h: Hart, mpv: boolean): void {
  const x = h.hx;
  x.mpv = false;
  if (mpv && h.priv !== PRIV_M) {
    x.swap(h);
    x.virt = true;
  }
}

/** sret with H (QEMU 7.2's helper_sret); the caller checked priv >= S and mstatus.TSR. */
function sretH(h: Hart): void {
  const x = h.hx;
  const target = h.sepc | 0;
  const spp = (h.mstatus & Mstatus.SPP) !== 0 ? PRIV_S : PRIV_U;
  let s = h.mstatus & ~(Mstatus.SIE | Mstatus.SPP);
  if (h.mstatus & Mstatus.SPIE) s |= Mstatus.SIE;
  s |= Mstatus.SPIE;
  s &= ~Mstatus.MPRV;
  h.mstatus = s >>> 0;
  if (!x.virt) {
    const spv = (x.hstatus & Hstatus.SPV) !== 0;
    x.hstatus = (x.hstatus & ~Hstatus.SPV) >>> 0;
    if (spv) {
      x.swap(h);
      x.virt = true;
    }
  }
  h.priv = spp;
  h.pc = target;
  h.contextChanged();
  h.interruptsChanged();
}

// ---- CSR access ------------------------------------------------------------------------------

/**
 * A CSR access with H (QEMU 7.2's riscv_csrrw_check): read-only check, the CSR's predicate (which may
 * raise a virtual-instruction exception), then privilege with HS counting as one level above S; an
 * HS-level CSR from VS-mode is a virtual-instruction exception. Sets h.fault to the cause.
 */
export function csrAccessH(h: Hart, def: CsrDef | undefined, num: number, op: number, src: number, write: boolean): number {
  h.fault = 0;
  if (def === undefined || (write && (num >>> 10) === 3)) {
    h.fault = ILLEGAL;
    return 0;
  }
  const p = def.pred(h, num);
  if (p !== 0) {
    h.fault = p;
    return 0;
  }
  const csrPriv = (num >>> 8) & 3;
  const effective = h.priv === PRIV_S && !h.hx.virt ? h.priv + 1 : h.priv;
  if (effective < csrPriv) {
    h.fault = csrPriv === PRIV_S + 1 && h.hx.virt ? VIRTUAL : ILLEGAL;
    return 0;
  }
  const old = def.read(h) >>> 0;
  if (write && def.write) def.write(h, op === 0 ? src : op === 1 ? old | src : old & ~src);
  return old;
}

// ---- instructions ----------------------------------------------------------------------------

const SLOW_RETIRED = 1;
const SLOW_TRAPPED = 0;
/** Not an instruction whose behaviour H changes: the interpreter runs it as usual. */
export const NOT_H = -1;

/**
 * Runs the system instructions whose behaviour depends on V and the H instructions, with h.pc at the
 * instruction; returns 1 when it retired, 0 when it trapped, NOT_H for every other instruction.
 */
export function hInstruction(h: Hart, id: number, w: number, raw: number, rd: number, rs1: number, rs2: number, npc: number): number {
  const x = h.x;
  const hx = h.hx;
  const priv = h.priv;
  const virt = hx.virt;
  switch (id) {
    case Op.ECALL:
      if (!virt || priv !== PRIV_S) return NOT_H;
      h.raise(Cause.ECALL_VS, 0);
      return SLOW_TRAPPED;
    case Op.CSRRW: case Op.CSRRS: case Op.CSRRC: case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI: {
      const imm = id >= Op.CSRRWI;
      const src = imm ? rs1 : x[rs1];
      const kind = id === Op.CSRRW || id === Op.CSRRWI ? 0 : id === Op.CSRRS || id === Op.CSRRSI ? 1 : 2;
      const old = h.csrAccess(w >>> 20, kind, src, kind === 0 || rs1 !== 0);
      if (h.fault !== 0) return trap(h, h.fault, raw);
      x[rd] = old;
      h.pc = npc;
      return SLOW_RETIRED;
    }
    case Op.SRET:
      if (priv < PRIV_S || (priv === PRIV_S && (h.mstatus & Mstatus.TSR) !== 0)) return trap(h, ILLEGAL, raw);
      if (virt && (hx.hstatus & Hstatus.VTSR) !== 0) return trap(h, VIRTUAL, raw);
      sretH(h);
      return SLOW_RETIRED;
    case Op.WFI:
      if ((priv === PRIV_S && (h.mstatus & Mstatus.TW) !== 0) || (priv === PRIV_U && !virt)) return trap(h, ILLEGAL, raw);
      if (virt && (priv === PRIV_U || (hx.hstatus & Hstatus.VTW) !== 0)) return trap(h, VIRTUAL, raw);
      h.pc = npc;
      if (!h.wakeupPending()) {
        h.waiting = true;
        h.sliceEnd = 0;
      }
      return SLOW_RETIRED;
    case Op.SFENCE_VMA:
      if (priv === PRIV_U || (priv === PRIV_S && (h.mstatus & Mstatus.TVM) !== 0)) return trap(h, ILLEGAL, raw);
      if (virt && (hx.hstatus & Hstatus.VTVM) !== 0) return trap(h, VIRTUAL, raw);
      // With V=1 it fences the guest's own (VS-stage) translations of its VMID only.
      if (virt) h.tlb.flushVirtual(rs1 === 0 ? undefined : x[rs1], rs2 === 0 ? undefined : x[rs2] & 0x1ff, hx.vmid);
      else h.tlb.flushTranslated(rs1 === 0 ? undefined : x[rs1], rs2 === 0 ? undefined : x[rs2] & 0x1ff);
      h.pc = npc;
      return SLOW_RETIRED;
    case Op.HFENCE_GVMA: case Op.HFENCE_VVMA:
      if (id === Op.HFENCE_GVMA && priv === PRIV_S && !virt && (h.mstatus & Mstatus.TVM) !== 0) return trap(h, ILLEGAL, raw);
      if (priv === PRIV_S && virt) return trap(h, VIRTUAL, raw);
      if (priv === PRIV_U) return trap(h, ILLEGAL, raw);
      h.tlb.flushTranslated(undefined, undefined);
      h.pc = npc;
      return SLOW_RETIRED;
    case Op.HLV_B: case Op.HLV_BU: case Op.HLV_H: case Op.HLV_HU: case Op.HLVX_HU: case Op.HLV_W: case Op.HLVX_WU:
    case Op.HSV_B: case Op.HSV_H: case Op.HSV_W: {
      const allowed = priv === PRIV_M || (!virt && (priv === PRIV_S || (hx.hstatus & Hstatus.HU) !== 0));
      if (!allowed) return trap(h, virt ? VIRTUAL : ILLEGAL, raw);
      const store = id === Op.HSV_B || id === Op.HSV_H || id === Op.HSV_W;
      const size = id === Op.HLV_B || id === Op.HLV_BU || id === Op.HSV_B ? 1 : id === Op.HLV_W || id === Op.HLVX_WU || id === Op.HSV_W ? 4 : 2;
      const a = x[rs1];
      if (store) {
        hyperAccess(h, a, size, true, x[rs2], false);
        if (h.fault !== 0) return trap(h, h.fault, h.faultVa);
      } else {
        const v = hyperAccess(h, a, size, false, 0, id === Op.HLVX_HU || id === Op.HLVX_WU);
        if (h.fault !== 0) return trap(h, h.fault, h.faultVa);
        x[rd] = id === Op.HLV_B ? (v << 24) >> 24 : id === Op.HLV_H ? (v << 16) >> 16 : v;
      }
      h.pc = npc;
      return SLOW_RETIRED;
    }
    default:
      return NOT_H;
  }
}

function trap(h: Hart, cause: number, tval: number): number {
  h.raise(cause, tval);
  return SLOW_TRAPPED;
}

/**
 * HLV/HLVX/HSV: a load or store through two-stage translation as the guest (privilege hstatus.SPVP,
 * vsatp, hgatp), from HS- or M-mode. As QEMU 7.2, SUM counts as set for these accesses.
 */
function hyperAccess(h: Hart, va: number, size: number, store: boolean, value: number, lx: boolean): number {
  h.fault = 0;
  if ((va & 0xfff) + size > 4096) {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const b = hyperAccess(h, (va + i) | 0, 1, store, value >>> (8 * i), lx);
      if (h.fault !== 0) return 0;
      v |= b << (8 * i);
    }
    return v >>> 0;
  }
  const hx = h.hx;
  const priv = (hx.hstatus & Hstatus.SPVP) !== 0 ? PRIV_S : PRIV_U;
  const access = store ? Access.STORE : Access.LOAD;
  const r = hx.walker.translate(va, size, access, hx.vsatp, hx.hgatp, priv, true, (hx.vsstatus & Mstatus.MXR) !== 0, hx.hsMxr(h), lx);
  if (r.fault !== 0) {
    // QEMU 7.2 picks page versus access fault by the running satp (here the hypervisor's): with it
    // bare, a VS-stage fault of HLV/HSV is an access fault.
    let cause = r.fault;
    if ((h.satp >>> 31) === 0 && (cause === Cause.INSN_PAGE || cause === Cause.LOAD_PAGE || cause === Cause.STORE_PAGE)) {
      cause = cause === Cause.STORE_PAGE ? Cause.STORE_ACCESS : Cause.LOAD_ACCESS;
    }
    return fault(h, cause, va, r.htval);
  }
  if (store) {
    h.noteStore(r.pa, size);
    h.bus.store(r.pa, size, value);
    if (!h.bus.ok) return fault(h, Cause.STORE_ACCESS, va, 0);
    return 0;
  }
  const v = h.bus.load(r.pa, size);
  if (!h.bus.ok) return fault(h, Cause.LOAD_ACCESS, va, 0);
  return v;
}

function fault(h: Hart, cause: number, va: number, htval: number): number {
  h.fault = cause;
  h.faultVa = va | 0;
  h.hx.twoStage = true;
  if (cause === Cause.INSN_GUEST_PAGE || cause === Cause.LOAD_GUEST_PAGE || cause === Cause.STORE_GUEST_PAGE) h.hx.faultGpa = htval;
  return 0;
}

// ---- translation under V=1 -------------------------------------------------------------------

/**
 * Hart.translate for a V context (V=1, or M-mode with MPRV and MPV): both stages, then a TLB entry for
 * the combined translation, tagged with the VMID, when the page is RAM with uniform PMP permissions.
 */
export function translateVirtual(h: Hart, va: number, size: number, access: Access, tag: number): number {
  const hx = h.hx;
  const ctx = tag >>> 20;
  const priv = ctx & 3;
  h.tlb.misses++;
  const vsatp = hx.virt ? h.satp : hx.vsatp;
  const vsStatus = hx.virt ? h.mstatus : hx.vsstatus;
  const sum = (vsStatus & Mstatus.SUM) !== 0;
  const vsMxr = (vsStatus & Mstatus.MXR) !== 0;
  const r = hx.walker.translate(va, size, access, vsatp, hx.hgatp, priv, sum, vsMxr, hx.hsMxr(h));
  if (r.fault !== 0) {
    fault(h, r.fault, va, r.htval);
    return -1;
  }
  const pa = r.pa;
  const gp = hx.guestPmp;
  if (gp !== undefined && (gp.permissions(r.gpa, size, priv) & PMP_BIT_OF[access]) === 0) {
    fault(h, GUEST_PAGE_FAULT_OF[access], va, Math.floor(r.gpa / 4));
    return -1;
  }
  const pagePa = pa - (pa % 4096);
  const ramOff = h.bus.ramOffset(pagePa, 4096);
  if (ramOff >= 0 && (tag === h.fetchTag || tag === h.dataTag) && !(h.triggers.armed && h.triggers.watchesPage(va >>> 12))) {
    let perms = h.features.pmp ? h.pmp.pagePermissions(pagePa, priv) : PmpPerm.ALL;
    if (gp !== undefined && perms >= 0) {
      const gpaPage = r.gpa - (r.gpa % 4096);
      const g = gp.pagePermissions(gpaPage, priv);
      perms = g < 0 ? -1 : perms & g;
    }
    if (perms >= 0) {
      const bits = hx.walker.allowed();
      const isCode = h.code !== undefined && h.code.codeChunks[ramOff >>> 12] !== 0;
      const canR = (perms & PmpPerm.R) !== 0 && (bits & 1) !== 0 && tag === h.dataTag;
      const canW = (perms & PmpPerm.W) !== 0 && (bits & 2) !== 0 && tag === h.dataTag;
      const canX = (perms & PmpPerm.X) !== 0 && (bits & 4) !== 0 && tag === h.fetchTag;
      // Stores through a writable entry reach RAM behind the bus (PhysicalBus.written).
      if (canW) h.bus.written[ramOff >>> 12] = 1;
      h.tlb.fill(va, ctx, ramOff, canR, canW, canX, r.vsPte, 0, (vsatp >>> 22) & 0x1ff, Math.floor(pagePa / 4096), isCode);
      if (r.vsLevel > 0) h.tlb.virtMegapage(va);
    }
  }
  return pa;
}
