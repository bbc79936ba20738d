// `vmlab compare`: one kernel bare and in every VMM mode, with instructions, exits, modeled cycles
// and wall time relative to bare (the compare view of the app, as text or JSON for grading).

import { InvalidArgumentError, type Command } from 'commander';
import type { CpuFeatures } from '../../engine/cpu/hart';
import { COMPARE_MODES, compareModes, type CompareMode, type CompareRow } from '../../engine/vmm/compare';
import { loadKernelFile } from '../kernel-input';
import { parseCount, parseCpu, parseSize } from '../options';

interface CompareCliOptions {
  mem?: number;
  cpu?: Partial<CpuFeatures>;
  maxInsns?: number;
  modes?: CompareMode[];
  input?: string;
  json?: boolean;
}

/** Registers `vmlab compare`. */
export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('run a kernel bare and in every VMM mode; print instructions, exits, modeled cycles and wall time relative to bare')
    .argument('<kernel>', 'ELF32 RISC-V executable, raw image, or assembly source (.S)')
    .option('--mem <size>', 'guest RAM size, e.g. 128M', parseSize)
    .option('--cpu <model>', 'CPU model and features, e.g. rv32,xsensitive=on', parseCpu)
    .option('--max-insns <n>', 'step budget of each run (default 200000000)', parseCount)
    .option('--modes <list>', `comma-separated subset of ${COMPARE_MODES.join(',')}`, parseModes)
    .option('--input <text>', 'bytes typed into the guest console before it starts (\\n for newline)')
    .option('--json', 'print the rows as JSON')
    .action((kernel: string, opts: CompareCliOptions) => {
      const rows = compareModes(loadKernelFile(kernel), {
        memSize: opts.mem, cpu: opts.cpu, maxSteps: opts.maxInsns, modes: opts.modes,
        input: opts.input === undefined ? undefined : new TextEncoder().encode(opts.input.replace(/\\n/g, '\n')),
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(rows.map(({ output, ...rest }) => ({ ...rest, outputBytes: output.length })), null, 2) + '\n');
      } else {
        process.stdout.write(formatTable(rows) + '\n');
      }
    });
}

function parseModes(text: string): CompareMode[] {
  const modes = text.split(',').map((m) => m.trim()).filter(Boolean);
  const bad = modes.filter((m) => !(COMPARE_MODES as readonly string[]).includes(m));
  if (bad.length > 0 || modes.length === 0) throw new InvalidArgumentError(`expected modes from ${COMPARE_MODES.join(', ')}; got '${text}'`);
  return modes as CompareMode[];
}

const n = (v: number): string => Math.round(v).toLocaleString('en-US');
const x = (v: number | null): string => (v === null ? '-' : `${v.toFixed(2)}x`);

/** The rows as an aligned text table, with a note on outputs that differ from bare. */
export function formatTable(rows: readonly CompareRow[]): string {
  const head = ['mode', 'end', 'exit', 'instructions', 'vs bare', 'exits', 'exits/M', 'modeled cycles', 'vs bare', 'wall ms', 'vs bare', 'output'];
  const body = rows.map((r) => [
    r.mode, r.end, r.exitCode === null ? '-' : String(r.exitCode), n(r.instructions), x(r.relative.instructions), n(r.exits),
    r.instructions > 0 ? (r.exits / r.instructions * 1e6).toFixed(1) : '-', n(r.modeledCycles), x(r.relative.modeledCycles),
    r.wallMs.toFixed(0), x(r.relative.wallMs), r.sameOutput ? 'same' : 'DIFFERS',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 || i === 11 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const notes = rows.filter((r) => r.crashReason !== undefined).map((r) => `${r.mode}: crashed: ${r.crashReason}`);
  if (rows.some((r) => !r.sameOutput)) notes.push('DIFFERS: the console output is not the same as bare (see the lab README for expected differences).');
  return [line(head), ...body.map(line), ...notes].join('\n');
}
