// `vmlab run --place`: a VM's guest pages in host frames as the app's New VM form takes them (the
// lecture's explicit pairs in hex), refused for a bare machine and for text that is no placement,
// and handed to the VMM's frame allocator (a frame outside host RAM is its refusal).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const PAGING = join(REPO_ROOT, 'labs', 'paging', 'paging.S');

function vmlab(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VMLAB, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vmlab run --place', () => {
  it.each(['trap', 'emulate'])('runs the paging lab in %s mode with the lecture\'s placement', (mode) => {
    const r = vmlab(['run', PAGING, '--mode', mode, '--place', 'a1:c0,a2:c1,a3:c4']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(REPO_ROOT, 'labs', 'paging', 'expected-output.txt'), 'utf8'));
  });

  it('takes contiguous and scattered', () => {
    for (const place of ['contiguous', 'scattered']) expect(vmlab(['run', PAGING, '--mode', 'trap', '--place', place]).code).toBe(0);
  });

  it.each([
    [['--place', 'a1:c0'], /^vmlab: --place: only a VM \(--mode emulate, trap, bt, pv or hw\) places its pages in host frames\n$/],
    [['--mode', 'trap', '--place', 'here'], /^vmlab: --place here: expected contiguous, scattered or page:frame pairs in hex \(a1:c0,a2:c1,a3:c4\): 'here' is not page:frame in hex/],
    [['--mode', 'trap', '--place', 'a1:c0,a2:c0'], /host frame 0xc0 is used twice/],
    [['--mode', 'trap', '--mem', '1M', '--place', '100:1'], /guest page 0x100 is outside the VM's 256 pages/],
    [['--mode', 'trap', '--place', '0:fffff'], /^vmlab: [^\n]*host frame 0xfffff does not exist \(host RAM has \d+ frames, 0x0-0x[0-9a-f]+\)\n$/],
  ])('refuses %j in one line', (args, message) => {
    const r = vmlab(['run', PAGING, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
