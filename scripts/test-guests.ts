// `npm run test:guests -- DIR`: boots the real guests a user keeps in DIR (layout in docs/guests.md) on
// vmlab bare and in every VMM mode, and on qemu-system-riscv32 7.2 as the reference; drives a fixed
// command script on each console (expect-style on the UART output) and prints a table of result and
// seconds per guest and mode. Exit code 0 when every vmlab run passed, 1 otherwise, 2 for bad usage.
// Nothing here fetches or builds a guest: DIR holds what the user built.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { Machine, StopReason } from '../src/engine/machine/machine';
import { Vmm } from '../src/engine/vmm/vmm';
import type { VmMode } from '../src/engine/vmm/vm';

/** Where vmlab runs a guest: alone on the machine, or in a VM of the VMM. */
type Mode = 'bare' | VmMode;
const ALL_MODES: readonly Mode[] = ['bare', 'emulate', 'trap'];
const REPO = resolve(import.meta.dirname, '..');
const VMLAB = join(REPO, 'bin', 'vmlab.mjs');

/** One row of the report. */
interface Row {
  guest: string;
  mode: Mode | 'qemu';
  result: string;
  ok: boolean;
  seconds: number;
  detail?: string;
}

/** One step of a console script: wait for `expect`, then type `send`. */
interface Step {
  send?: string;
  expect: RegExp;
  /** Seconds this step may take. */
  timeout: number;
}

/** A guest booted as a whole system and driven on its console. */
interface ConsoleGuest {
  name: string;
  /** vmlab run arguments (without --mode); files already copied where the run may write them. */
  vmlab: (work: string) => string[];
  /** qemu-system-riscv32 arguments. */
  qemu: (work: string) => string[];
  steps: Step[];
  /** Files to copy into the run's scratch folder first (disk images the guest writes). */
  scratch: string[];
}

// ---- console guests through the CLI and QEMU, expect-style ----

/** Spawns `cmd`, walks `steps` on its stdout, and reports where it stopped. */
function drive(cmd: string, args: string[], steps: readonly Step[]): Promise<{ ok: boolean; seconds: number; detail: string }> {
  return new Promise((done) => {
    const start = performance.now();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let index = -1;
    let seen = 0;
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (ok: boolean, detail: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      done({ ok, seconds: (performance.now() - start) / 1000, detail });
    };
    const next = (): void => {
      index++;
      if (index === steps.length) return finish(true, '');
      const s = steps[index];
      clearTimeout(timer);
      timer = setTimeout(() => finish(false, `timed out after ${s.timeout} s waiting for ${s.expect} (last output: ${JSON.stringify(out.slice(-160))})`), s.timeout * 1000);
      if (s.send !== undefined) child.stdin.write(s.send);
      check();
    };
    const check = (): void => {
      const s = steps[index];
      if (!s) return;
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
      const lines = err.trim().split('\n');
      const why = lines.find((l) => /error/i.test(l)) ?? lines.pop() ?? '';
      finish(false, `exited with ${code} at step ${index + 1}: ${why.slice(0, 200)}`);
    });
    next();
  });
}

function xv6(dir: string, usertests: boolean): ConsoleGuest | undefined {
  const kernel = join(dir, 'xv6', 'kernel');
  const fs = join(dir, 'xv6', 'fs.img');
  if (!existsSync(kernel) || !existsSync(fs)) return undefined;
  const prompt = /\n\$ $/;
  const steps: Step[] = [
    { expect: prompt, timeout: 600 },
    { send: 'ls\n', expect: /README[\s\S]*usertests[\s\S]*\n\$ $/, timeout: 120 },
    { send: 'echo hello vmlab\n', expect: /\nhello vmlab\n\$ $/, timeout: 60 },
    // A pipeline: sh forks one child per stage, each execs its program.
    { send: 'cat README | grep xv6 | wc\n', expect: /\n\d+ \d+ \d+ ?\n\$ $/, timeout: 120 },
    { send: 'mkdir dir; echo written > dir/f; cat dir/f; rm dir/f\n', expect: /\nwritten\n\$ $/, timeout: 120 },
    ...(usertests ? [{ send: 'usertests\n', expect: /ALL TESTS PASSED\n\$ $/, timeout: 3600 }] : []),
  ];
  return {
    name: usertests ? 'xv6 (usertests)' : 'xv6',
    scratch: [fs],
    vmlab: (w) => [kernel, '--mem', '128M', '--disk', `${join(w, 'fs.img')},format=raw,slot=0`],
    qemu: (w) => ['-machine', 'virt', '-bios', 'none', '-m', '128M', '-smp', '1', '-nographic', '-monitor', 'none', '-serial', 'stdio',
      '-kernel', kernel, '-drive', `file=${join(w, 'fs.img')},if=none,format=raw,id=x0`, '-device', 'virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0'],
    steps,
  };
}

