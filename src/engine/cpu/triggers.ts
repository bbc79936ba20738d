// Debug triggers (RISC-V Debug Specification 0.13, §5 "Sdtrig") as QEMU 7.2's rv32 CPU offers them
// (target/riscv/debug.c, debug=true by default): two triggers, type 2 (mcontrol) or 6 (mcontrol6),
// both address match, reached through tselect/tdata1/tdata2/tdata3 and tinfo (types 2 and 6) in
// M-mode; they start as type 2 with nothing enabled. tselect ignores values past the last trigger.
// A tdata1 write keeps only what QEMU implements: the size (type 2 sizelo; type 6 size when QEMU
// knows it), the mode bits (type 6 also VU/VS) and execute/store/load; dmode, action, match, chain,
// timing, select and hit read 0, so the action is always a breakpoint exception. A tdata1 write of
// another type leaves the register as it was. tdata3 reads 0.
//
// An armed trigger (a mode bit and an access bit set) fires before the access, as QEMU's
// BP_STOP_BEFORE_ACCESS: an execute trigger when the hart fetches the instruction at tdata2, a load or
// store trigger when an access overlaps [tdata2, tdata2 + n) in a privilege mode whose bit is set,
// where n is what QEMU hands its watchpoint: the size field's value itself (so sizelo 3, "4 bytes",
// watches 3), 4 for type 2 size 0 and 8 for type 6 size 0. The hart raises a breakpoint exception (cause 3) with tval 0, as QEMU 7.2 reports
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
const TYPE_MCONTROL6 = 6;
const MODE_VU = 1 << 23;
const MODE_VS = 1 << 24;
const SIZE6 = 15 << 16;
const LOAD = 1 << 0;
const STORE = 1 << 1;
const EXECUTE = 1 << 2;
const MODE_U = 1 << 3;
const MODE_S = 1 << 4;
const MODE_M = 1 << 6;
const SIZELO = 3 << 16;
const MODES = MODE_U | MODE_S | MODE_M;
const KINDS = EXECUTE | STORE | LOAD;
/** type 6 size encodings QEMU accepts (0, 1, 2, 4 and 8 bytes); others are written as 0. */
const SIZE6_KNOWN = 0b101111;

/** tinfo: the trigger types each trigger can take. */
export const TINFO = (1 << TYPE_MCONTROL) | (1 << TYPE_MCONTROL6);

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
    const type = v >>> TYPE_SHIFT;
    let next: number;
    if (type === TYPE_MCONTROL) {
      next = ((TYPE_MCONTROL << TYPE_SHIFT) | (v & (SIZELO | MODES | KINDS))) >>> 0;
    } else if (type === TYPE_MCONTROL6) {
      const size = (SIZE6_KNOWN >>> ((v & SIZE6) >>> 16)) & 1 ? v & SIZE6 : 0;
      next = ((TYPE_MCONTROL6 << TYPE_SHIFT) | size | (v & (MODE_VU | MODE_VS | MODES | KINDS))) >>> 0;
    } else {
      return false;
    }
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
      const last = (first + watchBytes(this.tdata1[i]) - 1) >>> 0;
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
      const end = at + watchBytes(ctl);
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
      const next = ((ctl & ~(MODES | MODE_VU | MODE_VS)) | ((ctl & modeBit(priv)) !== 0 ? MODE_U : 0)) >>> 0;
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
  return (ctl & (MODES | MODE_VU | MODE_VS)) !== 0 && (ctl & KINDS) !== 0;
}

/** The bytes QEMU's watchpoint for a load/store trigger covers (see the header). */
function watchBytes(ctl: number): number {
  const size = ctl >>> TYPE_SHIFT === TYPE_MCONTROL ? (ctl & SIZELO) >>> 16 : (ctl & SIZE6) >>> 16;
  if (size !== 0) return size;
  return ctl >>> TYPE_SHIFT === TYPE_MCONTROL ? 4 : 8;
}

function modeBit(priv: number): number {
  return priv === 3 ? MODE_M : priv === 1 ? MODE_S : priv === 0 ? MODE_U : 0;
}
