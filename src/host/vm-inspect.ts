// The inspectors of issue #7 on one machine, for the worker that owns it: page tables a page at a
// time, the two-dimensional translation of one address, the TLB, and a bt VM's translation cache.
// Built on the engine's LayerInspector (src/engine/vmm/inspect.ts), with the API's spaces and packed
// bytes. A table page is named by its table and the root entry that points to it, never by an
// address, so a request can reach only pages of that machine's own tables (another VM's frames stay
// out of reach).

import type { Hart } from '../engine/cpu/hart';
import { Access } from '../engine/mmu/walk';
import type { Tlb, TlbEntry } from '../engine/mmu/tlb';
import { LayerInspector, type TableInfo, type WalkStep, type Space } from '../engine/vmm/inspect';
import type { Vm } from '../engine/vmm/vm';
import type { Vmm } from '../engine/vmm/vmm';
import type { BtVcpu } from '../engine/vmm/bt/bt-vcpu';
import type {
  AccessKind, PageTableInfo, PageTablesInfo, TablePageInfo, TlbInfo, TranslatedBlockDetail, TranslationsInfo, WalkInfo, WalkReferenceInfo, WalkStepInfo,
} from '../shared/inspect-api';
import { btVcpuOf, translatedBlock, translationsInfo } from './vm-translations';
import type { AddressSpace, MachineMode } from '../shared/lab-api';

/** An inspector request the service forwards to the worker that owns the machine. */
export type InspectRequest =
  | { what: 'pageTables' }
  | { what: 'tablePage'; table: string; index?: number }
  | { what: 'walk'; address: number; access: AccessKind; priv?: number }
  | { what: 'tlb' }
  | { what: 'translations' }
  | { what: 'translationBlock'; gpa: number; priv: number };

/** The reply to each inspector request. */
export interface InspectReplies {
  pageTables: PageTablesInfo;
  tablePage: TablePageInfo;
  walk: WalkInfo;
  tlb: TlbInfo;
  translations: TranslationsInfo;
  translationBlock: TranslatedBlockDetail;
}

/** An inspector request for a machine that has no such table, entry or state (a bad request). */
export class InspectError extends Error {}

const ACCESS: Record<AccessKind, Access> = { fetch: Access.FETCH, load: Access.LOAD, store: Access.STORE };
const ACCESS_NAME = ['fetch', 'load', 'store'] as const;

/** What the inspectors need of one machine. */
interface Target {
  readonly mode: MachineMode;
  readonly ins: LayerInspector;
  readonly hart: Hart;
  readonly guestRamBase: number;
  readonly hostRamBase: number;
  readonly tlb: () => TlbInfo;
  /** A bt-mode VM's translation cache (undefined for other machines). */
  readonly bt?: { readonly vcpu: BtVcpu; readonly step: number };
}

/** Answers an inspector request on a VM of `vmm`. */
export function inspectVm(vmm: Vmm, vm: Vm, req: InspectRequest): InspectReplies[InspectRequest['what']] {
  return answer({
    mode: vm.mode as MachineMode,
    ins: LayerInspector.forVm(vmm, vm),
    hart: vm.vhart,
    guestRamBase: vm.pmap.guestRamBase,
    hostRamBase: vmm.frames.base,
    tlb: () => vmTlb(vmm, vm),
    bt: btOf(vmm, vm),
  }, req);
}

/** Answers an inspector request on a bare machine's hart. */
export function inspectMachine(hart: Hart, req: InspectRequest): InspectReplies[InspectRequest['what']] {
  const base = hart.bus.ramBase;
  return answer({
    mode: 'bare',
    ins: LayerInspector.forMachine(hart),
    hart,
    guestRamBase: base,
    hostRamBase: base,
    tlb: () => tlbInfo(hart.tlb, 'machine', 'the hart\'s TLB: virtual page → physical page, tagged by privilege and ASID', true),
  }, req);
}

function answer(t: Target, req: InspectRequest): InspectReplies[InspectRequest['what']] {
  switch (req.what) {
    case 'pageTables': return pageTables(t);
    case 'tablePage': return tablePage(t, req.table, req.index);
    case 'walk': return walk(t, req.address, req.access, req.priv);
    case 'tlb': return t.tlb();
    case 'translations': return translationsInfo(btOrThrow(t).vcpu, btOrThrow(t).step);
    case 'translationBlock': {
      const b = translatedBlock(btOrThrow(t).vcpu, req.gpa, req.priv);
      if (b === undefined) throw new InspectError(`gpa: no translated block at guest-physical 0x${(req.gpa >>> 0).toString(16)} for virtual ${req.priv === 3 ? 'M' : 'S'}-mode (see vm.translations)`);
      return b;
    }
  }
}

