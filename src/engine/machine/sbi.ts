// The SBI the engine itself answers for `--bios sbi` (docs/reference.md, "SBI"): the firmware an
// S-mode kernel expects in M-mode, written once and used by the bare machine (the hart's ecalls from
// S-mode come here instead of to code at mtvec) and by the VMM in every mode (a guest's ecalls from
// its virtual S-mode). Calls follow the SBI v2.0 specification (calling convention §3: a7 = extension,
// a6 = function, a0..a5 arguments; a0 = error, a1 = value; legacy extensions 0x00..0x08 return a0
// only). Where the specification leaves room the answers are OpenSBI 1.4's on QEMU's virt machine,
// checked with the same kernel (test/guests/sbi/sbi-calls.S): the console writes "\r" before every
// "\n" as OpenSBI's uart8250 console does, a hart mask whose base names no hart is INVALID_PARAM, a
// set_timer deadline clears STIP until it passes, shutdown ends the run with exit code 0 whatever the
// reason, DBCN fails with FAILED for an address above 4 GiB. vmlab has no PMU, SUSP or CPPC
// extension; its implementation id is its own (SBI_IMPL_ID).

import { Cause } from '../mmu/walk';
import { Irq } from '../cpu/csr-defs';
import { CsrOp, Priv, type Hart } from '../cpu/hart';
import type { Clint } from '../devices/clint';
import type { Uart16550 } from '../devices/uart16550';
import type { PhysicalBus } from './bus';

/** Extension ids (SBI v2.0 §4-§12). */
export const SbiExt = {
  LEGACY_SET_TIMER: 0x00,
  LEGACY_PUTCHAR: 0x01,
  LEGACY_GETCHAR: 0x02,
  LEGACY_CLEAR_IPI: 0x03,
  LEGACY_SEND_IPI: 0x04,
  LEGACY_REMOTE_FENCE_I: 0x05,
  LEGACY_REMOTE_SFENCE_VMA: 0x06,
  LEGACY_REMOTE_SFENCE_VMA_ASID: 0x07,
  LEGACY_SHUTDOWN: 0x08,
  BASE: 0x10,
  TIME: 0x54494d45,
  IPI: 0x735049,
  RFENCE: 0x52464e43,
  HSM: 0x48534d,
  SRST: 0x53525354,
  DBCN: 0x4442434e,
} as const;

/** SBI error codes (§3.2). */
export const SbiError = {
  SUCCESS: 0,
  FAILED: -1,
  NOT_SUPPORTED: -2,
  INVALID_PARAM: -3,
  DENIED: -4,
  INVALID_ADDRESS: -5,
  ALREADY_AVAILABLE: -6,
} as const;

/** The SBI specification version answered: 2.0 (major in bits 24..30), as OpenSBI 1.4. */
export const SBI_SPEC_VERSION = 0x0200_0000;
/** vmlab's SBI implementation id ("vml"; OpenSBI is 1): not in the specification's registry. */
export const SBI_IMPL_ID = 0x766d6c;
/** The implementation version: 1. */
export const SBI_IMPL_VERSION = 1;

/** medeleg at boot: every delegable exception but ecall from S-mode, which is the SBI call itself. */
export const SBI_MEDELEG = 0xb3ff & ~(1 << Cause.ECALL_S);
/** mideleg at boot: the S-mode interrupts, as OpenSBI delegates them. */
export const SBI_MIDELEG = (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI);

/** What an SBI implementation acts on: the bare machine, or one VM's virtual machine. */
export interface SbiPlatform {
  /** Physical memory (guest-physical in a VM) that DBCN reads and writes. */
  readonly bus: PhysicalBus;
  readonly uart: Uart16550;
  readonly clint: Clint;
  /** The hart whose S-mode calls: SSIP goes into its mip, its CSRs give the machine ids. */
  readonly hart: Hart;
  /** Powers the machine off (exit code 0, as QEMU's syscon-poweroff). */
  shutdown(): void;
  /** Reboots the machine. */
  reboot(): void;
  /** Carries out a remote fence that names this hart: `i` (fence.i) or `vma` (sfence.vma, all). */
  fence(kind: 'i' | 'vma'): void;
  /**
   * Loads a word at an S-mode virtual address (the legacy calls pass hart masks by pointer). On a
   * fault it delivers the trap to the guest, as OpenSBI redirects it, and returns undefined.
   */
  loadWord(va: number): number | undefined;
}

