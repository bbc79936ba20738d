// A page that held a guest page table is freed and filled a byte at a time, then becomes a table
// again (test/guests/vmm/table-reuse.S, as xv6 does with every exiting process's tables). The program
// checks itself and exits 0 on QEMU, bare and in every VMM mode. In a mode that write-protects
// table pages (trap and the modes built on its shadows), the fill must not cost a VM exit per byte:
// without write-flood detection every page that ever held a table exited on each store for the VM's
// lifetime, and xv6's usertests ran at a few per cent of bare speed in trap mode.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { FLOOD_STORES } from '../../src/engine/vmm/shadow';
import { VM_MODES } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { GUEST_DIR, buildAsmGnu } from '../support/build';
import { runQemu } from '../support/qemu';

let elf = '';
beforeAll(async () => {
  elf = await buildAsmGnu(join(GUEST_DIR, 'vmm', 'table-reuse.S'));
}, 60_000);

describe('a page-table page freed, filled and reused', () => {
  it('exits 0 on QEMU and bare', async () => {
    const q = await runQemu(elf);
    expect(q.exitCode, q.stderr).toBe(0);
    const m = new Machine({ ramSize: 64 << 20 });
    m.loadKernel(new Uint8Array(readFileSync(elf)));
    expect(m.run(10_000_000)).toBe(StopReason.EXIT);
    expect(m.exitCode).toBe(0);
  }, 60_000);

  it.each(VM_MODES)('exits 0 in %s mode, with far fewer exits than stores when table pages are write-protected', (mode) => {
    const vmm = new Vmm({ hostRamSize: 64 << 20 });
    const vm = vmm.createVm({ name: 'reuse', mode, kernel: new Uint8Array(readFileSync(elf)), memSize: 16 << 20 });
    for (let i = 0; i < 100 && vm.state === 'running'; i++) vmm.run(100_000);
    expect(vm.state, vm.crashReason ?? '').toBe('halted');
    expect(vm.exitCode).toBe(0);
    // Stores to table pages that exited: the unhooking, at most FLOOD_STORES of the fill, the first
    // stores of the clearing loop before it floods again, and the two new entries; 4096 and more without.
    const tableStores = vm.stats.emulated['page-table-store'] ?? 0;
    if (vmm.trapVcpu(vm) !== undefined) expect(tableStores).toBeLessThan(4 * FLOOD_STORES);
  }, 60_000);
});
