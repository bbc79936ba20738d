// The app's Reverse step and Reverse continue on VMs (vm.reverseStep, vm.reverseContinue) through the
// LabService and the real VMM worker, in every mode, with a neighbour VM in the same VMM: stepping
// back lands on the registers and instruction count the forward steps showed at the same step, and
// stepping forward again reproduces them; continuing back stops at the previous passes through a
// breakpoint with the registers each pass had, then at the start of the VM's history; a run on from
// there prints the lab's output once with the instruction count of a straight run. The neighbour
// keeps its state meanwhile and runs on to its own output. Console input typed while a VM runs comes
// back at the same steps when it replays its past.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src/host/lab-service';
import type { AssembleResult, MachineStatus, RegisterSnapshot } from '../../src/shared/lab-api';
import { GUEST_DIR, LIB_DIR, REPO_ROOT } from '../support/build';
import { assembleFile } from '../../src/cli/kernel-input';
import { SBI_KERNEL_ADDRESS } from '../../src/engine/machine/boot';
import { recordEvents, until } from '../support/lab';

let lab: LabService;
const consoleText = new Map<string, string>();
const latest = new Map<string, MachineStatus>();

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'vmlab-reverse-vm-'));
  cpSync(join(__dirname, '../../labs/traps'), join(root, 'traps'), { recursive: true });
  cpSync(join(GUEST_DIR, 'debug'), join(root, 'debug'), { recursive: true });
  cpSync(LIB_DIR, join(root, 'debug'), { recursive: true });
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { consoleText, latest });
});

afterAll(() => lab.dispose());

const call = <T>(method: string, params: unknown): Promise<T> => lab.call(method, params) as Promise<T>;
/** pc, privilege, instructions retired and x0..x31. */
const regs = async (id: string): Promise<number[]> => {
  const r = await call<RegisterSnapshot>('vm.registers', { id });
  const s = await call<MachineStatus[]>('vm.list', {});
  return [r.pc, r.priv, s.find((m) => m.id === id)!.instret, ...r.x];
};
const ended = (id: string) => (): boolean => latest.get(id)?.state === 'exited';

describe('reverse step and reverse continue for VMs in the app', () => {
  for (const mode of ['emulate', 'trap', 'bt', 'pv', 'hw'] as const) {
    it(`goes back and forth in a ${mode} VM with the same registers and counts, its neighbour untouched`, async () => {
      const kernel = mode === 'pv' ? 'traps/traps-pv.S' : 'traps/traps.S';
      // A pv kernel is loaded where --bios sbi puts kernels; asm.build links at the start of RAM.
      const built = mode === 'pv' ? assembleFile(join(REPO_ROOT, 'labs', kernel), { base: SBI_KERNEL_ADDRESS }) : await call<AssembleResult>('asm.build', { path: kernel });
      const putc = built.symbols.find((s) => s.name === 'putc')!.address >>> 0;
      const straight = await call<MachineStatus>('vm.create', { kernel, mode, name: `straight-${mode}` });
      await call('vm.run', { id: straight.id });
      await until('the straight run to end', ended(straight.id), 60_000);
      const expected = consoleText.get(straight.id)!;
      expect(expected).toContain('[S] kernel started');

      const neighbour = await call<MachineStatus>('vm.create', { kernel: 'traps/traps.S', mode: 'trap', name: `neighbour-${mode}` });
      await call('vm.step', { id: neighbour.id, count: 25 });
      const neighbourRegs = await regs(neighbour.id);

      const vm = await call<MachineStatus>('vm.create', { kernel, mode, name: `back-${mode}` });
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
      for (let i = 28; i <= 32; i++) {
        await call('vm.step', { id: vm.id });
        expect(await regs(vm.id)).toEqual(forward[i]);
      }

      await call('vm.setBreakpoints', { id: vm.id, addresses: [putc] });
      const passes: number[][] = [];
      for (let i = 0; i < 3; i++) {
        await call('vm.run', { id: vm.id });
        await until(`pass ${i + 1} through putc`, () => latest.get(vm.id)?.state === 'paused' && latest.get(vm.id)?.reason === 'breakpoint');
        passes.push(await regs(vm.id));
        expect(passes[i][0]).toBe(putc);
      }
      s = await call<MachineStatus>('vm.reverseContinue', { id: vm.id });
      expect(s.reason).toBe('breakpoint');
      expect(await regs(vm.id)).toEqual(passes[1]);
      s = await call<MachineStatus>('vm.reverseContinue', { id: vm.id });
      expect(await regs(vm.id)).toEqual(passes[0]);
      for (let i = 0; i < 40 && s.reason === 'breakpoint'; i++) {
        s = await call<MachineStatus>('vm.reverseContinue', { id: vm.id });
        if (s.reason === 'breakpoint') expect(s.pc).toBe(putc);
      }
      expect(s.reason).toBe('start of history');
      expect(await regs(vm.id)).toEqual(forward[0]);
      expect(await regs(neighbour.id)).toEqual(neighbourRegs);

      await call('vm.setBreakpoints', { id: vm.id, addresses: [] });
      await call('vm.run', { id: vm.id });
      await call('vm.run', { id: neighbour.id });
      await until('the runs to their end', () => ended(vm.id)() && ended(neighbour.id)(), 60_000);
      expect(consoleText.get(vm.id)).toBe(expected);
      expect(latest.get(vm.id)!.instret).toBe(latest.get(straight.id)!.instret);
      expect(consoleText.get(neighbour.id)).toBe(readFileSync(join(__dirname, '../../labs/traps/expected-output.txt'), 'latin1'));
      for (const id of [straight.id, neighbour.id, vm.id]) await call('vm.destroy', { id });
    }, 180_000);
  }

  it('replays the console input a VM received at the steps it received it', async () => {
    const straight = await call<MachineStatus>('vm.create', { kernel: 'debug/timed-input.S', mode: 'trap', name: 'typed' });
    await call('vm.run', { id: straight.id });
    await expect(call('vm.reverseStep', { id: straight.id })).rejects.toThrow(/^cannot step back in VM typed while it runs: pause it first$/);
    for (const ch of ['a', 'b', '\n']) {
      await new Promise((r) => setTimeout(r, 150));
      await call('vm.input', { id: straight.id, data: new TextEncoder().encode(ch) });
    }
    await until('the typed run to end', ended(straight.id), 60_000);
    const typed = consoleText.get(straight.id)!;
    const instret = latest.get(straight.id)!.instret;
    const s = await call<MachineStatus>('vm.reverseContinue', { id: straight.id });
    expect(s.reason).toBe('start of history');
    expect(s.instret).toBe(0);
    // Typed while the VM stands in its past: kept for the step where the past ends.
    await call('vm.input', { id: straight.id, data: new TextEncoder().encode('z') });
    await call('vm.run', { id: straight.id });
    await until('the replayed run to end', ended(straight.id), 60_000);
    expect(consoleText.get(straight.id)).toBe(typed);
    expect(latest.get(straight.id)!.instret).toBe(instret);
  }, 120_000);
});
