import { describe, expect, it } from 'vitest';
import type { Hart } from '../../src/engine/cpu/hart';
import { BASE, runSnippet } from '../support/bare-hart';

const ROOT = 0x80040000;
const L0 = 0x80041000;
const V = 1, R = 2, W = 4, X = 8, U = 16, A = 64, D = 128;

function pte(pa: number, flags: number): number {
  return ((Math.floor(pa / 4096) << 10) | flags) >>> 0;
}

/** Sv32 tables (privileged spec §4.3): identity megapage for the code, and test mappings. */
function buildTables(h: Hart): void {
  const view = new DataView(h.bus.ram.buffer);
  const put = (addr: number, value: number): void => view.setUint32(addr - BASE, value, true);
  put(ROOT + 4 * (0x80000000 >>> 22), pte(0x80000000, V | R | W | X | A | D));
  put(ROOT + 4 * 1, pte(L0, V));
  put(L0 + 4 * 0, pte(0x80050000, V | R | W));
  put(L0 + 4 * 1, pte(0x80051000, V | R | A));
  put(L0 + 4 * 2, pte(0x80052000, V | R | W | U | A | D));
  put(L0 + 4 * 3, pte(0x80053000, V | X | A));
  put(ROOT + 4 * 2, pte(0x80401000, V | R | W | A | D));
  put(ROOT + 4 * 3, pte(0x80400000, V | R | W | A | D));
  view.setUint32(0x80053010 - BASE, 0x5a5a5a5a, true);
  view.setUint32(0x80400000 + 0x1234 - BASE, 0xcafef00d, true);
}

/** Runs `body` in S-mode with paging on; M handler records mcause/mtval in s2/s3. */
function paged(body: string, mstatusBits = 0): Hart {
  return runSnippet(`
  la t0, mtrap
  csrw mtvec, t0
  li t0, ${(0x80000000 | (ROOT >>> 12)) >>> 0}
  csrw satp, t0
  li t0, ${(1 << 11) | mstatusBits}
  csrs mstatus, t0
  la t0, lower
  csrw mepc, t0
  mret
.align 2
mtrap:
  csrr s2, mcause
  csrr s3, mtval
  j done
.align 2
lower:
${body}
  li s2, 99
`, { setup: buildTables, ramSize: 8 << 20 });
}

function readPte(h: Hart, addr: number): number {
  return new DataView(h.bus.ram.buffer).getUint32(addr - BASE, true);
}

describe('Sv32 translation (privileged spec §4.3)', () => {
  it('maps a 4 KiB page and sets A and D in the PTE as QEMU does', () => {
    const h = paged(`
  li t0, 0x00400010
  li t1, 0x11223344
  lw a0, 0(t0)
  sw t1, 0(t0)
  lw a1, 0(t0)`);
    expect(h.x[18]).toBe(99);
    expect(h.x[11]).toBe(0x11223344);
    expect(new DataView(h.bus.ram.buffer).getUint32(0x80050010 - BASE, true)).toBe(0x11223344);
    expect(readPte(h, L0) & (A | D)).toBe(A | D);
  });

  it('sets only A on a load', () => {
    const h = paged(`
  li t0, 0x00400000
  lw a0, 0(t0)`);
    expect(readPte(h, L0) & (A | D)).toBe(A);
  });

  it('maps a 4 MiB megapage', () => {
    const h = paged(`
  li t0, 0x00c01234
  lw a0, 0(t0)`);
    expect(h.x[10] >>> 0).toBe(0xcafef00d);
  });

  it('raises a store page fault on a read-only page with the address in mtval', () => {
    const h = paged(`
  li t0, 0x00401008
  sw t0, 0(t0)`);
    expect(h.x[18]).toBe(15);
    expect(h.x[19] >>> 0).toBe(0x00401008);
  });

  it('raises a load page fault on an invalid PTE', () => {
    const h = paged(`
  li t0, 0x00404000
  lw a0, 0(t0)`);
    expect(h.x[18]).toBe(13);
    expect(h.x[19] >>> 0).toBe(0x00404000);
  });

  it('denies S-mode loads from U pages unless SUM is set', () => {
    expect(paged(`
  li t0, 0x00402000
  lw a0, 0(t0)`).x[18]).toBe(13);
    expect(paged(`
  li t0, 0x00402000
  lw a0, 0(t0)`, 1 << 18).x[18]).toBe(99);
  });

  it('reads execute-only pages only with MXR', () => {
    expect(paged(`
  li t0, 0x00403010
  lw a0, 0(t0)`).x[18]).toBe(13);
    const h = paged(`
  li t0, 0x00403010
  lw a0, 0(t0)`, 1 << 19);
    expect(h.x[18]).toBe(99);
    expect(h.x[10]).toBe(0x5a5a5a5a);
  });

  it('raises an instruction page fault when jumping to a non-executable page', () => {
    const h = paged(`
  li t0, 0x00400000
  jr t0`);
    expect(h.x[18]).toBe(12);
    expect(h.x[19] >>> 0).toBe(0x00400000);
  });

  it('treats a misaligned megapage as a page fault', () => {
    const h = paged(`
  li t0, 0x00800000
  lw a0, 0(t0)`);
    expect(h.x[18]).toBe(13);
  });

  it('sees a changed PTE only after sfence.vma', () => {
    const h = paged(`
  li t0, 0x00c00000
  lw a0, 0x234(t0)
  li t1, ${L0 + 4 * 4}
  li t2, ${pte(0x80400000, V | R | W | A | D)}
  li t3, ${(ROOT + 4 * 3) >>> 0}
  li t4, ${pte(0x80000000, V | R | A | D)}
  sw t4, 0(t3)
  lw a1, 0x234(t0)
  sfence.vma t0, zero
  lw a2, 0x234(t0)`, 1 << 19);
    // Before the fence the stale translation may still be used; after it the new mapping is.
    expect(h.x[18]).toBe(99);
    expect(h.x[12]).toBe(new DataView(h.bus.ram.buffer).getInt32(0x80000234 - BASE, true));
  });
});
