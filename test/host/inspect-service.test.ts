// The page-table inspector through the lab service (issue #7), with the real workers: the paging
// lab with the lecture's explicit placement returns exactly the lecture's three tables (guest table,
// pmap, shadow) a table page at a time, in trap and emulate mode and on a bare machine; the layered
// walk of a mapped, an unmapped and a forbidden access agrees with the MMU's own outcome (the
// service's vm.translate and guest-virtual reads on the same VM, and the engine's hart on the same
// guest state); malformed requests are refused; statistics ticks follow a running VM.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { Access } from '../../src/engine/mmu/walk';
import type { Placement } from '../../src/engine/vmm/frames';
import type { VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { LabService } from '../../src/host/lab-service';
import type {
  AccessKind, AssembleResult, LabEvents, MachineStatus, MemoryBlock, PageTableInfo, PageTablesInfo, TablePageInfo,
  TranslationInfo, WalkInfo,
} from '../../src/shared/lab-api';
import { unpackTableEntries, unpackTlbEntries, type TlbInfo } from '../../src/shared/inspect-api';
import { REPO_ROOT } from '../support/build';
import { recordEvents, until as waitUntil } from '../support/lab';

const RAM = 0x80000000;
const MiB = 1 << 20;
/** The lecture's placement: guest pages 0xA1, 0xA2, 0xA3 in host frames 0xC0, 0xC1, 0xC4. */
const LECTURE = { explicit: [[0xa1, 0xc0], [0xa2, 0xc1], [0xa3, 0xc4]] as [number, number][] };
/** The line the kernel prints after its stores, in S-mode with paging on, before the faulting load. */
const PAUSE_AT = '[S] loading from VA';
const SOURCE = readFileSync(join(REPO_ROOT, 'labs', 'paging', 'paging.S'), 'latin1');
/** Causes (privileged spec table 3.6). */
const FETCH_PAGE_FAULT = 12;
const LOAD_PAGE_FAULT = 13;
const STORE_PAGE_FAULT = 15;

/** While set, finding the machine worker takes this long, as when its bundle is rebuilt after an edit. */
const slowBuild = vi.hoisted(() => ({ ms: 0 }));
vi.mock('../../src/host/worker-build', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/host/worker-build')>();
  return {
    ...real,
    ensureWorkerBuilt: async (...args: Parameters<typeof real.ensureWorkerBuilt>) => {
      if (slowBuild.ms > 0) await new Promise((r) => setTimeout(r, slowBuild.ms));
      return real.ensureWorkerBuilt(...args);
    },
  };
});

let lab: LabService;
const consoleText = new Map<string, string>();
const latest = new Map<string, MachineStatus>();
const ticks: LabEvents['vm.statsTick'][] = [];
/** VMs a test made and removes in afterEach, also when it failed (the lecture's frames are one VM's at a time). */
const made: string[] = [];

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'vmlab-inspect-'));
  cpSync(join(REPO_ROOT, 'labs', 'paging'), join(root, 'paging'), { recursive: true });
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { consoleText, latest, ticks });
});

afterAll(() => lab.dispose());

afterEach(async () => {
  for (const id of made.splice(0)) await lab.call('vm.destroy', { id }).catch(() => undefined);
});