/** A shell script for a Linux console: log in if asked, a few commands that fork and exec, poweroff. */
function linuxSteps(): Step[] {
  const prompt = /[#$] $/;
  return [
    { expect: /login: $|[#$] $/, timeout: 1800 },
    { send: 'root\n', expect: prompt, timeout: 300 },
    { send: 'uname -sm\n', expect: /Linux riscv32[\s\S]*[#$] $/, timeout: 120 },
    { send: 'echo hello vmlab | cat | wc -c\n', expect: /\n\s*12\s*\n[\s\S]*[#$] $/, timeout: 120 },
    { send: 'ls /\n', expect: /bin[\s\S]*[#$] $/, timeout: 120 },
    { send: 'poweroff\n', expect: /reboot: Power down|Power down/, timeout: 300 },
  ];
}

/** DIR/NAME/{fw_jump.bin,Image,rootfs.cpio,cmdline}: firmware, kernel, initramfs and command line as QEMU takes them. */
function linux(dir: string, name: string): ConsoleGuest | undefined {
  const base = join(dir, name);
  const image = join(base, 'Image');
  if (!existsSync(image)) return undefined;
  const bios = ['fw_jump.bin', 'fw_dynamic.bin', 'fw_jump.elf', 'fw_dynamic.elf'].map((f) => join(base, f)).find(existsSync);
  const initrd = ['rootfs.cpio', 'rootfs.cpio.gz', 'initrd'].map((f) => join(base, f)).find(existsSync);
  const cmdlineFile = join(base, 'cmdline');
  const cmdline = existsSync(cmdlineFile) ? readFileSync(cmdlineFile, 'utf8').trim() : undefined;
  const common = (flag: (f: string) => string): string[] => [
    ...(bios ? [flag('bios'), bios] : [flag('bios'), 'none']),
    ...(initrd ? [flag('initrd'), initrd] : []),
    ...(cmdline !== undefined ? [flag('append'), cmdline] : []),
  ];
  return {
    name,
    scratch: [],
    vmlab: () => [image, '--mem', '256M', ...common((f) => `--${f}`)],
    qemu: () => ['-machine', 'virt', '-m', '256M', '-smp', '1', '-nographic', '-monitor', 'none', '-serial', 'stdio', '-kernel', image, ...common((f) => `-${f}`)],
    steps: linuxSteps(),
  };
}

async function runConsoleGuest(g: ConsoleGuest, modes: readonly Mode[], qemu: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  const targets: (Mode | 'qemu')[] = [...(qemu ? ['qemu' as const] : []), ...modes];
  for (const target of targets) {
    const work = mkdtempSync(join(tmpdir(), 'vmlab-guests-'));
    try {
      for (const f of g.scratch) copyFileSync(f, join(work, f.split('/').pop()!));
      const r = target === 'qemu'
        ? await drive('qemu-system-riscv32', g.qemu(work), g.steps)
        : await drive(process.execPath, [VMLAB, 'run', ...g.vmlab(work), '--mode', target], g.steps);
      rows.push({ guest: g.name, mode: target, ok: r.ok, result: r.ok ? 'pass' : 'FAIL', seconds: r.seconds, detail: r.detail || undefined });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    report(rows[rows.length - 1]);
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
  const vm = vmm.createVm({ name: 't', mode, kernel, memSize: 32 << 20 });
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
  for (const m of modes) if (!ALL_MODES.includes(m as Mode)) throw new InvalidArgumentError(`unknown mode '${m}' (modes: ${ALL_MODES.join(', ')})`);
  return modes as Mode[];
}

async function main(): Promise<number> {
  const program = new Command('test:guests')
    .description('boot the guests kept in DIR (docs/guests.md) on vmlab in every mode and on QEMU; print a table')
    .argument('<dir>', 'folder with xv6/, riscv-tests/, linux/, linux-nommu/')
    .option('--modes <list>', `vmlab modes to run (default ${ALL_MODES.join(',')})`, modesOption)
    .option('--only <guests>', 'comma-separated: xv6, riscv-tests, linux, linux-nommu')
    .option('--no-qemu', 'skip the QEMU reference runs')
    .option('--usertests', "also run xv6's usertests (long)")
    .exitOverride();
  try {
    program.parse(process.argv);
  } catch (err) {
    return (err as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const dir = resolve(program.args[0]);
  const opts = program.opts<{ modes?: Mode[]; only?: string; qemu: boolean; usertests?: boolean }>();
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    process.stderr.write(`error: ${dir} is not a folder\n`);
    return 2;
  }
  const modes = opts.modes ?? [...ALL_MODES];
  const only = opts.only?.split(',').map((s) => s.trim());
  const want = (g: string): boolean => !only || only.includes(g);
  const rows: Row[] = [];
  const tests = want('riscv-tests') ? riscvTests(dir) : [];
  if (tests.length) rows.push(...(await runRiscvTests(tests, modes, opts.qemu)));
  const consoleGuests = [
    want('xv6') ? xv6(dir, opts.usertests === true) : undefined,
    want('linux') ? linux(dir, 'linux') : undefined,
    want('linux-nommu') ? linux(dir, 'linux-nommu') : undefined,
  ].filter((g): g is ConsoleGuest => g !== undefined);
  for (const g of consoleGuests) rows.push(...(await runConsoleGuest(g, modes, opts.qemu)));
  if (rows.length === 0) {
    process.stderr.write(`error: ${dir} holds none of the guests described in docs/guests.md\n`);
    return 2;
  }
  process.stdout.write(`${table(rows)}\n`);
  return rows.every((r) => r.ok || r.mode === 'qemu') ? 0 : 1;
}

process.exitCode = await main();
