// VMs that outlive the app: the workspace keeps each VM's configuration as `.vmlab/NAME.vm.json`
// (the format `vmlab vms` runs, paths relative to the file) and its console as `.vmlab/NAME.log`.
// The service writes a configuration when it creates a VM (again when its disks change), the log
// about once a second while output arrives and when it shuts down, and removes both with the VM;
// on start it recreates every stored VM, paused before its first instruction, in creation order.

import { lstat, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { z } from 'zod';
import { formatCpuSpec, parseCpuSpec } from '../shared/cpu-options';
import type { CpuOptions, MachineConfig, MachineMode, VmPlacement } from '../shared/lab-api';
import { LabError } from './errors';
import type { Workspace } from './workspace';

/** The workspace folder that holds the lab's VMs. */
export const STATE_DIR = '.vmlab';

/** A VM's configuration as the service creates it (the parts a restart needs). */
export interface StoredVmConfig {
  readonly name: string;
  /** Workspace path of the kernel. */
  readonly kernel: string;
  readonly mode: Exclude<MachineMode, 'bare'>;
  readonly memSize: number;
  readonly placement: VmPlacement;
  readonly cpu?: CpuOptions;
  readonly disks?: MachineConfig['disks'];
  /** Firmware (workspace path) or 'none', initrd and command line, as vm.create took them. */
  readonly bios?: string;
  readonly initrd?: string;
  readonly append?: string;
}

/** A VM read back from the workspace, with the console it had. */
export interface StoredVm {
  readonly config: StoredVmConfig;
  readonly console: Uint8Array;
}

const pair = z.tuple([z.number().int().min(0).max(0xfffff), z.number().int().min(0).max(0xfffff)]);
const FILE_SCHEMA = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/),
  kernel: z.string().min(1).max(4096),
  mode: z.enum(['emulate', 'trap', 'bt', 'pv', 'hw']),
  memory: z.string().regex(/^\d+[KM]$/),
  placement: z.union([
    z.enum(['contiguous', 'scattered']),
    z.object({ explicit: z.array(pair).max(1 << 16), rest: z.enum(['contiguous', 'scattered']).optional() }).strict(),
  ]).optional(),
  cpu: z.string().max(200).optional(),
  bios: z.string().min(1).max(4096).optional(),
  initrd: z.string().min(1).max(4096).optional(),
  append: z.string().max(4096).optional(),
  disks: z.array(z.object({
    file: z.string().min(1).max(4096),
    format: z.enum(['raw', 'qcow2']).optional(),
    readonly: z.boolean().optional(),
    legacy: z.boolean().optional(),
    serial: z.string().max(20).optional(),
    slot: z.number().int().min(0).max(7).optional(),
  }).strict()).max(8).optional(),
}).strict();

type VmFile = z.infer<typeof FILE_SCHEMA>;

/** The workspace's stored VMs. */
export class VmStore {
  constructor(private readonly workspace: () => Workspace) {}

  /** Writes (or rewrites) a VM's configuration. */
  async save(config: StoredVmConfig): Promise<void> {
    await this.ensureDir();
    await this.workspace().write(configPath(config.name), `${JSON.stringify(toFile(config), null, 2)}\n`);
  }

  /** Writes a VM's console log. */
  async saveConsole(name: string, bytes: Uint8Array): Promise<void> {
    await this.ensureDir();
    await this.workspace().write(logPath(name), bytes);
  }

  /** Forgets a removed VM: its configuration and its console log. */
  async remove(name: string): Promise<void> {
    const ws = this.workspace();
    for (const path of [configPath(name), logPath(name)]) {
      if (await ws.exists(path)) await ws.delete(path);
    }
  }

