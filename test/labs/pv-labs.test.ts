// The para-virtual labs (labs/*/…-pv.S): each, run in pv mode, prints what its unmodified kernel
// prints bare (the lab's expected output), and calls the VMM where the unmodified kernel executed
// an instruction that does not trap; the unmodified kernel does not run in pv mode.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleFile, formatDiagnostic } from '../../src/cli/kernel-input';
import { assemble } from '../../src/engine/asm/index';
import { SBI_KERNEL_ADDRESS } from '../../src/engine/machine/boot';
import { Vmm } from '../../src/engine/vmm/vmm';
import { RawDisk } from '../../src/engine/disk/raw';
import { MemoryByteStore } from '../../src/engine/disk/types';
import type { DiskAttachment } from '../../src/engine/machine/board';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { REPO_ROOT } from '../support/build';

const LABS_DIR = join(REPO_ROOT, 'labs');

function build(file: string, base?: number): Uint8Array {
  const r = assembleFile(join(LABS_DIR, file), base === undefined ? {} : { base });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !r.elf) throw new Error(errors.map(formatDiagnostic).join('\n'));
  return r.elf;
}

function assembleSource(text: string): Uint8Array {
  const r = assemble(text, { file: 'paging-pv.S', base: SBI_KERNEL_ADDRESS });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.elf;
}

function runPv(kernel: Uint8Array, xsensitive: boolean, disks: DiskAttachment[] = []) {
  const out: number[] = [];
  const vmm = new Vmm({ hostRamSize: 512 << 20 });
  const vm = vmm.createVm({ name: 'pv', mode: 'pv', kernel, memSize: 128 << 20, cpu: { xsensitive }, disks, onUart: (b) => out.push(b) });
  for (let i = 0; i < 50 && vm.state === 'running'; i++) vmm.run(1_000_000);
  return { vm, output: Buffer.from(out).toString('latin1') };
}

describe('traps-pv.S', () => {
  it('prints traps.S\'s bare output but its M-mode boot in pv mode, entering the user program by return_to_user', () => {
    const { vm, output } = runPv(build('traps/traps-pv.S', SBI_KERNEL_ADDRESS), false);
    const bare = readFileSync(join(LABS_DIR, 'traps', 'expected-output.txt'), 'latin1');
    expect(vm.crashReason).toBeUndefined();
    expect(output).toBe(bare.split('\n').filter((l) => !l.startsWith('[M] ')).join('\n'));
    expect(vm.exitCode).toBe(0);
    expect(vm.stats.hypercalls).toEqual({ 'pv.return_to_user': 1 });
  });
});

describe('paging-pv.S', () => {
  it('builds the lecture\'s mapping, installs it with set_root and prints expected-output-pv.txt', () => {
    const { vm, output } = runPv(build('paging/paging-pv.S', SBI_KERNEL_ADDRESS), false);
    expect(vm.crashReason).toBeUndefined();
    expect(output).toBe(readFileSync(join(LABS_DIR, 'paging', 'expected-output-pv.txt'), 'latin1'));
    expect(vm.exitCode).toBe(0);
    expect(vm.stats.hypercalls).toEqual({ 'pv.set_root': 2 });
    expect(vm.stats.writeProtectFaults).toBe(0);
    // Its [S] lines about the mapping and the accesses are the unmodified kernel's bare lines.
    const bare = readFileSync(join(LABS_DIR, 'paging', 'expected-output.txt'), 'latin1').split('\n');
    for (const line of bare.filter((l) => /^\[S\] (wrote|read|loading|trap|paging on)|leaf\[/.test(l))) expect(output).toContain(line);
  });

  it('set_root refuses the unmodified mapping (the tables\' megapage writable) and nothing is translated', () => {
    const src = readFileSync(join(LABS_DIR, 'paging', 'paging-pv.S'), 'latin1').replace('| RAM_RO          # root[0x200]', '| CODE            # root[0x200]');
    const r = assembleSource(src);
    const { vm } = runPv(r, false);
    expect(vm.stats.pvRefused).toBe(1);
  });
});

describe('disk-pv.S', () => {
  it('counts its boots in sector 0 through blk_rw, in the format disk.S keeps, and needs a disk', () => {
    const store = new MemoryByteStore(1 << 20);
    const pv = build('disk/disk-pv.S', SBI_KERNEL_ADDRESS);
    for (const n of [1, 2]) {
      const { vm, output } = runPv(pv, false, [{ device: new RawDisk(store) }]);
      expect(output).toBe(`disk through blk_rw (no virtqueue)\nboot ${n}\n`);
      expect(vm.exitCode).toBe(0);
      expect(vm.stats.hypercalls).toEqual({ 'pv.blk_rw': 2 });
    }
    // The unmodified kernel, bare with its virtio driver, finds the count the pv kernel left.
    let out = '';
    const m = new Machine({ disks: [{ device: new RawDisk(store) }], onUart: (b) => { out += String.fromCharCode(b); } });
    m.loadKernel(build('disk/disk.S'));
    let reason = StopReason.BUDGET;
    for (let i = 0; i < 20 && reason !== StopReason.EXIT; i++) reason = m.run(1_000_000);
    expect(out).toMatch(/\nboot 3\n$/);
    const none = runPv(pv, false);
    expect(none.output).toBe('disk through blk_rw (no virtqueue)\ndisk request failed\n');
    expect(none.vm.exitCode).toBe(2);
  });
});

describe('sensitive-pv.S', () => {
  it('prints sensitive.S\'s bare output in pv mode, with set_irq and return_to_user for setsie and touser', () => {
    const { vm, output } = runPv(build('sensitive/sensitive-pv.S', SBI_KERNEL_ADDRESS), true);
    expect(vm.crashReason).toBeUndefined();
    expect(output).toBe(readFileSync(join(LABS_DIR, 'sensitive', 'expected-output.txt'), 'latin1'));
    expect(vm.exitCode).toBe(0);
    expect(vm.stats.hypercalls).toEqual({ 'pv.set_irq': 2, 'pv.return_to_user': 1 });
    expect(vm.stats.pvRefused).toBe(0);
  });

  it('the unmodified sensitive.S crashes in pv mode: its M-mode boot has no M-mode to run in', () => {
    const { vm } = runPv(build('sensitive/sensitive.S'), true);
    expect(vm.state).toBe('crashed');
  });
});