/** An extra extension (the VMM's para-virtual one), answered after the standard ones. */
export interface SbiExtension {
  readonly eid: number;
  /** The statistics' name of function `fid`. */
  name(fid: number): string;
  /**
   * Handles function `fid` with the registers in `x`: writes x[10] (error) and x[11] (value) and
   * returns true, or returns false when it moved the caller elsewhere itself (the hart's pc).
   */
  call(fid: number, x: Int32Array): boolean;
}

const A0 = 10;
const A1 = 11;
const A2 = 12;
const A6 = 16;
const A7 = 17;
const U32 = 0x1_0000_0000;

const EXTENSION_NAMES: Record<number, string> = {
  [SbiExt.BASE]: 'base', [SbiExt.TIME]: 'time', [SbiExt.IPI]: 'ipi', [SbiExt.RFENCE]: 'rfence',
  [SbiExt.HSM]: 'hsm', [SbiExt.SRST]: 'srst', [SbiExt.DBCN]: 'dbcn',
};
const LEGACY_NAMES = ['set_timer', 'console_putchar', 'console_getchar', 'clear_ipi', 'send_ipi', 'remote_fence_i', 'remote_sfence_vma', 'remote_sfence_vma_asid', 'shutdown'];
const FUNCTION_NAMES: Record<number, readonly string[]> = {
  [SbiExt.BASE]: ['get_spec_version', 'get_impl_id', 'get_impl_version', 'probe_extension', 'get_mvendorid', 'get_marchid', 'get_mimpid'],
  [SbiExt.TIME]: ['set_timer'],
  [SbiExt.IPI]: ['send_ipi'],
  [SbiExt.RFENCE]: ['remote_fence_i', 'remote_sfence_vma', 'remote_sfence_vma_asid'],
  [SbiExt.HSM]: ['hart_start', 'hart_stop', 'hart_get_status', 'hart_suspend'],
  [SbiExt.SRST]: ['system_reset'],
  [SbiExt.DBCN]: ['console_write', 'console_read', 'console_write_byte'],
};

/** The SBI of one machine or VM. */
export class Sbi {
  /** The para-virtual extension of a `pv` VM, if any. */
  extension: SbiExtension | undefined;
  /** Called for every call with its name (statistics); undefined: not counted. */
  onCall: ((name: string) => void) | undefined;

  constructor(private readonly platform: SbiPlatform) {}

  /**
   * Sets the hart up as OpenSBI leaves it when it enters an S-mode kernel: S-mode at `entry` with
   * a0 = hartid and a1 = the device tree; S-mode exceptions and interrupts delegated; the counters
   * readable below M (mcounteren); a PMP rule giving S and U all memory; the timer far away.
   */
  boot(entry: number, fdtAddress: number): void {
    const h = this.platform.hart;
    h.x.fill(0);
    h.x[A0] = h.hartId;
    h.x[A1] = fdtAddress | 0;
    h.medeleg = SBI_MEDELEG;
    h.mideleg = SBI_MIDELEG;
    h.mcounteren = 0xffffffff;
    if (h.features.pmp) {
      h.pmpWrite(() => {
        h.pmp.writeAddr(0, 0xffffffff);
        h.pmp.writeCfg(0, 0x1f);
      });
    }
    this.setTimer(0xffffffff, 0xffffffff);
    h.priv = Priv.S;
    h.pc = entry | 0;
    h.contextChanged();
    h.interruptsChanged();
  }

  /** The statistics' name of a call: `sbi.<extension>.<function>`, or the PV extension's. */
  callName(eid: number, fid: number): string {
    if (this.extension !== undefined && eid === this.extension.eid) return this.extension.name(fid);
    if (eid >= 0 && eid <= SbiExt.LEGACY_SHUTDOWN) return `sbi.legacy.${LEGACY_NAMES[eid]}`;
    const ext = EXTENSION_NAMES[eid];
    if (ext === undefined) return 'sbi.unknown';
    return `sbi.${ext}.${FUNCTION_NAMES[eid][fid] ?? 'unknown'}`;
  }

