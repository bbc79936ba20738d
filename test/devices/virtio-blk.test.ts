// virtio-mmio + virtio-blk on the bare machine, driven register by register from TypeScript: the
// slots as QEMU 7.2 shows them, feature negotiation, every request type on both transports, indirect
// descriptors and event-idx, and what a hostile driver gets (DEVICE_NEEDS_RESET or IOERR, never an
// exception, never a byte outside guest RAM).
import { describe, expect, it } from 'vitest';
import { DiskError, MemoryByteStore, type BlockDevice } from '../../src/engine/disk/types';
import { RawDisk } from '../../src/engine/disk/raw';
import { Machine } from '../../src/engine/machine/machine';
import { MEMORY_MAP } from '../../src/engine/machine/memory-map';
import { Vmm } from '../../src/engine/vmm/vmm';
import { R, ST, TestVirtioDriver } from '../support/virtio-driver';

const RAM = 0x8000_0000;
const RING = RAM + 0x10_0000;
const SLOT7 = MEMORY_MAP.virtio.base + 7 * MEMORY_MAP.virtio.size;
const T = { IN: 0, OUT: 1, FLUSH: 4, GET_ID: 8, DISCARD: 11, WRITE_ZEROES: 13 };

function image(sectors: number): Uint8Array {
  const b = new Uint8Array(sectors * 512);
  for (let i = 0; i < b.length; i++) b[i] = (i * 7 + (i >>> 9)) & 0xff;
  return b;
}

/** A disk whose reads fail as a vanished host file would. */
class FailingDisk extends RawDisk {
  override read(): void {
    throw new DiskError('io', 'the host file went away');
  }
}

function machineWith(disks: { device: BlockDevice; legacy?: boolean; serial?: string }[], ramSize = 4 << 20): Machine {
  const m = new Machine({ ramSize, disks });
  m.loadKernel(new Uint8Array([0x73, 0x00, 0x50, 0x10])); // wfi
  return m;
}

