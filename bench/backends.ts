// The translator's two backends side by side (`npx tsx bench/backends.ts [workload...] [--runs N]
// [--guests DIR]`): runs bench/harness.ts, bundled from this tree, on each workload with JavaScript
// regions (--js) and with WebAssembly regions (the default), alternating, and prints the best CPU seconds of
// each, their ratio and the translator's counters. Workloads: the compute programs (bench/programs),
// the OS-pattern kernels (bench/os), and with a guests folder (--guests or VMLAB_GUESTS;
// docs/guests.md) CoreMark (M-mode and Sv32), Linux's boots and xv6's boot. Not part of
// `npm run bench`: it answers whether the WebAssembly backend is faster everywhere (docs/speed.md,
// "WebAssembly regions").
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildAsm, buildC, listGuests } from '../test/support/build';
import { dropNodeStartExtras } from './node-env';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const HARNESS = join(BENCH_DIR, '..', 'dist', 'bench-backends-harness.mjs');

interface Workload {
  name: string;
  kernel: string;
  args: string[];
  cwd?: string;
  disk?: string;
}

const argv = process.argv.slice(2);
let runs = 3;
let guests = process.env.VMLAB_GUESTS;
const only: string[] = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--runs') runs = Number(argv[++i]);
  else if (argv[i] === '--guests') guests = argv[++i];
  else only.push(argv[i]);
}
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs takes a positive integer, got '${runs}'`);
dropNodeStartExtras();

await build({
  entryPoints: [join(BENCH_DIR, 'harness.ts')], outfile: HARNESS, bundle: true, platform: 'node', format: 'esm',
  target: 'node20', packages: 'external', logLevel: 'warning',
});
const workloads: Workload[] = [];
const CRT0 = join(BENCH_DIR, 'programs', 'lib', 'crt0-sv32.S');
for (const src of listGuests(join(BENCH_DIR, 'programs'), '.c')) workloads.push({ name: basename(src, '.c'), kernel: await buildC(src, { crt0: CRT0 }), args: [] });
for (const src of listGuests(join(BENCH_DIR, 'os'), '.S')) workloads.push({ name: basename(src, '.S'), kernel: await buildAsm(src), args: [] });
if (guests !== undefined) {
  for (const [name, file] of [['coremark', 'coremark.elf'], ['coremark-sv32', 'coremark-sv32.elf']]) {
    const kernel = join(guests, 'coremark', file);
    if (existsSync(kernel)) workloads.push({ name, kernel, args: [] });
  }
  for (const [name, sub] of [['linux-boot', 'linux'], ['linux-nommu-boot', 'linux-nommu']]) {
    const dir = join(guests, sub);
    if (!existsSync(join(dir, 'Image'))) continue;
    // As bench/os.ts boots them: to the shell, then poweroff.
    const args = ['--mem', String(256 << 20), '--until', '# ', '--then', 'poweroff\n', '--until2', 'Power down', '--max-steps', String(4e9)];
    if (existsSync(join(dir, 'fw_jump.bin'))) args.push('--bios', 'fw_jump.bin');
    if (existsSync(join(dir, 'rootfs.cpio'))) args.push('--initrd', 'rootfs.cpio');
    if (existsSync(join(dir, 'cmdline'))) args.push('--append', readFileSync(join(dir, 'cmdline'), 'utf8').trim());
    workloads.push({ name, kernel: 'Image', args, cwd: dir });
  }
  const xv6 = join(guests, 'xv6');
  if (existsSync(join(xv6, 'kernel'))) workloads.push({ name: 'xv6-boot', kernel: join(xv6, 'kernel'), args: ['--until', '$ ', '--max-steps', String(4e9)], disk: join(xv6, 'fs.img') });
}

/** What bench/harness.ts prints (the parts read here). */
interface Result {
  instret: number;
  cpuSeconds: number;
  jit: Record<string, number> | null;
}

function runOnce(w: Workload, wasm: boolean): Result {
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-bench-backends-'));
  try {
    const args = ['--no-concurrent-recompilation', '--no-concurrent-osr', HARNESS, w.kernel, ...w.args, ...(wasm ? [] : ['--js'])];
    if (w.disk !== undefined) {
      const copy = join(dir, 'disk.img');
      copyFileSync(w.disk, copy);
      args.push('--disk', `${copy},slot=0`);
    }
    return JSON.parse(execFileSync(process.execPath, args, { cwd: w.cwd, maxBuffer: 1 << 24 }).toString()) as Result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const counters = (r: Result): string =>
  r.jit === null ? '' : `region runs ${r.jit.blockRuns}, in regions ${r.jit.blockInsns}, translations ${r.jit.translations}`;
console.log('workload          js CPU s  wasm CPU s  js/wasm');
for (const w of workloads) {
  if (only.length > 0 && !only.includes(w.name)) continue;
  const best = { js: Infinity, wasm: Infinity };
  let last: { js?: Result; wasm?: Result } = {};
  for (let r = 0; r < runs; r++) {
    for (const wasm of [false, true]) {
      const result = runOnce(w, wasm);
      const key = wasm ? 'wasm' : 'js';
      best[key] = Math.min(best[key], result.cpuSeconds);
      last = { ...last, [key]: result };
    }
  }
  if (last.js!.instret !== last.wasm!.instret) throw new Error(`${w.name}: ${last.js!.instret} instructions with JavaScript regions, ${last.wasm!.instret} with WebAssembly`);
  const ratio = best.js / best.wasm;
  console.log(`${w.name.padEnd(17)} ${best.js.toFixed(2).padStart(8)}  ${best.wasm.toFixed(2).padStart(10)}  ${ratio.toFixed(2).padStart(7)}${ratio < 1 ? '  SLOWER' : ''}`);
  console.log(`  js: ${counters(last.js!)}; wasm: ${counters(last.wasm!)}`);
}
