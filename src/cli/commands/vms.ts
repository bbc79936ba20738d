// `vmlab vms A.vm.json B.vm.json ...`: several guests at once in one VMM, consoles to the terminal
// with a name prefix (or to files), then each VM's end state and statistics.

import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { modeledCycles } from '../../engine/vmm/stats';
import { ALL_VM_MODES, type Vm } from '../../engine/vmm/vm';
import { Vmm } from '../../engine/vmm/vmm';
import { LabError } from '../../host/errors';
import { jsonSyntaxProblem } from '../../host/json-error';
import { HOST_FILES, readResolved } from '../../host/paths';
import { closeDisks, parseDiskSpec, type DiskSpec } from '../disk-option';
import { openDisks } from '../disk-open';
import { loadKernelFor, readBootFiles } from '../boot-option';
import { formatSize, maxRamSize, parseCount, parseCpu, parseSeconds, parseSize, ramSizeProblem } from '../options';
import { VMM_RESERVE } from '../../engine/machine/memory-map';
import { groupDigits } from '../digits';
import { VM_NAME, VM_NAME_RULE } from '../../shared/vm-name';

/** A page or frame number: a number, or a hex string as the app and the docs write them (`"a1"`, `"0xc0"`). */
const pageNumber = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^(0x)?[0-9a-f]{1,6}$/i, 'a page number in hex such as "a1" or "0xa1", or a number').transform((t) => parseInt(t.replace(/^0x/i, ''), 16)),
]);

/** The `*.vm.json` format: one VM. Paths are relative to the file. */
export const VM_FILE_SCHEMA = z.object({
  name: z.string().regex(VM_NAME, VM_NAME_RULE),
  kernel: z.string().min(1),
  mode: z.enum(ALL_VM_MODES as [string, ...string[]]),
  memory: z.string().optional(),
  placement: z.union([
    z.enum(['contiguous', 'scattered']),
    z.object({ explicit: z.array(z.tuple([pageNumber, pageNumber])), rest: z.enum(['contiguous', 'scattered']).optional() }).strict(),
  ]).optional(),
  cpu: z.string().optional(),
  input: z.string().optional(),
  /** Firmware file, 'none' or 'sbi', initrd file and kernel command line, as run's --bios, --initrd, --append. */
  bios: z.string().min(1).optional(),
  initrd: z.string().min(1).optional(),
  append: z.string().optional(),
  /** virtio-blk disks, disk n in slot 7 - n: `"FILE[,format=..][,readonly][,legacy=on|off]"` or an object. */
  disks: z.array(z.union([
    z.string().min(1),
    z.object({
      file: z.string().min(1),
      format: z.enum(['raw', 'qcow2']).optional(),
      readonly: z.boolean().optional(),
      legacy: z.boolean().optional(),
      serial: z.string().max(20).optional(),
      slot: z.number().int().min(0).max(7).optional(),
    }).strict(),
  ])).max(8).optional(),
}).strict();

/** A parsed VM file. */
export type VmFile = z.infer<typeof VM_FILE_SCHEMA>;

/** The disks of a VM file as DiskSpecs (paths still relative to the file). */
export function vmFileDisks(vm: VmFile): DiskSpec[] {
  return (vm.disks ?? []).map((d) => typeof d === 'string' ? parseDiskSpec(d)
    : { path: d.file, format: d.format, readOnly: d.readonly ?? false, legacy: d.legacy ?? true, serial: d.serial, slot: d.slot });
}

interface VmsOptions {
  maxInsns?: number;
  timeout?: number;
  consoleDir?: string;
  stats?: string;
  quantum?: number;
  hostMem?: number;
}

/** Registers `vmlab vms`. */
export function registerVms(program: Command): void {
  program
    .command('vms')
    .description('run several VMs at once (one *.vm.json each) and report how each ended')
    .argument('<files...>', 'VM configurations (*.vm.json)')
    .option('--max-insns <n>', 'stop after N steps in total', parseCount)
    .option('--timeout <seconds>', 'stop after this much wall time', parseSeconds)
    .option('--console-dir <dir>', 'write each console to DIR/NAME.log instead of the terminal')
    .option('--stats <format>', 'print the end report as json instead of a table')
    .option('--quantum <n>', 'steps per time slice (default 100000)', parseCount)
    .option('--host-mem <size>', 'host RAM for all VMs (default: their sum + 64M)', parseSize)
    .action((files: string[], opts: VmsOptions) => {
      if (opts.stats !== undefined && opts.stats !== 'json') throw new Error(`--stats takes 'json', got '${opts.stats}'`);
      process.exitCode = runVms(files, opts);
    });
}

