// A device access from the interpreter's slow path ends the hart's slice, so that the machine sees
// a moved timer deadline or RAM a device wrote before the next instruction; the UART, the PLIC and
// the boot ROM are quiet (Device.quiet): their accesses write no RAM and move no deadline, and what
// they do to interrupts ends the slice through the hart's interrupt lines. Linux's boot under
// OpenSBI polls the UART 11.6 k times; each used to cost a slice.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/engine/machine/machine';
import { MEMORY_MAP } from '../../src/engine/machine/memory-map';

const UART = MEMORY_MAP.uart0.base;
const MTIMECMP = MEMORY_MAP.clint.base + 0x4000;

/** The hart's slice end after one slow load or store at `pa` (M-mode, paging off), from a slice of 1000. */
function sliceEndAfter(m: Machine, access: (m: Machine) => void): number {
  m.hart.sliceEnd = 1000;
  access(m);
  expect(m.hart.fault).toBe(0);
  return m.hart.sliceEnd;
}

describe('quiet devices', () => {
  it('a UART, PLIC or ROM access leaves the slice running', () => {
    const m = new Machine({ onUart: () => {} });
    expect(sliceEndAfter(m, (mm) => mm.hart.storeSlow(UART, 1, 0x41))).toBe(1000);
    expect(sliceEndAfter(m, (mm) => mm.hart.loadSlow(UART + 5, 1))).toBe(1000);
    expect(sliceEndAfter(m, (mm) => mm.hart.loadSlow(MEMORY_MAP.plic.base + 4, 4))).toBe(1000);
    expect(sliceEndAfter(m, (mm) => mm.hart.loadSlow(0x1000, 4))).toBe(1000);
  });

  it('a CLINT or virtio access ends it', () => {
    const m = new Machine({ onUart: () => {} });
    expect(sliceEndAfter(m, (mm) => mm.hart.storeSlow(MTIMECMP, 4, 5000))).toBe(0);
    expect(sliceEndAfter(m, (mm) => mm.hart.loadSlow(MEMORY_MAP.clint.base + 0xbff8, 4))).toBe(0);
    expect(sliceEndAfter(m, (mm) => mm.hart.loadSlow(MEMORY_MAP.virtio.base, 4))).toBe(0);
  });

  it('a UART access that raises its interrupt ends the slice through the line', () => {
    const m = new Machine({ onUart: () => {} });
    const h = m.hart;
    // PLIC: source 10 (the UART) at priority 1, enabled for hart 0's M context, threshold 0; MEIE on.
    h.storeSlow(MEMORY_MAP.plic.base + 4 * 10, 4, 1);
    h.storeSlow(MEMORY_MAP.plic.base + 0x2000, 4, 1 << 10);
    h.storeSlow(MEMORY_MAP.plic.base + 0x200000, 4, 0);
    h.setMie(1 << 11);
    // IER.ETBEI with THR empty raises THRI at once.
    expect(sliceEndAfter(m, (mm) => mm.hart.storeSlow(UART + 1, 1, 0x02))).toBe(0);
    expect(h.readMip() & (1 << 11)).not.toBe(0);
  });
});
