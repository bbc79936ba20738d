// A reboot the guest asks for itself (the SiFive test finisher's 0x7777) in every VMM mode, as on
// the bare machine: the VM starts again from its kernel image, reloaded, and runs on. Trap, bt and
// pv ran the guest on the physical hart and never looked at the request: the guest spun in its
// loop after the write, and the reboot never came.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine } from '../../src/engine/machine/machine';
import { ALL_VM_MODES } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';

// Prints 'A' plus the boots its data word counted, counts one more and asks for a reboot. Each
// boot finds the word as the image holds it (0), so every boot prints 'A'.
const SOURCE = `
  .equ UART, 0x10000000
  .equ FINISHER, 0x100000
  .globl _start
_start:
  la    t0, boots
  lw    t1, 0(t0)
  addi  t2, t1, 'A'
  li    a1, UART
  sb    t2, 0(a1)
  addi  t1, t1, 1
  sw    t1, 0(t0)
  li    t0, FINISHER
  li    t1, 0x7777
  sw    t1, 0(t0)
1:j     1b
  .data
boots: .word 0
`;

describe('a reboot the guest asks for', () => {
  const r = assemble(SOURCE, { file: 'guest-reboot.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => `${d.line}: ${d.message}`).join('\n'));
  const elf = r.elf;

  it('bare: every boot starts from the image', () => {
    const out: number[] = [];
    const m = new Machine({ onUart: (b) => out.push(b), cpu: { jit: true } });
    m.loadKernel(elf);
    for (let i = 0; i < 20; i++) m.run(1_000);
    const text = Buffer.from(out).toString('latin1');
    expect(text.length).toBeGreaterThanOrEqual(5);
    expect(text).toBe('A'.repeat(text.length));
  });

  for (const mode of ALL_VM_MODES) {
    it(`${mode}: the VM reboots from its image again and again and runs on`, () => {
      const vmm = new Vmm({ hostRamSize: 64 << 20, jit: true });
      const out: number[] = [];
      const vm = vmm.createVm({ name: mode, mode, kernel: elf, memSize: 16 << 20, onUart: (b) => out.push(b) });
      for (let i = 0; i < 40 && vm.runnable; i++) vmm.runVm(vm, 1_000);
      expect({ state: vm.state, reason: vm.crashReason }).toEqual({ state: 'running', reason: undefined });
      const text = Buffer.from(out).toString('latin1');
      expect(text.length).toBeGreaterThanOrEqual(5);
      expect(text).toBe('A'.repeat(text.length));
    });
  }
});
