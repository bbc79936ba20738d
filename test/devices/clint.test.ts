// CLINT: msip, mtimecmp and mtime against QEMU 7.2's virt machine, and the 64-bit timer arithmetic
// against a controllable time source.
import { describe, expect, it } from 'vitest';
import { Clint } from '../../src/engine/devices/clint';
import { DeviceRig, MIP, probeLabels, probeQemu, type ProbeOp } from './mmio-probe';

const BASE = 0x0200_0000;
const MSIP = BASE;
const CMP_LO = BASE + 0x4000;
const CMP_HI = BASE + 0x4004;
const TIME_LO = BASE + 0xbff8;
const TIME_HI = BASE + 0xbffc;
const r = (addr: number, note?: string): ProbeOp => ({ op: 'r32', addr, note });
const w = (addr: number, value: number): ProbeOp => ({ op: 'w32', addr, value });
const mip = (note?: string): ProbeOp => ({ op: 'mip', note });

/** A CLINT on a time source the test moves, with its two lines recorded. */
function rig(start = 0): { clint: Clint; time: { t: number }; msip: () => boolean; mtip: () => boolean } {
  const time = { t: start };
  let msip = false;
  let mtip = false;
  const clint = new Clint({ now: () => time.t }, { set: (l) => { msip = l; } }, { set: (l) => { mtip = l; } });
  clint.reset();
  return { clint, time, msip: () => msip, mtip: () => mtip };
}

describe('CLINT against QEMU 7.2', () => {
  // QEMU's mtime runs in host time from 0 at reset; the script only reads mtime's high half and keeps
  // every compare at least 2^24 ticks (1.6 s) away from the running low half, so both machines agree.
  const script: ProbeOp[] = [
    mip('MTIP pending at reset: mtimecmp = 0'), r(CMP_LO), r(CMP_HI), r(MSIP), r(TIME_HI),
    w(MSIP, 1), mip('MSIP'), r(MSIP), w(MSIP, 0xfffffffe), mip(), r(MSIP),
    w(CMP_HI, 0xffffffff), mip('compare in the far future'), w(CMP_LO, 0x12345678), r(CMP_LO), r(CMP_HI),
    w(CMP_HI, 0), mip('0x12345678 ticks ahead'), w(CMP_LO, 0), mip('due again'),
    w(TIME_HI, 5), r(TIME_HI, 'mtime written'), mip(), w(CMP_HI, 6), mip('6:0 > 5:x'),
    w(TIME_HI, 6), mip('mtime write re-evaluates'), w(TIME_LO, 0xf0000000), r(TIME_HI),
    w(CMP_LO, 0xf1000000), mip('16M ticks ahead'), w(TIME_LO, 0xf2000000), mip('passed'),
    w(TIME_HI, 0), r(TIME_HI), mip(), r(CMP_LO), r(CMP_HI),
    r(BASE + 4, 'msip of a hart that does not exist'), r(BASE + 0x4008, 'its mtimecmp'),
    w(CMP_LO, 0xffffffff), w(CMP_HI, 0xffffffff), mip(), r(CMP_LO), r(CMP_HI),
  ];

  it('matches QEMU register by register', async () => {
    const qemu = await probeQemu(script);
    const vmlab = new DeviceRig().probe(script);
    const labels = probeLabels(script);
    expect(vmlab.values.map((v, i) => `${labels[i]}: 0x${v.toString(16)}`)).toEqual(qemu.values.map((v, i) => `${labels[i]}: 0x${v.toString(16)}`));
    expect(qemu.values[0] & MIP.MTIP).toBe(MIP.MTIP);
  });
});

describe('CLINT timer arithmetic', () => {
  it('raises MTIP when mtime reaches mtimecmp, and reports the deadline', () => {
    const { clint, time, mtip } = rig(40);
    clint.write(0x4004, 0, 4);
    clint.write(0x4000, 100, 4);
    expect(mtip()).toBe(false);
    expect(clint.nextDeadline()).toBe(100);
    time.t = 99;
    clint.update();
    expect(mtip()).toBe(false);
    time.t = 100;
    clint.update();
    expect(mtip()).toBe(true);
    expect(clint.nextDeadline()).toBe(Infinity);
  });

  it('compares all 64 bits through the two halves', () => {
    const { clint, time, mtip } = rig(2 ** 32 + 5);
    expect([clint.read(0xbff8, 4), clint.read(0xbffc, 4)]).toEqual([5, 1]);
    clint.write(0x4000, 0, 4);
    clint.write(0x4004, 2, 4);
    expect(mtip()).toBe(false);
    expect(clint.nextDeadline()).toBe(2 * 2 ** 32);
    clint.write(0x4000, 4, 4);
    clint.write(0x4004, 1, 4);
    expect(mtip()).toBe(true);
    time.t = 2 ** 53 - 1;
    clint.write(0x4000, 0xffffffff, 4);
    clint.write(0x4004, 0xffffffff, 4);
    expect(mtip()).toBe(false);
    expect(clint.nextDeadline()).toBe(Infinity);
    expect([clint.read(0x4000, 4), clint.read(0x4004, 4)]).toEqual([0xffffffff, 0xffffffff]);
  });

  it('offsets mtime on writes and carries between the halves', () => {
    const { clint, time, mtip } = rig(10);
    clint.write(0xbff8, 0xfffffff0, 4);
    expect([clint.read(0xbff8, 4), clint.read(0xbffc, 4)]).toEqual([0xfffffff0, 0]);
    time.t = 30;
    expect([clint.read(0xbff8, 4), clint.read(0xbffc, 4)]).toEqual([4, 1]);
    clint.write(0x4004, 1, 4);
    clint.write(0x4000, 10, 4);
    expect(mtip()).toBe(false);
    // mtime = time + delta, so the deadline in time-source units is 6 ticks on.
    expect(clint.nextDeadline()).toBe(36);
    clint.write(0xbffc, 7, 4);
    expect([clint.read(0xbff8, 4), clint.read(0xbffc, 4)]).toEqual([4, 7]);
    expect(mtip()).toBe(true);
  });

  it('drives MSIP from bit 0 and resets to mtimecmp = 0, msip = 0, no offset', () => {
    const { clint, time, msip, mtip } = rig(5);
    clint.write(0, 3, 4);
    expect(msip()).toBe(true);
    expect(clint.read(0, 4)).toBe(1);
    clint.write(0x4004, 9, 4);
    clint.write(0xbffc, 3, 4);
    time.t = 0;
    clint.reset();
    expect(msip()).toBe(false);
    expect(mtip()).toBe(true);
    expect([clint.read(0x4000, 4), clint.read(0x4004, 4), clint.read(0xbff8, 4), clint.read(0xbffc, 4)]).toEqual([0, 0, 0, 0]);
  });

  it('ignores accesses that are not 4 bytes wide, as QEMU faults them', () => {
    const { clint } = rig();
    clint.write(0x4000, 0xab, 1);
    expect(clint.read(0x4000, 4)).toBe(0);
    expect(clint.read(0x4000, 2)).toBe(0);
  });
});
