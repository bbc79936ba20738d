// VMM benchmark, the technique table (`npx tsx bench/modes.ts [program...] [--modes m,m] [--runs N]
// [--elf FILE]...`, part of `npm run bench`): the workloads of bench/workloads (a system-call loop,
// an address-space loop like forkwait, a device-I/O loop and a kernel compute loop: small guest
// kernels of this project), the compute-bound C programs of bench/programs and any ELF kernel given
// with --elf (CoreMark, say), each bare and in every VMM mode (or those --modes names) through
// `vmlab run --mode`; prints wall time, CPU time (user + system of the whole `vmlab run` process,
// start-up included, by /usr/bin/time: the host may be shared) and its ratio to bare, guest MIPS per
// wall and per CPU second, exits and callouts per million instructions, exits per CPU second, walk
// references per TLB miss and modeled cycles, and checks that every mode printed what bare printed.
// With --runs N each program runs N times in every mode, the modes alternating, and the row is the
// run of least CPU time. The pv row of a workload runs its para-virtual twin (W-pv.S beside W.S),
// which must print the same; workloads without a twin, the C programs and --elf kernels have no pv row.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildC, listGuests } from '../test/support/build';
import { requireTool } from '../test/support/tools';
import { NODE_V8_FLAGS } from '../src/host/v8-flags';
import { dropNodeStartExtras } from './node-env';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH_DIR, '..');
const CRT0 = join(BENCH_DIR, 'programs', 'lib', 'crt0-sv32.S');
const WORKLOADS = join(BENCH_DIR, 'workloads');
const MODES = ['bare', 'emulate', 'trap', 'bt', 'pv', 'hw'] as const;

/** The fields of `vmlab run --stats-file` this runner reads. */
interface Stats {
  instret: number;
  wallSeconds: number;
  mips: number;
  exitCode: number | null;
  exitsPerMillion?: number;
  modeledCycles?: number;
  vmm?: { translation: { callouts: number }; tlb: { misses: number; walkReferences: number } };
}

