// The one page-table walk (privileged spec 20211203 §4.3.2 for Sv32, §8.5 for Sv32x4). It reads PTEs
// through a pluggable PteMemory so the hart's MMU, the VMM's shadow builder, the G-stage and the
// inspector all share it. It never allocates; the result lands in a caller-owned WalkResult.

/** Access type of a translation. */
export const enum Access {
  FETCH = 0,
  LOAD = 1,
  STORE = 2,
}

/** PTE bits. */
export const enum Pte {
  V = 1 << 0,
  R = 1 << 1,
  W = 1 << 2,
  X = 1 << 3,
  U = 1 << 4,
  G = 1 << 5,
  A = 1 << 6,
  D = 1 << 7,
}

/** Exception causes used by the walk (privileged spec table 3.6). */
export const enum Cause {
  INSN_MISALIGNED = 0,
  INSN_ACCESS = 1,
  ILLEGAL = 2,
  BREAKPOINT = 3,
  LOAD_MISALIGNED = 4,
  LOAD_ACCESS = 5,
  STORE_MISALIGNED = 6,
  STORE_ACCESS = 7,
  ECALL_U = 8,
  ECALL_S = 9,
  ECALL_VS = 10,
  ECALL_M = 11,
  INSN_PAGE = 12,
  LOAD_PAGE = 13,
  STORE_PAGE = 15,
  INSN_GUEST_PAGE = 20,
  LOAD_GUEST_PAGE = 21,
  VIRTUAL_INSN = 22,
  STORE_GUEST_PAGE = 23,
}

/** Where PTEs come from: physical reads and writes that may fail (then `read` returns -1 in `ok`). */
export interface PteMemory {
  /** Reads the 32-bit PTE at physical address `pa`; sets `ok` false when the access faults. */
  readPte(pa: number): number;
  /** Writes back a PTE (A/D update); sets `ok` false when the access faults. */
  writePte(pa: number, value: number): void;
  /** Result of the last readPte/writePte. */
  ok: boolean;
}

/** Optional observer of each PTE read (the inspector's step-by-step translation). */
export interface WalkObserver {
  step(level: number, pteAddr: number, pte: number): void;
}

/** Result of a walk: a physical address, or a fault cause. */
export class WalkResult {
  /** Physical address (may exceed 32 bits for Sv32's 34-bit space). */
  pa = 0;
  /** 0 on success, else an exception cause. */
  fault = 0;
  /** The leaf PTE after any A/D update. */
  pte = 0;
  /** Level of the leaf: 1 for a 4 MiB megapage, 0 for a 4 KiB page. */
  level = 0;
  /** Physical address of the leaf PTE. */
  pteAddr = 0;
}

/** Translation context the walk checks permissions against. */
export interface WalkContext {
  /** Effective privilege of the access: 0 = U, 1 = S. */
  priv: number;
  /** mstatus.SUM and mstatus.MXR. */
  sum: boolean;
  mxr: boolean;
  /** Update A/D bits in memory (QEMU does); when false a missing A/D bit raises a page fault. */
  updateAD: boolean;
}

const PAGE_FAULT = [Cause.INSN_PAGE, Cause.LOAD_PAGE, Cause.STORE_PAGE];
const ACCESS_FAULT = [Cause.INSN_ACCESS, Cause.LOAD_ACCESS, Cause.STORE_ACCESS];

/**
 * Walks an Sv32 table rooted at physical page `rootPpn` for virtual address `va`.
 * `rootBits` is 10 for Sv32 and 12 for the G-stage's Sv32x4 (34-bit guest-physical input).
 */
export function walkSv32(
  out: WalkResult,
  mem: PteMemory,
  rootPpn: number,
  va: number,
  access: Access,
  ctx: WalkContext,
  rootBits = 10,
  observer?: WalkObserver,
): WalkResult {
  out.fault = 0;
  let base = rootPpn * 4096;
  for (let level = 1; level >= 0; level--) {
    const index = level === 1 ? Math.floor(va / 4194304) & ((1 << rootBits) - 1) : (va >>> 12) & 0x3ff;
    const pteAddr = base + index * 4;
    const pte = mem.readPte(pteAddr) >>> 0;
    if (!mem.ok) return fail(out, ACCESS_FAULT[access]);
    observer?.step(level, pteAddr, pte);
    if ((pte & Pte.V) === 0 || ((pte & Pte.R) === 0 && (pte & Pte.W) !== 0)) return fail(out, PAGE_FAULT[access]);
    const ppn = pte >>> 10;
    if ((pte & (Pte.R | Pte.X)) === 0) {
      if (level === 0) return fail(out, PAGE_FAULT[access]);
      base = ppn * 4096;
      continue;
    }
    // Leaf: permission checks (§4.3.1, SUM/MXR in §3.1.6.3).
    if (!leafAllows(pte, access, ctx)) return fail(out, PAGE_FAULT[access]);
    if (level === 1 && (ppn & 0x3ff) !== 0) return fail(out, PAGE_FAULT[access]);
    let newPte = pte | Pte.A;
    if (access === Access.STORE) newPte |= Pte.D;
    if (newPte !== pte) {
      if (!ctx.updateAD) return fail(out, PAGE_FAULT[access]);
      mem.writePte(pteAddr, newPte | 0);
      if (!mem.ok) return fail(out, ACCESS_FAULT[access]);
    }
    const pageOffset = level === 1 ? va & 0x3fffff : va & 0xfff;
    const frame = level === 1 ? (ppn >>> 10) * 4194304 : ppn * 4096;
    out.pa = frame + pageOffset;
    out.pte = newPte >>> 0;
    out.level = level;
    out.pteAddr = pteAddr;
    return out;
  }
  return fail(out, PAGE_FAULT[access]);
}

/** Whether a leaf PTE permits the access in the context (without A/D considerations). */
export function leafAllows(pte: number, access: Access, ctx: WalkContext): boolean {
  const user = (pte & Pte.U) !== 0;
  if (ctx.priv === 0 && !user) return false;
  if (ctx.priv === 1 && user && (access === Access.FETCH || !ctx.sum)) return false;
  switch (access) {
    case Access.FETCH:
      return (pte & Pte.X) !== 0;
    case Access.LOAD:
      return (pte & Pte.R) !== 0 || (ctx.mxr && (pte & Pte.X) !== 0);
    default:
      return (pte & Pte.W) !== 0;
  }
}

function fail(out: WalkResult, cause: number): WalkResult {
  out.fault = cause;
  return out;
}
