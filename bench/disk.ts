// Disk benchmark (`npx tsx bench/disk.ts [ops]`): a guest (bench/disk/io.c) does 4 KiB requests on
// a virtio-blk disk — sequential and random, writes then reads — on a raw and a qcow2 image through
// `vmlab run --disk ... --realtime`, and times itself with mtime (which follows the host clock in
// realtime mode). The same pattern with node:fs on a raw file (pread/pwrite, fsync after writes)
// gives the host file system's own figure; the table shows both in MB/s and their ratio.
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildC } from '../test/support/build';
import { NODE_V8_FLAGS } from '../src/host/v8-flags';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const VMLAB = join(BENCH_DIR, '..', 'bin', 'vmlab.mjs');
const DISK_BYTES = 64 * 1024 * 1024;
const BLOCK = 4096;
const SEED = 12345;
const PATTERNS = ['seq-write', 'seq-read', 'rand-write', 'rand-read'] as const;
const FORMATS = ['raw', 'qcow2'] as const;
/** mtime ticks per second (10 MHz). */
const TIMEBASE = 10_000_000;

type Pattern = (typeof PATTERNS)[number];

/** The 4 KiB block numbers a pattern visits, after the first block (the guest's own sequence). */
function* blocks(pattern: Pattern, ops: number, count: number): Generator<number> {
  let x = SEED >>> 0;
  for (let i = 0; i < ops; i++) {
    if (pattern.startsWith('rand')) {
      x = (x ^ (x << 13)) >>> 0;
      x = (x ^ (x >>> 17)) >>> 0;
      x = (x ^ (x << 5)) >>> 0;
      yield 1 + (x % count);
    } else {
      yield 1 + (i % count);
    }
  }
}

/** Runs the guest for one pattern; returns MB/s as the guest measured it. */
function guestRun(elf: string, image: string, format: string, pattern: Pattern, ops: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [...NODE_V8_FLAGS, VMLAB, 'run', elf, '--realtime', '--disk', `${image},format=${format},legacy=off`], (error, stdout, stderr) => {
      const m = /bytes (\d+) ticks (\d+) errors 0/.exec(stdout);
      if (error || !m) return reject(new Error(`vmlab run failed for ${format} ${pattern}: ${stdout}${stderr}${error?.message ?? ''}`));
      resolve(Number(m[1]) / (Number(m[2]) / TIMEBASE) / 1e6);
    });
    child.stdin?.end(`${pattern} ${ops} ${SEED}\n`);
  });
}

/** The same pattern with node:fs on a raw file; returns MB/s. */
function hostRun(file: string, pattern: Pattern, ops: number): number {
  const fd = openSync(file, 'r+');
  const buf = new Uint8Array(BLOCK).map((_, i) => (i * 7 + SEED) & 0xff);
  const write = pattern.endsWith('write');
  try {
    const t0 = performance.now();
    for (const block of blocks(pattern, ops, DISK_BYTES / BLOCK - 1)) {
      if (write) writeSync(fd, buf, 0, BLOCK, block * BLOCK);
      else readSync(fd, buf, 0, BLOCK, block * BLOCK);
    }
    if (write) fsyncSync(fd);
    return (ops * BLOCK) / ((performance.now() - t0) / 1000) / 1e6;
  } finally {
    closeSync(fd);
  }
}

async function main(): Promise<number> {
  const ops = Number(process.argv[2] ?? 4096);
  const elf = await buildC(join(BENCH_DIR, 'disk', 'io.c'));
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-disk-bench-'));
  const rows: string[][] = [];
  try {
    const hostFile = join(dir, 'host.raw');
    execFileSync(process.execPath, [VMLAB, 'disk', 'create', hostFile, String(DISK_BYTES), '--format', 'raw']);
    const host = new Map<Pattern, number>();
    for (const p of PATTERNS) host.set(p, hostRun(hostFile, p, ops));
    for (const format of FORMATS) {
      const image = join(dir, `disk.${format}`);
      execFileSync(process.execPath, [VMLAB, 'disk', 'create', image, String(DISK_BYTES), '--format', format]);
      for (const p of PATTERNS) {
        const guest = await guestRun(elf, image, format, p, ops);
        const h = host.get(p)!;
        rows.push([format, p, guest.toFixed(1), h.toFixed(1), (guest / h).toFixed(2)]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const head = ['image', 'pattern (4 KiB)', 'guest MB/s', 'host fs MB/s', 'guest / host'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  console.log(`\nDisk: ${ops} requests of 4 KiB per pattern on a ${DISK_BYTES >> 20} MiB image (virtio-blk, modern transport, writes end with FLUSH = fsync)\n`);
  console.log([line(head), '|' + widths.map((w, i) => (i < 2 ? ':' : '-') + '-'.repeat(w) + (i < 2 ? '-' : ':')).join('|') + '|', ...rows.map(line)].join('\n'));
  console.log('\nguest MB/s: the guest times itself with mtime under --realtime; host fs: node:fs pread/pwrite of the same blocks on a raw file.');
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err: Error) => {
  console.error(err.message);
  process.exitCode = 1;
});