function run(elf: string, mode: string): Promise<{ stats: Stats; output: string; cpuSeconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-bench-modes-'));
  const file = join(dir, 'stats.json');
  const usage = join(dir, 'usage');
  const args = ['-f', '%U %S', '-o', usage, process.execPath, ...NODE_V8_FLAGS, join(ROOT, 'bin', 'vmlab.mjs'), 'run', '--mode', mode, '--stats-file', file, elf];
  return new Promise((resolve, reject) => {
    execFile(requireTool('time', 'time'), args, { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      try {
        const stats = JSON.parse(readFileSync(file, 'utf8')) as Stats;
        if (stats.exitCode !== 0) throw new Error(`exit code ${stats.exitCode}`);
        const [user, system] = readFileSync(usage, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
        resolve({ stats, output: stdout, cpuSeconds: user + system });
      } catch (e) {
        reject(new Error(`vmlab run --mode ${mode} ${elf} failed: ${(e as Error).message}\n${stderr}${error ? `\n${error.message}` : ''}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

interface Options {
  wanted: string[];
  modes: readonly string[];
  runs: number;
  elves: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { wanted: [], modes: MODES, runs: 1, elves: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--modes') {
      const modes = (argv[++i] ?? '').split(',');
      const bad = modes.find((m) => !(MODES as readonly string[]).includes(m));
      if (bad !== undefined) throw new Error(`--modes: unknown mode '${bad}' (modes: ${MODES.join(', ')})`);
      // Bare first: the other rows are compared with it.
      o.modes = MODES.filter((m) => m === 'bare' || modes.includes(m));
    } else if (a === '--runs') {
      o.runs = Number(argv[++i]);
      if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error(`--runs: expected a positive whole number, got '${argv[i]}'`);
    } else if (a === '--elf') {
      const file = argv[++i];
      if (file === undefined || !existsSync(file)) throw new Error(`--elf: no such file '${file ?? ''}'`);
      o.elves.push(file);
    } else {
      o.wanted.push(a);
    }
  }
  return o;
}

async function main(): Promise<number> {
  dropNodeStartExtras();
  const opts = parseArgs(process.argv.slice(2));
  const wanted = opts.wanted;
  const name = (p: string): string => basename(p).replace(/\.(c|S|elf)$/, '');
  // The para-virtual twins run only as the pv row of their workload.
  const builtIn = [...listGuests(WORKLOADS, '.S').filter((p) => !p.endsWith('-pv.S')), ...listGuests(join(BENCH_DIR, 'programs'), '.c')]
    .filter((p) => (wanted.length === 0 && opts.elves.length === 0) || wanted.includes(name(p)));
  const programs = [...builtIn, ...opts.elves];
  const head = ['program', 'mode', 'guest insns', 'wall s', 'MIPS', 'vs bare', 'cpu s', 'cpu vs bare', 'MIPS / cpu s', 'exits / M insns', 'exits / cpu s', 'callouts / M insns', 'walk refs / miss', 'modeled cycles', 'cycles / insn', 'vs bare'];
  const rows: string[][] = [];
  let same = true;
  for (const program of programs) {
    // The workloads are assembled by vmlab itself; the C programs are built with the cross compiler.
    const elf = program.endsWith('.c') ? await buildC(program, { crt0: CRT0 }) : program;
    const twin = program.replace(/\.S$/, '-pv.S');
    const modes = opts.modes.filter((mode) => mode !== 'pv' || (program.endsWith('.S') && existsSync(twin)));
    process.stderr.write(`running ${basename(program)} in ${modes.join(', ')}${opts.runs > 1 ? `, ${opts.runs} times each` : ''}...\n`);
    // The modes alternate run by run, so that each sees the host's load alike; a mode keeps its run of least CPU time.
    const best = new Map<string, Awaited<ReturnType<typeof run>>>();
    for (let r = 0; r < opts.runs; r++) {
      for (const mode of modes) {
        const result = await run(mode === 'pv' ? twin : elf, mode);
        const kept = best.get(mode);
        if (kept === undefined || result.cpuSeconds < kept.cpuSeconds) best.set(mode, result);
      }
    }
    let bareSeconds = 0;
    let bareCpu = 0;
    let bareCycles = 0;
    let bareOutput = '';
    for (const mode of modes) {
      const { stats, output, cpuSeconds } = best.get(mode)!;
      if (mode === 'bare') {
        bareSeconds = stats.wallSeconds;
        bareCpu = cpuSeconds;
        bareOutput = output;
      } else if (output !== bareOutput) {
        same = false;
      }
      // Bare runs have no VMM: one modeled cycle per instruction, no exits.
      const cycles = stats.modeledCycles ?? stats.instret;
      if (mode === 'bare') bareCycles = cycles;
      const callouts = stats.vmm?.translation.callouts ?? 0;
      // Memory references per TLB miss of the guest's translation (emulate's software two-stage walk,
      // trap's and bt's guest walks, hw's hardware two-stage walks); none bare.
      const tlb = stats.vmm?.tlb;
      const refsPerMiss = tlb !== undefined && tlb.misses > 0 ? (tlb.walkReferences / tlb.misses).toFixed(2) : '-';
      rows.push([
        name(program), mode, stats.instret.toLocaleString('en-US'), stats.wallSeconds.toFixed(2), stats.mips.toFixed(mode === 'bare' || stats.mips >= 10 ? 0 : 1),
        (stats.wallSeconds / bareSeconds).toFixed(2) + 'x', cpuSeconds.toFixed(2), (cpuSeconds / bareCpu).toFixed(2) + 'x', (stats.instret / cpuSeconds / 1e6).toFixed(1), (stats.exitsPerMillion ?? 0).toFixed(0),
        Math.round((stats.exitsPerMillion ?? 0) * stats.instret / 1e6 / cpuSeconds).toLocaleString('en-US'), (callouts / stats.instret * 1e6).toFixed(0),
        refsPerMiss, cycles.toLocaleString('en-US'), (cycles / stats.instret).toFixed(2), (cycles / bareCycles).toFixed(1) + 'x',
      ]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  console.log([line(head), '|' + widths.map((w, i) => (i < 2 ? ':' : '-') + '-'.repeat(w) + (i < 2 ? '-' : ':')).join('|') + '|', ...rows.map(line)].join('\n'));
  console.log(`\nevery mode printed the bare checksum: ${same ? 'yes' : 'NO'}; modeled cycles use the defaults in docs/vmm.md.`);
  return same ? 0 : 1;
}

process.exitCode = await main();
