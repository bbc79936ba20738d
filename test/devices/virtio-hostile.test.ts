// A hostile driver against virtio-mmio + virtio-blk: malformed rings put the device into
// DEVICE_NEEDS_RESET (with a configuration interrupt once DRIVER_OK), malformed requests get IOERR or
// UNSUPP, nothing throws, nothing loops, and no byte outside the guest's RAM changes — on the bare
// machine (the UART never sees a DMA) and in a VM beside a neighbour whose RAM stays as it was.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { RawDisk } from '../../src/engine/disk/raw';
import type { PhysicalBus } from '../../src/engine/machine/bus';
import { Machine } from '../../src/engine/machine/machine';
import { MEMORY_MAP } from '../../src/engine/machine/memory-map';
import { FREE } from '../../src/engine/vmm/frames';
import type { Vm } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { R, ST, TestVirtioDriver } from '../support/virtio-driver';

const RAM = 0x8000_0000;
const SLOT7 = MEMORY_MAP.virtio.base + 7 * MEMORY_MAP.virtio.size;
const WFI = new Uint8Array([0x73, 0x00, 0x50, 0x10]);

/** One malformed submission: what the test lays out, and the outcome it expects. */
interface Case {
  name: string;
  /** Arranges descriptors / rings on an initialized driver and notifies. */
  submit(d: TestVirtioDriver, ramEnd: number): void;
  expect: 'needs-reset' | 'ioerr' | 'unsupp';
}

const HDR = (d: TestVirtioDriver, type: number, sector = 0): number => {
  d.w32(d.buf, type);
  d.w32(d.buf + 4, 0);
  d.w32(d.buf + 8, sector);
  d.w32(d.buf + 12, 0);
  return d.buf;
};
const STATUS = (d: TestVirtioDriver): number => d.buf + 0x40;

