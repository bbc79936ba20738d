// Shadow page tables for trap mode: Sv32 tables in host RAM that map guest-virtual pages straight to
// host frames, built lazily from the guest's own tables and the pmap on page faults. One shadow per
// guest context (bare, guest kernel with and without SUM/MXR, guest user, MPRV), as RVirt does. The
// guest's page-table pages are never writable through a shadow, so every guest store to them exits
// and drops exactly the shadow entries derived from the entries it changed: the shadows never hold a
// translation the guest's tables no longer give, and sfence.vma has nothing to drop (docs/vmm.md).

import { Mstatus } from '../cpu/csr-defs';
import type { Bus } from '../machine/bus';
import { Pte } from '../mmu/walk';
import type { FrameAllocator } from './frames';
import type { VmStats } from './stats';

/**
 * The key of the shadow a trap-mode guest at privilege `priv` (0 U, 1 S, 3 M, without MPRV) uses
 * with `satp` and `mstatus` (TrapVcpu's context key; M-mode with MPRV has keys of its own there).
 */
export function shadowKeyFor(priv: number, satp: number, mstatus: number): string {
  if (priv === 3) return 'bare3';
  // Paging-off shadows differ by privilege because PMP checks do.
  if (satp >>> 31 !== 1) return `bare${priv}`;
  if (priv === 1) return `S:${satp >>> 0}:${mstatus & (Mstatus.SUM | Mstatus.MXR)}`;
  return `U:${satp >>> 0}:${mstatus & Mstatus.MXR}`;
}

/** Stores in a row to one table page, with no walk through it, after which it is no longer taken for a table. */
export const FLOOD_STORES = 64;

/**
 * Level-0 shadow tables one VM may hold (4 MiB of host RAM); at the limit every shadow is emptied.
 * Shadows are no longer emptied at each sfence.vma, so without a bound the shadows of address spaces
 * the guest dropped without rewriting their tables would hold host frames for the VM's lifetime.
 */
export const SHADOW_L0_LIMIT = 1024;

/** Entries kept per host page in the writable-mapping index before it is compacted. */
const WRITABLE_INDEX_COMPACT = 64;
/** Virtual page numbers per shadow id in the writable-mapping index's encoding. */
const VPNS = 0x100000;

/** One shadow table tree. */
export interface Shadow {
  readonly key: string;
  /** Index of the shadow in its set (the writable-mapping index names shadows by it). */
  readonly id: number;
  /** Host frame index of the root table. */
  readonly rootFrame: number;
  /** Guest page of the root table the shadow is built from (-1: a paging-off shadow). */
  readonly rootGpn: number;
  /** Level-0 tables by root index. */
  readonly l0: Map<number, number>;
}

/** The shadows of one VM, and the guest pages known to hold its page tables. */
export class ShadowSet {
  private readonly shadows = new Map<string, Shadow>();
  private readonly byId: Shadow[] = [];
  /** Level-0 shadow tables held by all shadows. */
  private l0Count = 0;
  /**
   * For each host page (physical page number) some shadow entry mapped writable: where, as
   * shadow id * VPNS + virtual page number. Entries may be stale (the mapping dropped since): each
   * is checked against the shadow before use. writeProtect reads it instead of scanning every table.
   */
  private readonly writable = new Map<number, number[]>();
  /** Guest-physical page numbers (gpa >>> 12) holding guest page tables. */
  readonly tablePages = new Set<number>();
  /** Guest pages walks used as root tables. */
  private readonly roots = new Set<number>();
  /** For each guest level-0 table page: the root indices (VA bits 31:22) through which walks reached it. */
  private readonly l0Users = new Map<number, Set<number>>();
  /** The table page the latest guest stores went to with no walk through it since, and how many. */
  private floodPage = -1;
  private floodStores = 0;

  constructor(private readonly host: Bus, private readonly frames: FrameAllocator, private readonly owner: number, private readonly stats: VmStats) {}

  /** The shadow for `key`, created empty when new. */
  get(key: string): Shadow {
    let s = this.shadows.get(key);
    if (!s) {
      const rootFrame = this.frames.alloc(this.owner);
      this.zero(rootFrame);
      // Paged keys are `kind:satp:bits` (shadowKeyFor, TrapVcpu's MPRV keys).
      const parts = key.split(':');
      const rootGpn = parts.length === 3 ? Number(parts[1]) & 0x3fffff : -1;
      s = { key, id: this.byId.length, rootFrame, rootGpn, l0: new Map() };
      this.shadows.set(key, s);
      this.byId.push(s);
    }
    return s;
  }

  /** satp value that selects a shadow on the physical hart. */
  satpOf(s: Shadow): number {
    return (0x80000000 | Math.floor(this.frames.address(s.rootFrame) / 4096)) >>> 0;
  }

  /** All shadows, for inspectors. */
  all(): Shadow[] {
    return [...this.shadows.values()];
  }

