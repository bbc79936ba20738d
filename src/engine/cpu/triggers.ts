// Debug triggers (RISC-V Debug Specification 0.13, §5 "Sdtrig") as QEMU 7.2's rv32 CPU offers them
// (target/riscv/debug.c, debug=true by default): two triggers, both type 2 (mcontrol, address match),
// reached through tselect/tdata1/tdata2/tdata3 in M-mode. tselect ignores values past the last
// trigger. A tdata1 write of type 2 keeps only what QEMU implements: the size (sizelo), the M/S/U
// mode bits and execute/store/load; dmode, action, match, chain, timing, select and hit read 0, so
// the action is always a breakpoint exception. A tdata1 write of another type leaves the register as
// it was (QEMU 7.2 also accepts type 6, mcontrol6; vmlab does not have it). tdata3 reads 0.
//
// An armed trigger (a mode bit and an access bit set) fires before the access, as QEMU's
// BP_STOP_BEFORE_ACCESS: an execute trigger when the hart fetches the instruction at tdata2, a load or
// store trigger when an access overlaps [tdata2, tdata2 + size) (size 0: 4 bytes), in a privilege mode
// whose bit is set. The hart raises a breakpoint exception (cause 3) with tval 0, as QEMU 7.2 reports
// it (the specification would allow the address). In trap mode the trigger CSRs are the virtual
// hart's; the VMM mirrors them onto the physical hart for the guest's current privilege (`mirror`).
// To keep the fast paths free of checks, the hart keeps no TLB
// entry for a page a trigger watches (so no translated block runs there either) and drops its TLB and
// translated code whenever the triggers change, so every access to a watched page reaches the slow
// path, where `hit` is asked (test/cpu/triggers.test.ts).

/** Number of triggers (QEMU: RV_MAX_TRIGGERS). */
export const TRIGGER_COUNT = 2;

const TYPE_SHIFT = 28;
const TYPE_MCONTROL = 2;
const LOAD = 1 << 0;
const STORE = 1 << 1;
const EXECUTE = 1 << 2;
const MODE_U = 1 << 3;
const MODE_S = 1 << 4;
const MODE_M = 1 << 6;
const SIZELO = 3 << 16;
const KEPT = SIZELO | MODE_U | MODE_S | MODE_M | EXECUTE | STORE | LOAD;
/** Bytes a load/store trigger watches, by sizelo (0: any access size, QEMU watches 4 bytes). */
const WATCH_BYTES = [4, 1, 2, 4];

/** What the hart asks a trigger about. */
export const enum TriggerAccess {
  LOAD = 1,
  STORE = 2,
  EXECUTE = 4,
}

/** The trigger module of one hart. */
export class Triggers {
  /** tselect. */
  select = 0;
  readonly tdata1 = new Uint32Array(TRIGGER_COUNT);
  readonly tdata2 = new Uint32Array(TRIGGER_COUNT);
  /** True while some trigger has a mode bit and an access bit set. */
  armed = false;

  constructor() {
    this.reset();
  }

  /** Power-on state: every trigger of type 2 with nothing enabled, tselect 0. */
  reset(): void {
    this.select = 0;
    this.tdata1.fill(TYPE_MCONTROL << TYPE_SHIFT);
    this.tdata2.fill(0);
    this.armed = false;
  }

  writeSelect(v: number): void {
    if (v >>> 0 < TRIGGER_COUNT) this.select = v >>> 0;
  }

  /** tdata1 write; returns true when what the triggers watch changed. */
  writeData1(v: number): boolean {
    if (v >>> TYPE_SHIFT !== TYPE_MCONTROL) return false;
    const next = ((TYPE_MCONTROL << TYPE_SHIFT) | (v & KEPT)) >>> 0;
    if (next === this.tdata1[this.select]) return false;
    this.tdata1[this.select] = next;
    this.update();
    return true;
  }

  /** tdata2 write; returns true when what the triggers watch changed. */
  writeData2(v: number): boolean {
    if (this.tdata2[this.select] === v >>> 0) return false;
    this.tdata2[this.select] = v >>> 0;
    return this.armed;
  }

  /** Whether page `vpn` (va >>> 12) holds an address an armed trigger watches. */
  watchesPage(vpn: number): boolean {
    for (let i = 0; i < TRIGGER_COUNT; i++) {
      if (!enabled(this.tdata1[i])) continue;
      const first = this.tdata2[i];
      const last = (first + WATCH_BYTES[(this.tdata1[i] & SIZELO) >>> 16] - 1) >>> 0;
      if (first >>> 12 === vpn >>> 0 || last >>> 12 === vpn >>> 0) return true;
    }
    return false;
  }

  /**
   * The address to report when an access of `size` bytes at `va` by `kind` in privilege `priv`
   * hits an armed trigger, else -1.
   */
  hit(va: number, size: number, kind: TriggerAccess, priv: number): number {
    const start = va >>> 0;
    for (let i = 0; i < TRIGGER_COUNT; i++) {
      const ctl = this.tdata1[i];
      if (!enabled(ctl) || (ctl & kind) === 0 || (ctl & modeBit(priv)) === 0) continue;
      const at = this.tdata2[i];
      if (kind === TriggerAccess.EXECUTE) {
        if (at === start) return start;
        continue;
      }
      const end = at + WATCH_BYTES[(ctl & SIZELO) >>> 16];
      if (start < end && at < start + size) return Math.max(start, at);
    }
    return -1;
  }

  /**
   * Trap mode: the physical hart runs the guest in U-mode, so it takes the guest's triggers with the
   * U bit standing for the guest's current privilege `priv`. Returns true when anything changed.
   */
  mirror(guest: Triggers, priv: number): boolean {
    let changed = false;
    for (let i = 0; i < TRIGGER_COUNT; i++) {
      const ctl = guest.tdata1[i];
      const next = ((ctl & ~(MODE_U | MODE_S | MODE_M)) | ((ctl & modeBit(priv)) !== 0 ? MODE_U : 0)) >>> 0;
      if (next !== this.tdata1[i] || guest.tdata2[i] !== this.tdata2[i]) changed = true;
      this.tdata1[i] = next;
      this.tdata2[i] = guest.tdata2[i];
    }
    this.update();
    return changed;
  }

  private update(): void {
    this.armed = false;
    for (let i = 0; i < TRIGGER_COUNT; i++) if (enabled(this.tdata1[i])) this.armed = true;
  }
}

function enabled(ctl: number): boolean {
  return (ctl & (MODE_U | MODE_S | MODE_M)) !== 0 && (ctl & (LOAD | STORE | EXECUTE)) !== 0;
}

function modeBit(priv: number): number {
  return priv === 3 ? MODE_M : priv === 1 ? MODE_S : priv === 0 ? MODE_U : 0;
}
