// `vmlab run --bios sbi`, `--mode pv` and `.vm.json` with bios sbi and mode pv from the command line:
// the answers of OpenSBI 1.4 on QEMU (test/guests/sbi/sbi-calls.expected), exit 0 through SRST; a pv
// kernel from a .vm.json; a firmware file with pv refused in one line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GUEST_DIR, REPO_ROOT } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const CALLS = join(GUEST_DIR, 'sbi', 'sbi-calls.S');
const expected = readFileSync(join(GUEST_DIR, 'sbi', 'sbi-calls.expected'), 'latin1');

function vmlab(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VMLAB, ...args], { encoding: 'latin1', timeout: 120_000, input: '' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vmlab run --bios sbi', () => {
  for (const mode of ['bare', 'trap']) {
    it(`${mode}: a .S kernel assembled at 0x80400000 gets OpenSBI's answers, exit 0`, () => {
      const r = vmlab(['run', CALLS, '--bios', 'sbi', '--mode', mode]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(expected);
      expect(r.code).toBe(0);
    });
  }
});

describe('pv from the command line', () => {
  it('a .vm.json with mode pv runs the sensitive lab\'s pv kernel', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmlab-pv-cli-'));
    const file = join(dir, 'pv.vm.json');
    writeFileSync(file, JSON.stringify({ name: 'pv', kernel: join(REPO_ROOT, 'labs', 'sensitive', 'sensitive-pv.S'), mode: 'pv', memory: '64M', cpu: 'rv32,xsensitive=on' }));
    const r = vmlab(['vms', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[pv] [U] csrr sstatus trapped: I run in U-mode\n');
  });

  it('refuses a firmware file for a pv VM in one line, exit 2', () => {
    const r = vmlab(['run', CALLS, '--mode', 'pv', '--bios', join(GUEST_DIR, 'boot', 'mini-sbi.S')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vmlab: .*a pv kernel boots with the VMM's SBI \(--bios sbi\), not a firmware file\n$/);
  });
});
