// The page-table inspector's pure helpers, on the lecture's example: PTE decoding, the packed entries
// of vm.tablePage, change marks between pauses, the rows of a column (expanded lazily, write-protected
// pages marked), emulate mode's combined mapping through the pmap, and the translate box's words.
import { describe, expect, it } from 'vitest';
import type { PageTableInfo, PageTablesInfo, TablePageInfo, WalkInfo } from '../../src/shared/lab-api';
import { flagLetters, pageHex, pteKind, pteTarget, ramPage, unpackEntries } from '../../src/renderer/src/lib/pte';
import { loadedPage, pageKey, splitKey, type LoadedPage } from '../../src/renderer/src/lib/table-pages';
import { columnsOf, combinedRows, defaultShadow, pmapLookup, tableRows } from '../../src/renderer/src/lib/table-rows';
import { explainWalk, faultReason, type Seg } from '../../src/renderer/src/lib/walk-text';

const RAM = 0x80000000;
const gpage = (i: number): number => RAM + i * 4096;
/** A leaf PTE for page address `a` with flags `f`. */
const leaf = (a: number, f = 0xc7): number => (((a / 4096) << 10) | f) >>> 0;
const pointer = (a: number): number => (((a / 4096) << 10) | 1) >>> 0;

function packed(entries: [number, number][]): Uint8Array {
  const out = new Uint8Array(entries.length * 8);
  const v = new DataView(out.buffer);
  entries.forEach(([i, pte], k) => {
    v.setUint32(k * 8, i, true);
    v.setUint32(k * 8 + 4, pte, true);
  });
  return out;
}

function page(table: string, address: number, level: number, entries: [number, number][], pause = 1, old?: LoadedPage, wp = false): LoadedPage {
  const info: TablePageInfo = { table, address, level, from: 0, span: level === 1 ? 4 << 20 : 4096, readable: true, writeProtected: wp, entries: packed(entries) };
  return loadedPage(info, pause, old);
}

const table = (kind: PageTableInfo['kind'], key: string, root: number, extra: Partial<PageTableInfo> = {}): PageTableInfo => ({
  kind, key, label: key, active: false, root, rootBits: kind === 'pmap' ? 12 : 10,
  tableSpace: kind === 'guest' ? 'guest-physical' : 'host-physical', from: kind === 'pmap' ? 'guest-physical' : 'guest-virtual',
  to: kind === 'guest' ? 'guest-physical' : 'host-physical', ...extra,
});

const GUEST = table('guest', 'guest', gpage(0xa1));
const PMAP = table('pmap', 'pmap', RAM + 0x100000);
const INFO: PageTablesInfo = {
  mode: 'emulate', satp: 0x800800a1, priv: 1, tables: [GUEST, PMAP], hardware: '', writeProtected: [gpage(0xa0), gpage(0xa1)],
  guestRamBase: RAM, hostRamBase: RAM,
};
/** The lecture's guest table: root[0] → level-0 table at 0xA0, UART and kernel megapages; 0x01 → 0xA2, 0x02 → 0xA3. */
const GUEST_ROOT: [number, number][] = [[0, pointer(gpage(0xa0))], [0x40, 0x040000c7], [0x200, 0x200000cf]];
const GUEST_L0: [number, number][] = [[1, leaf(gpage(0xa2))], [2, leaf(gpage(0xa3))]];
/** The lecture's pmap with the kernel megapage's guest pages scattered: guest page p → host frame 0x400 + p, except 0xA1-0xA3. */
const PMAP_L0: [number, number][] = Array.from({ length: 1024 }, (_, p): [number, number] => {
  const frame = p === 0xa1 ? 0xc0 : p === 0xa2 ? 0xc1 : p === 0xa3 ? 0xc4 : 0x400 + p;
  return [p, leaf(RAM + frame * 4096, 0xdf)];
});