const CASES: Case[] = [
  { name: 'data buffer in the UART', expect: 'needs-reset', submit(d) {
    d.setDesc(0, { addr: HDR(d, 0), len: 16, flags: 1, next: 1 });
    d.setDesc(1, { addr: MEMORY_MAP.uart0.base, len: 512, flags: 3, next: 2 });
    d.setDesc(2, { addr: STATUS(d), len: 1, flags: 2 });
    d.offer(0);
  } },
  { name: 'data buffer running past the end of RAM', expect: 'needs-reset', submit(d, ramEnd) {
    d.setDesc(0, { addr: HDR(d, 0), len: 16, flags: 1, next: 1 });
    d.setDesc(1, { addr: ramEnd - 256, len: 512, flags: 3, next: 2 });
    d.setDesc(2, { addr: STATUS(d), len: 1, flags: 2 });
    d.offer(0);
  } },
  { name: 'buffer above 4 GiB', expect: 'needs-reset', submit(d) {
    d.setDesc(0, { addr: HDR(d, 0), len: 16, flags: 1, next: 1 });
    d.setDesc(1, { addr: d.buf + 0x1000, addrHi: 1, len: 512, flags: 3, next: 2 });
    d.setDesc(2, { addr: STATUS(d), len: 1, flags: 2 });
    d.offer(0);
  } },
  { name: 'descriptor loop', expect: 'needs-reset', submit(d) {
    d.setDesc(0, { addr: HDR(d, 0), len: 16, flags: 1, next: 1 });
    d.setDesc(1, { addr: d.buf + 0x1000, len: 512, flags: 3, next: 0 });
    d.offer(0);
  } },
  { name: 'zero-length descriptor', expect: 'needs-reset', submit(d) {
    d.setDesc(0, { addr: HDR(d, 0), len: 16, flags: 1, next: 1 });
    d.setDesc(1, { addr: d.buf + 0x1000, len: 0, flags: 3, next: 2 });
    d.setDesc(2, { addr: STATUS(d), len: 1, flags: 2 });
    d.offer(0);
  } },
  { name: 'head index past the queue', expect: 'needs-reset', submit(d) {
    d.offer(d.qsize + 3);
  } },
  { name: 'next index past the queue', expect: 'needs-reset', submit(d) {
    d.setDesc(0, { addr: HDR(d, 0), len: 16, flags: 1, next: 0xffff });
    d.offer(0);
  } },
  { name: 'avail index moved by more than the queue size', expect: 'needs-reset', submit(d) {
    d.setAvailIdx(d.qsize + 1);
    d.setReg(R.QUEUE_NOTIFY, 0);
  } },
  { name: 'readable descriptor after a writable one', expect: 'needs-reset', submit(d) {
    d.setDesc(0, { addr: STATUS(d), len: 1, flags: 3, next: 1 });
    d.setDesc(1, { addr: HDR(d, 0), len: 16, flags: 0 });
    d.offer(0);
  } },
  { name: 'request without a status byte', expect: 'needs-reset', submit(d) {
    d.setDesc(0, { addr: HDR(d, 0), len: 16, flags: 0 });
    d.offer(0);
  } },
  { name: 'nested indirect table', expect: 'needs-reset', submit(d) {
    const t = d.buf + 0x800;
    d.w32(t, t);
    d.w32(t + 4, 0);
    d.w32(t + 8, 16);
    d.w16(t + 12, 4);
    d.setDesc(0, { addr: t, len: 16, flags: 4 });
    d.offer(0);
  } },
  { name: 'indirect table with a loop', expect: 'needs-reset', submit(d) {
    const t = d.buf + 0x800;
    for (let i = 0; i < 2; i++) {
      d.w32(t + 16 * i, HDR(d, 0));
      d.w32(t + 16 * i + 4, 0);
      d.w32(t + 16 * i + 8, 16);
      d.w16(t + 16 * i + 12, 1);
      d.w16(t + 16 * i + 14, 1 - i);
    }
    d.setDesc(0, { addr: t, len: 32, flags: 4 });
    d.offer(0);
  } },
  { name: 'indirect table of 17 bytes', expect: 'needs-reset', submit(d) {
    d.setDesc(0, { addr: d.buf + 0x800, len: 17, flags: 4 });
    d.offer(0);
  } },
  { name: 'read past the end of the disk', expect: 'ioerr', submit(d) {
    d.setDesc(0, { addr: HDR(d, 0, 63), len: 16, flags: 1, next: 1 });
    d.setDesc(1, { addr: d.buf + 0x1000, len: 1024, flags: 3, next: 2 });
    d.setDesc(2, { addr: STATUS(d), len: 1, flags: 2 });
    d.offer(0);
  } },
  { name: 'read of a partial sector', expect: 'ioerr', submit(d) {
    d.setDesc(0, { addr: HDR(d, 0, 0), len: 16, flags: 1, next: 1 });
    d.setDesc(1, { addr: d.buf + 0x1000, len: 100, flags: 3, next: 2 });
    d.setDesc(2, { addr: STATUS(d), len: 1, flags: 2 });
    d.offer(0);
  } },
  { name: 'one buffer named a thousand times (more than RAM)', expect: 'ioerr', submit(d) {
    const t = d.buf + 0x800;
    const entries = 1000;
    for (let i = 0; i < entries; i++) {
      const last = i === entries - 1;
      d.w32(t + 16 * i, i === 0 ? HDR(d, 0) : last ? STATUS(d) : RAM);
      d.w32(t + 16 * i + 4, 0);
      d.w32(t + 16 * i + 8, i === 0 ? 16 : last ? 1 : 64 * 512);
      d.w16(t + 16 * i + 12, i === 0 ? 1 : last ? 2 : 3);
      d.w16(t + 16 * i + 14, i + 1);
    }
    d.setDesc(0, { addr: t, len: 16 * entries, flags: 4 });
    d.offer(0);
  } },
  { name: 'unknown request type', expect: 'unsupp', submit(d) {
    d.setDesc(0, { addr: HDR(d, 0x55), len: 16, flags: 1, next: 1 });
    d.setDesc(1, { addr: STATUS(d), len: 1, flags: 2 });
    d.offer(0);
  } },
];

function ramHash(bus: PhysicalBus): string {
  const h = createHash('sha256');
  for (let pa = bus.ramBase; pa < bus.ramBase + bus.ramSize; pa += 4096) {
    const off = bus.ramOffset(pa, 4096);
    h.update(bus.ram.subarray(off, off + 4096));
  }
  return h.digest('hex');
}

/** Runs one case on an initialized driver; returns what the device did. */
function play(c: Case, d: TestVirtioDriver, ramEnd: number): { status: number; isr: number; deviceStatus: number } {
  d.bus.store(STATUS(d), 1, 0xee);
  expect(() => c.submit(d, ramEnd)).not.toThrow();
  return { status: d.bus.load(STATUS(d), 1), isr: d.reg(R.ISR), deviceStatus: d.reg(R.STATUS) };
}

