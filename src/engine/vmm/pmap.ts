// A VM's pmap: guest-physical → host-physical, kept as a real Sv32x4 G-stage table in host RAM
// (privileged spec §8.5: a 16 KiB root indexed by GPA bits 33:22, then ordinary Sv32 level-0
// tables; leaves have U set). The table is what inspectors show and what `hw` mode will load into
// hgatp; a typed-array mirror indexed by guest page answers the VMM's own lookups in O(1).

import { clearLoggedPage, type Bus } from '../machine/bus';
import { Access, walkSv32, WalkResult, type PteMemory } from '../mmu/walk';
import { VMM_OWNER, type FrameAllocator } from './frames';

const LEAF_FLAGS = 0xdf; // V R W X U A D (G-stage leaves must have U; A/D preset)
const PTE_W = 4;

/** Reads PTEs straight from host RAM (the VMM's own view, no PMP). */
export class HostPtes implements PteMemory {
  ok = true;
  constructor(private readonly host: Bus) {}
  readPte(pa: number): number {
    const off = this.host.ramOffset(pa, 4);
    this.ok = off >= 0;
    return off >= 0 ? this.host.ram32[off >> 2] : 0;
  }
  writePte(pa: number, value: number): void {
    const off = this.host.ramOffset(pa, 4);
    this.ok = off >= 0;
    if (off >= 0) this.host.ram32[off >> 2] = value;
  }
}

/** The guest-physical to host-physical map of one VM. */
export class Pmap {
  /** Host frame index of the 16 KiB root (four frames). */
  readonly rootFrame: number;
  /** Host frame index of each guest RAM page (-1: unmapped). */
  readonly frameOf: Int32Array;
  private readonly ptes: HostPtes;

  constructor(private readonly host: Bus, private readonly frames: FrameAllocator, readonly guestRamBase: number, readonly guestRamSize: number) {
    this.rootFrame = frames.allocRun(4, VMM_OWNER, 4);
    this.zeroFrames(this.rootFrame, 4);
    this.frameOf = new Int32Array(guestRamSize / 4096).fill(-1);
    this.ptes = new HostPtes(host);
  }

  /** The hgatp value selecting this table (MODE = Sv32x4, VMID 0). */
  get hgatp(): number {
    return (0x80000000 | Math.floor(this.frames.address(this.rootFrame) / 4096)) >>> 0;
  }

  /** Host physical address of the root table. */
  get rootAddress(): number {
    return this.frames.address(this.rootFrame);
  }

  /** The root entry over guest address `gpa`, pointing at a level-0 table (made, zeroed, if none was). */
  private rootPte(gpa: number): number {
    const rootEntry = this.rootAddress + (Math.floor(gpa / 4194304) & 0xfff) * 4;
    let pte = this.ptes.readPte(rootEntry) >>> 0;
    if ((pte & 1) === 0) {
      const l0 = this.frames.alloc(VMM_OWNER);
      this.zeroFrames(l0, 1);
      pte = ((Math.floor(this.frames.address(l0) / 4096) << 10) | 1) >>> 0;
      this.ptes.writePte(rootEntry, pte);
    }
    return pte;
  }

  /** Maps guest page `gpa` (4 KiB aligned) to host frame `frame`. */
  map(gpa: number, frame: number): void {
    const pte = this.rootPte(gpa);
    const l0Base = (pte >>> 10) * 4096;
    const hpn = Math.floor(this.frames.address(frame) / 4096);
    this.ptes.writePte(l0Base + ((gpa >>> 12) & 0x3ff) * 4, ((hpn << 10) | LEAF_FLAGS) | 0);
    const page = (gpa - this.guestRamBase) / 4096;
    if (page >= 0 && page < this.frameOf.length) this.frameOf[page] = frame;
  }

  /**
   * Maps `n` guest pages from `gpa` (4 KiB aligned) to the consecutive host frames from `first`, as
   * `map` page by page would (the same level-0 tables, taken in the same order), writing each
   * level-0 table's entries in one loop: a VM's whole RAM is mapped so at its creation.
   */
  mapRun(gpa: number, first: number, n: number): void {
    const ram32 = this.host.ram32;
    let k = 0;
    while (k < n) {
      const at = gpa + k * 4096;
      const pte = this.rootPte(at);
      const slot = (at >>> 12) & 0x3ff;
      const count = Math.min(n - k, 1024 - slot);
      const entry = (this.host.ramOffset((pte >>> 10) * 4096, 4096) >> 2) + slot;
      const hpn = Math.floor(this.frames.address(first + k) / 4096);
      const page = (at - this.guestRamBase) / 4096;
      for (let j = 0; j < count; j++) {
        ram32[entry + j] = (((hpn + j) << 10) | LEAF_FLAGS) | 0;
        const p = page + j;
        if (p >= 0 && p < this.frameOf.length) this.frameOf[p] = first + k + j;
      }
      k += count;
    }
  }

