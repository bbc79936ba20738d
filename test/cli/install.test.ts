// The `vmlab` command outside the project folder, installed as README describes ("Use the CLI from
// anywhere"): `npm install -g <project folder>` (what `npm link` does) into a temporary prefix, then
// the command runs from another folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

describe('vmlab installed globally', () => {
  it('runs --version and asm from a folder outside the project', () => {
    const prefix = mkdtempSync(join(tmpdir(), 'vmlab-prefix-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'vmlab-elsewhere-'));
    const npm = join(dirname(process.execPath), 'npm');
    const install = spawnSync(existsSync(npm) ? npm : 'npm', ['install', '--global', '--prefix', prefix, REPO_ROOT, '--offline', '--no-audit', '--no-fund'], { encoding: 'utf8', timeout: 120_000 });
    expect(install.stderr).not.toMatch(/ERR!/);
    expect(install.status).toBe(0);

    const vmlab = join(prefix, 'bin', 'vmlab');
    const version = spawnSync(vmlab, ['--version'], { cwd: elsewhere, encoding: 'utf8', timeout: 60_000 });
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);

    const asm = spawnSync(vmlab, ['asm', join(REPO_ROOT, 'labs', 'hello', 'hello.S'), '-o', 'hello.elf'], { cwd: elsewhere, encoding: 'utf8', timeout: 60_000 });
    expect(asm.stderr).toBe('');
    expect(asm.status).toBe(0);
    expect(readFileSync(join(elsewhere, 'hello.elf')).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  }, 180_000);
});
