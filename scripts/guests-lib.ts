// The real guests a user keeps in a folder (layout in docs/guests.md) as console scripts, and an
// expect-style driver that runs one on vmlab's CLI or on qemu-system-riscv32: shared by
// `npm run test:guests` (scripts/test-guests.ts) and the real-guest benchmark (bench/guests.ts).
// Nothing here fetches or builds a guest: the folder holds what the user built.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { VM_MODES } from '../src/engine/vmm/vm';
import { NODE_V8_FLAGS } from '../src/host/v8-flags';

/** Where vmlab runs a guest: alone on the machine (`bare`) or in a VM of the VMM in one of its modes. */
export type Mode = string;
/** Every mode the engine offers: bare and each VMM mode it lists, so a mode added later is run too. */
export const ALL_MODES: readonly Mode[] = ['bare', ...VM_MODES];
/** Why `pv` is not among the modes: every real guest is an unmodified kernel. */
export const PV_NOTE = "pv is not run: it boots only kernels written for the VMM's hypercalls, and every guest here is unmodified";
export const REPO = resolve(import.meta.dirname, '..');
export const VMLAB = join(REPO, 'bin', 'vmlab.mjs');

/** One step of a console script: wait for `expect` on the output (after typing `send`), or for the run to end with `exit`. */
export interface Step {
  send?: string;
  expect?: RegExp;
  /** The process must end with this exit code (the guest powered the machine off). */
  exit?: number;
  /** Seconds this step may take. */
  timeout: number;
}

/** A guest booted as a whole system and driven on its console. */
export interface ConsoleGuest {
  name: string;
  /** The test results in what the guest printed, compared run by run with QEMU's (xv6's usertests). */
  results?: (output: string) => TestResults | undefined;
  /** vmlab run arguments (without --mode), given the run's scratch folder. */
  vmlab: (work: string) => string[];
  /** qemu-system-riscv32 arguments, given the run's scratch folder. */
  qemu: (work: string) => string[];
  steps: Step[];
  /** Index of the step whose end is "at the shell" (the boot is over). */
  shellStep: number;
  /** Files copied into the run's scratch folder first (disk images the guest writes). */
  scratch: string[];
}

/** How a driven run went: `marks[i]` is the second at which step i was met. */
export interface DriveResult {
  ok: boolean;
  seconds: number;
  marks: number[];
  detail: string;
  /** Everything the guest printed. */
  output: string;
}

/** Spawns `cmd`, walks `steps` on its stdout, and reports where it stopped. */
export function drive(cmd: string, args: string[], steps: readonly Step[]): Promise<DriveResult> {
  return new Promise((done) => {
    const start = performance.now();
    const now = (): number => (performance.now() - start) / 1000;
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let index = -1;
    let seen = 0;
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const marks: number[] = [];
    const finish = (ok: boolean, detail: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      done({ ok, seconds: now(), marks, detail, output: out });
    };
    const next = (): void => {
      if (index >= 0) marks.push(now());
      index++;
      if (index === steps.length) return finish(true, '');
      const s = steps[index];
      clearTimeout(timer);
      const what = s.expect ? `${s.expect}` : `exit code ${s.exit}`;
      timer = setTimeout(() => finish(false, `timed out after ${s.timeout} s waiting for ${what} (last output: ${JSON.stringify(out.slice(-160))})`), s.timeout * 1000);
      if (s.send !== undefined) child.stdin.write(s.send);
      check();
    };
    const check = (): void => {
      const s = steps[index];
      if (!s?.expect) return;
      const m = s.expect.exec(out.slice(seen));
      if (m) {
        seen += m.index + m[0].length;
        next();
      }
    };
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('latin1');
      check();
    });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => finish(false, e.message));
    child.on('close', (code) => {
      const s = steps[index];
      if (s && s.expect === undefined && s.exit !== undefined && code === s.exit) return next();
      const lines = err.trim().split('\n');
      const why = lines.find((l) => /error/i.test(l)) ?? lines.pop() ?? '';
      finish(false, `exited with ${code} at step ${index + 1}: ${why.slice(0, 200)}`);
    });
    next();
  });
}

