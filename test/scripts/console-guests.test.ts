// The console scripts of `npm run test:guests` and the real-guest benchmark (bench/guests.ts), on a
// guest of the project's own in DIR/linux-nommu/Image (test/guests/boot/console-shell.S: a prompt,
// the answers the Linux script waits for, poweroff through the test finisher): both drive it on QEMU
// and on vmlab bare and in every mode the engine lists, the script passes only when the run ends by
// itself with exit code 0, and the benchmark prints seconds to the shell and for the script with
// their ratio to QEMU for each. A stand-in for xv6 (test/guests/boot/xv6-shell.S) in DIR/xv6 runs
// the xv6 script and `usertests`, whose lines test:guests compares with QEMU's, pids normalised.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VM_MODES } from '../../src/engine/vmm/vm';
import { firstDifference, usertestsResults } from '../../scripts/guests-lib';
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
  const xv6 = await buildAsmGnu(join(GUEST_DIR, 'boot', 'xv6-shell.S'));
  mkdirSync(join(work, 'xv6dir', 'xv6'), { recursive: true });
  copyFileSync(xv6, join(work, 'xv6dir', 'xv6', 'kernel'));
  writeFileSync(join(work, 'xv6dir', 'xv6', 'fs.img'), new Uint8Array(1 << 20));
  mkdirSync(join(work, 'logs'));
}, 120_000);

/** The rows of test:guests' table as [guest, mode, result]. */
function tableRows(stdout: string): string[][] {
  return stdout.trim().split('\n').slice(2).map((l) => l.split('|').slice(1, 4).map((c) => c.trim()));
}

describe('console guests', () => {
  it('test:guests drives the Linux script to poweroff and exit code 0 on QEMU and in every mode', () => {
    const r = tsx('scripts/test-guests.ts', [join(work, 'dir')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('linux-nommu [qemu]: pass');
    expect(r.stderr.split('\n')[0]).toBe("pv is not run: it boots only kernels written for the VMM's hypercalls, and every guest here is unmodified");
    expect(tableRows(r.stdout)).toEqual(MODES.map((m) => ['linux-nommu', m, 'pass']));
  }, 600_000);

  it("test:guests --usertests compares each test's lines with QEMU's run, pids normalised, and names the first difference", () => {
    const r = tsx('scripts/test-guests.ts', [join(work, 'xv6dir'), '--usertests', '--logs', join(work, 'logs')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('xv6 (usertests) [qemu]: pass');
    expect(tableRows(r.stdout)).toEqual(MODES.map((m) => ['xv6 (usertests)', m, 'pass']));
    const qemuLog = readFileSync(join(work, 'logs', 'xv6-usertests-qemu.log'), 'latin1');
    expect(qemuLog).toContain('test sbrkbugs: usertrap(): unexpected scause 0x0000000c pid=3207\n');
    for (const m of MODES) expect(readFileSync(join(work, 'logs', `xv6-usertests-${m}.log`), 'latin1')).toBe(qemuLog);

    // A saved QEMU transcript as the reference: another pid is the same run, another stval is not.
    const saved = (name: string, text: string): string => {
      writeFileSync(join(work, name), text);
      return join(work, name);
    };
    const otherPid = saved('pid.log', qemuLog.replace('pid=3207', 'pid=41'));
    const same = tsx('scripts/test-guests.ts', [join(work, 'xv6dir'), '--usertests', '--usertests-reference', otherPid, '--modes', 'bare,emulate']);
    expect(same.code, same.stderr).toBe(0);
    expect(tableRows(same.stdout)).toEqual([['xv6 (usertests)', 'bare', 'pass'], ['xv6 (usertests)', 'emulate', 'pass']]);
    const otherStval = saved('stval.log', qemuLog.replace('stval=0x00005320', 'stval=0x00005324'));
    const differs = tsx('scripts/test-guests.ts', [join(work, 'xv6dir'), '--usertests', '--usertests-reference', otherStval, '--modes', 'trap']);
    expect(differs.code, differs.stderr).toBe(1);
    expect(tableRows(differs.stdout)).toEqual([['xv6 (usertests)', 'trap', 'FAIL']]);
    expect(differs.stderr).toContain('xv6 (usertests) [trap]: FAIL in ');
    expect(differs.stderr).toContain(
      'first difference from QEMU: test sbrkbugs, line 2: QEMU printed "            sepc=0x00005320 stval=0x00005324", vmlab "            sepc=0x00005320 stval=0x00005320"');

    const unfinished = saved('cut.log', qemuLog.replace('ALL TESTS PASSED', ''));
    const bad = tsx('scripts/test-guests.ts', [join(work, 'xv6dir'), '--usertests', '--usertests-reference', unfinished]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([`error: --usertests-reference ${unfinished} holds no complete run of usertests (from "usertests starting" to "ALL TESTS PASSED" or "SOME TESTS FAILED")`]);
  }, 600_000);

  it("usertests' comparison: a run cut short stops in its test, a missing test and another end line are named", () => {
    const qemu = usertestsResults('$ usertests\nusertests starting\ntest a: OK\ntest b: usertrap(): pid=7\nOK\nALL TESTS PASSED\n$ ')!;
    expect(qemu.tests).toEqual([{ name: 'a', lines: ['OK'] }, { name: 'b', lines: ['usertrap(): pid=N', 'OK'] }]);
    const run = (text: string) => usertestsResults(`usertests starting\n${text}`)!;
    expect(firstDifference(qemu, run('test a: OK\ntest b: usertrap(): pid=9\nOK\nALL TESTS PASSED\n'))).toBeUndefined();
    expect(firstDifference(qemu, run('test a: OK\ntest b: '))).toBe('vmlab stopped in test b: QEMU went on with "usertrap(): pid=N"');
    expect(firstDifference(qemu, run('test a: OK\n'))).toBe('vmlab stopped where QEMU ran test b');
    expect(firstDifference(qemu, run('test a: OK\ntest c: OK\n'))).toBe('QEMU ran test b, vmlab test c');
    expect(firstDifference(qemu, run('test a: OK\ntest b: usertrap(): pid=9\nOK\nSOME TESTS FAILED\n'))).toBe(
      'after test b: QEMU printed "ALL TESTS PASSED", vmlab "SOME TESTS FAILED"');
    expect(usertestsResults('$ ls\n')).toBeUndefined();
  });

  it('test:guests and bench/guests.ts say plainly that pv does not run unmodified guests', () => {
    const why = `pv is not run: it boots only kernels written for the VMM's hypercalls, and every guest here is unmodified (modes: ${MODES.join(', ')})`;
    const r = tsx('scripts/test-guests.ts', [join(work, 'dir'), '--modes', 'bare,pv']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`error: option '--modes <list>' argument 'bare,pv' is invalid. ${why}`]);
    const b = tsx('bench/guests.ts', [join(work, 'dir'), '--modes', 'pv']);
    expect(b.code).toBe(2);
    expect(b.stderr.trim().split('\n')).toEqual([`error: ${why}`]);
  });

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
