// Crash safety (docs/disks.md): a child process writes to a qcow2 image with periodic flushes and is killed
// with SIGKILL at random moments, again and again on the same image. After each kill the image passes
// checkQcow2 and `qemu-img check` with no corruption (leaked clusters are allowed: qemu-img exit 3), and
// every sector as of the last acknowledged flush reads back; sectors written after it hold their old
// contents or what a later operation wrote. The next child takes over the dead one's stale lock.
// VMLAB_FUZZ_LONG=1 runs 200 kills per image instead of 10.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkQcow2 } from '../../src/engine/disk/qcow2-check';
import { createQcow2 } from '../../src/engine/disk/qcow2';
import { openDisk } from '../../src/host/disk-files';
import { rng } from '../support/rng';
import { crashOps, effects } from './crash-ops';
import { fileStore, newStore, qemuCheck, scratch } from './support';

const LONG = process.env.VMLAB_FUZZ_LONG === '1';
const KILLS = LONG ? 200 : 10;
/** Operations per child run: more than a child gets through before its kill (it prints "done" if not). */
const OPS = 3000;
/** Per-test time limit: the long run needs far more than the default. */
const TIMEOUT = LONG ? 3_600_000 : 120_000;
const dir = scratch('crash');
const child = join(dir, 'crash-child.mjs');

beforeAll(async () => {
  await build({ entryPoints: [join(__dirname, 'crash-child.ts')], outfile: child, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' });
});

/** Runs the child until it has started and `delayMs` more have passed, then kills it; returns its stdout. */
function runAndKill(image: string, seed: number, delayMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, image, String(seed), String(OPS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (timer === undefined && out.includes('ready')) timer = setTimeout(() => p.kill('SIGKILL'), delayMs);
    });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`crash child exited ${code}: ${err}`));
      else resolve(out);
    });
  });
}

/** The stamp of every sector of the image (each sector must hold one stamp throughout). */
function readStamps(image: string): Uint32Array {
  const disk = openDisk(image, { readOnly: true });
  const bytes = new Uint8Array(disk.size);
  disk.read(0, bytes);
  disk.close();
  const v = new DataView(bytes.buffer);
  const stamps = new Uint32Array(disk.size / 512);
  for (let s = 0; s < stamps.length; s++) {
    const first = v.getUint32(s * 512);
    for (let i = 4; i < 512; i += 4) {
      if (v.getUint32(s * 512 + i) !== first) throw new Error(`sector ${s} is torn: it mixes two writes`);
    }
    stamps[s] = first;
  }
  return stamps;
}

async function crashLoop(image: string, clusterSize: number, baseSeed: number): Promise<{ acked: number; leaky: number }> {
  let state = readStamps(image);
  const sectors = state.length;
  const r = rng(baseSeed);
  let acked = 0;
  let leaky = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    const seed = baseSeed * 1000 + kill;
    const out = await runAndKill(image, seed, 20 + (r() % 400));
    const acks = [...out.matchAll(/ack (\d+)/g)].map((m) => Number(m[1]));
    const last = out.includes('done') ? Infinity : acks.length > 0 ? acks[acks.length - 1] : -1;
    acked += acks.length;

    const ours = checkQcow2(fileStore(image, true));
    expect(ours.messages.filter((m) => !m.startsWith('Leaked'))).toEqual([]);
    expect(ours.corruptions).toBe(0);
    const theirs = qemuCheck(image);
    expect(theirs.text).not.toMatch(/\bERROR\b/);
    expect(theirs.report.corruptions ?? 0).toBe(0);
    expect([0, 3]).toContain(theirs.code);
    expect(theirs.report.leaks ?? 0).toBe(ours.leaks);
    if (ours.leaks > 0) leaky++;

    const ops = crashOps(seed, OPS, sectors);
    const expected = state.slice();
    const allowed = new Map<number, Set<number>>();
    ops.forEach((op, i) => {
      for (const [s, value] of effects(op, clusterSize, sectors)) {
        if (i <= last) expected[s] = value;
        else {
          if (!allowed.has(s)) allowed.set(s, new Set());
          allowed.get(s)!.add(value);
        }
      }
    });
    const seen = readStamps(image);
    for (let s = 0; s < sectors; s++) {
      if (seen[s] === expected[s]) continue;
      if (allowed.get(s)?.has(seen[s])) continue;
      throw new Error(`kill ${kill} (seed ${seed}, last ack ${last}): sector ${s} holds stamp 0x${seen[s].toString(16)}, expected 0x${expected[s].toString(16)}`);
    }
    state = seen;
  }
  return { acked, leaky };
}

describe('crash safety', () => {
  it(`survives ${KILLS} SIGKILLs with 512-byte clusters (refcount growth under way)`, async () => {
    const image = join(dir, 'small.qcow2');
    const store = newStore(image);
    createQcow2(store, 12 << 20, { clusterBits: 9 });
    store.close();
    const { acked } = await crashLoop(image, 512, 1);
    expect(acked).toBeGreaterThan(KILLS);
  }, TIMEOUT);

  it(`survives ${KILLS} SIGKILLs on an overlay with 64 KiB clusters over a raw backing file`, async () => {
    const base = join(dir, 'base.raw');
    const bytes = new Uint8Array(8 << 20);
    const v = new DataView(bytes.buffer);
    for (let i = 0; i < bytes.length; i += 4) v.setUint32(i, 0xb0000000 + Math.floor(i / 512));
    writeFileSync(base, bytes);
    const image = join(dir, 'overlay.qcow2');
    const store = newStore(image);
    createQcow2(store, 8 << 20, { clusterBits: 16, backing: { file: 'base.raw', format: 'raw' } });
    store.close();
    const { acked } = await crashLoop(image, 65536, 2);
    expect(acked).toBeGreaterThan(KILLS);
  }, TIMEOUT);
});
