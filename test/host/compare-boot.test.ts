// compare.run with a firmware, an initrd and a command line (the compare view's Firmware, Initrd and
// Command line): the project's SBI firmware boots its S-mode kernel in every mode, each run ending
// with exit 0 and bare's output; an unreadable firmware is refused naming the option.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleFile } from '../../src/cli/kernel-input';
import { LabService } from '../../src/host/lab-service';
import type { CompareResult } from '../../src/shared/inspect-api';
import { GUEST_DIR } from '../support/build';

let lab: LabService;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'vmlab-compare-boot-'));
  for (const [name, base] of [['mini-sbi', 0x8000_0000], ['sbi-payload', 0x8040_0000]] as const) {
    writeFileSync(join(root, `${name}.elf`), assembleFile(join(GUEST_DIR, 'boot', `${name}.S`), { base }).elf!);
  }
  writeFileSync(join(root, 'initrd.img'), new Uint8Array(2048).fill(7));
  lab = await LabService.create({ workspace: root });
});

afterAll(() => lab.dispose());

describe('compare.run with bios, initrd and append', () => {
  it('boots the firmware and its kernel in every mode, exit 0 and bare\'s output', async () => {
    const r = await lab.call('compare.run', { kernel: 'sbi-payload.elf', bios: 'mini-sbi.elf', initrd: 'initrd.img', append: 'console=hvc0', memSize: 64 << 20 }) as CompareResult;
    expect(r.rows.map((row) => [row.mode, row.end, row.exitCode, row.sameOutput])).toEqual([
      ['bare', 'exit', 0, true], ['emulate', 'exit', 0, true], ['trap', 'exit', 0, true], ['bt', 'exit', 0, true], ['hw', 'exit', 0, true],
    ]);
    expect(r.rows[0].output).toContain('payload: shutdown through SRST\n');
  });

  it('refuses a firmware it cannot read, naming the option', async () => {
    await expect(lab.call('compare.run', { kernel: 'sbi-payload.elf', bios: 'nope.bin' })).rejects.toThrow(/^bios: .*nope\.bin/);
  });
});
