// `npm run test:guests -- DIR`: boots the real guests a user keeps in DIR (layout in docs/guests.md) on
// vmlab bare and in every VMM mode, and on qemu-system-riscv32 7.2 as the reference; drives a fixed
// command script on each console (expect-style on the UART output) and prints a table of result and
// seconds per guest and mode. Exit code 0 when every vmlab run passed, 1 otherwise, 2 for bad usage.
// Nothing here fetches or builds a guest: DIR holds what the user built.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { Machine, StopReason } from '../src/engine/machine/machine';
import { Vmm } from '../src/engine/vmm/vmm';
import type { VmMode } from '../src/engine/vmm/vm';
import { CONTINUITY_STEPS, checkContinuity } from './guests-continue';
import { ALL_MODES, PV_NOTE, consoleGuests, firstDifference, runOnce, usertestsResults, type ConsoleGuest, type Mode, type TestResults } from './guests-lib';

/** One row of the report. */
interface Row {
  guest: string;
  mode: Mode | 'qemu';
  result: string;
  ok: boolean;
  seconds: number;
  detail?: string;
}

/** Where the reference results of a guest with test results come from. */
interface Reference {
  /** Run QEMU in this invocation. */
  qemu: boolean;
  /** The results in a transcript of QEMU's run saved earlier (--usertests-reference), used instead of a QEMU run. */
  saved?: TestResults;
  /** Folder to write each run's console output to (--logs). */
  logs?: string;
}

async function runConsoleGuest(g: ConsoleGuest, modes: readonly Mode[], ref: Reference): Promise<Row[]> {
  const rows: Row[] = [];
  const targets: (Mode | 'qemu')[] = [...(ref.qemu ? ['qemu' as const] : []), ...modes];
  let reference = ref.saved;
  let noReference = 'not compared with QEMU (--no-qemu)';
  for (const target of targets) {
    const r = await runOnce(g, target);
    if (ref.logs) writeFileSync(join(ref.logs, `${g.name.replace(/\W+/g, '-').replace(/-$/, '')}-${target}.log`), r.output, 'latin1');
    const row: Row = { guest: g.name, mode: target, ok: r.ok, result: r.ok ? 'pass' : 'FAIL', seconds: r.seconds, detail: r.detail || undefined };
    const results = g.results?.(r.output);
    if (g.results && target === 'qemu' && !reference) {
      if (results?.end) reference = results;
      else noReference = "QEMU's run did not finish them";
    } else if (g.results) {
      // The guest's own verdict and, test by test, the same lines as QEMU's run of the same image.
      const diff = reference ? firstDifference(reference, results ?? { tests: [] }) : undefined;
      const verdict = results?.end !== undefined && results.end !== 'ALL TESTS PASSED' ? results.end : undefined;
      if (diff || verdict) {
        row.ok = false;
        row.result = 'FAIL';
      }
      row.detail = [diff ? `first difference from QEMU: ${diff}` : reference ? '' : noReference, verdict ?? '', r.ok ? '' : r.detail].filter(Boolean).join('; ') || undefined;
    }
    rows.push(row);
    report(row);
  }
  return rows;
}

// ---- riscv-tests: in-process, HTIF exit code ----

/** The riscv-tests binaries in DIR/riscv-tests (rv32xx-p-name or rv32xx-v-name, optionally .elf). */
function riscvTests(dir: string): string[] {
  const d = join(dir, 'riscv-tests');
  if (!existsSync(d)) return [];
  return readdirSync(d).filter((f) => /^rv32[a-z]+-[pv]-[\w-]+?(\.elf)?$/.test(f) && statSync(join(d, f)).isFile()).sort().map((f) => join(d, f));
}

const TEST_STEPS = 50_000_000;

