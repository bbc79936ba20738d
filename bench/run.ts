// Benchmark runner (`npx tsx bench/run.ts [program...]`): builds bench/programs/*.c with the Sv32
// start-up code, runs each on vmlab's CLI and on qemu-system-riscv32, checks both print the same
// checksum, and prints retired guest instructions, wall time and MIPS for both and their ratio.
// QEMU's instruction count is vmlab's (same program, same checksum); its wall time is net of QEMU's
// start-up, measured on a program that exits at once. Under the table: the assembler's speed on a
// generated 20,000-line file (bench/asm-bench.ts).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ASM_DIR, buildAsm, buildC, listGuests } from '../test/support/build';
import { assemblerFigure } from './asm-bench';
import { runQemu } from '../test/support/qemu';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH_DIR, '..');
const CRT0 = join(BENCH_DIR, 'programs', 'lib', 'crt0-sv32.S');
const MAX_INSNS = 5_000_000_000;
const QEMU_RUNS = 3;

/** One program's measurements. */
interface Row {
  program: string;
  instret: number;
  vmlabSeconds: number;
  vmlabMips: number;
  interpMips: number;
  qemuSeconds: number;
  qemuMips: number;
  output: string;
  same: boolean;
}

/** The subset of `vmlab run --stats json` this runner reads. */
interface CliStats {
  instret: number;
  wallSeconds: number;
  mips: number;
  exitCode: number | null;
}

function runVmlabCli(elf: string, extra: string[] = []): Promise<{ stats: CliStats; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-bench-'));
  const statsFile = join(dir, 'stats.json');
  const args = [join(ROOT, 'bin', 'vmlab.mjs'), 'run', ...extra, '--stats-file', statsFile, '--max-insns', String(MAX_INSNS), elf];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      try {
        const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as CliStats;
        if (stats.exitCode !== 0) throw new Error(`exit code ${stats.exitCode}`);
        resolve({ stats, output: stdout });
      } catch (e) {
        reject(new Error(`vmlab run ${elf} failed: ${(e as Error).message}\n${stderr}${error ? `\n${error.message}` : ''}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

async function qemuSeconds(elf: string): Promise<{ seconds: number; output: string }> {
  let best = Infinity;
  let output = '';
  for (let i = 0; i < QEMU_RUNS; i++) {
    const t0 = performance.now();
    const r = await runQemu(elf, { timeoutMs: 300_000 });
    const s = (performance.now() - t0) / 1000;
    if (r.exitCode !== 0) throw new Error(`qemu run ${elf} failed (exit ${r.exitCode}): ${r.stderr}`);
    output = r.output.toString();
    best = Math.min(best, s);
  }
  return { seconds: best, output };
}

function table(rows: Row[], startup: number): string {
  const head = ['program', 'guest insns', 'vmlab s', 'vmlab MIPS', 'interpreter MIPS', 'qemu s', 'qemu MIPS', 'qemu/vmlab', 'checksum'];
  const body = rows.map((r) => [
    r.program, r.instret.toLocaleString('en-US'), r.vmlabSeconds.toFixed(2), r.vmlabMips.toFixed(0), r.interpMips.toFixed(0),
    r.qemuSeconds.toFixed(3), r.qemuMips.toFixed(0), (r.qemuMips / r.vmlabMips).toFixed(1) + 'x', r.same ? 'same' : 'DIFFERENT',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|') + '|';
  return [line(head), rule, ...body.map(line), '', `qemu s is wall time minus QEMU's start-up (${startup.toFixed(3)} s), best of ${QEMU_RUNS}; vmlab runs with Sv32 on, in S-mode; interpreter MIPS is the same run with --no-jit.`].join('\n');
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const programs = listGuests(join(BENCH_DIR, 'programs'), '.c').filter((p) => wanted.length === 0 || wanted.includes(basename(p, '.c')));
  const startupElf = await buildAsm(listGuests(ASM_DIR, '.S').find((p) => basename(p) === 'hello.S')!);
  const startup = (await qemuSeconds(startupElf)).seconds;
  const rows: Row[] = [];
  for (const program of programs) {
    const elf = await buildC(program, { crt0: CRT0 });
    process.stderr.write(`running ${basename(program)}...\n`);
    const v = await runVmlabCli(elf);
    const interp = await runVmlabCli(elf, ['--no-jit']);
    if (interp.output !== v.output) throw new Error(`${basename(program)}: output differs with --no-jit`);
    const q = await qemuSeconds(elf);
    const qs = Math.max(q.seconds - startup, 1e-3);
    rows.push({
      program: basename(program, '.c'), instret: v.stats.instret, vmlabSeconds: v.stats.wallSeconds, vmlabMips: v.stats.mips, interpMips: interp.stats.mips,
      qemuSeconds: qs, qemuMips: v.stats.instret / qs / 1e6, output: v.output.trim(), same: v.output === q.output,
    });
  }
  console.log(table(rows, startup));
  console.log('');
  console.log(assemblerFigure());
  return rows.every((r) => r.same) ? 0 : 1;
}

process.exitCode = await main();
