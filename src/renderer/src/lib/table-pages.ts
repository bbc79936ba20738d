// Table pages as the page-table inspector keeps them: the entries of one vm.tablePage read, keyed by
// table and root entry, with the entries that changed since the previous pause (new, different or
// gone), for page-tables.svelte.ts and the rows of table-rows.ts.

import type { TablePageInfo } from '../../../shared/lab-api';
import { unpackEntries } from './pte';

/** One table page as read, with what changed since the previous pause. */
export interface LoadedPage {
  readonly info: TablePageInfo;
  readonly entries: readonly [number, number][];
  readonly byIndex: ReadonlyMap<number, number>;
  /** The pause it was read at, and its entries at the pause before (undefined: not read then). */
  readonly pause: number;
  readonly baseline: ReadonlyMap<number, number> | undefined;
  /** Indices whose entry is new or different since the baseline. */
  readonly changed: ReadonlySet<number>;
  /** Entries of the baseline that are gone now. */
  readonly removed: readonly [number, number][];
}

/** The cache key of a table page: the root, or the level-0 page that root entry `index` points to. */
export function pageKey(table: string, index?: number): string {
  return `${table}|${index === undefined ? 'root' : index}`;
}

/** Compares a page's entries with its baseline: which indices are new or changed, which are gone. */
export function diffEntries(baseline: ReadonlyMap<number, number> | undefined, entries: readonly [number, number][]): { changed: Set<number>; removed: [number, number][] } {
  const changed = new Set<number>();
  const removed: [number, number][] = [];
  if (!baseline) return { changed, removed };
  const now = new Set<number>();
  for (const [i, pte] of entries) {
    now.add(i);
    if (baseline.get(i) !== pte) changed.add(i);
  }
  for (const [i, pte] of baseline) if (!now.has(i)) removed.push([i, pte]);
  return { changed, removed };
}

/** A page read at pause `pause`, compared with what the cache held (`old`). */
export function loadedPage(info: TablePageInfo, pause: number, old: LoadedPage | undefined): LoadedPage {
  const entries = unpackEntries(info.entries);
  // Several reads within one pause keep the baseline of that pause.
  const baseline = old === undefined ? undefined : old.pause === pause ? old.baseline : old.byIndex;
  return { info, entries, byIndex: new Map(entries), pause, baseline, ...diffEntries(baseline, entries) };
}

/** The table and root entry of a page key (undefined: the root). */
export function splitKey(k: string): [string, number | undefined] {
  const bar = k.lastIndexOf('|');
  const index = k.slice(bar + 1);
  return [k.slice(0, bar), index === 'root' ? undefined : Number(index)];
}
