// `vmlab run/compare/vms` with --bios, --initrd and --append (QEMU's -bios, -initrd, -append): the
// project's SBI firmware (test/guests/boot/mini-sbi.S) and its S-mode kernel (sbi-payload.S) give
// QEMU 7.2's console output and exit 0 in every mode; bad boot files are one-line errors, exit 2.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assembleFile } from '../../src/cli/kernel-input';
import { GUEST_DIR, REPO_ROOT } from '../support/build';
import { QEMU_CPU } from '../support/qemu';
import { tool } from '../support/tools';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-cli-boot-'));
const fw = join(dir, 'mini-sbi.elf');
const kernel = join(dir, 'sbi-payload.elf');
const initrd = join(dir, 'initrd.img');
let reference = '';

function vmlab(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VMLAB, ...args], { encoding: 'latin1', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  for (const [name, base, out] of [['mini-sbi', 0x8000_0000, fw], ['sbi-payload', 0x8040_0000, kernel]] as const) {
    writeFileSync(out, assembleFile(join(GUEST_DIR, 'boot', `${name}.S`), { base }).elf!);
  }
  writeFileSync(initrd, new Uint8Array(4096).fill(0xa5));
  reference = execFileSync(tool('qemu-system-riscv32'), ['-machine', 'virt', '-nographic', '-monitor', 'none', '-serial', 'stdio', '-m', '128M',
    '-cpu', QEMU_CPU, '-bios', fw, '-kernel', kernel, '-initrd', initrd, '-append', 'console=hvc0'], { encoding: 'latin1', timeout: 30_000 });
}, 60_000);

describe('vmlab run --bios --initrd --append', () => {
  for (const mode of ['bare', 'emulate', 'trap']) {
    it(`${mode}: QEMU's output, exit 0 (SBI shutdown)`, () => {
      const r = vmlab(['run', kernel, '--bios', fw, '--initrd', initrd, '--append', 'console=hvc0', '--mode', mode]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(reference);
      expect(r.code).toBe(0);
    });
  }

  it('assembles a .S firmware at the start of RAM and a .S kernel behind it where QEMU puts it', () => {
    const r = vmlab(['run', join(GUEST_DIR, 'boot', 'sbi-payload.S'), '--bios', join(GUEST_DIR, 'boot', 'mini-sbi.S'), '--initrd', initrd, '--append', 'console=hvc0']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(reference);
    expect(r.code).toBe(0);
  });

  it('refuses unreadable and misplaced boot files in one line, exit 2', () => {
    const missing = vmlab(['run', kernel, '--bios', join(dir, 'nope.bin')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`vmlab: --bios: cannot read '${join(dir, 'nope.bin')}': no such file\n`);
    const big = join(dir, 'big.img');
    writeFileSync(big, new Uint8Array(9 << 20));
    const tooBig = vmlab(['run', kernel, '--bios', fw, '--initrd', big, '--mem', '16M']);
    expect(tooBig.code).toBe(2);
    expect(tooBig.stderr).toMatch(/^vmlab: .*the initrd of 9437184 bytes at 0x80c00000 \(QEMU's place for it\) runs past the end of RAM at 0x81000000: use more memory \(--mem\)\n$/);
    const overlap = vmlab(['run', fw, '--bios', fw]);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toMatch(/^vmlab: .*the firmware \(0x80000000\.\.0x[0-9a-f]+\) and the kernel \(0x80000000\.\.0x[0-9a-f]+\) overlap in RAM/);
  });
});

describe('vmlab compare and vmlab vms with boot options', () => {
  it('compare: every mode gives bare\'s output and exit 0', () => {
    const r = vmlab(['compare', kernel, '--bios', fw, '--initrd', initrd, '--append', 'console=hvc0', '--mem', '64M', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { mode: string; exitCode: number; sameOutput: boolean; outputBytes: number }[];
    expect(rows.map((row) => [row.mode, row.exitCode, row.sameOutput, row.outputBytes])).toEqual(
      ['bare', 'emulate', 'trap', 'bt', 'hw'].map((mode) => [mode, 0, true, reference.length]));
  });

  it('vms: bios, initrd and append in a .vm.json, relative to the file', () => {
    for (const mode of ['emulate', 'trap']) {
      writeFileSync(join(dir, `${mode}.vm.json`), JSON.stringify({ name: mode, kernel: 'sbi-payload.elf', mode, memory: '64M', bios: 'mini-sbi.elf', initrd: 'initrd.img', append: 'console=hvc0' }));
    }
    const r = vmlab(['vms', join(dir, 'emulate.vm.json'), join(dir, 'trap.vm.json')]);
    expect(r.code).toBe(0);
    for (const mode of ['emulate', 'trap']) {
      expect(r.stdout).toContain(`[${mode}] payload: shutdown through SRST\n`);
    }
    writeFileSync(join(dir, 'bad.vm.json'), JSON.stringify({ name: 'bad', kernel: 'sbi-payload.elf', mode: 'trap', bios: 'missing.bin' }));
    const bad = vmlab(['vms', join(dir, 'bad.vm.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.vm\.json: --bios: cannot read '.*missing\.bin': no such file/);
  });
});
