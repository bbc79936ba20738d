// OS-pattern benchmark (`npx tsx bench/os.ts [workload...] [--runs N] [--xv6 DIR] [--guests DIR]`,
// part of `npm run bench`): the project's own kernels that stress what real operating systems do to
// an emulator (bench/os/*.S: exec'ing programs into reused frames, code and data in one page, a
// boot-time page fill, a timer-driven scheduler, a wide body of lukewarm code), plus xv6-rv32's boot
// and `stressfs` when --xv6 names a built xv6-rv32 tree (kernel/kernel and fs.img), and CoreMark
// (M-mode and Sv32), xv6's boot and `stressfs`, and Linux's boot to its shell and poweroff (with MMU
// under OpenSBI, and nommu in M-mode) when --guests (or VMLAB_GUESTS) names a guests folder holding
// coremark/, xv6/, linux/ or linux-nommu/ (docs/guests.md; never part of the repository). The
// bare-metal programs (the project's kernels and CoreMark) also run on qemu-system-riscv32 in the
// same run, and the table gives QEMU's CPU seconds and its ratio to the translator's. Each workload runs with
// the block translator and with --no-jit, alternately, N times; MIPS are per CPU second of the best
// run (the host is shared). Prints both, their ratio, flags any workload where the translator is the
// slower one (and exits 1), and the translator's counters (see docs/speed.md).
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildAsm, listGuests } from '../test/support/build';
import { qemuArgs } from '../test/support/qemu';
import { requireTool, tool } from '../test/support/tools';
import { NODE_V8_FLAGS } from '../src/host/v8-flags';
import { dropNodeStartExtras } from './node-env';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH_DIR, '..');
const HARNESS = join(ROOT, 'dist', 'bench-harness.mjs');

/** One workload: a kernel and how to run it. */
interface Workload {
  name: string;
  kernel: string;
  args: string[];
  /** A disk image copied afresh for every run. */
  disk?: string;
  /** Working directory of the run (the kernel and files are named relative to it). */
  cwd?: string;
  /** Also run on QEMU (`-bios none -kernel`): a bare-metal program that ends through the test finisher. */
  qemu?: boolean;
  /**
   * Compare only the last line of QEMU's output with vmlab's: QEMU's timer follows the host's clock,
   * so what a program computes between its interrupts differs from run to run there.
   */
  qemuLastLine?: boolean;
}

/** The last line of `text` (with its newline). */
function lastLine(text: string): string {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  return text.slice(body.lastIndexOf('\n') + 1);
}

/**
 * Whether a kernel's source asks for QEMU's output to be compared by its last line only: a kernel
 * whose output before that depends on the host's clock (bench/os/timer.S prints its two processes'
 * progress at each tick, then the tick count) says `# bench: compare last line` in its header.
 */
function comparesLastLine(src: string): boolean {
  return /^# bench: compare last line$/m.test(readFileSync(src, 'utf8'));
}

/** QEMU's CPU seconds (user + system, all threads, measured by /usr/bin/time) and output of one run. */
interface QemuRun {
  cpuSeconds: number;
  output: string;
}