/** Runs one test on vmlab; its HTIF exit code, or a word for what went wrong. */
function runTest(kernel: Uint8Array, mode: Mode): number | string {
  if (mode === 'bare') {
    const m = new Machine({ ramSize: 64 << 20 });
    m.loadKernel(kernel);
    const reason = m.run(TEST_STEPS);
    return reason === StopReason.EXIT ? (m.exitCode ?? -1) : `stopped (reason ${reason})`;
  }
  const vmm = new Vmm({ hostRamSize: 64 << 20 });
  const vm = vmm.createVm({ name: 't', mode: mode as VmMode, kernel, memSize: 32 << 20 });
  for (let i = 0; i < TEST_STEPS / 1_000_000 && vmm.active; i++) vmm.run(1_000_000);
  if (vm.state === 'halted') return vm.exitCode ?? -1;
  return vm.state === 'crashed' ? `crashed: ${vm.crashReason}` : vm.state;
}

/** Runs one test on QEMU's spike machine (it has HTIF; virt does not); its exit code. */
function qemuTest(path: string): Promise<number | string> {
  return new Promise((done) => {
    const child = spawn('qemu-system-riscv32', ['-machine', 'spike', '-bios', 'none', '-nographic', '-monitor', 'none', '-kernel', path], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', (e) => done(e.message));
    child.on('close', (code) => {
      clearTimeout(timer);
      done(code ?? 'timeout');
    });
  });
}

async function runRiscvTests(paths: readonly string[], modes: readonly Mode[], qemu: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  const groups = new Map<string, string[]>();
  for (const p of paths) {
    const name = p.split('/').pop()!.replace(/\.elf$/, '');
    const group = name.replace(/^(rv32[a-z]+-[pv])-.*$/, '$1');
    groups.set(group, [...(groups.get(group) ?? []), p]);
  }
  for (const [group, files] of groups) {
    const targets: (Mode | 'qemu')[] = [...(qemu ? ['qemu' as const] : []), ...modes];
    for (const target of targets) {
      const start = performance.now();
      const failures: string[] = [];
      for (const f of files) {
        const name = f.split('/').pop()!.replace(/\.elf$/, '');
        const r = target === 'qemu' ? await qemuTest(f) : runTest(new Uint8Array(readFileSync(f)), target);
        if (r !== 0) failures.push(`${name}: ${typeof r === 'number' ? `exit ${r}` : r}`);
      }
      const row: Row = {
        guest: `riscv-tests ${group} (${files.length})`, mode: target, ok: failures.length === 0,
        result: failures.length === 0 ? 'pass' : `FAIL ${failures.length}`, seconds: (performance.now() - start) / 1000,
        detail: failures.length ? failures.join('; ') : undefined,
      };
      rows.push(row);
      report(row);
    }
  }
  return rows;
}

// ---- report ----

function report(r: Row): void {
  process.stderr.write(`  ${r.guest} [${r.mode}]: ${r.result} in ${r.seconds.toFixed(1)} s${r.detail ? ` — ${r.detail}` : ''}\n`);
}

function table(rows: readonly Row[]): string {
  const guests = [...new Set(rows.map((r) => r.guest))];
  const lines = ['| guest | mode | result | seconds | QEMU seconds |', '|---|---|---|---:|---:|'];
  for (const g of guests) {
    const q = rows.find((r) => r.guest === g && r.mode === 'qemu');
    for (const r of rows.filter((x) => x.guest === g && x.mode !== 'qemu')) {
      lines.push(`| ${g} | ${r.mode} | ${r.result} | ${r.seconds.toFixed(1)} | ${q ? `${q.seconds.toFixed(1)}${q.ok ? '' : ' (QEMU failed)'}` : '-'} |`);
    }
  }
  return lines.join('\n');
}

function modesOption(text: string): Mode[] {
  const modes = text.split(',').map((m) => m.trim());
  for (const m of modes) {
    if (m === 'pv') throw new InvalidArgumentError(`${PV_NOTE} (modes: ${ALL_MODES.join(', ')})`);
    if (!ALL_MODES.includes(m as Mode)) throw new InvalidArgumentError(`unknown mode '${m}' (modes: ${ALL_MODES.join(', ')})`);
  }
  return modes as Mode[];
}

async function main(): Promise<number> {
  const program = new Command('test:guests')
    .description('boot the guests kept in DIR (docs/guests.md) on vmlab in every mode and on QEMU; print a table')
    .argument('<dir>', 'folder with xv6/, riscv-tests/, linux/, linux-nommu/')
    .option('--modes <list>', `vmlab modes to run (default ${ALL_MODES.join(',')})`, modesOption)
    .option('--only <guests>', 'comma-separated: xv6, riscv-tests, linux, linux-nommu')
    .option('--no-qemu', 'skip the QEMU reference runs')
    .option('--usertests', "also run xv6's usertests (long) and compare each test's lines with QEMU's run")
    .option('--usertests-reference <file>', "compare usertests with this saved transcript of QEMU's run instead of running QEMU")
    .option('--logs <dir>', "write each run's console output to DIR/GUEST-MODE.log")
    .option('--continuity', 'also cut each console guest\'s boot with --save-snapshot and continue it, and move it to a vmlab host while it runs; both must print and retire what the uncut boot does')
    .exitOverride();
  try {
    program.parse(process.argv);
  } catch (err) {
    return (err as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const dir = resolve(program.args[0]);
  const opts = program.opts<{ modes?: Mode[]; only?: string; qemu: boolean; usertests?: boolean; usertestsReference?: string; logs?: string; continuity?: boolean }>();
  for (const [what, path] of [['', dir], ['--logs ', opts.logs]] as const) {
    if (path !== undefined && (!existsSync(path) || !statSync(path).isDirectory())) {
      process.stderr.write(`error: ${what}${resolve(path)} is not a folder\n`);
      return 2;
    }
  }
  const ref: Reference = { qemu: opts.qemu && opts.usertestsReference === undefined, logs: opts.logs };
  if (opts.usertestsReference !== undefined) {
    if (!opts.usertests) return usageLine('--usertests-reference needs --usertests');
    if (!existsSync(opts.usertestsReference) || !statSync(opts.usertestsReference).isFile()) return usageLine(`--usertests-reference ${resolve(opts.usertestsReference)} is not a file`);
    ref.saved = usertestsResults(readFileSync(opts.usertestsReference, 'latin1'));
    if (!ref.saved?.end) return usageLine(`--usertests-reference ${resolve(opts.usertestsReference)} holds no complete run of usertests (from "usertests starting" to "ALL TESTS PASSED" or "SOME TESTS FAILED")`);
  }
  const modes = opts.modes ?? [...ALL_MODES];
  const only = opts.only?.split(',').map((s) => s.trim());
  const want = (g: string): boolean => !only || only.includes(g);
  const rows: Row[] = [];
  const tests = want('riscv-tests') ? riscvTests(dir) : [];
  const guests = consoleGuests(dir, want, opts.usertests === true);
  if (tests.length === 0 && guests.length === 0) return usageLine(`${dir} holds none of the guests described in docs/guests.md`);
  process.stderr.write(`${PV_NOTE}\n`);
  if (tests.length) rows.push(...(await runRiscvTests(tests, modes, opts.qemu)));
  for (const g of guests) rows.push(...(await runConsoleGuest(g, modes, g.results ? ref : { ...ref, qemu: opts.qemu })));
  if (opts.continuity) for (const g of guests) rows.push(...(await runContinuity(g, modes)));
  process.stdout.write(`${table(rows)}\n`);
  return rows.every((r) => r.ok || r.mode === 'qemu') ? 0 : 1;
}

/** The --continuity rows of one guest: its boot cut and continued, and moved, in every mode. */
async function runContinuity(g: ConsoleGuest, modes: readonly Mode[]): Promise<Row[]> {
  const budget = CONTINUITY_STEPS[g.name.split(' ')[0]];
  const rows: Row[] = [];
  for (const mode of modes) {
    const r = await checkContinuity(g, mode, budget);
    const row: Row = { guest: `${g.name.split(' ')[0]} cut and moved`, mode, ok: r.problem === undefined, result: r.problem === undefined ? 'pass' : 'FAIL', seconds: r.seconds, detail: r.problem };
    rows.push(row);
    report(row);
  }
  return rows;
}

function usageLine(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return 2;
}

process.exitCode = await main();
