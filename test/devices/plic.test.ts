// PLIC: registers, claim/complete, thresholds, priorities, per-context enables and the gateway against
// QEMU 7.2's virt machine (the UART, source 10, is the interrupt source it has), and the arbitration
// rules of the RISC-V PLIC specification 1.0.0 with several sources.
import { describe, expect, it } from 'vitest';
import { PLIC_NUM_SOURCES, Plic } from '../../src/engine/devices/plic';
import { DeviceRig, MIP, probeLabels, probeQemu, type ProbeOp } from './mmio-probe';

const P = 0x0c00_0000;
const PRIO = (src: number): number => P + 4 * src;
const PENDING = P + 0x1000;
const ENABLE = (ctx: number, word = 0): number => P + 0x2000 + 0x80 * ctx + 4 * word;
const THRESHOLD = (ctx: number): number => P + 0x20_0000 + 0x1000 * ctx;
const CLAIM = (ctx: number): number => THRESHOLD(ctx) + 4;
const UART = 0x1000_0000;
const r = (addr: number, note?: string): ProbeOp => ({ op: 'r32', addr, note });
const w = (addr: number, value: number): ProbeOp => ({ op: 'w32', addr, value });
const mip = (note?: string): ProbeOp => ({ op: 'mip', note });
const uartIer = (value: number): ProbeOp => ({ op: 'w8', addr: UART + 1, value });
const uartIir: ProbeOp = { op: 'r8', addr: UART + 2, note: 'UART IIR (drops THRI)' };
/** Raises the UART line again: QEMU re-arms THRI when IER.THRI goes 0 -> 1. */
const uartRaise = [uartIer(0), uartIer(2)];

describe('PLIC against QEMU 7.2', () => {
  // Not compared:
  // - an enable write: QEMU re-evaluates MEIP/SEIP only at the next priority, threshold or claim access;
  // - source 96: QEMU keeps a priority for it (one past its 96 sources) but has no pending or enable bit.
  const script: ProbeOp[] = [
    r(PENDING, 'reset'), r(PRIO(10)), r(ENABLE(0)), r(THRESHOLD(0)), r(THRESHOLD(1)), mip('reset: MTIP only'),
    w(PRIO(10), 1), r(PRIO(10)), w(PRIO(10), 0xff), r(PRIO(10), 'WARL: 3 bits'), w(PRIO(10), 8), r(PRIO(10)),
    w(PRIO(95), 5), r(PRIO(95)), w(PRIO(97), 5), r(PRIO(97), 'no source 97'),
    w(ENABLE(0), 0xffffffff), r(ENABLE(0)), w(ENABLE(0, 2), 0xffffffff), r(ENABLE(0, 2)), w(ENABLE(0, 3), 7), r(ENABLE(0, 3), 'only 3 words'),
    w(ENABLE(2), 7), r(ENABLE(2), 'no context 2'), w(ENABLE(0, 2), 0), w(ENABLE(1, 1), 0x5a5a), r(ENABLE(1, 1)), w(ENABLE(1, 1), 0),
    w(THRESHOLD(0), 9), r(THRESHOLD(0), 'WARL: 3 bits'), w(THRESHOLD(2), 1), r(THRESHOLD(2), 'no context 2'),
    w(PENDING, 0xffffffff), r(PENDING, 'read-only'),
    // Source 10 through context 0 (M).
    w(ENABLE(0), 1 << 10), w(THRESHOLD(0), 0), w(PRIO(10), 3),
    uartIer(2), r(PENDING, 'UART raised'), mip('MEIP'),
    w(THRESHOLD(0), 3), mip('priority 3 is not above threshold 3'), w(THRESHOLD(0), 2), mip('above threshold 2'),
    r(CLAIM(0), 'claim'), mip('claimed: MEIP drops'), r(CLAIM(0), 'nothing left'), r(PENDING),
    uartIir, w(CLAIM(0), 10), mip('completed, line low'), r(PENDING),
    // A request whose line dropped before the claim stays pending until claimed.
    ...uartRaise, uartIir, r(PENDING, 'still pending'), mip(), r(CLAIM(0)), r(PENDING), w(CLAIM(0), 10),
    // Context 1 (S) sees the same source through its own enable and threshold.
    w(ENABLE(1), 1 << 10), ...uartRaise, mip('MEIP and SEIP'), w(THRESHOLD(1), 3), mip('S threshold'), w(THRESHOLD(1), 0),
    w(ENABLE(0), 0), w(THRESHOLD(0), 0), mip('M disabled'), r(CLAIM(0), 'disabled context claims nothing'),
    r(CLAIM(1), 'S claims'), mip(), uartIir, w(CLAIM(1), 10), mip(),
    // Priority 0 never interrupts; a completion of another id leaves the claim in place.
    w(ENABLE(0), 1 << 10), w(PRIO(10), 0), w(THRESHOLD(0), 0), ...uartRaise, r(PENDING), mip('priority 0'), r(CLAIM(0)), r(CLAIM(1)),
    w(PRIO(10), 7), w(THRESHOLD(0), 7), mip('threshold 7 masks all'), w(THRESHOLD(0), 6), r(CLAIM(0)), uartIir,
    w(CLAIM(0), 11), mip('still claimed'), r(CLAIM(0), 'no second claim'), w(CLAIM(0), 10), mip(),
    w(CLAIM(0), 200), mip('out-of-range completion ignored'),
    // QEMU's gateway, not the specification's: a request raised while the source is claimed is latched
    // in the pending bit at once and delivered after the completion; a completion does not re-pend a
    // line that stayed high.
    w(PRIO(10), 1), w(THRESHOLD(0), 0), w(ENABLE(1), 0), ...uartRaise, r(CLAIM(0), 'claim'), ...uartRaise,
    r(PENDING, 'raised while claimed'), mip('claimed: no MEIP'), w(CLAIM(0), 10), mip('delivered after the completion'),
    r(CLAIM(0), 'second claim'), w(CLAIM(0), 10), r(PENDING, 'line still high, completion does not re-pend'), mip('no MEIP'),
    r(CLAIM(0), 'nothing to claim'), uartIir,
  ];

  it('matches QEMU register by register', async () => {
    const qemu = await probeQemu(script);
    const vmlab = new DeviceRig().probe(script);
    const labels = probeLabels(script);
    expect(vmlab.values.map((v, i) => `${labels[i]}: 0x${v.toString(16)}`)).toEqual(qemu.values.map((v, i) => `${labels[i]}: 0x${v.toString(16)}`));
    expect(qemu.values.some((v, i) => labels[i].includes('MEIP and SEIP') && (v & (MIP.MEIP | MIP.SEIP)) === (MIP.MEIP | MIP.SEIP))).toBe(true);
  });
});

