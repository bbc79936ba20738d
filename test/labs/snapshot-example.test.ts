// The snapshot example that README.md and docs/snapshots.md give a newcomer, run as written (its
// scratch/ file moved to a temporary folder): the first run is cut by --max-insns before the guest
// ends, and the continued run prints the rest, so both together print what the uncut run prints.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-snap-example-'));

/** The `npx vmlab` lines of the shell block that saves a snapshot, comments dropped. */
function example(file: string): string[][] {
  const block = [...readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(/```sh\n([^]*?)```/g)].map((m) => m[1]).find((b) => b.includes('--save-snapshot'));
  expect(block, `${file} has a shell block with --save-snapshot`).toBeDefined();
  return block!.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter((l) => l.startsWith('npx vmlab'))
    .map((l) => l.split(/\s+/).slice(2).map((w) => w.replace(/^scratch\//, `${dir}/`)));
}

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VMLAB, ...args], { cwd: REPO_ROOT, encoding: 'latin1', timeout: 120_000, input: '' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.each(['README.md', 'docs/snapshots.md'])('the snapshot example of %s', (file) => {
  it('cuts the run before the guest ends and continues it to the end', () => {
    const [save, info, resume] = example(file);
    expect(save).toContain('--max-insns');
    expect(info.slice(0, 2)).toEqual(['snapshot', 'info']);
    expect(resume.slice(0, 2)).toEqual(['run', '--snapshot']);
    const uncut = run(save.filter((w, i, a) => !['--max-insns', '--save-snapshot'].includes(w) && !['--max-insns', '--save-snapshot'].includes(a[i - 1])));
    expect(uncut.code).toBe(0);
    const first = run(save);
    expect(first.stderr).toMatch(/^vmlab: stopped by --max-insns/m);
    expect(first.code).toBe(124);
    const described = run(info);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/^state: (running|paused|waiting)/m);
    const rest = run(resume);
    expect(rest.code).toBe(0);
    expect(rest.stdout).not.toBe('');
    expect(first.stdout + rest.stdout).toBe(uncut.stdout);
  }, 120_000);
});
