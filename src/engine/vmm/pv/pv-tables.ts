// The page-table pages of a `pv` guest and the rules the VMM holds them to (docs/vmm.md, "pv"), in
// the manner of Xen's direct paging (Barham et al., "Xen and the Art of Virtualization", SOSP 2003,
// §3.3.2: page-table pages are registered, read-only to the guest, and every update is validated).
// A page becomes a table page when set_root installs it as a root or a root entry links it as a
// level-0 table; its 1024 entries are validated then, and from then on it changes only through
// mmu_update. Invariants after every operation, whatever the guest asked:
// - every valid entry of a table page is well formed (no W without R; a level-0 entry is a leaf; a
//   megapage is 4 MiB aligned) and maps only the VM's own RAM or the device space below it;
// - no leaf of any table page maps a table page writable (writable counts the writable mappings
//   of each guest page, so the check is one lookup both ways);
// - a root is never a level-0 table and the reverse; a level-0 table counts the root entries that
//   link it (refs) and stops being a table page when the last one goes.
// An operation that breaks a rule changes nothing (the journal undoes its steps) and returns an
// SBI error: INVALID_PARAM (malformed), INVALID_ADDRESS (outside the VM's RAM), DENIED (a rule).
// Sv32 (privileged spec §4.3): PTE bits V R W X U G A D, PPN in bits 10..31.

import { SbiError } from '../../machine/sbi';

/** Guest-physical memory of the VM, as the VMM reaches it. */
export interface PvMemory {
  /** Whether guest page `gpn` is the VM's RAM. */
  isRamPage(gpn: number): boolean;
  read32(gpa: number): number;
  write32(gpa: number, value: number): void;
}

/** A registered page-table page. */
export interface PvTablePage {
  /** 1: a root (set_root), 0: a level-0 table (linked from root entries). */
  readonly level: 0 | 1;
  /** Root entries linking it (level 0); roots stay registered once installed. */
  refs: number;
}

const V = 1;
const R = 2;
const W = 4;
const X = 8;

/** The table pages of one pv VM and their validation. */
export class PvTables {
  /** Table pages by guest page number. */
  readonly pages = new Map<number, PvTablePage>();
  /** Writable mappings of each guest RAM page by entries of table pages. */
  private readonly writable = new Map<number, number>();
  private journal: (() => void)[] = [];
  /** Pages whose table role changed in the last successful operation (the caller updates its shadows). */
  readonly changed = new Set<number>();
  /** Why the last refused operation was refused, in words. */
  reason = '';

  constructor(private readonly mem: PvMemory, private readonly ramFirstGpn: number) {}

  /** Forgets every table page (the guest rebooted). */
  clear(): void {
    this.pages.clear();
    this.writable.clear();
    this.changed.clear();
  }

  /** Whether guest page `gpn` is a table page. */
  isTable(gpn: number): boolean {
    return this.pages.has(gpn);
  }

  /** Writable mappings of guest page `gpn` (for tests). */
  writableMappings(gpn: number): number {
    return this.writable.get(gpn) ?? 0;
  }

  /** Validates and registers page `gpn` as a root (set_root); a registered root passes at once. */
  installRoot(gpn: number): number {
    return this.transaction(() => {
      const page = this.pages.get(gpn);
      if (page?.level === 1) return SbiError.SUCCESS;
      if (page !== undefined) return this.refuse(SbiError.INVALID_PARAM, `page 0x${gpn.toString(16)} is a level-0 table, not a root`);
      if (!this.mem.isRamPage(gpn)) return this.refuse(SbiError.INVALID_ADDRESS, `root 0x${gpn.toString(16)}000 is not the VM's RAM`);
      return this.register(gpn, 1);
    });
  }

