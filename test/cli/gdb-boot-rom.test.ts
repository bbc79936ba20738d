// gdb in the boot ROM: under `vmlab run --gdb 0 --gdb-wait`, gdb-multiarch's first stop is the reset
// vector, `stepi` moves one guest instruction through the ROM (gdb steps RISC-V in software, by a
// breakpoint at the next pc and a continue), breakpoints in the ROM and at the kernel entry stop
// there, with the registers QEMU's gdbstub shows for the same guest run bare (`-bios none -S`),
// bare and in every VM mode whose guest boots through the ROM (pv boots as under --bios sbi, at
// the kernel entry: its first stop, a step and a breakpoint two instructions on are checked there).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GUEST_DIR, REPO_ROOT, buildGuest } from '../support/build';
import { QEMU_CPU } from '../support/qemu';
import { tool } from '../support/tools';
import { assembleFile } from '../../src/cli/kernel-input';
import { SBI_KERNEL_ADDRESS } from '../../src/engine/machine/boot';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-gdb-rom-'));
let elf = '';
let qemuTranscript: Promise<{ transcript: string; stdout: string }> | undefined;

beforeAll(async () => {
  tool('gdb-multiarch');
  tool('qemu-system-riscv32');
  elf = await buildGuest(join(GUEST_DIR, 'debug', 'gdb-target.S'));
}, 120_000);

interface Started {
  port: number;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function collect(proc: ChildProcess): Started['done'] {
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => { stdout += d.toString('latin1'); });
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString('latin1'); });
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function startVmlab(kernel: string, args: string[]): Promise<Started> {
  const proc = spawn(process.execPath, [VMLAB, 'run', kernel, '--gdb', '0', '--gdb-wait', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = collect(proc);
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    proc.stderr!.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const m = /gdb stub on 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    proc.on('close', () => reject(new Error(`vmlab ended before listening: ${text}`)));
  });
  return { port, done };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(true));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
}

async function startQemu(): Promise<Started> {
  const port = await freePort();
  const proc = spawn(tool('qemu-system-riscv32'), ['-machine', 'virt', '-bios', 'none', '-nographic', '-cpu', QEMU_CPU,
    '-kernel', elf, '-gdb', `tcp:127.0.0.1:${port}`, '-S'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = collect(proc);
  for (let i = 0; i < 200 && !(await portTaken(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return { port, done };
}

/** gdb-multiarch in batch mode with `commands` against 127.0.0.1:port; its transcript. */
function gdb(port: number, commands: string[], symbols = elf): string {
  const script = join(dir, `script-${port}.gdb`);
  writeFileSync(script, ['set architecture riscv:rv32', `file ${symbols}`, 'set confirm off', `target remote 127.0.0.1:${port}`, ...commands].join('\n') + '\n');
  const r = spawnSync(tool('gdb-multiarch'), ['-batch', '-nx', '-x', script], { encoding: 'latin1', timeout: 60_000 });
  return r.stdout + r.stderr;
}

/** Through the ROM one instruction at a time, to a breakpoint in it, to the kernel entry and one step on. */
const SESSION = [
  'info registers pc',
  'stepi',
  'info registers pc',
  'x/i $pc',
  'stepi',
  'info registers pc t0 a2',
  'break *0x1014',
  'continue',
  'info registers',
  'break *0x80000000',
  'continue',
  'info registers',
  'stepi',
  'info registers pc',
  'detach',
];

function qemuSession(): Promise<{ transcript: string; stdout: string }> {
  qemuTranscript ??= (async () => {
    const q = await startQemu();
    const transcript = gdb(q.port, SESSION);
    const run = await q.done;
    return { transcript, stdout: run.stdout.replace(/\r\n/g, '\n') };
  })();
  return qemuTranscript;
}

describe('gdb in the boot ROM', () => {
  for (const mode of ['bare', 'emulate', 'trap', 'bt', 'hw']) {
    it(`stops at the reset vector, steps through the ROM and stops at breakpoints there as QEMU does (${mode})`, async () => {
      const expected = await qemuSession();
      expect(expected.transcript).toMatch(/^pc\s+0x1000\s/m);
      expect(expected.transcript).toMatch(/^pc\s+0x1004\s/m);
      expect(expected.transcript).toMatch(/^pc\s+0x1008\s/m);
      expect(expected.transcript).toContain('Breakpoint 1, 0x00001014');
      expect(expected.transcript).toContain('Breakpoint 2, _start ()');
      expect(expected.transcript).toMatch(/^pc\s+0x80000004\s+0x80000004 <_start\+4>/m);
      const v = await startVmlab(elf, mode === 'bare' ? [] : ['--mode', mode]);
      const got = gdb(v.port, SESSION);
      const run = await v.done;
      expect(got).toBe(expected.transcript);
      expect(run.stdout).toBe(expected.stdout);
      expect(run.code).toBe(0);
    }, 120_000);
  }

  it('stops a pv kernel first at its entry and steps it one instruction (pv boots at the kernel, as under --bios sbi)', async () => {
    const pvElf = join(dir, 'traps-pv.elf');
    const built = assembleFile(join(REPO_ROOT, 'labs', 'traps', 'traps-pv.S'), { base: SBI_KERNEL_ADDRESS });
    writeFileSync(pvElf, built.elf!);
    const entry = SBI_KERNEL_ADDRESS >>> 0;
    const v = await startVmlab(pvElf, ['--mode', 'pv']);
    const out = gdb(v.port, ['info registers pc', 'stepi', 'info registers pc', `break *${entry + 8}`, 'continue', 'info registers pc', 'kill'], pvElf);
    await v.done;
    const pcs = [...out.matchAll(/^pc\s+0x([0-9a-f]+)\s/gm)].map((m) => parseInt(m[1], 16));
    expect(pcs).toEqual([entry, entry + 4, entry + 8]);
  }, 120_000);
});
