// The VMM's physical harts translate guest code with the same backend as a bare machine: the host
// RAM's WebAssembly arena holds room for both the trap hart and the H-capable hw hart (made at the
// first hw VM), so a hw-mode guest's loop runs in WebAssembly regions too, with bare's output and
// instruction count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { jitDefaults } from '../../src/engine/cpu/jit';
import type { JitBackend } from '../../src/engine/cpu/jit-wasm';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { Vmm } from '../../src/engine/vmm/vmm';

const SOURCE = `
  .equ UART, 0x10000000
  .equ FINISHER, 0x100000
  .globl _start
_start:
  li    t0, -1
  csrw  pmpaddr0, t0
  li    t0, 0x1f
  csrw  pmpcfg0, t0
  li    t0, 3 << 11
  csrc  mstatus, t0
  li    t0, 1 << 11
  csrs  mstatus, t0
  la    t0, s_main
  csrw  mepc, t0
  mret
s_main:
  li    s2, 200000
  li    s3, 7
1:slli  t1, s3, 5
  xor   s3, s3, t1
  srli  t1, s3, 3
  add   s3, s3, t1
  addi  s2, s2, -1
  bnez  s2, 1b
  li    a1, UART
  li    a3, 28
2:srl   a0, s3, a3
  andi  a0, a0, 15
  addi  a0, a0, 'a'
  sb    a0, 0(a1)
  addi  a3, a3, -4
  bgez  a3, 2b
  li    t0, FINISHER
  li    t1, 0x5555
  sw    t1, 0(t0)
3:j     3b
`;

describe('hw mode with the WebAssembly translator', () => {
  let saved: JitBackend = 'js';
  beforeAll(() => {
    saved = jitDefaults.backend;
    jitDefaults.backend = 'wasm';
  });
  afterAll(() => {
    jitDefaults.backend = saved;
  });

  it('runs the guest loop in WebAssembly regions on the hw hart, as bare and trap do', () => {
    const r = assemble(SOURCE, { file: 'hw-regions.S' });
    if (!r.elf) throw new Error(r.diagnostics.map((d) => `${d.line}: ${d.message}`).join('\n'));
    const bareOut: number[] = [];
    const m = new Machine({ onUart: (b) => bareOut.push(b), cpu: { jit: true } });
    m.loadKernel(r.elf);
    expect(m.run(50_000_000)).toBe(StopReason.EXIT);
    expect(m.hart.code?.wasm).toBeDefined();

    const vmm = new Vmm({ hostRamSize: 256 << 20, jit: true });
    for (const mode of ['trap', 'hw'] as const) {
      const out: number[] = [];
      const vm = vmm.createVm({ name: mode, mode, kernel: r.elf, memSize: 64 << 20, onUart: (b) => out.push(b) });
      while (vm.runnable) vmm.runVm(vm, 1_000_000);
      expect({ state: vm.state, reason: vm.crashReason }).toEqual({ state: 'halted', reason: undefined });
      expect(Buffer.from(out).toString('latin1')).toBe(Buffer.from(bareOut).toString('latin1'));
      expect(vm.stats.instructions).toBe(m.hart.instret);
    }
    for (const hart of [vmm.hart, vmm.hwHart]) {
      expect(hart.code?.wasm).toBeDefined();
      // Most of the loop's 1.2 M instructions ran in regions.
      expect(hart.code!.stats.blockInsns).toBeGreaterThan(1_000_000);
    }
  });
});