  /**
   * Applies a batch of PTE writes, `pairs` = pte_gpa, value, pte_gpa, value, ...: all of them, or
   * none when one breaks a rule. Each pte_gpa must be an aligned entry of a table page.
   */
  update(pairs: ArrayLike<number>): number {
    return this.transaction(() => {
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        const gpa = pairs[i] >>> 0;
        const value = pairs[i + 1] >>> 0;
        const err = this.setEntry(gpa, value);
        if (err !== SbiError.SUCCESS) {
          this.reason = `entry ${i / 2} (pte 0x${gpa.toString(16)} = 0x${value.toString(16)}): ${this.reason}`;
          return err;
        }
      }
      return SbiError.SUCCESS;
    });
  }

  private setEntry(gpa: number, value: number): number {
    if ((gpa & 3) !== 0) return this.refuse(SbiError.INVALID_PARAM, 'a PTE address must be 4-byte aligned');
    const gpn = Math.floor(gpa / 4096);
    const page = this.pages.get(gpn);
    if (page === undefined) {
      if (!this.mem.isRamPage(gpn)) return this.refuse(SbiError.INVALID_ADDRESS, 'the PTE is not in the VM\'s RAM');
      return this.refuse(SbiError.DENIED, 'the page is no page-table page (install it with set_root or link it from a root first)');
    }
    const old = this.mem.read32(gpa) >>> 0;
    this.remove(page.level, old);
    const err = this.add(page.level, value);
    if (err !== SbiError.SUCCESS) return err;
    this.write(gpa, value);
    return SbiError.SUCCESS;
  }

  /** Registers `gpn` as a table page of `level` and takes in its entries. */
  private register(gpn: number, level: 0 | 1): number {
    if ((this.writable.get(gpn) ?? 0) > 0) return this.refuse(SbiError.DENIED, `page 0x${gpn.toString(16)}000 is mapped writable, so it cannot become a page-table page`);
    const page: PvTablePage = { level, refs: 1 };
    this.setPage(gpn, page);
    const base = gpn * 4096;
    for (let i = 0; i < 1024; i++) {
      const err = this.add(level, this.mem.read32(base + 4 * i) >>> 0);
      if (err !== SbiError.SUCCESS) {
        this.reason = `${level === 1 ? 'root' : 'level-0 table'} 0x${gpn.toString(16)}000, entry ${i}: ${this.reason}`;
        return err;
      }
    }
    return SbiError.SUCCESS;
  }

  /** Validates entry `pte` of a table at `level` and counts what it maps. */
  private add(level: 0 | 1, pte: number): number {
    if ((pte & V) === 0) return SbiError.SUCCESS;
    if ((pte & (R | W)) === W) return this.refuse(SbiError.INVALID_PARAM, 'W without R is reserved');
    const ppn = pte >>> 10;
    if ((pte & (R | W | X)) === 0) {
      if (level === 0) return this.refuse(SbiError.INVALID_PARAM, 'a level-0 entry must be a leaf');
      if (!this.mem.isRamPage(ppn)) return this.refuse(SbiError.DENIED, `it links page 0x${ppn.toString(16)}000, which is not the VM's RAM`);
      const target = this.pages.get(ppn);
      if (target?.level === 1) return this.refuse(SbiError.INVALID_PARAM, 'it links a root as a level-0 table');
      if (target !== undefined) {
        this.setRefs(target, target.refs + 1);
        return SbiError.SUCCESS;
      }
      return this.register(ppn, 0);
    }
    if (level === 1 && (ppn & 0x3ff) !== 0) return this.refuse(SbiError.INVALID_PARAM, 'a megapage must be 4 MiB aligned');
    const count = level === 1 ? 1024 : 1;
    const ram = this.mem.isRamPage(ppn);
    if (ram !== this.mem.isRamPage(ppn + count - 1) || (!ram && ppn + count > this.ramFirstGpn)) {
      return this.refuse(SbiError.DENIED, `it maps 0x${ppn.toString(16)}000, a frame the VM does not own`);
    }
    if ((pte & W) === 0 || !ram) return SbiError.SUCCESS;
    for (let p = ppn; p < ppn + count; p++) {
      if (this.pages.has(p)) return this.refuse(SbiError.DENIED, `it maps page-table page 0x${p.toString(16)}000 writable`);
    }
    for (let p = ppn; p < ppn + count; p++) this.bumpWritable(p, 1);
    return SbiError.SUCCESS;
  }

  /** Undoes what `add` counted for an entry that goes away. */
  private remove(level: 0 | 1, pte: number): void {
    if ((pte & V) === 0 || (pte & (R | W)) === W) return;
    const ppn = pte >>> 10;
    if ((pte & (R | W | X)) === 0) {
      const target = this.pages.get(ppn);
      if (level === 0 || target === undefined) return;
      this.setRefs(target, target.refs - 1);
      if (target.refs > 0) return;
      for (let i = 0; i < 1024; i++) this.remove(0, this.mem.read32(ppn * 4096 + 4 * i) >>> 0);
      this.setPage(ppn, undefined);
      return;
    }
    if ((pte & W) === 0 || !this.mem.isRamPage(ppn)) return;
    const count = level === 1 ? 1024 : 1;
    for (let p = ppn; p < ppn + count; p++) this.bumpWritable(p, -1);
  }

  private refuse(err: number, reason: string): number {
    this.reason = reason;
    return err;
  }

  private transaction(op: () => number): number {
    this.journal = [];
    this.changed.clear();
    const err = op();
    if (err !== SbiError.SUCCESS) {
      for (let i = this.journal.length - 1; i >= 0; i--) this.journal[i]();
      this.changed.clear();
    }
    this.journal = [];
    return err;
  }

  private setPage(gpn: number, page: PvTablePage | undefined): void {
    const old = this.pages.get(gpn);
    if (page === undefined) this.pages.delete(gpn);
    else this.pages.set(gpn, page);
    this.changed.add(gpn);
    this.journal.push(() => {
      if (old === undefined) this.pages.delete(gpn);
      else this.pages.set(gpn, old);
    });
  }

  private setRefs(page: PvTablePage, refs: number): void {
    const old = page.refs;
    page.refs = refs;
    this.journal.push(() => { page.refs = old; });
  }

  private bumpWritable(gpn: number, delta: number): void {
    const n = (this.writable.get(gpn) ?? 0) + delta;
    if (n === 0) this.writable.delete(gpn);
    else this.writable.set(gpn, n);
    this.journal.push(() => {
      const m = (this.writable.get(gpn) ?? 0) - delta;
      if (m === 0) this.writable.delete(gpn);
      else this.writable.set(gpn, m);
    });
  }

  private write(gpa: number, value: number): void {
    const old = this.mem.read32(gpa);
    this.mem.write32(gpa, value);
    this.journal.push(() => this.mem.write32(gpa, old));
  }
}
