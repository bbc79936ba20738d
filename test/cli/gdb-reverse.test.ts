// Reverse execution through gdb-multiarch (Debian) against `vmlab run --gdb`: reverse-stepi and
// reverse-continue land where vmlab's own commit log (--trace) says, with the registers the log
// implies and the memory a forward session reads at the same step, bare and in every VM mode; the
// checkpoints are few and far apart (--checkpoint-interval 16 over ~9,000 steps thins them), the
// start of history is reported as gdb expects, and a guest run on after rewinding prints its output
// once and exits as usual.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assembleFile } from '../../src/cli/kernel-input';
import { GUEST_DIR, LIB_DIR, REPO_ROOT, buildGuest } from '../support/build';
import { tool } from '../support/tools';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-gdb-reverse-'));
let elf = '';
/** pc before each step and the registers after it, from vmlab's commit log of the whole run. */
let log: { pc: number[]; regs: number[][] };

const NAMES = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 'fp', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7',
  's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];

beforeAll(async () => {
  tool('gdb-multiarch');
  elf = await buildGuest(join(GUEST_DIR, 'debug', 'gdb-target.S'));
  const trace = join(dir, 'trace.log');
  const t = spawnSync(process.execPath, [VMLAB, 'run', elf, '--trace', trace], { encoding: 'latin1', timeout: 60_000 });
  expect(t.status).toBe(0);
  const pc: number[] = [];
  const regs: number[][] = [new Array<number>(32).fill(0)];
  for (const line of readFileSync(trace, 'latin1').split('\n')) {
    const m = / (0x[0-9a-f]{8}) \(/.exec(line);
    if (!m) continue;
    pc.push(parseInt(m[1], 16));
    const next = [...regs[regs.length - 1]];
    for (const r of line.matchAll(/ x(\d+) 0x([0-9a-f]{8})/g)) next[Number(r[1])] = parseInt(r[2], 16);
    regs.push(next);
  }
  log = { pc, regs };
}, 120_000);

interface Started {
  proc: ChildProcess;
  port: number;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

async function startVmlab(args: string[]): Promise<Started> {
  const proc = spawn(process.execPath, [VMLAB, 'run', elf, '--gdb', '0', '--gdb-wait', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => { stdout += d.toString('latin1'); });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => proc.on('close', (code) => resolve({ code, stdout, stderr })));
  const port = await new Promise<number>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString('latin1');
      const m = /gdb stub on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    proc.on('close', () => reject(new Error(`vmlab ended before listening: ${stderr}`)));
  });
  return { proc, port, done };
}

/** Runs gdb-multiarch in batch mode; returns the transcript cut into the parts `echo ===` separates. */
function gdb(port: number, commands: string[]): string[] {
  const script = join(dir, `script-${port}.gdb`);
  writeFileSync(script, ['set architecture riscv:rv32', `file ${elf}`, 'set confirm off', `target remote 127.0.0.1:${port}`, ...commands].join('\n') + '\n');
  const r = spawnSync(tool('gdb-multiarch'), ['-batch', '-nx', '-x', script], { encoding: 'latin1', timeout: 120_000 });
  return (r.stdout + r.stderr).split('===\n');
}

/** Registers of an `info registers` transcript, by gdb's names. */
function registers(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^(\w+)\s+0x([0-9a-f]+)\s/gm)) out.set(m[1], parseInt(m[2], 16));
  return out;
}

/** Expects gdb's registers to be the commit log's after `steps` steps. */
function expectAt(text: string, steps: number, what: string): void {
  const got = registers(text);
  expect(got.get('pc'), `${what}: pc`).toBe(log.pc[steps]);
  for (let r = 1; r < 32; r++) expect(got.get(NAMES[r]), `${what}: ${NAMES[r]}`).toBe(log.regs[steps][r] >>> 0);
}

const REGS = ['info registers', 'echo ===\\n'];

describe('vmlab run --gdb: reverse execution', () => {
  for (const mode of ['bare', 'emulate', 'trap', 'bt', 'hw']) {
    it(`reverse-stepi lands where the commit log says (${mode})`, async () => {
      // gdb steps by breakpoints at the next pc, and a VM stops at none in the boot ROM nor (hw) at
      // the kernel's entry: the steps start from the first pass through the counting loop.
      const asm = assembleFile(join(GUEST_DIR, 'debug', 'gdb-target.S'), { includeDirs: [LIB_DIR] });
      const loop = asm.symbols.find((sym) => sym.name === 'count_loop')!.address;
      const entry = log.pc.indexOf(loop);
      expect(entry).toBeGreaterThan(0);
      const v = await startVmlab(['--mode', mode, '--checkpoint-interval', '16']);
      const parts = gdb(v.port, ['break count_loop', 'continue', 'delete', `stepi ${137 - entry}`, ...REGS, 'reverse-stepi', ...REGS, 'reverse-stepi 40', ...REGS, 'stepi 10', ...REGS,
        'reverse-stepi 200', ...REGS, 'delete', 'continue']);
      const run = await v.done;
      expectAt(parts[0], 137, 'stepi 137');
      expectAt(parts[1], 136, 'reverse-stepi');
      expectAt(parts[2], 96, 'reverse-stepi 40');
      expectAt(parts[3], 106, 'stepi 10');
      // Back past the first instruction: gdb stops where history begins, the reset vector.
      expect(parts[4]).toContain('No more reverse-execution history.');
      expect(registers(parts[4]).get('pc')).toBe(0x1000);
      expect(run.stdout).toBe('value=cafef00d\ncounter=0000000a\n');
      expect(run.code).toBe(0);
    }, 240_000);
  }

  for (const mode of ['bare', 'trap', 'hw']) {
    it(`reverse-continue goes back to the previous breakpoint hit, with the forward run's registers and memory (${mode})`, async () => {
      const loop = log.pc[29];
      // The steps at which the guest stands at count_loop (its 10 passes), from the commit log.
      const hits = log.pc.flatMap((pc, i) => (pc === loop ? [i] : []));
      expect(hits).toHaveLength(10);
      const forward = await startVmlab(['--mode', mode]);
      const ahead = gdb(forward.port, ['break count_loop', ...Array<string>(10).fill('continue'), ...REGS, 'x/wx &counter', 'echo ===\\n', 'kill']);
      await forward.done;
      const v = await startVmlab(['--mode', mode, '--checkpoint-interval', '16']);
      const parts = gdb(v.port, ['hbreak in_s_paged', 'continue', 'p $priv', 'echo ===\\n', 'break count_loop', 'reverse-continue', ...REGS,
        'x/wx &counter', 'echo ===\\n', 'reverse-continue', ...REGS, 'delete', 'reverse-continue', ...REGS, 'continue']);
      const run = await v.done;
      // In S-mode with paging on, far past the loop.
      expect(parts[0]).toContain('$1 = 1');
      expectAt(parts[1], hits[9], 'reverse-continue to the last pass');
      expect(registers(parts[1])).toEqual(registers(ahead[0]));
      expect(parts[2]).toBe(ahead[1]);
      expect(parts[2]).toMatch(/:\t0x00000009\n$/);
      expectAt(parts[3], hits[8], 'reverse-continue to the pass before');
      expect(parts[4]).toContain('No more reverse-execution history.');
      expect(registers(parts[4]).get('pc')).toBe(0x1000);
      expect(run.stdout).toBe('value=cafef00d\ncounter=0000000a\n');
      expect(run.code).toBe(0);
    }, 240_000);
  }
});
