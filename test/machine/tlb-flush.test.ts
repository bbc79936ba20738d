// sfence.vma on the software TLB (mmu/tlb.ts): a flush of one page checks only that page's slot
// unless a megapage or a V=1 entry may be present. Random fills (4 KiB and megapage entries, bare,
// S, U and V=1 contexts, global and ASID-tagged) and random flushes are checked against the rule
// of the privileged spec (§4.2.1) as this TLB applies it: bare entries stay, V=1 entries always go,
// an ASID flush keeps global entries and other ASIDs, a page flush drops the entries that map that
// page (a megapage entry maps every page of its 4 MiB region). A sfence.vma with V=1 (flushVirtual)
// drops only the V=1 entries of its VMID by the same rule, an entry split from a VS-stage megapage
// going with any page of its region; a page in a region holding such entries takes the whole region.
import { describe, expect, it } from 'vitest';
import { CTX_BARE, CTX_VIRT, Tlb, TLB_MASK } from '../../src/engine/mmu/tlb';

interface Model {
  vpn: number;
  ctx: number;
  level: number;
  asid: number;
  global: boolean;
}

/** A small deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function covered(e: Model, vpn: number | undefined, asid: number | undefined): boolean {
  if ((e.ctx & CTX_BARE) !== 0) return false;
  if ((e.ctx & CTX_VIRT) !== 0) return true;
  if (asid !== undefined && (e.global || e.asid !== asid)) return false;
  if (vpn === undefined) return true;
  return e.level > 0 ? e.vpn >>> 10 === vpn >>> 10 : e.vpn === vpn;
}

describe('TLB sfence.vma', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`drops exactly the entries the flush covers (random fills and flushes, seed ${seed})`, () => {
      const next = rng(seed);
      const tlb = new Tlb();
      const model = new Map<number, Model>();
      // A few 4 MiB regions and ASIDs, so that flushes often hit what was filled.
      const regions = [0x100, 0x101, 0x200, 0x3ff, 0x000];
      for (let op = 0; op < 4000; op++) {
        const r = next() % 100;
        const vpn = ((regions[next() % regions.length] << 10) | (next() % 48)) >>> 0;
        if (r < 75) {
          const kind = next() % 10;
          const ctx = kind === 0 ? 1 | CTX_BARE : kind === 1 ? 1 | CTX_VIRT | ((next() % 4) << 4) : kind < 6 ? 1 : 0;
          const level = (ctx & (CTX_BARE | CTX_VIRT)) === 0 && next() % 4 === 0 ? 1 : 0;
          const global = next() % 5 === 0;
          const asid = next() % 3;
          tlb.fill(vpn << 12, ctx, 0, true, true, true, global ? 0x21 : 0x01, level, asid, vpn);
          model.set(vpn & TLB_MASK, { vpn, ctx, level, asid, global });
        } else {
          const va = next() % 4 === 0 ? undefined : vpn << 12;
          const asid = next() % 3 === 0 ? next() % 3 : undefined;
          tlb.flushTranslated(va, asid);
          for (const [slot, e] of model) if (covered(e, va === undefined ? undefined : vpn, asid)) model.delete(slot);
          const have = tlb.entries().map((e) => [e.slot, e.vpn]);
          const want = [...model].sort((a, b) => a[0] - b[0]).map(([slot, e]) => [slot, e.vpn]);
          expect(have).toEqual(want);
        }
      }
    });
  }
});

interface VirtModel extends Model {
  vsMega: boolean;
}

describe('TLB sfence.vma with V=1', () => {
  for (const seed of [5, 6, 7, 8]) {
    it(`drops exactly the guest's entries the flush covers (random fills and flushes, seed ${seed})`, () => {
      const next = rng(seed);
      const tlb = new Tlb();
      const model = new Map<number, VirtModel>();
      /** 4 MiB regions where a V=1 entry from a VS-stage megapage was filled since the last full flush. */
      const megaRegions = new Set<number>();
      const regions = [0x100, 0x101, 0x200, 0x3ff, 0x000];
      for (let op = 0; op < 4000; op++) {
        const r = next() % 100;
        const vpn = ((regions[next() % regions.length] << 10) | (next() % 48)) >>> 0;
        if (r < 75) {
          const kind = next() % 10;
          const vmid = next() % 3;
          const ctx = kind === 0 ? 1 | CTX_BARE : kind < 7 ? (next() % 2) | CTX_VIRT | (vmid << 4) : 1;
          const virt = (ctx & CTX_VIRT) !== 0;
          const level = !virt && (ctx & CTX_BARE) === 0 && next() % 4 === 0 ? 1 : 0;
          const vsMega = virt && next() % 6 === 0;
          const global = next() % 5 === 0;
          const asid = next() % 3;
          tlb.fill(vpn << 12, ctx, 0, true, true, true, global ? 0x21 : 0x01, level, asid, vpn);
          if (vsMega) {
            tlb.virtMegapage(vpn << 12);
            megaRegions.add(vpn >>> 10);
          }
          model.set(vpn & TLB_MASK, { vpn, ctx, level, asid, global, vsMega });
        } else if (r < 98) {
          const va = next() % 4 === 0 ? undefined : vpn << 12;
          const asid = next() % 3 === 0 ? next() % 3 : undefined;
          const vmid = next() % 3;
          tlb.flushVirtual(va, asid, vmid);
          for (const [slot, e] of model) {
            if ((e.ctx & CTX_VIRT) === 0 || ((e.ctx >>> 4) & 0x7f) !== vmid) continue;
            if (asid !== undefined && (e.global || e.asid !== asid)) continue;
            const sameRegion = e.vpn >>> 10 === vpn >>> 10;
            // Required: the page itself, or an entry of a VS megapage of its region; allowed (and
            // done): any entry of a region that holds such entries.
            if (va === undefined || e.vpn === vpn || (sameRegion && megaRegions.has(vpn >>> 10))) model.delete(slot);
          }
          const have = tlb.entries().map((e) => [e.slot, e.vpn, e.vmid]);
          const want = [...model].sort((a, b) => a[0] - b[0]).map(([slot, e]) => [slot, e.vpn, (e.ctx & CTX_VIRT) !== 0 ? (e.ctx >>> 4) & 0x7f : 0]);
          expect(have).toEqual(want);
        } else {
          tlb.flushAll();
          model.clear();
          megaRegions.clear();
        }
      }
    });
  }
});

