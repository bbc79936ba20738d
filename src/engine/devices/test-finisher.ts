// SiFive test finisher ("sifive,test0") at 0x100000, as QEMU's hw/misc/sifive_test.c: a 32-bit write
// at offset 0 whose low 16 bits select the action and whose high 16 bits carry the exit code.
// QEMU exits its process with `code` for FAIL (so the shell sees code & 0xff) and with 0 for PASS;
// RESET requests a system reset. Reads return 0. QEMU accepts 2- and 4-byte writes and faults byte
// writes; the Device interface has no fault path, so byte writes are ignored.

import type { Device } from '../machine/bus';

/** Low half-word of a write: the guest failed, exit code in bits 31:16. */
export const FINISHER_FAIL = 0x3333;
/** Low half-word of a write: the guest passed (exit code 0). */
export const FINISHER_PASS = 0x5555;
/** Low half-word of a write: reset the machine. */
export const FINISHER_RESET = 0x7777;

/** The test finisher: ends the run with a code, or asks for a reset. */
export class TestFinisher implements Device {
  readonly name = 'test-finisher';

  /** `onExit(code)` receives the guest's 16-bit code (0 for PASS); `onReset` a reset request. */
  constructor(private readonly onExit: (code: number) => void, private readonly onReset: () => void) {}

  read(): number {
    return 0;
  }

  write(offset: number, value: number, size: number): void {
    if (offset !== 0 || size < 2) return;
    const v = size === 2 ? value & 0xffff : value >>> 0;
    const status = v & 0xffff;
    const code = v >>> 16;
    if (status === FINISHER_FAIL) this.onExit(code);
    else if (status === FINISHER_PASS) this.onExit(0);
    else if (status === FINISHER_RESET) this.onReset();
  }

  reset(): void {}
}
