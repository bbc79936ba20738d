// pv mode (src/engine/vmm/pv): test/guests/pv/pv-calls.S calls every PV function, hostile calls
// included, and prints each answer; test/guests/pv/pv-calls.expected is what the ABI in
// docs/reference.md says it must print (the errors are the SBI's: -2 NOT_SUPPORTED, -3
// INVALID_PARAM, -4 DENIED, -5 INVALID_ADDRESS). Beyond the output: what the VMM counted (no
// write-protection fault, every refusal), what blk_rw did to the disk, that a refusal changed
// nothing in the guest's tables, and that a pv kernel in another mode is told the extension is absent.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleFile, formatDiagnostic } from '../../src/cli/kernel-input';
import { SBI_KERNEL_ADDRESS } from '../../src/engine/machine/boot';
import { RawDisk } from '../../src/engine/disk/raw';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { PvVcpu } from '../../src/engine/vmm/pv/pv-vcpu';
import { Vmm } from '../../src/engine/vmm/vmm';
import type { VmMode } from '../../src/engine/vmm/vm';
import { GUEST_DIR } from '../support/build';

function build(path: string): Uint8Array {
  const r = assembleFile(join(GUEST_DIR, path), { base: SBI_KERNEL_ADDRESS });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !r.elf) throw new Error(errors.map(formatDiagnostic).join('\n'));
  return r.elf;
}

const kernel = build('pv/pv-calls.S');
const expected = readFileSync(join(GUEST_DIR, 'pv', 'pv-calls.expected'), 'latin1');

function run(mode: VmMode, withDisk = true, rounds = 50) {
  const image = new Uint8Array(1 << 20);
  image.set([0x44, 0x49, 0x53, 0x4b], 0); // "DISK"
  const store = new MemoryByteStore(image);
  let out = '';
  const vmm = new Vmm({ hostRamSize: 256 << 20 });
  const vm = vmm.createVm({
    name: 'pv', mode, kernel, memSize: 16 << 20, sbi: true,
    disks: withDisk ? [{ device: new RawDisk(store) }] : [], onUart: (b) => { out += String.fromCharCode(b); },
  });
  for (let i = 0; i < rounds && vm.state === 'running'; i++) vmm.run(1_000_000);
  return { vmm, vm, out, store };
}

describe('pv mode', () => {
  it('answers every PV function as the ABI says, refusing the hostile calls', () => {
    const { vm, out, store } = run('pv');
    expect(vm.crashReason).toBeUndefined();
    expect(out).toBe(expected);
    expect(vm.exitCode).toBe(0);
    // blk_rw wrote sector 0's bytes as sector 1.
    expect([...store.contents().subarray(512, 516)]).toEqual([0x44, 0x49, 0x53, 0x4b]);
    const s = vm.stats;
    expect(s.writeProtectFaults).toBe(0);
    expect(s.shadowSyncs).toBe(0);
    expect(s.pvPteUpdates).toBe(2);
    // 11 refused hypercalls, the store to a table page and the csrw satp.
    const refusedLines = expected.split('\n').filter((l) => /^(mmu_update\.|set_root\.outside|csr_write\.satp|csr_read\.mstatus|unknown_function|blk_rw\.(beyond|into|outside))/.test(l));
    expect(refusedLines.every((l) => / ffff/.test(l))).toBe(true);
    expect(s.pvRefused).toBe(refusedLines.length + 2);
    expect(s.hypercalls['pv.mmu_update']).toBe(6);
    expect(s.hypercalls['pv.blk_rw']).toBe(5);
    expect(s.hypercalls['pv.return_to_user']).toBe(1);
    expect(s.hypercalls['pv.set_irq']).toBe(2);
    // set_root: the first, off, again, and the one refused.
    expect(s.hypercalls['pv.set_root']).toBe(4);
  });

  it('a refused batch leaves the guest\'s table entries and the registry as they were', () => {
    const { vmm, vm } = run('pv');
    const vcpu = vmm.vcpu(vm) as PvVcpu;
    const tables = vcpu.tables;
    const registered = [...tables.pages.keys()].sort();
    expect(registered.length).toBe(3); // root, l0, l0b
    const root = registered.find((g) => tables.pages.get(g)!.level === 1)!;
    const before = new Uint8Array(4096);
    vm.machine.board.dma.read(root * 4096, before);
    // root[0] = a writable megapage over the kernel's 4 MiB, where its table pages are.
    const batch = 0x80a0_0000;
    vm.bus.store(batch, 4, root * 4096);
    vm.bus.store(batch + 4, 4, ((0x80400 << 10) | 0xcf) >>> 0);
    const x = new Int32Array(32);
    x[10] = batch;
    x[11] = 1;
    expect(vcpu.call(2, x)).toBe(true);
    expect(x[10]).toBe(-4);
    expect(vcpu.refusal).toMatch(/writable/);
    const after = new Uint8Array(4096);
    vm.machine.board.dma.read(root * 4096, after);
    expect(after).toEqual(before);
    expect([...tables.pages.keys()].sort()).toEqual(registered);
  });

  it('without a disk blk_rw is NOT_SUPPORTED', () => {
    const { out } = run('pv', false);
    expect(out).toContain('blk_rw.read fffffffe 00000000\r\n');
  });

  it('in trap mode the same kernel learns that the PV extension is absent', () => {
    const { out } = run('trap', true, 1);
    expect(out.split('\r\n')[0]).toBe('features fffffffe 00000000');
  });
});