const until = (what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> => waitUntil(what, cond, ms);

const call = <T>(method: string, params: Record<string, unknown>): Promise<T> => lab.call(method, params) as Promise<T>;
const pageTables = (id: string): Promise<PageTablesInfo> => call('vm.pageTables', { id });
const tablePage = (id: string, table: string, index?: number): Promise<TablePageInfo> =>
  call('vm.tablePage', index === undefined ? { id, table } : { id, table, index });
const walk = (id: string, address: number, access: AccessKind = 'load', priv?: 0 | 1 | 3): Promise<WalkInfo> =>
  call('vm.walk', priv === undefined ? { id, address, access } : { id, address, access, priv });

/** A table page's valid entries as [index, pte] pairs, unpacked from the little-endian words. */
const entries = (page: TablePageInfo): [number, number][] => unpackTableEntries(page.entries);

/** The page number, counted from `base`, a leaf PTE maps. */
const pageOf = (pte: number, base: number): number => ((pte >>> 10) * 4096 - base) / 4096;

/** Creates the paging lab's machine, runs it to its end (it stops the machine from M-mode). */
async function ranToEnd(mode: 'bare' | 'emulate' | 'trap', name: string): Promise<MachineStatus> {
  const vm = await call<MachineStatus>('vm.create', { kernel: 'paging/paging.S', mode, name, ...(mode === 'bare' ? {} : { placement: LECTURE }) });
  if (mode !== 'bare') made.push(vm.id);
  await call('vm.run', { id: vm.id });
  await until(`${name} to exit`, () => latest.get(vm.id)?.state === 'exited');
  expect(latest.get(vm.id)).toMatchObject({ state: 'exited', exitCode: 0, ...(mode === 'bare' ? {} : { vmState: 'halted' }) });
  expect(consoleText.get(vm.id)).toContain('[M] 0x800a2000 holds 0xcafe0001, 0x800a3000 holds 0xcafe0002');
  return vm;
}

/** Steps a fresh VM of the paging lab until it has stored through the virtual addresses (S-mode, paging on). */
async function steppedToS(mode: 'emulate' | 'trap' | 'bt' | 'hw', name: string): Promise<MachineStatus> {
  const vm = await call<MachineStatus>('vm.create', { kernel: 'paging/paging.S', mode, name, placement: LECTURE });
  made.push(vm.id);
  for (let i = 0; i < 2000 && !(consoleText.get(vm.id) ?? '').includes(PAUSE_AT); i++) await call('vm.step', { id: vm.id, count: 200 });
  expect(consoleText.get(vm.id)).toContain(PAUSE_AT);
  expect(await call<{ priv: number }>('vm.registers', { id: vm.id })).toMatchObject({ priv: 1 });
  return vm;
}

/** The engine's own outcome (its hart's MMU) on the paging lab in S-mode after the stores, in a VM or bare. */
function engineOutcomes(mode: VmMode | 'bare', cases: [number, AccessKind][]): { fault: number; pa: number | undefined }[] {
  const r = assemble(SOURCE, { file: 'paging.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const out: number[] = [];
  const printed = (): boolean => Buffer.from(out).toString('latin1').includes(PAUSE_AT);
  let hart;
  if (mode === 'bare') {
    const m = new Machine({ ramSize: 128 * MiB, onUart: (b) => out.push(b) });
    m.loadKernel(r.elf);
    while (!printed()) expect(m.run(100)).toBe(StopReason.BUDGET);
    hart = m.hart;
  } else {
    const vmm = new Vmm({ hostRamSize: 64 * MiB, quantum: 1000 });
    const vm = vmm.createVm({ name: 'oracle', mode, kernel: r.elf, memSize: 16 * MiB, placement: LECTURE as Placement, onUart: (b) => out.push(b) });
    for (let i = 0; i < 10_000 && !printed(); i++) vmm.runVm(vm, 100);
    hart = vm.vhart;
  }
  expect(printed()).toBe(true);
  expect(hart.priv).toBe(1);
  const access = { fetch: Access.FETCH, load: Access.LOAD, store: Access.STORE };
  return cases.map(([va, kind]) => {
    const pa = hart.translate(va, 4, access[kind]);
    return { fault: hart.fault, pa: pa < 0 ? undefined : pa };
  });
}

/** Mapped, unmapped, and two forbidden accesses of the lab's table (no X on a data page; no store to the UART megapage is fine, so a fetch there). */
const CASES: [number, AccessKind][] = [
  [0x1000, 'load'], [0x2ffc, 'store'], [0x3000, 'load'], [0x1000, 'fetch'], [0x10000000, 'fetch'], [0x400000, 'store'],
];

function table(info: PageTablesInfo, kind: PageTableInfo['kind'], label?: RegExp): PageTableInfo {
  const t = info.tables.find((x) => x.kind === kind && (label === undefined || label.test(x.label)));
  if (!t) throw new Error(`no ${kind} table in ${info.tables.map((x) => x.label).join('; ')}`);
  return t;
}

/** Checks the guest table (or a bare machine's) against the lecture: root at 0xA1, 0x01 → 0xA2, 0x02 → 0xA3. */
async function expectGuestTable(id: string, key: string, base: number, writeProtected: boolean): Promise<void> {
  const root = await tablePage(id, key);
  expect(root).toMatchObject({ table: key, address: RAM + 0xa1 * 4096, level: 1, from: 0, span: 4 * MiB, readable: true, writeProtected });
  expect(entries(root)).toEqual([[0x000, 0x20028001], [0x040, 0x040000c7], [0x200, 0x200000cf]]);
  const l0 = await tablePage(id, key, 0);
  expect(l0).toMatchObject({ address: RAM + 0xa0 * 4096, level: 0, from: 0, span: 4096, writeProtected });
  expect(entries(l0).map(([i, pte]) => [i, pageOf(pte, base)])).toEqual([[0x01, 0xa2], [0x02, 0xa3]]);
}

/** Checks the pmap against the lecture: 0xA1 → 0xC0, 0xA2 → 0xC1, 0xA3 → 0xC4. */
async function expectPmap(id: string, info: PageTablesInfo): Promise<void> {
  const pmap = table(info, 'pmap');
  expect(pmap).toMatchObject({ key: 'pmap', rootBits: 12, tableSpace: 'host-physical', from: 'guest-physical', to: 'host-physical' });
  const root = await tablePage(id, 'pmap');
  // Sv32x4: the 16 KiB root indexes guest-physical bits 33..22; 16 MiB of guest RAM at 0x80000000 is entries 0x200-0x203.
  expect(entries(root).map(([i]) => i)).toEqual([0x200, 0x201, 0x202, 0x203]);
  expect(root).toMatchObject({ address: pmap.root, level: 1, writeProtected: false });
  const l0 = await tablePage(id, 'pmap', 0x200);
  expect(l0).toMatchObject({ level: 0, from: RAM, span: 4096 });
  const frames = new Map(entries(l0).map(([i, pte]) => [i, pageOf(pte, info.hostRamBase)]));
  expect([0xa1, 0xa2, 0xa3].map((g) => frames.get(g))).toEqual([0xc0, 0xc1, 0xc4]);
  expect(frames.size).toBe(1024);
}

describe('the lecture\'s three tables (paging lab, explicit placement, run to its end)', () => {
  // The lecture's host frames belong to one VM at a time, so the VMs take turns.
  let bare: MachineStatus;
  beforeAll(async () => {
    bare = await ranToEnd('bare', 'lecture-bare');
  });

  it('starts one VMM for the first VMs created at the same moment', async () => {
    const fresh = await LabService.create({ workspace: mkdtempSync(join(tmpdir(), 'vmlab-inspect-')) });
    try {
      slowBuild.ms = 200;
      await fresh.call('fs.write', { path: 'spin.S', text: '.globl _start\n_start:\n  j _start\n' });
      await fresh.call('asm.build', { path: 'spin.S' });
      const at = await Promise.all(['a', 'b', 'c'].map((name) => fresh.call('vm.create', { kernel: 'spin.elf', mode: 'trap', name, memSize: 4 * MiB }) as Promise<MachineStatus>));
      // Every VM is in the one VMM the service talks to, so each one answers.
      for (const m of at) expect(((await fresh.call('vm.pageTables', { id: m.id })) as PageTablesInfo).mode).toBe('trap');
    } finally {
      slowBuild.ms = 0;
      await fresh.dispose();
    }
  });

  it('trap: the guest table, the pmap and the guest kernel\'s shadow, with the guest\'s table pages write-protected', async () => {
    const trap = await ranToEnd('trap', 'lecture-trap');
    const info = await pageTables(trap.id);
    expect(info).toMatchObject({ mode: 'trap', satp: 0x800800a1, priv: 3, guestRamBase: RAM });
    expect(info.hostRamBase).toBe(RAM);
    // The guest ended in M-mode (paging off for it): the hardware walks a paging-off shadow now.
    expect(info.hardware).toMatch(/^trap: the physical hart walks shadow: guest M-mode, paging off/);
    expect(info.writeProtected).toEqual([RAM + 0xa0 * 4096, RAM + 0xa1 * 4096]);
    expect(table(info, 'guest')).toMatchObject({ key: 'guest', root: RAM + 0xa1 * 4096, rootBits: 10, active: false, tableSpace: 'guest-physical', from: 'guest-virtual', to: 'guest-physical' });
    await expectGuestTable(trap.id, 'guest', info.guestRamBase, true);
    await expectPmap(trap.id, info);

    const shadow = table(info, 'shadow', /guest kernel \(S\), satp 0x800800a1/);
    expect(shadow).toMatchObject({ active: false, rootBits: 10, tableSpace: 'host-physical', from: 'guest-virtual', to: 'host-physical' });
    expect(info.tables.filter((t) => t.active).map((t) => t.label)).toEqual(['shadow: guest M-mode, paging off']);
    const sroot = await tablePage(trap.id, shadow.key);
    expect(sroot.address).toBe(shadow.root);
    expect(entries(sroot).map(([i]) => i)).toContain(0);
    const sl0 = await tablePage(trap.id, shadow.key, 0);
    const low = entries(sl0).filter(([i]) => i < 0x10).map(([i, pte]) => [i, pageOf(pte, info.hostRamBase)]);
    expect(low).toEqual([[0x01, 0xc1], [0x02, 0xc4]]);
    // The stores went through the shadow into the lecture's host frames.
    const word = async (hpa: number): Promise<number> => {
      const b = await call<MemoryBlock>('vm.readMemory', { id: trap.id, address: hpa, length: 4, space: 'host-physical' });
      return new DataView(b.bytes.buffer, b.bytes.byteOffset).getUint32(0, true);
    };
    expect([await word(info.hostRamBase + 0xc1 * 4096), await word(info.hostRamBase + 0xc4 * 4096)]).toEqual([0xcafe0001, 0xcafe0002]);

    // Walked at the end as the guest kernel (S) would: the two-dimensional walk and that context's shadow.
    const host = (frame: number, off = 0): number => info.hostRamBase + frame * 4096 + off;
    const w = await walk(trap.id, 0x1234, 'load', 1);
    expect(w).toMatchObject({ va: 0x1234, access: 'load', priv: 1, paged: true, fault: 0, guestPhysical: RAM + 0xa2 * 4096 + 0x234, hostPhysical: host(0xc1, 0x234) });
    expect(w.steps.map((s) => [s.stage, s.level])).toEqual([['guest', 1], ['guest', 0], ['pmap', 1], ['pmap', 0]]);
    expect(w.steps.slice(0, 2).map((s) => [s.pteAddress, s.pteHostAddress, s.pte])).toEqual([
      [RAM + 0xa1 * 4096, host(0xc0), 0x20028001], [RAM + 0xa0 * 4096 + 4, w.steps[1].pteHostAddress, 0x200288c7],
    ]);
    // Each guest PTE was found in host memory by a two-level pmap walk of its own.
    for (const s of w.steps.slice(0, 2)) expect(s.nested.map((n) => [n.stage, n.level])).toEqual([['pmap', 1], ['pmap', 0]]);
    expect(w.steps[0].nested[1].pte >>> 10).toBe(host(0xc0) / 4096);
    // The shadow walked is the guest kernel's, not the paging-off one the guest's M-mode uses now.
    expect(w.shadow).toMatchObject({ fault: 0, hostPhysical: host(0xc1, 0x234) });
    expect(w.shadow).toMatchObject({ table: shadow.key, label: shadow.label });
    expect(w.shadow!.steps.map((s) => [s.stage, s.level])).toEqual([['shadow', 1], ['shadow', 0]]);
    expect(w.shadow!.steps[0].pteAddress).toBe(shadow.root);
    expect(w.shadow!.steps[1].pteAddress).toBe(sl0.address + 4);
    // As the guest is now (M-mode), the hardware would walk the paging-off shadow.
    expect((await walk(trap.id, 0x1000)).shadow).toMatchObject({ label: 'shadow: guest M-mode, paging off', fault: LOAD_PAGE_FAULT });
    // The guest's own privilege at its end is M: no translation, only the pmap.
    expect(await walk(trap.id, 0x800a2000)).toMatchObject({ priv: 3, paged: false, guestPhysical: 0x800a2000, hostPhysical: host(0xc1), steps: [
      { stage: 'pmap', level: 1 }, { stage: 'pmap', level: 0 },
    ] });
    // A user access to the kernel's pages: no U bit, a page fault raised by the guest's table.
    expect(await walk(trap.id, 0x1000, 'load', 0)).toMatchObject({ fault: LOAD_PAGE_FAULT, faultStage: 'guest', paged: true });
  });

  it('emulate: the guest table and the pmap, walked in software; no shadows, nothing write-protected', async () => {
    const emulate = await ranToEnd('emulate', 'lecture-emulate');
    const info = await pageTables(emulate.id);
    expect(info).toMatchObject({ mode: 'emulate', satp: 0x800800a1, writeProtected: [] });
    // The guest ended in M-mode: its table is not walked now, only the pmap (in software).
    expect(info.tables.map((t) => [t.kind, t.active])).toEqual([['guest', false], ['pmap', true]]);
    expect(info.hardware).toBe('emulate: guest paging is off; the VMM maps guest-physical through the pmap in software');
    await expectGuestTable(emulate.id, 'guest', info.guestRamBase, false);
    await expectPmap(emulate.id, info);
    expect(await walk(emulate.id, 0x2000, 'store', 1)).toMatchObject({ fault: 0, guestPhysical: RAM + 0xa3 * 4096, hostPhysical: info.hostRamBase + 0xc4 * 4096 });
    expect((await walk(emulate.id, 0x2000, 'store', 1)).shadow).toBeUndefined();
    expect((await walk(emulate.id, 0x2000, 'store', 0)).fault).toBe(STORE_PAGE_FAULT);
    const uart = await walk(emulate.id, 0x10000000, 'store', 1);
    expect(uart).toMatchObject({ fault: 0, guestPhysical: 0x10000000, device: 'uart16550' });
    expect(uart.hostPhysical).toBeUndefined();
  });

  it('bare: one table, physical pages', async () => {
    const info = await pageTables(bare.id);
    expect(info).toMatchObject({ mode: 'bare', satp: 0x800800a1, priv: 3, writeProtected: [], guestRamBase: RAM, hostRamBase: RAM });
    expect(info.tables).toEqual([{
      kind: 'machine', key: 'machine', label: 'page table (satp 0x800800a1)', active: false, root: RAM + 0xa1 * 4096, rootBits: 10,
      tableSpace: 'physical', from: 'virtual', to: 'physical',
    }]);
    expect(info.hardware).toMatch(/translation is off/);
    await expectGuestTable(bare.id, 'machine', RAM, false);
    expect(await walk(bare.id, 0x1000, 'load', 0)).toMatchObject({ fault: LOAD_PAGE_FAULT, faultStage: 'machine' });
    expect(await walk(bare.id, 0x1000, 'load', 1)).toMatchObject({ fault: 0, guestPhysical: RAM + 0xa2 * 4096, hostPhysical: RAM + 0xa2 * 4096 });
    await call('vm.destroy', { id: bare.id });
  });
});

describe('walks agree with the MMU on the same guest state (S-mode, paging on)', () => {
  for (const mode of ['trap', 'emulate'] as const) {
    it(`${mode}: vm.walk against vm.translate, guest-virtual reads and the engine's hart`, async () => {
      const vm = await steppedToS(mode, `stepped-${mode}`);
      const oracle = engineOutcomes(mode, CASES);
      const info = await pageTables(vm.id);
      expect(info.tables.filter((t) => t.active).map((t) => t.kind)).toEqual(mode === 'trap' ? ['shadow'] : ['guest', 'pmap']);
      expect(info.hardware).toMatch(mode === 'trap' ? /^trap: the physical hart walks shadow: guest kernel \(S\), satp 0x800800a1/ : /the VMM walks the guest table in software/);
      for (const [k, [va, access]] of CASES.entries()) {
        const w = await walk(vm.id, va, access);
        expect({ va, access, fault: w.fault, gpa: w.guestPhysical }).toEqual({ va, access, fault: oracle[k].fault, gpa: oracle[k].pa });
        expect(w.priv).toBe(1);
      }
      expect(oracle.map((o) => o.fault)).toEqual([0, 0, LOAD_PAGE_FAULT, FETCH_PAGE_FAULT, FETCH_PAGE_FAULT, STORE_PAGE_FAULT]);

      // Mapped: the service's own MMU view (vm.translate, vm.locate, guest-virtual reads) agrees.
      const mapped = await walk(vm.id, 0x1000);
      const tr = await call<TranslationInfo>('vm.translate', { id: vm.id, address: 0x1000 });
      expect([tr.fault, tr.pa, tr.paged]).toEqual([0, mapped.guestPhysical, true]);
      expect(tr.steps.map((s) => [s.level, s.pteAddress, s.pte])).toEqual(mapped.steps.filter((s) => s.stage === 'guest').map((s) => [s.level, s.pteAddress, s.pte]));
      const loc = await call<{ addresses: Record<string, number> }>('vm.locate', { id: vm.id, address: 0x1000, space: 'guest-virtual' });
      expect(loc.addresses).toEqual({ 'guest-virtual': 0x1000, 'guest-physical': mapped.guestPhysical, 'host-physical': mapped.hostPhysical });
      expect(mapped.hostPhysical).toBe(info.hostRamBase + 0xc1 * 4096);
      const gv = await call<MemoryBlock>('vm.readMemory', { id: vm.id, address: 0x1000, length: 4, space: 'guest-virtual' });
      const hp = await call<MemoryBlock>('vm.readMemory', { id: vm.id, address: mapped.hostPhysical!, length: 4, space: 'host-physical' });
      expect([...gv.valid, ...hp.valid]).toEqual(Array(8).fill(1));
      expect([...gv.bytes]).toEqual([0x01, 0x00, 0xfe, 0xca]);
      expect(hp.bytes).toEqual(gv.bytes);
      if (mode === 'trap') expect(mapped.shadow).toMatchObject({ fault: 0, hostPhysical: mapped.hostPhysical });
      else expect(mapped.shadow).toBeUndefined();

      // Unmapped: the same fault, and nothing readable there.
      const unmapped = await walk(vm.id, 0x3000);
      expect(unmapped).toMatchObject({ fault: LOAD_PAGE_FAULT, faultStage: 'guest' });
      expect(unmapped.guestPhysical).toBeUndefined();
      expect(unmapped.steps.map((s) => [s.stage, s.level, s.pte])).toEqual([['guest', 1, 0x20028001], ['guest', 0, 0]]);
      expect(await call<TranslationInfo>('vm.translate', { id: vm.id, address: 0x3000 })).toMatchObject({ fault: LOAD_PAGE_FAULT, paged: true });
      expect([...(await call<MemoryBlock>('vm.readMemory', { id: vm.id, address: 0x3000, length: 4, space: 'guest-virtual' })).valid]).toEqual([0, 0, 0, 0]);
      // In trap mode the shadow has no entry there either: the guest's own fault reaches the guest.
      if (mode === 'trap') expect(unmapped.shadow?.fault).toBe(LOAD_PAGE_FAULT);
    });
  }

  it('bt: the TLB view\'s note and the page tables\' name the VM\'s own mode, not trap', async () => {
    // A bt VM runs its guest kernel on the physical hart over shadow tables as trap mode does; a
    // student who picked bt must not read "trap:" in front of its TLB.
    const vm = await steppedToS('bt', 'stepped-bt');
    const tlbInfo = await call<TlbInfo>('vm.tlb', { id: vm.id });
    expect(tlbInfo).toMatchObject({ source: 'physical hart', holdsThisVm: true });
    expect(tlbInfo.note).toMatch(/^bt: the physical hart's TLB, guest-virtual page → host frame, filled from the shadow/);
    expect((await pageTables(vm.id)).hardware).toMatch(/^bt: the physical hart walks shadow: guest kernel \(S\)/);
  });

  it('hw: vm.walk carries the hart\'s two-dimensional walk, and vm.tlb its combined entries with the VM\'s VMID', async () => {
    const vm = await steppedToS('hw', 'stepped-hw');
    const oracle = engineOutcomes('hw', CASES);
    const info = await pageTables(vm.id);
    expect(info.tables.filter((t) => t.active).map((t) => t.kind)).toEqual(['guest', 'pmap']);
    expect(info.hardware).toMatch(/^hw: on a TLB miss the physical hart walks both tables itself/);
    for (const [k, [va, access]] of CASES.entries()) {
      const w = await walk(vm.id, va, access);
      expect({ va, access, fault: w.fault, gpa: w.guestPhysical }).toEqual({ va, access, fault: oracle[k].fault, gpa: oracle[k].pa });
      expect(w.references?.length).toBeGreaterThan(0);
    }
    const mapped = await walk(vm.id, 0x1000);
    expect(mapped.hostPhysical).toBe(info.hostRamBase + 0xc1 * 4096);
    const reads = mapped.references!.filter((r) => !r.write);
    expect(reads.map((r) => `${r.purpose}@${r.level}`)).toEqual([
      'pmap-for-pte@1', 'pmap-for-pte@0', 'guest-pte@1', 'pmap-for-pte@1', 'pmap-for-pte@0', 'guest-pte@0', 'pmap-final@1', 'pmap-final@0',
    ]);
    // The hart reads the same PTEs as the software composition: the guest's, each located through the pmap, then the pmap's.
    const guestSteps = mapped.steps.filter((s) => s.stage === 'guest');
    expect(reads.filter((r) => r.purpose === 'guest-pte').map((r) => [r.level, r.input, r.inputSpace, r.pteAddress, r.pteSpace, r.hostAddress, r.value]))
      .toEqual(guestSteps.map((s) => [s.level, 0x1000, 'guest-virtual', s.pteAddress, 'guest-physical', s.pteHostAddress, s.pte]));
    expect(reads.filter((r) => r.purpose === 'pmap-for-pte').map((r) => [r.input, r.pteAddress, r.value]))
      .toEqual(guestSteps.flatMap((s) => s.nested.map((n) => [s.pteAddress, n.pteAddress, n.pte])));
    expect(reads.filter((r) => r.purpose === 'pmap-final').map((r) => [r.input, r.inputSpace, r.pteAddress, r.pteSpace, r.value]))
      .toEqual(mapped.steps.filter((s) => s.stage === 'pmap').map((s) => [mapped.guestPhysical, 'guest-physical', s.pteAddress, 'host-physical', s.pte]));

    const tlb = await call<TlbInfo>('vm.tlb', { id: vm.id });
    expect(tlb.source).toBe('physical hart');
    const slots = unpackTlbEntries(tlb.entries);
    expect(slots.length).toBeGreaterThan(0);
    expect(slots.every((e) => e.virt)).toBe(true);
    expect(new Set(slots.map((e) => e.vmid)).size).toBe(1);
    // Each entry caches the whole two-stage translation: guest-virtual page → the host frame the walk reaches.
    expect(slots.some((x) => !x.bare)).toBe(true);
    for (const e of slots.filter((x) => !x.bare).slice(0, 16)) {
      const w = await walk(vm.id, e.vpn * 4096, e.exec ? 'fetch' : 'load', e.priv as 0 | 1);
      expect([e.vpn, w.fault, Math.floor(w.hostPhysical! / 4096)]).toEqual([e.vpn, 0, e.ppn]);
    }
  });

  it('bare: vm.walk against vm.translate, virtual reads and the engine\'s hart', async () => {
    const built = await call<AssembleResult>('asm.build', { path: 'paging/paging.S' });
    const line = SOURCE.split('\n').findIndex((l) => /li\s+t0, VA_UNMAPPED/.test(l)) + 1;
    const at = built.lineMap.find((e) => e.line === line)!.address;
    const m = await call<MachineStatus>('vm.create', { kernel: 'paging/paging.elf', name: 'stepped-bare' });
    await call('vm.runTo', { id: m.id, address: at });
    await until('the bare machine to reach the faulting load', () => latest.get(m.id)?.state === 'paused' && latest.get(m.id)?.pc === at);
    expect(latest.get(m.id)).toMatchObject({ priv: 1 });
    const oracle = engineOutcomes('bare', CASES);
    for (const [k, [va, access]] of CASES.entries()) {
      const w = await walk(m.id, va, access);
      expect({ va, access, fault: w.fault, pa: w.guestPhysical }).toEqual({ va, access, fault: oracle[k].fault, pa: oracle[k].pa });
      expect(w.steps.every((s) => s.stage === 'machine' && s.nested.length === 0)).toBe(true);
      if (oracle[k].fault === 0) expect(w.hostPhysical).toBe(oracle[k].pa);
    }
    const tr = await call<TranslationInfo>('vm.translate', { id: m.id, address: 0x2000 });
    const w = await walk(m.id, 0x2000);
    expect([w.guestPhysical, w.fault]).toEqual([tr.pa, tr.fault]);
    expect(w.steps.map((s) => [s.level, s.pteAddress, s.pte])).toEqual(tr.steps.map((s) => [s.level, s.pteAddress, s.pte]));
    const v = await call<MemoryBlock>('vm.readMemory', { id: m.id, address: 0x2000, length: 4, space: 'virtual' });
    expect([...v.bytes]).toEqual([0x02, 0x00, 0xfe, 0xca]);
    await call('vm.destroy', { id: m.id });
  });
});

describe('malformed inspector requests', () => {
  let vm: MachineStatus;
  let bare: MachineStatus;
  beforeAll(async () => {
    vm = await call<MachineStatus>('vm.create', { kernel: 'paging/paging.S', mode: 'trap', name: 'probe' });
    bare = await call<MachineStatus>('vm.create', { kernel: 'paging/paging.S', name: 'probe-bare' });
  });
  afterAll(async () => {
    for (const m of [vm, bare]) await call('vm.destroy', { id: m.id });
  });

  it.each([
    ['vm.pageTables', { id: 'm999' }, 'not-found'],
    ['vm.tablePage', { id: 'm999', table: 'pmap' }, 'not-found'],
    ['vm.walk', { id: 'm999', address: 0 }, 'not-found'],
    ['vm.tlb', { id: 'm999' }, 'not-found'],
    ['vm.pageTables', {}, 'bad-request'],
    ['vm.walk', { id: 'm1', address: -1 }, 'bad-request'],
    ['vm.walk', { id: 'm1', address: 2 ** 32 }, 'bad-request'],
    ['vm.walk', { id: 'm1', address: 0, access: 'execute' }, 'bad-request'],
    ['vm.walk', { id: 'm1', address: 0, priv: 2 }, 'bad-request'],
    ['vm.tablePage', { id: 'm1', table: 'pmap', index: 4096 }, 'bad-request'],
    ['vm.tablePage', { id: 'm1', table: 'pmap', index: 1.5 }, 'bad-request'],
    ['vm.tablePage', { id: 'm1', table: '' }, 'bad-request'],
    ['vm.tablePage', { id: 'm1', table: 'pmap', extra: 1 }, 'bad-request'],
  ])('%s %j is refused (%s)', async (method, params, code) => {
    await expect(lab.call(method, params)).rejects.toMatchObject({ code });
  });

  it('refuses tables the machine does not have, indices past the root and entries that are no table', async () => {
    // Before the guest turns paging on there is no guest table, only the pmap.
    expect((await pageTables(vm.id)).tables.map((t) => t.kind)).toEqual(['pmap']);
    await expect(tablePage(vm.id, 'guest')).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/no table 'guest'/) });
    await expect(tablePage(vm.id, 'shadow')).rejects.toMatchObject({ code: 'bad-request' });
    await expect(tablePage(bare.id, 'pmap')).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/no table 'pmap'/) });
    await expect(tablePage(bare.id, 'machine')).rejects.toMatchObject({ code: 'bad-request' });
    // The pmap's root has 4096 entries; entry 0 maps nothing, so it points to no level-0 table.
    await expect(tablePage(vm.id, 'pmap', 0)).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/root entry 0x0 of 'pmap' does not point to a level-0 table/) });
    expect((await tablePage(vm.id, 'pmap', 0x200)).level).toBe(0);
    // An Sv32 root has 1024 entries, and a megapage leaf is no table.
    await call('vm.run', { id: vm.id });
    await until('probe to halt', () => latest.get(vm.id)?.vmState === 'halted');
    await expect(tablePage(vm.id, 'guest', 1024)).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/1024 entries/) });
    await expect(tablePage(vm.id, 'guest', 0x200)).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/root entry 0x200 of 'guest' does not point/) });
    await expect(tablePage(vm.id, 'guest', 0x1)).rejects.toMatchObject({ code: 'bad-request' });
    // Nothing was changed by the refused requests.
    expect(await walk(vm.id, 0x1000, 'load', 1)).toMatchObject({ fault: 0, guestPhysical: RAM + 0xa2 * 4096 });
  });
});

