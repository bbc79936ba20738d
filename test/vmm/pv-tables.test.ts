// The validation of a pv guest's page tables (src/engine/vmm/pv/pv-tables.ts): each rule refused
// with its SBI error and nothing changed, and a property test over random batches, hostile ones
// included: after every batch the registry equals what a from-scratch walk of the roots gives, no
// table page is mapped writable, every entry is well formed, and a refused batch left memory and
// registry exactly as they were.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SbiError } from '../../src/engine/machine/sbi';
import { PvTables, type PvMemory } from '../../src/engine/vmm/pv/pv-tables';

const RAM_GPN = 0x80000;
const PAGES = 1024;
const V = 1, R = 2, W = 4, X = 8;

class Ram implements PvMemory {
  readonly words = new Uint32Array(PAGES * 1024);
  isRamPage(gpn: number): boolean {
    return gpn >= RAM_GPN && gpn < RAM_GPN + PAGES;
  }
  read32(gpa: number): number {
    return this.words[(gpa - RAM_GPN * 4096) >>> 2];
  }
  write32(gpa: number, value: number): void {
    this.words[(gpa - RAM_GPN * 4096) >>> 2] = value;
  }
}

const page = (k: number): number => RAM_GPN + k;
const pte = (gpn: number, bits: number): number => ((gpn << 10) | bits) >>> 0;
const slot = (k: number, i: number): number => page(k) * 4096 + 4 * i;

function same(a: Uint32Array, b: Uint32Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer)) === 0;
}

function setup(): { ram: Ram; t: PvTables } {
  const ram = new Ram();
  return { ram, t: new PvTables(ram, RAM_GPN) };
}

/** The registry a from-scratch walk of the registered roots gives, or the first broken rule. */
function recompute(ram: Ram, t: PvTables): { l0: Map<number, number>; writable: Map<number, number> } | string {
  const l0 = new Map<number, number>();
  const writable = new Map<number, number>();
  const leaf = (level: number, e: number): string | undefined => {
    const ppn = e >>> 10;
    if ((e & (R | W)) === W) return 'W without R';
    if (level === 1 && (ppn & 0x3ff) !== 0) return 'misaligned megapage';
    const n = level === 1 ? 1024 : 1;
    for (let p = ppn; p < ppn + n; p++) {
      if (!ram.isRamPage(p) && p >= RAM_GPN) return 'foreign frame';
      if ((e & W) !== 0 && ram.isRamPage(p)) writable.set(p, (writable.get(p) ?? 0) + 1);
    }
    return undefined;
  };
  const roots = [...t.pages].filter(([, p]) => p.level === 1).map(([g]) => g);
  for (const root of roots) {
    for (let i = 0; i < 1024; i++) {
      const e = ram.read32(root * 4096 + 4 * i);
      if ((e & V) === 0) continue;
      if ((e & (R | W | X)) === 0) {
        const target = e >>> 10;
        if (!ram.isRamPage(target)) return 'link outside RAM';
        l0.set(target, (l0.get(target) ?? 0) + 1);
      } else {
        const bad = leaf(1, e);
        if (bad) return bad;
      }
    }
  }
  for (const table of l0.keys()) {
    if (roots.includes(table)) return 'root used as level-0 table';
    for (let i = 0; i < 1024; i++) {
      const e = ram.read32(table * 4096 + 4 * i);
      if ((e & V) === 0) continue;
      if ((e & (R | W | X)) === 0) return 'level-0 entry not a leaf';
      const bad = leaf(0, e);
      if (bad) return bad;
    }
  }
  for (const p of [...roots, ...l0.keys()]) if ((writable.get(p) ?? 0) > 0) return `table page ${p.toString(16)} mapped writable`;
  return { l0, writable };
}

function checkInvariants(ram: Ram, t: PvTables): void {
  const r = recompute(ram, t);
  if (typeof r === 'string') throw new Error(`invariant broken: ${r}`);
  const registeredL0 = new Map([...t.pages].filter(([, p]) => p.level === 0).map(([g, p]) => [g, p.refs]));
  expect(registeredL0).toEqual(r.l0);
  const counted = new Map<number, number>();
  for (let k = 0; k < PAGES; k++) if (t.writableMappings(page(k)) > 0) counted.set(page(k), t.writableMappings(page(k)));
  expect(counted).toEqual(r.writable);
}

