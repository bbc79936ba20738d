// `vmlab grade LABDIR`: runs the checks a lab declares in its checks.json against the sources in
// LABDIR (a student's edited copy of the lab) headless, and reports each check's outcome with a
// short piece of evidence; as text, or as JSON for a course's CI or batch system.

import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { RawDisk } from '../../engine/disk/raw';
import { MemoryByteStore } from '../../engine/disk/types';
import { SBI_KERNEL_ADDRESS } from '../../engine/machine/boot';
import { compareModes, COMPARE_MODES_PV, type CompareMode, type CompareRow } from '../../engine/vmm/compare';
import { LabError } from '../../host/errors';
import { HOST_FILES, readResolved } from '../../host/paths';
import { assembleFile, formatDiagnostic } from '../kernel-input';
import { parseCpu, parseSize, ramSizeProblem } from '../options';
import { parseJsonFile } from './vms';
import { groupDigits } from '../digits';

/** Exit code of `grade` when a check fails (bad input stays 2, as everywhere in vmlab). */
export const EXIT_CHECK_FAILED = 1;

/** The checks file every gradable lab directory holds. */
export const CHECKS_FILE = 'checks.json';

const MAX_CHECKS_FILE_SIZE = 1024 * 1024;
/** Default step budget of a graded run. */
export const DEFAULT_GRADE_STEPS = 50_000_000;

/** A file name inside the lab directory (no folders, so a checks file cannot reach outside it). */
const labFile = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a file name in the lab directory (letters, digits, _ . -)').refine((s) => s !== '.' && s !== '..', 'a file name, not . or ..');

/** A string the given parser accepts (its own error is replaced by `what`). */
const accepted = (parse: (s: string) => unknown, what: string) =>
  z.string().refine((s) => {
    try {
      parse(s);
      return true;
    } catch {
      return false;
    }
  }, what);

const size = accepted(parseSize, 'a size like "16M" or "64K"');
const cpu = accepted(parseCpu, 'a CPU model as --cpu takes it, e.g. "rv32,xsensitive=on"');
const regex = accepted((s) => new RegExp(s, 'm'), 'a valid regular expression');

const EXPECT_SCHEMA = z.object({
  /** The whole console output must equal this file of the lab directory. */
  output: labFile.optional(),
  /** With `output`: lines of the file matching this regular expression are not expected (pv kernels skip some). */
  dropLines: regex.optional(),
  /** Text the console output must contain. */
  contains: z.array(z.string().min(1)).optional(),
  /** Regular expressions (multiline) the console output must match. */
  matches: z.array(regex).optional(),
  /** Text the console output must not contain. */
  lacks: z.array(z.string().min(1)).optional(),
  /** How the run must end: the guest exits, the VMM declares it crashed, the budget ends it, or it idles. */
  end: z.enum(['exit', 'crashed', 'budget', 'idle']).optional(),
  /** The guest's exit code (implies end "exit"). */
  exitCode: z.number().int().min(0).optional(),
  /** Bounds on the instructions the guest retired. */
  instructions: z.object({ atLeast: z.number().int().min(0).optional(), atMost: z.number().int().min(0).optional() }).strict().optional(),
}).strict();

const MODE = z.enum(COMPARE_MODES_PV as [CompareMode, ...CompareMode[]]);

/** A boot on the check's disk before the graded run: another source, command line or mode (default the check's). */
const BOOT_SCHEMA = z.object({ source: labFile.optional(), append: z.string().optional(), mode: MODE.optional() }).strict();

const CHECK_SCHEMA = z.object({
  name: z.string().min(1),
  /** The assembly source to assemble and boot. */
  source: labFile,
  /** Where to run it: bare and/or VMM modes; each mode is a check of its own in the report. */
  modes: z.array(MODE).min(1).default(['bare']),
  mem: size.optional(),
  cpu: cpu.optional(),
  /** The kernel command line (/chosen/bootargs). */
  append: z.string().optional(),
  /** Bytes typed into the console before the guest starts. */
  input: z.string().optional(),
  maxInsns: z.number().int().positive().optional(),
  /** A blank raw disk of this size; `bootsBefore` boot on it first (same mode), then the graded run. */
  disk: z.object({ size, bootsBefore: z.array(BOOT_SCHEMA).default([]) }).strict().optional(),
  expect: EXPECT_SCHEMA.refine((e) => Object.keys(e).length > 0, 'at least one expectation'),
}).strict();