function btOf(vmm: Vmm, vm: Vm): Target['bt'] {
  const vcpu = btVcpuOf(vmm, vm);
  return vcpu === undefined ? undefined : { vcpu, step: vm.machine.clockSteps };
}

function btOrThrow(t: Target): NonNullable<Target['bt']> {
  if (t.bt === undefined) throw new InspectError(`id: only a bt-mode VM has a translation cache (this machine is ${t.mode === 'bare' ? 'bare' : `a ${t.mode}-mode VM`})`);
  return t.bt;
}

/** A bare machine's spaces are physical and virtual; the engine names them as a VM's guest spaces. */
function spaceOf(t: Target, s: Space): AddressSpace {
  if (t.mode !== 'bare') return s;
  return s === 'guest-virtual' ? 'virtual' : 'physical';
}

function tableInfo(t: Target, x: TableInfo): PageTableInfo {
  return {
    kind: x.kind, key: x.key, label: x.label, active: x.active, root: x.root, rootBits: x.rootBits,
    tableSpace: spaceOf(t, x.tableSpace), from: spaceOf(t, x.from), to: spaceOf(t, x.to),
  };
}

function hardwareText(t: Target, tables: TableInfo[]): string {
  const h = t.hart;
  const paged = h.satp >>> 31 === 1 && h.priv !== 3;
  if (t.mode === 'bare') return paged ? 'the hart walks its page table (satp) on a TLB miss' : 'translation is off (M-mode or satp bare): virtual = physical';
  if (t.mode === 'emulate') {
    return paged
      ? 'emulate: on a TLB miss the VMM walks the guest table in software, each guest PTE through the pmap, then the pmap for the result'
      : 'emulate: guest paging is off; the VMM maps guest-physical through the pmap in software';
  }
  if (t.mode === 'hw') {
    return h.priv === 3
      ? 'hw: the guest is in its virtual M-mode, which the VMM interprets (no translation)'
      : 'hw: on a TLB miss the physical hart walks both tables itself, the guest table (vsatp) with each guest PTE through the pmap (hgatp), then the pmap for the result: the two-dimensional walk, up to 12 memory references';
  }
  const active = tables.find((x) => x.kind === 'shadow' && x.active);
  return active ? `${t.mode}: the physical hart walks ${active.label} (guest page tables are never walked by hardware)` : `${t.mode}: no shadow yet (the VM has not run)`;
}

function pageTables(t: Target): PageTablesInfo {
  const tables = t.ins.tables();
  return {
    mode: t.mode,
    satp: t.hart.satp >>> 0,
    priv: t.hart.priv,
    tables: tables.map((x) => tableInfo(t, x)),
    hardware: hardwareText(t, tables),
    writeProtected: t.ins.tablePages(),
    guestRamBase: t.guestRamBase,
    hostRamBase: t.hostRamBase,
  };
}

/** Little-endian Uint32 words as bytes. */
function packWords(words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  return out;
}

function tablePage(t: Target, key: string, index: number | undefined): TablePageInfo {
  const table = t.ins.tables().find((x) => x.key === key);
  if (!table) throw new InspectError(`table: this machine has no table '${key}' (see vm.pageTables)`);
  let page = t.ins.tablePage(table, table.root, 1);
  let from = 0;
  if (index !== undefined) {
    if (index >= 1 << table.rootBits) throw new InspectError(`index: the root of '${key}' has ${1 << table.rootBits} entries, not ${index + 1}`);
    const e = page.entries.find((x) => x.index === index);
    if (!e || e.kind !== 'table') throw new InspectError(`index: root entry 0x${index.toString(16)} of '${key}' does not point to a level-0 table`);
    page = t.ins.tablePage(table, e.to, 0, e.from);
    from = e.from;
  }
  const words: number[] = [];
  for (const e of page.entries) words.push(e.index, e.pte);
  return {
    table: key,
    address: page.address,
    level: page.level,
    from: from >>> 0,
    span: page.level === 1 ? 1 << 22 : 4096,
    readable: page.readable,
    writeProtected: page.writeProtected,
    entries: packWords(words),
  };
}

function stepInfo(s: WalkStep): WalkStepInfo {
  const out: WalkStepInfo = { stage: s.stage, level: s.level, pteAddress: s.pteAddress >>> 0, pte: s.pte >>> 0, nested: s.nested.map(stepInfo) };
  return s.pteHostAddress === undefined ? out : { ...out, pteHostAddress: s.pteHostAddress >>> 0 };
}