describe('pv page tables: each rule', () => {
  it('a root outside the VM\'s RAM is INVALID_ADDRESS; a zeroed page becomes a root', () => {
    const { ram, t } = setup();
    expect(t.installRoot(0x1000)).toBe(SbiError.INVALID_ADDRESS);
    expect(t.installRoot(page(0))).toBe(SbiError.SUCCESS);
    expect(t.isTable(page(0))).toBe(true);
    checkInvariants(ram, t);
  });

  it('a root whose entries map itself writable is refused and leaves nothing registered', () => {
    const { ram, t } = setup();
    ram.write32(slot(1, 0x200), pte(page(0), V | R | W | X)); // megapage over RAM
    expect(t.installRoot(page(1))).toBe(SbiError.DENIED);
    expect(t.reason).toMatch(/writable/);
    expect(t.pages.size).toBe(0);
    expect(t.writableMappings(page(5))).toBe(0);
  });

  it('links, maps and unmaps through mmu_update; a level-0 table goes when its last link goes', () => {
    const { ram, t } = setup();
    expect(t.installRoot(page(0))).toBe(0);
    expect(t.update([slot(0, 5), pte(page(1), V)])).toBe(0);
    expect(t.pages.get(page(1))).toEqual({ level: 0, refs: 1 });
    expect(t.update([slot(1, 3), pte(page(9), V | R | W), slot(0, 6), pte(page(1), V)])).toBe(0);
    expect(t.pages.get(page(1))?.refs).toBe(2);
    expect(t.writableMappings(page(9))).toBe(1);
    expect(ram.read32(slot(1, 3))).toBe(pte(page(9), V | R | W));
    checkInvariants(ram, t);
    expect(t.update([slot(0, 5), 0, slot(0, 6), 0])).toBe(0);
    expect(t.isTable(page(1))).toBe(false);
    expect(t.writableMappings(page(9))).toBe(0);
    checkInvariants(ram, t);
  });

  const hostile: [string, (t: PvTables) => number[], number, RegExp][] = [
    ['a PTE address not 4-byte aligned', () => [slot(0, 1) + 2, 0], SbiError.INVALID_PARAM, /aligned/],
    ['a PTE in a page that is no table page', () => [slot(7, 0), pte(page(3), V | R)], SbiError.DENIED, /no page-table page/],
    ['a PTE outside the VM', () => [0x1000_0000, 0], SbiError.INVALID_ADDRESS, /RAM/],
    ['a frame the VM does not own', () => [slot(0, 5), pte(page(1), V), slot(1, 0), pte(page(PAGES + 3), V | R | W)], SbiError.DENIED, /does not own/],
    ['a megapage running past the VM\'s RAM', () => [slot(0, 1), pte(RAM_GPN + 0x400, V | R)], SbiError.DENIED, /does not own/],
    ['a megapage not 4 MiB aligned', () => [slot(0, 1), pte(page(1), V | R)], SbiError.INVALID_PARAM, /aligned/],
    ['W without R', () => [slot(0, 1), pte(0x100, V | W)], SbiError.INVALID_PARAM, /W without R/],
    ['its own root mapped writable', () => [slot(0, 5), pte(page(1), V), slot(1, 0), pte(page(0), V | R | W)], SbiError.DENIED, /writable/],
    ['a level-0 table mapped writable', () => [slot(0, 5), pte(page(1), V), slot(1, 0), pte(page(1), V | R | W)], SbiError.DENIED, /writable/],
    ['a link to a page mapped writable', () => [slot(0, 5), pte(page(1), V), slot(1, 0), pte(page(2), V | R | W), slot(0, 6), pte(page(2), V)], SbiError.DENIED, /mapped writable/],
    ['a level-0 entry that is no leaf', () => [slot(0, 5), pte(page(1), V), slot(1, 0), pte(page(2), V)], SbiError.INVALID_PARAM, /leaf/],
    ['a root linked as a level-0 table', () => [slot(0, 5), pte(page(0), V)], SbiError.INVALID_PARAM, /root/],
    ['a link to a page outside the VM', () => [slot(0, 5), pte(0x10000, V)], SbiError.DENIED, /not the VM's RAM/],
  ];
  for (const [what, batch, err, reason] of hostile) {
    it(`refuses ${what}, changing nothing`, () => {
      const { ram, t } = setup();
      expect(t.installRoot(page(0))).toBe(0);
      // A good update first in the same batch: it must be undone too.
      const pairs = [slot(0, 900), pte(0, V | R | W), ...batch(t)];
      const before = ram.words.slice();
      const pages = JSON.stringify([...t.pages]);
      expect(t.update(pairs)).toBe(err);
      expect(t.reason).toMatch(reason);
      expect(same(ram.words, before)).toBe(true);
      expect(JSON.stringify([...t.pages])).toBe(pages);
      checkInvariants(ram, t);
    });
  }

  it('a device page (below RAM) may be mapped, writable too', () => {
    const { ram, t } = setup();
    t.installRoot(page(0));
    expect(t.update([slot(0, 0x40), pte(0x10000, V | R | W)])).toBe(0);
    checkInvariants(ram, t);
  });
});

describe('pv page tables: random batches', () => {
  it('keep every invariant, and a refused batch changes nothing', () => {
    const bits = fc.constantFrom(0, V, V | R, V | R | W, V | R | X, V | R | W | X, V | W, V | X, V | R | W | X | 0x10);
    const target = fc.oneof(fc.integer({ min: 0, max: 7 }).map(page), fc.constantFrom(0x10000, page(PAGES + 1), RAM_GPN + 0x400, RAM_GPN));
    const entry = fc.record({ table: fc.integer({ min: 0, max: 7 }), index: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(0x200)), gpn: target, bits, misalign: fc.boolean() });
    const batch = fc.array(entry, { minLength: 1, maxLength: 6 });
    fc.assert(fc.property(fc.array(batch, { minLength: 1, maxLength: 25 }), (batches) => {
      const { ram, t } = setup();
      expect(t.installRoot(page(0))).toBe(0);
      for (const b of batches) {
        const pairs = b.flatMap((e) => [slot(e.table, e.index) + (e.misalign && e.index === 1 ? 2 : 0), pte(e.gpn, e.bits)]);
        // Batches write table pages 0..7 only: those words are the memory a refusal must keep.
        const before = ram.words.slice(0, 8 * 1024);
        const pages = JSON.stringify([...t.pages]);
        const err = t.update(pairs);
        if (err !== SbiError.SUCCESS) {
          expect(same(ram.words.slice(0, 8 * 1024), before)).toBe(true);
          expect(JSON.stringify([...t.pages])).toBe(pages);
        }
        checkInvariants(ram, t);
      }
    }), { numRuns: 120, seed: 16 });
  });
});
