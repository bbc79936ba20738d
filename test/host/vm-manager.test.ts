// The VM manager through the lab service, with the real VMM worker: VMs in each mode beside a
// bare machine, per-VM pause while a neighbour runs, memory in the three spaces, malformed
// requests that change nothing, and the scribble lab crashing while its neighbour keeps running.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src/host/lab-service';
import type { MachineStatus, MemoryBlock, VmStatsInfo } from '../../src/shared/lab-api';
import { recordEvents, until } from '../support/lab';

let lab: LabService;
const consoleText = new Map<string, string>();
const latest = new Map<string, MachineStatus>();
const MiB = 1 << 20;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'vmlab-vms-'));
  for (const name of ['hello', 'paging', 'scribble']) cpSync(join(__dirname, '../../labs', name), join(root, name), { recursive: true });
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { consoleText, latest });
  await lab.call('fs.write', { path: 'spin.S', text: '.globl _start\n_start:\n  addi a0, a0, 1\n  j _start\n' });
});

afterAll(() => lab.dispose());

const create = (params: Record<string, unknown>): Promise<MachineStatus> => lab.call('vm.create', params) as Promise<MachineStatus>;
const list = (): Promise<MachineStatus[]> => lab.call('vm.list', {}) as Promise<MachineStatus[]>;
const status = async (id: string): Promise<MachineStatus> => (await list()).find((s) => s.id === id)!;

describe('malformed VM requests', () => {
  it.each([
    [{ kernel: 'hello/hello.S', mode: 'fast' }, /mode/],
    [{ kernel: 'hello/hello.S', mode: 'trap', placement: 'random' }, /placement/],
    [{ kernel: 'hello/hello.S', mode: 'trap', placement: { explicit: [[0, -1]] } }, /placement/],
    [{ kernel: 'hello/hello.S', mode: 'trap', placement: { explicit: [[5000, 9]] } }, /guest page 0x1388 is outside/],
    [{ kernel: 'hello/hello.S', mode: 'trap', placement: { explicit: [[1, 9], [2, 9]] } }, /host frame 0x9 is used twice/],
    [{ kernel: 'hello/hello.S', mode: 'bare', placement: 'scattered' }, /only a VM/],
    [{ kernel: 'hello/hello.S', mode: 'emulate', memSize: 1000 }, /memSize/],
    [{ kernel: 'hello/hello.S', mode: 'emulate', name: 'no spaces please' }, /name/],
    [{ kernel: 'hello/hello.S', mode: 'emulate', memSize: 1 << 30 }, /free frames left in host RAM/],
  ])('vm.create %j is refused and creates nothing', async (params, message) => {
    await expect(create(params)).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(message) });
    expect(await list()).toEqual([]);
  });

  it('refuses unknown ids and spaces that are not the machine\'s', async () => {
    await expect(lab.call('vm.pause', { id: 'm999' })).rejects.toMatchObject({ code: 'not-found' });
    await expect(lab.call('vm.stats', { id: 'm999' })).rejects.toMatchObject({ code: 'not-found' });
    await expect(lab.call('vm.readMemory', { id: 'm1', address: 0, length: 4, space: 'guest-ish' })).rejects.toMatchObject({ code: 'bad-request' });
    const vm = await create({ kernel: 'hello/hello.S', mode: 'emulate', name: 'probe' });
    await expect(lab.call('vm.readMemory', { id: vm.id, address: 0, length: 4, space: 'physical' })).rejects.toThrow(/guest-virtual, guest-physical, host-physical/);
    await expect(create({ kernel: 'spin.S', mode: 'trap', name: 'probe' })).rejects.toThrow(/named 'probe' exists/);
    // The source debugger works on VMs (test/host/vm-debugger.test.ts), while they are paused.
    expect(await lab.call('vm.stepOver', { id: vm.id })).toMatchObject({ vmState: 'paused', reason: 'step' });
    await lab.call('vm.run', { id: vm.id });
    await expect(lab.call('vm.runTo', { id: vm.id, address: 0x80000000 })).rejects.toMatchObject({ code: 'bad-state', message: expect.stringMatching(/pause it first/) });
    await lab.call('vm.destroy', { id: vm.id });
    expect(await list()).toEqual([]);
  });
});

