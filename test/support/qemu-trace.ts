// QEMU 7.2's per-instruction CPU state log (`-singlestep -d cpu,nochain`): each translation block,
// one instruction with -singlestep, is preceded by a dump of pc, the main CSRs and x0..x31. The log
// is streamed from QEMU's stderr and parsed into states; QEMU is stopped once enough were read.
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuArgs, type QemuOptions } from './qemu';
import { tool } from './tools';

/** The CSRs QEMU 7.2 prints for rv32 in its -d cpu dump, in its spelling. */
export const LOGGED_CSRS = ['mstatus', 'mip', 'mie', 'mideleg', 'medeleg', 'mtvec', 'stvec', 'mepc', 'sepc', 'mcause', 'scause', 'mtval', 'stval', 'mscratch', 'sscratch', 'satp'] as const;

/** The H extension's CSRs QEMU 7.2 adds to the dump when the CPU has H (`h=true`). */
export const H_LOGGED_CSRS = ['mstatush', 'hstatus', 'vsstatus', 'hideleg', 'hedeleg', 'vstvec', 'vsepc', 'vscause', 'htval', 'mtval2'] as const;

/** Name of a logged CSR. */
export type LoggedCsr = (typeof LOGGED_CSRS)[number] | (typeof H_LOGGED_CSRS)[number];

/** The architectural state before one instruction. */
export interface CpuState {
  pc: number;
  /** x0..x31 as unsigned 32-bit values. */
  x: Uint32Array;
  csr: Partial<Record<LoggedCsr, number>>;
}

/** Result of tracing one program. */
export interface QemuTrace {
  states: CpuState[];
  /** True when QEMU was stopped after `limit` states (the guest had not finished). */
  truncated: boolean;
}

const CSR_SET = new Set<string>([...LOGGED_CSRS, ...H_LOGGED_CSRS]);

/** Incremental parser for the text of a -d cpu log. */
export class CpuLogParser {
  readonly states: CpuState[] = [];
  private current: CpuState | undefined;
  private rest = '';

  /** Feeds a chunk of log text. */
  push(text: string): void {
    const lines = (this.rest + text).split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** Flushes the last state. */
  end(): void {
    if (this.rest) this.line(this.rest);
    this.rest = '';
    this.finish();
  }

  private finish(): void {
    if (this.current) this.states.push(this.current);
    this.current = undefined;
  }

  private line(line: string): void {
    const t = line.trim();
    if (t.startsWith('pc ')) {
      this.finish();
      this.current = { pc: parseInt(t.slice(3).trim(), 16) >>> 0, x: new Uint32Array(32), csr: {} };
      return;
    }
    const cur = this.current;
    if (!cur) return;
    if (t.startsWith('x')) {
      const re = /x(\d+)\/\S+\s+([0-9a-f]+)/g;
      for (let m = re.exec(t); m; m = re.exec(t)) cur.x[Number(m[1])] = parseInt(m[2], 16) >>> 0;
      return;
    }
    const m = /^(\w+)\s+([0-9a-f]+)$/.exec(t);
    if (m && CSR_SET.has(m[1])) cur.csr[m[1] as LoggedCsr] = parseInt(m[2], 16) >>> 0;
  }
}

/**
 * Runs `elf` on QEMU with single-step CPU logging and returns up to `limit` states. The log goes
 * through a FIFO (QEMU cannot open /dev/stderr when it is a socket, as Node's pipes are).
 */
export function traceQemu(elf: string, limit: number, options: QemuOptions = {}): Promise<QemuTrace> {
  const qemu = tool('qemu-system-riscv32');
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-qemu-log-'));
  const fifo = join(dir, 'cpu.log');
  execFileSync('mkfifo', [fifo]);
  const args = qemuArgs(elf, { ...options, extraArgs: ['-singlestep', '-d', 'cpu,nochain', '-D', fifo, ...(options.extraArgs ?? [])] });
  return new Promise((resolve, reject) => {
    const child = spawn(qemu, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    const log = createReadStream(fifo, { encoding: 'latin1', highWaterMark: 1 << 20 });
    const parser = new CpuLogParser();
    let truncated = false;
    let stderr = '';
    let exited = false;
    let logClosed = false;
    const done = (): void => {
      if (!exited || !logClosed) return;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      parser.end();
      if (parser.states.length === 0) reject(new Error(`QEMU produced no CPU log: ${stderr}`));
      else resolve({ states: parser.states.slice(0, limit), truncated });
    };
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    log.on('data', (chunk) => {
      if (truncated) return;
      parser.push(chunk as string);
      if (parser.states.length > limit) {
        truncated = true;
        child.kill('SIGKILL');
      }
    });
    log.on('error', reject);
    log.on('close', () => {
      logClosed = true;
      done();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', () => {
      exited = true;
      if (!log.readableEnded) log.destroy();
      done();
    });
  });
}
