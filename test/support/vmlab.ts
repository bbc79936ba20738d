// Runs a guest on vmlab's in-process Machine the way runQemu runs it on QEMU, for side-by-side checks.
import { readFileSync } from 'node:fs';
import { Machine, StopReason } from '../../src/engine/machine/machine';

/** Result of one vmlab run. */
export interface VmlabResult {
  /** Bytes the guest wrote to UART0. */
  output: Buffer;
  /** The guest's exit code, or null when it did not exit. */
  exitCode: number | null;
  /** Why the run loop returned last. */
  reason: StopReason;
  /** Instructions retired. */
  instret: number;
}

/** Options for runVmlab. */
export interface VmlabOptions {
  /** Step budget (default 200 million). */
  maxSteps?: number;
  /** Bytes queued for the UART receiver before the run. */
  input?: Uint8Array;
}

/** Boots `elf` (a path or the file's bytes) on a default Machine and runs it to exit or budget. */
export function runVmlab(elf: string | Uint8Array, options: VmlabOptions = {}): VmlabResult {
  const bytes = typeof elf === 'string' ? new Uint8Array(readFileSync(elf)) : elf;
  const out: number[] = [];
  const m = new Machine({ ramSize: 128 * 1024 * 1024, cpu: { pmp: true, c: true, a: true, m: true, h: false, xsensitive: false }, onUart: (b) => out.push(b) });
  m.loadKernel(bytes);
  if (options.input) m.sendInput(options.input);
  let remaining = options.maxSteps ?? 200_000_000;
  let reason: StopReason = StopReason.BUDGET;
  while (remaining > 0) {
    const slice = Math.min(remaining, 10_000_000);
    reason = m.run(slice);
    remaining -= slice;
    if (reason !== StopReason.BUDGET) break;
  }
  return { output: Buffer.from(out), exitCode: reason === StopReason.EXIT ? (m.exitCode ?? null) : null, reason, instret: m.hart.instret };
}

/** The UART input a guest declares in its source (`vmlab-input: "<JSON string>"`), if any. */
export function declaredInput(source: string): Uint8Array | undefined {
  const m = /vmlab-input:\s*("(?:[^"\\]|\\.)*")/.exec(source);
  return m ? new Uint8Array(Buffer.from(JSON.parse(m[1]) as string, 'latin1')) : undefined;
}