function check(c: Case, r: { status: number; isr: number; deviceStatus: number }): void {
  if (c.expect === 'needs-reset') {
    expect(r.deviceStatus & ST.NEEDS_RESET).toBe(ST.NEEDS_RESET);
    expect(r.isr & 2).toBe(2);
  } else {
    expect(r.deviceStatus & ST.NEEDS_RESET).toBe(0);
    expect(r.status).toBe(c.expect === 'ioerr' ? 1 : 2);
  }
}

describe.each([true, false])('bare machine, legacy=%s', (legacy) => {
  it.each(CASES)('$name', (c) => {
    const uart: number[] = [];
    const m = new Machine({ ramSize: 1 << 20, disks: [{ device: new RawDisk(new MemoryByteStore(64 * 512)), legacy }], onUart: (b) => uart.push(b) });
    m.loadKernel(WFI);
    const d = new TestVirtioDriver(m.bus, SLOT7, legacy, RAM + 0x4_0000);
    d.init();
    check(c, play(c, d, RAM + m.ramSize));
    expect(uart).toEqual([]);
    // A broken device ignores notifications until it is reset; then it works again.
    if (c.expect === 'needs-reset') {
      d.setReg(R.QUEUE_NOTIFY, 0);
      expect(d.reg(R.STATUS) & ST.NEEDS_RESET).toBe(ST.NEEDS_RESET);
    }
    d.init();
    expect(d.request(0, 0, undefined, 512).status).toBe(0);
  });

  it('a queue size that is not a power of two needs a reset', () => {
    const m = new Machine({ ramSize: 1 << 20, disks: [{ device: new RawDisk(new MemoryByteStore(64 * 512)), legacy }] });
    m.loadKernel(WFI);
    const d = new TestVirtioDriver(m.bus, SLOT7, legacy, RAM + 0x4_0000, 6);
    d.init();
    d.setDesc(0, { addr: d.buf, len: 16, flags: 0 });
    d.offer(0);
    expect(d.reg(R.STATUS) & ST.NEEDS_RESET).toBe(ST.NEEDS_RESET);
  });
});

/** Host frames that no VM and not the VMM own must stay zero; the neighbour's RAM must not change. */
function hostileVm(legacy: boolean, mode: 'emulate' | 'trap'): void {
  const vmm = new Vmm({ hostRamSize: 16 << 20 });
  const mem = 1 << 20;
  const evil = vmm.createVm({ name: 'evil', mode, kernel: WFI, memSize: mem, disks: [{ device: new RawDisk(new MemoryByteStore(64 * 512)), legacy }] });
  const pattern = new Uint8Array(4096).map((_, i) => (i * 13) & 0xff);
  const neighbour: Vm = vmm.createVm({ name: 'neighbour', mode, kernel: pattern, memSize: mem });
  vmm.run(10_000);
  const before = ramHash(neighbour.bus);
  const d = new TestVirtioDriver(evil.bus, SLOT7, legacy, RAM + 0x4_0000);
  for (const c of CASES) {
    d.init();
    check(c, play(c, d, RAM + mem));
  }
  // Guest-physical addresses just past the evil VM's RAM: with contiguous placement, host-physical
  // they would be the neighbour's first frames.
  d.init();
  d.setDesc(0, { addr: HDR(d, 0), len: 16, flags: 1, next: 1 });
  d.setDesc(1, { addr: RAM + mem, len: 4096, flags: 3, next: 2 });
  d.setDesc(2, { addr: STATUS(d), len: 1, flags: 2 });
  d.offer(0);
  expect(d.reg(R.STATUS) & ST.NEEDS_RESET).toBe(ST.NEEDS_RESET);
  expect(ramHash(neighbour.bus)).toBe(before);
  const { frames, host } = vmm;
  for (let i = 0; i < frames.count; i++) {
    if (frames.owner[i] !== FREE) continue;
    const off = host.ramOffset(frames.address(i), 4096);
    expect(host.ram.subarray(off, off + 4096).every((b) => b === 0)).toBe(true);
  }
}

describe.each([true, false])('in a VM beside a neighbour, legacy=%s', (legacy) => {
  it.each(['emulate', 'trap'] as const)('%s mode: every malformed request stays inside the VM', (mode) => {
    hostileVm(legacy, mode);
  });
});
