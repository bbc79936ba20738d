// Debug triggers against QEMU 7.2 with its default debug=on (test/guests/cpu/triggers.S): tselect and
// tdata1 legalisation, breakpoints on execute, load and store with their cause, epc and tval, in M-
// and S-mode, bare and in every VMM mode. (The corpus compares with QEMU_CPU, which turns debug off.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Vmm } from '../../src/engine/vmm/vmm';
import { GUEST_DIR, buildAsm } from '../support/build';
import { QEMU_CPU, runQemu } from '../support/qemu';
import { runVmlab } from '../support/vmlab';

const QEMU_CPU_DEBUG = QEMU_CPU.replace(',debug=false', '');
let elf: string;
let qemu: { output: string; exitCode: number | null };

beforeAll(async () => {
  elf = await buildAsm(join(GUEST_DIR, 'cpu', 'triggers.S'));
  const q = await runQemu(elf, { cpu: QEMU_CPU_DEBUG });
  expect(q.timedOut, q.stderr).toBe(false);
  qemu = { output: q.output.toString('latin1'), exitCode: q.exitCode };
}, 120_000);

describe('debug triggers', () => {
  it('QEMU has them (the reference is meaningful)', () => {
    expect(QEMU_CPU_DEBUG).not.toContain('debug=false');
    expect(qemu.exitCode).toBe(0);
    expect(qemu.output).toContain('cause=00000003');
  });

  it('bare: the same output as QEMU', () => {
    const v = runVmlab(elf);
    expect({ output: v.output.toString('latin1'), exitCode: v.exitCode }).toEqual(qemu);
  });

  it.each(['emulate', 'trap'] as const)('%s: the same output as QEMU', (mode) => {
    const out: number[] = [];
    const vmm = new Vmm({ hostRamSize: 64 << 20 });
    const vm = vmm.createVm({ name: 'triggers', mode, kernel: new Uint8Array(readFileSync(elf)), onUart: (b) => out.push(b) });
    for (let i = 0; i < 20 && vmm.active; i++) vmm.run(1_000_000);
    expect({ output: Buffer.from(out).toString('latin1'), exitCode: vm.exitCode ?? null }).toEqual(qemu);
  });
});