describe('VMs beside a bare machine', () => {
  let hello: MachineStatus;
  let paging: MachineStatus;
  let bare: MachineStatus;

  it('creates one VM per mode, paused, with name, mode and memory', async () => {
    hello = await create({ kernel: 'hello/hello.S', mode: 'emulate', name: 'hello-vm' });
    paging = await create({ kernel: 'paging/paging.S', mode: 'trap', placement: 'scattered', memSize: 8 * MiB });
    bare = await create({ kernel: 'spin.S' });
    expect(hello).toMatchObject({ mode: 'emulate', name: 'hello-vm', memSize: 16 * MiB, placement: 'contiguous', state: 'paused', vmState: 'paused', pc: 0x1000 });
    expect(paging).toMatchObject({ mode: 'trap', name: 'paging', memSize: 8 * MiB, placement: 'scattered', state: 'paused', vmState: 'paused' });
    expect(bare).toMatchObject({ mode: 'bare', name: 'spin', memSize: 128 * MiB, state: 'paused' });
    expect(bare.vmState).toBeUndefined();
  });

  it('runs each VM with its own console', async () => {
    await lab.call('vm.run', { id: hello.id });
    await lab.call('vm.run', { id: paging.id });
    await until('the greeting', () => (consoleText.get(hello.id) ?? '').includes('Hello from vmlab!'));
    await until('paging to halt', () => latest.get(paging.id)?.vmState === 'halted');
    expect(consoleText.get(paging.id)).toContain('[S] paging on: satp = 0x800800a1');
    expect(consoleText.get(hello.id)).not.toContain('paging');
    expect(consoleText.get(paging.id)).not.toContain('Hello');
    expect(await status(paging.id)).toMatchObject({ state: 'exited', exitCode: 0 });
    await until('hello waiting for input', () => latest.get(hello.id)?.vmState === 'waiting');
    expect(latest.get(hello.id)!.state).toBe('idle');
    await lab.call('vm.input', { id: hello.id, data: new TextEncoder().encode('ok\r') });
    await until('the echo', () => (consoleText.get(hello.id) ?? '').endsWith('ok\r\n'));
  });

  it('shows the virtual hart\'s registers and CSRs', async () => {
    const regs = (await lab.call('vm.registers', { id: paging.id })) as { priv: number; csrs: { name: string; value: number }[] };
    // The paging lab ends in its M-mode handler with the guest's own table still in satp.
    expect(regs.priv).toBe(3);
    expect(regs.csrs.find((c) => c.name === 'satp')!.value).toBe(0x800800a1);
  });

  it('reads the same bytes in guest-physical and host-physical space', async () => {
    const loc = (await lab.call('vm.locate', { id: paging.id, address: 0x800a2000, space: 'guest-physical' })) as { addresses: Record<string, number> };
    const hpa = loc.addresses['host-physical'];
    expect(hpa).toBeGreaterThanOrEqual(0x80000000);
    const gp = (await lab.call('vm.readMemory', { id: paging.id, address: 0x800a2000, length: 64, space: 'guest-physical' })) as MemoryBlock;
    const hp = (await lab.call('vm.readMemory', { id: paging.id, address: hpa, length: 64, space: 'host-physical' })) as MemoryBlock;
    expect(hp.bytes).toEqual(gp.bytes);
    expect([...gp.bytes.subarray(0, 4)]).toEqual([0x01, 0x00, 0xfe, 0xca]);
    // The neighbour's frames are not readable through this VM's inspector.
    const other = (await lab.call('vm.locate', { id: hello.id, address: 0x80000000, space: 'guest-physical' })) as { addresses: Record<string, number> };
    const stolen = (await lab.call('vm.readMemory', { id: paging.id, address: other.addresses['host-physical'], length: 32, space: 'host-physical' })) as MemoryBlock;
    expect(stolen.valid.every((v) => v === 0)).toBe(true);
  });

  it('pauses one VM while another keeps running', async () => {
    const spin = await create({ kernel: 'spin.S', mode: 'trap', name: 'spin-a' });
    const spin2 = await create({ kernel: 'spin.S', mode: 'emulate', name: 'spin-b' });
    await lab.call('vm.run', { id: spin.id });
    await lab.call('vm.run', { id: spin2.id });
    await until('both running', async () => (await status(spin.id)).instret > 1000 && (await status(spin2.id)).instret > 1000);
    const paused = (await lab.call('vm.pause', { id: spin.id })) as MachineStatus;
    expect(paused.vmState).toBe('paused');
    const b0 = (await status(spin2.id)).instret;
    await new Promise((r) => setTimeout(r, 400));
    expect((await status(spin.id)).instret).toBe(paused.instret);
    await until('the neighbour to advance', async () => (await status(spin2.id)).instret > b0);
    const stats = (await lab.call('vm.stats', { id: spin.id })) as VmStatsInfo;
    expect(stats.instructions).toBeGreaterThan(0);
    expect(stats.modeledCycles).toBeGreaterThan(0);
    expect((await lab.call('vm.stats', { id: spin2.id }) as VmStatsInfo).emulated.interpreted).toBeGreaterThan(0);
    await expect(lab.call('vm.stats', { id: bare.id })).rejects.toThrow(/bare machine/);
    for (const id of [spin.id, spin2.id]) await lab.call('vm.destroy', { id });
  });

  it('a crashing guest reports crashed with its reason; its neighbour runs on', async () => {
    const scribble = await create({ kernel: 'scribble/scribble.S', mode: 'trap', name: 'scribble' });
    await lab.call('vm.run', { id: scribble.id });
    await until('scribble to crash', () => latest.get(scribble.id)?.vmState === 'crashed', 60_000);
    const s = await status(scribble.id);
    expect(s).toMatchObject({ state: 'error', vmState: 'crashed' });
    expect(s.crashReason).toMatch(/trap storm|no instruction completed/);
    expect(s.reason).toBe(s.crashReason);
    expect(consoleText.get(scribble.id)).toContain('period 15: 16384 writes');
    const before = consoleText.get(hello.id)!.length;
    await lab.call('vm.input', { id: hello.id, data: new TextEncoder().encode('still here\r') });
    await until('the neighbour\'s echo', () => consoleText.get(hello.id)!.slice(before).includes('still here'));
    // Stop and reset act on the one VM.
    expect(await lab.call('vm.stop', { id: hello.id })).toMatchObject({ vmState: 'stopped' });
    expect(await lab.call('vm.reset', { id: scribble.id })).toMatchObject({ vmState: 'paused', pc: 0x1000 });
  });

  it('destroys VMs; the bare machine stays', async () => {
    for (const id of [hello.id, paging.id]) await lab.call('vm.destroy', { id });
    const left = await list();
    expect(left.map((s) => s.name)).toEqual(['spin', 'scribble']);
  });
});
