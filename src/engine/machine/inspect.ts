// Side-effect-free inspection for debuggers and inspectors: CSR values, memory in any address space,
// and a step-by-step translation that reports every PTE read. Nothing here changes guest state:
// no A/D updates, no TLB fills, no device register reads.

import { CSRS } from '../cpu/csr';
import type { Hart } from '../cpu/hart';
import { Access, walkSv32, WalkResult, type PteMemory, type WalkContext, type WalkObserver } from '../mmu/walk';
import type { PhysicalBus } from './bus';

/** A CSR and its current value. */
export interface CsrValue {
  readonly name: string;
  readonly num: number;
  readonly value: number;
}

/** Reads every CSR the hart implements (counters included), without side effects. */
export function readCsrs(h: Hart): CsrValue[] {
  const out: CsrValue[] = [];
  for (const def of CSRS) {
    if (def.pred(h, def.num) !== 0 && def.name.startsWith('pmp')) continue;
    out.push({ name: def.name, num: def.num, value: def.read(h) >>> 0 });
  }
  return out;
}

/** Copies `length` bytes of physical memory; bytes outside RAM read as 0 and are marked in `valid`. */
export function readPhysical(bus: PhysicalBus, pa: number, length: number): { bytes: Uint8Array; valid: Uint8Array } {
  const bytes = new Uint8Array(length);
  const valid = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const off = bus.ramOffset(pa + i, 1);
    if (off >= 0) {
      bytes[i] = bus.ram[off];
      valid[i] = 1;
    }
  }
  return { bytes, valid };
}

/** Writes bytes into physical RAM (debugger edits); returns how many landed in RAM. */
export function writePhysical(h: Hart, pa: number, data: Uint8Array): number {
  let written = 0;
  for (let i = 0; i < data.length; i++) {
    const off = h.bus.ramOffset(pa + i, 1);
    if (off < 0) continue;
    h.noteStore(pa + i, 1);
    h.bus.ram[off] = data[i];
    h.bus.written[off >>> 12] = 1;
    written++;
  }
  return written;
}

/** One PTE read of a translation. */
export interface TranslationStep {
  readonly level: number;
  readonly pteAddress: number;
  readonly pte: number;
}

/** Outcome of a debug translation. */
export interface Translation {
  /** Physical address, or undefined when the access would fault. */
  readonly pa: number | undefined;
  /** Exception cause the access would raise (0 when none). */
  readonly fault: number;
  /** Whether translation was on for this access (false: va = pa). */
  readonly paged: boolean;
  readonly steps: readonly TranslationStep[];
}

/** PTE reads straight from RAM, with no A/D writes. */
class RamPtes implements PteMemory {
  ok = true;
  constructor(private readonly bus: PhysicalBus) {}
  readPte(pa: number): number {
    const off = this.bus.ramOffset(pa, 4);
    this.ok = off >= 0;
    if (!this.ok) return 0;
    const r = this.bus.ram;
    return (r[off] | (r[off + 1] << 8) | (r[off + 2] << 16) | (r[off + 3] << 24)) >>> 0;
  }
  writePte(): void {
    this.ok = true;
  }
}

/**
 * Translates `va` as the hart would for `access` at privilege `priv` (default: the current one,
 * with MPRV for data), reporting each PTE read. A/D bits are treated as already set.
 */
export function translateDebug(h: Hart, va: number, access: Access = Access.LOAD, priv?: number): Translation {
  let p = priv ?? h.priv;
  if (priv === undefined && access !== Access.FETCH && h.priv === 3 && (h.mstatus & (1 << 17)) !== 0) p = (h.mstatus >>> 11) & 3;
  const paged = p !== 3 && h.satp >>> 31 === 1;
  if (!paged) return { pa: va >>> 0, fault: 0, paged: false, steps: [] };
  const steps: TranslationStep[] = [];
  const observer: WalkObserver = { step: (level, pteAddress, pte) => steps.push({ level, pteAddress, pte }) };
  const ctx: WalkContext = { priv: p, sum: (h.mstatus & (1 << 18)) !== 0, mxr: (h.mstatus & (1 << 19)) !== 0, updateAD: true };
  const r = walkSv32(new WalkResult(), new RamPtes(h.bus), h.satp & 0x3fffff, va >>> 0, access, ctx, 10, observer);
  return { pa: r.fault === 0 ? r.pa : undefined, fault: r.fault, paged: true, steps };
}