  /** Maps the 4 KiB page of `va` to host frame address `hpa` with R/W/X bits `perms` (U, A, D set). */
  install(s: Shadow, va: number, hpa: number, perms: number): void {
    const vpn1 = va >>> 22;
    let l0 = s.l0.get(vpn1);
    const root = this.frames.address(s.rootFrame);
    if (l0 === undefined) {
      if (this.l0Count >= SHADOW_L0_LIMIT) this.flush();
      l0 = this.frames.alloc(this.owner);
      this.l0Count++;
      this.zero(l0);
      s.l0.set(vpn1, l0);
      this.write(root + vpn1 * 4, (Math.floor(this.frames.address(l0) / 4096) << 10) | Pte.V);
    }
    const ppn = Math.floor(hpa / 4096);
    const pte = (ppn << 10) | perms | Pte.V | Pte.U | Pte.A | Pte.D;
    this.write(this.frames.address(l0) + ((va >>> 12) & 0x3ff) * 4, pte);
    if ((perms & Pte.W) !== 0) this.noteWritable(ppn, s.id * VPNS + (va >>> 12));
    this.stats.shadowFills++;
  }

  private noteWritable(ppn: number, entry: number): void {
    let list = this.writable.get(ppn);
    if (list === undefined) this.writable.set(ppn, (list = []));
    list.push(entry);
    if (list.length <= WRITABLE_INDEX_COMPACT) return;
    // Keep the entries that still map the page writable, once each.
    const live = [...new Set(list)].filter((e) => this.writableAt(e, ppn) >= 0);
    if (live.length === 0) this.writable.delete(ppn);
    else this.writable.set(ppn, live);
  }

  /** Index into host ram32 of the shadow entry `entry` (writable index encoding) when it maps `ppn` writable, else -1. */
  private writableAt(entry: number, ppn: number): number {
    const s = this.byId[Math.floor(entry / VPNS)];
    const vpn = entry % VPNS;
    const l0 = s.l0.get(vpn >>> 10);
    if (l0 === undefined) return -1;
    const at = (this.host.ramOffset(this.frames.address(l0), 4096) >> 2) + (vpn & 0x3ff);
    const pte = this.host.ram32[at];
    return (pte & Pte.V) !== 0 && (pte & Pte.W) !== 0 && pte >>> 10 === ppn ? at : -1;
  }

  /** Drops the entries for the page of `va` in every shadow (pv's flush of one address). */
  invalidate(va: number): void {
    this.dropPage(va);
    this.stats.shadowSyncs++;
  }

  private dropPage(va: number): void {
    for (const s of this.shadows.values()) {
      const l0 = s.l0.get(va >>> 22);
      if (l0 !== undefined) this.write(this.frames.address(l0) + ((va >>> 12) & 0x3ff) * 4, 0);
    }
  }

  /** Drops the 4 MiB range `vpn1` (VA bits 31:22) from every shadow: its level-0 shadow table goes. */
  invalidateRange(vpn1: number): void {
    for (const s of this.shadows.values()) this.dropRange(s, vpn1);
  }

  /** Drops the 4 MiB range `vpn1` from shadow `s`. */
  private dropRange(s: Shadow, vpn1: number): void {
    const l0 = s.l0.get(vpn1);
    if (l0 === undefined) return;
    this.frames.free(l0);
    this.l0Count--;
    s.l0.delete(vpn1);
    this.write(this.frames.address(s.rootFrame) + vpn1 * 4, 0);
  }

  /** Empties shadow `s` but keeps its root. */
  private empty(s: Shadow): void {
    if (s.l0.size === 0) return;
    for (const l0 of s.l0.values()) this.frames.free(l0);
    this.l0Count -= s.l0.size;
    s.l0.clear();
    this.zero(s.rootFrame);
  }

  /** Records a walk: root table page `rootGpn`, and the level-0 table page it reached through `vpn1` (-1: none). */
  noteWalk(rootGpn: number, vpn1: number, l0Gpn: number): void {
    if (rootGpn === this.floodPage || l0Gpn === this.floodPage) this.floodPage = -1;
    this.roots.add(rootGpn);
    if (l0Gpn < 0) return;
    let users = this.l0Users.get(l0Gpn);
    if (users === undefined) this.l0Users.set(l0Gpn, (users = new Set()));
    users.add(vpn1);
  }

  /**
   * A guest store of `size` bytes changed guest page-table memory at `gpa`: drops exactly the shadow
   * entries derived from the PTEs it touched (a root PTE: its 4 MiB range in the shadows built from
   * that root; a level-0 PTE: its page under every root index that reached the table, in every
   * shadow). Returns false when the page's role is unknown, so the caller must flush everything.
   */
  syncTableWrite(gpa: number, size: number): boolean {
    const gpn = Math.floor(gpa / 4096);
    const first = (gpa & 0xfff) >>> 2;
    const last = Math.min(1023, ((gpa & 0xfff) + size - 1) >>> 2);
    const users = this.l0Users.get(gpn);
    const root = this.roots.has(gpn);
    if (!root && users === undefined) return false;
    for (let i = first; i <= last; i++) {
      if (root) for (const s of this.shadows.values()) if (s.rootGpn === gpn) this.dropRange(s, i);
      if (users !== undefined) for (const vpn1 of users) this.dropPage(((vpn1 << 22) | (i << 12)) >>> 0);
    }
    return true;
  }

