// What a page reload and a restart of the app keep (the real workers through the service): each
// console's scrollback on the host, replayed with offsets that tell a page which live chunks it
// already has; VMs stored in the workspace's .vmlab/ (in the format `vmlab vms` reads) and
// recreated, paused, with their consoles, when the service starts again; malformed requests.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readVmFile } from '../../src/cli/commands/vms';
import { ConsoleLog } from '../../src/host/console-log';
import { LabService } from '../../src/host/lab-service';
import type { LabEvents, MachineStatus } from '../../src/shared/lab-api';
import { recordEvents, until } from '../support/lab';

const open: LabService[] = [];
afterEach(async () => {
  for (const lab of open.splice(0)) await lab.dispose();
});

function workspace(): string {
  const root = mkdtempSync(join(tmpdir(), 'vmlab-session-'));
  for (const name of ['hello', 'traps', 'paging']) cpSync(join(__dirname, '../../labs', name), join(root, name), { recursive: true });
  return root;
}

async function service(root: string): Promise<LabService> {
  const lab = await LabService.create({ workspace: root });
  open.push(lab);
  return lab;
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const list = async (lab: LabService): Promise<MachineStatus[]> => (await lab.call('vm.list', {})) as MachineStatus[];
const log = async (lab: LabService, id: string): Promise<LabEvents['vm.console'] & { end: number }> => {
  const r = (await lab.call('vm.consoleLog', { id })) as { data: Uint8Array; end: number };
  return { id, data: r.data, offset: r.end - r.data.length, end: r.end };
};

describe('console log ring', () => {
  it('keeps the newest bytes and counts every byte', () => {
    const ring = new ConsoleLog(8);
    expect(ring.append(new TextEncoder().encode('abc'))).toBe(0);
    expect(ring.append(new TextEncoder().encode('defgh'))).toBe(3);
    expect(text(ring.snapshot().data)).toBe('abcdefgh');
    expect(ring.append(new TextEncoder().encode('ij'))).toBe(8);
    expect(ring.snapshot()).toEqual({ data: new TextEncoder().encode('cdefghij'), end: 10 });
    // A chunk larger than the ring leaves its own last bytes.
    ring.append(new TextEncoder().encode('0123456789xyz'));
    expect(ring.snapshot()).toEqual({ data: new TextEncoder().encode('56789xyz'), end: 23 });
    expect(ring.takeDirty()).toBe(true);
    expect(ring.takeDirty()).toBe(false);
  });
});

describe('a page that attaches late', () => {
  it('gets each console as it was printed, with the offsets of the live chunks', async () => {
    const lab = await service(workspace());
    const chunks: LabEvents['vm.console'][] = [];
    lab.subscribe((event, payload) => {
      if (event === 'vm.console') chunks.push(payload as LabEvents['vm.console']);
    });
    const vm = (await lab.call('vm.create', { kernel: 'hello/hello.S', mode: 'trap' })) as MachineStatus;
    const bare = (await lab.call('vm.create', { kernel: 'hello/hello.elf', name: 'bare-hello', source: 'hello/hello.S' })) as MachineStatus;
    expect(vm.source).toBeUndefined();
    expect(bare.source).toBe('hello/hello.S');
    expect((await list(lab)).find((s) => s.id === bare.id)?.source).toBe('hello/hello.S');
    for (const m of [vm, bare]) await lab.call('vm.run', { id: m.id });
    await lab.call('vm.input', { id: vm.id, data: new TextEncoder().encode('xyz') });
    await until('both greetings and the echo', () => {
      const all = (id: string): string => chunks.filter((c) => c.id === id).map((c) => text(c.data)).join('');
      return all(vm.id).includes('Hello from vmlab!') && all(vm.id).includes('xyz') && all(bare.id).includes('Hello from vmlab!');
    });
    for (const m of [vm, bare]) {
      const mine = chunks.filter((c) => c.id === m.id);
      let offset = 0;
      for (const c of mine) {
        expect(c.offset).toBe(offset);
        offset += c.data.length;
      }
      const kept = await log(lab, m.id);
      expect(kept.end).toBe(offset);
      expect(text(kept.data)).toBe(mine.map((c) => text(c.data)).join(''));
    }
  });

  it('gives the line map of the build a machine runs, also after its source changed', async () => {
    const lab = await service(workspace());
    const built = (await lab.call('asm.build', { path: 'hello/hello.S' })) as { lineMap: unknown[]; symbols: unknown[] };
    const bare = (await lab.call('vm.create', { kernel: 'hello/hello.elf', source: 'hello/hello.S' })) as MachineStatus;
    const vm = (await lab.call('vm.create', { kernel: 'traps/traps.S', mode: 'emulate' })) as MachineStatus;
    expect(await lab.call('vm.program', { id: bare.id })).toEqual({ lineMap: built.lineMap, symbols: built.symbols });
    const traps = (await lab.call('vm.program', { id: vm.id })) as { lineMap: { line: number }[]; symbols: { name: string }[] };
    expect(traps.symbols.map((s) => s.name)).toContain('_start');
    // A line added at the top and a new build: the running machine keeps its own line map.
    const text = ((await lab.call('fs.read', { path: 'hello/hello.S' })) as { text: string }).text;
    await lab.call('fs.write', { path: 'hello/hello.S', text: `# a new first line\n${text}` });
    const rebuilt = (await lab.call('asm.build', { path: 'hello/hello.S' })) as { lineMap: { line: number }[] };
    expect(rebuilt.lineMap[0].line).toBe(built.lineMap.length > 0 ? (built.lineMap[0] as { line: number }).line + 1 : 1);
    expect(await lab.call('vm.program', { id: bare.id })).toEqual({ lineMap: built.lineMap, symbols: built.symbols });
    await expect(lab.call('vm.program', { id: bare.id, more: 1 })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(lab.call('vm.program', { id: 'm99' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('refuses malformed requests', async () => {
    const lab = await service(workspace());
    await expect(lab.call('vm.consoleLog', { id: 'm9' })).rejects.toMatchObject({ code: 'not-found' });
    await expect(lab.call('vm.consoleLog', { id: 'm1', extra: 1 })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(lab.call('vm.consoleLog', {})).rejects.toMatchObject({ code: 'bad-request' });
    await expect(lab.call('vm.create', { kernel: 'hello/hello.S', source: 7 })).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/source/) });
    expect(await list(lab)).toEqual([]);
  });
});

describe('a restart of the app', () => {
  it('recreates every VM paused, in creation order, with its console; bare machines are not kept', async () => {
    const root = workspace();
    const first = await service(root);
    const consoleText = new Map<string, string>();
    recordEvents(first, { consoleText });
    const traps = (await first.call('vm.create', { kernel: 'traps/traps.S', mode: 'trap', cpu: { xsensitive: true } })) as MachineStatus;
    const hello = (await first.call('vm.create', { kernel: 'hello/hello.S', mode: 'emulate', name: 'greeter', memSize: 8 << 20 })) as MachineStatus;
    await first.call('vm.create', {
      kernel: 'paging/paging.S', mode: 'trap', placement: { explicit: [[0xa1, 0xc0], [0xa2, 0xc1], [0xa3, 0xc4]] },
    });
    await first.call('vm.create', { kernel: 'hello/hello.S' });
    await first.call('vm.run', { id: traps.id });
    await first.call('vm.run', { id: hello.id });
    await until('the traps lab to halt and the greeting', () =>
      (consoleText.get(traps.id) ?? '').includes('ecall #8') && (consoleText.get(hello.id) ?? '').includes('Hello from vmlab!'));
    await until('traps halted', async () => (await list(first)).find((s) => s.id === traps.id)?.vmState === 'halted');
    const printed = consoleText.get(traps.id)!;
    await first.dispose();

    // The stored files are what `vmlab vms` reads.
    const stored = readVmFile(join(root, '.vmlab', 'traps.vm.json'));
    expect(stored).toEqual({ name: 'traps', kernel: '../traps/traps.S', mode: 'trap', memory: '16M', placement: 'contiguous', cpu: 'rv32,xsensitive=on' });
    expect(readVmFile(join(root, '.vmlab', 'paging.vm.json')).placement).toEqual({ explicit: [[0xa1, 0xc0], [0xa2, 0xc1], [0xa3, 0xc4]] });
    expect(readFileSync(join(root, '.vmlab', 'traps.log'), 'utf8')).toBe(printed);
    expect(existsSync(join(root, '.vmlab', 'hello.vm.json'))).toBe(false);

    const second = await service(root);
    expect(second.restoreProblems).toEqual([]);
    const again = await list(second);
    expect(again.map((s) => [s.name, s.mode, s.memSize, s.vmState, s.pc, s.instret])).toEqual([
      ['traps', 'trap', 16 << 20, 'paused', 0x1000, 0],
      ['greeter', 'emulate', 8 << 20, 'paused', 0x1000, 0],
      ['paging', 'trap', 16 << 20, 'paused', 0x1000, 0],
    ]);
    expect(again[2].placement).toEqual({ explicit: [[0xa1, 0xc0], [0xa2, 0xc1], [0xa3, 0xc4]] });
    const trapsLog = text((await log(second, again[0].id)).data);
    expect(trapsLog.startsWith(printed)).toBe(true);
    expect(trapsLog.slice(printed.length)).toMatch(/^\n?\[vmlab started again: traps was recreated from \.vmlab\/traps\.vm\.json, paused before its first instruction\]\n$/);
    // The restored VM runs as the first one did, Xsensitive included.
    const seen = new Map<string, string>();
    recordEvents(second, { consoleText: seen });
    await second.call('vm.run', { id: again[0].id });
    await until('the second run to halt', async () => (await list(second))[0].vmState === 'halted');
    expect(seen.get(again[0].id)).toBe(printed);

    // Removing a VM removes its files: it does not come back.
    await second.call('vm.destroy', { id: again[1].id });
    expect(existsSync(join(root, '.vmlab', 'greeter.vm.json'))).toBe(false);
    expect(existsSync(join(root, '.vmlab', 'greeter.log'))).toBe(false);
    await second.dispose();
    const third = await service(root);
    expect((await list(third)).map((s) => s.name)).toEqual(['traps', 'paging']);
    expect(((await third.call('fs.list', {})) as { path: string }[]).some((f) => f.path.startsWith('.vmlab'))).toBe(false);
  });

  it('keeps a VM\'s disks as created and as attached later, slots and read-only included', async () => {
    const root = workspace();
    const first = await service(root);
    await first.call('disk.create', { path: 'a.img', format: 'raw', size: 1 << 20 });
    await first.call('disk.create', { path: 'b.qcow2', format: 'qcow2', size: 1 << 20 });
    const vm = (await first.call('vm.create', { kernel: 'hello/hello.S', mode: 'trap', disks: [{ path: 'a.img', slot: 3, readOnly: true }] })) as MachineStatus;
    await first.call('vm.attachDisk', { id: vm.id, disk: { path: 'b.qcow2', serial: 'data' } });
    const before = (await first.call('vm.disks', { id: vm.id })) as { path: string; slot: number; readOnly: boolean }[];
    await first.dispose();
    expect(readVmFile(join(root, '.vmlab', 'hello.vm.json')).disks).toEqual([
      { file: '../a.img', readonly: true, legacy: true, slot: 3 },
      { file: '../b.qcow2', readonly: false, legacy: true, serial: 'data' },
    ]);
    const second = await service(root);
    const [again] = await list(second);
    const after = (await second.call('vm.disks', { id: again.id })) as typeof before;
    expect(after.map((d) => [d.path, d.slot, d.readOnly])).toEqual(before.map((d) => [d.path, d.slot, d.readOnly]));
  });

  it('names a stored VM it cannot recreate and restores the others', async () => {
    const root = workspace();
    const first = await service(root);
    await first.call('vm.create', { kernel: 'hello/hello.S', mode: 'trap' });
    await first.call('vm.create', { kernel: 'traps/traps.S', mode: 'emulate' });
    await first.dispose();
    writeFileSync(join(root, '.vmlab', 'broken.vm.json'), '{"name": "broken", "kernel": "../nope.S", "mode": "trap", "memory": "16M"}');
    writeFileSync(join(root, '.vmlab', 'odd.vm.json'), '{"name": "odd", "mode": "hw"}');
    writeFileSync(join(root, '.vmlab', 'escape.vm.json'), '{"name": "escape", "kernel": "../../etc/passwd", "mode": "trap", "memory": "16M"}');
    const second = await service(root);
    expect((await list(second)).map((s) => s.name)).toEqual(['hello', 'traps']);
    expect(second.restoreProblems).toHaveLength(3);
    expect(second.restoreProblems.join('\n')).toMatch(/\.vmlab\/broken\.vm\.json: .*nope\.S/);
    expect(second.restoreProblems.join('\n')).toMatch(/\.vmlab\/odd\.vm\.json: kernel: missing/);
    expect(second.restoreProblems.join('\n')).toMatch(/\.vmlab\/escape\.vm\.json: kernel '\.\.\/\.\.\/etc\/passwd' lies outside the workspace/);
    // The files it could not use stay for the user to mend.
    expect(existsSync(join(root, '.vmlab', 'broken.vm.json'))).toBe(true);
  });
});
