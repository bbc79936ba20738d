// Driving a gdb stub from the tests: `vmlab run --gdb 0 --gdb-wait` or QEMU's `-gdb ... -S` as the
// target, and gdb-multiarch in batch mode against it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './build';
import { QEMU_CPU } from './qemu';
import { tool } from './tools';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');

/** A process holding a gdb stub, and how it ended. */
export interface GdbTarget {
  proc: ChildProcess;
  port: number;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function collect(proc: ChildProcess): GdbTarget['done'] {
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => { stdout += d.toString('latin1'); });
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString('latin1'); });
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A TCP port nobody listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something listens on 127.0.0.1:port (probed by binding it, so no connection reaches QEMU). */
export async function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(true));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
}

/** Starts `vmlab run KERNEL --gdb 0 --gdb-wait ...args` and reads the port it announces. */
export async function startVmlabGdb(kernel: string, args: string[]): Promise<GdbTarget> {
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
  return { proc, port, done };
}

/** Starts QEMU's virt machine on `kernel` (`-bios none`) held by its gdbstub (`-S`). */
export async function startQemuGdb(kernel: string): Promise<GdbTarget> {
  const port = await freePort();
  const proc = spawn(tool('qemu-system-riscv32'), ['-machine', 'virt', '-bios', 'none', '-nographic', '-cpu', QEMU_CPU,
    '-kernel', kernel, '-gdb', `tcp:127.0.0.1:${port}`, '-S'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = collect(proc);
  // QEMU listens once it has built the machine: wait until the port is bound (nothing else may bind it).
  for (let i = 0; i < 200 && !(await portTaken(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return { proc, port, done };
}

/**
 * Runs gdb-multiarch in batch mode with `commands` against 127.0.0.1:port, its script written in
 * `dir`, with the symbols of `symbols`; returns its transcript.
 */
export function runGdb(dir: string, port: number, commands: string[], symbols: string): string {
  const script = join(dir, `script-${port}.gdb`);
  writeFileSync(script, ['set architecture riscv:rv32', `file ${symbols}`, 'set confirm off', `target remote 127.0.0.1:${port}`, ...commands].join('\n') + '\n');
  const r = spawnSync(tool('gdb-multiarch'), ['-batch', '-nx', '-x', script], { encoding: 'latin1', timeout: 60_000 });
  return r.stdout + r.stderr;
}
