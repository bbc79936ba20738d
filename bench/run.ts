// Benchmark runner (`npx tsx bench/run.ts [program...]`): builds bench/programs/*.c with the Sv32
// start-up code, runs each on vmlab's CLI and on qemu-system-riscv32, checks both print the same
// checksum, and prints retired guest instructions, CPU seconds and MIPS for both and their ratio,
// vmlab with its translator and with --no-jit, and INVERSION (exit code 1) where the translator was
// the slower.
// Both are timed in CPU seconds of the whole process (user + system, all threads, by /usr/bin/time,
// start-up included): the host is shared and wall time says little. QEMU's instruction count is
// vmlab's (same program, same checksum). Under the table: the assembler's speed on a generated
// 20,000-line file (bench/asm-bench.ts).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildC, listGuests } from '../test/support/build';
import { assemblerFigure } from './asm-bench';
import { qemuArgs } from '../test/support/qemu';
import { requireTool, tool } from '../test/support/tools';
import { NODE_V8_FLAGS } from '../src/host/v8-flags';
import { dropNodeStartExtras } from './node-env';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH_DIR, '..');
const CRT0 = join(BENCH_DIR, 'programs', 'lib', 'crt0-sv32.S');
const MAX_INSNS = 5_000_000_000;
const QEMU_RUNS = 3;

/** One program's measurements (seconds are CPU seconds of the process). */
interface Row {
  program: string;
  instret: number;
  vmlabSeconds: number;
  interpSeconds: number;
  qemuSeconds: number;
  same: boolean;
}

/** Runs `cmd args` under /usr/bin/time; resolves to its stdout and CPU seconds (user + system). */
function timed(cmd: string, args: string[], what: string): Promise<{ stdout: string; cpuSeconds: number }> {
  const time = requireTool('time', 'time');
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-bench-time-'));
  const usage = join(dir, 'usage');
  return new Promise((resolve, reject) => {
    execFile(time, ['-f', '%U %S', '-o', usage, cmd, ...args], { maxBuffer: 1 << 20, timeout: 600_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      try {
        if (error) throw new Error(`${error.message}\n${stderr}`);
        const [user, system] = readFileSync(usage, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        resolve({ stdout, cpuSeconds: user + system });
      } catch (e) {
        reject(new Error(`${what} failed: ${(e as Error).message}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** The subset of `vmlab run --stats json` this runner reads. */
interface CliStats {
  instret: number;
  wallSeconds: number;
  mips: number;
  exitCode: number | null;
}

async function runVmlabCli(elf: string, extra: string[] = []): Promise<{ stats: CliStats; output: string; cpuSeconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-bench-'));
  const statsFile = join(dir, 'stats.json');
  // node's flags as `vmlab` (bin/vmlab.mjs's shebang) starts it with (src/host/v8-flags.ts).
  const args = [...NODE_V8_FLAGS, join(ROOT, 'bin', 'vmlab.mjs'), 'run', ...extra, '--stats-file', statsFile, '--max-insns', String(MAX_INSNS), elf];
  try {
    const r = await timed(process.execPath, args, `vmlab run ${elf}`);
    const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as CliStats;
    if (stats.exitCode !== 0) throw new Error(`vmlab run ${elf}: exit code ${stats.exitCode}`);
    return { stats, output: r.stdout, cpuSeconds: r.cpuSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function qemuRun(elf: string): Promise<{ seconds: number; output: string }> {
  let best = Infinity;
  let output = '';
  for (let i = 0; i < QEMU_RUNS; i++) {
    const r = await timed(tool('qemu-system-riscv32'), qemuArgs(elf), `qemu run ${elf}`);
    output = r.stdout;
    best = Math.min(best, r.cpuSeconds);
  }
  return { seconds: best, output };
}

function table(rows: Row[]): string {
  const head = ['program', 'guest insns', 'vmlab cpu s', 'vmlab MIPS', 'interpreter cpu s', 'interpreter MIPS', 'speed-up', 'check', 'qemu cpu s', 'qemu MIPS', 'vmlab / qemu', 'checksum'];
  const mips = (insns: number, s: number): string => (insns / Math.max(s, 1e-3) / 1e6).toFixed(0);
  const body = rows.map((r) => [
    r.program, r.instret.toLocaleString('en-US'), r.vmlabSeconds.toFixed(2), mips(r.instret, r.vmlabSeconds), r.interpSeconds.toFixed(2),
    mips(r.instret, r.interpSeconds), (r.interpSeconds / Math.max(r.vmlabSeconds, 1e-3)).toFixed(2) + 'x', inverted(r) ? 'INVERSION' : 'ok', r.qemuSeconds.toFixed(2), mips(r.instret, r.qemuSeconds), (r.vmlabSeconds / Math.max(r.qemuSeconds, 1e-3)).toFixed(1) + 'x',
    r.same ? 'same' : 'DIFFERENT',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|') + '|';
  const notes = [`CPU seconds of the whole process (start-up included), QEMU the best of ${QEMU_RUNS}; vmlab runs with Sv32 on, in S-mode, with the translator and with --no-jit.`];
  if (rows.some(inverted)) notes.push('INVERSION: the translator was slower than the interpreter on a program above.');
  return [line(head), rule, ...body.map(line), '', ...notes].join('\n');
}

/** Whether vmlab with its translator took longer than with --no-jit. */
function inverted(r: Row): boolean {
  return r.vmlabSeconds > r.interpSeconds;
}

async function main(): Promise<number> {
  dropNodeStartExtras();
  const wanted = process.argv.slice(2);
  const programs = listGuests(join(BENCH_DIR, 'programs'), '.c').filter((p) => wanted.length === 0 || wanted.includes(basename(p, '.c')));
  const rows: Row[] = [];
  for (const program of programs) {
    const elf = await buildC(program, { crt0: CRT0 });
    process.stderr.write(`running ${basename(program)}...\n`);
    const v = await runVmlabCli(elf);
    const interp = await runVmlabCli(elf, ['--no-jit']);
    if (interp.output !== v.output) throw new Error(`${basename(program)}: output differs with --no-jit`);
    const q = await qemuRun(elf);
    rows.push({
      program: basename(program, '.c'), instret: v.stats.instret, vmlabSeconds: v.cpuSeconds, interpSeconds: interp.cpuSeconds,
      qemuSeconds: q.seconds, same: v.output === q.output,
    });
  }
  console.log(table(rows));
  console.log('');
  console.log(assemblerFigure());
  return rows.every((r) => r.same && !inverted(r)) ? 0 : 1;
}

process.exitCode = await main();
