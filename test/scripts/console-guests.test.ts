// The console scripts of `npm run test:guests` and the real-guest benchmark (bench/guests.ts), on a
// guest of the project's own in DIR/linux-nommu/Image (test/guests/boot/console-shell.S: a prompt,
// the answers the Linux script waits for, poweroff through the test finisher): both drive it on QEMU
// and on vmlab bare and in every mode the engine lists, the script passes only when the run ends by
// itself with exit code 0, and the benchmark prints seconds to the shell and for the script with
// their ratio to QEMU for each.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VM_MODES } from '../../src/engine/vmm/vm';
import { GUEST_DIR, REPO_ROOT, buildAsmGnu } from '../support/build';

const work = mkdtempSync(join(tmpdir(), 'vmlab-console-guests-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const MODES = ['bare', ...VM_MODES];

function tsx(script: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPO_ROOT, script), ...args], { encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  const elf = await buildAsmGnu(join(GUEST_DIR, 'boot', 'console-shell.S'));
  mkdirSync(join(work, 'dir', 'linux-nommu'), { recursive: true });
  copyFileSync(elf, join(work, 'dir', 'linux-nommu', 'Image'));
}, 120_000);

describe('console guests', () => {
  it('test:guests drives the Linux script to poweroff and exit code 0 on QEMU and in every mode', () => {
    const r = tsx('scripts/test-guests.ts', [join(work, 'dir')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('linux-nommu [qemu]: pass');
    const rows = r.stdout.trim().split('\n').slice(2).map((l) => l.split('|').slice(1, 4).map((c) => c.trim()));
    expect(rows).toEqual(MODES.map((m) => ['linux-nommu', m, 'pass']));
  }, 600_000);

  it('bench/guests.ts prints seconds to the shell and for the script, and the ratio to QEMU, per mode', () => {
    const r = tsx('bench/guests.ts', [join(work, 'dir')]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\| guest +\| run +\| to shell s \| script s \| shell vs QEMU \| script vs QEMU \|$/);
    const rows = lines.slice(2, 2 + 1 + MODES.length).map((l) => l.split('|').slice(1, 7).map((c) => c.trim()));
    expect(rows.map((c) => c[1])).toEqual(['qemu', ...MODES]);
    for (const c of rows) {
      expect(c[0]).toBe('linux-nommu');
      expect(c[2]).toMatch(/^\d+\.\d\d$/);
      expect(c[3]).toMatch(/^\d+\.\d\d$/);
      expect(c[4]).toMatch(/^\d+\.\dx$/);
      expect(c[5]).toMatch(/^\d+\.\dx$/);
    }
  }, 600_000);

  it('bench/guests.ts without a folder says it skipped; a bad folder is one line and exit code 2', () => {
    const skipped = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPO_ROOT, 'bench', 'guests.ts')], {
      encoding: 'utf8', env: { ...process.env, VMLAB_GUESTS: '' },
    });
    expect(skipped.status).toBe(0);
    expect(skipped.stdout).toContain('skipped');
    const empty = join(work, 'empty');
    mkdirSync(empty, { recursive: true });
    const r = tsx('bench/guests.ts', [empty]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`error: ${empty} holds no xv6/, linux/ or linux-nommu/ guest (docs/guests.md)`]);
  }, 120_000);
});
