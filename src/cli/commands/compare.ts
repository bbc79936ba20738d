// `vmlab compare`: one kernel bare and in every VMM mode, with instructions, exits, modeled cycles
// and wall time relative to bare (the compare view of the app, as text or JSON for grading).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { DiskAttachment } from '../../engine/machine/board';
import { createDisk } from '../../host/disk-tools';
import { closeDisks, collectDisk, type DiskSpec } from '../disk-option';
import { openDisks } from '../disk-open';
import { modeNote, pvKernelFile, pvReason } from '../../host/kernel-info';
import { rawKernelNotes } from '../kernel-input';
import { MEMORY_MAP } from '../../engine/machine/memory-map';
import type { CpuFeatures } from '../../engine/cpu/hart';
import { COMPARE_MODES, COMPARE_MODES_PV, compareKernels, compareModes, type CompareMode, type CompareRow, type KernelCompareRow } from '../../engine/vmm/compare';
import { loadKernelFor, readBootFiles } from '../boot-option';
import { parseCount, parseCpu, parseSize, ramSizeProblem } from '../options';
import { groupDigits } from '../digits';

interface CompareCliOptions {
  mem?: number;
  cpu?: Partial<CpuFeatures>;
  maxInsns?: number;
  modes?: CompareMode[];
  input?: string;
  json?: boolean;
  bios?: string;
  initrd?: string;
  append?: string;
  disk?: DiskSpec[];
  pv?: string;
}

/** Exit code of `compare` when a mode's output or exit code is not bare's. */
export const EXIT_DIFFERS = 1;

/** Registers `vmlab compare`. */
export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('run a kernel bare and in every VMM mode; print instructions, traps, exits, modeled cycles and wall time relative to bare (several kernels: relative to the first kernel\'s bare run)')
    .argument('<kernel...>', 'ELF32 RISC-V executable, raw image, or assembly source (.S); several are compared with the first')
    .option('--mem <size>', 'guest RAM size, e.g. 128M', parseSize)
    .option('--cpu <model>', 'CPU model and features, e.g. rv32,xsensitive=on', parseCpu)
    .option('--max-insns <n>', 'step budget of each run (default 200000000)', parseCount)
    .option('--modes <list>', `comma-separated subset of ${COMPARE_MODES_PV.join(',')} (pv with --pv)`, parseModes)
    .option('--pv <kernel>', 'the workload written for pv mode (ELF, raw or .S), run in a pv column beside the others')
    .option('--input <text>', 'bytes typed into the guest console before it starts (\\n for newline)')
    .option('--json', 'print the rows as JSON')
    .option('--bios <file>', "firmware at the start of RAM (ELF or raw), 'none' (default) or 'sbi', as run takes it", 'none')
    .option('--initrd <file>', 'initial ramdisk, as run takes it')
    .option('--append <args>', 'kernel command line (/chosen/bootargs)')
    .option('--disk <spec>', 'attach a virtio-blk disk as run does (repeatable); every mode starts from the image as it is, which stays unchanged', collectDisk)
    .action((kernels: string[], opts: CompareCliOptions) => {
      const memProblem = opts.mem === undefined ? undefined : ramSizeProblem(opts.mem, '--mem', (opts.modes ?? COMPARE_MODES).some((m) => m !== 'bare'));
      if (memProblem !== undefined) throw new Error(memProblem);
      if (opts.pv !== undefined && kernels.length > 1) throw new Error('--pv compares one kernel with its para-virtual version: give one kernel');
      const boot = readBootFiles(opts);
      const loaded = kernels.map((kernel) => {
        const bytes = loadKernelFor(kernel, boot);
        for (const note of rawKernelNotes(kernel, bytes, MEMORY_MAP.ram.base)) process.stderr.write(`vmlab: ${note}\n`);
        // A pv kernel in the rows of the other modes crashes at its first hypercall; one given to
        // --pv that makes none crashes in the pv row (kernel-info.ts tells them by their code).
        const pv = pvKernelFile(kernel, bytes);
        if (pv.pv) process.stderr.write(`vmlab: '${kernel}' is written for pv mode (${pvReason(pv)}): outside pv it crashes at its first hypercall; give it with --pv beside the kernel it was made from\n`);
        return { name: kernel, bytes };
      });
      const pvBytes = opts.pv === undefined ? undefined : loadKernelFor(opts.pv, { sbi: true });
      const pvNote = opts.pv === undefined || pvBytes === undefined ? undefined : modeNote(opts.pv, 'pv', pvKernelFile(opts.pv, pvBytes));
      if (pvNote !== undefined) process.stderr.write(`vmlab: --pv: ${pvNote}\n`);
      const overlays = new DiskOverlays(opts.disk ?? []);
      let rows: (CompareRow | KernelCompareRow)[];
      try {
        const options = {
          memSize: opts.mem, cpu: opts.cpu, boot, maxSteps: opts.maxInsns, modes: opts.modes,
          input: opts.input === undefined ? undefined : new TextEncoder().encode(opts.input.replace(/\\n/g, '\n')),
          disks: opts.disk === undefined ? undefined : () => overlays.open(),
          pvKernel: pvBytes,
        };
        rows = loaded.length === 1 ? compareModes(loaded[0].bytes, options) : compareKernels(loaded, options);
      } finally {
        overlays.dispose();
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify(rows.map(({ output, ...rest }) => ({ ...rest, outputBytes: output.length })), null, 2) + '\n');
      } else {
        process.stdout.write(formatTable(rows) + '\n');
      }
      const ref = loaded.length === 1 ? rows.find((r) => r.mode === 'bare') : rows[0];
      if (rows.some((r) => !r.sameOutput || (ref !== undefined && r.exitCode !== ref.exitCode))) process.exitCode = EXIT_DIFFERS;
    });
}

