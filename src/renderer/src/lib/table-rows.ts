// The page-table inspector's columns and their rows: which tables a machine shows side by side (the
// guest's table, the pmap, and what the hardware walks: the shadow in trap mode, the combined
// guest-table-then-pmap mapping the VMM walks in software in emulate mode), and each table as a
// flat list of rows (root entries, each expanded one followed by its level-0 entries) for a
// virtualized list. Pure: the pages come from page-tables.svelte.ts.

import type { AddressSpace, PageTableInfo, PageTablesInfo } from '../../../shared/lab-api';
import { pageKey, type LoadedPage } from './table-pages';
import { entrySpan, pteKind, pteTarget, type PteKind } from './pte';

/** One column of the inspector. */
export interface Column {
  /** 'guest', 'pmap', 'shadow', 'combined' or 'machine'. */
  readonly id: string;
  readonly kind: 'table' | 'combined';
  /** The table shown (for 'combined', the guest table it starts from). */
  readonly table: PageTableInfo;
  readonly title: string;
  /** What the column maps, in words. */
  readonly note: string;
  /** Space of the addresses the leaves map to. */
  readonly toSpace: AddressSpace;
}

/** The shadow a trap-mode VM's third column shows first: the active one unless paging is off in it, else the guest kernel's. */
export function defaultShadow(info: PageTablesInfo): PageTableInfo | undefined {
  const shadows = info.tables.filter((t) => t.kind === 'shadow');
  const active = shadows.find((t) => t.active);
  if (active && !active.key.startsWith('bare')) return active;
  return shadows.find((t) => t.key.startsWith(`S:${info.satp >>> 0}:`)) ?? shadows.find((t) => !t.key.startsWith('bare')) ?? active ?? shadows[0];
}

/** The columns of a machine, left to right; `shadowKey` picks the shadow of trap mode. */
export function columnsOf(info: PageTablesInfo, shadowKey?: string): Column[] {
  const out: Column[] = [];
  const guest = info.tables.find((t) => t.kind === 'guest' || t.kind === 'machine');
  if (guest?.kind === 'machine') {
    out.push({ id: 'machine', kind: 'table', table: guest, title: 'Page table', note: 'virtual → physical, walked by the hart on a TLB miss', toSpace: 'physical' });
    return out;
  }
  if (guest) out.push({ id: 'guest', kind: 'table', table: guest, title: 'Guest page table', note: 'guest-virtual → guest-physical: the guest kernel\'s own (satp)', toSpace: 'guest-physical' });
  const pmap = info.tables.find((t) => t.kind === 'pmap');
  if (pmap) out.push({ id: 'pmap', kind: 'table', table: pmap, title: 'pmap', note: 'guest-physical → host-physical: the VMM\'s map (Sv32x4, 16 KiB root)', toSpace: 'host-physical' });
  if (info.mode === 'trap' || info.mode === 'bt' || info.mode === 'pv') {
    const shadow = info.tables.find((t) => t.kind === 'shadow' && t.key === shadowKey) ?? defaultShadow(info);
    if (shadow) out.push({ id: 'shadow', kind: 'table', table: shadow, title: 'Shadow table', note: 'guest-virtual → host-physical: built by the VMM, walked by the hart', toSpace: 'host-physical' });
  } else if (guest && pmap) {
    out.push(info.mode === 'hw'
      ? { id: 'combined', kind: 'combined', table: guest, title: 'Combined (hardware walk)', note: 'guest-virtual → host-physical: guest table, then pmap, walked by the hart itself (vsatp over hgatp)', toSpace: 'host-physical' }
      : { id: 'combined', kind: 'combined', table: guest, title: 'Combined (software walk)', note: 'guest-virtual → host-physical: guest table, then pmap, walked by the VMM', toSpace: 'host-physical' });
  }
  return out;
}

/** First byte of RAM in `space`, for page numbers counted from it (0 in virtual spaces: page numbers are VPNs). */
export function spaceBase(info: PageTablesInfo, space: AddressSpace): number {
  if (space === 'host-physical') return info.hostRamBase;
  if (space === 'guest-physical' || space === 'physical') return info.guestRamBase;
  return 0;
}

/** One row of a column. */
export interface TableRow {
  readonly key: string;
  /** 1: a root entry; 0: a level-0 entry (or a 4 KiB piece of a megapage in the combined column). */
  readonly level: number;
  /** The root entry the row is under (itself at level 1), and its own index. */
  readonly root: number;
  readonly index: number;
  /** First input address the row covers. */
  readonly from: number;
  readonly pte: number;
  /** Where the PTE is, in the table's space (the guest's PTE for a combined row). */
  readonly pteAddress: number;
  /** 'removed': the entry was there at the previous pause and is gone. */
  readonly kind: PteKind | 'removed';
  /** The next table's address (in the table's space) or the mapped address; undefined: not RAM or not read yet. */
  readonly to: number | undefined;
  /** The space of `to`: the table's own space for a pointer to the next level. */
  readonly toSpace: AddressSpace;
  readonly expandable: boolean;
  readonly expanded: boolean;
  /** Expanded, but its page is still being read. */
  readonly loading: boolean;
  readonly changed: boolean;
  /** A PTE the last translation read. */
  readonly onPath: boolean;
  /** The entry points to a guest page-table page that trap mode write-protects. */
  readonly writeProtected: boolean;
}

/** What rows are built from. */
export interface RowSource {
  readonly info: PageTablesInfo;
  readonly pages: Readonly<Record<string, LoadedPage>>;
  /** Expanded root indices of the column. */
  readonly expanded: readonly number[];
  /** Addresses (in the table's space) of the PTEs the last translation read in this table. */
  readonly path: ReadonlySet<number>;
  /** The address the last translation was of (marks the one page of a megapage it reached). */
  readonly va?: number;
}

