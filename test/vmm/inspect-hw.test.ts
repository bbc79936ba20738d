// The page-table inspector in hw mode (issue #17): its recorded two-dimensional walk is the physical
// hart's own. On the paging lab paused in S-mode with paging on, the inspector's references (PTE
// reads and A/D writes, in order, with their host addresses and values) equal what the hart's
// two-stage translator reads and writes for the same guest context, and its outcome is the hart's;
// with the A/D bits cleared a store makes all 12 references of Sv32 over Sv32x4.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Access, Cause } from '../../src/engine/mmu/walk';
import type { TwoStageTrace } from '../../src/engine/mmu/two-stage';
import { LayerInspector } from '../../src/engine/vmm/inspect';
import type { Vm } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';

const PAUSE_AT = '[S] loading from VA';

function pausedHwVm(): { vmm: Vmm; vm: Vm } {
  const r = assemble(readFileSync(join(REPO_ROOT, 'labs', 'paging', 'paging.S'), 'latin1'), { file: 'paging.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const out: number[] = [];
  const vmm = new Vmm({ hostRamSize: 64 << 20, quantum: 1000 });
  const vm = vmm.createVm({ name: 'paging', mode: 'hw', kernel: r.elf, memSize: 2 << 20, onUart: (b) => out.push(b) });
  for (let i = 0; i < 10_000 && !Buffer.from(out).toString('latin1').includes(PAUSE_AT); i++) vmm.runVm(vm, 100);
  expect(Buffer.from(out).toString('latin1')).toContain(PAUSE_AT);
  expect(vm.vhart.priv).toBe(1);
  expect(vm.vhart.satp >>> 31).toBe(1);
  return { vmm, vm };
}

/** The hart's own two-stage walk of `va` for the guest's S-mode context, every reference traced. */
function hartWalk(vmm: Vmm, vm: Vm, va: number, access: Access): { refs: [number, number, boolean][]; counted: number; fault: number; pa: number } {
  const p = vmm.hwHart;
  const refs: [number, number, boolean][] = [];
  const trace: TwoStageTrace = { part: () => undefined, ref: (pa, value, write) => refs.push([pa >>> 0, value >>> 0, write]) };
  const before = p.hx.walker.stats.refs;
  p.hx.walker.setTrace(trace);
  const h = vm.vhart;
  const hgatp = (vm.pmap.hgatp | ((vm.id & 0x7f) << 22)) >>> 0;
  const r = p.hx.walker.translate(va, 4, access, h.satp, hgatp, 1, (h.mstatus & (1 << 18)) !== 0, (h.mstatus & (1 << 19)) !== 0, p.hx.hsMxr(p));
  p.hx.walker.setTrace(undefined);
  return { refs, counted: p.hx.walker.stats.refs - before, fault: r.fault, pa: r.pa };
}

describe('the hw-mode page-table inspector', () => {
  it('records the hart\'s two-dimensional walk reference by reference', () => {
    const { vmm, vm } = pausedHwVm();
    const ins = LayerInspector.forVm(vmm, vm);
    for (const [va, access] of [[0x1000, Access.LOAD], [0x2008, Access.STORE], [0x3000, Access.LOAD], [0x1004, Access.FETCH]] as const) {
      const seen = ins.translate(va, access);
      const refs = seen.references!;
      expect(refs.length).toBeGreaterThan(0);
      const hart = hartWalk(vmm, vm, va, access);
      expect(refs.map((r) => [r.hostAddress, r.value, r.write])).toEqual(hart.refs);
      expect(refs.length).toBe(hart.counted);
      expect(seen.fault).toBe(hart.fault);
      if (hart.fault === 0) expect(seen.hostPhysical).toBe(hart.pa);
    }
    // A mapped page: guest root PTE, guest leaf, each located by a 2-level pmap walk, then the final pmap walk.
    const t = ins.translate(0x1000, Access.LOAD);
    expect(t.fault).toBe(0);
    expect(t.references!.filter((r) => !r.write).map((r) => `${r.purpose}@${r.level}`)).toEqual([
      'pmap-for-pte@1', 'pmap-for-pte@0', 'guest-pte@1', 'pmap-for-pte@1', 'pmap-for-pte@0', 'guest-pte@0', 'pmap-final@1', 'pmap-final@0',
    ]);
    const guestPtes = t.references!.filter((r) => r.purpose === 'guest-pte' && !r.write);
    expect(guestPtes[0].pteAddress).toBe(((vm.vhart.satp & 0x3fffff) * 4096 + 0) >>> 0);
    expect(guestPtes.every((r) => r.pteSpace === 'guest-physical' && r.inputSpace === 'guest-virtual' && r.input === 0x1000)).toBe(true);
    expect(t.references!.filter((r) => r.purpose === 'pmap-final').every((r) => r.input === t.guestPhysical && r.inputSpace === 'guest-physical')).toBe(true);
    expect(ins.translate(0x3000).fault).toBe(Cause.LOAD_PAGE);
  });

  it('counts 12 references for a store with every A and D bit clear (Sv32 over Sv32x4)', () => {
    const { vmm, vm } = pausedHwVm();
    const ins = LayerInspector.forVm(vmm, vm);
    const ram = vmm.host.ram;
    const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
    // Clear A and D in every leaf PTE of the walk (guest leaf and the three pmap leaves), in host RAM.
    for (const r of ins.translate(0x2008, Access.STORE).references!) {
      if (r.write || (r.value & 0xa) === 0) continue;
      const off = vmm.host.ramOffset(r.hostAddress, 4);
      view.setUint32(off, view.getUint32(off, true) & ~0xc0, true);
    }
    vmm.hwHart.tlb.flushAll();
    const refs = ins.translate(0x2008, Access.STORE).references!;
    expect(refs.length).toBe(12);
    expect(refs.filter((r) => r.write).length).toBe(4);
    const hart = hartWalk(vmm, vm, 0x2008, Access.STORE);
    expect(refs.map((r) => [r.hostAddress, r.value, r.write])).toEqual(hart.refs);
    expect(hart.counted).toBe(12);
  });
});
