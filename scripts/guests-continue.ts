// `npm run test:guests -- DIR --continuity`: a real guest's boot, cut and continued in another
// process, must print what the uncut boot prints and retire the same instructions. Each guest runs
// BUDGET steps of its boot uncut; then it is cut at a third and at two thirds of them with
// `--save-snapshot` and continued with `vmlab run --snapshot` to the same step; and it is moved
// while it runs (`vmlab migrate`: live pre-copy at half of them, stop-and-copy at two thirds) to a
// `vmlab host` in another process. The boot reads no console input, so the runs are deterministic and compare exactly.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VMLAB, type ConsoleGuest, type Mode } from './guests-lib';
import { NODE_V8_FLAGS } from '../src/host/v8-flags';

/** What one guest in one mode gave: a failure's first line, or undefined when every run matched. */
export interface ContinuityResult {
  problem?: string;
  seconds: number;
}

/** Steps of each guest's boot the check runs (well before its prompt, where input would be read). */
export const CONTINUITY_STEPS: Record<string, number> = { xv6: 300_000_000, linux: 30_000_000, 'linux-nommu': 30_000_000 };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  instret?: number;
}

function vmlab(args: string[], stats: string): Run {
  const r = spawnSync(process.execPath, [...NODE_V8_FLAGS, VMLAB, ...args, '--stats-file', stats], { encoding: 'latin1', input: '', timeout: 3_600_000, maxBuffer: 1 << 28 });
  let instret: number | undefined;
  try {
    instret = (JSON.parse(readFileSync(stats, 'utf8')) as { instret?: number }).instret;
  } catch {
    instret = undefined;
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, instret };
}

/** The guest's run arguments with its scratch files copied into a folder of their own. */
function inFolder(g: ConsoleGuest, work: string, name: string): string[] {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const f of g.scratch) copyFileSync(f, join(dir, f.split('/').pop()!));
  return g.vmlab(dir);
}

function firstLine(text: string): string {
  return text.trim().split('\n').find((l) => l.trim() !== '') ?? '(nothing)';
}

/** Where two outputs first differ, in a few words. */
function outputDifference(want: string, got: string): string | undefined {
  if (want === got) return undefined;
  let i = 0;
  while (i < want.length && want[i] === got[i]) i++;
  return `the console differs from byte ${i}: ${JSON.stringify(want.slice(i, i + 40))} expected, ${JSON.stringify(got.slice(i, i + 40))} printed`;
}

/** Checks `g` in `mode`: cut and continued at two points, and moved to another process live and by stop-and-copy. */
export async function checkContinuity(g: ConsoleGuest, mode: Mode, budget: number): Promise<ContinuityResult> {
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'vmlab-continuity-'));
  const modeArgs = mode === 'bare' ? [] : ['--mode', mode];
  const fail = (problem: string): ContinuityResult => ({ problem, seconds: (Date.now() - t0) / 1000 });
  try {
    const whole = vmlab(['run', ...inFolder(g, work, 'whole'), ...modeArgs, '--max-insns', String(budget)], join(work, 'whole.json'));
    if (whole.code !== 124 || whole.instret === undefined) return fail(`the uncut run did not stop at --max-insns ${budget}: exit ${whole.code}, ${firstLine(whole.stderr)}`);
    for (const cut of [Math.floor(budget / 3), Math.floor((2 * budget) / 3)]) {
      const snap = join(work, `cut-${cut}.snap`);
      const first = vmlab(['run', ...inFolder(g, work, `cut-${cut}`), ...modeArgs, '--max-insns', String(cut), '--save-snapshot', snap], join(work, `first-${cut}.json`));
      if (first.code !== 124) return fail(`cut at ${cut}: the first part ended with exit ${first.code}: ${firstLine(first.stderr)}`);
      const second = vmlab(['run', '--snapshot', snap, '--max-insns', String(budget - cut)], join(work, `second-${cut}.json`));
      if (second.code !== 124) return fail(`cut at ${cut}: the continued run ended with exit ${second.code}: ${firstLine(second.stderr)}`);
      const diff = outputDifference(whole.stdout, first.stdout + second.stdout);
      if (diff) return fail(`cut at ${cut}: ${diff}`);
      if (second.instret !== whole.instret) return fail(`cut at ${cut}: ${second.instret} instructions retired, the uncut run ${whole.instret}`);
    }
    for (const [how, at, extra] of [['live', Math.floor(budget / 2), []], ['stop-and-copy', Math.floor((2 * budget) / 3), ['--stop-and-copy']]] as const) {
      const what = `${how} migration at ${at}`;
      const moved = await migrateOnce([...inFolder(g, work, `moved-${how}`), ...(mode === 'bare' ? ['--mode', 'bare'] : modeArgs), ...extra], at, budget, work);
      if (typeof moved === 'string') return fail(`${what}: ${moved}`);
      const diff = outputDifference(whole.stdout, moved.stdout);
      if (diff) return fail(`${what}: ${diff}`);
      if (moved.instret !== whole.instret) return fail(`${what}: the host retired ${moved.instret} instructions in all, the uncut run ${whole.instret}`);
    }
    return { seconds: (Date.now() - t0) / 1000 };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `vmlab migrate ARGS --at AT` to a `vmlab host --once` started for it; the console and the host's instruction count, or why it failed. */
async function migrateOnce(args: string[], at: number, budget: number, work: string): Promise<Run | string> {
  const hostStats = join(work, `host-${at}.json`);
  const host = spawn(process.execPath, [...NODE_V8_FLAGS, VMLAB, 'host', '--port', '0', '--once', '--max-insns', String(budget), '--stats-file', hostStats], { stdio: ['ignore', 'ignore', 'pipe'] });
  let hostErr = '';
  const hostDone = new Promise<number | null>((resolve) => host.on('close', resolve));
  const port = await new Promise<number | undefined>((resolve) => {
    host.stderr.setEncoding('latin1').on('data', (d: string) => {
      hostErr += d;
      const m = /host listening on 127\.0\.0\.1:(\d+)/.exec(hostErr);
      if (m) resolve(Number(m[1]));
    });
    void hostDone.then(() => resolve(undefined));
  });
  if (port === undefined) return `vmlab host did not start: ${firstLine(hostErr)}`;
  const source = vmlab(['migrate', ...args, '--to', String(port), '--at', String(at), '--max-insns', String(budget)], join(work, `source-${at}.json`));
  const timer = setTimeout(() => host.kill('SIGKILL'), 600_000);
  await hostDone;
  clearTimeout(timer);
  if (!/moved to 127\.0\.0\.1:\d+/.test(source.stderr)) return `the guest did not move: ${firstLine(source.stderr)}`;
  let instret: number | undefined;
  try {
    instret = (JSON.parse(readFileSync(hostStats, 'utf8')) as { instret?: number }).instret;
  } catch {
    return `the host wrote no statistics: ${firstLine(hostErr)}`;
  }
  return { ...source, instret };
}