/** Rows, and the pages (table, root index) the column needs read to show them. */
export interface Rows {
  readonly rows: TableRow[];
  readonly needs: [string, number][];
}

function pageRows(table: PageTableInfo, page: LoadedPage, src: RowSource, root: number, from: number, keyPrefix: string): TableRow[] {
  const level = page.info.level;
  const span = entrySpan(level);
  const wp = new Set(src.info.writeProtected);
  const all: [number, number, boolean][] = page.entries.map(([i, pte]) => [i, pte, false]);
  for (const [i, pte] of page.removed) all.push([i, pte, true]);
  all.sort((a, b) => a[0] - b[0]);
  return all.map(([index, pte, gone]) => {
    const kind = gone ? 'removed' : pteKind(pte, level);
    const to = kind === 'removed' || kind === 'reserved' ? undefined : pteTarget(pte, level);
    const expandable = level === 1 && kind === 'table';
    const pteAddress = page.info.address + 4 * index;
    return {
      key: `${keyPrefix}${level === 1 ? '' : `${root}.`}${index}${gone ? 'x' : ''}`,
      level,
      root: level === 1 ? index : root,
      index,
      from: from + index * span,
      pte,
      pteAddress,
      kind,
      to,
      toSpace: kind === 'table' ? table.tableSpace : table.to,
      expandable,
      expanded: expandable && src.expanded.includes(index),
      loading: false,
      changed: gone || page.changed.has(index),
      onPath: !gone && src.path.has(pteAddress),
      writeProtected: table.kind === 'guest' && to !== undefined && wp.has(to),
    };
  });
}

/** A table's rows: its root entries, each expanded one followed by its level-0 entries. */
export function tableRows(table: PageTableInfo, src: RowSource): Rows {
  const root = src.pages[pageKey(table.key)];
  if (!root) return { rows: [], needs: [] };
  const rows: TableRow[] = [];
  const needs: [string, number][] = [];
  for (const r of pageRows(table, root, src, 0, 0, 'r')) {
    if (!r.expanded) {
      rows.push(r);
      continue;
    }
    const child = src.pages[pageKey(table.key, r.index)];
    rows.push(child ? r : { ...r, loading: true });
    if (child) rows.push(...pageRows(table, child, src, r.index, r.from, 'c'));
    else needs.push([table.key, r.index]);
  }
  return { rows, needs };
}

/** The host-physical address of guest-physical `gpa` through the pmap pages read so far; 'unread' when its page is not read yet. */
export function pmapLookup(pages: Readonly<Record<string, LoadedPage>>, gpa: number): number | undefined | 'unread' {
  const root = pages[pageKey('pmap')];
  if (!root) return 'unread';
  const r = Math.floor(gpa / 4194304);
  if (!root.byIndex.has(r)) return undefined;
  const l0 = pages[pageKey('pmap', r)];
  if (!l0) return 'unread';
  const pte = l0.byIndex.get(Math.floor(gpa / 4096) % 1024);
  return pte === undefined ? undefined : pteTarget(pte, 0) + (gpa % 4096);
}

/**
 * Emulate mode's combined mapping, guest-virtual → host-physical: the guest table's entries with
 * each guest-physical page taken through the pmap, as the VMM's software walk composes them. An
 * expanded megapage shows its 1024 pages, each in the host frame the pmap gives it.
 */
export function combinedRows(guest: PageTableInfo, src: RowSource): Rows {
  const root = src.pages[pageKey(guest.key)];
  if (!root) return { rows: [], needs: [] };
  const rows: TableRow[] = [];
  const needs = new Map<string, [string, number]>();
  const need = (table: string, index: number): void => void needs.set(pageKey(table, index), [table, index]);
  const host = (gpa: number): number | undefined => {
    const h = pmapLookup(src.pages, gpa);
    if (h === 'unread') {
      need('pmap', Math.floor(gpa / 4194304));
      return undefined;
    }
    return h;
  };
  for (const r of pageRows(guest, root, src, 0, 0, 'r')) {
    const leaf = r.kind === 'leaf';
    const expandable = r.kind === 'table' || leaf;
    const expanded = expandable && src.expanded.includes(r.index);
    // A megapage's 1024 guest pages may lie in 1024 scattered host frames: its row names the guest-physical start.
    const head: TableRow = { ...r, expandable, expanded, writeProtected: false };
    if (!expanded) {
      rows.push(head);
      continue;
    }
    if (leaf) {
      rows.push(head);
      for (let k = 0; k < 1024; k++) {
        const from = r.from + k * 4096;
        const onPath = head.onPath && src.va !== undefined && src.va >= from && src.va < from + 4096;
        rows.push({ ...head, key: `m${r.index}.${k}`, level: 0, index: k, from, to: host(r.to! + k * 4096), toSpace: 'host-physical', expandable: false, expanded: false, changed: false, onPath });
      }
      continue;
    }
    const child = src.pages[pageKey(guest.key, r.index)];
    if (!child) {
      need(guest.key, r.index);
      rows.push({ ...head, loading: true });
      continue;
    }
    rows.push(head);
    for (const c of pageRows(guest, child, src, r.index, r.from, 'c')) {
      rows.push({ ...c, to: c.kind === 'leaf' && c.to !== undefined ? host(c.to) : undefined, toSpace: 'host-physical', writeProtected: false });
    }
  }
  return { rows, needs: [...needs.values()] };
}

/** Index of the last row that `test` accepts, or -1. */
export function lastRow(rows: readonly TableRow[], test: (r: TableRow) => boolean): number {
  for (let i = rows.length - 1; i >= 0; i--) if (test(rows[i])) return i;
  return -1;
}