export const CHECKS_SCHEMA = z.object({
  lab: z.string().min(1),
  checks: z.array(CHECK_SCHEMA).min(1),
}).strict();

export type ChecksFile = z.infer<typeof CHECKS_SCHEMA>;
type Check = z.infer<typeof CHECK_SCHEMA>;

/** One line of the report. */
export interface CheckResult {
  name: string;
  pass: boolean;
  evidence: string;
}

/** The report `grade --json` prints. */
export interface GradeReport {
  lab: string;
  checks: CheckResult[];
}

/** Registers `vmlab grade`. */
export function registerGrade(program: Command): void {
  program
    .command('grade')
    .description(`run the checks a lab declares in its ${CHECKS_FILE} against the sources in LABDIR; exit 0 when all pass, 1 when one fails, 2 for bad input`)
    .argument('<labdir>', `a lab directory (labs/traps, or a student's edited copy of it) holding ${CHECKS_FILE}`)
    .option('--json', 'print the report as JSON: {"lab", "checks": [{"name", "pass", "evidence"}]}')
    .action((labDir: string, opts: { json?: boolean }) => {
      const report = gradeLab(labDir);
      if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write(formatReport(report));
      if (report.checks.some((c) => !c.pass)) process.exitCode = EXIT_CHECK_FAILED;
    });
}

