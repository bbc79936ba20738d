// The lecture's figure: guest table 0x01→0xA2, 0x02→0xA3; pmap (explicit placement) 0xA1→0xC0,
// 0xA2→0xC1, 0xA3→0xC4; so the shadow reads 0x01→0xC1, 0x02→0xC4. Page numbers are indices from
// the start of RAM (guest RAM for guest pages, host RAM for host frames).
import { describe, expect, it } from 'vitest';
import { currentShadow, guestTable, pmapTable, shadowTable } from '../../src/engine/vmm/tables';
import { Vmm } from '../../src/engine/vmm/vmm';
import { gnuAssemble } from '../support/gnu-as';

const RAM = 0x80000000;
const page = (index: number): number => RAM + index * 4096;

/** An S-mode kernel: root at guest page 0xA1, VA page 1 → 0xA2, VA page 2 → 0xA3; touches both. */
const KERNEL = `
.option norvc
.globl _start
_start:
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  li a0, ${page(0xa1)}
  li t0, (0x80000 << 10) | 0xcf
  li t1, ${page(0xa1) + 4 * 0x200}
  sw t0, 0(t1)
  li t0, (0 << 10) | 0xc7
  sw t0, 0(a0)
  li t1, ${page(0xa4)}
  srli t0, t1, 2
  ori t0, t0, 1
  sw t0, 0(a0)
  li t0, ((${page(0xa2)} >> 12) << 10) | 0xc7
  sw t0, 4(t1)
  li t0, ((${page(0xa3)} >> 12) << 10) | 0xc7
  sw t0, 8(t1)
  li t0, 0x80000000 | (${page(0xa1)} >> 12)
  csrw satp, t0
  li t0, 1 << 11
  csrs mstatus, t0
  la t0, smain
  csrw mepc, t0
  mret
smain:
  li t0, 0x1000
  li t1, 0x1111
  sw t1, 0(t0)
  li t0, 0x2000
  li t1, 0x2222
  sw t1, 0(t0)
1: j 1b
`;

describe('the lecture example (trap mode, explicit placement)', () => {
  it('returns exactly the three tables of the figure', () => {
    const vmm = new Vmm({ hostRamSize: 32 << 20 });
    const vm = vmm.createVm({
      name: 'paging', mode: 'trap', kernel: gnuAssemble(KERNEL), memSize: 2 << 20,
      placement: { explicit: [[0xa1, 0xc0], [0xa2, 0xc1], [0xa3, 0xc4]], rest: 'scattered' },
    });
    vmm.run(200_000);
    const guest = guestTable(vm).filter((m) => m.size === 4096).map((m) => [m.from, m.toIndex]);
    expect(guest).toEqual([[0x01, 0xa2], [0x02, 0xa3]]);
    const pmap = new Map(pmapTable(vm, vmm).map((m) => [m.fromIndex, m.toIndex]));
    expect([0xa1, 0xa2, 0xa3].map((g) => pmap.get(g))).toEqual([0xc0, 0xc1, 0xc4]);
    const shadow = shadowTable(vmm, currentShadow(vmm, vm)!).filter((m) => m.from < 0x10).map((m) => [m.from, m.toIndex]);
    expect(shadow).toEqual([[0x01, 0xc1], [0x02, 0xc4]]);
    // The guest's stores went through the shadow into the host frames of the figure.
    expect(vmm.host.ram32[(0xc1 * 4096) >> 2]).toBe(0x1111);
    expect(vmm.host.ram32[(0xc4 * 4096) >> 2]).toBe(0x2222);
  });
});