/** Largest `*.vm.json` file read (the size is checked before reading). */
const MAX_VM_FILE_SIZE = 1024 * 1024;

/** Reads and checks one VM file; errors name the file and the field. */
export function readVmFile(path: string): VmFile {
  let text: string;
  try {
    text = new TextDecoder().decode(readResolved(HOST_FILES.hostPath(path), 'a VM configuration', MAX_VM_FILE_SIZE));
  } catch (err) {
    if (err instanceof LabError) throw new Error(err.code === 'not-found' ? `${path}: no such file` : err.message);
    throw err;
  }
  const data = parseJsonFile(path, text, VM_FILE_SCHEMA);
  const memory = data.memory;
  if (memory !== undefined) {
    let bytes: number;
    try {
      bytes = parseSize(memory);
    } catch {
      throw new Error(`${path}: memory: expected a size like "16M" or "1G", got ${JSON.stringify(memory)}`);
    }
    const problem = ramSizeProblem(bytes, 'memory', true);
    if (problem !== undefined) throw new Error(`${path}: ${problem}`);
  }
  return data;
}

/** The JSON text of a configuration file checked against its schema; errors name the file and the field. */
export function parseJsonFile<T>(path: string, text: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${jsonSyntaxProblem(err, text)})`);
  }
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new Error(`${path}: ${describeIssue(parsed.error.issues[0])}`);
  return parsed.data;
}

/** One schema problem in words: which field, what it should be, what it is. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('') : '';
  const where = field === '' ? 'the file' : `"${field}"`;
  const got = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v));
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return field === '' ? 'the file must hold a JSON object' : `the field ${where} is missing (expected ${issue.expected})`;
      return `${where}: expected ${issue.expected}, got ${got(issue.input)}`;
    case 'unrecognized_keys':
      return `${field === '' ? '' : `${where}: `}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_value':
      return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${got(issue.input)}`;
    case 'invalid_union':
      if (issue.path[0] === 'placement') return `${where}: expected "contiguous", "scattered" or { "explicit": [[page, frame], ...], "rest": "scattered" } (pages and frames as numbers or hex strings), got ${got(issue.input)}`;
      return `${where}: ${issue.path[0] === 'disks' ? 'expected the --disk text or { "file": ... }' : 'not one of the accepted forms'}, got ${got(issue.input)}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

