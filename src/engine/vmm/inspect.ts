// The page-table inspector's engine side (docs/app.md, issue #7): the three layers of addressing of a VM
// (guest-virtual → guest-physical → host-physical), the tables that map them read one table page at
// a time (so a large table expands lazily), and a step-by-step translation that reports every PTE
// read in every address space, including the two-dimensional walk (each guest PTE address itself
// translated through the pmap, privileged spec §8.5). Nothing here changes guest state: no A/D
// updates, no TLB fills, no device register reads. The bare machine is the one-layer case.

import type { Hart } from '../cpu/hart';
import type { PhysicalBus } from '../machine/bus';
import { MEMORY_MAP } from '../machine/memory-map';
import { Access, Pte, walkSv32, WalkResult, type PteMemory, type WalkContext } from '../mmu/walk';
import { GUEST_PAGE_FAULT_OF, TwoStage, WalkPart, type HostPteMemory, type TwoStageTrace } from '../mmu/two-stage';
import { shadowKeyFor } from './shadow';
import type { Vm } from './vm';
import type { Vmm } from './vmm';

/** An address space the inspectors name. */
export type Space = 'guest-virtual' | 'guest-physical' | 'host-physical';

/** Which table: the guest's (GVA → GPA), the pmap (GPA → HPA), a shadow (GVA → HPA), or the bare machine's (VA → PA). */
export type TableKind = 'guest' | 'pmap' | 'shadow' | 'machine';

/** One table tree as the inspector lists it. */
export interface TableInfo {
  readonly kind: TableKind;
  /** Shadow context key ('S', 'U', 'bare1', ...); the kind otherwise. */
  readonly key: string;
  /** What the table is, in words for the inspector's heading. */
  readonly label: string;
  /** Whether the hardware walks this table for the current guest context right now. */
  readonly active: boolean;
  /** Address of the root table, in `tableSpace`. */
  readonly root: number;
  /** Index bits of the root level: 10 (Sv32) or 12 (Sv32x4, the pmap's 16 KiB root). */
  readonly rootBits: number;
  /** Where the table's own pages live. */
  readonly tableSpace: Space;
  /** What the table maps from and to. */
  readonly from: Space;
  readonly to: Space;
}

/** One valid entry of a table page. */
export interface TableEntry {
  readonly index: number;
  /** Address of the PTE, in the table's space. */
  readonly pteAddress: number;
  readonly pte: number;
  /** A pointer to a next-level table, or a leaf (a page or megapage). */
  readonly kind: 'table' | 'leaf' | 'reserved';
  /** First input address the entry covers, and how many bytes. */
  readonly from: number;
  readonly size: number;
  /** The next table's address (kind 'table') or the mapped frame (kind 'leaf'), in the target space. */
  readonly to: number;
}

/** One table page with its valid entries. */
export interface TablePage {
  readonly address: number;
  readonly level: number;
  /** Whether the page holds guest page tables that the VMM write-protects in the shadows (trap mode). */
  readonly writeProtected: boolean;
  /** Whether the page could be read at all. */
  readonly readable: boolean;
  readonly entries: TableEntry[];
}

/** One PTE read of a translation, located in every address space it has. */
export interface WalkStep {
  /** Which table the PTE belongs to. */
  readonly stage: TableKind;
  readonly level: number;
  /** The PTE's address in its table's space (guest-physical for the guest table). */
  readonly pteAddress: number;
  /** The PTE's host-physical address, when it has one. */
  readonly pteHostAddress: number | undefined;
  readonly pte: number;
  /** For a guest-table step: the G-stage walk that located this PTE in host memory. */
  readonly nested: WalkStep[];
}

