// A firmware + kernel boot as Linux does it through OpenSBI, with programs of the project's own:
// test/guests/boot/mini-sbi.S (M-mode, entered through QEMU's reset vector and fw_dynamic_info) and
// test/guests/boot/sbi-payload.S (S-mode, SBI only, its own Sv32 table, a timer interrupt through
// SBI set_timer, shutdown through SRST). The console output and exit code must be QEMU 7.2's, bare,
// in emulate mode and in trap mode; in a VM the firmware runs in virtual M-mode and the kernel in
// virtual S-mode over its own page table (shadowed in trap mode).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleFile, formatDiagnostic } from '../../src/cli/kernel-input';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { Vmm } from '../../src/engine/vmm/vmm';
import { GUEST_DIR } from '../support/build';
import { QEMU_CPU } from '../support/qemu';
import { tool } from '../support/tools';

const execFileAsync = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'vmlab-firmware-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function build(name: string, base: number): { path: string; bytes: Uint8Array } {
  const r = assembleFile(join(GUEST_DIR, 'boot', `${name}.S`), { base });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !r.elf) throw new Error(errors.map(formatDiagnostic).join('\n'));
  const path = join(work, `${name}.elf`);
  writeFileSync(path, r.elf);
  return { path, bytes: r.elf };
}

const firmware = build('mini-sbi', 0x8000_0000);
const kernel = build('sbi-payload', 0x8040_0000);
let reference = '';

beforeAll(async () => {
  const q = await execFileAsync(tool('qemu-system-riscv32'), ['-machine', 'virt', '-nographic', '-monitor', 'none', '-serial', 'stdio',
    '-m', '128M', '-cpu', QEMU_CPU, '-bios', firmware.path, '-kernel', kernel.path], { encoding: 'latin1', timeout: 30_000 });
  reference = q.stdout;
}, 60_000);

describe('an S-mode kernel that uses only SBI, under a firmware in M-mode', () => {
  it('QEMU runs it to the end (the reference)', () => {
    expect(reference).toContain('mini-sbi: S-mode kernel at 80400000\n');
    expect(reference).toContain('payload: Sv32 on, running at c0');
    expect(reference).toContain('payload: timer interrupt, scause 80000005\n');
    expect(reference).toMatch(/payload: shutdown through SRST\n$/);
  });

  it('bare: the same output, exit 0', () => {
    const out: number[] = [];
    const m = new Machine({ ramSize: 128 << 20, onUart: (b) => out.push(b), firmware: firmware.bytes });
    m.loadKernel(kernel.bytes);
    expect(m.run(10_000_000)).toBe(StopReason.EXIT);
    expect(m.exitCode).toBe(0);
    expect(Buffer.from(out).toString('latin1')).toBe(reference);
  });

  for (const mode of ['emulate', 'trap', 'bt', 'hw'] as const) {
    it(`${mode}: the firmware in virtual M-mode, the kernel in virtual S-mode, the same output, exit 0`, () => {
      const vmm = new Vmm({ hostRamSize: 256 << 20 });
      const out: number[] = [];
      const vm = vmm.createVm({ name: 'sbi', mode, kernel: kernel.bytes, firmware: firmware.bytes, memSize: 128 << 20, onUart: (b) => out.push(b) });
      for (let i = 0; i < 100 && vm.state === 'running'; i++) vmm.runVm(vm, 1_000_000);
      expect(vm.crashReason).toBeUndefined();
      expect(vm.state).toBe('halted');
      expect(vm.exitCode).toBe(0);
      expect(Buffer.from(out).toString('latin1')).toBe(reference);
      // The firmware delegated as OpenSBI does; the kernel's own table is still on.
      expect(vm.vhart.medeleg).toBe(0xb109);
      expect(vm.vhart.satp >>> 31).toBe(1);
      if (mode === 'trap') {
        // Retired instructions by virtual privilege are exact in trap mode (counted at every exit).
        expect(vm.stats.retired[3]).toBeGreaterThan(1000);
        expect(vm.stats.retired[1]).toBeGreaterThan(1000);
        expect(vm.stats.shadowFills).toBeGreaterThan(0);
      }
    });
  }
});
