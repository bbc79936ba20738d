// `vmlab run` as a grading script sees it: exit codes, one-line errors, statistics, traces.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ASM_DIR, C_DIR, REPO_ROOT, buildGuest } from '../support/build';
import { runQemu } from '../support/qemu';
import { declaredInput } from '../support/vmlab';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-cli-'));
let hello = '';
let exit7 = '';
let echo = '';

function vmlab(args: string[], input = ''): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VMLAB, ...args], { input, encoding: 'latin1', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  hello = await buildGuest(join(ASM_DIR, 'hello.S'));
  exit7 = await buildGuest(join(ASM_DIR, 'exit-code.S'));
  echo = await buildGuest(join(ASM_DIR, 'uart-echo.S'));
}, 300_000);

describe('vmlab run', () => {
  it('prints the guest UART and exits 0 like QEMU', async () => {
    const q = await runQemu(hello);
    const r = vmlab(['run', hello]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(q.output.toString('latin1'));
  });

  it('exits with the guest code from the test finisher', () => {
    const r = vmlab(['run', exit7]);
    expect(r.code).toBe(7);
    expect(r.stdout).toContain('exiting with code 7');
  });

  it('feeds stdin to the UART receiver as QEMU does', async () => {
    const input = declaredInput(readFileSync(join(ASM_DIR, 'uart-echo.S'), 'latin1'))!;
    const q = await runQemu(echo, { input });
    const r = vmlab(['run', echo], Buffer.from(input).toString('latin1'));
    expect(r.stdout).toBe(q.output.toString('latin1'));
    expect(r.code).toBe(q.exitCode);
  });

  it('stops at --max-insns with exit code 124 and says so on stderr', () => {
    const r = vmlab(['run', hello, '--max-insns', '50']);
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/^vmlab: stopped by --max-insns 50 after 50 steps/m);
  });

  it('prints statistics as JSON with --stats json', () => {
    const r = vmlab(['run', hello, '--stats', 'json']);
    const stats = JSON.parse(r.stderr.trim().split('\n').pop()!);
    expect(stats.stopReason).toBe('exit');
    expect(stats.exitCode).toBe(0);
    expect(stats.instret).toBeGreaterThan(100);
    expect(stats.steps).toBeGreaterThanOrEqual(stats.instret);
  });

  it('writes a commit log with --trace that starts in the boot ROM', () => {
    const trace = join(dir, 'trace.log');
    const r = vmlab(['run', hello, '--trace', trace]);
    expect(r.code).toBe(0);
    const lines = readFileSync(trace, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('core   0: 3 0x00001000 (0x00000297) x5 0x00001000');
    expect(lines[5]).toMatch(/^core {3}0: 3 0x00001014 \(0x00028067\) -> 0x80000000$/);
    expect(lines.length).toBeGreaterThan(100);
  });

  it.each([
    [['run', '/nonexistent/kernel.elf'], /cannot read '\/nonexistent\/kernel.elf': no such file/],
    [['run', '/tmp'], /is a directory/],
    [['run', 'HELLO', '--mem', 'lots'], /expected a size like 128M/],
    [['run', 'HELLO', '--cpu', 'rv32,turbo=on'], /unknown CPU property 'turbo'/],
    [['run', 'HELLO', '--cpu', 'x86'], /the only CPU model is rv32/],
    [['run', 'HELLO', '--max-insns', '-5'], /expected a non-negative whole number/],
    [['run', 'HELLO', '--stats', 'xml'], /--stats takes 'json'/],
    [['run', process.execPath], /(64-bit|ELF64)/],
  ])('rejects bad input %j with one clear line and exit code 2', (args, message) => {
    const r = vmlab(args.map((a) => (a === 'HELLO' ? hello : a)));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rejects a truncated ELF with exit code 2', () => {
    const bytes = readFileSync(hello);
    const cut = join(dir, 'cut.elf');
    writeFileSync(cut, bytes.subarray(0, 100));
    const r = vmlab(['run', cut]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/truncat/i);
  });

  it('runs a raw image at the start of RAM', async () => {
    const raw = join(dir, 'hello.bin');
    spawnSync('riscv64-unknown-elf-objcopy', ['-O', 'binary', hello, raw]);
    const q = await runQemu(raw);
    const r = vmlab(['run', raw]);
    expect(r.stdout).toBe(q.output.toString('latin1'));
    expect(r.code).toBe(q.exitCode);
  });
});

describe('vmlab run --jit-backend', () => {
  it('runs a C program translated to WebAssembly exactly as interpreted', async () => {
    const qsort = await buildGuest(join(C_DIR, 'qsort.c'));
    const stats = (r: { stderr: string }): { instret: number; steps: number; exitCode: number } => JSON.parse(r.stderr.trim().split('\n').pop()!);
    const interp = vmlab(['run', qsort, '--no-jit', '--stats', 'json']);
    const wasm = vmlab(['run', qsort, '--jit-backend', 'wasm', '--stats', 'json']);
    expect(interp.code).toBe(0);
    expect([wasm.code, wasm.stdout]).toEqual([interp.code, interp.stdout]);
    const [a, b] = [stats(interp), stats(wasm)];
    expect([b.instret, b.steps, b.exitCode]).toEqual([a.instret, a.steps, a.exitCode]);
  }, 120_000);

  it('refuses a backend it does not know, and a VM mode', () => {
    const bad = vmlab(['run', hello, '--jit-backend', 'asm']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--jit-backend.*expected js or wasm, got 'asm'/);
    const vm = vmlab(['run', hello, '--mode', 'trap', '--jit-backend', 'wasm']);
    expect(vm.code).not.toBe(0);
    expect(vm.stderr).toMatch(/^vmlab: --jit-backend works with --mode bare only$/m);
  });
});

describe('vmlab run --mode', () => {
  it.each(['emulate', 'trap'])('runs the guest in a VM in %s mode with the bare output and exit code', (mode) => {
    const bare = vmlab(['run', exit7]);
    const r = vmlab(['run', exit7, '--mode', mode, '--stats', 'json']);
    expect(r.code).toBe(bare.code);
    expect(r.stdout).toBe(bare.stdout);
    const stats = JSON.parse(r.stderr.trim().split('\n').pop()!);
    expect(stats.mode).toBe(mode);
    expect(stats.state).toBe('halted');
    expect(stats.modeledCycles).toBeGreaterThan(stats.instret);
    if (mode === 'trap') expect(stats.vmm.exitCount).toBeGreaterThan(0);
  });

  it('rejects an unknown mode', () => {
    const r = vmlab(['run', hello, '--mode', 'turbo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected one of bare, emulate, trap/);
  });
});