describe('TLB full flushes and code pages', () => {
  // flushAll, the sfence.vma scans and codeAdded visit only the slots filled since the last full
  // flush (or clear every slot when many were filled): a slot filled, emptied by a page flush and
  // filled again, or filled before and after a full flush, must still go at the next one.
  for (const seed of [9, 10, 11]) {
    it(`leaves no entry behind and moves every write tag of a code page (few and many fills, seed ${seed})`, () => {
      const next = rng(seed);
      const tlb = new Tlb();
      const model = new Map<number, { vpn: number; ppn: number; code: boolean }>();
      for (let op = 0; op < 6000; op++) {
        const r = next() % 1000;
        // Rounds of a few fills and rounds of fills over the whole table.
        const wide = (op >> 9) % 2 === 1;
        const vpn = wide ? next() & 0xfffff : 0x80000 | (next() % 64);
        const ppn = next() % 97;
        if (r < 900) {
          tlb.fill(vpn << 12, 1, 0, true, true, true, 0x01, 0, 0, ppn);
          model.set(vpn & TLB_MASK, { vpn, ppn, code: false });
        } else if (r < 960) {
          tlb.flushTranslated(vpn << 12, undefined);
          const e = model.get(vpn & TLB_MASK);
          if (e !== undefined && e.vpn === vpn) model.delete(vpn & TLB_MASK);
        } else if (r < 990) {
          tlb.codeAdded(ppn);
          for (const e of model.values()) if (e.ppn === ppn) e.code = true;
        } else {
          tlb.flushAll();
          model.clear();
        }
        if (op % 50 === 0 || r >= 990) {
          const have = tlb.entries().map((e) => [e.slot, e.vpn, e.write]);
          const want = [...model].sort((a, b) => a[0] - b[0]).map(([slot, e]) => [slot, e.vpn, !e.code]);
          expect(have).toEqual(want);
        }
      }
      tlb.flushAll();
      expect(tlb.entries()).toEqual([]);
      expect(Array.from(tlb.tagC).every((t) => t === -1)).toBe(true);
    });
  }
});
