// VMM benchmark (`npx tsx bench/modes.ts [program...]`, part of `npm run bench`): each compute-bound
// workload of bench/programs bare, in emulate mode and in trap mode, through `vmlab run --mode`;
// prints guest MIPS, exits per million instructions and modeled cycles, and checks that every mode
// printed the same checksum.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildC, listGuests } from '../test/support/build';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH_DIR, '..');
const CRT0 = join(BENCH_DIR, 'programs', 'lib', 'crt0-sv32.S');
const MODES = ['bare', 'emulate', 'trap'] as const;

/** The fields of `vmlab run --stats-file` this runner reads. */
interface Stats {
  instret: number;
  wallSeconds: number;
  mips: number;
  exitCode: number | null;
  exitsPerMillion?: number;
  modeledCycles?: number;
}

function run(elf: string, mode: string): Promise<{ stats: Stats; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-bench-modes-'));
  const file = join(dir, 'stats.json');
  const args = [join(ROOT, 'bin', 'vmlab.mjs'), 'run', '--mode', mode, '--stats-file', file, elf];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      try {
        const stats = JSON.parse(readFileSync(file, 'utf8')) as Stats;
        if (stats.exitCode !== 0) throw new Error(`exit code ${stats.exitCode}`);
        resolve({ stats, output: stdout });
      } catch (e) {
        reject(new Error(`vmlab run --mode ${mode} ${elf} failed: ${(e as Error).message}\n${stderr}${error ? `\n${error.message}` : ''}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const programs = listGuests(join(BENCH_DIR, 'programs'), '.c').filter((p) => wanted.length === 0 || wanted.includes(basename(p, '.c')));
  const head = ['program', 'mode', 'guest insns', 'wall s', 'MIPS', 'vs bare', 'exits / M insns', 'modeled cycles', 'cycles / insn'];
  const rows: string[][] = [];
  let same = true;
  for (const program of programs) {
    const elf = await buildC(program, { crt0: CRT0 });
    process.stderr.write(`running ${basename(program)} in every mode...\n`);
    let bareSeconds = 0;
    let bareOutput = '';
    for (const mode of MODES) {
      const { stats, output } = await run(elf, mode);
      if (mode === 'bare') {
        bareSeconds = stats.wallSeconds;
        bareOutput = output;
      } else if (output !== bareOutput) {
        same = false;
      }
      // Bare runs have no VMM: one modeled cycle per instruction, no exits.
      const cycles = stats.modeledCycles ?? stats.instret;
      rows.push([
        basename(program, '.c'), mode, stats.instret.toLocaleString('en-US'), stats.wallSeconds.toFixed(2), stats.mips.toFixed(0),
        (stats.wallSeconds / bareSeconds).toFixed(2) + 'x', (stats.exitsPerMillion ?? 0).toFixed(2), cycles.toLocaleString('en-US'),
        (cycles / stats.instret).toFixed(2),
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
