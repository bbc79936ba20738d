// `vmlab grade LABDIR` as a course's CI runs it: every lab's reference sources pass their checks;
// a copy edited so that the output or the disk's contents go wrong fails the right check with
// evidence that names what differs; bad input (no lab, a malformed checks file) is one line and
// exit code 2.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const LABS = join(REPO_ROOT, 'labs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-cli-grade-'));
const LAB_NAMES = readdirSync(LABS, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

interface Report {
  lab: string;
  checks: { name: string; pass: boolean; evidence: string }[];
}

function vmlab(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VMLAB, ...args], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `grade --json` and parses the report, checking its shape exactly. */
function gradeJson(labDir: string): { code: number | null; report: Report; stderr: string } {
  const r = vmlab(['grade', labDir, '--json']);
  const report = JSON.parse(r.stdout) as Report;
  expect(Object.keys(report)).toEqual(['lab', 'checks']);
  expect(typeof report.lab).toBe('string');
  expect(report.checks.length).toBeGreaterThan(0);
  for (const c of report.checks) {
    expect(Object.keys(c)).toEqual(['name', 'pass', 'evidence']);
    expect(typeof c.name).toBe('string');
    expect(typeof c.pass).toBe('boolean');
    expect(typeof c.evidence).toBe('string');
    expect(c.evidence.length).toBeGreaterThan(0);
  }
  return { code: r.code, report, stderr: r.stderr };
}

/** A copy of a lab in a temporary folder, with `file` edited by `edit` (which must change it). */
function brokenCopy(lab: string, file: string, edit: (text: string) => string): string {
  const copy = mkdtempSync(join(dir, `${lab}-`));
  cpSync(join(LABS, lab), copy, { recursive: true });
  const before = readFileSync(join(copy, file), 'latin1');
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(join(copy, file), after, 'latin1');
  return copy;
}

describe('grade: the reference sources', () => {
  it('every lab directory has a checks.json', () => {
    expect(LAB_NAMES.filter((l) => !existsSync(join(LABS, l, 'checks.json')))).toEqual([]);
  });

  it.each(LAB_NAMES)('%s passes every check, exit code 0', (lab) => {
    // LABDIR relative to the working folder, as a CI job gives it.
    const { code, report, stderr } = gradeJson(relative(dir, join(LABS, lab)));
    expect(report.lab).toBe(lab);
    expect(report.checks.filter((c) => !c.pass)).toEqual([]);
    expect(new Set(report.checks.map((c) => c.name)).size).toBe(report.checks.length);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 300_000);
});

describe('grade: broken copies', () => {
  it('a traps.S that no longer prints "[S] kernel started" fails traps.S\'s checks at line 5, not traps-pv.S\'s', () => {
    const copy = brokenCopy('traps', 'traps.S', (s) => s.replace(/(la\s+a0, msg_s_start\n)\s+call\s+puts\n/, '$1'));
    const { code, report } = gradeJson(copy);
    expect(code).toBe(1);
    const failed = report.checks.filter((c) => !c.pass);
    expect(failed.map((c) => c.name)).toEqual(['bare', 'emulate', 'trap', 'bt', 'hw'].map((m) => `traps.S prints expected-output.txt [${m}]`));
    for (const c of failed) expect(c.evidence).toBe('output differs from expected-output.txt: line 5: expected "[S] kernel started", got "[S] sret to the user program"');
    expect(report.checks.find((c) => c.name.startsWith('traps-pv.S'))?.pass).toBe(true);
    // The text report says the same, one line per check.
    const text = vmlab(['grade', copy]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^lab traps: 1 of 6 checks pass\n/);
    expect(text.stdout).toContain('FAIL  traps.S prints expected-output.txt [trap]: output differs from expected-output.txt: line 5: expected "[S] kernel started", got "[S] sret to the user program"\n');
    expect(text.stdout).toMatch(/^PASS  traps-pv\.S prints expected-output\.txt without the \[M\] lines: output is expected-output\.txt less .* \(11 lines\); ended with exit code 0$/m);
  }, 300_000);

  it('a disk.S that no longer writes the count back passes the first boot and fails the third', () => {
    const copy = brokenCopy('disk', 'disk.S', (s) => s.replace(/\n\s+sw\s+s3, 4\(t0\)\n/, '\n'));
    const { code, report } = gradeJson(copy);
    expect(code).toBe(1);
    for (const c of report.checks) {
      if (c.name.startsWith('disk.S counts boot 3')) expect(c).toMatchObject({ pass: false, evidence: 'the output lacks "\\nboot 3\\n" (it printed 2 lines, the last "boot 1")' });
      // The first boot prints 1 anyway, and after disk-pv.S counted two boots disk.S still reads 3.
      else expect(c).toMatchObject({ pass: true });
    }
    expect(report.checks.filter((c) => !c.pass).map((c) => c.name)).toEqual(['bare', 'trap'].map((m) => `disk.S counts boot 3 after two boots on the same disk [${m}]`));
  }, 300_000);

  it('a mono.S whose panic exits with 1 instead of 3 fails the panic check with the exit code seen', () => {
    const copy = brokenCopy('structure', 'mono.S', (s) => s.replace(/(la\s+a0, msg_panic\n(?:.*\n){2})(\s+li\s+a0, )3\n/, '$1$21\n'));
    const { code, report } = gradeJson(copy);
    expect(code).toBe(1);
    expect(report.checks.filter((c) => !c.pass)).toEqual(['bare', 'trap'].map((m) => ({
      name: `mono.S with scribble=6 panics: expected-scribble-panic.txt, exit code 3 [${m}]`, pass: false, evidence: 'exit code 1, expected 3',
    })));
  }, 300_000);

  it('instruction bounds hold or fail with the count seen (the count from a run of its own, as vmlab compare reports it)', () => {
    const compared = JSON.parse(vmlab(['compare', join(LABS, 'traps', 'traps.S'), '--modes', 'bare', '--json']).stdout) as { instructions: number }[];
    const n = compared[0].instructions;
    expect(n).toBeGreaterThan(100);
    const withBounds = (bounds: object): string => brokenCopy('traps', 'checks.json', () => JSON.stringify({
      lab: 'traps', checks: [{ name: 'few instructions', source: 'traps.S', expect: { exitCode: 0, instructions: bounds } }],
    }));
    const exact = gradeJson(withBounds({ atLeast: n, atMost: n }));
    expect(exact.report.checks).toEqual([{ name: 'few instructions', pass: true, evidence: `ended with exit code 0; ${n.toLocaleString('en-US')} instructions` }]);
    expect(exact.code).toBe(0);
    const tight = gradeJson(withBounds({ atMost: n - 1 }));
    expect(tight.report.checks).toEqual([{ name: 'few instructions', pass: false, evidence: `${n.toLocaleString('en-US')} instructions, expected at most ${(n - 1).toLocaleString('en-US')}` }]);
    expect(tight.code).toBe(1);
  }, 300_000);

  it('a source that does not assemble fails its checks with the assembler\'s first error', () => {
    const copy = brokenCopy('hello', 'hello.S', (s) => s.replace(/\n\s+wfi\s/, '\n        wfi x1 '));
    const line = readFileSync(join(copy, 'hello.S'), 'latin1').split('\n').findIndex((l) => l.includes('wfi x1')) + 1;
    const { code, report } = gradeJson(copy);
    expect(code).toBe(1);
    for (const c of report.checks) {
      expect(c.pass).toBe(false);
      expect(c.evidence).toMatch(new RegExp(`^hello\\.S does not assemble: hello\\.S:${line}:\\d+: error: `));
    }
  }, 300_000);

  it('a deleted source fails its checks, naming the file', () => {
    const copy = brokenCopy('paging', 'paging-pv.S', () => '');
    rmSync(join(copy, 'paging-pv.S'));
    const { code, report } = gradeJson(copy);
    expect(code).toBe(1);
    expect(report.checks.filter((c) => !c.pass)).toEqual([{ name: 'paging-pv.S prints expected-output-pv.txt', pass: false, evidence: "cannot read 'paging-pv.S': no such file" }]);
  }, 300_000);
});

describe('grade: bad input is one line and exit code 2', () => {
  const badChecks = (text: string): string => {
    const copy = mkdtempSync(join(dir, 'bad-'));
    cpSync(join(LABS, 'hello'), copy, { recursive: true });
    writeFileSync(join(copy, 'checks.json'), text);
    return copy;
  };
  const cases: [string, () => string, RegExp][] = [
    ['no such directory', () => 'labs/nothing-here', /^vmlab: labs\/nothing-here: no such lab directory\n$/],
    ['a file, not a directory', () => join(LABS, 'hello', 'hello.S'), /^vmlab: .*hello\.S: not a directory \(give a lab directory such as labs\/traps\)\n$/],
    ['a directory without checks.json', () => mkdtempSync(join(dir, 'empty-')), /^vmlab: .*empty-\w+: no checks\.json in it, so there is nothing to grade \(is it a lab directory\?\)\n$/],
    ['checks.json that is not JSON', () => badChecks('{ "lab": "hello", '), /^vmlab: .*checks\.json: not valid JSON \(.+\)\n$/],
    ['a check with an unknown field', () => badChecks('{ "lab": "hello", "checks": [{ "name": "x", "source": "hello.S", "expect": { "end": "idle" }, "speed": 1 }] }'), /^vmlab: .*checks\.json: "checks\[0\]": unknown field "speed"\n$/],
    ['a check without a source', () => badChecks('{ "lab": "hello", "checks": [{ "name": "x", "expect": { "end": "idle" } }] }'), /^vmlab: .*checks\.json: the field "checks\[0\]\.source" is missing \(expected string\)\n$/],
    ['a mode that does not exist', () => badChecks('{ "lab": "hello", "checks": [{ "name": "x", "source": "hello.S", "modes": ["fast"], "expect": { "end": "idle" } }] }'), /^vmlab: .*checks\.json: "checks\[0\]\.modes\[0\]": expected one of "bare", .*got "fast"\n$/],
    ['a source outside the lab directory', () => badChecks('{ "lab": "hello", "checks": [{ "name": "x", "source": "../traps/traps.S", "expect": { "end": "idle" } }] }'), /^vmlab: .*checks\.json: "checks\[0\]\.source": .*a file name in the lab directory.*\n$/],
    ['an expected output file that is missing', () => badChecks('{ "lab": "hello", "checks": [{ "name": "x", "source": "hello.S", "expect": { "output": "expected-output.txt" } }] }'), /^vmlab: .*expected-output\.txt: no such file\n$/],
  ];
  it.each(cases)('%s', (_what, labDir, message) => {
    const r = vmlab(['grade', labDir()]);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
  }, 60_000);

  it('no LABDIR at all', () => {
    const r = vmlab(['grade']);
    expect(r.stderr).toBe("error: missing required argument 'labdir'\n");
    expect(r.code).toBe(2);
  });
});