/** A translation of one guest-virtual address through every layer. */
export interface LayeredTranslation {
  readonly va: number;
  readonly access: Access;
  /** Effective privilege the walk checked (0 U, 1 S, 3 M). */
  readonly priv: number;
  /** Whether the guest's translation was on (satp mode Sv32 and privilege below M). */
  readonly paged: boolean;
  /** The address in each space (undefined where the walk stopped). */
  readonly guestPhysical: number | undefined;
  readonly hostPhysical: number | undefined;
  /** The exception the access would raise (0: none), and the stage that raised it. */
  readonly fault: number;
  readonly faultStage: TableKind | undefined;
  /** The device a guest-physical address reaches, when it is not RAM. */
  readonly device: string | undefined;
  /** Every PTE read in order: guest table steps (each with its nested pmap walk), then the final pmap walk. */
  readonly steps: WalkStep[];
  /** In trap mode: the walk of the shadow the hardware uses for the walk's context, if the VMM has built it. */
  readonly shadow: ShadowWalk | undefined;
  /**
   * In hw mode (guest below M): every memory reference of the hart's two-stage walk, in order, as
   * the hardware makes them on a TLB miss (up to 12 for Sv32 over Sv32x4: 8 PTE reads and 4 A/D writes).
   */
  readonly references: WalkReference[] | undefined;
}

/** One memory reference of the hardware's two-dimensional walk (hw mode). */
export interface WalkReference {
  /** The table the PTE belongs to: the guest's (VS-stage) or the pmap (G-stage). */
  readonly stage: 'guest' | 'pmap';
  /** What it is for: a guest PTE, the pmap walk that locates a guest PTE, or the pmap walk of the final guest-physical address. */
  readonly purpose: 'guest-pte' | 'pmap-for-pte' | 'pmap-final';
  readonly level: number;
  /** The address being translated, in `inputSpace` (guest-virtual for a guest PTE, guest-physical for a pmap PTE). */
  readonly input: number;
  readonly inputSpace: Space;
  /** The PTE's address in its table's space (guest-physical for a guest PTE, host-physical for a pmap PTE). */
  readonly pteAddress: number;
  readonly pteSpace: Space;
  /** Where the reference goes in host-physical memory. */
  readonly hostAddress: number;
  /** The PTE read, or the PTE an A/D update writes. */
  readonly value: number;
  readonly write: boolean;
}

/** The hardware walk's outcome and its references (LayerInspector.hardwareWalk). */
export interface HardwareWalk {
  readonly references: WalkReference[];
  readonly fault: number;
  readonly guestPhysical: number | undefined;
  readonly hostPhysical: number | undefined;
}

/**
 * Host memory for a recording walk: reads host RAM without side effects, keeps A/D writes in an
 * overlay (so a later read in the same walk sees them, as on the hart), and logs every reference.
 */
class RecordingMemory implements HostPteMemory, TwoStageTrace {
  ok = true;
  readonly refs: WalkReference[] = [];
  private readonly overlay = new Map<number, number>();
  private part_ = WalkPart.VS_PTE;
  private gpa = 0;
  private gLevel = 1;
  private vsLevel = 2;
  private lastLevel = 0;
  private lastVsGpa = -1;

  constructor(private readonly host: SpaceReader, private readonly pmp: (pa: number, size: number, priv: number) => number, private readonly va: number) {}

  readPte(pa: number): number {
    const v = this.overlay.get(pa) ?? this.host.readPte(pa);
    this.ok = this.overlay.has(pa) || this.host.ok;
    return v;
  }
  writePte(pa: number, value: number): void {
    this.host.readPte(pa);
    this.ok = this.host.ok;
    if (this.ok) this.overlay.set(pa, value >>> 0);
  }
  pmpBits(pa: number, size: number, priv: number): number {
    return this.pmp(pa, size, priv);
  }

  part(part: WalkPart, gpa: number): void {
    if (part !== WalkPart.VS_PTE) this.gLevel = 1;
    this.part_ = part;
    this.gpa = gpa >>> 0;
  }
  ref(pa: number, value: number, write: boolean): void {
    const vs = this.part_ === WalkPart.VS_PTE;
    let level: number;
    if (write) level = this.lastLevel;
    else if (vs) level = this.gpa === this.lastVsGpa ? this.lastLevel : --this.vsLevel;
    else level = this.gLevel--;
    this.lastLevel = level;
    if (vs) this.lastVsGpa = this.gpa;
    this.refs.push({
      stage: vs ? 'guest' : 'pmap',
      purpose: vs ? 'guest-pte' : this.part_ === WalkPart.G_FOR_PTE ? 'pmap-for-pte' : 'pmap-final',
      level,
      input: vs ? this.va : this.gpa,
      inputSpace: vs ? 'guest-virtual' : 'guest-physical',
      pteAddress: vs ? this.gpa : pa >>> 0,
      pteSpace: vs ? 'guest-physical' : 'host-physical',
      hostAddress: pa >>> 0,
      value: value >>> 0,
      write,
    });
  }
}