/**
 * Each mode's disks: a fresh qcow2 overlay on every image (in a temporary folder), so every mode
 * boots the same disk contents and the user's image is only read, as QEMU's -snapshot does.
 */
class DiskOverlays {
  private readonly dir: string | undefined;
  private readonly open_: DiskAttachment[][] = [];
  private runs = 0;

  constructor(private readonly specs: readonly DiskSpec[]) {
    this.dir = specs.length > 0 ? mkdtempSync(join(tmpdir(), 'vmlab-compare-')) : undefined;
    // Opening the images once checks them (and names a bad one) before any mode runs.
    if (specs.length > 0) closeDisks(openDisks(specs.map((s) => ({ ...s, readOnly: true }))));
  }

  /** Opens one fresh overlay per image for the next run. */
  open(): DiskAttachment[] {
    const run = this.runs++;
    const specs = this.specs.map((s, i) => {
      if (s.readOnly) return s;
      const overlay = join(this.dir!, `run${run}-${i}.qcow2`);
      createDisk(overlay, undefined, { format: 'qcow2', backing: resolve(s.path) });
      return { ...s, path: overlay, format: 'qcow2' as const };
    });
    const disks = openDisks(specs);
    this.open_.push(disks);
    return disks;
  }

  /** Closes every overlay and removes the temporary folder. */
  dispose(): void {
    for (const disks of this.open_) closeDisks(disks);
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}

function parseModes(text: string): CompareMode[] {
  const modes = text.split(',').map((m) => m.trim()).filter(Boolean);
  const bad = modes.filter((m) => !(COMPARE_MODES_PV as readonly string[]).includes(m));
  if (bad.length > 0 || modes.length === 0) throw new InvalidArgumentError(`expected modes from ${COMPARE_MODES_PV.join(', ')}; got '${text}'`);
  return modes as CompareMode[];
}

const n = (v: number): string => groupDigits(Math.round(v));
const x = (v: number | null): string => (v === null ? '-' : `${v.toFixed(2)}x`);

/** The rows as an aligned text table, with a note on outputs that differ from bare (or from the first kernel's first row). */
export function formatTable(rows: readonly (CompareRow | KernelCompareRow)[]): string {
  const several = rows.some((r) => 'kernel' in r);
  const vs = several ? 'vs ref' : 'vs bare';
  const head = ['mode', 'end', 'exit', 'instructions', vs, 'traps', 'exits', 'exits/M', 'walk refs/miss', 'modeled cycles', vs, 'wall ms', vs, 'output'];
  const body = rows.map((r) => [
    r.mode, r.end, r.exitCode === null ? '-' : String(r.exitCode), n(r.instructions), x(r.relative.instructions), n(r.traps), n(r.exits),
    r.instructions > 0 ? (r.exits / r.instructions * 1e6).toFixed(1) : '-', r.walkRefsPerMiss === null ? '-' : r.walkRefsPerMiss.toFixed(2),
    n(r.modeledCycles), x(r.relative.modeledCycles), r.wallMs.toFixed(0), x(r.relative.wallMs), r.sameOutput ? 'same' : 'DIFFERS',
  ]);
  if (several) {
    head.unshift('kernel');
    rows.forEach((r, i) => body[i].unshift('kernel' in r ? r.kernel : ''));
  }
  const left = several ? 3 : 2;
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < left || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const notes = rows.filter((r) => r.crashReason !== undefined).map((r) => `${'kernel' in r ? `${r.kernel} ` : ''}${r.mode}: crashed: ${r.crashReason}`);
  const first = rows[0];
  if (several && first !== undefined) notes.push(`vs ref: relative to the first row (${'kernel' in first ? first.kernel : ''} ${first.mode}); output: the same as its output or not.`);
  if (rows.some((r) => !r.sameOutput)) notes.push(`DIFFERS: the console output is not the same as ${several ? "the first row's" : "bare's"} (see the lab README for expected differences).`);
  return [line(head), ...body.map(line), ...notes].join('\n');
}
