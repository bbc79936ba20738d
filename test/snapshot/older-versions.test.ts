// Snapshots saved by an earlier vmlab load and continue in this one: a student's saved work must
// survive an update. The fixtures were saved by commit 4210d32's `vmlab run labs/paging/paging.S
// [--mode trap] --max-insns 3000 --save-snapshot F` (its console output up to the cut beside each).
// A field added to a saved object (as `quiet` once was, on the bus and two devices) breaks this
// unless it is transient or derived; this test catches it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const FIXTURES = join(__dirname, 'fixtures');
const PAGING = join(REPO_ROOT, 'labs', 'paging', 'paging.S');

function vmlab(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VMLAB, ...args], { encoding: 'latin1', timeout: 120_000, input: '' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('snapshots of an earlier vmlab', () => {
  for (const mode of ['bare', 'trap']) {
    it(`continue to the same end as a straight run (${mode})`, () => {
      const snap = join(FIXTURES, `paging-${mode}-4210d32.snap`);
      const before = readFileSync(join(FIXTURES, `paging-${mode}-4210d32.out`), 'latin1');
      const rest = vmlab(['run', '--snapshot', snap]);
      expect(rest.stderr).toBe('');
      expect(rest.code).toBe(0);
      const straight = vmlab(['run', PAGING, ...(mode === 'bare' ? [] : ['--mode', mode])]);
      expect(straight.code).toBe(0);
      expect(rest.stdout.length).toBeGreaterThan(0);
      expect(before + rest.stdout).toBe(straight.stdout);
    });
  }
});