function walk(t: Target, address: number, access: AccessKind, priv: number | undefined): WalkInfo {
  const r = t.ins.translate(address >>> 0, ACCESS[access], priv);
  const out: { -readonly [K in keyof WalkInfo]: WalkInfo[K] } = {
    va: r.va, access: ACCESS_NAME[r.access], priv: r.priv, paged: r.paged, fault: r.fault, steps: r.steps.map(stepInfo),
  };
  if (r.guestPhysical !== undefined) out.guestPhysical = r.guestPhysical >>> 0;
  if (r.hostPhysical !== undefined) out.hostPhysical = r.hostPhysical >>> 0;
  if (r.faultStage !== undefined) out.faultStage = r.faultStage;
  if (r.device !== undefined) out.device = r.device;
  if (r.shadow) {
    const sh: { table: string; label: string; hostPhysical?: number; fault: number; steps: WalkStepInfo[] } = {
      table: r.shadow.key, label: r.shadow.label, fault: r.shadow.fault, steps: r.shadow.steps.map(stepInfo),
    };
    if (r.shadow.hostPhysical !== undefined) sh.hostPhysical = r.shadow.hostPhysical >>> 0;
    out.shadow = sh;
  }
  if (r.references) {
    out.references = r.references.map((x): WalkReferenceInfo => ({
      stage: x.stage, purpose: x.purpose, level: x.level, input: x.input >>> 0, inputSpace: spaceOf(t, x.inputSpace),
      pteAddress: x.pteAddress >>> 0, pteSpace: spaceOf(t, x.pteSpace), hostAddress: x.hostAddress >>> 0, value: x.value >>> 0, write: x.write,
    }));
  }
  return out;
}

/** The TLB that caches a VM's translations: its virtual hart's (emulate) or the physical hart's (trap, bt, pv, hw); the note names the VM's mode. */
function vmTlb(vmm: Vmm, vm: Vm): TlbInfo {
  if (vm.mode === 'hw') {
    const vmid = vm.id & 0x7f;
    const tlb = vmm.hwHart.tlb;
    const mine = tlb.entries().some((e) => e.virt && e.vmid === vmid);
    const note = `hw: the physical hart's TLB, guest-virtual page → host frame: each entry caches a whole two-stage translation (guest table, then pmap), tagged with this VM's VMID ${vmid}, so other VMs' entries may stay in it alongside`;
    return tlbInfo(tlb, 'physical hart', `${note}. Hits and misses are this VM's own (counted while it ran); flushes are the hart's`, true,
      { hits: vm.stats.tlbHits, misses: vm.stats.hartTlbMisses }, (e) => e.virt && e.vmid === vmid, mine);
  }
  if (vmm.trapVcpu(vm) === undefined) {
    return tlbInfo(vm.vhart.tlb, 'virtual hart', 'emulate: the VMM\'s software TLB of this VM\'s virtual hart, guest-virtual page → guest-physical page (the pmap is applied after it)', true);
  }
  const set = vmm.trapVcpu(vm)?.shadows;
  const mine = set?.all().find((s) => set.satpOf(s) === vmm.hart.satp >>> 0);
  const note = mine
    ? `${vm.mode}: the physical hart's TLB, guest-virtual page → host frame, filled from ${mine.key.startsWith('bare') ? 'a paging-off shadow' : 'the shadow'} '${mine.key}'; it holds this VM's translations because this VM ran last on the hart`
    : `${vm.mode}: the physical hart's TLB holds another VM's translations (or none): this VM's are refilled from its shadows when it runs next`;
  // The physical TLB serves every trap-mode VM in turn: count this VM's hits and misses only.
  const counters = { hits: vm.stats.tlbHits, misses: vm.stats.hartTlbMisses };
  return tlbInfo(vmm.hart.tlb, 'physical hart', `${note}. Hits and misses are this VM's own (counted while it ran); flushes are the hart's`, mine !== undefined, counters);
}

function tlbInfo(tlb: Tlb, source: TlbInfo['source'], note: string, holdsThisVm: boolean, counters: { hits: number; misses: number } = tlb,
  keep: (e: TlbEntry) => boolean = () => true, holds = holdsThisVm): TlbInfo {
  const words: number[] = [];
  if (holdsThisVm) {
    for (const e of tlb.entries()) {
      if (!keep(e)) continue;
      const ctx = e.priv | (e.bare ? 4 : 0) | (e.read ? 8 : 0) | (e.write ? 16 : 0) | (e.exec ? 32 : 0) | (e.virt ? 64 : 0) | (e.vmid << 7);
      words.push(e.slot, e.vpn, ctx, e.asid, e.pte, e.level, e.ppn);
    }
  }
  return {
    source,
    note,
    holdsThisVm: holds,
    hits: counters.hits,
    misses: counters.misses,
    flushes: tlb.flushes,
    size: tlb.tagR.length,
    entries: packWords(words),
    flushHistory: tlb.flushHistory().map((f) => {
      const o: { seq: number; kind: 'all' | 'translated'; va?: number; asid?: number } = { seq: f.seq, kind: f.kind };
      if (f.va !== undefined) o.va = f.va >>> 0;
      if (f.asid !== undefined) o.asid = f.asid;
      return o;
    }),
  };
}
