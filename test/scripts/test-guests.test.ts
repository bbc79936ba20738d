// `npm run test:guests -- DIR` on a DIR of the project's own: two riscv-tests-style binaries that
// report through HTIF tohost (one passes, one exits 3), run on QEMU's spike machine and on vmlab bare
// and in trap mode; the table names the failing test, the exit code is 1; a folder without guests and
// a bad option are one-line errors with exit code 2.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, buildAsmGnu } from '../support/build';

const work = mkdtempSync(join(tmpdir(), 'vmlab-test-guests-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * A bare program that writes (code << 1) | 1 to tohost, as riscv-tests' RVTEST_PASS/FAIL do; built with
 * GNU as, as the real riscv-tests are (QEMU's HTIF wants the symbols' sizes from `.size`).
 */
function htifExit(code: number): string {
  return `
  .text
  .globl _start
_start:
  li a0, ${(code << 1) | 1}
  la t0, tohost
  sw a0, 0(t0)
  sw zero, 4(t0)
1: j 1b
  .data
  .align 3
  .globl tohost
tohost: .dword 0
  .size tohost, 8
  .globl fromhost
fromhost: .dword 0
  .size fromhost, 8
`;
}

function testGuests(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPO_ROOT, 'scripts', 'test-guests.ts'), ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  for (const [name, code] of [['pass', 0], ['fail', 3]] as const) {
    const src = join(work, `${name}.S`);
    writeFileSync(src, htifExit(code));
    const elf = await buildAsmGnu(src);
    mkdirSync(join(work, 'dir', 'riscv-tests'), { recursive: true });
    copyFileSync(elf, join(work, 'dir', 'riscv-tests', `rv32ui-p-${name}`));
    mkdirSync(join(work, 'good', 'riscv-tests'), { recursive: true });
    if (code === 0) copyFileSync(elf, join(work, 'good', 'riscv-tests', 'rv32ui-p-pass.elf'));
  }
}, 120_000);

describe('npm run test:guests', () => {
  it('reports a failing test by name in every mode, beside QEMU, and exits 1', () => {
    const r = testGuests([join(work, 'dir'), '--modes', 'bare,trap']);
    expect(r.code, r.stderr).toBe(1);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toBe('| guest | mode | result | seconds | QEMU seconds |');
    expect(rows.slice(2).map((l) => l.split('|').slice(1, 4).map((c) => c.trim()))).toEqual([
      ['riscv-tests rv32ui-p (2)', 'bare', 'FAIL 1'],
      ['riscv-tests rv32ui-p (2)', 'trap', 'FAIL 1'],
    ]);
    expect(rows[2]).toMatch(/\(QEMU failed\) \|$/);
    expect(r.stderr).toContain('[qemu]: FAIL 1');
    expect(r.stderr).toContain('[bare]: FAIL 1 in');
    expect(r.stderr).toContain('rv32ui-p-fail: exit 3');
  }, 300_000);

  it('exits 0 when every run passed', () => {
    const r = testGuests([join(work, 'good'), '--modes', 'emulate', '--no-qemu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| riscv-tests rv32ui-p \(1\) \| emulate \| pass \| [\d.]+ \| - \|/);
  }, 300_000);

  it('refuses a folder without guests and a bad mode with one line and exit code 2', () => {
    const empty = join(work, 'empty');
    mkdirSync(empty, { recursive: true });
    const r = testGuests([empty]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`error: ${empty} holds none of the guests described in docs/guests.md`]);
    const bad = testGuests([empty, '--modes', 'bare,fast']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown mode 'fast'");
    const missing = testGuests([join(work, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`error: ${join(work, 'nope')} is not a folder`);
  }, 300_000);
});
