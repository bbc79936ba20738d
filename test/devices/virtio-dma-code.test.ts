// A disk read that overwrites code the block translator has already translated (a loader): the
// guest must run the new code, on the bare machine, in a trap-mode VM (where the physical hart's
// translations cover the VM's frames) and in a bt-mode VM (where the VMM's own translation cache
// holds f: the device's write drops f's block). The DMA happens from the test's driver while the
// guest spins.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { RawDisk } from '../../src/engine/disk/raw';
import { MemoryByteStore } from '../../src/engine/disk/types';
import type { PhysicalBus } from '../../src/engine/machine/bus';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { MEMORY_MAP } from '../../src/engine/machine/memory-map';
import { BtVcpu } from '../../src/engine/vmm/bt/bt-vcpu';
import { Vmm } from '../../src/engine/vmm/vmm';
import { TestVirtioDriver } from '../support/virtio-driver';

const SLOT7 = MEMORY_MAP.virtio.base + 7 * MEMORY_MAP.virtio.size;

/**
 * Calls f a hundred times (so it is translated), sets \`ready\` and spins until \`go\` is set, then exits
 * with f's result. f returns 1; the disk holds a version returning 2. The caller and f share one page,
 * so the interpreter enters f's translated block straight from the caller (a call from another page
 * interprets the first instruction of the target).
 */
const GUEST = `
.option norvc
.globl _start
_start:
  la sp, stack_top
  li s1, 100
1:
  call f
  addi s1, s1, -1
  bnez s1, 1b
  la t0, ready
  li t1, 1
  sw t1, 0(t0)
  la s0, go
2:
  lw t0, 0(s0)
  beqz t0, 2b
  call f
  li t1, 0x100000
  slli a0, a0, 16
  li t2, 0x3333
  or a0, a0, t2
  sw a0, 0(t1)
3: j 3b
.balign 512
f:
  li a0, 1
  .rept 12
  addi a0, a0, 0
  .endr
  ret
.balign 4096
go: .word 0
ready: .word 0
.balign 16
stack: .zero 256
stack_top:
`;

function build(): { elf: Uint8Array; f: number; go: number; ready: number } {
  const r = assemble(GUEST, { file: 'dma-code.S', base: 0x8000_0000 });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  const sym = (n: string): number => r.symbols.find((s) => s.name === n)!.address;
  return { elf: r.elf, f: sym('f'), go: sym('go'), ready: sym('ready') };
}

/** Sector 0 of the disk: \`li a0, 2; ret\` (addi a0, zero, 2 = 0x00200513; jalr zero, 0(ra) = 0x00008067), then zeros. */
function diskWithNewF(): RawDisk {
  const img = new Uint8Array(4096);
  new DataView(img.buffer).setUint32(0, 0x00200513, true);
  new DataView(img.buffer).setUint32(4, 0x00008067, true);
  return new RawDisk(new MemoryByteStore(img));
}

/** Reads sector 0 of the disk over f with the test's driver, then sets `go`. */
function loadNewF(bus: PhysicalBus, f: number, go: number): void {
  const d = new TestVirtioDriver(bus, SLOT7, true, 0x8010_0000);
  d.init();
  d.w32(d.buf, 0);
  d.w32(d.buf + 4, 0);
  d.w32(d.buf + 8, 0);
  d.w32(d.buf + 12, 0);
  d.setDesc(0, { addr: d.buf, len: 16, flags: 1, next: 1 });
  d.setDesc(1, { addr: f, len: 512, flags: 3, next: 2 });
  d.setDesc(2, { addr: d.buf + 32, len: 1, flags: 2 });
  d.offer(0);
  expect(d.bus.load(d.buf + 32, 1)).toBe(0);
  bus.store(go, 4, 1);
}

describe('DMA over translated code', () => {
  it('bare machine with the block translator: the guest runs the code the disk brought', () => {
    const { elf, f, go, ready } = build();
    const m = new Machine({ ramSize: 4 << 20, disks: [{ device: diskWithNewF() }] });
    m.loadKernel(elf);
    for (let i = 0; i < 100 && m.bus.load(ready, 4) === 0; i++) m.run(1000);
    expect(m.bus.load(ready, 4)).toBe(1);
    expect(m.hart.code!.translated).toBeGreaterThan(0);
    loadNewF(m.bus, f, go);
    expect(m.run(200_000)).toBe(StopReason.EXIT);
    expect(m.exitCode).toBe(2);
  });

  it('trap-mode VM: the physical hart drops its translations of the VM frame', () => {
    const { elf, f, go, ready } = build();
    const vmm = new Vmm({ hostRamSize: 16 << 20, jit: true });
    const vm = vmm.createVm({ name: 'loader', mode: 'trap', kernel: elf, memSize: 4 << 20, disks: [{ device: diskWithNewF() }], placement: 'scattered' });
    for (let i = 0; i < 100 && vm.bus.load(ready, 4) === 0; i++) vmm.run(1000);
    expect(vm.bus.load(ready, 4)).toBe(1);
    expect(vm.state).toBe('running');
    expect(vmm.hart.code!.translated).toBeGreaterThan(0);
    loadNewF(vm.bus, f, go);
    vmm.run(200_000);
    expect(vm.state).toBe('halted');
    expect(vm.exitCode).toBe(2);
  });

  it('bt-mode VM: the disk\'s write into f drops f\'s translated block', () => {
    const { elf, f, go, ready } = build();
    const vmm = new Vmm({ hostRamSize: 16 << 20 });
    const vm = vmm.createVm({ name: 'loader', mode: 'bt', kernel: elf, memSize: 4 << 20, disks: [{ device: diskWithNewF() }], placement: 'scattered' });
    for (let i = 0; i < 100 && vm.bus.load(ready, 4) === 0; i++) vmm.run(1000);
    expect(vm.bus.load(ready, 4)).toBe(1);
    const cache = (vmm.vcpu(vm) as BtVcpu).cache;
    expect(cache.get(f, 3)?.hits).toBe(100);
    loadNewF(vm.bus, f, go);
    // The 512 bytes from f on cover f's block only: the caller's blocks on the same page stay.
    expect(cache.invalidations().map((x) => [x.cause, x.gpa, x.length, x.blocks])).toEqual([['dma', f, 512, [f]]]);
    expect(cache.get(f, 3)).toBeUndefined();
    vmm.run(200_000);
    expect(vm.state).toBe('halted');
    expect(vm.exitCode).toBe(2);
    expect(vm.stats.translationInvalidations).toBe(1);
  });
});
