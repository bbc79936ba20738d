// Two-stage translation, property-based: for random guest page tables (in guest RAM, with pointers
// and leaves also outside it) and random pmaps (scattered placements), the H hart's translation of a
// guest access (V=1: VS-stage over vsatp, G-stage over the VM's pmap in hgatp) equals the software
// composition emulate mode uses: the VM's virtual hart walks the guest's table on the guest bus, then
// the pmap maps the guest-physical address. Faults correspond: a VS-stage page fault is the same page
// fault; a guest PTE outside guest RAM (an access fault in software) is a load guest-page fault with
// htval = that PTE's address >> 2; a final guest-physical address outside guest RAM is the access's
// guest-page fault with htval = that address >> 2. Repeated with the hart's TLB warm.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Access } from '../../src/engine/mmu/walk';
import { TLB_MASK } from '../../src/engine/mmu/tlb';
import { LayerInspector } from '../../src/engine/vmm/inspect';
import { Vmm } from '../../src/engine/vmm/vmm';

const GUEST_RAM = 0x80000000;
const GUEST_PAGES = 64;
/** Guest-physical pages outside guest RAM (no device lives there). */
const OUTSIDE = 0xc0000;
const PAGE_FAULT = [12, 13, 15];
const GUEST_PAGE_FAULT = [20, 21, 23];

interface Case {
  seed: number;
  root: number;
  entries: { index: number; pointer: boolean; page: number; outside: boolean; flags: number }[];
  leaves: { table: number; index: number; page: number; outside: boolean; flags: number }[];
  accesses: { vpn1: number; vpn0: number; offset: number; access: Access; priv: number; sum: boolean; mxr: boolean }[];
}

/** PTE flags: mostly usual leaves (RWX/RX/RW/R/X, with or without U, A and D), some random. */
const arbFlags = fc.oneof(
  fc.constantFrom(0xcf, 0xdf, 0xc7, 0xd7, 0xcb, 0xdb, 0x4b, 0x5b, 0x43, 0x53, 0xc9, 0xd9, 0x0f, 0x1f),
  fc.integer({ min: 0, max: 0xff }),
);
/** Outside guest RAM one time in four. */
const arbOutside = fc.nat(3).map((n) => n === 0);

const arbCase: fc.Arbitrary<Case> = fc.record({
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  root: fc.nat(59),
  entries: fc.array(fc.record({
    index: fc.nat(3), pointer: fc.nat(3).map((n) => n !== 0), page: fc.nat(GUEST_PAGES - 1), outside: arbOutside, flags: arbFlags,
  }), { minLength: 4, maxLength: 6 }),
  leaves: fc.array(fc.record({
    table: fc.nat(3), index: fc.nat(3), page: fc.nat(59), outside: arbOutside, flags: arbFlags,
  }), { minLength: 12, maxLength: 24 }),
  accesses: fc.array(fc.record({
    vpn1: fc.nat(3), vpn0: fc.nat(3), offset: fc.nat(4095), access: fc.constantFrom(Access.FETCH, Access.LOAD, Access.STORE),
    priv: fc.constantFrom(0, 1), sum: fc.boolean(), mxr: fc.boolean(),
  }), { minLength: 1, maxLength: 24 }),
});

/** Root entries and level-0 slots are spread over the table: index i is entry i * 37 (root) or i * 13 (level 0). */
const ROOT_SLOT = (i: number): number => (i * 37) & 0x3ff;
const L0_SLOT = (i: number): number => (i * 13) & 0x3ff;
/** The guest pages that hold level-0 tables. */
const L0_TABLES = [60, 61, 62, 63];

/** How often each kind of outcome came up (the property must see all of them). */
const outcomes = { ok: 0, page: 0, guest: 0 };

