// The page-table inspector's state (issue #7): per machine, its tables (vm.pageTables), the table
// pages read so far (vm.tablePage, one page per request, so a large table is read only where it is
// opened), which root entries each column has expanded, and the last translation. Every pause
// re-reads the pages read so far and marks the entries that changed since the previous pause.
// One instance per LabState, so the view keeps its place when its tab is left and shown again.

import { untrack } from 'svelte';
import type { PageTablesInfo, WalkInfo } from '../../../shared/lab-api';
import type { LabState } from './lab-state.svelte';
import { loadedPage, pageKey, splitKey, type LoadedPage } from './table-pages';

/** The inspector's state of one machine. */
export class MachineTables {
  info = $state.raw<PageTablesInfo | undefined>();
  pages = $state.raw<Record<string, LoadedPage>>({});
  /** Root entries each column has expanded: column id → root indices. */
  expanded = $state<Record<string, number[]>>({});
  /** The shadow the third column shows (trap mode); undefined: the view's default. */
  shadow = $state<string | undefined>();
  /** The last translation, for the translate box and the path it marks in the tables. */
  walk = $state.raw<WalkInfo | undefined>();
  error = $state('');
  private readonly pending = new Map<string, Promise<void>>();
  private readonly autoExpanded = new Set<string>();

  constructor(private readonly app: LabState, readonly id: string) {}

  /** Re-reads the tables and every page read so far (pages of tables that are gone are dropped). */
  async refresh(): Promise<void> {
    const lab = this.app.lab;
    const pause = this.app.pauseCount;
    try {
      const info = await lab.call('vm.pageTables', { id: this.id });
      const keys = new Set(info.tables.map((t) => t.key));
      const wanted = new Set([...keys].map((k) => pageKey(k)));
      for (const k of Object.keys(this.pages)) if (keys.has(k.slice(0, k.lastIndexOf('|')))) wanted.add(k);
      const next: Record<string, LoadedPage> = {};
      await Promise.all([...wanted].map(async (k) => {
        const [table, index] = splitKey(k);
        const page = await lab.call('vm.tablePage', index === undefined ? { id: this.id, table } : { id: this.id, table, index }).catch(() => undefined);
        if (page) next[k] = loadedPage(page, pause, this.pages[k]);
      }));
      // Pages expanded while this refresh was under way stay.
      for (const [k, page] of Object.entries(this.pages)) if (!wanted.has(k) && keys.has(splitKey(k)[0])) next[k] = page;
      this.info = info;
      this.pages = next;
      this.error = '';
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  /** Reads the level-0 page of root entry `index` of `table` unless it is cached (or on its way). */
  load(table: string, index: number): Promise<void> {
    const k = pageKey(table, index);
    if (this.pages[k]) return Promise.resolve();
    let p = this.pending.get(k);
    if (!p) {
      p = this.app.lab.call('vm.tablePage', { id: this.id, table, index }).then(
        (page) => void (this.pages = { ...this.pages, [k]: loadedPage(page, this.app.pauseCount, undefined) }),
        (err: unknown) => void (this.error = err instanceof Error ? err.message : String(err)),
      ).finally(() => this.pending.delete(k));
      this.pending.set(k, p);
    }
    return p;
  }

  /** Whether column `column` shows root entry `index` expanded. */
  isExpanded(column: string, index: number): boolean {
    return this.expanded[column]?.includes(index) ?? false;
  }

  /** Expands (or collapses) root entry `index` in a column; `table` is the table whose page it needs. */
  toggle(column: string, index: number, open = !this.isExpanded(column, index)): void {
    const now = this.expanded[column] ?? [];
    this.expanded[column] = open ? (now.includes(index) ? now : [...now, index]) : now.filter((i) => i !== index);
  }

  /**
   * Opens the pointer entries of a small root (at most `max`) once per column and table, so a
   * lecture-sized table shows its pages at once; a large one (the pmap) opens where asked.
   */
  autoExpand(column: string, table: string, max = 4): void {
    const once = `${column}|${table}`;
    const root = this.pages[pageKey(table)];
    if (this.autoExpanded.has(once) || !root) return;
    this.autoExpanded.add(once);
    const pointers = root.entries.filter(([, pte]) => (pte & 0xf) === 1).map(([i]) => i);
    if (pointers.length <= max) for (const i of pointers) this.toggle(column, i, true);
  }

  /** Translates an address through every layer (the translate box). */
  async translate(address: number, access: WalkInfo['access'], priv: 0 | 1 | 3): Promise<WalkInfo> {
    const w = await this.app.lab.call('vm.walk', { id: this.id, address, access, priv });
    this.walk = w;
    return w;
  }
}

/** Every machine's inspector state; the current machine is re-read after every pause. */
export class PageTablesState {
  private readonly machines = new Map<string, MachineTables>();

  constructor(private readonly app: LabState) {
    app.lab.on('vm.destroyed', ({ id }) => this.machines.delete(id));
    $effect.root(() => {
      $effect(() => {
        void app.pauseCount;
        const id = app.currentId;
        if (id !== undefined) untrack(() => void this.of(id).refresh());
      });
    });
  }

  /** The state of machine `id` (made on first use). */
  of(id: string): MachineTables {
    let m = this.machines.get(id);
    if (!m) {
      m = new MachineTables(this.app, id);
      this.machines.set(id, m);
    }
    return m;
  }
}

const instances = new WeakMap<LabState, PageTablesState>();

/** The page-table inspector's state of an app (made on first use). */
export function pageTablesState(app: LabState): PageTablesState {
  let s = instances.get(app);
  if (!s) {
    s = new PageTablesState(app);
    instances.set(app, s);
  }
  return s;
}
