// Helpers for the disk tests: qemu-img and qemu-io (Debian qemu-utils) as oracles, scratch folders,
// and small image builders.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileByteStore } from '../../src/host/disk-files';
import { requireTool } from '../support/tools';

/** Result of running an external tool. */
export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(tool: string, args: string[], cwd?: string): ToolRun {
  const path = requireTool(tool, 'qemu-utils');
  const r = spawnSync(path, args, { encoding: 'utf8', cwd, timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs qemu-img (fails, naming the qemu-utils package, when it is missing). */
export function qemuImg(args: string[], cwd?: string): ToolRun {
  return run('qemu-img', args, cwd);
}

/** Runs qemu-img and throws with its stderr unless it exits 0. */
export function qemuImgOk(args: string[], cwd?: string): string {
  const r = qemuImg(args, cwd);
  if (r.code !== 0) throw new Error(`qemu-img ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Runs qemu-io commands on an image and throws unless it exits 0. */
export function qemuIo(image: string, commands: string[], format = 'qcow2'): void {
  const args = ['-f', format];
  for (const c of commands) args.push('-c', c);
  const r = run('qemu-io', [...args, image]);
  if (r.code !== 0 || /error|failed/i.test(r.stderr + r.stdout)) throw new Error(`qemu-io ${commands.join('; ')}: ${r.stderr}${r.stdout}`);
}

/** qemu-img check --output=json on an image: exit code and parsed report. */
export function qemuCheck(image: string): { code: number | null; report: Record<string, unknown>; text: string } {
  const r = qemuImg(['check', '--output=json', image]);
  let report: Record<string, unknown> = {};
  try {
    report = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    report = {};
  }
  return { code: r.code, report, text: r.stdout + r.stderr };
}

/** The image's contents as qemu-img sees them, converted to raw bytes. */
export function qemuRaw(image: string, dir: string): Buffer {
  const out = join(dir, `qemu-raw-${Math.random().toString(36).slice(2)}.raw`);
  qemuImgOk(['convert', '-O', 'raw', image, out]);
  return readFileSync(out);
}

/** A fresh scratch folder. */
export function scratch(name: string): string {
  return mkdtempSync(join(tmpdir(), `vmlab-disk-${name}-`));
}

/** Opens a host file as a byte store (writable unless `readOnly`), without the writer lock. */
export function fileStore(path: string, readOnly = false): FileByteStore {
  return FileByteStore.open(path, { readOnly, lock: false });
}

/** `n` bytes where each 512-byte sector holds its own recognisable pattern derived from `seed`. */
export function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  const v = new DataView(out.buffer);
  for (let i = 0; i + 4 <= n; i += 4) v.setUint32(i, (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
  return out;
}

/** Creates (or truncates) a host file and opens it as a writable byte store, without the writer lock. */
export function newStore(path: string): FileByteStore {
  return FileByteStore.open(path, { create: true, lock: false });
}