/** The walk of one shadow table, as the physical hart does it (in U-mode, on the guest's behalf). */
export interface ShadowWalk {
  /** The shadow's context key and its label (see `shadowLabel`). */
  readonly key: string;
  readonly label: string;
  readonly hostPhysical: number | undefined;
  readonly fault: number;
  readonly steps: WalkStep[];
}

const NO_AD: WalkContext = { priv: 0, sum: false, mxr: false, updateAD: false };
const RAM_BASE = MEMORY_MAP.ram.base;

/** Reads words of one physical space without side effects. */
class SpaceReader implements PteMemory {
  ok = true;
  constructor(private readonly lookup: (addr: number) => number, private readonly ram: Int32Array, private readonly hostRamBase: number) {}
  /** Host-physical address of `addr`, or -1. */
  host(addr: number): number {
    return this.lookup(addr);
  }
  readPte(addr: number): number {
    const hpa = this.lookup(addr);
    this.ok = hpa >= 0 && (hpa & 3) === 0;
    return this.ok ? this.ram[(hpa - this.hostRamBase) >> 2] >>> 0 : 0;
  }
  writePte(): void {
    this.ok = true;
  }
}

/** The inspector of one VM (or, with no VMM, of the bare machine). */
export class LayerInspector {
  private readonly guest: SpaceReader;
  private readonly hostSpace: SpaceReader;
  private readonly hart: Hart;

  private constructor(private readonly vmm: Vmm | undefined, private readonly vm: Vm | undefined, hart: Hart, bus: PhysicalBus) {
    this.hart = hart;
    const hostRam = bus.ram;
    const ram32 = new Int32Array(hostRam.buffer, hostRam.byteOffset, hostRam.byteLength >> 2);
    const hostBase = vmm ? vmm.host.ramBase : bus.ramBase;
    // The bare machine's "guest-physical" space is its physical space, and RAM offsets are host addresses.
    this.guest = vm
      ? new SpaceReader((gpa) => vm.pmap.lookup(gpa), ram32, hostBase)
      : new SpaceReader((pa) => {
        const off = bus.ramOffset(pa, 4);
        return off < 0 ? -1 : off + hostBase;
      }, ram32, hostBase);
    this.hostSpace = new SpaceReader((hpa) => {
      const off = vmm ? vmm.host.ramOffset(hpa, 4) : bus.ramOffset(hpa, 4);
      return off < 0 ? -1 : hpa;
    }, ram32, hostBase);
  }

  /** The inspector of a VM on `vmm`. */
  static forVm(vmm: Vmm, vm: Vm): LayerInspector {
    return new LayerInspector(vmm, vm, vm.vhart, vm.bus);
  }

  /** The inspector of a bare machine's hart. */
  static forMachine(hart: Hart): LayerInspector {
    return new LayerInspector(undefined, undefined, hart, hart.bus);
  }

  /**
   * The tables of this VM: guest table (when paging is on), pmap, and every shadow (trap mode). In
   * emulate mode the VMM walks the guest table and the pmap in software, in hw mode the hardware
   * walks both (vsatp and hgatp): both are active there.
   */
  tables(): TableInfo[] {
    const h = this.hart;
    const out: TableInfo[] = [];
    const paged = h.satp >>> 31 === 1;
    if (!this.vm) {
      if (paged) out.push({ kind: 'machine', key: 'machine', label: `page table (satp 0x${hex(h.satp)})`, active: h.priv !== 3, root: (h.satp & 0x3fffff) * 4096, rootBits: 10, tableSpace: 'guest-physical', from: 'guest-virtual', to: 'guest-physical' });
      return out;
    }
    if (paged) out.push({ kind: 'guest', key: 'guest', label: `guest page table (satp 0x${hex(h.satp)})`, active: (this.vm.mode === 'emulate' || this.vm.mode === 'hw') && h.priv !== 3, root: (h.satp & 0x3fffff) * 4096, rootBits: 10, tableSpace: 'guest-physical', from: 'guest-virtual', to: 'guest-physical' });
    out.push({ kind: 'pmap', key: 'pmap', label: 'pmap (Sv32x4, guest-physical to host-physical)', active: this.vm.mode === 'emulate' || this.vm.mode === 'hw', root: this.vm.pmap.rootAddress, rootBits: 12, tableSpace: 'host-physical', from: 'guest-physical', to: 'host-physical' });
    const vcpu = this.vmm?.trapVcpu(this.vm);
    if (vcpu) {
      const current = vcpu.currentKey();
      for (const s of vcpu.shadows.all()) {
        out.push({ kind: 'shadow', key: s.key, label: shadowLabel(s.key), active: s.key === current, root: this.vmm!.frames.address(s.rootFrame), rootBits: 10, tableSpace: 'host-physical', from: 'guest-virtual', to: 'host-physical' });
      }
    }
    return out;
  }