  /** Whether extension `eid` is there (base probe_extension). */
  probe(eid: number): number {
    if (eid >= 0 && eid <= SbiExt.LEGACY_SHUTDOWN) return 1;
    if (this.extension !== undefined && eid === this.extension.eid) return 1;
    return EXTENSION_NAMES[eid] !== undefined ? 1 : 0;
  }

  /**
   * Handles one ecall from S-mode with the caller's registers in `x` (the hart's own, or a VM's as
   * the physical hart holds them). Returns true when the caller should go on after the ecall
   * (pc + 4), false when a trap was delivered instead (a legacy call's bad pointer).
   */
  call(x: Int32Array): boolean {
    const eid = x[A7] >>> 0;
    const fid = x[A6] >>> 0;
    this.onCall?.(this.callName(eid, fid));
    if (eid <= SbiExt.LEGACY_SHUTDOWN) return this.legacy(eid, x);
    let err: number = SbiError.SUCCESS;
    let value = 0;
    const a0 = x[A0] >>> 0;
    const a1 = x[A1] >>> 0;
    switch (eid) {
      case SbiExt.BASE:
        switch (fid) {
          case 0: value = SBI_SPEC_VERSION; break;
          case 1: value = SBI_IMPL_ID; break;
          case 2: value = SBI_IMPL_VERSION; break;
          case 3: value = this.probe(a0); break;
          case 4: value = this.csr(0xf11); break;
          case 5: value = this.csr(0xf12); break;
          case 6: value = this.csr(0xf13); break;
          default: err = SbiError.NOT_SUPPORTED;
        }
        break;
      case SbiExt.TIME:
        if (fid === 0) this.setTimer(a0, a1);
        else err = SbiError.NOT_SUPPORTED;
        break;
      case SbiExt.IPI:
        if (fid !== 0) err = SbiError.NOT_SUPPORTED;
        else err = this.forHarts(a0, a1, () => this.platform.hart.setMipSw(this.platform.hart.mipSw | (1 << Irq.SSI)));
        break;
      case SbiExt.RFENCE:
        if (fid === 0) err = this.forHarts(a0, a1, () => this.platform.fence('i'));
        else if (fid === 1 || fid === 2) err = this.forHarts(a0, a1, () => this.platform.fence('vma'));
        else err = SbiError.NOT_SUPPORTED;
        break;
      case SbiExt.HSM:
        [err, value] = this.hsm(fid, a0);
        break;
      case SbiExt.SRST:
        err = this.systemReset(fid, a0, a1);
        break;
      case SbiExt.DBCN:
        [err, value] = this.dbcn(fid, a0, a1, x[A2] >>> 0);
        break;
      default:
        if (this.extension !== undefined && eid === this.extension.eid) {
          return this.extension.call(fid, x);
        }
        err = SbiError.NOT_SUPPORTED;
    }
    x[A0] = err;
    x[A1] = value | 0;
    return true;
  }

  /** The legacy (v0.1) calls: a0 is the only result. */
  private legacy(eid: number, x: Int32Array): boolean {
    const a0 = x[A0] >>> 0;
    let ret = 0;
    switch (eid) {
      case SbiExt.LEGACY_SET_TIMER:
        this.setTimer(a0, x[A1] >>> 0);
        break;
      case SbiExt.LEGACY_PUTCHAR:
        this.putc(a0 & 0xff);
        break;
      case SbiExt.LEGACY_GETCHAR:
        ret = this.getc();
        break;
      case SbiExt.LEGACY_CLEAR_IPI:
        this.platform.hart.setMipSw(this.platform.hart.mipSw & ~(1 << Irq.SSI));
        break;
      case SbiExt.LEGACY_SHUTDOWN:
        this.platform.shutdown();
        break;
      default: {
        // send_ipi and the remote fences pass a pointer to the hart mask (0: every hart).
        let mask = 0xffffffff;
        if (a0 !== 0) {
          const m = this.platform.loadWord(a0);
          if (m === undefined) return false;
          mask = m >>> 0;
        }
        if ((mask & 1) === 0) break;
        if (eid === SbiExt.LEGACY_SEND_IPI) this.platform.hart.setMipSw(this.platform.hart.mipSw | (1 << Irq.SSI));
        else this.platform.fence(eid === SbiExt.LEGACY_REMOTE_FENCE_I ? 'i' : 'vma');
      }
    }
    x[A0] = ret;
    return true;
  }