function runVms(files: string[], opts: VmsOptions): number {
  const configs = files.map((f) => ({ file: f, vm: readVmFile(f) }));
  const names = new Set<string>();
  for (const c of configs) {
    if (names.has(c.vm.name)) throw new Error(`${c.file}: another VM is named '${c.vm.name}'`);
    names.add(c.vm.name);
  }
  const sizes = configs.map((c) => (c.vm.memory ? parseSize(c.vm.memory) : 16 * 1024 * 1024));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (opts.hostMem === undefined && total > maxRamSize(true)) {
    throw new Error(`the VMs' memory adds up to ${formatSize(total)}, more than fits: host RAM at 0x80000000 ends at 0xffffffff, and the VMM keeps ${formatSize(VMM_RESERVE)} of it, so together they can have at most ${formatSize(maxRamSize(true))}`);
  }
  if (opts.hostMem !== undefined) {
    const problem = ramSizeProblem(opts.hostMem, '--host-mem', false);
    if (problem !== undefined) throw new Error(problem);
  }
  const vmm = new Vmm({ hostRamSize: opts.hostMem ?? total + VMM_RESERVE, quantum: opts.quantum });
  const consoles = new Map<string, number[]>();
  if (opts.consoleDir) makeConsoleDir(opts.consoleDir);
  const opened: ReturnType<typeof openDisks>[] = [];
  let vms: Vm[];
  try {
    vms = configs.map((c, i) => {
      let boot;
      try {
        boot = readBootFiles(c.vm, (p) => resolve(dirname(c.file), p));
      } catch (err) {
        throw new Error(`${c.file}: ${(err as Error).message}`);
      }
      if (c.vm.mode === 'pv' && boot.firmware === undefined) boot.sbi = true;
      const kernel = loadKernelFor(resolve(dirname(c.file), c.vm.kernel), boot);
      const out: number[] = [];
      consoles.set(c.vm.name, out);
      let disks;
      try {
        disks = openDisks(vmFileDisks(c.vm), dirname(c.file), `VM '${c.vm.name}'`);
      } catch (err) {
        throw new Error(`${c.file}: ${(err as Error).message}`);
      }
      opened.push(disks);
      const vm = vmm.createVm({
        name: c.vm.name, mode: c.vm.mode as Vm['mode'], kernel, memSize: sizes[i], placement: c.vm.placement,
        cpu: c.vm.cpu ? parseCpu(c.vm.cpu) : undefined,
        onUart: (b) => out.push(b),
        disks,
        ...boot,
      });
      if (c.vm.input) vm.sendInput(new TextEncoder().encode(c.vm.input));
      return vm;
    });
  } catch (err) {
    for (const disks of opened) closeDisks(disks);
    throw err;
  }
  const started = Date.now();
  let remaining = opts.maxInsns ?? Infinity;
  const pending = new Map<string, string>();
  while (vmm.active && remaining > 0 && (opts.timeout === undefined || Date.now() - started < opts.timeout * 1000)) {
    remaining -= vmm.run(Math.min(remaining, 1_000_000));
    if (!opts.consoleDir) flushPrefixed(consoles, pending);
  }
  if (opts.consoleDir) {
    for (const [name, out] of consoles) writeFileSync(join(opts.consoleDir, `${name}.log`), Buffer.from(out));
  } else {
    flushPrefixed(consoles, pending);
    for (const [name, rest] of pending) if (rest) process.stdout.write(`[${name}] ${rest}\n`);
  }
  // Closing flushes every image (fsync) and releases its writer lock.
  for (const disks of opened) {
    const error = closeDisks(disks);
    if (error !== undefined) process.stderr.write(`vmlab: ${error}\n`);
  }
  report(vms, opts.stats === 'json');
  return vms.every((vm) => vm.state === 'halted' && vm.exitCode === 0) ? 0 : 1;
}

/** Creates the --console-dir folder (its parent must exist), or throws one line saying why not. */
function makeConsoleDir(dir: string): void {
  const parent = dirname(resolve(dir));
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new Error(`--console-dir ${dir}: the folder '${parent}' does not exist`);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new Error(`--console-dir ${dir}: it is a file, not a folder`);
    return;
  }
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`--console-dir ${dir}: cannot create the folder: ${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message}`);
  }
}

/** Writes complete console lines as `[name] line`, keeping unfinished lines for later. */
function flushPrefixed(consoles: Map<string, number[]>, pending: Map<string, string>): void {
  for (const [name, out] of consoles) {
    if (out.length === 0) continue;
    const text = (pending.get(name) ?? '') + Buffer.from(out.splice(0)).toString('latin1');
    const lines = text.split('\n');
    pending.set(name, lines.pop()!);
    for (const line of lines) process.stdout.write(`[${name}] ${line}\n`);
  }
}

const count = (v: number): string => groupDigits(Math.round(v));

function report(vms: Vm[], json: boolean): void {
  const rows = vms.map((vm) => ({
    name: vm.name,
    mode: vm.mode,
    state: vm.state,
    exitCode: vm.exitCode ?? null,
    crashReason: vm.crashReason ?? null,
    instructions: vm.stats.instructions,
    exits: vm.stats.exitCount,
    modeledCycles: modeledCycles(vm.stats, vm.mode === 'emulate').total,
    stats: vm.stats.toJSON(),
    disks: vm.machine.board.disks.map((d) => d.stats.toJSON()),
  }));
  if (json) {
    process.stderr.write(JSON.stringify(rows) + '\n');
    return;
  }
  for (const r of rows) {
    const end = r.state === 'halted' ? `exit ${r.exitCode}` : r.state === 'crashed' ? `crashed: ${r.crashReason}` : r.state;
    process.stderr.write(`${r.name} (${r.mode}): ${end}; ${count(r.instructions)} instructions, ${count(r.exits)} exits, ${count(r.modeledCycles)} modeled cycles\n`);
  }
}
