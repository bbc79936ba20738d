// The page-table inspector's engine API (issue #7): on the paging lab it returns the lecture's three
// tables exactly, and its step-by-step translations agree with the MMU's own outcome on the same
// machine state (a mapped, an unmapped and a permission-faulting address).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { Access, Cause } from '../../src/engine/mmu/walk';
import { LayerInspector, type TableInfo } from '../../src/engine/vmm/inspect';
import { shadowKeyFor } from '../../src/engine/vmm/shadow';
import type { Placement } from '../../src/engine/vmm/frames';
import type { Vm, VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';

const RAM = 0x80000000;
const HOST_RAM = 64 << 20;
const gpage = (index: number): number => RAM + index * 4096;
const LECTURE: Placement = { explicit: [[0xa1, 0xc0], [0xa2, 0xc1], [0xa3, 0xc4]], rest: 'scattered' };
/** The line the kernel prints after its stores, while still in S-mode with paging on. */
const PAUSE_AT = '[S] loading from VA';

const paging = (() => {
  const r = assemble(readFileSync(join(REPO_ROOT, 'labs', 'paging', 'paging.S'), 'latin1'), { file: 'paging.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.elf;
})();

/** Boots the paging lab in a VM and runs it until it has printed `PAUSE_AT` (S-mode, paging on). */
function pausedVm(mode: VmMode): { vmm: Vmm; vm: Vm } {
  const out: number[] = [];
  const vmm = new Vmm({ hostRamSize: HOST_RAM, quantum: 1000 });
  const vm = vmm.createVm({ name: 'paging', mode, kernel: paging, memSize: 2 << 20, placement: LECTURE, onUart: (b) => out.push(b) });
  for (let i = 0; i < 10_000 && !Buffer.from(out).toString('latin1').includes(PAUSE_AT); i++) vmm.runVm(vm, 100);
  expect(Buffer.from(out).toString('latin1')).toContain(PAUSE_AT);
  expect(vm.vhart.priv).toBe(1);
  return { vmm, vm };
}

const table = (tables: TableInfo[], kind: string, key = kind): TableInfo => {
  const t = tables.find((x) => x.kind === kind && x.key === key);
  if (!t) throw new Error(`no ${kind} table ${key} in ${tables.map((x) => x.key).join(', ')}`);
  return t;
};

describe('the page-table inspector on the paging lab', () => {
  it('lists the guest table, the pmap and the active shadow, with the lecture values (trap mode)', () => {
    const { vmm, vm } = pausedVm('trap');
    const host = (frame: number): number => vmm.frames.base + frame * 4096;
    const ins = LayerInspector.forVm(vmm, vm);
    const tables = ins.tables();
    const guest = table(tables, 'guest');
    expect(guest.root).toBe(gpage(0xa1));
    const shadow = tables.find((t) => t.kind === 'shadow' && t.active)!;
    expect(shadow.label).toBe('shadow: guest kernel (S), satp 0x800800a1');

    const root = ins.tablePage(guest, guest.root, 1);
    expect(root.writeProtected).toBe(true);
    expect(root.entries.map((e) => [e.index, e.pte, e.kind])).toEqual([
      [0x000, 0x20028001, 'table'], [0x040, 0x040000c7, 'leaf'], [0x200, 0x200000cf, 'leaf'],
    ]);
    const l0 = ins.tablePage(guest, root.entries[0].to, 0, root.entries[0].from);
    expect(l0.address).toBe(gpage(0xa0));
    expect(l0.writeProtected).toBe(true);
    expect(l0.entries.map((e) => [e.from, e.to])).toEqual([[0x1000, gpage(0xa2)], [0x2000, gpage(0xa3)]]);

    // pmap: root entry for the first 4 MiB of guest RAM, then the lecture's three frames.
    const pmap = table(tables, 'pmap');
    const proot = ins.tablePage(pmap, pmap.root, 1);
    expect(proot.entries.map((e) => e.from)).toEqual([RAM]);
    const pl0 = ins.tablePage(pmap, proot.entries[0].to, 0, proot.entries[0].from);
    const pmapOf = new Map(pl0.entries.map((e) => [(e.from - RAM) / 4096, (e.to - vmm.frames.base) / 4096]));
    expect([0xa1, 0xa2, 0xa3].map((g) => pmapOf.get(g))).toEqual([0xc0, 0xc1, 0xc4]);

    // The shadow the hardware walks: VA pages 1 and 2 straight to host frames 0xC1 and 0xC4.
    const sroot = ins.tablePage(shadow, shadow.root, 1);
    const sl0 = ins.tablePage(shadow, sroot.entries.find((e) => e.index === 0)!.to, 0, 0);
    expect(sl0.entries.filter((e) => e.from < 0x10000).map((e) => [e.from >>> 12, (e.to - vmm.frames.base) / 4096])).toEqual([[1, 0xc1], [2, 0xc4]]);
    expect(ins.tablePages()).toEqual([gpage(0xa0), gpage(0xa1)]);
    expect(ins.hostOf(gpage(0xa2))).toBe(host(0xc1));
    expect(ins.guestOf(host(0xc4) + 8)).toBe(gpage(0xa3) + 8);
  });

  it('translates 0x1000 step by step through every address space (the two-dimensional walk)', () => {
    const { vmm, vm } = pausedVm('trap');
    const host = (frame: number): number => vmm.frames.base + frame * 4096;
    const t = LayerInspector.forVm(vmm, vm).translate(0x1234);
    expect([t.paged, t.fault, t.guestPhysical, t.hostPhysical]).toEqual([true, 0, gpage(0xa2) + 0x234, host(0xc1) + 0x234]);
    const guestSteps = t.steps.filter((s) => s.stage === 'guest');
    expect(guestSteps.map((s) => [s.level, s.pteAddress, s.pteHostAddress, s.pte])).toEqual([
      [1, gpage(0xa1), host(0xc0), 0x20028001],
      [0, gpage(0xa0) + 4, vm.pmap.lookup(gpage(0xa0)) + 4, 0x200288c7],
    ]);
    // Each guest PTE address was itself translated through the two-level pmap, as was the result.
    for (const s of guestSteps) expect(s.nested.map((n) => n.level)).toEqual([1, 0]);
    expect(guestSteps[0].nested[1].pte >>> 10).toBe(host(0xc0) / 4096);
    const last = t.steps.slice(-2);
    expect(last.map((s) => [s.stage, s.level])).toEqual([['pmap', 1], ['pmap', 0]]);
    expect(last[1].pte >>> 10).toBe(host(0xc1) / 4096);
    // The shadow the physical hart walks gives the same host address in one two-level walk.
    expect(t.shadow?.hostPhysical).toBe(host(0xc1) + 0x234);
    expect(t.shadow?.steps.map((s) => s.stage)).toEqual(['shadow', 'shadow']);
  });

  it('walks the shadow of the context asked for: the guest kernel\'s, after the guest went to M-mode', () => {
    const { vmm, vm } = pausedVm('trap');
    const host = (frame: number): number => vmm.frames.base + frame * 4096;
    const vcpu = vmm.trapVcpu(vm)!;
    expect(shadowKeyFor(vm.vhart.priv, vm.vhart.satp, vm.vhart.mstatus)).toBe(vcpu.currentKey());
    const kernelKey = vcpu.currentKey();
    for (let i = 0; i < 10_000 && vm.state !== 'halted'; i++) vmm.runVm(vm, 100);
    expect([vm.state, vm.vhart.priv]).toEqual(['halted', 3]);
    expect(shadowKeyFor(3, vm.vhart.satp, vm.vhart.mstatus)).toBe(vcpu.currentKey());
    const ins = LayerInspector.forVm(vmm, vm);
    // As the guest is now (M-mode): the paging-off shadow, which maps no page at 0x1000 (not guest RAM).
    expect(ins.translate(0x1000).shadow).toMatchObject({ key: 'bare3', fault: Cause.LOAD_PAGE, hostPhysical: undefined });
    // As the guest kernel: its own shadow, not the one active now.
    const s = ins.translate(0x1000, Access.LOAD, 1).shadow!;
    expect([s.key, s.label, s.fault, s.hostPhysical]).toEqual([kernelKey, 'shadow: guest kernel (S), satp 0x800800a1', 0, host(0xc1)]);
    // No guest user code ever ran: the VMM has built no user shadow to walk.
    expect(ins.translate(0x1000, Access.LOAD, 0).shadow).toBeUndefined();
  });

  for (const mode of ['emulate', 'trap'] as const) {
    it(`agrees with the MMU's own outcome for mapped, unmapped and forbidden accesses (${mode})`, () => {
      const { vmm, vm } = pausedVm(mode);
      const ins = LayerInspector.forVm(vmm, vm);
      const cases: [number, Access, number][] = [
        [0x1000, Access.LOAD, 0], [0x2ffc, Access.STORE, 0], [0x80000010, Access.FETCH, 0],
        [0x3000, Access.LOAD, Cause.LOAD_PAGE], [0x400000, Access.STORE, Cause.STORE_PAGE],
        [0x1000, Access.FETCH, Cause.INSN_PAGE], [0x10000000, Access.FETCH, Cause.INSN_PAGE],
      ];
      for (const [va, access, fault] of cases) {
        const seen = ins.translate(va, access);
        const pa = vm.vhart.translate(va, 4, access);
        expect({ va, fault: seen.fault }).toEqual({ va, fault });
        expect({ va, fault: vm.vhart.fault }).toEqual({ va, fault });
        expect(seen.guestPhysical ?? -1).toBe(pa);
        if (fault === 0) expect(seen.hostPhysical ?? ins.hostOf(pa)).toBe(vm.pmap.lookup(pa) < 0 ? undefined : vm.pmap.lookup(pa));
      }
      // The UART megapage reaches a device, which has no host frame.
      const uart = ins.translate(0x10000000, Access.STORE);
      expect([uart.guestPhysical, uart.hostPhysical, uart.device]).toEqual([0x10000000, undefined, 'uart16550']);
    });
  }

  it('shows the bare machine as one layer, where guest-physical is physical', () => {
    const out: number[] = [];
    const m = new Machine({ ramSize: 128 << 20, onUart: (b) => out.push(b) });
    m.loadKernel(paging);
    while (!Buffer.from(out).toString('latin1').includes(PAUSE_AT)) expect(m.run(100)).toBe(StopReason.BUDGET);
    const ins = LayerInspector.forMachine(m.hart);
    const [t] = ins.tables();
    expect([t.kind, t.root, t.active]).toEqual(['machine', gpage(0xa1), true]);
    const tr = ins.translate(0x2008, Access.LOAD);
    expect([tr.guestPhysical, tr.hostPhysical, tr.steps.length, tr.shadow]).toEqual([gpage(0xa3) + 8, gpage(0xa3) + 8, 2, undefined]);
    expect(tr.steps.map((s) => s.nested.length)).toEqual([0, 0]);
    expect(ins.translate(0x3000).fault).toBe(Cause.LOAD_PAGE);
  });
});