describe.each([true, false])('legacy=%s', (legacy) => {
  const version = legacy ? 1 : 2;

  it('maps all eight slots; a single disk answers in slot 7, the others read DeviceID 0', () => {
    const m = machineWith([{ device: new RawDisk(new MemoryByteStore(image(8))), legacy }]);
    for (let slot = 0; slot < 8; slot++) {
      const base = MEMORY_MAP.virtio.base + slot * MEMORY_MAP.virtio.size;
      expect([m.bus.load(base, 4), m.bus.load(base + 4, 4), m.bus.load(base + 8, 4), m.bus.load(base + 12, 4)])
        .toEqual([0x74726976, version, slot === 7 ? 2 : 0, 0x554d4551]);
    }
    // QEMU maps 0x200 bytes per transport; past that the access faults.
    m.bus.load(SLOT7 + 0x200, 4);
    expect(m.bus.ok).toBe(false);
    // Registers want 4-byte accesses; config space takes any size.
    expect(m.bus.load(SLOT7 + 4, 2)).toBe(0);
    expect(m.bus.load(SLOT7 + 0x100, 1)).toBe(8);
  });

  it('reads, writes, flushes, answers GET_ID, discards and zeroes', () => {
    const store = new MemoryByteStore(image(64));
    const m = machineWith([{ device: new RawDisk(store), legacy, serial: 'vmlab-disk-0' }]);
    const d = new TestVirtioDriver(m.bus, SLOT7, legacy, RING);
    expect(d.init() & ST.DRIVER_OK).toBe(ST.DRIVER_OK);
    const r = d.request(T.IN, 3, undefined, 1024);
    expect(r.status).toBe(0);
    expect(r.data).toEqual(image(64).subarray(3 * 512, 5 * 512));
    expect(r.used).toEqual({ id: 0, len: 1025 });
    expect(d.reg(R.ISR) & 1).toBe(1);
    expect(m.hart.mipHw & (1 << 11)).toBe(0); // PLIC source not enabled: no MEIP
    d.setReg(R.ISR_ACK, 1);
    expect(d.reg(R.ISR)).toBe(0);

    const data = new Uint8Array(1536).map((_, i) => 255 - (i & 0xff));
    expect(d.request(T.OUT, 10, data).status).toBe(0);
    expect(store.contents().subarray(10 * 512, 13 * 512)).toEqual(data);
    const flushes = store.flushes;
    expect(d.request(T.FLUSH, 0).status).toBe(0);
    expect(store.flushes).toBe(flushes + 1);
    const id = d.request(T.GET_ID, 0, undefined, 20);
    expect(id.status).toBe(0);
    expect(Buffer.from(id.data.subarray(0, 13)).toString('latin1')).toBe('vmlab-disk-0\0'); // QEMU writes strlen + 1 bytes

    const seg = new Uint8Array(16);
    new DataView(seg.buffer).setUint32(0, 20, true);
    new DataView(seg.buffer).setUint32(8, 2, true);
    expect(d.request(T.WRITE_ZEROES, 0, seg).status).toBe(0);
    expect(store.contents().subarray(20 * 512, 22 * 512).every((b) => b === 0)).toBe(true);
    expect(d.request(T.DISCARD, 0, seg).status).toBe(0);
    expect(d.request(99, 0).status).toBe(2);
    const stats = m.board.disks[0].stats.toJSON();
    expect(stats).toMatchObject({ reads: 1, writes: 1, flushes: 1, getIds: 1, discards: 1, writeZeroes: 1, unsupported: 1, bytesRead: 1024, bytesWritten: 1536 });
  });

  it('answers IOERR past the end, on a read-only disk and when the backend fails, and goes on', () => {
    const ro = new RawDisk(new MemoryByteStore(image(16), true));
    const failing = new FailingDisk(new MemoryByteStore(image(16)));
    const m = machineWith([{ device: ro, legacy }, { device: failing, legacy }]);
    const d = new TestVirtioDriver(m.bus, SLOT7, legacy, RING);
    d.init();
    const [lo] = d.features();
    expect(lo & (1 << 5)).toBe(1 << 5); // VIRTIO_BLK_F_RO
    expect(d.request(T.OUT, 0, new Uint8Array(512)).status).toBe(1);
    expect(d.request(T.IN, 15, undefined, 1024).status).toBe(1);
    expect(d.request(T.IN, 0, undefined, 100).status).toBe(1);
    expect(d.request(T.IN, 15, undefined, 512).status).toBe(0);
    const d6 = new TestVirtioDriver(m.bus, SLOT7 - 0x1000, legacy, RING + 0x10_0000);
    d6.init();
    expect(d6.request(T.IN, 0, undefined, 512).status).toBe(1);
    expect(m.board.disks[1].lastDiskError?.message).toBe('the host file went away');
    expect(d6.reg(R.STATUS) & ST.NEEDS_RESET).toBe(0);
  });

  it('serves indirect descriptor tables', () => {
    const m = machineWith([{ device: new RawDisk(new MemoryByteStore(image(16))), legacy }]);
    const d = new TestVirtioDriver(m.bus, SLOT7, legacy, RING);
    d.init();
    const table = d.buf + 0x800;
    const hdr = d.buf;
    d.w32(hdr, T.IN);
    d.w32(hdr + 8, 1);
    d.w32(hdr + 12, 0);
    const parts = [d.buf + 0x1000, d.buf + 0x2000 + 100];
    const entries = [[hdr, 16, 1, 1], [parts[0], 300, 3, 2], [parts[1], 212, 3, 3], [d.buf + 0x3000, 1, 2, 0]];
    entries.forEach(([addr, len, flags, next], i) => {
      d.w32(table + 16 * i, addr);
      d.w32(table + 16 * i + 4, 0);
      d.w32(table + 16 * i + 8, len);
      d.w16(table + 16 * i + 12, flags);
      d.w16(table + 16 * i + 14, next);
    });
    d.setDesc(5, { addr: table, len: 64, flags: 4 });
    d.offer(5);
    expect(d.takeUsed()).toEqual({ id: 5, len: 513 });
    expect(d.peek(d.buf + 0x3000, 1)[0]).toBe(0);
    const want = image(16).subarray(512, 1024);
    expect(d.peek(parts[0], 300)).toEqual(want.subarray(0, 300));
    expect(d.peek(parts[1], 212)).toEqual(want.subarray(300));
  });

  it('serves direct descriptors followed by an indirect table (virtio 1.2 §2.7.5.3.2)', () => {
    const m = machineWith([{ device: new RawDisk(new MemoryByteStore(image(16))), legacy }]);
    const d = new TestVirtioDriver(m.bus, SLOT7, legacy, RING);
    d.init();
    d.w32(d.buf, T.IN);
    d.w32(d.buf + 8, 2);
    d.w32(d.buf + 12, 0);
    const table = d.buf + 0x800;
    const entries = [[d.buf + 0x1000, 512, 3, 1], [d.buf + 0x3000, 1, 2, 0]];
    entries.forEach(([addr, len, flags, next], i) => {
      d.w32(table + 16 * i, addr);
      d.w32(table + 16 * i + 4, 0);
      d.w32(table + 16 * i + 8, len);
      d.w16(table + 16 * i + 12, flags);
      d.w16(table + 16 * i + 14, next);
    });
    d.setDesc(3, { addr: d.buf, len: 16, flags: 1, next: 4 });
    d.setDesc(4, { addr: table, len: 32, flags: 4 });
    d.offer(3);
    expect(d.takeUsed()).toEqual({ id: 3, len: 513 });
    expect(d.peek(d.buf + 0x3000, 1)[0]).toBe(0);
    expect(d.peek(d.buf + 0x1000, 512)).toEqual(image(16).subarray(1024, 1536));
  });

  it('with EVENT_IDX interrupts only when used_event is crossed, and publishes avail_event', () => {
    const m = machineWith([{ device: new RawDisk(new MemoryByteStore(image(16))), legacy }]);
    const d = new TestVirtioDriver(m.bus, SLOT7, legacy, RING);
    const [lo, hi] = d.features();
    d.init([(lo & ~(1 << 24)) >>> 0, hi]); // without NOTIFY_ON_EMPTY, which would always interrupt
    d.w16(d.avail + 4 + 2 * d.qsize, 5); // used_event: interrupt after the 6th completion
    for (let i = 0; i < 6; i++) {
      d.request(T.FLUSH, 0);
      expect(d.reg(R.ISR)).toBe(i === 0 || i === 5 ? 1 : 0);
      expect(d.r16(d.used + 4 + 8 * d.qsize)).toBe(i + 1);
      d.setReg(R.ISR_ACK, 1);
    }
  });

  it('resets on Status 0 and on machine reset', () => {
    const m = machineWith([{ device: new RawDisk(new MemoryByteStore(image(16))), legacy }]);
    const d = new TestVirtioDriver(m.bus, SLOT7, legacy, RING);
    d.init();
    d.request(T.FLUSH, 0);
    expect(d.reg(R.ISR)).toBe(1);
    d.setReg(R.STATUS, 0);
    expect([d.reg(R.STATUS), d.reg(R.ISR)]).toEqual([0, 0]);
    d.init();
    d.request(T.FLUSH, 0);
    m.reset(false);
    expect([d.reg(R.STATUS), d.reg(R.ISR), d.reg(R.QUEUE_PFN), d.reg(R.QUEUE_READY)]).toEqual([0, 0, 0, 0]);
  });
});