  /**
   * Reads the table page at `address` (in `table.tableSpace`) as level `level` of `table`, whose
   * entries start at input address `from`. Level 1 is the root; its page is 16 KiB for the pmap.
   */
  tablePage(table: TableInfo, address: number, level: number, from = 0): TablePage {
    const reader = table.tableSpace === 'host-physical' ? this.hostSpace : this.guest;
    const count = level === 1 ? 1 << table.rootBits : 1024;
    const span = level === 1 ? 4194304 : 4096;
    const entries: TableEntry[] = [];
    let readable = false;
    for (let i = 0; i < count; i++) {
      const pteAddress = address + 4 * i;
      const pte = reader.readPte(pteAddress);
      if (!reader.ok) continue;
      readable = true;
      if ((pte & Pte.V) === 0) continue;
      const leaf = (pte & (Pte.R | Pte.X)) !== 0;
      const reserved = (pte & (Pte.R | Pte.W)) === Pte.W || (!leaf && level === 0);
      const entryFrom = from + i * span;
      entries.push({
        index: i,
        pteAddress,
        pte,
        kind: reserved ? 'reserved' : leaf ? 'leaf' : 'table',
        from: entryFrom,
        size: span,
        to: leaf && level === 1 ? ((pte >>> 20) >>> 0) * 4194304 : (pte >>> 10) * 4096,
      });
    }
    return { address, level, readable, entries, writeProtected: table.kind === 'guest' && this.isTablePage(address) };
  }

  /** Whether guest-physical page `gpa` holds guest page tables the VMM write-protects (trap mode). */
  isTablePage(gpa: number): boolean {
    const vcpu = this.vm ? this.vmm?.trapVcpu(this.vm) : undefined;
    return vcpu !== undefined && vcpu.shadows.tablePages.has(Math.floor(gpa / 4096));
  }

  /** The guest-physical pages known to hold guest page tables (trap mode), as addresses. */
  tablePages(): number[] {
    const vcpu = this.vm ? this.vmm?.trapVcpu(this.vm) : undefined;
    return vcpu ? [...vcpu.shadows.tablePages].sort((a, b) => a - b).map((p) => p * 4096) : [];
  }

  /** Host-physical address of guest-physical `gpa` (the bare machine: `gpa` itself when it is RAM). */
  hostOf(gpa: number): number | undefined {
    const hpa = this.guest.host(gpa);
    return hpa < 0 ? undefined : hpa;
  }

  /** Guest-physical addresses mapped to host-physical `hpa` in this VM (none outside its frames). */
  guestOf(hpa: number): number | undefined {
    if (!this.vm) return this.guest.host(hpa) === hpa ? hpa : undefined;
    const frame = Math.floor(hpa / 4096) * 4096;
    for (const { gpa, hpa: h } of this.vm.pmap.entries()) if (h === frame) return gpa + (hpa & 0xfff);
    return undefined;
  }