  /**
   * Counts a trapped guest store to table page `gpn`. A page written FLOOD_STORES times in a row with
   * no walk through it in between is taken for a page the guest stopped using as a table (freed and
   * now filled, as xv6's kfree does with memset, a byte at a time): it is forgotten as a table page,
   * every shadow entry derived from it goes (forget), and true is returned. Shadows then map it
   * writable again, and a later walk through it makes it a table page again (noteTablePage), as KVM
   * does on write flooding. Without this, every page that once held a table costs a VM exit per
   * store for the VM's lifetime.
   */
  tableStoreFloods(gpn: number): boolean {
    if (gpn !== this.floodPage) {
      this.floodPage = gpn;
      this.floodStores = 0;
    }
    if (++this.floodStores < FLOOD_STORES) return false;
    this.floodPage = -1;
    this.forget(gpn);
    return true;
  }

  /**
   * Forgets guest page `gpn` as a table page: the shadows built from it as a root are emptied, and
   * the 4 MiB ranges it served as a level-0 table go from every shadow, so no shadow entry derived
   * from it is left once stores to it no longer exit.
   */
  private forget(gpn: number): void {
    this.tablePages.delete(gpn);
    if (this.roots.delete(gpn)) for (const s of this.shadows.values()) if (s.rootGpn === gpn) this.empty(s);
    const users = this.l0Users.get(gpn);
    if (users !== undefined) for (const vpn1 of users) this.invalidateRange(vpn1);
    this.l0Users.delete(gpn);
    this.stats.shadowSyncs++;
  }

  /**
   * Takes write permission away from every shadow entry that maps host frame address `hpa` (a page
   * whose code the VMM translated, bt; a page a walk found to be a table, trap); returns how many
   * entries lost it. It counts as a shadow sync unless `sync` is false (pv: the guest registered the
   * table page itself).
   */
  writeProtect(hpa: number, sync = true): number {
    const ppn = Math.floor(hpa / 4096);
    const list = this.writable.get(ppn);
    if (list === undefined) return 0;
    this.writable.delete(ppn);
    const ram32 = this.host.ram32;
    let n = 0;
    for (const entry of list) {
      const at = this.writableAt(entry, ppn);
      if (at < 0) continue;
      ram32[at] &= ~Pte.W;
      n++;
    }
    if (n > 0 && sync) this.stats.shadowSyncs++;
    return n;
  }

  /**
   * Takes write permission away from every shadow entry (dirty logging, docs/migration.md): the
   * guest's next store to each page faults to the VMM, which logs the page and maps it writable.
   */
  writeProtectAll(): void {
    const ram32 = this.host.ram32;
    for (const s of this.shadows.values()) {
      for (const l0 of s.l0.values()) {
        const base = this.host.ramOffset(this.frames.address(l0), 4096) >> 2;
        for (let i = 0; i < 1024; i++) ram32[base + i] &= ~Pte.W;
      }
    }
    this.writable.clear();
  }

  /**
   * Empties every shadow but keeps their roots (a PMP change, DMA or a debugger's write to a table
   * page of unknown role, the level-0 limit reached; pv's flush call).
   */
  flush(): void {
    // A shadow without level-0 tables has an all-zero root already (xv6 keeps one per process that ever ran).
    for (const s of this.shadows.values()) this.empty(s);
    this.writable.clear();
    this.stats.shadowFlushes++;
  }

  /** Frees everything (VM reset or destroyed). */
  destroy(): void {
    for (const s of this.shadows.values()) {
      for (const l0 of s.l0.values()) this.frames.free(l0);
      this.frames.free(s.rootFrame);
    }
    this.shadows.clear();
    this.byId.length = 0;
    this.l0Count = 0;
    this.writable.clear();
    this.tablePages.clear();
    this.roots.clear();
    this.l0Users.clear();
    this.floodPage = -1;
  }

  /**
   * Records that guest page `gpn` holds page-table entries. Returns true when it is new; the caller
   * then write-protects it (writeProtect), since existing shadows may map that page writable.
   */
  noteTablePage(gpn: number): boolean {
    if (this.tablePages.has(gpn)) return false;
    this.tablePages.add(gpn);
    return true;
  }

  private write(pa: number, value: number): void {
    this.host.ram32[this.host.ramOffset(pa, 4) >> 2] = value;
  }

  private zero(frame: number): void {
    const off = this.host.ramOffset(this.frames.address(frame), 4096);
    this.host.ram.fill(0, off, off + 4096);
  }
}
