// SiFive CLINT as QEMU 7.2's virt machine builds it from an ACLINT SWI (msip at 0x0) and MTIMER
// (mtimecmp at 0x4000, mtime at 0xBFF8); hw/intc/riscv_aclint.c. One hart.
//
// 64-bit values are kept as two unsigned 32-bit halves (hi, lo) because a double cannot hold every
// value up to 2^64-1. mtime = time.now() + delta (mod 2^64); delta changes only when the guest writes
// mtime, and is cleared on reset (the machine restarts its time source at reset, as QEMU's reset writes
// mtime = 0). mtimecmp resets to 0, as QEMU's riscv_aclint_mtimer_create leaves it, so MTIP is pending
// at power-on (checked against QEMU 7.2: mip.MTIP reads 1 at the first instruction).
//
// QEMU accepts only 4-byte (and, for the timer, 8-byte) accesses here and faults the others; the Device
// interface has no fault path, so other sizes read 0 and are ignored.

import type { Device } from '../machine/bus';
import type { IrqLine, TimeSource } from './irq';

const MSIP = 0x0000;
const MTIMECMP_LO = 0x4000;
const MTIMECMP_HI = 0x4004;
const MTIME_LO = 0xbff8;
const MTIME_HI = 0xbffc;
const TWO_32 = 0x1_0000_0000;

/** The core-local interruptor: software interrupt (msip) and the machine timer (mtime, mtimecmp). */
export class Clint implements Device {
  readonly name = 'clint';
  private msip = 0;
  private cmpLo = 0;
  private cmpHi = 0;
  private deltaLo = 0;
  private deltaHi = 0;
  /** Raw time source value and mtime at the last sample(); scratch, so sampling allocates nothing. */
  private raw = 0;
  private mtimeLo = 0;
  private mtimeHi = 0;

  constructor(private readonly time: TimeSource, private readonly msipLine: IrqLine, private readonly mtipLine: IrqLine) {}

  read(offset: number, size: number): number {
    if (size !== 4) return 0;
    switch (offset) {
      case MSIP:
        return this.msip;
      case MTIMECMP_LO:
        return this.cmpLo;
      case MTIMECMP_HI:
        return this.cmpHi;
      case MTIME_LO:
        this.sample();
        return this.mtimeLo;
      case MTIME_HI:
        this.sample();
        return this.mtimeHi;
      default:
        return 0;
    }
  }

  write(offset: number, value: number, size: number): void {
    if (size !== 4) return;
    const v = value >>> 0;
    switch (offset) {
      case MSIP:
        this.msip = v & 1;
        this.msipLine.set(this.msip === 1);
        return;
      case MTIMECMP_LO:
        this.cmpLo = v;
        this.update();
        return;
      case MTIMECMP_HI:
        this.cmpHi = v;
        this.update();
        return;
      case MTIME_LO:
        this.sample();
        this.setMtime(this.mtimeHi, v);
        return;
      case MTIME_HI:
        this.sample();
        this.setMtime(v, this.mtimeLo);
        return;
      default:
    }
  }

  /** Power-on state: msip 0, mtimecmp 0, mtime equal to the time source; drives both lines. */
  reset(): void {
    this.msip = 0;
    this.cmpLo = 0;
    this.cmpHi = 0;
    this.deltaLo = 0;
    this.deltaHi = 0;
    this.msipLine.set(false);
    this.update();
  }

  /** Re-evaluates MTIP = (mtime >= mtimecmp) against the time source and drives the line. */
  update(): void {
    this.sample();
    this.mtipLine.set(this.expired());
  }

  /**
   * The time-source value (`time.now()` units, equal to mtime unless the guest wrote mtime) at which
   * MTIP will next rise; Infinity when it is already high or the deadline is beyond 2^53.
   */
  nextDeadline(): number {
    this.sample();
    if (this.expired()) return Infinity;
    const borrow = this.cmpLo < this.mtimeLo ? 1 : 0;
    const diffLo = (this.cmpLo - this.mtimeLo) >>> 0;
    const diffHi = (this.cmpHi - this.mtimeHi - borrow) >>> 0;
    const at = this.raw + diffHi * TWO_32 + diffLo;
    return at <= Number.MAX_SAFE_INTEGER ? at : Infinity;
  }

  /** Reads the time source once and computes mtime = raw + delta (mod 2^64). */
  private sample(): void {
    const raw = this.time.now();
    this.raw = raw;
    const rawLo = raw >>> 0;
    const rawHi = Math.floor(raw / TWO_32) >>> 0;
    const lo = rawLo + this.deltaLo;
    this.mtimeLo = lo >>> 0;
    this.mtimeHi = (rawHi + this.deltaHi + (lo >= TWO_32 ? 1 : 0)) >>> 0;
  }

  private expired(): boolean {
    return this.mtimeHi > this.cmpHi || (this.mtimeHi === this.cmpHi && this.mtimeLo >= this.cmpLo);
  }

  /** Sets mtime to hi:lo by choosing delta = hi:lo - raw (mod 2^64), against the last sample. */
  private setMtime(hi: number, lo: number): void {
    const rawLo = this.raw >>> 0;
    const rawHi = Math.floor(this.raw / TWO_32) >>> 0;
    const borrow = lo < rawLo ? 1 : 0;
    this.deltaLo = (lo - rawLo) >>> 0;
    this.deltaHi = (hi - rawHi - borrow) >>> 0;
    this.update();
  }
}