function runQemuTimed(w: Workload): Promise<QemuRun> {
  const time = requireTool('time', 'time');
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-bench-qemu-'));
  const usage = join(dir, 'usage');
  const args = ['-f', '%U %S', '-o', usage, tool('qemu-system-riscv32'), ...qemuArgs(w.kernel)];
  return new Promise((resolve, reject) => {
    execFile(time, args, { maxBuffer: 1 << 24, timeout: 300_000, killSignal: 'SIGKILL' }, (error, stdout) => {
      try {
        if (error) throw new Error(error.message);
        const [user, system] = readFileSync(usage, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        resolve({ cpuSeconds: user + system, output: stdout });
      } catch (e) {
        reject(new Error(`${w.name} on QEMU failed: ${(e as Error).message}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** CoreMark builds in a guests folder (docs/guests.md: coremark/coremark.elf, coremark/coremark-sv32.elf). */
function coremarkWorkloads(guests: string): Workload[] {
  const out: Workload[] = [];
  for (const name of ['coremark', 'coremark-sv32']) {
    const kernel = join(guests, 'coremark', `${name}.elf`);
    if (existsSync(kernel)) out.push({ name, kernel, args: [], qemu: true });
  }
  return out;
}

/**
 * Linux from a guests folder (docs/guests.md: NAME/Image, a firmware, rootfs.cpio, cmdline), booted to
 * its shell and powered off: `linux` under OpenSBI, `linux-nommu` in M-mode without a firmware.
 */
function linuxWorkload(guests: string, name: string): Workload | undefined {
  const dir = join(guests, name);
  if (!existsSync(join(dir, 'Image'))) return undefined;
  const firmware = ['fw_jump.bin', 'fw_dynamic.bin', 'fw_jump.elf', 'fw_dynamic.elf'].find((f) => existsSync(join(dir, f)));
  const args = ['--mem', String(256 << 20), '--until', '# ', '--then', 'poweroff\n', '--until2', 'Power down', '--max-steps', String(4e9)];
  if (firmware !== undefined) args.push('--bios', firmware);
  if (existsSync(join(dir, 'rootfs.cpio'))) args.push('--initrd', 'rootfs.cpio');
  if (existsSync(join(dir, 'cmdline'))) args.push('--append', readFileSync(join(dir, 'cmdline'), 'utf8').trim());
  return { name: `${name}-boot`, kernel: 'Image', args, cwd: dir };
}

/** xv6-rv32's boot to its shell, and its boot and `stressfs`, with a fresh copy of its file system each run. */
function xv6Workloads(kernel: string, disk: string): Workload[] {
  const budget = ['--max-steps', String(4e9)];
  return [
    { name: 'xv6-boot', kernel, disk, args: ['--until', '$ ', ...budget] },
    { name: 'xv6-stressfs', kernel, disk, args: ['--until', '$ ', '--then', 'stressfs\n', '--until2', '$ ', ...budget] },
  ];
}

/** What bench/harness.ts prints. */
interface Result {
  reason: string;
  exitCode: number | null;
  instret: number;
  cpuSeconds: number;
  wallSeconds: number;
  mips: number;
  outputTail: string;
  jit: Record<string, number> | null;
  tlb: { hits: number; misses: number; flushes: number };
}

function runHarness(w: Workload, jit: boolean): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-bench-os-'));
  // node's flags as `vmlab` starts it with (src/host/v8-flags.ts).
  const args = [...NODE_V8_FLAGS, HARNESS, w.kernel, ...w.args, ...(jit ? [] : ['--no-jit'])];
  if (w.disk !== undefined) {
    const copy = join(dir, 'disk.img');
    copyFileSync(w.disk, copy);
    // xv6 finds its disk in virtio-mmio slot 0 (QEMU's bus=virtio-mmio-bus.0 in its Makefile).
    args.push('--disk', `${copy},slot=0`);
  }
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 24, cwd: w.cwd }, (error, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      try {
        const r = JSON.parse(stdout.trim().split('\n').pop()!) as Result;
        if (r.reason !== 'exit' && r.reason !== 'reached') throw new Error(`stopped: ${r.reason}`);
        if (r.reason === 'exit' && r.exitCode !== 0) throw new Error(`exit code ${r.exitCode}`);
        resolve(r);
      } catch (e) {
        reject(new Error(`${w.name}${jit ? '' : ' --no-jit'} failed: ${(e as Error).message}\n${stderr}${error ? `\n${error.message}` : ''}`));
      }
    });
  });
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|') + '|';
  return [line(head), rule, ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  dropNodeStartExtras();
  const argv = process.argv.slice(2);
  let runs = 3;
  let xv6: string | undefined = process.env.VMLAB_XV6;
  let guests: string | undefined = process.env.VMLAB_GUESTS;
  const wanted: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--xv6') xv6 = argv[++i];
    else if (argv[i] === '--guests') guests = argv[++i];
    else wanted.push(argv[i]);
  }
  await build({
    entryPoints: [join(BENCH_DIR, 'harness.ts')], outfile: HARNESS, bundle: true, platform: 'node', format: 'esm',
    target: 'node20', packages: 'external', logLevel: 'warning',
  });
  const workloads: Workload[] = [];
  for (const src of listGuests(join(BENCH_DIR, 'os'), '.S')) workloads.push({ name: basename(src, '.S'), kernel: await buildAsm(src), args: [], qemu: true, qemuLastLine: comparesLastLine(src) });
  if (xv6 !== undefined) {
    workloads.push(...xv6Workloads(join(xv6, 'kernel', 'kernel'), join(xv6, 'fs.img')));
  } else if (guests !== undefined && existsSync(join(guests, 'xv6', 'fs.img')) && statSync(join(guests, 'xv6', 'kernel')).isFile()) {
    // A guests folder's xv6/ holds the kernel and fs.img side by side (docs/guests.md).
    workloads.push(...xv6Workloads(join(guests, 'xv6', 'kernel'), join(guests, 'xv6', 'fs.img')));
  }
  if (guests !== undefined) {
    workloads.push(...coremarkWorkloads(guests));
    for (const name of ['linux', 'linux-nommu']) {
      const linux = linuxWorkload(guests, name);
      if (linux !== undefined) workloads.push(linux);
    }
  }
  const chosen = workloads.filter((w) => wanted.length === 0 || wanted.includes(w.name));
  const rows: string[][] = [];
  const counters: string[][] = [];
  let inverted = false;
  for (const w of chosen) {
    process.stderr.write(`running ${w.name}...\n`);
    let best: Result | undefined;
    let bestInterp: Result | undefined;
    for (let r = 0; r < runs; r++) {
      const t = await runHarness(w, true);
      const i = await runHarness(w, false);
      if (t.instret !== i.instret || t.outputTail !== i.outputTail) throw new Error(`${w.name}: the translator and the interpreter differ (${t.instret} vs ${i.instret} instructions)`);
      if (best === undefined || t.cpuSeconds < best.cpuSeconds) best = t;
      if (bestInterp === undefined || i.cpuSeconds < bestInterp.cpuSeconds) bestInterp = i;
    }
    let qemu = '';
    let qemuRatio = '';
    if (w.qemu === true) {
      let bestQemu: QemuRun | undefined;
      for (let r = 0; r < runs; r++) {
        const q = await runQemuTimed(w);
        const expected = w.qemuLastLine === true ? lastLine(best!.outputTail) : best!.outputTail.slice(-120);
        if (!q.output.endsWith(expected)) throw new Error(`${w.name}: QEMU printed other output than vmlab (ends ${JSON.stringify(q.output.slice(-80))})`);
        if (bestQemu === undefined || q.cpuSeconds < bestQemu.cpuSeconds) bestQemu = q;
      }
      qemu = `${bestQemu!.cpuSeconds.toFixed(2)} (${(best!.instret / Math.max(bestQemu!.cpuSeconds, 1e-3) / 1e6).toFixed(0)})`;
      qemuRatio = (best!.cpuSeconds / Math.max(bestQemu!.cpuSeconds, 1e-3)).toFixed(1) + 'x';
    }
    const ratio = bestInterp!.cpuSeconds / best!.cpuSeconds;
    if (ratio < 1) inverted = true;
    rows.push([w.name, best!.instret.toLocaleString('en-US'), best!.cpuSeconds.toFixed(2), best!.mips.toFixed(0), bestInterp!.cpuSeconds.toFixed(2),
      bestInterp!.mips.toFixed(0), ratio.toFixed(2) + 'x', ratio < 1 ? 'INVERSION' : 'ok', qemu, qemuRatio]);
    const j = best!.jit!;
    const perM = (v: number): string => (v / (best!.instret / 1e6)).toFixed(1);
    counters.push([w.name, String(j.translations), String(j.retranslations), String(j.memoHits), String(j.invalidations), String(j.backoffs),
      perM(j.codePageStores), ((j.blockInsns / best!.instret) * 100).toFixed(0) + '%', (j.blockInsns / Math.max(1, j.blockRuns)).toFixed(1),
      j.translateMs.toFixed(0), String(j.scans ?? 0), String(j.loopless ?? 0)]);
  }
  console.log(table(['workload', 'guest insns', 'translator cpu s', 'translator MIPS', 'interpreter cpu s', 'interpreter MIPS', 'speed-up', 'check',
    'qemu cpu s (MIPS)', 'translator / qemu'], rows));
  console.log('');
  console.log(table(['workload', 'translations', 'retranslations', 'memo hits', 'blocks dropped', 'backoffs', 'code-page stores / M insns',
    'insns in blocks', 'insns / block run', 'translate ms', 'scans', 'loopless'], counters));
  console.log(`\nbest of ${runs} runs each, CPU seconds of the run (user + system, all threads); translator and interpreter alternate.`);
  console.log("QEMU: qemu-system-riscv32 -machine virt -bios none -kernel, CPU seconds of the whole process (start-up included); its MIPS count vmlab's instructions.");
  if (inverted) console.log('INVERSION: the translator was slower than the interpreter on a workload above.');
  return inverted ? 1 : 0;
}

process.exitCode = await main();