describe('vm.statsTick', () => {
  it('ticks while a VM runs and once when it stops', async () => {
    await call('fs.write', { path: 'spin.S', text: '.globl _start\n_start:\n  addi a0, a0, 1\n  j _start\n' });
    const vm = await call<MachineStatus>('vm.create', { kernel: 'spin.S', mode: 'trap', name: 'ticker' });
    const mine = (): LabEvents['vm.statsTick'][] => ticks.filter((t) => t.id === vm.id);
    await call('vm.run', { id: vm.id });
    await until('two ticks while running', () => mine().length >= 2);
    const running = mine();
    expect(running[1].t - running[0].t).toBeGreaterThanOrEqual(900);
    expect(running[1].stats.instructions).toBeGreaterThan(running[0].stats.instructions);
    const paused = await call<MachineStatus>('vm.pause', { id: vm.id });
    await until('the tick at the stop', () => mine().some((t) => t.stats.instructions >= paused.instret));
    const n = mine().length;
    const last = mine()[n - 1];
    expect(last.stats.instructions).toBe((await call<{ instructions: number }>('vm.stats', { id: vm.id })).instructions);
    await new Promise((r) => setTimeout(r, 1500));
    expect(mine().length).toBe(n);
    await call('vm.destroy', { id: vm.id });
  });
});
