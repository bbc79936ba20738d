// `vmlab run --gdb`: real gdb-multiarch drives the stub in batch mode; its transcript (registers,
// memory through the guest's page tables, a breakpoint hit, a watchpoint hit, CSRs, stepping) must
// equal the transcript of the same gdb script against QEMU's gdbstub, bare and in every VM mode,
// and stepping lands where vmlab's own commit log says. A pv kernel (QEMU cannot run one) stops at
// breakpoints and steps with the registers the engine's own run of the same VM has there.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GUEST_DIR, REPO_ROOT, buildGuest } from '../support/build';
import { runGdb, startQemuGdb, startVmlabGdb, type GdbTarget } from '../support/gdb-session';
import { tool } from '../support/tools';
import { assembleFile } from '../../src/cli/kernel-input';
import { SBI_KERNEL_ADDRESS } from '../../src/engine/machine/boot';
import { DEFAULT_RAM_SIZE, VMM_RESERVE } from '../../src/engine/machine/memory-map';
import type { Vm } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-gdb-'));
let elf = '';

beforeAll(async () => {
  tool('gdb-multiarch');
  tool('qemu-system-riscv32');
  elf = await buildGuest(join(GUEST_DIR, 'debug', 'gdb-target.S'));
}, 120_000);

/** Starts `vmlab run KERNEL --gdb 0 --gdb-wait ...args`. */
const startVmlab = (args: string[], kernel = elf): Promise<GdbTarget> => startVmlabGdb(kernel, args);

/** gdb-multiarch in batch mode with `commands` against 127.0.0.1:port; its transcript. */
const gdb = (port: number, commands: string[], symbols = elf): string => runGdb(dir, port, commands, symbols);

const SESSION = [
  'info registers pc',
  'x/2i $pc',
  'break after_loop',
  'continue',
  'p $s0',
  'x/2wx &counter',
  'watch *(int*)&watched',
  'continue',
  'p/x *(int*)&watched',
  'p $pc',
  'delete',
  'hbreak in_s_paged',
  'continue',
  'x/wx 0x40000000',
  'p $priv',
  'p/x $satp',
  'p/x $mstatus',
  'p/x $mepc',
  'stepi 5',
  'p $pc',
  'info registers',
  'detach',
];

