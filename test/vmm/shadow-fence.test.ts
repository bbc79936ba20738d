// sfence.vma in trap and bt mode: the shadows are kept exact at every guest page-table store, so a
// fence drops nothing from them. A kernel that touches PAGES pages and fences its TLB (all of it,
// one ASID, or one page) ROUNDS times costs the same shadow fills as one that fences once; one that
// remaps a page and fences that page costs one fill per remap. Each run prints what the guest read,
// which must equal the bare machine's output. In hw mode nothing is shadowed; there a fence of one
// page in VS-mode drops only that page's translation from the physical hart's TLB (it dropped all of
// the guest's), so the same kernels cost one two-stage walk per fence.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { SHADOW_L0_LIMIT } from '../../src/engine/vmm/shadow';
import { Vmm } from '../../src/engine/vmm/vmm';

const PAGES = 32;

/** The kernel: `fence` runs after each round over the pages; `remap` rewrites page 0's entry first. */
function source(rounds: number, fence: string, remap: boolean): string {
  return `
  .equ UART, 0x10000000
  .equ FINISHER, 0x100000
  .equ ROOT, 0x80100000
  .equ L0, 0x80101000
  .equ DATA, 0x80200000
  .globl _start
_start:
  li    t0, -1
  csrw  pmpaddr0, t0
  li    t0, 0x1f
  csrw  pmpcfg0, t0
  # root[0x200]: identity megapage over the first 4 MiB of RAM (code, tables); root[0x40]: the UART
  li    t0, ROOT + 0x200 * 4
  li    t1, (0x80000 << 10) | 0xcf
  sw    t1, 0(t0)
  li    t0, ROOT + 0x40 * 4
  li    t1, (0x10000 << 10) | 0xc7
  sw    t1, 0(t0)
  # root[0]: VAs 0..4 MiB through L0; L0[i]: VA i*4K -> DATA + i*4K, each page holding its index
  li    t0, ROOT
  li    t1, (L0 >> 12) << 10 | 1
  sw    t1, 0(t0)
  li    t0, L0
  li    t1, (DATA >> 12) << 10 | 0xc7
  li    t2, ${PAGES}
  li    t3, DATA
  li    t4, 0
1:sw    t1, 0(t0)
  sw    t4, 0(t3)
  addi  t0, t0, 4
  addi  t1, t1, 0x400
  li    t5, 4096
  add   t3, t3, t5
  addi  t4, t4, 1
  addi  t2, t2, -1
  bnez  t2, 1b
  # L0[0x100]: the test finisher
  li    t0, L0 + 0x100 * 4
  li    t1, (FINISHER >> 12) << 10 | 0xc7
  sw    t1, 0(t0)
  li    t0, 0x80000000 | (5 << 22) | (ROOT >> 12)
  csrw  satp, t0
  sfence.vma
  li    t0, 3 << 11
  csrc  mstatus, t0
  li    t0, 1 << 11
  csrs  mstatus, t0
  la    t0, s_main
  csrw  mepc, t0
  mret

s_main:
  li    s2, ${rounds}
  li    s3, 0                 # sum of everything read
2:${remap ? `
  # page 0 maps DATA + (round & 1) pages: the first data page or the second one
  andi  t1, s2, 1
  slli  t1, t1, 10
  li    t2, (DATA >> 12) << 10 | 0xc7
  add   t1, t1, t2
  li    t0, L0
  sw    t1, 0(t0)` : ''}
  ${fence}
  li    t0, 0
  li    t2, ${PAGES}
3:lw    t1, 0(t0)
  add   s3, s3, t1
  sw    t1, 4(t0)
  li    t3, 4096
  add   t0, t0, t3
  addi  t2, t2, -1
  bnez  t2, 3b
  addi  s2, s2, -1
  bnez  s2, 2b
  mv    a0, s3
  call  puthex
  li    t0, FINISHER
  li    t1, 0x5555
  sw    t1, 0(t0)
4:j     4b

puthex:                        # a0 as 8 hex digits
  mv    a2, ra
  mv    a1, a0
  li    a3, 28
5:srl   a0, a1, a3
  andi  a0, a0, 15
  addi  a0, a0, '0'
  li    t0, '9'
  ble   a0, t0, 6f
  addi  a0, a0, 'a' - '9' - 1
6:li    t0, UART
  sb    a0, 0(t0)
  addi  a3, a3, -4
  bgez  a3, 5b
  mv    ra, a2
  ret
`;
}

