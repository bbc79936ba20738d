// Physical memory protection (privileged spec 20211203 §3.7) with QEMU 7.2's default-deny rule:
// with PMP present, an S- or U-mode access that matches no entry fails, even when no entry is set.

/** Permission bits of a pmpcfg byte. */
export const enum PmpPerm {
  R = 1,
  W = 2,
  X = 4,
  ALL = 7,
}

const LOCK = 0x80;
const A_OFF = 0;
const A_TOR = 1;
const A_NA4 = 2;
const A_NAPOT = 3;

/** 16 PMP entries: configuration bytes, address registers and their decoded ranges. */
export class Pmp {
  readonly cfg = new Uint8Array(16);
  readonly addr = new Uint32Array(16);
  /** Decoded [lo, hi) byte ranges per entry (hi = 0 for OFF entries). */
  private readonly lo = new Float64Array(16);
  private readonly hi = new Float64Array(16);
  /** Number of entries whose A field is not OFF. */
  activeRules = 0;

  /** Resets every entry to OFF and unlocked. */
  reset(): void {
    this.cfg.fill(0);
    this.addr.fill(0);
    this.recompute();
  }

  /** Reads pmpcfgN (four entries per register on RV32). */
  readCfg(n: number): number {
    const c = this.cfg;
    return (c[4 * n] | (c[4 * n + 1] << 8) | (c[4 * n + 2] << 16) | (c[4 * n + 3] << 24)) >>> 0;
  }

  /** Writes pmpcfgN; locked entries keep their value. W without R is reserved (kept as R=0,W=0). */
  writeCfg(n: number, value: number): void {
    for (let k = 0; k < 4; k++) {
      const i = 4 * n + k;
      if (this.cfg[i] & LOCK) continue;
      let b = (value >>> (8 * k)) & 0x9f;
      if ((b & 3) === PmpPerm.W) b &= ~PmpPerm.W;
      this.cfg[i] = b;
    }
    this.recompute();
  }

  /** Reads pmpaddrN. */
  readAddr(n: number): number {
    return this.addr[n];
  }

  /** Writes pmpaddrN unless entry N is locked, or entry N+1 is a locked TOR entry. */
  writeAddr(n: number, value: number): void {
    if (this.cfg[n] & LOCK) return;
    if (n < 15 && (this.cfg[n + 1] & LOCK) && ((this.cfg[n + 1] >>> 3) & 3) === A_TOR) return;
    this.addr[n] = value >>> 0;
    this.recompute();
  }

  private recompute(): void {
    this.activeRules = 0;
    for (let i = 0; i < 16; i++) {
      const a = (this.cfg[i] >>> 3) & 3;
      let lo = 0;
      let hi = 0;
      if (a === A_TOR) {
        lo = i === 0 ? 0 : this.addr[i - 1] * 4;
        hi = this.addr[i] * 4;
      } else if (a === A_NA4) {
        lo = this.addr[i] * 4;
        hi = lo + 4;
      } else if (a === A_NAPOT) {
        let ones = 0;
        while (ones < 32 && ((this.addr[i] >>> ones) & 1) === 1) ones++;
        const size = 2 ** (ones + 3);
        lo = Math.floor((this.addr[i] * 4) / size) * size;
        hi = lo + size;
      }
      if (a !== A_OFF) this.activeRules++;
      this.lo[i] = lo;
      this.hi[i] = a === A_OFF || hi <= lo ? 0 : hi;
    }
  }

  /**
   * Permissions (PmpPerm bits) for `size` bytes at `pa` accessed from privilege `priv`, or 0 when
   * the access would straddle an entry boundary. M-mode ignores unlocked entries.
   */
  permissions(pa: number, size: number, priv: number): number {
    const end = pa + size;
    for (let i = 0; i < 16; i++) {
      const hi = this.hi[i];
      if (hi === 0) continue;
      const lo = this.lo[i];
      if (end <= lo || pa >= hi) continue;
      if (pa < lo || end > hi) return 0;
      const c = this.cfg[i];
      if (priv === 3 && (c & LOCK) === 0) return PmpPerm.ALL;
      return c & PmpPerm.ALL;
    }
    return priv === 3 ? PmpPerm.ALL : 0;
  }

  /** Like `permissions` for a whole 4 KiB page, or -1 when entries split the page. */
  pagePermissions(pagePa: number, priv: number): number {
    const end = pagePa + 4096;
    for (let i = 0; i < 16; i++) {
      const hi = this.hi[i];
      if (hi === 0) continue;
      const lo = this.lo[i];
      if (end <= lo || pagePa >= hi) continue;
      if (pagePa < lo || end > hi) return -1;
      const c = this.cfg[i];
      if (priv === 3 && (c & LOCK) === 0) return PmpPerm.ALL;
      return c & PmpPerm.ALL;
    }
    return priv === 3 ? PmpPerm.ALL : 0;
  }
}
