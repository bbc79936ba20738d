// SiFive PLIC as QEMU 7.2's virt machine configures it (hw/intc/sifive_plic.c, hw/riscv/virt.c):
// 96 sources counting the reserved source 0, 3 priority bits (levels 0..7, 0 = never interrupts),
// contexts in the order given (virt: hart0 M = 0, hart0 S = 1). Register layout of the RISC-V PLIC
// specification 1.0.0 §3: priority 0x0 + 4*src, pending 0x1000, enables 0x2000 + 0x80*ctx,
// threshold 0x200000 + 0x1000*ctx, claim/complete at threshold + 4.
//
// Gateways follow QEMU 7.2 (sifive_plic_irq_request), not the specification's level gateway (§5):
// each time a device drives its line high (QEMU's qemu_set_irq(line, 1), which vmlab's devices call
// where QEMU's do: on every interrupt-state update) the source's pending bit is set, even while the
// source is claimed; a line going low leaves the bit alone; only a claim clears it. A completion only
// ends the claim and never re-pends a line that stayed high. Real guests depend on this: drivers
// written against QEMU (xv6's virtio disk driver before 2020 never writes InterruptACK, so the virtio
// line stays high for ever) get one interrupt per device notification on QEMU, where the
// specification's gateway would re-pend at every completion and storm. A claim takes the
// highest-priority pending, enabled, unclaimed source whose priority exceeds the context's threshold
// (ties: lowest id, spec §8); a completion of any id below 96 is accepted, as QEMU does. Reset clears
// the pending bits (QEMU's sifive_plic_reset). Only aligned 4-byte accesses reach registers (QEMU
// faults the others; here they read 0 and are ignored).

import type { Device } from '../machine/bus';
import type { IrqLine } from './irq';

/** Interrupt sources including the reserved source 0 (QEMU virt: VIRT_IRQCHIP_NUM_SOURCES). */
export const PLIC_NUM_SOURCES = 96;
/** Highest priority level (QEMU virt: VIRT_IRQCHIP_NUM_PRIO_BITS = 3). */
export const PLIC_MAX_PRIORITY = 7;

const WORDS = (PLIC_NUM_SOURCES + 31) >>> 5;
const PENDING_BASE = 0x1000;
const ENABLE_BASE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT_BASE = 0x200000;
const CONTEXT_STRIDE = 0x1000;

/** The line a device drives into one PLIC source. */
class SourceLine implements IrqLine {
  constructor(private readonly plic: Plic, private readonly source: number) {}
  set(level: boolean): void {
    this.plic.setLevel(this.source, level);
  }
}

/** Platform-level interrupt controller: sources pended as QEMU 7.2 does, routed to per-context lines (MEIP, SEIP). */
export class Plic implements Device {
  readonly name = 'plic';
  /** It drives the harts' external-interrupt lines, which end their slices (Hart.setIrq). */
  get quiet(): boolean {
    return true;
  }
  private readonly priority = new Uint32Array(PLIC_NUM_SOURCES);
  private readonly pending = new Uint32Array(WORDS);
  private readonly claimed = new Uint32Array(WORDS);
  /** enable[ctx * WORDS + word]. */
  private readonly enable: Uint32Array;
  private readonly threshold: Uint32Array;
  private readonly lines: SourceLine[] = [];

  /** `contextLines[i]` is driven by context i (virt: [hart0 MEIP, hart0 SEIP]). */
  constructor(private readonly contextLines: readonly IrqLine[]) {
    this.enable = new Uint32Array(contextLines.length * WORDS);
    this.threshold = new Uint32Array(contextLines.length);
    for (let s = 0; s < PLIC_NUM_SOURCES; s++) this.lines.push(new SourceLine(this, s));
  }

  /** The line for source `source` (1..95); devices call `set(level)` on it. */
  irqLine(source: number): IrqLine {
    if (!Number.isInteger(source) || source < 1 || source >= PLIC_NUM_SOURCES) {
      throw new RangeError(`PLIC source ${source} is outside 1..${PLIC_NUM_SOURCES - 1}`);
    }
    return this.lines[source];
  }

  /** Drives source `source`'s gateway to `level`: a high level pends the source (see the header). */
  setLevel(source: number, level: boolean): void {
    if (level) this.pending[source >>> 5] |= 1 << (source & 31);
    this.update();
  }