  /**
   * Translates guest-virtual `va` for `access` at privilege `priv` (default: the guest's current
   * one, with MPRV for data) through every layer, reporting each PTE read. A/D bits count as set,
   * as a debugger's translation must not change them.
   */
  translate(va: number, access: Access = Access.LOAD, priv?: number): LayeredTranslation {
    const h = this.hart;
    va >>>= 0;
    let p = priv ?? h.priv;
    if (priv === undefined && access !== Access.FETCH && h.priv === 3 && (h.mstatus & (1 << 17)) !== 0) p = (h.mstatus >>> 11) & 3;
    const paged = p !== 3 && h.satp >>> 31 === 1;
    const steps: WalkStep[] = [];
    let gpa: number | undefined = va;
    let fault = 0;
    let faultStage: TableKind | undefined;
    if (paged) {
      const ctx: WalkContext = { priv: p, sum: (h.mstatus & (1 << 18)) !== 0, mxr: (h.mstatus & (1 << 19)) !== 0, updateAD: true };
      const stage: TableKind = this.vm ? 'guest' : 'machine';
      const r = walkSv32(new WalkResult(), this.guest, h.satp & 0x3fffff, va, access, ctx, 10, {
        step: (level, pteAddress, pte) => steps.push({ stage, level, pteAddress, pteHostAddress: this.hostOf(pteAddress), pte, nested: this.pmapSteps(pteAddress) }),
      });
      if (r.fault !== 0) {
        // A PTE outside guest RAM is an access fault: record the failing read too.
        if (!this.guest.ok) {
          const level = 1 - steps.length;
          const pteAddress = steps.length === 0 ? (h.satp & 0x3fffff) * 4096 + (va >>> 22) * 4 : (steps[0].pte >>> 10) * 4096 + ((va >>> 12) & 0x3ff) * 4;
          steps.push({ stage, level, pteAddress, pteHostAddress: undefined, pte: 0, nested: this.pmapSteps(pteAddress) });
        }
        gpa = undefined;
        fault = r.fault;
        faultStage = stage;
      } else {
        gpa = r.pa;
      }
    }
    let hpa: number | undefined;
    let device: string | undefined;
    if (gpa !== undefined) {
      if (this.vm) steps.push(...this.pmapSteps(gpa));
      hpa = this.hostOf(gpa);
      if (hpa === undefined) device = this.deviceAt(gpa);
    }
    const shadowKey = priv === undefined ? this.currentShadowKey() : shadowKeyFor(priv, h.satp, h.mstatus);
    let references: WalkReference[] | undefined;
    if (this.vm?.mode === 'hw' && p !== 3) {
      // The hardware's two-stage walk decides the outcome in hw mode (a G-stage failure is a guest-page fault).
      const hw = this.hardwareWalk(va, access, p);
      references = hw.references;
      // A guest-page fault on a device's guest-physical address is the exit the VMM emulates the access at.
      if (hw.fault !== 0 && device === undefined) {
        fault = hw.fault;
        faultStage = hw.fault >= 20 ? 'pmap' : 'guest';
        gpa = hw.guestPhysical;
        hpa = undefined;
      }
    }
    return { va, access, priv: p, paged, guestPhysical: gpa, hostPhysical: hpa, fault, faultStage, device, steps, shadow: this.shadowWalk(shadowKey, va, access), references };
  }

  /**
   * hw mode: the physical hart's two-stage walk of `va` for this VM at guest privilege `priv` (0 or
   * 1), recorded reference by reference: the hart's own translator (TwoStage) with the roots and
   * status bits the hart uses for this guest (vsatp = the guest's satp, hgatp = the pmap with the
   * VM's VMID), over host memory read without side effects. Then the guest's PMP, as the hart checks it.
   */
  hardwareWalk(va: number, access: Access, priv: number): HardwareWalk {
    const vm = this.vm;
    const vmm = this.vmm;
    if (!vm || !vmm || vm.mode !== 'hw') throw new Error('hardwareWalk: only a VM in hw mode has a hardware two-stage walk');
    const h = this.hart;
    const p = vmm.hwHart;
    const mem = new RecordingMemory(this.hostSpace, (pa, size, pr) => p.pmpBits(pa, size, pr), va >>> 0);
    const walker = new TwoStage(mem);
    walker.setTrace(mem);
    const hgatp = (vm.pmap.hgatp | ((vm.id & 0x7f) << 22)) >>> 0;
    const r = walker.translate(va, 4, access, h.satp, hgatp, priv, (h.mstatus & (1 << 18)) !== 0, (h.mstatus & (1 << 19)) !== 0, p.hx.hsMxr(p));
    let fault = r.fault;
    if (fault === 0 && h.features.pmp && (h.pmp.permissions(r.gpa, 4, priv) & [4, 1, 2][access]) === 0) fault = GUEST_PAGE_FAULT_OF[access];
    return {
      references: mem.refs,
      fault,
      // The VS-stage finished when the walk got to the final G-stage (or had no references at all).
      guestPhysical: fault === 0 || mem.refs.length === 0 || mem.refs[mem.refs.length - 1].purpose === 'pmap-final' ? r.gpa >>> 0 : undefined,
      hostPhysical: fault === 0 ? r.pa : undefined,
    };
  }

