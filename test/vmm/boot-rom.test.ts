// The boot ROM under trap-and-emulate (vmm/trap/boot-rom.ts): the VMM interprets it for the
// virtual hart on a hart over a copy of the ROM. Stepped one instruction at a time, the virtual
// hart must hold what a bare machine's hart holds after each step, the ROM's own instructions must
// run on the copy, and an instruction the copy cannot give (a load from outside the ROM, a load
// that faults) must run on the virtual hart with the bare machine's result.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import type { Hart } from '../../src/engine/cpu/hart';
import { Machine } from '../../src/engine/machine/machine';
import { MEMORY_MAP } from '../../src/engine/machine/memory-map';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';

const traps = assemble(readFileSync(join(REPO_ROOT, 'labs', 'traps', 'traps.S'), 'latin1'), { file: 'traps.S' });
const ROM = MEMORY_MAP.bootRom.base;
const MEM = 16 << 20;

/** What one step left: pc, registers, counters and the M-mode trap CSRs. */
function state(h: Hart): object {
  return { pc: h.pcU, x: Array.from(h.x), instret: h.instret, mcause: h.mcause, mepc: h.mepc >>> 0, mtval: h.mtval >>> 0 };
}

/** A bare machine and a trap-mode VM (or bt, which boots the same way) on the same kernel. */
function pair(mode: 'trap' | 'bt') {
  const m = new Machine({ ramSize: MEM });
  m.loadKernel(traps.elf!);
  const vmm = new Vmm({ hostRamSize: 64 << 20 });
  const vm = vmm.createVm({ name: 'rom', mode, kernel: traps.elf!, memSize: MEM });
  const runner = vmm.trapVcpu(vm)!.romRunner;
  const step = (): void => {
    m.run(1);
    vmm.runVm(vm, 1);
  };
  return { m, vm, runner, step };
}

describe.each(['trap', 'bt'] as const)('the boot ROM in %s mode', (mode) => {
  it('steps as on a bare machine, on the copy of the ROM', () => {
    const { m, vm, runner, step } = pair(mode);
    expect(vm.vhart.pcU).toBe(ROM);
    let n = 0;
    while (m.hart.pcU >= ROM && m.hart.pcU < ROM + 0x1000 && n < 20) {
      step();
      n++;
      expect(state(vm.vhart)).toEqual(state(m.hart));
      expect(vm.machine.clockSteps).toBe(m.clockSteps);
    }
    // auipc, addi, csrr mhartid, two loads from the ROM, the jump to the kernel.
    expect(n).toBe(6);
    expect(m.hart.pcU).toBe(MEMORY_MAP.ram.base);
    expect(runner.onCopy).toBe(6);
    expect(runner.onVirtualHart).toBe(0);
  });

  it('runs a load from outside the ROM, and one that faults, on the virtual hart as bare does', () => {
    for (const [t0, steps] of [[MEMORY_MAP.ram.base - 32, 2], [0x100, 1]] as const) {
      const { m, vm, runner, step } = pair(mode);
      // To `lw a1, 32(t0)` at ROM + 12, then t0 pointing at guest RAM (the kernel's first words)
      // or at nothing (a load access fault into mtvec).
      for (let i = 0; i < 3; i++) step();
      expect(m.hart.pcU).toBe(ROM + 12);
      m.hart.x[5] = t0;
      vm.vhart.x[5] = t0;
      for (let i = 0; i < steps; i++) {
        step();
        expect(state(vm.vhart)).toEqual(state(m.hart));
      }
      expect(runner.onVirtualHart).toBeGreaterThanOrEqual(1);
    }
  });
});
