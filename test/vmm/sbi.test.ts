// The SBI the engine answers under `--bios sbi` (src/engine/machine/sbi.ts), bare and in every VMM
// mode, against OpenSBI. The references are the console output of the project's own S-mode kernels
// on QEMU 7.2 with OpenSBI 1.4's fw_dynamic as its firmware (Debian ships no rv32 OpenSBI, so
// `-bios default` does not start there; docs/guests.md builds it), recorded next to the kernels:
//   qemu-system-riscv32 -machine virt -nographic -monitor none -serial stdio -m 128M -cpu QEMU_CPU \
//     -bios fw_dynamic.bin -kernel K.elf </dev/null | sed -n '/^<first line of K>/,$p'
// test/guests/sbi/sbi-calls.S calls every function (errors included); test/guests/boot/sbi-payload.S
// boots as Linux does (Sv32 on, a timer interrupt through SBI, SRST shutdown).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleFile, formatDiagnostic } from '../../src/cli/kernel-input';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { SBI_KERNEL_ADDRESS } from '../../src/engine/machine/boot';
import { SbiExt } from '../../src/engine/machine/sbi';
import { Vmm } from '../../src/engine/vmm/vmm';
import type { VmMode } from '../../src/engine/vmm/vm';
import { GUEST_DIR } from '../support/build';

function build(path: string): Uint8Array {
  const r = assembleFile(join(GUEST_DIR, path), { base: SBI_KERNEL_ADDRESS });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !r.elf) throw new Error(errors.map(formatDiagnostic).join('\n'));
  return r.elf;
}

const KERNELS = [
  { name: 'sbi-calls', elf: build('sbi/sbi-calls.S'), expected: readFileSync(join(GUEST_DIR, 'sbi', 'sbi-calls.expected'), 'latin1') },
  { name: 'sbi-payload', elf: build('boot/sbi-payload.S'), expected: readFileSync(join(GUEST_DIR, 'sbi', 'sbi-payload.opensbi.expected'), 'latin1') },
];

function runBare(elf: Uint8Array): { out: string; exit: number | undefined; machine: Machine } {
  let out = '';
  const machine = new Machine({ sbi: true, onUart: (b) => { out += String.fromCharCode(b); } });
  machine.loadKernel(elf);
  let reason = StopReason.BUDGET;
  for (let i = 0; i < 100 && reason !== StopReason.EXIT; i++) reason = machine.run(1_000_000);
  return { out, exit: machine.exitCode, machine };
}

function runVm(elf: Uint8Array, mode: VmMode): { out: string; vm: ReturnType<Vmm['createVm']> } {
  let out = '';
  const vmm = new Vmm({ hostRamSize: 256 << 20 });
  const vm = vmm.createVm({ name: 'g', mode, kernel: elf, memSize: 64 << 20, sbi: true, onUart: (b) => { out += String.fromCharCode(b); } });
  for (let i = 0; i < 100 && vm.state === 'running'; i++) vmm.run(1_000_000);
  return { out, vm };
}

describe('--bios sbi gives what OpenSBI 1.4 gives on QEMU', () => {
  for (const k of KERNELS) {
    it(`${k.name}: bare`, () => {
      const r = runBare(k.elf);
      expect(r.out).toBe(k.expected);
      expect(r.exit).toBe(0);
    });
    for (const mode of ['emulate', 'trap', 'bt', 'hw'] as const) {
      it(`${k.name}: ${mode} (the VMM answers, counted as hypercalls)`, () => {
        const r = runVm(k.elf, mode);
        expect(r.vm.crashReason).toBeUndefined();
        expect(r.out).toBe(k.expected);
        expect(r.vm.state).toBe('halted');
        expect(r.vm.exitCode).toBe(0);
        const calls = r.vm.stats.hypercalls;
        // Most of the console goes through legacy putchar, one call per byte.
        expect(calls['sbi.legacy.console_putchar']).toBeGreaterThan(300);
        expect(calls['sbi.time.set_timer']).toBeGreaterThanOrEqual(2);
        expect(calls['sbi.dbcn.console_write']).toBeGreaterThanOrEqual(1);
        expect(calls['sbi.srst.system_reset']).toBeGreaterThanOrEqual(1);
      });
    }
  }
});

describe('the state a kernel starts in under --bios sbi', () => {
  it('S-mode at the kernel\'s load address with a0 = hartid, a1 = the device tree, S traps delegated, the timer far away', () => {
    const machine = new Machine({ sbi: true });
    machine.loadKernel(KERNELS[0].elf);
    const h = machine.hart;
    expect(h.priv).toBe(1);
    expect(h.pcU).toBe(SBI_KERNEL_ADDRESS);
    expect(h.x[10]).toBe(0);
    expect(h.x[11] >>> 0).toBe(machine.fdtAddress);
    expect(h.mideleg).toBe(0x222);
    expect(h.medeleg & (1 << 9)).toBe(0);
    expect(h.medeleg & (1 << 8)).not.toBe(0);
    expect(h.mcounteren >>> 0).toBe(0xffffffff);
    expect(machine.clint.nextDeadline()).toBe(Infinity);
    expect(h.readMip() & 0x20).toBe(0);
  });

  it('a raw image is loaded at 0x80400000, where QEMU puts a kernel behind OpenSBI', () => {
    // li a7, 8 (legacy shutdown); ecall
    const raw = new Uint8Array(new Uint32Array([0x00800893, 0x00000073]).buffer);
    const machine = new Machine({ sbi: true });
    machine.loadKernel(raw);
    expect(machine.hart.pcU).toBe(SBI_KERNEL_ADDRESS);
    expect(machine.run(100)).toBe(StopReason.EXIT);
    expect(machine.exitCode).toBe(0);
  });

  it('refuses a firmware file and sbi together in one line', () => {
    expect(() => new Machine({ sbi: true, firmware: new Uint8Array(16) })).toThrow(/^--bios takes 'sbi' or a firmware file, not both$/);
  });

  it('SRST reboot starts the kernel again in S-mode', () => {
    // li a7, SRST; li a6, 0; li a0, 1 (cold reboot); li a1, 0; ecall
    const words = [0x535258b7, 0x35488893, 0x00000813, 0x00100513, 0x00000593, 0x00000073];
    const machine = new Machine({ sbi: true });
    machine.loadKernel(new Uint8Array(new Uint32Array(words).buffer));
    expect(SbiExt.SRST).toBe(0x53525354);
    expect(machine.run(100)).toBe(StopReason.RESET);
    expect(machine.hart.priv).toBe(1);
    expect(machine.hart.pcU).toBe(SBI_KERNEL_ADDRESS);
    expect(machine.exitCode).toBeUndefined();
  });
});