  /** The G-stage walk of guest-physical `gpa` through the pmap table in host RAM. */
  private pmapSteps(gpa: number): WalkStep[] {
    if (!this.vm) return [];
    const steps: WalkStep[] = [];
    walkSv32(new WalkResult(), this.hostSpace, Math.floor(this.vm.pmap.rootAddress / 4096), gpa, Access.LOAD, NO_AD, 12, {
      step: (level, pteAddress, pte) => steps.push({ stage: 'pmap', level, pteAddress, pteHostAddress: pteAddress, pte, nested: [] }),
    });
    return steps;
  }

  /** The shadow context the guest is in now (trap mode). */
  private currentShadowKey(): string | undefined {
    return this.vm ? this.vmm?.trapVcpu(this.vm)?.currentKey() : undefined;
  }

  /** The walk of shadow `key` for `va` (trap mode, when the VMM has built it), as the physical hart would do it in U-mode. */
  private shadowWalk(key: string | undefined, va: number, access: Access): ShadowWalk | undefined {
    const table = key === undefined ? undefined : this.tables().find((t) => t.kind === 'shadow' && t.key === key);
    if (!table) return undefined;
    const steps: WalkStep[] = [];
    const r = walkSv32(new WalkResult(), this.hostSpace, table.root / 4096, va, access, { ...NO_AD, priv: 0, updateAD: true }, 10, {
      step: (level, pteAddress, pte) => steps.push({ stage: 'shadow', level, pteAddress, pteHostAddress: pteAddress, pte, nested: [] }),
    });
    return { key: table.key, label: table.label, hostPhysical: r.fault === 0 ? r.pa : undefined, fault: r.fault, steps };
  }

  private deviceAt(gpa: number): string | undefined {
    const regions = this.vm ? this.vm.bus.deviceRegions : 'deviceRegions' in this.hart.bus ? (this.hart.bus as { deviceRegions: readonly { base: number; size: number; device: { name: string } }[] }).deviceRegions : [];
    return regions.find((r) => gpa >= r.base && gpa < r.base + r.size)?.device.name;
  }
}

const hex = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** Words for a shadow context key of trap/trap-vcpu.ts ('bare1', 'S:<satp>:<sum|mxr>', 'U:<satp>:<mxr>', 'mprv<p>:...'). */
export function shadowLabel(key: string): string {
  const [ctx, satp, bits] = key.split(':');
  const flags = Number(bits ?? 0);
  const extra = [(flags & (1 << 18)) !== 0 ? 'SUM' : '', (flags & (1 << 19)) !== 0 ? 'MXR' : ''].filter(Boolean).join(' ');
  const tail = satp === undefined ? '' : `, satp 0x${hex(Number(satp))}${extra ? `, ${extra}` : ''}`;
  if (ctx.startsWith('bare')) return `shadow: guest ${['U', 'S', '?', 'M'][Number(ctx.slice(4))]}-mode, paging off`;
  if (ctx === 'S') return `shadow: guest kernel (S)${tail}`;
  if (ctx === 'U') return `shadow: guest user (U)${tail}`;
  return `shadow: guest M-mode data as ${['U', 'S'][Number(ctx.slice(4))]} (MPRV)${tail}`;
}

/** RAM page index of an address (the lecture's small page numbers: 0x80001000 → 0x01). */
export function ramPageIndex(address: number, base = RAM_BASE): number {
  return Math.floor((address - base) / 4096);
}
