// Trap mode keeps one shadow table per guest context and satp. test/guests/vmm/many-spaces.S switches
// between 40 address spaces with the same virtual pages mapped to pages of their own, and checks
// every load through its own mapping; it exits 0 on QEMU, bare and in every VMM mode with bare's
// instruction count.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { VM_MODES } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { GUEST_DIR, buildAsmGnu } from '../support/build';
import { runQemu } from '../support/qemu';

let elf = '';
let bareInstret = 0;
beforeAll(async () => {
  elf = await buildAsmGnu(join(GUEST_DIR, 'vmm', 'many-spaces.S'));
}, 60_000);

describe('switching between many guest address spaces', () => {
  it('exits 0 on QEMU and bare', async () => {
    const q = await runQemu(elf);
    expect(q.exitCode, q.stderr).toBe(0);
    const m = new Machine({ ramSize: 64 << 20 });
    m.loadKernel(new Uint8Array(readFileSync(elf)));
    expect(m.run(10_000_000)).toBe(StopReason.EXIT);
    expect(m.exitCode).toBe(0);
    bareInstret = m.hart.instret;
  }, 60_000);

  it.each(VM_MODES)('exits 0 in %s mode with bare\'s instruction count', (mode) => {
    const vmm = new Vmm({ hostRamSize: 64 << 20 });
    const vm = vmm.createVm({ name: 'spaces', mode, kernel: new Uint8Array(readFileSync(elf)), memSize: 16 << 20 });
    for (let i = 0; i < 100 && vm.state === 'running'; i++) vmm.run(100_000);
    expect(vm.state, vm.crashReason ?? '').toBe('halted');
    expect(vm.exitCode).toBe(0);
    expect(vm.stats.instructions).toBe(bareInstret);
  }, 60_000);
});
