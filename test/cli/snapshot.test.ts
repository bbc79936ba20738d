// `vmlab run --save-snapshot` / `--snapshot` / `vmlab snapshot info` as a user meets them: a run cut
// by --max-insns and continued from its snapshot prints what the uncut run prints, exits the same and
// retires the same instructions, bare and in every VMM mode, also with a disk and through a chain of
// snapshots; changed disks and damaged, truncated or foreign files are refused in one line.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';
import { rng } from '../support/rng';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-snap-'));
const TRAPS = join(REPO_ROOT, 'labs', 'traps', 'traps.S');
const DISK_LAB = join(REPO_ROOT, 'labs', 'disk', 'disk.S');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  instret?: number;
  steps?: number;
}

function vmlab(args: string[]): Run {
  const stats = join(dir, `stats-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(process.execPath, [VMLAB, ...args, ...(args[0] === 'run' ? ['--stats-file', stats] : [])], { encoding: 'latin1', timeout: 120_000, input: '' });
  let counts: { instret?: number; steps?: number } = {};
  try {
    counts = JSON.parse(readFileSync(stats, 'utf8')) as { instret: number; steps: number };
  } catch {
    counts = {};
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, instret: counts.instret, steps: counts.steps };
}

/** Runs `args` cut after each of `cuts` steps (counted from the start) and continued from snapshots. */
function cutRun(args: string[], cuts: number[]): Run {
  let stdout = '';
  let at = 0;
  let from: string[] = args;
  for (const [i, cut] of cuts.entries()) {
    const file = join(dir, `cut-${i}-${Math.random().toString(36).slice(2)}.snap`);
    const r = vmlab([...from, '--max-insns', String(cut - at), '--save-snapshot', file]);
    expect(r.code, r.stderr).toBe(124);
    stdout += r.stdout;
    at = cut;
    from = ['run', '--snapshot', file];
  }
  const last = vmlab(from);
  return { ...last, stdout: stdout + last.stdout };
}

describe('vmlab run --save-snapshot / --snapshot', () => {
  for (const mode of ['bare', 'emulate', 'trap', 'bt', 'hw']) {
    it(`continues a cut run exactly (${mode})`, () => {
      const args = ['run', TRAPS, '--mode', mode];
      const whole = vmlab(args);
      expect(whole.code, whole.stderr).toBe(0);
      const cut = cutRun(args, [Math.floor(whole.instret! / 2)]);
      expect(cut.code, cut.stderr).toBe(0);
      expect(cut.stdout).toBe(whole.stdout);
      expect(cut.instret).toBe(whole.instret);
    }, 120_000);
  }

  it('continues a snapshot in another mode: the same output and steps (the VM counts only what it ran)', () => {
    for (const [from, to] of [['bare', 'trap'], ['trap', 'bare'], ['emulate', 'hw']]) {
      const whole = vmlab(['run', TRAPS, '--mode', from]);
      const snap = join(dir, `cross-${from}-${to}.snap`);
      const first = vmlab(['run', TRAPS, '--mode', from, '--max-insns', '4000', '--save-snapshot', snap]);
      expect(first.code).toBe(124);
      const stats = join(dir, `cross-${from}-${to}.json`);
      const r = spawnSync(process.execPath, [VMLAB, 'run', '--snapshot', snap, '--mode', to, '--stats-file', stats], { encoding: 'latin1', timeout: 120_000, input: '' });
      expect(r.status, r.stderr).toBe(0);
      expect(first.stdout + r.stdout, `${from} -> ${to}`).toBe(whole.stdout);
      const s = JSON.parse(readFileSync(stats, 'utf8')) as { steps: number; instret: number; mode?: string };
      expect(s.steps, `${from} -> ${to}`).toBe(whole.steps);
      if (to === 'bare') expect(s.instret).toBe(whole.instret);
    }
  }, 300_000);

  it('continues through a chain of snapshots', () => {
    const args = ['run', TRAPS];
    const whole = vmlab(args);
    const cut = cutRun(args, [3, 1000, Math.floor(whole.instret! / 2)]);
    expect(cut.code).toBe(0);
    expect(cut.stdout).toBe(whole.stdout);
    expect(cut.instret).toBe(whole.instret);
  }, 120_000);

  it('continues with a disk, leaving the image as the uncut run leaves it; a changed image is refused', () => {
    const make = (name: string): string => {
      const path = join(dir, name);
      const r = vmlab(['disk', 'create', path, '1M', '--format', 'raw']);
      expect(r.code, r.stderr).toBe(0);
      return path;
    };
    const a = make('whole.img');
    const b = make('cut.img');
    let half = 0;
    for (const mode of ['bare', 'trap']) {
      const whole = vmlab(['run', DISK_LAB, '--mode', mode, '--disk', a]);
      expect(whole.code, whole.stderr).toBe(0);
      half = Math.floor(whole.instret! / 2);
      const cut = cutRun(['run', DISK_LAB, '--mode', mode, '--disk', b], [Math.floor(whole.instret! / 2)]);
      expect(cut.code, cut.stderr).toBe(0);
      expect(cut.stdout).toBe(whole.stdout);
      expect(cut.instret).toBe(whole.instret);
      expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
    }
    const snap = join(dir, 'disk.snap');
    expect(vmlab(['run', DISK_LAB, '--disk', b, '--max-insns', String(half), '--save-snapshot', snap]).code).toBe(124);
    const info = vmlab(['snapshot', 'info', snap]);
    expect(info.stdout).toContain(`disk: slot 7: ${b} (raw, 1048576 bytes, sha256 ${createHash('sha256').update(readFileSync(b)).digest('hex').slice(0, 16)}...)`);
    // The guest writes its disk after the cut: the image no longer matches the snapshot.
    expect(vmlab(['run', '--snapshot', snap]).code).toBe(0);
    const again = vmlab(['run', '--snapshot', snap]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`vmlab: --snapshot ${snap}: disk ${b} changed since the snapshot was taken (its SHA-256 differs); restore it from the image as it was then\n`);
  }, 300_000);

  it('describes a snapshot with vmlab snapshot info', () => {
    const snap = join(dir, 'info.snap');
    expect(vmlab(['run', TRAPS, '--mode', 'trap', '--max-insns', '2000', '--save-snapshot', snap]).code).toBe(124);
    const r = vmlab(['snapshot', 'info', snap]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^file: info\.snap\nformat: vmlab snapshot version 1, machine state version 1\ncreated: \S+\nmode: trap\nkernel: traps\.S \(\d+ bytes\)\nmemory: 128 MiB, \d+ pages saved/);
    expect(r.stdout).toContain('progress: ');
    expect(r.stdout).toContain(' steps\n');
    const json = JSON.parse(vmlab(['snapshot', 'info', snap, '--json']).stdout) as { config: { mode: string }; summary: { steps: number } };
    expect(json.config.mode).toBe('trap');
    expect(json.summary.steps).toBe(2000);
  }, 60_000);

  it('refuses damaged, truncated and foreign files and conflicting options in one line each', () => {
    const snap = join(dir, 'good.snap');
    expect(vmlab(['run', TRAPS, '--max-insns', '3000', '--save-snapshot', snap]).code).toBe(124);
    const good = readFileSync(snap);
    const bad = (name: string, bytes: Uint8Array): string => {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return path;
    };
    const version = Buffer.from(good);
    version.writeUInt32LE(2, 8);
    const cases: [string, RegExp][] = [
      [bad('trunc.snap', good.subarray(0, good.length - 100)), /checksum mismatch: the file is damaged or truncated$/],
      [bad('short.snap', good.subarray(0, 40)), /truncated: 40 bytes, the header alone needs \d+$/],
      [bad('empty.snap', new Uint8Array(0)), /not a vmlab snapshot \(no VMLABSNP signature\)$/],
      [bad('elf.snap', readFileSync(join(REPO_ROOT, 'labs', 'hello', 'hello.S'))), /not a vmlab snapshot/],
      [bad('v2.snap', version), /snapshot format version 2; this vmlab reads version 1$/],
      [bad('text.snap', Buffer.from('VMLABSNP but then only text')), /damaged: the VMLABSNP signature is not followed by a format version$/],
      [join(dir, 'missing.snap'), /no such file$/],
      [bad('run.rec', Buffer.concat([Buffer.from('VMLABREC'), Buffer.alloc(40)])), /a vmlab recording, not a snapshot: replay it with vmlab run --replay FILE$/],
    ];
    for (const [path, message] of cases) {
      for (const args of [['run', '--snapshot', path], ['snapshot', 'info', path]]) {
        const r = vmlab(args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr.split('\n').filter(Boolean), args.join(' ')).toHaveLength(1);
        expect(r.stderr.trim(), args.join(' ')).toMatch(message);
      }
    }
    const conflicts: [string[], string][] = [
      [['run', TRAPS, '--snapshot', snap], `vmlab: --snapshot ${snap}: the kernel comes from the snapshot; give no KERNEL`],
      [['run', '--snapshot', snap, '--mem', '64M'], `vmlab: --snapshot ${snap}: --mem comes from the snapshot; leave it out`],
      [['run', '--snapshot', snap, '--mode', 'pv'], `vmlab: --snapshot ${snap}: it was taken in bare mode; pv mode runs only kernels written for its hypercalls, so it cannot continue in pv`],
      [['run'], "vmlab: missing required argument 'kernel' (or --snapshot FILE, or --replay FILE)"],
      [['run', TRAPS, '--save-snapshot', join(dir, 'no', 'such', 'dir.snap')], `vmlab: --save-snapshot ${join(dir, 'no', 'such', 'dir.snap')}: cannot write the file: its folder does not exist`],
    ];
    for (const [args, message] of conflicts) {
      const r = vmlab(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.replace(/\.tmp-\d+/, '')).toBe(message + '\n');
    }
  }, 300_000);

  it('refuses every damaged copy (random bytes changed, or a valid checksum over a changed header)', () => {
    const snap = join(dir, 'fuzz.snap');
    expect(vmlab(['run', TRAPS, '--mode', 'emulate', '--max-insns', '3000', '--save-snapshot', snap]).code).toBe(124);
    const good = readFileSync(snap);
    const next = rng(2026);
    const headerLength = good.readUInt32LE(12);
    for (let i = 0; i < 6; i++) {
      const copy = Buffer.from(good);
      copy[next() % copy.length] ^= 1 + (next() % 255);
      const path = join(dir, `fuzz-${i}.snap`);
      writeFileSync(path, copy);
      const r = vmlab(['run', '--snapshot', path]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^vmlab: snapshot \S+: checksum mismatch: the file is damaged or truncated\n$/);
    }
    // A tool that rewrites the header and the checksum: the state no longer fits, refused in one line.
    const header = good.toString('utf8', 16, 16 + headerLength);
    const edits: [string, string][] = [
      ['"mstatus":', '"mstatusX":'],
      ['"ramPages":[', '"ramPages":[99999999,'],
      ['"mode":"emulate"', '"mode":"bare"'],
      ['"stateVersion":1', '"stateVersion":7'],
    ];
    for (const [from, to] of edits) {
      expect(header).toContain(from);
      const json = Buffer.from(header.replace(from, to), 'utf8');
      const prefix = Buffer.from(good.subarray(0, 16));
      prefix.writeUInt32LE(json.length, 12);
      const body = Buffer.concat([prefix, json, good.subarray(16 + headerLength, good.length - 32)]);
      const path = join(dir, 'edited.snap');
      writeFileSync(path, Buffer.concat([body, createHash('sha256').update(body).digest()]));
      const r = vmlab(['run', '--snapshot', path]);
      expect(r.code, to).toBe(2);
      expect(r.stderr.split('\n').filter(Boolean), to).toHaveLength(1);
      expect(r.stderr, to).toMatch(/^vmlab: /);
      expect(r.stderr, to).not.toMatch(/at \S+ \(|TypeError|undefined/);
    }
    copyFileSync(snap, join(dir, 'still-good.snap'));
    expect(vmlab(['run', '--snapshot', join(dir, 'still-good.snap')]).code).toBe(0);
  }, 300_000);
});
