// The compare view's runs (issue #7): one kernel bare and in each VMM mode with the same inputs, in
// a worker_thread of its own (the engine's compareModes is synchronous and can take seconds), so
// neither the host's event loop nor the VMs' worker waits for it. One comparison at a time; a
// cancel terminates the worker.

import { Worker } from 'node:worker_threads';
import { RawDisk } from '../engine/disk/raw';
import { MemoryByteStore } from '../engine/disk/types';
import { COMPARE_MODES, compareKernels, compareModes, type CompareMode, type CompareRow } from '../engine/vmm/compare';
import { compareDiskRefusal, type CompareConfig, type CompareResult, type CompareRowInfo } from '../shared/inspect-api';
import type { CpuOptions } from '../shared/lab-api';
import { openDisk } from './disk-files';
import { LabError } from './errors';
import { PathPolicy } from './paths';
import type { DiskOpenSpec } from './vm-disks';
import type { BootImages } from './worker-protocol';

/** Default guest RAM of a comparison (as a VM's). */
export const COMPARE_MEM = 16 << 20;
/** Default step budget of each mode's run. */
export const COMPARE_STEPS = 20_000_000;
/** Console output kept per row. */
const MAX_OUTPUT = 16 << 10;

/** What the service sends the compare worker. */
export interface CompareJob {
  /** The kernels: one, or several compared with the first. */
  kernels: { name: string; bytes: Uint8Array }[];
  /** Disks of every run (opened read-only; each run gets a fresh copy in memory). */
  disks?: DiskOpenSpec[];
  memSize: number;
  maxSteps: number;
  input?: string;
  modes: CompareMode[];
  cpu?: CpuOptions;
  /** Firmware, initrd and command line of every run. */
  boot?: BootImages;
  /** The kernel written for pv, run in the pv row. */
  pvKernel?: Uint8Array;
}

/** What the compare worker answers. */
export type CompareReply = { ok: true; rows: CompareRowInfo[] } | { ok: false; message: string };

/** Runs a comparison and shapes its rows for the API (runs in the compare worker). */
export function runCompareJob(job: CompareJob): CompareRowInfo[] {
  const images = (job.disks ?? []).map(diskImage);
  const options = {
    memSize: job.memSize,
    maxSteps: job.maxSteps,
    modes: job.modes,
    cpu: job.cpu,
    boot: job.boot,
    pvKernel: job.pvKernel,
    input: job.input === undefined ? undefined : new TextEncoder().encode(job.input),
    now: () => performance.now(),
    disks: images.length === 0 ? undefined : () => images.map((d) => ({ device: new RawDisk(new MemoryByteStore(d.bytes)), legacy: d.spec.legacy, serial: d.spec.serial, slot: d.spec.slot })),
  };
  const [first] = job.kernels;
  if (job.kernels.length === 1) {
    const rows = compareModes(first.bytes, options);
    const bare = rows.find((r) => r.mode === 'bare');
    return rows.map((r) => rowInfo(first.name, r, bare));
  }
  const rows = compareKernels(job.kernels, options);
  return rows.map((r) => rowInfo(r.kernel, r, rows[0]));
}

/** What a guest reads from the image (its backing chain included), for the runs' in-memory copies. */
function diskImage(spec: DiskOpenSpec): { spec: DiskOpenSpec; bytes: Uint8Array } {
  const device = openDisk(new PathPolicy(spec.root).adopt(spec.file, spec.path), { format: spec.format, readOnly: true });
  try {
    const refusal = compareDiskRefusal(device.size);
    if (refusal !== undefined) throw new Error(`disk ${spec.path}: ${refusal}`);
    const bytes = new Uint8Array(device.size);
    device.read(0, bytes);
    return { spec, bytes };
  } finally {
    device.close();
  }
}

function rowInfo(kernel: string, r: CompareRow, ref: CompareRow | undefined): CompareRowInfo {
  const exits = ref === undefined || ref.exits === 0 ? null : r.exits / ref.exits;
  const row: CompareRowInfo = {
    kernel,
    mode: r.mode as CompareRowInfo['mode'],
    end: r.end,
    exitCode: r.exitCode,
    instructions: r.instructions,
    traps: r.traps,
    exits: r.exits,
    modeledCycles: r.modeledCycles,
    breakdown: r.breakdown,
    wallMs: r.wallMs,
    relative: { ...r.relative, exits },
    sameOutput: r.sameOutput,
    output: r.output.length > MAX_OUTPUT ? `${r.output.slice(0, MAX_OUTPUT)}\n[… ${r.output.length - MAX_OUTPUT} more characters]` : r.output,
  };
  return r.crashReason === undefined ? row : { ...row, crashReason: r.crashReason };
}

/** The worker side: answers the one job it is given. */
export function compareWorker(post: (reply: CompareReply) => void): (job: CompareJob) => void {
  return (job) => {
    try {
      post({ ok: true, rows: runCompareJob(job) });
    } catch (err) {
      post({ ok: false, message: err instanceof Error ? err.message : String(err) });
    }
  };
}

/** The service side: one comparison at a time, each in a fresh worker. */
export class CompareHost {
  private running: { worker: Worker; reject: (e: Error) => void } | undefined;

  constructor(private readonly workerPath: () => Promise<string>) {}

  /** Runs `config` on the kernel's bytes; rejects with 'bad-state' while another comparison runs. */
  async run(kernels: { name: string; bytes: Uint8Array }[], config: CompareConfig, boot: BootImages = {}, disks: DiskOpenSpec[] = [], pvKernel?: Uint8Array): Promise<CompareResult> {
    if (this.running) throw new LabError('bad-state', 'a comparison is running already: wait for it or cancel it');
    const job: CompareJob = {
      kernels,
      memSize: config.memSize ?? COMPARE_MEM,
      maxSteps: config.maxSteps ?? COMPARE_STEPS,
      modes: (config.modes ?? [...COMPARE_MODES]) as CompareMode[],
    };
    if (config.input !== undefined) job.input = config.input;
    if (config.cpu !== undefined) job.cpu = config.cpu;
    if (disks.length > 0) job.disks = disks;
    if (Object.keys(boot).length > 0) job.boot = boot;
    if (pvKernel !== undefined) job.pvKernel = pvKernel;
    if (job.modes.includes('pv') && (pvKernel === undefined || kernels.length > 1)) {
      throw new LabError('bad-request', 'the pv row needs the kernel written for pv (pvKernel), and one kernel to compare it with');
    }
    const path = await this.workerPath();
    if (this.running) throw new LabError('bad-state', 'a comparison is running already: wait for it or cancel it');
    const worker = new Worker(path, { workerData: { kind: 'compare' } });
    const rows = await new Promise<CompareRowInfo[]>((resolve, reject) => {
      this.running = { worker, reject };
      worker.once('message', (reply: CompareReply) => (reply.ok ? resolve(reply.rows) : reject(new LabError('bad-request', `compare: ${reply.message}`))));
      worker.once('error', (err) => reject(new LabError('failed', `compare: ${err.message}`)));
      worker.once('exit', () => reject(new LabError('failed', 'compare: the worker stopped')));
      worker.postMessage(job);
    }).finally(() => {
      this.running = undefined;
      void worker.terminate();
    });
    return { kernel: config.kernel, memSize: job.memSize, maxSteps: job.maxSteps, rows };
  }

  /** Stops the running comparison, if any (its run rejects with 'cancelled'). */
  async cancel(): Promise<void> {
    const r = this.running;
    if (!r) return;
    this.running = undefined;
    r.reject(new LabError('bad-state', 'compare: cancelled'));
    await r.worker.terminate();
  }
}