  read(offset: number, size: number): number {
    if (size !== 4 || (offset & 3) !== 0) return 0;
    if (offset < PLIC_NUM_SOURCES * 4) return this.priority[offset >>> 2];
    if (offset >= PENDING_BASE && offset < PENDING_BASE + WORDS * 4) return this.pending[(offset - PENDING_BASE) >>> 2] >>> 0;
    const contexts = this.contextLines.length;
    if (offset >= ENABLE_BASE && offset < ENABLE_BASE + contexts * ENABLE_STRIDE) {
      const ctx = ((offset - ENABLE_BASE) / ENABLE_STRIDE) | 0;
      const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >>> 2;
      return word < WORDS ? this.enable[ctx * WORDS + word] >>> 0 : 0;
    }
    if (offset >= CONTEXT_BASE && offset < CONTEXT_BASE + contexts * CONTEXT_STRIDE) {
      const ctx = ((offset - CONTEXT_BASE) / CONTEXT_STRIDE) | 0;
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (reg === 0) return this.threshold[ctx];
      if (reg === 4) return this.claim(ctx);
    }
    return 0;
  }

  write(offset: number, value: number, size: number): void {
    if (size !== 4 || (offset & 3) !== 0) return;
    const v = value >>> 0;
    if (offset < PLIC_NUM_SOURCES * 4) {
      // WARL: 2^bits levels, so unsupported high bits are dropped (QEMU: value % (num_priorities + 1)).
      this.priority[offset >>> 2] = v & PLIC_MAX_PRIORITY;
      this.update();
      return;
    }
    const contexts = this.contextLines.length;
    if (offset >= ENABLE_BASE && offset < ENABLE_BASE + contexts * ENABLE_STRIDE) {
      const ctx = ((offset - ENABLE_BASE) / ENABLE_STRIDE) | 0;
      const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >>> 2;
      if (word < WORDS) {
        this.enable[ctx * WORDS + word] = v;
        this.update();
      }
      return;
    }
    if (offset >= CONTEXT_BASE && offset < CONTEXT_BASE + contexts * CONTEXT_STRIDE) {
      const ctx = ((offset - CONTEXT_BASE) / CONTEXT_STRIDE) | 0;
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (reg === 0) {
        this.threshold[ctx] = v & PLIC_MAX_PRIORITY;
        this.update();
      } else if (reg === 4) {
        this.complete(v);
      }
    }
  }

  /** Power-on state: priorities, enables, thresholds, pending bits and claims cleared. */
  reset(): void {
    this.priority.fill(0);
    this.enable.fill(0);
    this.threshold.fill(0);
    this.claimed.fill(0);
    this.pending.fill(0);
    this.update();
  }

  /** The source a claim by `ctx` would return now, or 0. */
  private best(ctx: number): number {
    let bestSource = 0;
    let bestPriority = this.threshold[ctx];
    const base = ctx * WORDS;
    for (let w = 0; w < WORDS; w++) {
      let candidates = this.pending[w] & ~this.claimed[w] & this.enable[base + w];
      while (candidates !== 0) {
        const bit = 31 - Math.clz32(candidates & -candidates);
        candidates &= candidates - 1;
        const source = (w << 5) | bit;
        if (source >= PLIC_NUM_SOURCES) break;
        const p = this.priority[source];
        if (p > bestPriority) {
          bestPriority = p;
          bestSource = source;
        }
      }
    }
    return bestSource;
  }

  private claim(ctx: number): number {
    const source = this.best(ctx);
    if (source !== 0) {
      const bit = 1 << (source & 31);
      this.pending[source >>> 5] &= ~bit;
      this.claimed[source >>> 5] |= bit;
    }
    this.update();
    return source;
  }

  private complete(source: number): void {
    if (source >= PLIC_NUM_SOURCES) return;
    const w = source >>> 5;
    const bit = 1 << (source & 31);
    this.claimed[w] &= ~bit;
    this.update();
  }

  /** Drives each context's line: high while some source would be claimed by it. */
  private update(): void {
    for (let ctx = 0; ctx < this.contextLines.length; ctx++) this.contextLines[ctx].set(this.best(ctx) !== 0);
  }
}
