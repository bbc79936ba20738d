// Runs a guest on the reference: qemu-system-riscv32 -machine virt -bios none -kernel ELF, capturing
// the UART (serial on stdio) and the exit code the test finisher produces.
import { spawn } from 'node:child_process';
import { tool } from './tools';

/**
 * The CPU model vmlab's machine matches: QEMU 7.2's rv32 without the extensions vmlab does not have
 * (F/D, H, the bit-manipulation set, Sstc) and without debug triggers, which vmlab has but the corpus
 * leaves alone (test/cpu/triggers.test.ts compares them with debug on). The remaining ones (I, M, A,
 * C, Zicsr, Zifencei, S, U, PMP, MMU) are on by default.
 */
export const QEMU_CPU = 'rv32,f=false,d=false,h=false,zba=false,zbb=false,zbc=false,zbs=false,sstc=false,debug=false';

/** Result of one QEMU run. */
export interface QemuResult {
  /** Bytes the guest wrote to UART0. */
  output: Buffer;
  /** QEMU's exit status (the guest's code through the test finisher), or null when killed. */
  exitCode: number | null;
  /** True when the run was stopped by the timeout. */
  timedOut: boolean;
  /** QEMU's own diagnostics (stderr). */
  stderr: string;
}

/** Options for runQemu. */
export interface QemuOptions {
  /** Wall-clock limit in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** -cpu value (default QEMU_CPU). */
  cpu?: string;
  /** Bytes sent to the UART (stdin). */
  input?: Uint8Array;
  /** Extra arguments placed before -kernel. */
  extraArgs?: string[];
  /** RAM size in MiB (default 128, as vmlab's default). */
  memMiB?: number;
}

/** The argument list for running `elf` on QEMU's virt machine. */
export function qemuArgs(elf: string, options: QemuOptions = {}): string[] {
  return [
    '-machine', 'virt', '-bios', 'none', '-nographic', '-monitor', 'none', '-serial', 'stdio',
    '-m', `${options.memMiB ?? 128}M`, '-cpu', options.cpu ?? QEMU_CPU,
    ...(options.extraArgs ?? []), '-kernel', elf,
  ];
}

/** Runs `elf` on qemu-system-riscv32 until the guest exits or the timeout expires. */
export function runQemu(elf: string, options: QemuOptions = {}): Promise<QemuResult> {
  const qemu = tool('qemu-system-riscv32');
  return new Promise((resolve, reject) => {
    const child = spawn(qemu, qemuArgs(elf, options), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ output: Buffer.concat(out), exitCode: code, timedOut, stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => undefined);
    if (options.input) child.stdin.write(options.input);
  });
}
