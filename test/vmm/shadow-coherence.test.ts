// Shadow coherence, property-based: a guest kernel in trap mode runs a random sequence of page-table
// writes (some of them through an alias of its own table, some of them to the root entry above the
// region: another level-0 table, none, or a read-only megapage), sfence.vma, loads and stores. After every
// single step, every shadow entry present for the test region equals the software two-stage
// translation (guest table, then pmap) and allows no more than the guest's PTE does.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Vm } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { gnuAssemble } from '../support/gnu-as';

const ROOT = 0x80100000;
const L0 = 0x80101000;
/** A second level-0 table mapping the region's pages in reverse order. */
const L0B = 0x80102000;
const DATA = 0x80200000;
const REGION = 0x40000000;
const PAGES = 16;
const V = 1, R = 2, W = 4, X = 8, A = 64, D = 128;

/** Root entries above the region: the first table, the reversed one, nothing, a read-only megapage over the kernel. */
const ROOT_CHOICES = [((L0 >>> 12) << 10) | 1, ((L0B >>> 12) << 10) | 1, 0, ((0x80000 << 10) | 1 | 2 | 64) >>> 0];

type Command =
  | { kind: 'write'; index: number; target: number; flags: number }
  | { kind: 'sfence'; index: number | undefined }
  | { kind: 'root'; choice: number }
  | { kind: 'load' | 'store'; index: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), index: fc.nat(PAGES - 1), target: fc.nat(PAGES), flags: fc.integer({ min: 0, max: 0xff }) }),
  fc.record({ kind: fc.constant('sfence' as const), index: fc.option(fc.nat(PAGES - 1), { nil: undefined }) }),
  fc.record({ kind: fc.constant('root' as const), choice: fc.nat(ROOT_CHOICES.length - 1) }),
  fc.record({ kind: fc.constantFrom('load' as const, 'store' as const), index: fc.nat(PAGES - 1) }),
);

/** Guest-physical page a PTE target index names: data pages, or (PAGES) the level-0 table itself. */
function targetPage(target: number): number {
  return target === PAGES ? L0 : DATA + target * 4096;
}

function pte(target: number, flags: number): number {
  return ((Math.floor(targetPage(target) / 4096) << 10) | flags) >>> 0;
}

function program(commands: Command[]): string {
  const body = commands.map((c) => {
    const va = REGION + (c.kind === 'sfence' ? (c.index ?? 0) : c.kind === 'root' ? 0 : c.index) * 4096;
    switch (c.kind) {
      case 'write': return `  li t0, ${pte(c.target, c.flags)}\n  sw t0, ${c.index * 4}(s0)`;
      case 'root': return `  li t0, ${ROOT_CHOICES[c.choice]}\n  sw t0, ${4 * (REGION >>> 22)}(s1)`;
      case 'sfence': return c.index === undefined ? '  sfence.vma' : `  li t0, ${va}\n  sfence.vma t0, zero`;
      case 'load': return `  li t0, ${va}\n  lw t1, 8(t0)`;
      case 'store': return `  li t0, ${va}\n  sw t0, 8(t0)`;
    }
  });
  return `
.option norvc
.globl _start
_start:
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  li t0, (1 << 12) | (1 << 13) | (1 << 15)
  csrw medeleg, t0
  la t0, strap
  csrw stvec, t0
  li t0, 0x80000000 | (${ROOT} >> 12)
  csrw satp, t0
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0
  la t0, smain
  csrw mepc, t0
  mret
smain:
  li s0, ${L0}
  li s1, ${ROOT}
${body.join('\n')}
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b
.align 2
strap:
  csrr t6, sepc
  addi t6, t6, 4
  csrw sepc, t6
  sret
`;
}

function guestWord(vm: Vm, gpa: number): number {
  return vm.bus.load(gpa, 4) >>> 0;
}