describe('PTE decoding', () => {
  it('decodes flags, kinds and targets as the spec\'s Sv32 walk reads them', () => {
    expect(flagLetters(0x200288c7)).toBe('VRW---AD');
    expect(flagLetters(0xff)).toBe('VRWXUGAD');
    expect([pteKind(0x20028001, 1), pteKind(0x20028001, 0), pteKind(0x200288c7, 0), pteKind(0x5, 0)]).toEqual(['table', 'reserved', 'leaf', 'reserved']);
    expect(pteTarget(0x200288c7, 0)).toBe(0x800a2000);
    // A level-1 leaf maps a 4 MiB megapage: only PPN[1] counts.
    expect(pteTarget(0x200000cf, 1)).toBe(0x80000000);
    expect(pteTarget(0x20028001, 1)).toBe(0x800a0000);
    // Sv32 physical addresses have 34 bits.
    expect(pteTarget(0xfffffc01, 1)).toBe(0x3fffff000);
    expect([ramPage(0x800a2fff, RAM), ramPage(0x10000000, RAM), pageHex(1), pageHex(0x1c0)]).toEqual([0xa2, undefined, '01', '1c0']);
    expect(unpackEntries(packed([[1, 0x200288c7], [0x3ff, 0xffffffff]]))).toEqual([[1, 0x200288c7], [0x3ff, 0xffffffff]]);
    expect(splitKey(pageKey('S:2148008097:0', 0x200))).toEqual(['S:2148008097:0', 0x200]);
    expect(splitKey(pageKey('guest'))).toEqual(['guest', undefined]);
  });
});

describe('changes between pauses', () => {
  it('marks new, changed and removed entries against the previous pause, and keeps that baseline within a pause', () => {
    const first = page('guest', gpage(0xa0), 0, GUEST_L0, 1);
    expect([...first.changed]).toEqual([]);
    const next: [number, number][] = [[1, leaf(gpage(0xa2))], [3, leaf(gpage(0xa4))]];
    const second = page('guest', gpage(0xa0), 0, next, 2, first);
    expect([...second.changed]).toEqual([3]);
    expect(second.removed).toEqual([[2, leaf(gpage(0xa3))]]);
    // Read again at the same pause: still compared with the pause before.
    const again = page('guest', gpage(0xa0), 0, next, 2, second);
    expect([[...again.changed], again.removed]).toEqual([[3], [[2, leaf(gpage(0xa3))]]]);
    const third = page('guest', gpage(0xa0), 0, next, 3, again);
    expect([[...third.changed], third.removed]).toEqual([[], []]);
  });
});