function check(c: Case): void {
  const vmm = new Vmm({ hostRamSize: 8 << 20, seed: c.seed, jit: false });
  const vm = vmm.createVm({ name: 'g', mode: 'hw', kernel: new Uint8Array([0x73, 0x00, 0x50, 0x10]), memSize: GUEST_PAGES * 4096, placement: 'scattered', cpu: { pmp: false } });
  const bus = vm.bus;
  const pageAddr = (page: number, outside: boolean): number => (outside ? (OUTSIDE + page) * 4096 : GUEST_RAM + page * 4096);
  const rootAddr = GUEST_RAM + c.root * 4096;
  for (const e of c.entries) {
    // Pointers lead to one of the four level-0 tables (or outside guest RAM).
    const target = pageAddr(e.pointer ? L0_TABLES[e.page % 4] : e.page, e.outside) / 4096;
    // A pointer (no R/W/X) or a megapage leaf with the entry's flags.
    const flags = e.pointer ? (e.flags & ~0x0e) | 1 : e.flags;
    bus.store(rootAddr + ROOT_SLOT(e.index) * 4, 4, ((target << 10) | flags) >>> 0);
  }
  for (const l of c.leaves) {
    const target = pageAddr(l.page, l.outside) / 4096;
    bus.store(GUEST_RAM + L0_TABLES[l.table % 4] * 4096 + L0_SLOT(l.index) * 4, 4, ((target << 10) | l.flags) >>> 0);
  }
  const vsatp = (0x80000000 | (rootAddr / 4096)) >>> 0;
  const vh = vm.vhart;
  const p = vmm.hwHart;
  const hx = p.hx;
  hx.hgatp = (vm.pmap.hgatp | (5 << 22)) >>> 0;
  hx.virt = true;
  p.satp = vsatp;
  p.tlb.flushAll();
  const tlb = p.tlb;
  let lastStatus = -1;
  for (const a of c.accesses) {
    const va = ((ROOT_SLOT(a.vpn1) << 22) | (L0_SLOT(a.vpn0) << 12) | a.offset) >>> 0;
    const status = (a.sum ? 1 << 18 : 0) | (a.mxr ? 1 << 19 : 0);
    // Software: the virtual hart as emulate mode runs it, then the pmap.
    vh.priv = a.priv;
    vh.satp = vsatp;
    vh.mstatus = status;
    vh.tlb.flushAll();
    vh.contextChanged();
    const gpa = vh.translate(va, 1, a.access);
    const swFault = vh.fault;
    let expected: { pa: number; fault: number; htval?: number };
    if (swFault !== 0 && PAGE_FAULT.includes(swFault)) expected = { pa: -1, fault: swFault };
    else if (swFault !== 0) expected = { pa: -1, fault: 21, htval: -1 }; // a PTE outside guest RAM
    else if (vm.pmap.lookup(gpa) < 0) expected = { pa: -1, fault: GUEST_PAGE_FAULT[a.access], htval: Math.floor(gpa / 4) };
    else expected = { pa: vm.pmap.lookup(gpa), fault: 0 };
    const where = `va ${va.toString(16)} access ${a.access} priv ${a.priv} sum ${a.sum} mxr ${a.mxr}`;
    // Hardware: the H hart in VS/VU over vsatp and the pmap (a change of SUM/MXR drops the TLB, as
    // writeMstatus does).
    if (status !== lastStatus) tlb.flushAll();
    lastStatus = status;
    p.priv = a.priv;
    p.mstatus = status;
    hx.faultGpa = 0;
    p.contextChanged();
    // A TLB entry left by earlier accesses may serve this one only as the composition would.
    const vpn = va >>> 12;
    const ti = vpn & TLB_MASK;
    const tags = a.access === Access.FETCH ? tlb.tagX : a.access === Access.LOAD ? tlb.tagR : tlb.tagW;
    const tag = vpn | (a.access === Access.FETCH ? p.fetchTag : p.dataTag);
    if (tags[ti] === tag) expect({ pa: p.bus.ramBase + ((va + tlb.off[ti]) | 0), fault: 0 }, `TLB hit, ${where}`).toEqual(expected);
    const pa = p.translate(va, 1, a.access);
    const got: { pa: number; fault: number; htval?: number } = { pa, fault: p.fault };
    if (expected.htval === -1) {
      // The faulting PTE address lies outside guest RAM, in the window the entries point to.
      expect(hx.faultGpa * 4 >= OUTSIDE * 4096, `htval ${hx.faultGpa.toString(16)}, ${where}`).toBe(true);
      got.htval = -1;
    } else if (expected.htval !== undefined) {
      got.htval = hx.faultGpa;
    }
    expect(got, where).toEqual(expected);
    outcomes[expected.fault === 0 ? 'ok' : expected.htval !== undefined ? 'guest' : 'page']++;
    if (tags[ti] === tag) expect(p.bus.ramBase + ((va + tlb.off[ti]) | 0), `TLB fill, ${where}`).toBe(pa);
  }
}

describe('two-stage translation equals the software composition (guest walk, then pmap)', () => {
  it('for random guest tables, pmaps and accesses, and the TLB entries it fills', () => {
    fc.assert(fc.property(arbCase, (c) => { check(c); }), { numRuns: 300 });
    expect(outcomes.ok).toBeGreaterThan(40);
    expect(outcomes.page).toBeGreaterThan(40);
    expect(outcomes.guest).toBeGreaterThan(40);
  });
});

describe('what the inspectors see of a hw guest', () => {
  it('TLB entries of guest accesses carry V and the VMID; the guest table and the pmap are both active tables', () => {
    const vmm = new Vmm({ hostRamSize: 8 << 20, jit: false });
    const vm = vmm.createVm({ name: 'g', mode: 'hw', kernel: new Uint8Array([0x73, 0x00, 0x50, 0x10]), memSize: GUEST_PAGES * 4096, cpu: { pmp: false } });
    // A guest table at guest page 1 mapping VA 0x40000000 (megapage) onto guest RAM.
    vm.bus.store(GUEST_RAM + 4096 + 4 * 0x100, 4, ((GUEST_RAM >>> 12) << 10) | 0xcf);
    const p = vmm.hwHart;
    p.hx.hgatp = (vm.pmap.hgatp | (9 << 22)) >>> 0;
    p.hx.virt = true;
    p.priv = 1;
    p.satp = (0x80000000 | ((GUEST_RAM + 4096) >>> 12)) >>> 0;
    p.contextChanged();
    p.tlb.flushAll();
    expect(p.translate(0x40000010, 4, Access.LOAD)).toBe(vm.pmap.lookup(GUEST_RAM + 0x10));
    const entry = p.tlb.entries().find((e) => e.vpn === 0x40000);
    expect(entry).toMatchObject({ virt: true, vmid: 9, priv: 1, bare: false, read: true });
    // The VMID is part of the tag: the same guest address under another VMID misses.
    p.hx.hgatp = (vm.pmap.hgatp | (10 << 22)) >>> 0;
    p.contextChanged();
    const vpn = 0x40000;
    expect(p.tlb.tagR[vpn & TLB_MASK]).not.toBe(vpn | p.dataTag);
    vm.vhart.satp = p.satp;
    vm.vhart.priv = 1;
    const tables = LayerInspector.forVm(vmm, vm).tables();
    expect(tables.map((t) => [t.kind, t.active])).toEqual([['guest', true], ['pmap', true]]);
  });
});
