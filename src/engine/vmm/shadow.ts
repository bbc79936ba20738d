// Shadow page tables for trap mode: Sv32 tables in host RAM that map guest-virtual pages straight to
// host frames, built lazily from the guest's own tables and the pmap on page faults. One shadow per
// guest context (bare, guest kernel with and without SUM/MXR, guest user, MPRV), as RVirt does. The
// guest's page-table pages are never writable through a shadow, so every guest store to them exits.

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

/** One shadow table tree. */
export interface Shadow {
  readonly key: string;
  /** Host frame index of the root table. */
  readonly rootFrame: number;
  /** Level-0 tables by root index. */
  readonly l0: Map<number, number>;
}

/** The shadows of one VM, and the guest pages known to hold its page tables. */
export class ShadowSet {
  private readonly shadows = new Map<string, Shadow>();
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
      s = { key, rootFrame, l0: new Map() };
      this.shadows.set(key, s);
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
      l0 = this.frames.alloc(this.owner);
      this.zero(l0);
      s.l0.set(vpn1, l0);
      this.write(root + vpn1 * 4, (Math.floor(this.frames.address(l0) / 4096) << 10) | Pte.V);
    }
    const pte = (Math.floor(hpa / 4096) << 10) | perms | Pte.V | Pte.U | Pte.A | Pte.D;
    this.write(this.frames.address(l0) + ((va >>> 12) & 0x3ff) * 4, pte);
    this.stats.shadowFills++;
  }

  /** Drops the entries for the page of `va` in every shadow (sfence.vma with an address). */
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
    for (const s of this.shadows.values()) {
      const l0 = s.l0.get(vpn1);
      if (l0 === undefined) continue;
      this.frames.free(l0);
      s.l0.delete(vpn1);
      this.write(this.frames.address(s.rootFrame) + vpn1 * 4, 0);
    }
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
   * entries derived from the PTEs it touched (a root PTE: its 4 MiB range; a level-0 PTE: its page
   * under every root index that reached the table). Returns false when the page's role is unknown,
   * so the caller must flush everything.
   */
  syncTableWrite(gpa: number, size: number): boolean {
    const gpn = Math.floor(gpa / 4096);
    const first = (gpa & 0xfff) >>> 2;
    const last = Math.min(1023, ((gpa & 0xfff) + size - 1) >>> 2);
    const users = this.l0Users.get(gpn);
    const root = this.roots.has(gpn);
    if (!root && users === undefined) return false;
    for (let i = first; i <= last; i++) {
      if (root) this.invalidateRange(i);
      if (users !== undefined) for (const vpn1 of users) this.dropPage(((vpn1 << 22) | (i << 12)) >>> 0);
    }
    return true;
  }

  /**
   * Counts a trapped guest store to table page `gpn`. A page written FLOOD_STORES times in a row with
   * no walk through it in between is taken for a page the guest stopped using as a table (freed and
   * now filled, as xv6's kfree does with memset, a byte at a time): it is forgotten as a table page and
   * true returned, so the caller empties every shadow. Shadows then map it writable again, and a later
   * walk through it makes it a table page again (noteTablePage), as KVM does on write flooding.
   * Without this, every page that once held a table costs a VM exit per store for the VM's lifetime.
   */
  tableStoreFloods(gpn: number): boolean {
    if (gpn !== this.floodPage) {
      this.floodPage = gpn;
      this.floodStores = 0;
    }
    if (++this.floodStores < FLOOD_STORES) return false;
    this.floodPage = -1;
    this.tablePages.delete(gpn);
    this.roots.delete(gpn);
    this.l0Users.delete(gpn);
    return true;
  }

  /**
   * Takes write permission away from every shadow entry that maps host frame address `hpa` (a page
   * whose code the VMM translated, bt); returns how many entries lost it.
   */
  writeProtect(hpa: number): number {
    const ppn = Math.floor(hpa / 4096);
    const ram32 = this.host.ram32;
    let n = 0;
    for (const s of this.shadows.values()) {
      for (const l0 of s.l0.values()) {
        const base = this.host.ramOffset(this.frames.address(l0), 4096) >> 2;
        for (let i = 0; i < 1024; i++) {
          const pte = ram32[base + i];
          if ((pte & Pte.W) !== 0 && pte >>> 10 === ppn) {
            ram32[base + i] = pte & ~Pte.W;
            n++;
          }
        }
      }
    }
    if (n > 0) this.stats.shadowSyncs++;
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
  }

  /** Empties every shadow but keeps their roots (sfence.vma for all, a table page written). */
  flush(): void {
    for (const s of this.shadows.values()) {
      // A shadow without level-0 tables has an all-zero root already (xv6 keeps one per process
      // that ever ran, and flushes at every system call).
      if (s.l0.size === 0) continue;
      for (const l0 of s.l0.values()) this.frames.free(l0);
      s.l0.clear();
      this.zero(s.rootFrame);
    }
    this.stats.shadowFlushes++;
  }

  /** Frees everything (VM reset or destroyed). */
  destroy(): void {
    for (const s of this.shadows.values()) {
      for (const l0 of s.l0.values()) this.frames.free(l0);
      this.frames.free(s.rootFrame);
    }
    this.shadows.clear();
    this.tablePages.clear();
    this.roots.clear();
    this.l0Users.clear();
    this.floodPage = -1;
  }

  /**
   * Records that guest page `gpn` holds page-table entries. Returns true when it is new; the caller
   * then flushes, since existing shadows may map that page writable.
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