/** The report as text: a summary line, then PASS or FAIL, the check's name and its evidence. */
export function formatReport(report: GradeReport): string {
  const passed = report.checks.filter((c) => c.pass).length;
  const lines = [`lab ${report.lab}: ${passed} of ${report.checks.length} checks pass`];
  for (const c of report.checks) lines.push(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.evidence}`);
  return lines.join('\n') + '\n';
}

/** Reads a text file of the lab directory; a one-line error names it. */
function readLabText(path: string, what: string): string {
  try {
    return new TextDecoder('latin1').decode(readResolved(HOST_FILES.hostPath(path), what, MAX_CHECKS_FILE_SIZE));
  } catch (err) {
    if (err instanceof LabError) throw new Error(err.code === 'not-found' ? `${path}: no such file` : err.message);
    throw err;
  }
}

/** Reads and validates LABDIR/checks.json; throws a one-line error naming the file and the problem. */
export function readChecks(labDir: string): ChecksFile {
  let isDir: boolean;
  try {
    isDir = statSync(labDir).isDirectory();
  } catch {
    throw new Error(`${labDir}: no such lab directory`);
  }
  if (!isDir) throw new Error(`${labDir}: not a directory (give a lab directory such as labs/traps)`);
  const path = join(labDir, CHECKS_FILE);
  let present: boolean;
  try {
    present = readdirSync(labDir).includes(CHECKS_FILE);
  } catch {
    throw new Error(`${labDir}: cannot list the directory`);
  }
  if (!present) throw new Error(`${labDir}: no ${CHECKS_FILE} in it, so there is nothing to grade (is it a lab directory?)`);
  const text = readLabText(path, 'a checks file');
  const data = parseJsonFile(path, text, CHECKS_SCHEMA);
  data.checks.forEach((c, i) => {
    if (c.mem !== undefined) {
      const problem = ramSizeProblem(parseSize(c.mem), `checks[${i}].mem`, c.modes.some((m) => m !== 'bare'));
      if (problem !== undefined) throw new Error(`${path}: ${problem}`);
    }
    if (c.expect.dropLines !== undefined && c.expect.output === undefined) throw new Error(`${path}: "checks[${i}].expect.dropLines" needs "output"`);
  });
  return data;
}

/** Runs every check of the lab in LABDIR. Bad input (no lab, a malformed checks file, a missing expected file) throws. */
export function gradeLab(labDir: string): GradeReport {
  const file = readChecks(labDir);
  // The expected outputs are the lab's, not the student's: a missing one is a broken lab, not a failed check.
  const expected = new Map<string, string>();
  for (const c of file.checks) {
    if (c.expect.output !== undefined && !expected.has(c.expect.output)) expected.set(c.expect.output, readLabText(join(labDir, c.expect.output), 'an expected output'));
  }
  const results: CheckResult[] = [];
  for (const check of file.checks) {
    for (const mode of check.modes) {
      const name = check.modes.length > 1 ? `${check.name} [${mode}]` : check.name;
      results.push({ name, ...runCheck(labDir, check, mode, expected) });
    }
  }
  return { lab: file.lab, checks: results };
}

/** A source assembled, or the first problem (no such file, the assembler's first error) as evidence. */
function build(labDir: string, source: string, mode: CompareMode): { elf: Uint8Array } | { problem: string } {
  const path = join(labDir, source);
  try {
    const r = assembleFile(path, { base: mode === 'pv' ? SBI_KERNEL_ADDRESS : undefined });
    const error = r.diagnostics.find((d) => d.severity === 'error');
    if (error !== undefined) return { problem: `${source} does not assemble: ${formatDiagnostic({ ...error, file: basename(error.file) })}` };
    if (!r.elf) return { problem: `${source}: the assembler produced no output` };
    return { elf: r.elf };
  } catch (err) {
    return { problem: (err as Error).message.replace(path, source) };
  }
}

/** One run of `elf` in `mode` with the check's options (compare's engine, one mode, no warm-up). */
function runOnce(elf: Uint8Array, mode: CompareMode, check: Check, append: string | undefined, disk: MemoryByteStore | undefined): CompareRow {
  // Grading needs no wall time: a clock that moves far each reading keeps compare from timing short runs again.
  let t = 0;
  const [row] = compareModes(elf, {
    modes: [mode],
    pvKernel: mode === 'pv' ? elf : undefined,
    memSize: check.mem === undefined ? undefined : parseSize(check.mem),
    cpu: check.cpu === undefined ? undefined : parseCpu(check.cpu),
    boot: append === undefined ? undefined : { bootargs: append },
    input: check.input === undefined ? undefined : new TextEncoder().encode(check.input),
    maxSteps: check.maxInsns ?? DEFAULT_GRADE_STEPS,
    warmUpSteps: 0,
    now: () => (t += 1_000_000),
    disks: disk === undefined ? undefined : () => [{ device: new RawDisk(disk) }],
  });
  return row;
}

function runCheck(labDir: string, check: Check, mode: CompareMode, expected: Map<string, string>): { pass: boolean; evidence: string } {
  // One blank image in memory for the check's boots, each on a device of its own over it.
  const disk = check.disk === undefined ? undefined : new MemoryByteStore(parseSize(check.disk.size));
  const elves = new Map<string, Uint8Array>();
  // A pv kernel is linked where the VMM's SBI boots it, every other one at the start of RAM.
  const elfOf = (source: string, m: CompareMode): Uint8Array | string => {
    const key = `${m === 'pv'}:${source}`;
    const cached = elves.get(key);
    if (cached !== undefined) return cached;
    const b = build(labDir, source, m);
    if ('problem' in b) return b.problem;
    elves.set(key, b.elf);
    return b.elf;
  };
  for (const [i, before] of (check.disk?.bootsBefore ?? []).entries()) {
    const m = before.mode ?? mode;
    const source = before.source ?? check.source;
    const elf = elfOf(source, m);
    if (typeof elf === 'string') return { pass: false, evidence: elf };
    const row = runOnce(elf, m, check, before.append ?? check.append, disk);
    if (row.end !== 'exit') return { pass: false, evidence: `boot ${i + 1} on the disk before the graded one (${source}${m === 'bare' ? '' : ` in ${m}`}) did not exit: it ended ${describeEnd(row)}` };
  }
  const elf = elfOf(check.source, mode);
  if (typeof elf === 'string') return { pass: false, evidence: elf };
  return judge(runOnce(elf, mode, check, check.append, disk), check, expected);
}

function describeEnd(row: CompareRow): string {
  if (row.end === 'exit') return `with exit code ${row.exitCode}`;
  if (row.end === 'crashed') return `crashed (${row.crashReason ?? 'no reason given'})`;
  if (row.end === 'budget') return 'at the step budget (it never exited)';
  return 'idle (waiting in WFI with nothing left to wake it)';
}

/** What a run printed, in a few words: its line count and last line. */
function printed(output: string): string {
  const lines = output.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.length === 0 ? 'it printed nothing' : `it printed ${lines.length} line${lines.length === 1 ? '' : 's'}, the last ${show(lines[lines.length - 1])}`;
}

const show = (s: string): string => JSON.stringify(s.length > 120 ? s.slice(0, 117) + '...' : s);

/** Where `got` first differs from `want`, line by line, in a few words. */
export function firstDifference(want: string, got: string): string {
  const w = want.split('\n');
  const g = got.split('\n');
  for (let i = 0; i < Math.max(w.length, g.length); i++) {
    if (w[i] === g[i]) continue;
    if (i >= g.length || (i === g.length - 1 && g[i] === '' && w[i] !== undefined)) return `the output ends before line ${i + 1}; expected ${show(w[i])}`;
    if (i >= w.length || (i === w.length - 1 && w[i] === '')) return `line ${i + 1} is extra: ${show(g[i])}`;
    return `line ${i + 1}: expected ${show(w[i])}, got ${show(g[i])}`;
  }
  return 'the outputs differ';
}

/** Judges one run against the check's expectations; the evidence is the first that fails, or a summary. */
function judge(row: CompareRow, check: Check, expected: Map<string, string>): { pass: boolean; evidence: string } {
  const e = check.expect;
  const fail = (evidence: string) => ({ pass: false, evidence });
  const ok: string[] = [];
  if (e.output !== undefined) {
    let want = expected.get(e.output)!;
    if (e.dropLines !== undefined) {
      const drop = new RegExp(e.dropLines);
      want = want.split('\n').filter((l) => !drop.test(l)).join('\n');
    }
    if (row.output !== want) return fail(`output differs from ${e.output}${e.dropLines === undefined ? '' : ' (less the lines it drops)'}: ${firstDifference(want, row.output)}`);
    ok.push(`output is ${e.output}${e.dropLines === undefined ? '' : ` less /${e.dropLines}/`} (${want.split('\n').length - (want.endsWith('\n') ? 1 : 0)} lines)`);
  }
  for (const text of e.contains ?? []) if (!row.output.includes(text)) return fail(`the output lacks ${show(text)} (${printed(row.output)})`);
  if ((e.contains ?? []).length > 0) ok.push(`output contains ${e.contains!.map(show).join(', ')}`);
  for (const text of e.lacks ?? []) if (row.output.includes(text)) return fail(`the output contains ${show(text)}, which it must not`);
  for (const re of e.matches ?? []) {
    if (!new RegExp(re, 'm').test(row.output)) return fail(`the output does not match /${re}/ (${printed(row.output)})`);
  }
  if ((e.matches ?? []).length > 0) ok.push(`output matches ${e.matches!.map((r) => `/${r}/`).join(', ')}`);
  const end = e.end ?? (e.exitCode !== undefined ? 'exit' : undefined);
  if (end !== undefined && row.end !== end) return fail(`the run ended ${describeEnd(row)}; expected ${end === 'exit' ? `an exit${e.exitCode === undefined ? '' : ` with code ${e.exitCode}`}` : end === 'crashed' ? 'a crash' : end === 'budget' ? 'it to run until the step budget' : 'it to idle'}`);
  if (e.exitCode !== undefined && row.exitCode !== e.exitCode) return fail(`exit code ${row.exitCode}, expected ${e.exitCode}`);
  if (end !== undefined) ok.push(`ended ${describeEnd(row)}`);
  const n = row.instructions;
  if (e.instructions?.atLeast !== undefined && n < e.instructions.atLeast) return fail(`${count(n)} instructions, expected at least ${count(e.instructions.atLeast)}`);
  if (e.instructions?.atMost !== undefined && n > e.instructions.atMost) return fail(`${count(n)} instructions, expected at most ${count(e.instructions.atMost)}`);
  if (e.instructions !== undefined) ok.push(`${count(n)} instructions`);
  return { pass: true, evidence: ok.join('; ') };
}

const count = groupDigits;