/** A PLIC with two contexts whose lines are recorded. */
function rig(): { plic: Plic; m: () => boolean; s: () => boolean } {
  let m = false;
  let s = false;
  const plic = new Plic([{ set: (l) => { m = l; } }, { set: (l) => { s = l; } }]);
  plic.reset();
  return { plic, m: () => m, s: () => s };
}

const off = (addr: number): number => addr - P;

describe('PLIC per the specification', () => {
  it('claims the highest priority first, the lowest id among equals (§8)', () => {
    const { plic } = rig();
    for (const [src, prio] of [[3, 2], [5, 6], [7, 6], [40, 1], [90, 6]]) {
      plic.write(off(PRIO(src)), prio, 4);
      plic.irqLine(src).set(true);
    }
    plic.write(off(ENABLE(0, 0)), 0xffffffff, 4);
    plic.write(off(ENABLE(0, 1)), 0xffffffff, 4);
    plic.write(off(ENABLE(0, 2)), 0xffffffff, 4);
    const order: number[] = [];
    for (let i = 0; i < 6; i++) order.push(plic.read(off(CLAIM(0)), 4));
    expect(order).toEqual([5, 7, 90, 3, 40, 0]);
    expect(plic.read(off(PENDING), 4)).toBe(0);
  });

  it('latches a request raised while claimed, delivers it after the completion and never re-pends (QEMU 7.2)', () => {
    const { plic, m } = rig();
    const line = plic.irqLine(10);
    plic.write(off(PRIO(10)), 1, 4);
    plic.write(off(ENABLE(0)), 1 << 10, 4);
    line.set(true);
    expect(plic.read(off(CLAIM(0)), 4)).toBe(10);
    line.set(true);
    expect(plic.read(off(PENDING), 4)).toBe(1 << 10);
    expect(m()).toBe(false);
    plic.write(off(CLAIM(0)), 10, 4);
    expect(m()).toBe(true);
    expect(plic.read(off(CLAIM(0)), 4)).toBe(10);
    plic.write(off(CLAIM(0)), 10, 4);
    expect(m()).toBe(false);
    expect(plic.read(off(PENDING), 4)).toBe(0);
    line.set(false);
    expect(plic.read(off(PENDING), 4)).toBe(0);
    line.set(true);
    line.set(false);
    expect(plic.read(off(PENDING), 4)).toBe(1 << 10);
    expect(m()).toBe(true);
  });

  it('keeps enables and thresholds per context', () => {
    const { plic, m, s } = rig();
    plic.write(off(PRIO(33)), 4, 4);
    plic.write(off(PRIO(2)), 2, 4);
    plic.write(off(ENABLE(0, 1)), 1 << 1, 4);
    plic.write(off(ENABLE(1, 0)), 1 << 2, 4);
    plic.irqLine(33).set(true);
    expect([m(), s()]).toEqual([true, false]);
    plic.irqLine(2).set(true);
    expect([m(), s()]).toEqual([true, true]);
    plic.write(off(THRESHOLD(1)), 2, 4);
    expect(s()).toBe(false);
    expect(plic.read(off(CLAIM(1)), 4)).toBe(0);
    plic.write(off(THRESHOLD(1)), 1, 4);
    expect(plic.read(off(CLAIM(1)), 4)).toBe(2);
    expect(plic.read(off(CLAIM(0)), 4)).toBe(33);
    expect([m(), s()]).toEqual([false, false]);
  });

  it('resets registers, drops claims and pending requests (QEMU sifive_plic_reset)', () => {
    const { plic, m } = rig();
    plic.write(off(PRIO(9)), 5, 4);
    plic.write(off(ENABLE(0)), 1 << 9, 4);
    plic.irqLine(9).set(true);
    expect(plic.read(off(CLAIM(0)), 4)).toBe(9);
    plic.reset();
    expect([plic.read(off(PRIO(9)), 4), plic.read(off(ENABLE(0)), 4), plic.read(off(PENDING), 4)]).toEqual([0, 0, 0]);
    expect(m()).toBe(false);
  });

  it('hands out lines for sources 1..95 only', () => {
    const { plic } = rig();
    expect(PLIC_NUM_SOURCES).toBe(96);
    expect(() => plic.irqLine(0)).toThrow(RangeError);
    expect(() => plic.irqLine(96)).toThrow(RangeError);
    expect(plic.irqLine(95)).toBe(plic.irqLine(95));
  });
});