describe('vmlab run --gdb', () => {
  it('answers gdb as QEMU\'s gdbstub does (bare machine)', async () => {
    const q = await startQemuGdb(elf);
    const expected = gdb(q.port, SESSION);
    const qemuRun = await q.done;
    const v = await startVmlab([]);
    const got = gdb(v.port, SESSION);
    const run = await v.done;
    expect(expected).toContain('Hardware watchpoint 2');
    expect(expected).toContain('0x40000000:\t0xcafef00d');
    expect(got).toBe(expected);
    expect(run.stdout).toBe(qemuRun.stdout.replace(/\r\n/g, '\n'));
    expect(run.code).toBe(0);
  }, 120_000);

  for (const mode of ['emulate', 'trap', 'bt', 'hw']) {
    it(`answers the same in a VM (--mode ${mode})`, async () => {
      const bare = await startVmlab([]);
      const expected = gdb(bare.port, SESSION);
      await bare.done;
      const v = await startVmlab(['--mode', mode]);
      const got = gdb(v.port, SESSION);
      const run = await v.done;
      expect(got).toBe(expected);
      expect(run.stdout).toBe('value=cafef00d\ncounter=0000000a\n');
      expect(run.code).toBe(0);
    }, 120_000);
  }

  it('stops a pv kernel at breakpoints in its S and U code and steps it, with the registers of the engine\'s own run', async () => {
    const pvElf = join(dir, 'traps-pv.elf');
    const built = assembleFile(join(REPO_ROOT, 'labs', 'traps', 'traps-pv.S'), { base: SBI_KERNEL_ADDRESS });
    writeFileSync(pvElf, built.elf!);
    const symbol = (name: string): number => built.symbols.find((x) => x.name === name)!.address >>> 0;
    /** The VM as `vmlab run --mode pv` builds it, run by the engine alone. */
    const engineVm = (): { vmm: Vmm; vm: Vm } => {
      const vmm = new Vmm({ hostRamSize: DEFAULT_RAM_SIZE + VMM_RESERVE });
      const vm = vmm.createVm({ name: 'guest', mode: 'pv', kernel: built.elf!, memSize: DEFAULT_RAM_SIZE, sbi: true });
      return { vmm, vm };
    };
    /** The engine's registers where the guest's clock reaches `steps` (no breakpoint, no debugger). */
    const at = (steps: number): number[] => {
      const { vmm, vm } = engineVm();
      while (vm.machine.clockSteps < steps && vm.state === 'running') vmm.runVm(vm, steps - vm.machine.clockSteps);
      vmm.unload();
      return [...Array.from(vm.vhart.x.subarray(1), (v) => v >>> 0), vm.vhart.pcU];
    };
    /** The guest's clock when it first reaches `pc`. */
    const stepsTo = (pc: number): number => {
      const { vmm, vm } = engineVm();
      vmm.setBreakpoints(vm, [pc]);
      while (!vm.atBreakpoint && vm.state === 'running') vmm.runVm(vm, 100_000);
      return vm.machine.clockSteps;
    };
    // gdb's `info registers` leaves out x0; the rest and the pc are compared.
    const names = ['ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 'fp', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7',
      's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6', 'pc'];
    const registers = (block: string): number[] => names.map((n) => {
      const m = new RegExp(`^${n}\\s+0x([0-9a-f]+)\\s`, 'm').exec(block);
      return m ? parseInt(m[1], 16) : -1;
    });
    const v = await startVmlab(['--mode', 'pv'], pvElf);
    const out = gdb(v.port, ['break s_trap', 'break user_main', 'continue', 'p $priv', 'info registers', 'echo ==user==\\n', 'continue', 'p $priv',
      'info registers', 'echo ==stepped==\\n', 'stepi 5', 'info registers', 'delete', 'continue'], pvElf);
    const run = await v.done;
    const [first, user, stepped] = out.split(/==(?:user|stepped)==/);
    expect(out).toContain(`Breakpoint 2 at 0x${symbol('user_main').toString(16)}: file`);
    expect(out).toContain('Breakpoint 2, user_main () at');
    expect(out).toContain('Breakpoint 1, s_trap () at');
    // user_main runs in U before the first ecall reaches s_trap in S.
    expect(first).toMatch(/\$1 = 0\n/);
    expect(user).toMatch(/\$2 = 1\n/);
    const toUser = stepsTo(symbol('user_main'));
    const toTrap = stepsTo(symbol('s_trap'));
    expect(toUser).toBeLessThan(toTrap);
    expect(registers(first)).toEqual(at(toUser));
    expect(registers(user)).toEqual(at(toTrap));
    expect(registers(stepped)).toEqual(at(toTrap + 5));
    expect(run.stdout).toBe(readFileSync(join(REPO_ROOT, 'labs', 'traps', 'expected-output.txt'), 'latin1').replace(/^\[M\] .*\n/gm, ''));
    expect(run.code).toBe(0);
  }, 120_000);

  it('steps exactly as many instructions as it is asked, landing where the commit log says', async () => {
    const trace = join(dir, 'trace.log');
    const t = spawnSync(process.execPath, [VMLAB, 'run', elf, '--trace', trace], { encoding: 'latin1', timeout: 60_000 });
    expect(t.status).toBe(0);
    const lines = readFileSync(trace, 'latin1').split('\n');
    const steps = 137;
    const regs = new Array<number>(32).fill(0);
    for (const line of lines.slice(0, steps)) {
      for (const m of line.matchAll(/ x(\d+) 0x([0-9a-f]{8})/g)) regs[Number(m[1])] = parseInt(m[2], 16);
    }
    const nextPc = parseInt(/ (0x[0-9a-f]{8}) \(/.exec(lines[steps])![1], 16);
    const v = await startVmlab([]);
    const out = gdb(v.port, [`stepi ${steps}`, 'info registers', 'kill']);
    await v.done;
    const reported = new Map<string, number>();
    for (const m of out.matchAll(/^(\w+)\s+0x([0-9a-f]+)\s/gm)) reported.set(m[1], parseInt(m[2], 16));
    expect(reported.get('pc')).toBe(nextPc);
    const names = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 'fp', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7',
      's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];
    for (let r = 1; r < 32; r++) expect(reported.get(names[r]), names[r]).toBe(regs[r] >>> 0);
  }, 120_000);

  it('ends the run when gdb kills it, and says so', async () => {
    const v = await startVmlab([]);
    gdb(v.port, ['break after_loop', 'continue', 'kill']);
    const run = await v.done;
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/^vmlab: killed by the debugger after \d+ instructions/m);
    expect(run.stdout).toBe('');
  }, 60_000);

  it('refuses a bad port, --gdb-wait alone and --gdb with --trace in one line each', async () => {
    const cases: [string[], RegExp][] = [
      [['--gdb', 'abc'], /--gdb.*expected a TCP port number \(0 to 65535\), got 'abc'/],
      [['--gdb', '70000'], /expected a TCP port number/],
      [['--gdb-wait'], /--gdb-wait needs --gdb PORT/],
      [['--gdb', '0', '--trace', join(dir, 't.log')], /--trace and --gdb cannot be used together/],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, [VMLAB, 'run', elf, ...args], { encoding: 'latin1', timeout: 30_000 });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    const holder = createServer();
    const port = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)));
    const r = spawnSync(process.execPath, [VMLAB, 'run', elf, '--gdb', String(port)], { encoding: 'latin1', timeout: 30_000 });
    holder.close();
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`vmlab: --gdb ${port}: the port is in use`);
  }, 60_000);
});