  /** Runs `act` when the hart mask (mask, base; base -1: all harts) names hart 0, the only hart. */
  private forHarts(mask: number, base: number, act: () => void): number {
    if (base === 0xffffffff || (base === 0 && (mask & 1) !== 0)) act();
    else if (base !== 0) return SbiError.INVALID_PARAM;
    return SbiError.SUCCESS;
  }

  private hsm(fid: number, a0: number): [number, number] {
    const me = this.platform.hart.hartId;
    const hartid = a0;
    switch (fid) {
      case 0: // hart_start: the only hart runs already
        return [hartid === me ? SbiError.ALREADY_AVAILABLE : SbiError.INVALID_PARAM, 0];
      case 1: // hart_stop: the only hart cannot stop (nothing could start it again)
        return [SbiError.FAILED, 0];
      case 2: // hart_get_status: 0 = STARTED
        return hartid === me ? [SbiError.SUCCESS, 0] : [SbiError.INVALID_PARAM, 0];
      case 3: // hart_suspend(type): the default retentive suspend (0) waits as wfi does
        if (a0 !== 0) return [a0 === 0x8000_0000 ? SbiError.NOT_SUPPORTED : SbiError.INVALID_PARAM, 0];
        if (!this.platform.hart.wakeupPending()) this.platform.hart.waiting = true;
        return [SbiError.SUCCESS, 0];
      default:
        return [SbiError.NOT_SUPPORTED, 0];
    }
  }

  private systemReset(fid: number, type: number, reason: number): number {
    if (fid !== 0) return SbiError.NOT_SUPPORTED;
    if (type > 2 || reason > 1) return SbiError.INVALID_PARAM;
    if (type === 0) this.platform.shutdown();
    else this.platform.reboot();
    return SbiError.SUCCESS;
  }

  private dbcn(fid: number, count: number, lo: number, hi: number): [number, number] {
    if (fid === 2) {
      this.putc(count & 0xff);
      return [SbiError.SUCCESS, 0];
    }
    if (fid !== 0 && fid !== 1) return [SbiError.NOT_SUPPORTED, 0];
    if (hi !== 0) return [SbiError.FAILED, 0];
    const bus = this.platform.bus;
    if (lo + count > U32) return [SbiError.INVALID_PARAM, 0];
    for (let page = lo - (lo % 4096); page < lo + count; page += 4096) {
      if (bus.ramOffset(page, 4096) < 0) return [SbiError.INVALID_PARAM, 0];
    }
    if (fid === 0) {
      for (let i = 0; i < count; i++) this.putc(bus.ram[bus.ramOffset(lo + i, 1)]);
      return [SbiError.SUCCESS, count];
    }
    let n = 0;
    while (n < count) {
      const c = this.getc();
      if (c < 0) break;
      const off = bus.ramOffset(lo + n, 1);
      bus.ram[off] = c;
      bus.written[off >>> 12] = 1;
      if (bus.writeLog !== undefined) bus.writeLog[off >>> 12] = 1;
      n++;
    }
    return [SbiError.SUCCESS, n];
  }

  /** A console byte through the UART's transmitter, "\r" before "\n" as OpenSBI's console does. */
  private putc(byte: number): void {
    const uart = this.platform.uart;
    if (byte === 0x0a) uart.write(0, 0x0d, 1);
    uart.write(0, byte, 1);
  }

  /** A byte from the UART's receiver, or -1 when none is there. */
  private getc(): number {
    const uart = this.platform.uart;
    if ((uart.read(5, 1) & 1) === 0) return -1;
    return uart.read(0, 1) & 0xff;
  }

  /** Arms the timer at (hi:lo); the CLINT's timer line is the hart's STIP under this firmware. */
  private setTimer(lo: number, hi: number): void {
    const clint = this.platform.clint;
    clint.write(0x4004, 0xffffffff, 4);
    clint.write(0x4000, lo, 4);
    clint.write(0x4004, hi, 4);
  }

  /** A machine id CSR as M-mode reads it. */
  private csr(num: number): number {
    const h = this.platform.hart;
    const priv = h.priv;
    h.priv = Priv.M;
    const v = h.csrAccess(num, CsrOp.SET, 0, false) >>> 0;
    h.priv = priv;
    h.fault = 0;
    return v;
  }
}
