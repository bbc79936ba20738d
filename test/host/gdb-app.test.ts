// The app's gdb switch (vm.gdb) with the real workers and gdb-multiarch (Debian package
// gdb-multiarch): a bare machine and VMs of the traps lab started through the API take gdb's breakpoint, shows as
// paused and held by gdb in its status while gdb holds it (the app's own run is refused then),
// gdb's registers are the app's, stepping moves it, and after gdb detaches the VM runs on to the
// lab's expected output with the app's breakpoints back. The switch takes a chosen or a free port
// on 127.0.0.1 and says in one line when the chosen one is taken.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src/host/lab-service';
import type { AssembleResult, MachineStatus, RegisterSnapshot } from '../../src/shared/lab-api';
import { recordEvents, until } from '../support/lab';
import { tool } from '../support/tools';

let lab: LabService;
let root: string;
const consoleText = new Map<string, string>();
const latest = new Map<string, MachineStatus>();
const statuses: MachineStatus[] = [];

beforeAll(async () => {
  tool('gdb-multiarch');
  root = mkdtempSync(join(tmpdir(), 'vmlab-gdb-app-'));
  cpSync(join(__dirname, '../../labs/traps'), join(root, 'traps'), { recursive: true });
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { consoleText, latest, statuses });
});

afterAll(() => lab.dispose());

const call = <T>(method: string, params: unknown): Promise<T> => lab.call(method, params) as Promise<T>;

