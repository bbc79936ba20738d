// vm.create with a firmware, an initrd and a command line (QEMU's -bios, -initrd, -append) through
// the lab service and its workers: the project's own SBI firmware (test/guests/boot/mini-sbi.S)
// boots the S-mode kernel that uses only SBI (sbi-payload.S) on a bare machine and in each VM mode.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleFile } from '../../src/cli/kernel-input';
import { LabService } from '../../src/host/lab-service';
import type { MachineStatus } from '../../src/shared/lab-api';
import { GUEST_DIR } from '../support/build';
import { recordEvents, until } from '../support/lab';

let lab: LabService;
let root: string;
const consoleText = new Map<string, string>();
const latest = new Map<string, MachineStatus>();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vmlab-vm-boot-'));
  for (const [name, base] of [['mini-sbi', 0x8000_0000], ['sbi-payload', 0x8040_0000]] as const) {
    const r = assembleFile(join(GUEST_DIR, 'boot', `${name}.S`), { base });
    writeFileSync(join(root, `${name}.elf`), r.elf!);
  }
  writeFileSync(join(root, 'initrd.img'), new Uint8Array(3000).fill(0x5a));
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { consoleText, latest });
});

afterAll(() => lab.dispose());

const create = (params: Record<string, unknown>): Promise<MachineStatus> => lab.call('vm.create', params) as Promise<MachineStatus>;

describe('vm.create with bios, initrd and append', () => {
  for (const mode of ['bare', 'emulate', 'trap', 'bt'] as const) {
    it(`${mode}: the firmware starts the kernel, which shuts the machine down through SBI (exit 0)`, async () => {
      const m = await create({ kernel: 'sbi-payload.elf', bios: 'mini-sbi.elf', initrd: 'initrd.img', append: 'console=hvc0', mode, memSize: 64 << 20, name: `sbi-${mode}` });
      await lab.call('vm.run', { id: m.id });
      await until(`${mode} to exit`, () => latest.get(m.id)?.state === 'exited');
      expect(latest.get(m.id)?.exitCode).toBe(0);
      const text = consoleText.get(m.id) ?? '';
      expect(text).toContain('mini-sbi: S-mode kernel at 80400000\n');
      expect(text).toContain('payload: timer interrupt, scause 80000005\n');
      expect(text).toContain('payload: shutdown through SRST\n');
      await lab.call('vm.destroy', { id: m.id });
    });
  }

  it('names the option and the file when one cannot be read', async () => {
    await expect(create({ kernel: 'sbi-payload.elf', bios: 'nope.bin', mode: 'emulate' })).rejects.toThrow(/^bios: .*nope\.bin/);
    await expect(create({ kernel: 'sbi-payload.elf', bios: 'mini-sbi.elf', initrd: 'missing.img' })).rejects.toThrow(/^initrd: .*missing\.img/);
    await expect(create({ kernel: 'sbi-payload.elf', append: 'x'.repeat(5000) })).rejects.toMatchObject({ code: 'bad-request' });
    expect(await lab.call('vm.list', {})).toEqual([]);
  });
});

describe('a VM with boot options kept in the workspace', () => {
  it('stores bios, initrd and append in its .vm.json and comes back with them at the next start', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'vmlab-vm-boot-store-'));
    for (const f of ['mini-sbi.elf', 'sbi-payload.elf', 'initrd.img']) cpSync(join(root, f), join(ws, f));
    const first = await LabService.create({ workspace: ws });
    await first.call('vm.create', { kernel: 'sbi-payload.elf', bios: 'mini-sbi.elf', initrd: 'initrd.img', append: 'console=hvc0', mode: 'trap', memSize: 64 << 20, name: 'kept' });
    await first.dispose();
    expect(JSON.parse(readFileSync(join(ws, '.vmlab', 'kept.vm.json'), 'utf8'))).toMatchObject({
      kernel: '../sbi-payload.elf', bios: '../mini-sbi.elf', initrd: '../initrd.img', append: 'console=hvc0',
    });
    const second = await LabService.create({ workspace: ws });
    try {
      const text = new Map<string, string>();
      const states = new Map<string, MachineStatus>();
      recordEvents(second, { consoleText: text, latest: states });
      const [vm] = (await second.call('vm.list', {})) as MachineStatus[];
      expect(vm.name).toBe('kept');
      await second.call('vm.run', { id: vm.id });
      await until('the restored VM to exit', () => states.get(vm.id)?.state === 'exited');
      expect(text.get(vm.id)).toContain('payload: shutdown through SRST\n');
    } finally {
      await second.dispose();
    }
  });
});