  /** Host physical address of guest-physical `gpa`, or -1 when it is not guest RAM. */
  lookup(gpa: number): number {
    const page = Math.floor((gpa - this.guestRamBase) / 4096);
    if (page < 0 || page >= this.frameOf.length) return -1;
    const frame = this.frameOf[page];
    return frame < 0 ? -1 : this.frames.address(frame) + (gpa & 0xfff);
  }

  /** Translates through the table itself (the G-stage walk), for inspectors and tests. */
  walk(gpa: number): WalkResult {
    return walkSv32(new WalkResult(), this.ptes, Math.floor(this.rootAddress / 4096), gpa, Access.LOAD, { priv: 0, sum: false, mxr: false, updateAD: false }, 12);
  }

  /** Every mapped guest page with its host frame, in guest order. */
  entries(): { gpa: number; hpa: number }[] {
    const out: { gpa: number; hpa: number }[] = [];
    this.frameOf.forEach((frame, page) => {
      if (frame >= 0) out.push({ gpa: this.guestRamBase + page * 4096, hpa: this.frames.address(frame) });
    });
    return out;
  }

  /**
   * Clears W in every leaf (dirty logging in hw mode, docs/migration.md): the guest's next store to
   * each page is a store guest-page fault the VMM answers with `allowWrite`. The caller fences the
   * hart's TLB (HFENCE.GVMA).
   */
  writeProtectAll(): void {
    for (let page = 0; page < this.frameOf.length; page++) {
      if (this.frameOf[page] < 0) continue;
      const at = this.leafAddress(this.guestRamBase + page * 4096);
      this.ptes.writePte(at, this.ptes.readPte(at) & ~PTE_W);
    }
  }

  /** Gives guest RAM page `gpa` its W bit back; false when it is no RAM page or had W already. */
  allowWrite(gpa: number): boolean {
    if (this.lookup(gpa) < 0) return false;
    const at = this.leafAddress(gpa);
    const pte = this.ptes.readPte(at);
    if ((pte & PTE_W) !== 0) return false;
    this.ptes.writePte(at, pte | PTE_W);
    return true;
  }

  /** Host address of the level-0 entry of mapped guest page `gpa`. */
  private leafAddress(gpa: number): number {
    const root = this.ptes.readPte(this.rootAddress + (Math.floor(gpa / 4194304) & 0xfff) * 4) >>> 0;
    return (root >>> 10) * 4096 + ((gpa >>> 12) & 0x3ff) * 4;
  }

  /** Frees the table's own frames (the root and its level-0 tables); the pmap is unusable after. */
  release(): void {
    for (let i = 0; i < 4096; i++) {
      const pte = this.ptes.readPte(this.rootAddress + i * 4) >>> 0;
      if ((pte & 1) !== 0) this.frames.free(((pte >>> 10) * 4096 - this.frames.base) / 4096);
    }
    for (let k = 0; k < 4; k++) this.frames.free(this.rootFrame + k);
    this.frameOf.fill(-1);
  }

  /**
   * Zeroes the guest's RAM frames: all of them, or with `onlyRecycled` only those an earlier owner
   * may have written (fresh host RAM is zero, and left untouched so the host commits it lazily).
   * With a dirty log (indexed by host RAM page), only frames holding data are written, and each is
   * logged: a guest's reboot clears its RAM while it migrates.
   */
  clearGuestRam(onlyRecycled: boolean, log?: Uint8Array): void {
    for (const frame of this.frameOf) {
      if (frame < 0 || (onlyRecycled && !this.frames.recycled(frame))) continue;
      if (log === undefined) this.zeroFrames(frame, 1);
      else clearLoggedPage(this.host.ram32, this.host.ramOffset(this.frames.address(frame), 4096), log);
    }
  }

  private zeroFrames(first: number, n: number): void {
    const off = this.host.ramOffset(this.frames.address(first), n * 4096);
    this.host.ram.fill(0, off, off + n * 4096);
  }
}