describe('cache mode', () => {
  it('a driver without FLUSH gets a write-through disk: writeback reads 0 and every write is flushed', () => {
    const store = new MemoryByteStore(image(16));
    const m = machineWith([{ device: new RawDisk(store), legacy: false }]);
    const d = new TestVirtioDriver(m.bus, SLOT7, false, RING);
    expect(m.bus.load(SLOT7 + 0x120, 1)).toBe(1);
    d.init([0, 1]);
    expect(m.bus.load(SLOT7 + 0x120, 1)).toBe(0);
    const before = store.flushes;
    d.request(T.OUT, 2, new Uint8Array(512));
    expect(store.flushes).toBe(before + 1);
    d.init();
    expect(m.bus.load(SLOT7 + 0x120, 1)).toBe(1);
    d.request(T.OUT, 2, new Uint8Array(512));
    expect(store.flushes).toBe(before + 1);
  });

  it("a VM's stop flushes its disks", () => {
    const store = new MemoryByteStore(image(16));
    const vmm = new Vmm({ hostRamSize: 8 << 20 });
    const vm = vmm.createVm({ name: 'd', mode: 'emulate', kernel: new Uint8Array([0x73, 0x00, 0x50, 0x10]), memSize: 1 << 20, disks: [{ device: new RawDisk(store) }] });
    vm.stop();
    expect(store.flushes).toBe(1);
  });
});