describe('rows of a column', () => {
  const pages = { [pageKey('guest')]: page('guest', gpage(0xa1), 1, GUEST_ROOT, 1, undefined, true) };

  it('lists root entries and asks for a level-0 page only when its entry is expanded', () => {
    const closed = tableRows(GUEST, { info: INFO, pages, expanded: [], path: new Set() });
    expect(closed.rows.map((r) => [r.level, r.index, r.kind, r.to, r.expandable])).toEqual([
      [1, 0, 'table', gpage(0xa0), true], [1, 0x40, 'leaf', 0x10000000, false], [1, 0x200, 'leaf', RAM, false],
    ]);
    expect(closed.needs).toEqual([]);
    // The level-0 table is a guest page-table page: write-protected in trap mode.
    expect(closed.rows[0].writeProtected).toBe(true);
    const asked = tableRows(GUEST, { info: INFO, pages, expanded: [0], path: new Set() });
    expect(asked.needs).toEqual([['guest', 0]]);
    expect(asked.rows[0].loading).toBe(true);
    const open = tableRows(GUEST, {
      info: INFO, pages: { ...pages, [pageKey('guest', 0)]: page('guest', gpage(0xa0), 0, GUEST_L0) }, expanded: [0], path: new Set([gpage(0xa1), gpage(0xa0) + 4]),
    });
    expect(open.rows.map((r) => [r.level, r.from, r.to, r.onPath])).toEqual([
      [1, 0, gpage(0xa0), true], [0, 0x1000, gpage(0xa2), true], [0, 0x2000, gpage(0xa3), false], [1, 0x10000000, 0x10000000, false], [1, RAM, RAM, false],
    ]);
  });

  it('composes emulate mode\'s guest-virtual → host-physical mapping through the pmap', () => {
    const all = {
      ...pages,
      [pageKey('guest', 0)]: page('guest', gpage(0xa0), 0, GUEST_L0),
      [pageKey('pmap')]: page('pmap', PMAP.root, 1, [[0x200, pointer(RAM + 0x101000)]]),
    };
    const first = combinedRows(GUEST, { info: INFO, pages: all, expanded: [0, 0x200], path: new Set(), va: 0x80000010 });
    // The pmap's level-0 page of guest RAM is not read yet: the column asks for it.
    expect(first.needs).toEqual([['pmap', 0x200]]);
    const withPmap = { ...all, [pageKey('pmap', 0x200)]: page('pmap', RAM + 0x101000, 0, PMAP_L0) };
    expect(pmapLookup(withPmap, gpage(0xa2) + 8)).toBe(RAM + 0xc1 * 4096 + 8);
    expect(pmapLookup(withPmap, 0x10000000)).toBeUndefined();
    const { rows, needs } = combinedRows(GUEST, { info: INFO, pages: withPmap, expanded: [0, 0x200], path: new Set([gpage(0xa1) + 0x800]), va: 0x80003010 });
    expect(needs).toEqual([]);
    const small = rows.filter((r) => r.level === 0 && r.root === 0).map((r) => [r.from >>> 12, ((r.to ?? 0) - RAM) / 4096, r.toSpace]);
    expect(small).toEqual([[1, 0xc1, 'host-physical'], [2, 0xc4, 'host-physical']]);
    // The kernel megapage expands into its 1024 pages, each in the host frame the pmap gives it.
    const mega = rows.filter((r) => r.level === 0 && r.root === 0x200);
    expect(mega).toHaveLength(1024);
    expect([mega[3].from, mega[3].to, mega[0xa2].to]).toEqual([RAM + 0x3000, RAM + (0x400 + 3) * 4096, RAM + 0xc1 * 4096]);
    expect(mega.filter((r) => r.onPath).map((r) => r.index)).toEqual([3]);
    expect(rows.find((r) => r.level === 1 && r.index === 0x200)!.toSpace).toBe('guest-physical');
  });

  it('puts the table the hardware walks third: the guest kernel\'s shadow when the guest sits in M-mode', () => {
    const bare3 = table('shadow', 'bare3', RAM + 0x8000, { active: true });
    const kernel = table('shadow', `S:${0x800800a1}:0`, RAM + 0xc000);
    const trap: PageTablesInfo = { ...INFO, mode: 'trap', priv: 3, tables: [GUEST, PMAP, bare3, kernel] };
    expect(defaultShadow(trap)!.key).toBe(kernel.key);
    expect(columnsOf(trap).map((c) => [c.id, c.table.key])).toEqual([['guest', 'guest'], ['pmap', 'pmap'], ['shadow', kernel.key]]);
    expect(columnsOf(trap, 'bare3')[2].table.key).toBe('bare3');
    expect(columnsOf(INFO).map((c) => [c.id, c.kind])).toEqual([['guest', 'table'], ['pmap', 'table'], ['combined', 'combined']]);
    const bare: PageTablesInfo = { ...INFO, mode: 'bare', tables: [table('machine', 'machine', gpage(0xa1), { tableSpace: 'physical', from: 'virtual', to: 'physical' })] };
    expect(columnsOf(bare).map((c) => c.id)).toEqual(['machine']);
  });
});

const text = (segs: Seg[]): string => segs.map((s) => (typeof s === 'string' ? s : s.text)).join('');

