// `vmlab run --record FILE` / `--replay FILE` as a user meets them: a guest whose output depends on
// when its console input arrives is run with bytes typed at different times, bare and in every VMM
// mode, from reset and from a snapshot; each replay prints exactly its recording's output, retires
// the same instructions and ends in the same state, and says so. Damaged, truncated, foreign and
// edited recordings are refused in one line, or reported as diverged, never replayed silently.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GUEST_DIR, REPO_ROOT, buildGuest } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-replay-'));
let elf = '';

beforeAll(async () => {
  elf = await buildGuest(join(GUEST_DIR, 'debug', 'timed-input.S'));
}, 120_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  instret: number;
  steps: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function statsOf(file: string): { instret: number; steps: number } {
  return JSON.parse(readFileSync(file, 'utf8')) as { instret: number; steps: number };
}

/**
 * Runs vmlab with `args`, typing each [delay ms, bytes] while it runs; delays count from the guest's
 * "ready" line, or from the start when `fromReady` is false (a run continued past that line).
 */
async function typed(args: string[], typing: [number, string][], fromReady = true): Promise<Run> {
  const stats = join(dir, `stats-${Math.random().toString(36).slice(2)}.json`);
  const proc = spawn(process.execPath, [VMLAB, ...args, '--stats-file', stats], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let ready: () => void = () => {};
  const isReady = new Promise<void>((r) => { ready = r; });
  proc.stdout.on('data', (d: Buffer) => {
    stdout += d.toString('latin1');
    if (stdout.includes('ready\n')) ready();
  });
  proc.stderr.on('data', (d: Buffer) => { stderr += d.toString('latin1'); });
  const done = new Promise<number | null>((r) => proc.on('close', (code) => r(code)));
  if (fromReady) await Promise.race([isReady, done]);
  let waited = 0;
  for (const [at, text] of typing) {
    await sleep(at - waited);
    waited = at;
    proc.stdin.write(text);
  }
  proc.stdin.end();
  const code = await done;
  return { code, stdout, stderr, ...statsOf(stats) };
}

/** Runs vmlab with `input` on stdin (a replay must ignore it). */
function vmlab(args: string[], input = ''): Run {
  const stats = join(dir, `stats-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(process.execPath, [VMLAB, ...args, '--stats-file', stats], { encoding: 'latin1', timeout: 120_000, input });
  let counts = { instret: -1, steps: -1 };
  try {
    counts = statsOf(stats);
  } catch {
    // No statistics: vmlab refused its input before the guest ran.
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ...counts };
}

function expectReplayOf(recorded: Run, file: string): void {
  const replay = vmlab(['run', '--replay', file], 'typed while replaying\n');
  expect(replay.stdout).toBe(recorded.stdout);
  expect(replay.code, replay.stderr).toBe(recorded.code);
  expect(replay.instret).toBe(recorded.instret);
  expect(replay.steps).toBe(recorded.steps);
  const count = (n: number): string => n.toLocaleString('en-US');
  expect(replay.stderr).toContain(`vmlab: replay of ${file}: ${count(recorded.steps)} steps, ${count(recorded.instret)} instructions, console output and end state as recorded`);
}

describe('vmlab run --record / --replay', () => {
  it('replays runs whose input was typed at different times, each exactly (bare)', async () => {
    const early = join(dir, 'early.rec');
    const late = join(dir, 'late.rec');
    const a = await typed(['run', elf, '--record', early], [[100, 'a'], [400, 'b'], [700, '\n']]);
    const b = await typed(['run', elf, '--record', late], [[900, 'a'], [1300, 'b'], [1700, '\n']]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stdout).toMatch(/^ready\ncount=[0-9a-f]{8}\nbyte=00000061\ncount=[0-9a-f]{8}\nbyte=00000062\ncount=[0-9a-f]{8}\nbyte=0000000a\n$/);
    // The same bytes at other times: other counts, another instruction count.
    expect(b.stdout).not.toBe(a.stdout);
    expect(b.instret).not.toBe(a.instret);
    expectReplayOf(a, early);
    expectReplayOf(b, late);
  }, 120_000);

  for (const mode of ['emulate', 'trap', 'bt', 'hw']) {
    it(`replays exactly in a VM (--mode ${mode})`, async () => {
      const file = join(dir, `${mode}.rec`);
      const r = await typed(['run', elf, '--mode', mode, '--record', file], [[200, 'x'], [600, '\n']]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('byte=00000078\n');
      expectReplayOf(r, file);
    }, 120_000);
  }

  it('records and replays a run continued from a snapshot, and a run cut by --max-insns', async () => {
    const snap = join(dir, 'start.snap');
    const cut = vmlab(['run', elf, '--mode', 'trap', '--max-insns', '300000', '--save-snapshot', snap]);
    expect(cut.code, cut.stderr).toBe(124);
    const file = join(dir, 'from-snap.rec');
    const r = await typed(['run', '--snapshot', snap, '--record', file], [[2500, 'q'], [3000, '\n']], false);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('byte=00000071\n');
    expectReplayOf(r, file);
    const budget = join(dir, 'budget.rec');
    const b = vmlab(['run', elf, '--max-insns', '123457', '--record', budget]);
    expect(b.code).toBe(124);
    expect(b.steps).toBe(123457);
    expectReplayOf(b, budget);
  }, 120_000);

  it('refuses damaged, truncated and foreign recordings in one line', async () => {
    const file = join(dir, 'good.rec');
    const r = vmlab(['run', elf, '--max-insns', '50000', '--record', file]);
    expect(r.code).toBe(124);
    const good = readFileSync(file);
    const flipped = Buffer.from(good);
    flipped[good.length >> 1] ^= 0x10;
    const cases: [string, Buffer, RegExp][] = [
      ['flipped.rec', flipped, /checksum mismatch: the file is damaged or truncated$/],
      ['truncated.rec', good.subarray(0, good.length - 100), /checksum mismatch|truncated/],
      ['short.rec', good.subarray(0, 10), /not a vmlab recording|truncated/],
      ['empty.rec', Buffer.alloc(0), /not a vmlab recording \(no VMLABREC signature\)$/],
      ['elf.rec', readFileSync(elf), /not a vmlab recording \(no VMLABREC signature\)$/],
      ['version.rec', withVersion(good, 9), /recording format version 9; this vmlab reads version 1$/],
      ['snapshot.rec', Buffer.concat([Buffer.from('VMLABSNP'), Buffer.alloc(40)]), /a vmlab snapshot, not a recording: continue it with vmlab run --snapshot FILE$/],
    ];
    for (const [name, bytes, message] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const x = vmlab(['run', '--replay', path]);
      expect(x.code, name).toBe(2);
      expect(x.stdout, name).toBe('');
      expect(x.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(x.stderr, name).toMatch(new RegExp(`^vmlab: --replay ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
      expect(x.stderr.trim(), name).toMatch(message);
    }
    const missing = vmlab(['run', '--replay', join(dir, 'nothing.rec')]);
    expect(missing.stderr.trim()).toMatch(/--replay .*nothing\.rec: no such file$/);
  }, 120_000);

  it('reports a replay that does not end as recorded (a header edited with a fresh checksum)', async () => {
    const file = join(dir, 'edit.rec');
    const r = await typed(['run', elf, '--record', file], [[200, 'k'], [500, '\n']]);
    expect(r.code).toBe(0);
    // Another byte typed at the same step: the output differs.
    const other = editHeader(readFileSync(file), (h) => { h.inputs[0].data = Buffer.from('m').toString('base64'); });
    writeFileSync(join(dir, 'other-byte.rec'), other);
    const x = vmlab(['run', '--replay', join(dir, 'other-byte.rec')]);
    expect(x.code).toBe(1);
    expect(x.stdout).toContain('byte=0000006d\n');
    expect(x.stderr.trim()).toMatch(/--replay .*other-byte\.rec: the run diverged from the recording: the console output differs \(\d+ bytes, the recording's \d+\)$/);
    // An input past the recorded end, or out of order: refused before anything runs.
    const late = editHeader(readFileSync(file), (h) => { h.inputs[0].at = h.end.steps + 1; });
    writeFileSync(join(dir, 'late-input.rec'), late);
    const y = vmlab(['run', '--replay', join(dir, 'late-input.rec')]);
    expect(y.code).toBe(2);
    expect(y.stderr.trim()).toMatch(/input 1 is malformed \(its step is out of order or past the end, or its bytes are not base64\)$/);
    // A recorded end state that is not the replay's.
    const state = editHeader(readFileSync(file), (h) => { h.end.stateSha256 = '0'.repeat(64); });
    writeFileSync(join(dir, 'state.rec'), state);
    const z = vmlab(['run', '--replay', join(dir, 'state.rec')]);
    expect(z.code).toBe(1);
    expect(z.stdout).toBe(r.stdout);
    expect(z.stderr.trim()).toMatch(/the run diverged from the recording: the end state differs \(SHA-256 [0-9a-f]{16}\.\.\., the recording's 0{16}\.\.\.\)$/);
  }, 120_000);

  it('refuses options that conflict with recording or replaying, in one line', () => {
    const file = join(dir, 'opts.rec');
    expect(vmlab(['run', elf, '--max-insns', '1000', '--record', file]).code).toBe(124);
    const cases: [string[], RegExp][] = [
      [['run', elf, '--record', file, '--gdb', '0'], /^vmlab: --record: a debugger's changes to registers and memory are not recorded; leave out --gdb/],
      [['run', elf, '--record', file, '--realtime'], /^vmlab: --record: a --realtime run depends on the host clock/],
      [['run', elf, '--replay', file], /^vmlab: --replay .*opts\.rec: the kernel comes from the recording; give no KERNEL$/],
      [['run', '--replay', file, '--max-insns', '10'], /^vmlab: --replay .*: the replay ends and runs as the recording did; leave out --max-insns$/],
      [['run', '--replay', file, '--mode', 'trap'], /leave out --mode$/],
      [['run', '--replay', file, '--mem', '64M'], /^vmlab: --replay .*: --mem comes from the recording; leave it out$/],
      [['run', elf, '--record', join(dir, 'no', 'such', 'dir.rec')], /^vmlab: --record .*dir\.rec: cannot write the file: its folder does not exist$/],
      [['run', elf, '--checkpoint-interval', '100'], /^vmlab: --checkpoint-interval and --checkpoint-mem need --gdb PORT$/],
    ];
    for (const [args, message] of cases) {
      const r = vmlab(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr.trim(), args.join(' ')).toMatch(message);
    }
  }, 120_000);
});

/** A copy of a recording with another format version (and a checksum that fits it). */
function withVersion(file: Buffer, version: number): Buffer {
  const copy = Buffer.from(file);
  copy.writeUInt32LE(version, 8);
  return reseal(copy);
}

interface Header {
  inputs: { at: number; data: string }[];
  end: { steps: number; stateSha256: string };
}

/** A copy of a recording whose JSON header `edit` changed, with a checksum that fits. */
function editHeader(file: Buffer, edit: (h: Header) => void): Buffer {
  const length = file.readUInt32LE(12);
  const header = JSON.parse(file.toString('utf8', 16, 16 + length)) as Header;
  edit(header);
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.from(file.subarray(0, 16));
  prefix.writeUInt32LE(json.length, 12);
  return reseal(Buffer.concat([prefix, json, file.subarray(16 + length, file.length - 32), Buffer.alloc(32)]));
}

function reseal(file: Buffer): Buffer {
  const body = file.subarray(0, file.length - 32);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}