/** Builds the guest's tables: kernel and finisher megapages, and the test region's level-0 table. */
function setUpTables(vm: Vm): void {
  const put = (gpa: number, v: number): void => vm.bus.store(gpa, 4, v);
  put(ROOT + 4 * (0x80000000 >>> 22), ((0x80000 << 10) | V | R | W | X | A | D) >>> 0);
  put(ROOT + 0, (0 << 10) | V | R | W | A | D);
  put(ROOT + 4 * (REGION >>> 22), ((L0 >>> 12) << 10) | V);
  for (let i = 0; i < PAGES; i++) put(L0 + 4 * i, pte(i, V | R | W | A | D));
  for (let i = 0; i < PAGES; i++) put(L0B + 4 * i, pte(PAGES - 1 - i, V | R | W | A | D));
}

let entriesSeen = 0;

/** Checks every present shadow entry of the region against the software translation. */
function checkShadows(vmm: Vmm, vm: Vm): void {
  const shadows = vmm.trapVcpu(vm)!.shadows.all().filter((s) => s.key.startsWith('S:'));
  for (const s of shadows) {
    const l0Frame = s.l0.get(REGION >>> 22);
    if (l0Frame === undefined) continue;
    for (let i = 0; i < PAGES; i++) {
      const entry = vmm.host.ram32[vmm.host.ramOffset(vmm.frames.address(l0Frame) + 4 * i, 4) >> 2] >>> 0;
      if ((entry & V) === 0) continue;
      entriesSeen++;
      // The software translation: the root entry above the region, then (for a pointer) the level-0 PTE.
      const rootPte = guestWord(vm, ROOT + 4 * (REGION >>> 22));
      expect(rootPte & V, `shadow maps page ${i} but the root entry ${rootPte.toString(16)} is invalid`).toBe(V);
      const mega = (rootPte & (R | X)) !== 0;
      const leaf = mega ? rootPte : guestWord(vm, (rootPte >>> 10) * 4096 + 4 * i);
      const valid = (leaf & V) !== 0 && !((leaf & R) === 0 && (leaf & W) !== 0) && (leaf & (R | X)) !== 0;
      expect(valid, `shadow maps page ${i} but the guest PTE ${leaf.toString(16)} is not a valid leaf`).toBe(true);
      const gpa = mega ? (rootPte >>> 20) * 4194304 + i * 4096 : (leaf >>> 10) * 4096;
      const hpa = vm.pmap.lookup(gpa);
      expect((entry >>> 10) * 4096, `page ${i}: shadow frame differs from guest table + pmap`).toBe(hpa);
      if (entry & W) expect(leaf & (W | D), `page ${i}: shadow writable beyond the guest PTE`).toBe(W | D);
      if (entry & X) expect(leaf & X, `page ${i}: shadow executable beyond the guest PTE`).toBe(X);
      if (entry & R) expect(leaf & R, `page ${i}: shadow readable beyond the guest PTE`).toBe(R);
      if (entry & W) expect(vmm.trapVcpu(vm)!.shadows.tablePages.has(gpa / 4096), `page ${i}: a page-table page is writable`).toBe(false);
    }
  }
}

describe('shadow page tables (trap mode)', () => {
  it('never hold a translation that differs from guest table + pmap', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 5, maxLength: 40 }), (commands) => {
        const vmm = new Vmm({ hostRamSize: 32 << 20, quantum: 1 });
        const vm = vmm.createVm({ name: 'pt', mode: 'trap', kernel: gnuAssemble(program(commands)), memSize: 4 << 20, placement: 'scattered' });
        setUpTables(vm);
        for (let step = 0; step < 5000 && vm.state === 'running'; step++) {
          vmm.runVm(vm, 1);
          checkShadows(vmm, vm);
        }
        expect(vm.state).toBe('halted');
      }),
      { numRuns: 40, seed: 20261125 },
    );
    expect(entriesSeen).toBeGreaterThan(100);
  });
});
