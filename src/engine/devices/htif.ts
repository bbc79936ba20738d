// HTIF, the host-target interface of Spike and riscv-tests: the guest writes a 64-bit command into the
// RAM word `tohost`; the host acts on it, clears `tohost` and answers in `fromhost`. A command is
// device (bits 63:56), cmd (55:48) and payload (47:0), as in QEMU's hw/char/riscv_htif.c:
//   device 0, cmd 0, payload bit 0 = 1: exit with code payload >> 1 (riscv-tests: 0 = pass);
//   device 1, cmd 1: console putchar of payload & 0xff, answered with 0x100 | char;
//   anything else (syscall proxy, console getchar): not supported, answered with 0.
// The answer is written as fromhost = command bits 63:48 | answer, as QEMU does.
//
// It is not a bus device: tohost lives in RAM, so the machine calls poll() between slices. An RV32
// guest writes the two halves with two stores, so a poll may see a half-written command; a command is
// therefore acted on only when two consecutive polls see the same non-zero value (the guest waits for
// fromhost, or spins, after writing one).

import type { PhysicalBus } from '../machine/bus';

/** riscv-tests style tohost/fromhost handling over RAM. */
export class Htif {
  private seenLo = 0;
  private seenHi = 0;
  private seen = false;

  /**
   * `tohost`/`fromhost` are the physical addresses of the 64-bit words (from the ELF's symbols);
   * `out` receives console bytes and `onExit` the exit code.
   */
  constructor(
    private readonly bus: PhysicalBus,
    private readonly tohost: number,
    private readonly fromhost: number | undefined,
    private readonly out: (byte: number) => void,
    private readonly onExit: (code: number) => void,
  ) {}

  /** Checks tohost and runs a command that has been stable since the previous poll. */
  poll(): void {
    const at = this.bus.ramOffset(this.tohost, 8);
    if (at < 0) return;
    const lo = this.readWord(at);
    const hi = this.readWord(at + 4);
    if (lo === 0 && hi === 0) {
      this.seen = false;
      return;
    }
    if (!this.seen || lo !== this.seenLo || hi !== this.seenHi) {
      this.seen = true;
      this.seenLo = lo;
      this.seenHi = hi;
      return;
    }
    this.seen = false;
    this.run(at, lo, hi);
  }

  private run(at: number, lo: number, hi: number): void {
    const device = hi >>> 24;
    const cmd = (hi >>> 16) & 0xff;
    const payloadHi = hi & 0xffff;
    if (device === 0 && cmd === 0 && (lo & 1) === 1) {
      // Exit code = payload >> 1, a 47-bit value; codes beyond 2^32 are not meaningful to a host.
      this.onExit(((lo >>> 1) | ((payloadHi & 1) << 31)) >>> 0);
      return;
    }
    let answer = 0;
    if (device === 1 && cmd === 1) {
      this.out(lo & 0xff);
      answer = 0x100 | (lo & 0xff);
    }
    this.writeWord(at, 0);
    this.writeWord(at + 4, 0);
    if (this.fromhost === undefined) return;
    const reply = this.bus.ramOffset(this.fromhost, 8);
    if (reply < 0) return;
    this.writeWord(reply, answer);
    this.writeWord(reply + 4, (hi & 0xffff0000) >>> 0);
  }

  private readWord(off: number): number {
    const ram = this.bus.ram;
    return (ram[off] | (ram[off + 1] << 8) | (ram[off + 2] << 16) | (ram[off + 3] << 24)) >>> 0;
  }

  private writeWord(off: number, value: number): void {
    const ram = this.bus.ram;
    this.bus.written[off >>> 12] = 1;
    if (this.bus.writeLog !== undefined) this.bus.writeLog[off >>> 12] = 1;
    ram[off] = value;
    ram[off + 1] = value >>> 8;
    ram[off + 2] = value >>> 16;
    ram[off + 3] = value >>> 24;
  }
}
