// `vmlab run`: boot a kernel headless with the UART on stdin/stdout; exit with the guest's code.

import { readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import type { Command } from 'commander';
import { Machine, StopReason } from '../../engine/machine/machine';
import { parseCount, parseCpu, parseSeconds, parseSize } from '../options';
import type { CpuFeatures } from '../../engine/cpu/hart';

/** Exit code when the budget or the timeout ends a run (as coreutils' timeout). */
export const EXIT_TIMEOUT = 124;
/** Exit code when the guest sleeps in WFI with nothing left that could wake it. */
export const EXIT_IDLE = 125;

interface RunOptions {
  mem?: number;
  cpu?: Partial<CpuFeatures>;
  maxInsns?: number;
  timeout?: number;
  trace?: string;
  stats?: string;
  statsFile?: string;
  realtime?: boolean;
  jit?: boolean;
}

/** Statistics printed by --stats json. */
export interface RunStats {
  stopReason: string;
  exitCode: number | null;
  instret: number;
  steps: number;
  wallSeconds: number;
  mips: number;
  traps: Record<string, number>;
  tlb: { misses: number; flushes: number };
  deviceAccesses: number;
}

/** Registers `vmlab run`. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('boot a kernel (ELF or raw image) on the virt machine; the UART is stdin/stdout')
    .argument('<kernel>', 'ELF32 RISC-V executable or raw image')
    .option('--mem <size>', 'RAM size, e.g. 128M', parseSize)
    .option('--cpu <model>', 'CPU model and features, e.g. rv32,pmp=false,xsensitive=on', parseCpu)
    .option('--max-insns <n>', 'stop after N steps (instructions and traps); exit code 124', parseCount)
    .option('--timeout <seconds>', 'stop after this much wall time; exit code 124', parseSeconds)
    .option('--trace <file>', 'write a commit log (one line per instruction) to FILE')
    .option('--stats <format>', 'print statistics to stderr at the end (format: json)')
    .option('--stats-file <file>', 'write the JSON statistics to FILE')
    .option('--realtime', 'derive mtime from the host clock instead of executed instructions')
    .option('--no-jit', 'interpret every instruction (no block translation)')
    .action(async (kernel: string, opts: RunOptions) => {
      if (opts.stats !== undefined && opts.stats !== 'json') throw new Error(`--stats takes 'json', got '${opts.stats}'`);
      process.exitCode = await runKernel(kernel, opts);
    });
}

function readKernel(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `cannot read '${path}': no such file` : code === 'EISDIR' ? `'${path}' is a directory, not a kernel` : `cannot read '${path}': ${(err as Error).message}`);
  }
}

async function runKernel(path: string, opts: RunOptions): Promise<number> {
  const bytes = readKernel(path);
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length > 0) {
      process.stdout.write(Buffer.from(pending));
      pending = [];
    }
  };
  const machine = new Machine({
    ramSize: opts.mem,
    cpu: { ...opts.cpu, jit: opts.jit !== false },
    onUart: (b) => {
      pending.push(b);
      if (pending.length >= 4096) flush();
    },
    timeMode: opts.realtime ? 'realtime' : 'deterministic',
    clock: () => performance.now(),
  });
  try {
    machine.loadKernel(bytes);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }

  let inputClosed = false;
  const stdin = process.stdin;
  const onData = (chunk: Buffer): void => machine.sendInput(new Uint8Array(chunk));
  const onEnd = (): void => { inputClosed = true; };
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.on('error', onEnd);
  if (stdin.isTTY) stdin.setRawMode(true);

  const trace = opts.trace ? openSync(opts.trace, 'w') : undefined;
  const started = performance.now();
  const deadline = opts.timeout ? started + opts.timeout * 1000 : Infinity;
  let remaining = opts.maxInsns ?? Infinity;
  let reason: StopReason = StopReason.BUDGET;
  try {
    while (true) {
      const chunk = Math.min(remaining, trace === undefined ? 4_000_000 : 1);
      if (chunk <= 0) { reason = StopReason.BUDGET; break; }
      const before = machine.clockSteps;
      reason = trace !== undefined ? traceStep(machine, trace) : machine.run(chunk);
      remaining -= machine.clockSteps - before;
      flush();
      if (reason === StopReason.EXIT) break;
      if (performance.now() >= deadline) { reason = StopReason.BUDGET; break; }
      if (reason === StopReason.IDLE) {
        if (inputClosed || stdin.destroyed) break;
        await new Promise((r) => setTimeout(r, 5));
      } else {
        await yieldToEvents();
      }
    }
  } finally {
    flush();
    if (trace !== undefined) closeSync(trace);
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    stdin.unref?.();
  }
  const wall = (performance.now() - started) / 1000;
  const stats = collectStats(machine, reason, wall);
  if (opts.stats === 'json') process.stderr.write(JSON.stringify(stats) + '\n');
  if (opts.statsFile) writeSync(openSync(opts.statsFile, 'w'), JSON.stringify(stats, null, 2) + '\n');
  if (reason === StopReason.EXIT) return machine.exitCode ?? 0;
  if (reason === StopReason.IDLE) {
    process.stderr.write('vmlab: the guest waits for an interrupt (WFI) and nothing is left to wake it\n');
    return EXIT_IDLE;
  }
  process.stderr.write(`vmlab: stopped after ${machine.hart.instret} instructions (${opts.timeout && performance.now() >= deadline ? 'timeout' : 'instruction budget'})\n`);
  return EXIT_TIMEOUT;
}

const STOP_NAMES: Record<number, string> = { 1: 'exit', 2: 'budget', 3: 'idle', 4: 'stopped', 5: 'reset' };

function collectStats(machine: Machine, reason: StopReason, wallSeconds: number): RunStats {
  const h = machine.hart;
  const traps: Record<string, number> = {};
  h.trapCounts.forEach((count, i) => {
    if (count > 0) traps[i >= 32 ? `interrupt${i - 32}` : `exception${i}`] = count;
  });
  return {
    stopReason: STOP_NAMES[reason] ?? String(reason),
    exitCode: machine.exitCode ?? null,
    instret: h.instret,
    steps: machine.clockSteps,
    wallSeconds,
    mips: wallSeconds > 0 ? h.instret / wallSeconds / 1e6 : 0,
    traps,
    tlb: { misses: h.tlb.misses, flushes: h.tlb.flushes },
    deviceAccesses: machine.bus.deviceAccesses,
  };
}

const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/** Executes one step and writes a Spike-style commit-log line for it. */
function traceStep(machine: Machine, fd: number): StopReason {
  const h = machine.hart;
  const pc = h.pc;
  const before = Int32Array.from(h.x);
  const priv = h.priv;
  const bits = h.fetchSlow(pc);
  const fetchFault = h.fault;
  const reason = machine.run(1);
  let line = `core   0: ${priv} ${hex(pc)} (${fetchFault ? 'fault' : (bits & 3) === 3 ? hex(bits) : '0x' + (bits & 0xffff).toString(16).padStart(4, '0')})`;
  for (let r = 1; r < 32; r++) if (h.x[r] !== before[r]) line += ` x${r} ${hex(h.x[r])}`;
  if (h.pc !== ((pc + ((bits & 3) === 3 ? 4 : 2)) | 0)) line += ` -> ${hex(h.pc)}`;
  writeSync(fd, line + '\n');
  return reason;
}