describe('the translate box\'s words', () => {
  const host = (frame: number): number => RAM + frame * 4096;
  const pmapWalk = (gpa: number): WalkInfo['steps'] => [
    { stage: 'pmap', level: 1, pteAddress: RAM + 0x100000 + 4 * Math.floor(gpa / 4194304), pteHostAddress: RAM + 0x100000, pte: pointer(RAM + 0x101000), nested: [] },
    { stage: 'pmap', level: 0, pteAddress: RAM + 0x101000 + 4 * ((gpa >>> 12) & 0x3ff), pteHostAddress: RAM + 0x101000, pte: leaf(host(0xc1), 0xdf), nested: [] },
  ];
  const mapped: WalkInfo = {
    va: 0x1234, access: 'load', priv: 1, paged: true, guestPhysical: gpage(0xa2) + 0x234, hostPhysical: host(0xc1) + 0x234, fault: 0,
    steps: [
      { stage: 'guest', level: 1, pteAddress: gpage(0xa1), pteHostAddress: host(0xc0), pte: 0x20028001, nested: pmapWalk(gpage(0xa1)) },
      { stage: 'guest', level: 0, pteAddress: gpage(0xa0) + 4, pteHostAddress: host(0x4a0) + 4, pte: 0x200288c7, nested: pmapWalk(gpage(0xa0)) },
      ...pmapWalk(gpage(0xa2)),
    ],
    shadow: { table: 'S:2148008097:0', label: 'shadow: guest kernel (S), satp 0x800800a1', hostPhysical: host(0xc1) + 0x234, fault: 0, steps: [
      { stage: 'shadow', level: 1, pteAddress: RAM + 0xc000, pte: pointer(RAM + 0x9000), nested: [] },
      { stage: 'shadow', level: 0, pteAddress: RAM + 0x9004, pte: leaf(host(0xc1), 0xd7), nested: [] },
    ] },
  };
  const trap = { ...INFO, mode: 'trap' as const };

  it('tells the two-dimensional walk step by step, then the shadow walk the hart does', () => {
    const lines = explainWalk(mapped, trap);
    expect(lines.map((l) => text(l.segs))).toEqual([
      'load from gva 0x00001234 as S-mode',
      '→ gpa 0x800a2234 → hpa 0x800c1234',
      'satp 0x800800a1: Sv32, root table at gpa 0x800a1000 (page a1); VPN[1] = 0x0, VPN[0] = 0x1, offset 0x234',
      'guest table level 1, entry 0x0 at gpa 0x800a1000 = hpa 0x800c0000 = 0x20028001 V-------: points to the level-0 table at gpa 0x800a0000 (page a0)',
      '  found in host memory through the pmap:',
      'pmap level 1, entry 0x200 at hpa 0x80100800 = 0x20040401 V-------: points to the level-0 table at hpa 0x80101000 (page 101)',
      'pmap level 0, entry 0xa1 at hpa 0x80101284 = 0x200304df VRWXU-AD: a leaf → hpa 0x800c1000 (frame c1)',
      'guest table level 0, entry 0x1 at gpa 0x800a0004 = hpa 0x804a0004 = 0x200288c7 VRW---AD: a leaf → gpa 0x800a2000 (page a2)',
      '  found in host memory through the pmap:',
      'pmap level 1, entry 0x200 at hpa 0x80100800 = 0x20040401 V-------: points to the level-0 table at hpa 0x80101000 (page 101)',
      'pmap level 0, entry 0xa0 at hpa 0x80101280 = 0x200304df VRWXU-AD: a leaf → hpa 0x800c1000 (frame c1)',
      'guest-physical address gpa 0x800a2234 (page a2); the VMM\'s pmap gives its host frame:',
      'pmap level 1, entry 0x200 at hpa 0x80100800 = 0x20040401 V-------: points to the level-0 table at hpa 0x80101000 (page 101)',
      'pmap level 0, entry 0xa2 at hpa 0x80101288 = 0x200304df VRWXU-AD: a leaf → hpa 0x800c1000 (frame c1)',
      'result: hpa 0x800c1234 (host frame c1) (gpa 0x800a2234)',
      '8 memory references for this translation.',
      'what the hardware walks: shadow: guest kernel (S), satp 0x800800a1',
      'shadow level 1, entry 0x0 at hpa 0x8000c000 = 0x20002401 V-------: points to the level-0 table at hpa 0x80009000 (page 09)',
      'shadow level 0, entry 0x1 at hpa 0x80009004 = 0x200304d7 VRW-U-AD: a leaf → hpa 0x800c1000 (frame c1)',
      'the hart reaches hpa 0x800c1234 in 2 references, without a trap: the same host address as the walk above.',
    ]);
    // The pmap's and the shadow's own pages are the VMM's: not links into a VM's memory view.
    const links = lines.flatMap((l) => l.segs).filter((s): s is Exclude<Seg, string> => typeof s !== 'string');
    expect(links.filter((s) => !s.vmm).every((s) => s.space !== 'host-physical' || [host(0xc0), host(0x4a0) + 4, host(0xc1), host(0xc1) + 0x234].includes(s.address))).toBe(true);
    expect(links.find((s) => s.address === RAM + 0x9000)?.vmm).toBe(true);
  });

  it('explains faults: an invalid entry, a missing permission, a shadow not filled yet, a write-protected page', () => {
    const unmapped: WalkInfo = { ...mapped, va: 0x3000, guestPhysical: undefined, hostPhysical: undefined, fault: 13, faultStage: 'guest', steps: [mapped.steps[0], { ...mapped.steps[1], pteAddress: gpage(0xa0) + 12, pte: 0 }], shadow: { ...mapped.shadow!, hostPhysical: undefined, fault: 13 } };
    const lines = explainWalk(unmapped, trap).map((l) => [l.kind, text(l.segs)]);
    expect(lines[1]).toEqual(['summary', '→ load page fault (cause 13)']);
    expect(lines).toContainEqual(['fault', 'load page fault (cause 13): the entry is not valid (V = 0): nothing is mapped there. stval = 0x00003000.']);
    expect(lines.at(-1)![1]).toMatch(/reflects the load page fault \(cause 13\) to the guest's trap handler/);
    expect(lines.some(([k]) => k === 'result')).toBe(false);

    expect(faultReason(0x200288c7, 0, 'fetch', 1, 12)).toBe('the page is not executable (X = 0)');
    expect(faultReason(0x200288c7, 0, 'load', 0, 13)).toBe('user mode may not touch a supervisor page (U = 0)');
    expect(faultReason(0x200288d7, 0, 'fetch', 1, 12)).toBe('S-mode never executes from a user page (U = 1)');
    expect(faultReason(0x200288c3, 0, 'store', 1, 15)).toBe('the page is not writable (W = 0)');
    expect(faultReason(0x200284cf, 1, 'load', 1, 13)).toBe('a megapage must start on a 4 MiB boundary (PPN[0] = 0)');

    const notFilled = { ...mapped, shadow: { ...mapped.shadow!, hostPhysical: undefined, fault: 13, steps: [{ ...mapped.shadow!.steps[0], pte: 0 }] } };
    expect(text(explainWalk(notFilled, trap).at(-1)!.segs)).toMatch(/^the shadow has no entry for this page yet: the hart raises a load page fault \(cause 13\) that goes to the VMM.*never sees this fault\.$/);
    const tableStore = { ...notFilled, access: 'store' as const, guestPhysical: gpage(0xa0) + 4, shadow: { ...notFilled.shadow, fault: 15 } };
    expect(text(explainWalk(tableStore, trap).at(-1)!.segs)).toMatch(/holds the guest's page tables, which the VMM write-protects/);
    const noShadow = { ...mapped, priv: 0, shadow: undefined };
    expect(text(explainWalk(noShadow, trap).at(-1)!.segs)).toMatch(/has not built one for U-mode with this satp yet/);
  });

  it('tells a bare machine\'s one-level story and a device access', () => {
    const bare: WalkInfo = { va: 0x10000000, access: 'store', priv: 1, paged: true, guestPhysical: 0x10000000, fault: 0, device: 'uart16550', steps: [
      { stage: 'machine', level: 1, pteAddress: gpage(0xa1) + 0x100, pte: 0x040000c7, nested: [] },
    ] };
    const lines = explainWalk(bare, { ...INFO, mode: 'bare' }).map((l) => text(l.segs));
    expect(lines).toEqual([
      'store to va 0x10000000 as S-mode',
      '→ pa 0x10000000: the uart16550 device',
      'satp 0x800800a1: Sv32, root table at pa 0x800a1000 (page a1); VPN[1] = 0x40, VPN[0] = 0x0, offset 0x0',
      'page table level 1, entry 0x40 at pa 0x800a1100 = 0x040000c7 VRW---AD: a 4 MiB megapage at pa 0x10000000',
      'result: pa 0x10000000 is the uart16550 device, not RAM: the bus sends it to the device',
    ]);
    const off = explainWalk({ va: 0x800a2000, access: 'load', priv: 3, paged: false, guestPhysical: 0x800a2000, hostPhysical: 0x800a2000, fault: 0, steps: [] }, { ...INFO, mode: 'bare' });
    expect(off.map((l) => text(l.segs))).toEqual(['load from va 0x800a2000 as M-mode', '→ pa 0x800a2000', 'M-mode does not translate: virtual = physical.', 'result: pa 0x800a2000 (page a2)']);
  });
});