/** Runs a console guest once on `target` (QEMU or a vmlab mode) in a scratch folder of its own. */
export async function runOnce(g: ConsoleGuest, target: Mode | 'qemu'): Promise<DriveResult> {
  const work = mkdtempSync(join(tmpdir(), 'vmlab-guests-'));
  try {
    for (const f of g.scratch) copyFileSync(f, join(work, f.split('/').pop()!));
    return target === 'qemu'
      ? await drive('qemu-system-riscv32', g.qemu(work), g.steps)
      // node's flags as `vmlab` (bin/vmlab.mjs's shebang) starts it with (src/host/v8-flags.ts).
      : await drive(process.execPath, [...NODE_V8_FLAGS, VMLAB, 'run', ...g.vmlab(work), '--mode', target], g.steps);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The commands typed at xv6's shell after the boot: fork and exec, a pipeline, file system writes. */
const XV6_SCRIPT: Step[] = [
  { send: 'ls\n', expect: /README[\s\S]*usertests[\s\S]*\n\$ $/, timeout: 120 },
  { send: 'echo hello vmlab\n', expect: /\nhello vmlab\n\$ $/, timeout: 60 },
  // A pipeline: sh forks one child per stage, each execs its program.
  { send: 'cat README | grep xv6 | wc\n', expect: /\n\d+ \d+ \d+ ?\n\$ $/, timeout: 120 },
  { send: 'mkdir dir; echo written > dir/f; cat dir/f; rm dir/f\n', expect: /\nwritten\n\$ $/, timeout: 120 },
];

// ---- test results in a console transcript, compared with QEMU's ----

/** A test suite's results as a guest printed them: each test's name and lines, and its end line. */
export interface TestResults {
  tests: { name: string; lines: string[] }[];
  /** The suite's last line (`ALL TESTS PASSED`, `SOME TESTS FAILED`), absent when the output stops before it. */
  end?: string;
}

/** A line with the numbers that differ from run to run of the same image replaced by N: process ids. */
export function normaliseLine(line: string): string {
  return line.replace(/\bpid([= ])\d+/g, 'pid$1N');
}

const USERTESTS_END = /^(ALL TESTS PASSED|SOME TESTS FAILED)$/;

/**
 * xv6's usertests in a console transcript, from its last `usertests starting`: a test begins at a
 * line `test NAME: ` and holds every line until the next (the kernel's messages about the test's
 * processes included), pids normalised; undefined when the transcript never started usertests.
 */
export function usertestsResults(output: string): TestResults | undefined {
  const start = output.lastIndexOf('usertests starting\n');
  if (start < 0) return undefined;
  const results: TestResults = { tests: [] };
  for (const raw of output.slice(start).replace(/\r/g, '').split('\n').slice(1)) {
    const line = normaliseLine(raw);
    const test = /^test ([^:\s]+): ?(.*)$/.exec(line);
    if (USERTESTS_END.test(line)) {
      results.end = line;
      break;
    }
    if (test) results.tests.push({ name: test[1], lines: [test[2]] });
    else if (results.tests.length) results.tests[results.tests.length - 1].lines.push(line);
  }
  // The output after the last newline is a line still being printed: drop a trailing empty one.
  const last = results.tests[results.tests.length - 1];
  if (!results.end && last && last.lines.length > 1 && last.lines[last.lines.length - 1] === '') last.lines.pop();
  return results;
}

/**
 * The first place where `run`'s results differ from the reference's (QEMU's run of the same image),
 * as one sentence naming the test and both lines; undefined when they agree test by test, line by
 * line, to the same end line.
 */
export function firstDifference(reference: TestResults, run: TestResults, who = 'vmlab'): string | undefined {
  const quote = (l: string | undefined): string => (l === undefined ? '(nothing)' : JSON.stringify(l));
  const n = Math.max(reference.tests.length, run.tests.length);
  for (let i = 0; i < n; i++) {
    const r = reference.tests[i];
    const v = run.tests[i];
    if (!v) return `${who} ${run.end ? `ended with ${quote(run.end)}` : 'stopped'} where QEMU ran test ${r.name}`;
    if (!r) return `${who} ran test ${v.name} after QEMU's last test (QEMU: ${quote(reference.end)})`;
    if (r.name !== v.name) return `QEMU ran test ${r.name}, ${who} test ${v.name}`;
    for (let k = 0; k < Math.max(r.lines.length, v.lines.length); k++) {
      if (r.lines[k] === v.lines[k]) continue;
      const where = k === 0 ? `test ${r.name}` : `test ${r.name}, line ${k + 1}`;
      const cut = !run.end && i === run.tests.length - 1 && k >= v.lines.length - 1 && (v.lines[k] === undefined || (r.lines[k] ?? '').startsWith(v.lines[k]));
      if (cut) return `${who} stopped in ${where}: QEMU went on with ${quote(r.lines[k])}`;
      return `${where}: QEMU printed ${quote(r.lines[k])}, ${who} ${quote(v.lines[k])}`;
    }
  }
  if (reference.end !== run.end) return `after test ${reference.tests[n - 1]?.name ?? '(none)'}: QEMU printed ${quote(reference.end)}, ${who} ${quote(run.end)}`;
  return undefined;
}

/** DIR/xv6/{kernel,fs.img}; with `usertests`, xv6's usertests after the script, until its end line. */
export function xv6(dir: string, usertests: boolean): ConsoleGuest | undefined {
  const kernel = join(dir, 'xv6', 'kernel');
  const fs = join(dir, 'xv6', 'fs.img');
  if (!existsSync(kernel) || !existsSync(fs)) return undefined;
  const steps: Step[] = [
    { expect: /\n\$ $/, timeout: 600 },
    ...XV6_SCRIPT,
    ...(usertests ? [{ send: 'usertests\n', expect: /(ALL TESTS PASSED|SOME TESTS FAILED)\n\$ $/, timeout: 7200 }] : []),
  ];
  return {
    name: usertests ? 'xv6 (usertests)' : 'xv6',
    ...(usertests ? { results: usertestsResults } : {}),
    scratch: [fs],
    shellStep: 0,
    vmlab: (w) => [kernel, '--mem', '128M', '--disk', `${join(w, 'fs.img')},format=raw,slot=0`],
    qemu: (w) => ['-machine', 'virt', '-bios', 'none', '-m', '128M', '-smp', '1', '-nographic', '-monitor', 'none', '-serial', 'stdio',
      '-kernel', kernel, '-drive', `file=${join(w, 'fs.img')},if=none,format=raw,id=x0`, '-device', 'virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0'],
    steps,
  };
}

/** A Linux console: log in if asked, a few commands that fork and exec, poweroff ending the run with exit code 0. */
function linuxSteps(): Step[] {
  const prompt = /[#$] $/;
  return [
    { expect: /login: $|[#$] $/, timeout: 1800 },
    { send: 'root\n', expect: prompt, timeout: 300 },
    { send: 'uname -sm\n', expect: /Linux riscv32[\s\S]*[#$] $/, timeout: 120 },
    { send: 'echo hello vmlab | cat | wc -c\n', expect: /\n\s*12\s*\n[\s\S]*[#$] $/, timeout: 120 },
    { send: 'ls /\n', expect: /bin[\s\S]*[#$] $/, timeout: 120 },
    { send: 'poweroff\n', expect: /reboot: Power down|Power down/, timeout: 300 },
    { exit: 0, timeout: 60 },
  ];
}

/**
 * DIR/NAME/{Image,fw_jump.bin,rootfs.cpio,cmdline}: kernel, firmware, initramfs and command line as
 * QEMU takes them; without a firmware the kernel starts in M-mode (`--bios none`, a nommu Linux).
 */
export function linux(dir: string, name: string): ConsoleGuest | undefined {
  const base = join(dir, name);
  const image = join(base, 'Image');
  if (!existsSync(image)) return undefined;
  const bios = ['fw_jump.bin', 'fw_dynamic.bin', 'fw_jump.elf', 'fw_dynamic.elf'].map((f) => join(base, f)).find(existsSync);
  const initrd = ['rootfs.cpio', 'rootfs.cpio.gz', 'initrd'].map((f) => join(base, f)).find(existsSync);
  const cmdlineFile = join(base, 'cmdline');
  const cmdline = existsSync(cmdlineFile) ? readFileSync(cmdlineFile, 'utf8').trim() : undefined;
  const common = (flag: (f: string) => string): string[] => [
    flag('bios'), bios ?? 'none',
    ...(initrd ? [flag('initrd'), initrd] : []),
    ...(cmdline !== undefined ? [flag('append'), cmdline] : []),
  ];
  return {
    name,
    scratch: [],
    shellStep: 0,
    vmlab: () => [image, '--mem', '256M', ...common((f) => `--${f}`)],
    qemu: () => ['-machine', 'virt', '-m', '256M', '-smp', '1', '-nographic', '-monitor', 'none', '-serial', 'stdio', '-kernel', image, ...common((f) => `-${f}`)],
    steps: linuxSteps(),
  };
}

/** The console guests found in DIR, in a fixed order, filtered by `want`. */
export function consoleGuests(dir: string, want: (name: string) => boolean, usertests: boolean): ConsoleGuest[] {
  return [
    want('xv6') ? xv6(dir, usertests) : undefined,
    want('linux') ? linux(dir, 'linux') : undefined,
    want('linux-nommu') ? linux(dir, 'linux-nommu') : undefined,
  ].filter((g): g is ConsoleGuest => g !== undefined);
}
