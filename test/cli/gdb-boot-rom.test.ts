// gdb in the boot ROM: under `vmlab run --gdb 0 --gdb-wait`, gdb-multiarch's first stop is the reset
// vector, `stepi` moves one guest instruction through the ROM (gdb steps RISC-V in software, by a
// breakpoint at the next pc and a continue), breakpoints in the ROM and at the kernel entry stop
// there, with the registers QEMU's gdbstub shows for the same guest run bare (`-bios none -S`),
// bare and in every VM mode whose guest boots through the ROM (pv boots as under --bios sbi, at
// the kernel entry: its first stop, a step and a breakpoint two instructions on are checked there).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GUEST_DIR, REPO_ROOT, buildGuest } from '../support/build';
import { runGdb, startQemuGdb, startVmlabGdb } from '../support/gdb-session';
import { tool } from '../support/tools';
import { assembleFile } from '../../src/cli/kernel-input';
import { SBI_KERNEL_ADDRESS } from '../../src/engine/machine/boot';

const dir = mkdtempSync(join(tmpdir(), 'vmlab-gdb-rom-'));
let elf = '';
let qemuTranscript: Promise<{ transcript: string; stdout: string }> | undefined;

beforeAll(async () => {
  tool('gdb-multiarch');
  tool('qemu-system-riscv32');
  elf = await buildGuest(join(GUEST_DIR, 'debug', 'gdb-target.S'));
}, 120_000);

/** gdb-multiarch in batch mode with `commands` against 127.0.0.1:port; its transcript. */
const gdb = (port: number, commands: string[], symbols = elf): string => runGdb(dir, port, commands, symbols);

/** Through the ROM one instruction at a time, to a breakpoint in it, to the kernel entry and one step on. */
const SESSION = [
  'info registers pc',
  'stepi',
  'info registers pc',
  'x/i $pc',
  'stepi',
  'info registers pc t0 a2',
  'break *0x1014',
  'continue',
  'info registers',
  'break *0x80000000',
  'continue',
  'info registers',
  'stepi',
  'info registers pc',
  'detach',
];

function qemuSession(): Promise<{ transcript: string; stdout: string }> {
  qemuTranscript ??= (async () => {
    const q = await startQemuGdb(elf);
    const transcript = gdb(q.port, SESSION);
    const run = await q.done;
    return { transcript, stdout: run.stdout.replace(/\r\n/g, '\n') };
  })();
  return qemuTranscript;
}

describe('gdb in the boot ROM', () => {
  for (const mode of ['bare', 'emulate', 'trap', 'bt', 'hw']) {
    it(`stops at the reset vector, steps through the ROM and stops at breakpoints there as QEMU does (${mode})`, async () => {
      const expected = await qemuSession();
      expect(expected.transcript).toMatch(/^pc\s+0x1000\s/m);
      expect(expected.transcript).toMatch(/^pc\s+0x1004\s/m);
      expect(expected.transcript).toMatch(/^pc\s+0x1008\s/m);
      expect(expected.transcript).toContain('Breakpoint 1, 0x00001014');
      expect(expected.transcript).toContain('Breakpoint 2, _start ()');
      expect(expected.transcript).toMatch(/^pc\s+0x80000004\s+0x80000004 <_start\+4>/m);
      const v = await startVmlabGdb(elf, mode === 'bare' ? [] : ['--mode', mode]);
      const got = gdb(v.port, SESSION);
      const run = await v.done;
      expect(got).toBe(expected.transcript);
      expect(run.stdout).toBe(expected.stdout);
      expect(run.code).toBe(0);
    }, 120_000);
  }

  it('stops a pv kernel first at its entry and steps it one instruction (pv boots at the kernel, as under --bios sbi)', async () => {
    const pvElf = join(dir, 'traps-pv.elf');
    const built = assembleFile(join(REPO_ROOT, 'labs', 'traps', 'traps-pv.S'), { base: SBI_KERNEL_ADDRESS });
    writeFileSync(pvElf, built.elf!);
    const entry = SBI_KERNEL_ADDRESS >>> 0;
    const v = await startVmlabGdb(pvElf, ['--mode', 'pv']);
    const out = gdb(v.port, ['info registers pc', 'stepi', 'info registers pc', `break *${entry + 8}`, 'continue', 'info registers pc', 'kill'], pvElf);
    await v.done;
    const pcs = [...out.matchAll(/^pc\s+0x([0-9a-f]+)\s/gm)].map((m) => parseInt(m[1], 16));
    expect(pcs).toEqual([entry, entry + 4, entry + 8]);
  }, 120_000);
});