function kernel(rounds: number, fence: string, remap = false): Uint8Array {
  const r = assemble(source(rounds, fence, remap), { file: 'fence.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => `${d.line}: ${d.message}`).join('\n'));
  return r.elf;
}

/**
 * A kernel whose root maps every 4 MiB range (but the finisher's and the UART's) as a megapage onto
 * the first 4 MiB of RAM, and reads one word through each range `rounds` times, each round with
 * sstatus.SUM toggled (another shadow): each shadow needs a level-0 table for every range, and two
 * need more than a VM may hold.
 */
const WIDE = (rounds: number): string => `
  .equ UART, 0x10000000
  .equ FINISHER, 0x100000
  .equ ROOT, 0x80100000
  .globl _start
_start:
  li    t0, -1
  csrw  pmpaddr0, t0
  li    t0, 0x1f
  csrw  pmpcfg0, t0
  li    t0, ROOT
  li    t1, (0x80000 << 10) | 0xcf
  li    t2, 1024
1:sw    t1, 0(t0)
  addi  t0, t0, 4
  addi  t2, t2, -1
  bnez  t2, 1b
  li    t0, ROOT
  li    t1, 0xc7
  sw    t1, 0(t0)
  li    t0, ROOT + 0x40 * 4
  li    t1, (0x10000 << 10) | 0xc7
  sw    t1, 0(t0)
  li    t0, 0x80000000 | (ROOT >> 12)
  csrw  satp, t0
  sfence.vma
  li    t0, 3 << 11
  csrc  mstatus, t0
  li    t0, 1 << 11
  csrs  mstatus, t0
  la    t0, s_main
  csrw  mepc, t0
  mret

s_main:
  li    s2, ${rounds}
  li    s3, 0
2:li    s4, 1                  # range index
3:li    t0, 0x40
  beq   s4, t0, 4f
  slli  t0, s4, 22
  la    t1, marker
  li    t2, 0x80000000
  sub   t1, t1, t2
  add   t0, t0, t1
  lw    t1, 0(t0)
  add   s3, s3, t1
4:addi  s4, s4, 1
  li    t0, 1024
  bne   s4, t0, 3b
  # the next round in another shadow context: sstatus.SUM toggled
  li    t0, 1 << 18
  csrr  t1, sstatus
  xor   t1, t1, t0
  csrw  sstatus, t1
  addi  s2, s2, -1
  bnez  s2, 2b
  li    a1, UART
  li    a3, 28
5:srl   a0, s3, a3
  andi  a0, a0, 15
  addi  a0, a0, '0'
  li    t0, '9'
  ble   a0, t0, 6f
  addi  a0, a0, 'a' - '9' - 1
6:sb    a0, 0(a1)
  addi  a3, a3, -4
  bgez  a3, 5b
  li    t0, FINISHER
  li    t1, 0x5555
  sw    t1, 0(t0)
7:j     7b
  .balign 4
marker:
  .word 3
`;

function bare(elf: Uint8Array): string {
  const out: number[] = [];
  const m = new Machine({ onUart: (b) => out.push(b) });
  m.loadKernel(elf);
  expect(m.run(50_000_000)).toBe(StopReason.EXIT);
  return Buffer.from(out).toString('latin1');
}

/** Runs the kernel in a VM; its output (checked against bare), shadow fills and flushes, level-0 shadow tables held at the end. */
function inVm(elf: Uint8Array, mode: 'trap' | 'bt'): { fills: number; flushes: number; fences: number; l0Tables: number } {
  const out: number[] = [];
  const vmm = new Vmm({ hostRamSize: 256 << 20 });
  const vm = vmm.createVm({ name: mode, mode, kernel: elf, memSize: 64 << 20, onUart: (b) => out.push(b) });
  while (vm.runnable) vmm.runVm(vm, 1_000_000);
  expect({ state: vm.state, reason: vm.crashReason }).toEqual({ state: 'halted', reason: undefined });
  expect(Buffer.from(out).toString('latin1')).toBe(bare(elf));
  const l0Tables = vmm.trapVcpu(vm)!.shadows.all().reduce((n, sh) => n + sh.l0.size, 0);
  return { fills: vm.stats.shadowFills, flushes: vm.stats.shadowFlushes, fences: vm.stats.emulated['sfence.vma'] ?? vm.stats.calloutKinds['sfence.vma'] ?? 0, l0Tables };
}

/** Runs the kernel in a hw-mode VM; its output (checked against bare) and two-stage walks (TLB misses). */
function inHw(elf: Uint8Array): { walks: number } {
  const out: number[] = [];
  const vmm = new Vmm({ hostRamSize: 256 << 20 });
  const vm = vmm.createVm({ name: 'hw', mode: 'hw', kernel: elf, memSize: 64 << 20, onUart: (b) => out.push(b) });
  while (vm.runnable) vmm.runVm(vm, 1_000_000);
  expect({ state: vm.state, reason: vm.crashReason }).toEqual({ state: 'halted', reason: undefined });
  expect(Buffer.from(out).toString('latin1')).toBe(bare(elf));
  return { walks: vm.stats.tlbMisses };
}

const FENCES: Record<string, string> = {
  all: 'sfence.vma',
  'one ASID': 'li t0, 5\n  sfence.vma zero, t0',
  'one page': 'li t0, 0x1000\n  sfence.vma t0, zero',
  'one page of one ASID': 'li t0, 0x1000\n  li t1, 5\n  sfence.vma t0, t1',
};

describe('sfence.vma over shadow page tables', () => {
  for (const mode of ['trap', 'bt'] as const) {
    it.each(Object.keys(FENCES))(`${mode}: %s, 40 times, refills no shadow entry`, (name) => {
      const once = inVm(kernel(1, FENCES[name]), mode);
      const many = inVm(kernel(40, FENCES[name]), mode);
      expect(many.fences).toBe(once.fences + 39);
      expect(many.fills).toBe(once.fills);
      // The PMP setup empties the shadows once; no fence does.
      expect(many.flushes).toBe(once.flushes);
    });

    it(`${mode}: a page remapped and fenced 40 times is filled again 40 times, the others never`, () => {
      const once = inVm(kernel(1, 'li t0, 0\n  sfence.vma t0, zero', true), mode);
      const many = inVm(kernel(41, 'li t0, 0\n  sfence.vma t0, zero', true), mode);
      expect(many.fills).toBe(once.fills + 40);
    });

    it(`${mode}: a guest touching every 4 MiB range holds at most SHADOW_L0_LIMIT level-0 shadow tables`, () => {
      const elf = (rounds: number): Uint8Array => {
        const r = assemble(WIDE(rounds), { file: 'wide.S' });
        if (!r.elf) throw new Error(r.diagnostics.map((d) => `${d.line}: ${d.message}`).join('\n'));
        return r.elf;
      };
      const once = inVm(elf(1), mode);
      const twice = inVm(elf(2), mode);
      // One pass fits (1,023 level-0 tables with the boot's); the second pass's shadow reaches the limit.
      expect(once.l0Tables).toBeLessThanOrEqual(SHADOW_L0_LIMIT);
      expect(twice.l0Tables).toBeLessThanOrEqual(SHADOW_L0_LIMIT);
      expect(twice.flushes).toBeGreaterThan(once.flushes);
    });
  }

  // Each fenced kernel is compared with the same kernel fencing a page it never touches (VA 1 MiB),
  // so that leaving the translated loop for the fence costs both the same.
  const HW_FENCES: Record<string, [string, string]> = {
    'one page': ['li t0, 0x1000\n  sfence.vma t0, zero', 'li t0, 0x100000\n  sfence.vma t0, zero'],
    'one page of one ASID': ['li t0, 0x1000\n  li t1, 5\n  sfence.vma t0, t1', 'li t0, 0x100000\n  li t1, 5\n  sfence.vma t0, t1'],
  };
  it.each(Object.keys(HW_FENCES))('hw: %s, 40 times, costs one two-stage walk per fence', (name) => {
    const [touched, untouched] = HW_FENCES[name];
    const elsewhere = inHw(kernel(41, untouched));
    const fenced = inHw(kernel(41, touched));
    // The first round's fence finds nothing of the page in the TLB yet.
    expect(fenced.walks).toBe(elsewhere.walks + 40);
  });

  it('hw: a page remapped and fenced 40 times reads its new mapping each time', () => {
    const elsewhere = inHw(kernel(41, HW_FENCES['one page'][1]));
    const remapped = inHw(kernel(41, 'li t0, 0\n  sfence.vma t0, zero', true));
    expect(remapped.walks).toBeLessThanOrEqual(elsewhere.walks + 40);
  });
});
