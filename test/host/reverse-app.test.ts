// The app's Reverse step and Reverse continue (vm.reverseStep, vm.reverseContinue) through the
// LabService and the real machine worker, on the traps lab: stepping back lands on the registers the
// forward steps showed at the same step, continuing back stops at the previous pass through a
// breakpoint with the registers that pass had, and then at the start of history; a run on from the
// past prints the lab's output once. VMs: test/host/reverse-vm-app.test.ts.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src/host/lab-service';
import type { AssembleResult, MachineStatus, RegisterSnapshot } from '../../src/shared/lab-api';
import { recordEvents, until } from '../support/lab';

let lab: LabService;
const consoleText = new Map<string, string>();
const latest = new Map<string, MachineStatus>();

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'vmlab-reverse-app-'));
  cpSync(join(__dirname, '../../labs/traps'), join(root, 'traps'), { recursive: true });
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { consoleText, latest });
});

afterAll(() => lab.dispose());

const call = <T>(method: string, params: unknown): Promise<T> => lab.call(method, params) as Promise<T>;
const regs = async (id: string): Promise<number[]> => {
  const r = await call<RegisterSnapshot>('vm.registers', { id });
  return [r.pc, r.priv, ...r.x];
};

describe('reverse step and reverse continue in the app', () => {
  it('steps back to the registers each forward step showed, and continues back to the previous breakpoint pass', async () => {
    const built = await call<AssembleResult>('asm.build', { path: 'traps/traps.S' });
    const putc = built.symbols.find((s) => s.name === 'putc')!.address;
    // The whole run's output, for the run that goes back and forth.
    const straight = await call<MachineStatus>('vm.create', { kernel: 'traps/traps.S', mode: 'bare', name: 'straight' });
    await call('vm.run', { id: straight.id });
    await until('the straight run to end', () => latest.get(straight.id)?.state === 'exited');
    const expected = consoleText.get(straight.id)!;
    expect(expected).toContain('[M] boot in M-mode');

    const vm = await call<MachineStatus>('vm.create', { kernel: 'traps/traps.S', mode: 'bare', name: 'back' });
    const forward: number[][] = [await regs(vm.id)];
    for (let i = 0; i < 40; i++) {
      await call('vm.step', { id: vm.id });
      forward.push(await regs(vm.id));
    }
    let s = await call<MachineStatus>('vm.reverseStep', { id: vm.id });
    expect(s.reason).toBe('reverse step');
    expect(await regs(vm.id)).toEqual(forward[39]);
    for (let i = 0; i < 12; i++) await call('vm.reverseStep', { id: vm.id });
    expect(await regs(vm.id)).toEqual(forward[27]);
    await call('vm.step', { id: vm.id, count: 5 });
    expect(await regs(vm.id)).toEqual(forward[32]);

    // putc runs once per character: stop at three passes, recording the registers of each.
    await call('vm.setBreakpoints', { id: vm.id, addresses: [putc] });
    const passes: number[][] = [];
    for (let i = 0; i < 3; i++) {
      await call('vm.run', { id: vm.id });
      await until(`pass ${i + 1} through putc`, () => latest.get(vm.id)?.state === 'paused' && latest.get(vm.id)?.reason === 'breakpoint' && latest.get(vm.id)!.pc === putc);
      passes.push(await regs(vm.id));
    }
    s = await call<MachineStatus>('vm.reverseContinue', { id: vm.id });
    expect(s.reason).toBe('breakpoint');
    expect(await regs(vm.id)).toEqual(passes[1]);
    s = await call<MachineStatus>('vm.reverseContinue', { id: vm.id });
    expect(await regs(vm.id)).toEqual(passes[0]);
    // Passes before the first one recorded (the forward steps went past them), then history's start.
    for (let i = 0; i < 20 && s.reason === 'breakpoint'; i++) {
      s = await call<MachineStatus>('vm.reverseContinue', { id: vm.id });
      if (s.reason === 'breakpoint') expect(s.pc).toBe(putc);
    }
    expect(s.reason).toBe('start of history');
    expect(s.pc).toBe(0x1000);
    expect(s.instret).toBe(0);
    expect(await regs(vm.id)).toEqual(forward[0]);

    // On from the start of history to the end: the output the guest repeats is not shown twice.
    await call('vm.setBreakpoints', { id: vm.id, addresses: [] });
    await call('vm.run', { id: vm.id });
    await until('the run to end', () => latest.get(vm.id)?.state === 'exited');
    expect(consoleText.get(vm.id)).toBe(expected);
    expect(latest.get(vm.id)!.instret).toBe(latest.get(straight.id)!.instret);
  }, 120_000);

  it('refuses an unknown machine', async () => {
    await expect(call('vm.reverseContinue', { id: 'nope' })).rejects.toThrow(/^no machine 'nope'/);
  }, 60_000);
});

