// The worker protocol under load: a guest spinning flat out never blocks requests, progress ticks
// carry MIPS, exits and engine-side errors come back as states, and a dead worker is reported.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src/host/lab-service';
import type { MachineStatus } from '../../src/shared/lab-api';

let lab: LabService;
const statuses: MachineStatus[] = [];

beforeAll(async () => {
  lab = await LabService.create({ workspace: mkdtempSync(join(tmpdir(), 'vmlab-worker-')) });
  lab.subscribe((event, payload) => {
    if (event === 'vm.status') statuses.push(payload as MachineStatus);
  });
  await lab.call('fs.write', { path: 'spin.S', text: '.globl _start\n_start:\n  addi a0, a0, 1\n  j _start\n' });
  await lab.call('fs.write', {
    path: 'exit.S',
    text: '.globl _start\n_start:\n  li t0, 0x100000\n  li t1, (7 << 16) | 0x3333\n  sw t1, 0(t0)\n1: j 1b\n',
  });
});

afterAll(() => lab.dispose());

describe('machine worker', () => {
  it('answers requests within a slice while the guest runs flat out', async () => {
    const { id } = (await lab.call('vm.create', { kernel: 'spin.S' })) as MachineStatus;
    await lab.call('vm.run', { id });
    await new Promise((r) => setTimeout(r, 300));
    const times: number[] = [];
    let last = 0;
    const first = ((await lab.call('vm.registers', { id })) as { x: number[] }).x[10];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const regs = (await lab.call('vm.registers', { id })) as { x: number[] };
      times.push(performance.now() - t0);
      expect(regs.x[10]).toBeGreaterThanOrEqual(last);
      last = regs.x[10];
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(last).toBeGreaterThan(first);
    times.sort((a, b) => a - b);
    expect(times[10]).toBeLessThan(50);
    const tick = statuses.filter((s) => s.id === id && s.state === 'running' && s.mips > 0);
    expect(tick.length).toBeGreaterThan(0);
    const p = (await lab.call('vm.pause', { id })) as MachineStatus;
    expect(p.state).toBe('paused');
    const a = ((await lab.call('vm.registers', { id })) as { x: number[] }).x[10];
    await new Promise((r) => setTimeout(r, 50));
    expect(((await lab.call('vm.registers', { id })) as { x: number[] }).x[10]).toBe(a);
    await lab.call('vm.destroy', { id });
  });

  it('reports the guest exit code through the test finisher', async () => {
    const { id } = (await lab.call('vm.create', { kernel: 'exit.S' })) as MachineStatus;
    await lab.call('vm.run', { id });
    const end = Date.now() + 5000;
    while (!statuses.some((s) => s.id === id && s.state === 'exited') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(statuses.find((s) => s.id === id && s.state === 'exited')).toMatchObject({ exitCode: 7, reason: 'halted, exit code 7' });
    await expect(lab.call('vm.step', { id })).resolves.toMatchObject({ state: 'exited' });
    await lab.call('vm.destroy', { id });
  });

  it('refuses a file that is neither ELF nor fits as a raw image, with the loader message', async () => {
    await lab.call('fs.write', { path: 'broken.elf', text: '\x7fELF\x01\x01\x01' + '\0'.repeat(40) });
    await expect(lab.call('vm.create', { kernel: 'broken.elf' })).rejects.toMatchObject({ code: 'bad-request' });
    expect(await lab.call('vm.list', {})).toEqual([]);
  });
});