/** Runs gdb-multiarch on `commands` against 127.0.0.1:port; resolves with its transcript when it ends. */
function gdb(port: number, elf: string, commands: string[]): Promise<string> {
  const script = join(root, `script-${port}.gdb`);
  writeFileSync(script, ['set architecture riscv:rv32', `file ${elf}`, 'set confirm off', `target remote 127.0.0.1:${port}`, ...commands].join('\n') + '\n');
  const proc = spawn(tool('gdb-multiarch'), ['-batch', '-nx', '-x', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  // stdout and stderr apart: gdb's complaint that it cannot open the source must not split a register line.
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => { out += d.toString('latin1'); });
  proc.stderr.on('data', (d: Buffer) => { err += d.toString('latin1'); });
  return new Promise((resolve) => proc.on('close', () => resolve(out + err)));
}

const NAMES = ['ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 'fp', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7',
  's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6', 'pc'];
/** x1..x31 and pc from one `info registers` block (gdb leaves out x0). */
function registers(block: string): number[] {
  return NAMES.map((n) => {
    const m = new RegExp(`^${n}\\s+0x([0-9a-f]+)\\s`, 'm').exec(block);
    return m ? parseInt(m[1], 16) : -1;
  });
}

describe('the gdb switch of a VM', () => {
  for (const mode of ['bare', 'trap', 'hw'] as const) {
    it(`holds a ${mode} machine for gdb: breakpoint, registers, step, and the app's controls wait until gdb detaches`, async () => {
      const built = await call<AssembleResult>('asm.build', { path: 'traps/traps.S' });
      const sTrap = built.symbols.find((s) => s.name === 's_trap')!.address;
      const vm = await call<MachineStatus>('vm.create', { kernel: 'traps/traps.S', mode, name: `g-${mode}` });
      const sysExit = built.symbols.find((s) => s.name === 'sys_exit')!.address;
      // An app breakpoint that gdb's session replaces (gdb runs past it) and detach gives back.
      await call('vm.setBreakpoints', { id: vm.id, addresses: [sysExit] });
      const on = await call<MachineStatus>('vm.gdb', { id: vm.id, enabled: true });
      expect(on.gdb).toEqual({ port: expect.any(Number), attached: false });
      const port = on.gdb!.port;
      const session = gdb(port, join(root, built.elfPath!), [
        'break s_trap', 'continue', 'p $priv', 'info registers', 'echo ==held==\\n', 'shell sleep 3',
        'echo ==step==\\n', 'stepi 3', 'info registers', 'delete', 'detach',
      ]);
      await until('gdb to stop the VM at s_trap', () => latest.get(vm.id)?.pc === sTrap && latest.get(vm.id)?.state === 'paused', 30_000);
      const held = latest.get(vm.id)!;
      expect(held).toMatchObject({ state: 'paused', reason: 'held by gdb', gdb: { port, attached: true } });
      if (mode !== 'bare') expect(held.vmState).toBe('paused');
      await expect(call('vm.run', { id: vm.id })).rejects.toMatchObject({
        code: 'bad-state', message: `cannot run ${mode === 'bare' ? 'the machine' : `VM g-${mode}`}: gdb is attached to it (port ${port}); continue, step or detach in gdb, or turn its gdb switch off`,
      });
      await expect(call('vm.step', { id: vm.id })).rejects.toThrow(/gdb is attached/);
      const appRegs = await call<RegisterSnapshot>('vm.registers', { id: vm.id });
      const out = await session;
      const [first, stepped] = out.split('==step==');
      expect(first).toContain('Breakpoint 1, s_trap () at');
      expect(first).toMatch(/\$1 = 1\n/);
      expect(Object.fromEntries(NAMES.map((n, i) => [n, registers(first)[i]]))).toEqual(Object.fromEntries(NAMES.map((n, i) => [n, [...appRegs.x.slice(1), appRegs.pc][i]])));
      const after = registers(stepped);
      expect(after[NAMES.length - 1]).not.toBe(sTrap);
      // Detached: the guest runs on (as QEMU's detach) and the app's breakpoint is back: it stops there.
      await until('the app breakpoint', () => latest.get(vm.id)?.reason === 'breakpoint', 30_000);
      expect(latest.get(vm.id)).toMatchObject({ state: 'paused', pc: sysExit });
      await call('vm.setBreakpoints', { id: vm.id, addresses: [] });
      await call('vm.run', { id: vm.id });
      await until('the machine to end', () => latest.get(vm.id)?.state === 'exited', 30_000);
      expect(consoleText.get(vm.id)).toBe(readFileSync(join(root, 'traps/expected-output.txt'), 'latin1'));
      expect(latest.get(vm.id)!.gdb).toEqual({ port, attached: false });
      // While gdb ran it the status said running, never paused anywhere but where gdb stopped it.
      const mine = statuses.filter((s) => s.id === vm.id && s.gdb?.attached);
      expect(mine.filter((s) => s.state === 'paused').every((s) => s.reason === 'held by gdb')).toBe(true);
      const off = await call<MachineStatus>('vm.gdb', { id: vm.id, enabled: false });
      expect(off.gdb).toBeUndefined();
      await call('vm.destroy', { id: vm.id });
    }, 90_000);
  }

  it('listens on a chosen port and refuses a taken one in one line', async () => {
    const vm = await call<MachineStatus>('vm.create', { kernel: 'traps/traps.S', mode: 'emulate', name: 'ports' });
    const holder = createServer();
    const taken = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)));
    await expect(call('vm.gdb', { id: vm.id, enabled: true, port: taken })).rejects.toMatchObject({
      message: `gdb: port ${taken} of 127.0.0.1 is in use: choose another, or 0 for a free one`,
    });
    holder.close();
    await new Promise((r) => setTimeout(r, 100));
    const on = await call<MachineStatus>('vm.gdb', { id: vm.id, enabled: true, port: taken });
    expect(on.gdb).toEqual({ port: taken, attached: false });
    // Without a debugger attached the app's controls work as before.
    expect(await call<MachineStatus>('vm.step', { id: vm.id, count: 5 })).toMatchObject({ state: 'paused', reason: 'step' });
    await call('vm.gdb', { id: vm.id, enabled: false });
    await expect(call('vm.gdb', { id: vm.id, enabled: true, port: 70000 })).rejects.toMatchObject({ code: 'bad-request' });
  }, 60_000);
});