describe('interrupts', () => {
  it('raise PLIC source 8 for slot 7 while InterruptStatus is set; a claim and ACK clear MEIP', () => {
    const m = machineWith([{ device: new RawDisk(new MemoryByteStore(image(16))) }]);
    const plic = MEMORY_MAP.plic.base;
    m.bus.store(plic + 4 * 8, 4, 1); // priority of source 8
    m.bus.store(plic + 0x2000, 4, 1 << 8); // enable for context 0 (hart 0 M)
    const d = new TestVirtioDriver(m.bus, SLOT7, true, RING);
    d.init();
    const MEIP = 1 << 11;
    expect(m.hart.mipHw & MEIP).toBe(0);
    d.request(T.FLUSH, 0);
    expect(m.hart.mipHw & MEIP).toBe(MEIP);
    expect(m.bus.load(plic + 0x200004, 4)).toBe(8); // claim
    d.setReg(R.ISR_ACK, d.reg(R.ISR));
    m.bus.store(plic + 0x200004, 4, 8); // complete: the line is low now, nothing re-pends
    expect(m.hart.mipHw & MEIP).toBe(0);
  });
});

describe('modern feature negotiation', () => {
  it('offers VERSION_1 and RING_RESET as QEMU 7.2 does, and refuses FEATURES_OK without VERSION_1', () => {
    const m = machineWith([{ device: new RawDisk(new MemoryByteStore(image(16))), legacy: false }]);
    const d = new TestVirtioDriver(m.bus, SLOT7, false, RING);
    expect(d.features()).toEqual([0x30006e54, 0x101]);
    d.setReg(R.STATUS, ST.ACK | ST.DRIVER);
    d.setReg(R.DRV_FEATURES_SEL, 0);
    d.setReg(R.DRV_FEATURES, 1 << 9);
    d.setReg(R.DRV_FEATURES_SEL, 1);
    d.setReg(R.DRV_FEATURES, 0);
    d.setReg(R.STATUS, ST.ACK | ST.DRIVER | ST.FEATURES_OK);
    expect(d.reg(R.STATUS) & ST.FEATURES_OK).toBe(0);
    d.setReg(R.DRV_FEATURES, 1);
    d.setReg(R.STATUS, ST.ACK | ST.DRIVER | ST.FEATURES_OK);
    expect(d.reg(R.STATUS) & ST.FEATURES_OK).toBe(ST.FEATURES_OK);
  });

  it('legacy offers the SCSI and NOTIFY_ON_EMPTY bits and no high word, as QEMU 7.2', () => {
    const m = machineWith([{ device: new RawDisk(new MemoryByteStore(image(16))), legacy: true }]);
    expect(new TestVirtioDriver(m.bus, SLOT7, true, RING).features()).toEqual([0x31006ed4, 0]);
  });
});