  /**
   * Every stored VM, oldest configuration first, and a line for each file that cannot be used
   * (which is left where it is, for the user to mend).
   */
  async load(): Promise<{ vms: StoredVm[]; problems: string[] }> {
    const ws = this.workspace();
    const vms: { vm: StoredVm; time: number }[] = [];
    const problems: string[] = [];
    // lstat: a link named .vmlab is not followed (it could lead out of the workspace).
    const dir = join(ws.root, STATE_DIR);
    const st = await lstat(dir).catch(() => undefined);
    if (st === undefined) return { vms: [], problems };
    if (!st.isDirectory()) return { vms: [], problems: [`${STATE_DIR} is not a folder: no VM was restored`] };
    const names = (await readdir(dir)).filter((n) => n.endsWith('.vm.json')).sort();
    for (const file of names) {
      const path = `${STATE_DIR}/${file}`;
      try {
        const config = fromFile(parseFile(path, await ws.readText(path)));
        if (`${config.name}.vm.json` !== file) throw new Error(`the file of VM '${config.name}' must be named ${config.name}.vm.json`);
        const log = logPath(config.name);
        const console = (await ws.exists(log)) ? await ws.readBytes(log) : new Uint8Array(0);
        vms.push({ vm: { config, console }, time: (await lstat(join(dir, file))).mtimeMs });
      } catch (err) {
        problems.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    vms.sort((a, b) => a.time - b.time);
    return { vms: vms.map((v) => v.vm), problems };
  }

  private async ensureDir(): Promise<void> {
    const ws = this.workspace();
    if (!(await ws.exists(STATE_DIR))) await ws.create(STATE_DIR, 'dir').catch((err: unknown) => {
      if (!(err instanceof LabError && err.code === 'exists')) throw err;
    });
  }
}

/** Workspace path of a VM's configuration. */
export function configPath(name: string): string {
  return `${STATE_DIR}/${name}.vm.json`;
}

/** Workspace path of a VM's console log. */
export function logPath(name: string): string {
  return `${STATE_DIR}/${name}.log`;
}

function parseFile(path: string, text: string): VmFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  const parsed = FILE_SCHEMA.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.join('.') || 'the file';
    const missing = issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
    throw new Error(`${where}: ${missing ? 'missing' : issue.message}`);
  }
  return parsed.data;
}

/** A workspace path as the configuration file names it (relative to `.vmlab/`). */
const fromWorkspace = (path: string): string => `../${path}`;

/** A path the configuration names, as a workspace path (refused when it leaves the workspace). */
function toWorkspace(path: string, what: string): string {
  const p = posix.normalize(posix.join(STATE_DIR, path));
  if (p.startsWith('../') || p === '..' || posix.isAbsolute(path)) throw new Error(`${what} '${path}' lies outside the workspace`);
  return p;
}

function toFile(c: StoredVmConfig): VmFile {
  const mib = c.memSize % (1 << 20) === 0;
  const file: VmFile = {
    name: c.name,
    kernel: fromWorkspace(c.kernel),
    mode: c.mode,
    memory: mib ? `${c.memSize >>> 20}M` : `${c.memSize >>> 10}K`,
    placement: c.placement,
  };
  if (c.cpu) {
    // The translator switch is the app's own (a VM's virtual hart never translates): not a -cpu property.
    const { jit: _jit, ...features } = c.cpu;
    if (Object.keys(features).length > 0) file.cpu = formatCpuSpec(features);
  }
  if (c.bios !== undefined) file.bios = c.bios === 'none' || c.bios === 'sbi' ? c.bios : fromWorkspace(c.bios);
  if (c.initrd !== undefined) file.initrd = fromWorkspace(c.initrd);
  if (c.append !== undefined) file.append = c.append;
  if (c.disks?.length) {
    file.disks = c.disks.map((d) => {
      const disk: NonNullable<VmFile['disks']>[number] = { file: fromWorkspace(d.path) };
      if (d.format !== undefined) disk.format = d.format;
      if (d.readOnly !== undefined) disk.readonly = d.readOnly;
      if (d.legacy !== undefined) disk.legacy = d.legacy;
      if (d.serial !== undefined) disk.serial = d.serial;
      if (d.slot !== undefined) disk.slot = d.slot;
      return disk;
    });
  }
  return file;
}

function fromFile(f: VmFile): StoredVmConfig {
  const unit = f.memory.endsWith('M') ? 1 << 20 : 1 << 10;
  let cpu: CpuOptions | undefined;
  if (f.cpu !== undefined) cpu = parseCpuSpec(f.cpu);
  const disks = f.disks?.map((d) => {
    const disk: NonNullable<MachineConfig['disks']>[number] = { path: toWorkspace(d.file, 'disk') };
    if (d.format !== undefined) disk.format = d.format;
    if (d.readonly !== undefined) disk.readOnly = d.readonly;
    if (d.legacy !== undefined) disk.legacy = d.legacy;
    if (d.serial !== undefined) disk.serial = d.serial;
    if (d.slot !== undefined) disk.slot = d.slot;
    return disk;
  });
  return {
    name: f.name,
    kernel: toWorkspace(f.kernel, 'kernel'),
    mode: f.mode,
    memSize: Number.parseInt(f.memory, 10) * unit,
    placement: f.placement ?? 'contiguous',
    ...(cpu ? { cpu } : {}),
    ...(disks?.length ? { disks } : {}),
    ...(f.bios !== undefined ? { bios: f.bios === 'none' || f.bios === 'sbi' ? f.bios : toWorkspace(f.bios, 'firmware') } : {}),
    ...(f.initrd !== undefined ? { initrd: toWorkspace(f.initrd, 'initrd') } : {}),
    ...(f.append !== undefined ? { append: f.append } : {}),
  };
}
