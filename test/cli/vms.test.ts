// `vmlab vms`: several VMs from *.vm.json files at once, prefixed consoles, end report, bad files.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ASM_DIR, REPO_ROOT, buildGuest } from '../support/build';
import { runVmlab } from '../support/vmlab';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-vms-'));
let helloOut = '';

function vmlab(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VMLAB, ...args], { encoding: 'latin1', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function vmFile(name: string, body: object): string {
  const path = join(dir, `${name}.vm.json`);
  writeFileSync(path, JSON.stringify(body));
  return path;
}

beforeAll(async () => {
  const hello = await buildGuest(join(ASM_DIR, 'hello.S'));
  copyFileSync(hello, join(dir, 'hello.elf'));
  copyFileSync(await buildGuest(join(ASM_DIR, 'exit-code.S')), join(dir, 'exit7.elf'));
  helloOut = runVmlab(hello).output.toString('latin1');
}, 300_000);

describe('vmlab vms', () => {
  it('runs VMs in different modes at once, each console with its name, and reports each end', () => {
    const a = vmFile('a', { name: 'alpha', kernel: 'hello.elf', mode: 'trap', memory: '8M', placement: 'scattered' });
    const b = vmFile('b', { name: 'beta', kernel: 'hello.elf', mode: 'emulate', memory: '8M' });
    const r = vmlab(['vms', a, b, '--stats', 'json']);
    expect(r.code).toBe(0);
    for (const name of ['alpha', 'beta']) {
      const lines = r.stdout.split('\n').filter((l) => l.startsWith(`[${name}] `)).map((l) => l.slice(name.length + 3));
      expect(lines.join('\n') + '\n').toBe(helloOut);
    }
    const report = JSON.parse(r.stderr.trim().split('\n').pop()!);
    expect(report.map((v: { name: string; state: string; exitCode: number }) => [v.name, v.state, v.exitCode])).toEqual([['alpha', 'halted', 0], ['beta', 'halted', 0]]);
    expect(report[0].exits).toBeGreaterThan(0);
  });

  it('writes consoles to files and exits 1 when a guest fails', () => {
    const a = vmFile('c', { name: 'ok', kernel: 'hello.elf', mode: 'trap' });
    const b = vmFile('d', { name: 'seven', kernel: 'exit7.elf', mode: 'trap' });
    const out = join(dir, 'consoles');
    const r = vmlab(['vms', a, b, '--console-dir', out]);
    expect(r.code).toBe(1);
    expect(readFileSync(join(out, 'ok.log'), 'latin1')).toBe(helloOut);
    expect(r.stderr).toMatch(/seven \(trap\): exit 7/);
  });

  it.each([
    [{ name: 'x', kernel: 'hello.elf', mode: 'warp' }, /mode/],
    [{ name: 'bad name!', kernel: 'hello.elf', mode: 'trap' }, /name/],
    [{ name: 'x', kernel: 'hello.elf', mode: 'trap', extra: 1 }, /extra|Unrecognized/i],
    [{ name: 'x', kernel: 'missing.elf', mode: 'trap' }, /no such file/],
  ])('rejects a bad VM file %j with exit code 2', (body, message) => {
    const r = vmlab(['vms', vmFile('bad', body)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
