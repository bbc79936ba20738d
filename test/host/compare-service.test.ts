// The compare view's and the TLB inspector's requests through the lab service (issue #7): compare.run
// on the traps lab in every mode (hand-counted exits, figures relative to bare, the same numbers as
// `vmlab compare --json`), one comparison at a time, cancel, malformed requests; vm.tlb on a paused
// VM and on a bare machine after the paging lab turned paging on; a trap-mode VM's last statistics
// tick against the comparison's trap row.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPARE_MODES } from '../../src/engine/vmm/compare';
import { TLB_MASK, TLB_SIZE } from '../../src/engine/mmu/tlb';
import { LabService } from '../../src/host/lab-service';
import { unpackTlbEntries, type CompareResult, type TlbEntryInfo, type TlbInfo, type WalkInfo } from '../../src/shared/inspect-api';
import type { LabEvents, MachineStatus, TranslationInfo, VmStatsInfo } from '../../src/shared/lab-api';
import { REPO_ROOT } from '../support/build';
import { recordEvents, until as waitUntil } from '../support/lab';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const LABS = join(REPO_ROOT, 'labs');
const EXPECTED = readFileSync(join(LABS, 'traps', 'expected-output.txt'), 'latin1');
/** The traps lab's user program makes exactly this many system calls (labs/traps/README.md). */
const SYSCALLS = 8;

let lab: LabService;
let root: string;
const consoleText = new Map<string, string>();
const ticks: LabEvents['vm.statsTick'][] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vmlab-compare-'));
  for (const name of ['traps', 'paging', 'hello']) cpSync(join(LABS, name), join(root, name), { recursive: true });
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { consoleText, ticks });
  await lab.call('fs.write', { path: 'spin.S', text: '.globl _start\n_start:\n  addi a0, a0, 1\n  j _start\n' });
});

afterAll(() => lab.dispose());

const until = (what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> => waitUntil(what, cond, ms);

const compare = (params: Record<string, unknown>): Promise<CompareResult> => lab.call('compare.run', params) as Promise<CompareResult>;
const tlb = (id: string): Promise<TlbInfo> => lab.call('vm.tlb', { id }) as Promise<TlbInfo>;

/** TlbInfo.entries unpacked: one object per valid slot. */
const entries = (info: TlbInfo): TlbEntryInfo[] => unpackTlbEntries(info.entries);

/** compare.run's result on the traps lab (the first test), for the statistics test to check against. */
let result: CompareResult;

describe('compare.run', () => {
  it('runs the traps lab bare, in emulate, trap and bt mode with the same output and exit code', async () => {
    result = await compare({ kernel: 'traps/traps.S', modes: ['bare', 'emulate', 'trap', 'bt'] });
    expect([result.kernel, result.memSize, result.maxSteps]).toEqual(['traps/traps.S', 16 << 20, 20_000_000]);
    expect(result.rows.map((r) => [r.mode, r.end, r.exitCode, r.sameOutput])).toEqual([
      ['bare', 'exit', 0, true], ['emulate', 'exit', 0, true], ['trap', 'exit', 0, true], ['bt', 'exit', 0, true],
    ]);
    for (const r of result.rows) expect(r.output).toBe(EXPECTED);
    const [bare, emulate, trap, bt] = result.rows;
    expect([emulate.instructions, trap.instructions, bt.instructions]).toEqual([bare.instructions, bare.instructions, bare.instructions]);
    // Bare and emulate never leave the guest; trap mode exits on every privileged instruction, MMIO
    // access and system call: at least the hand-counted sret per system call and the UART accesses.
    expect([bare.exits, emulate.exits]).toEqual([0, 0]);
    expect(trap.exits).toBeGreaterThanOrEqual(SYSCALLS + SYSCALLS + 2 * EXPECTED.length + 1);
    // Exactly the hand-counted events: each system call is one ecall reflected to the guest kernel
    // (300 cycles, docs/vmm.md), and each console byte one UART load of LSR and one store to THR, one
    // more store ending the run (4,000 cycles per device access).
    expect(trap.breakdown.reflection).toBe(SYSCALLS * 300);
    expect(trap.breakdown.devices).toBe((2 * EXPECTED.length + 1) * 4000);
    expect(trap.breakdown.pageWalks).toBe(0);
    // bt exits on the system calls, device accesses and shadow fills, never on the kernel's sret,
    // which are callouts: fewer exits than trap mode.
    expect(bt.exits).toBeGreaterThanOrEqual(SYSCALLS + 2 * EXPECTED.length + 1);
    expect(bt.exits).toBeLessThan(trap.exits - SYSCALLS);
    expect([bt.breakdown.reflection, bt.breakdown.devices]).toEqual([trap.breakdown.reflection, trap.breakdown.devices]);
    for (const r of result.rows) expect(Object.values(r.breakdown).reduce((a, b) => a + b, 0)).toBe(r.modeledCycles);
  }, 120_000);

  it('gives each figure relative to bare as row / bare', () => {
    const bare = result.rows[0];
    for (const r of result.rows) {
      expect(r.relative.instructions).toBe(r.instructions / bare.instructions);
      expect(r.relative.modeledCycles).toBe(r.modeledCycles / bare.modeledCycles);
      expect(r.relative.wallMs).toBe(bare.wallMs === 0 ? null : r.wallMs / bare.wallMs);
      // Bare makes no exits, so nothing is relative to its 0.
      expect(r.relative.exits).toBeNull();
    }
    expect(result.rows.map((r) => r.relative.instructions)).toEqual([1, 1, 1, 1]);
    for (const r of result.rows.slice(1)) expect(r.relative.modeledCycles!).toBeGreaterThan(1);
  });

  it('gives the same instructions, exits and modeled cycles as `vmlab compare --json` on the same kernel', () => {
    const cli = spawnSync(process.execPath, [VMLAB, 'compare', join(root, 'traps', 'traps.S'), '--json', '--mem', '16M', '--max-insns', '20000000', '--modes', 'bare,emulate,trap,bt'], { encoding: 'latin1', timeout: 120_000 });
    expect([cli.status, cli.stderr]).toEqual([0, '']);
    const rows = JSON.parse(cli.stdout) as { mode: string; end: string; exitCode: number | null; instructions: number; exits: number; modeledCycles: number; breakdown: Record<string, number>; outputBytes: number }[];
    expect(rows.map((r) => [r.mode, r.end, r.exitCode, r.instructions, r.exits, r.modeledCycles, r.breakdown, r.outputBytes])).toEqual(
      result.rows.map((r) => [r.mode, r.end, r.exitCode, r.instructions, r.exits, r.modeledCycles, r.breakdown, r.output.length]));
  }, 120_000);

  it('types the console input into every mode\'s guest', async () => {
    const r = await compare({ kernel: 'hello/hello.S', input: 'vmlab\n', maxSteps: 2_000_000 });
    const greeting = 'Hello from vmlab! Type something and I will echo it.\r\n';
    // hello echoes what it was given, then sleeps in wfi with nothing left to wake it: idle.
    expect(r.rows.map((row) => [row.mode, row.end, row.exitCode, row.output, row.sameOutput])).toEqual(
      COMPARE_MODES.map((mode) => [mode, 'idle', null, `${greeting}vmlab\n`, true]));
  }, 60_000);

  it('runs only the modes asked for and reports a run that did not finish', async () => {
    const r = await compare({ kernel: 'spin.S', modes: ['trap', 'bare'], maxSteps: 5000 });
    expect(r.rows.map((row) => [row.mode, row.end, row.exitCode, row.instructions])).toEqual([['trap', 'budget', null, 5000], ['bare', 'budget', null, 5000]]);
    // The figures are relative to bare even when bare is not the first row.
    expect(r.rows[0].relative.instructions).toBe(1);
  }, 60_000);

  it('refuses a second comparison while one runs, and cancel stops the first', async () => {
    // spin.elf exists after the last test, so the run starts without assembling.
    const long = compare({ kernel: 'spin.elf', maxSteps: 500_000_000 });
    const settled = long.then(() => 'finished', (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 500));
    await expect(compare({ kernel: 'traps/traps.S' })).rejects.toMatchObject({ code: 'bad-state', message: expect.stringMatching(/running already/) });
    const t0 = Date.now();
    expect(await lab.call('compare.cancel', {})).toEqual({});
    expect(await settled).toMatchObject({ code: 'bad-state', message: 'compare: cancelled' });
    expect(Date.now() - t0).toBeLessThan(5000);
    // Nothing left running: cancel again is a no-op, and the next comparison runs.
    expect(await lab.call('compare.cancel', {})).toEqual({});
    const next = await compare({ kernel: 'spin.elf', modes: ['bare'], maxSteps: 1000 });
    expect(next.rows.map((r) => [r.mode, r.instructions])).toEqual([['bare', 1000]]);
  }, 60_000);

  it.each([
    [{ kernel: 'traps/traps.S', modes: ['bare', 'trap', 'bare'] }, 'bad-request', /each mode at most once/],
    [{ kernel: 'traps/traps.S', modes: [] }, 'bad-request', /modes/],
    [{ kernel: 'traps/traps.S', modes: ['fast'] }, 'bad-request', /modes/],
    [{ kernel: 'traps/traps.S', maxSteps: 10 }, 'bad-request', /maxSteps/],
    [{ kernel: 'traps/traps.S', maxSteps: 500_000_001 }, 'bad-request', /maxSteps/],
    [{ kernel: 'traps/traps.S', maxSteps: 1.5e6 + 0.5 }, 'bad-request', /maxSteps/],
    [{ kernel: 'traps/traps.S', memSize: 1000 }, 'bad-request', /memSize/],
    [{ kernel: 'traps/traps.S', colour: 'red' }, 'bad-request', /colour/],
    [{ kernel: '../traps.S' }, 'outside-workspace', /outside the workspace/],
    [{ kernel: '/etc/passwd' }, 'outside-workspace', /not a path inside the workspace/],
    [{ kernel: 'outside.S' }, 'outside-workspace', /'outside\.S' lies outside the workspace/],
    [{ kernel: 'missing.S' }, 'not-found', /missing\.S/],
  ])('refuses %j', async (params, code, message) => {
    if (params.kernel === 'outside.S') {
      try {
        symlinkSync(join(LABS, 'traps', 'traps.S'), join(root, 'outside.S'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    await expect(compare(params)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });
});

describe('vm.tlb', () => {
  /**
   * Steps machine `id` until the paging lab's kernel has paging on and its TLB holds VA 0x2000 (the
   * lecture's second page; slot 2, until the kernel touches 0x80002000): paused in S-mode.
   */
  async function stepIntoPagedKernel(id: string): Promise<MachineStatus> {
    for (let i = 0; i < 100; i++) {
      const s = (await lab.call('vm.step', { id, count: 500 })) as MachineStatus;
      if (s.priv === 1 && entries(await tlb(id)).some((e) => e.vpn === 2 && !e.bare)) return s;
    }
    throw new Error('the paging kernel never used VA 0x2000');
  }

  it('on a paused emulate-mode VM: the counters are vm.stats\'s, the entries agree with vm.translate', async () => {
    const vm = (await lab.call('vm.create', { kernel: 'paging/paging.S', mode: 'emulate', name: 'paging-emu' })) as MachineStatus;
    const fresh = await tlb(vm.id);
    expect(fresh).toMatchObject({ source: 'virtual hart', holdsThisVm: true, hits: 0, misses: 0, size: TLB_SIZE });
    const s = await stepIntoPagedKernel(vm.id);
    expect(s.vmState).toBe('paused');
    const info = await tlb(vm.id);
    const stats = (await lab.call('vm.stats', { id: vm.id })) as VmStatsInfo;
    expect([info.hits, info.misses]).toEqual([stats.tlb.hits, stats.tlb.misses]);
    expect(info.misses).toBeGreaterThan(0);
    expect(info.hits).toBeGreaterThan(0);
    expect(info.note).toMatch(/guest-virtual page → guest-physical page/);
    // The kernel turned paging on with sfence.vma: a flush of translated entries for every address.
    expect(info.flushes).toBeGreaterThan(0);
    expect(info.flushHistory.some((f) => f.kind === 'translated' && f.va === undefined)).toBe(true);
    const all = entries(info);
    expect(all.length).toBeGreaterThan(0);
    for (const e of all) expect(e.slot).toBe(e.vpn & TLB_MASK);
    // The lecture's page: VA 0x2000 → GPA 0x800a3000, S-mode, a level-0 leaf with its PTE.
    const page = all.find((e) => e.vpn === 2 && !e.bare)!;
    expect(page).toMatchObject({ slot: 2, priv: 1, level: 0, pte: 0x20028cc7, ppn: 0x800a3, read: true, write: true, asid: 0 });
    const t = (await lab.call('vm.translate', { id: vm.id, address: 0x2000 })) as TranslationInfo;
    expect(t.pa).toBe(page.ppn * 4096);
    // Every translated entry agrees with the guest table for its page.
    for (const e of all.filter((x) => !x.bare && x.priv === 1 && x.level === 0)) {
      const w = (await lab.call('vm.translate', { id: vm.id, address: e.vpn * 4096 })) as TranslationInfo;
      expect(w.pa === undefined ? undefined : w.pa >>> 12).toBe(e.ppn);
    }
    await lab.call('vm.destroy', { id: vm.id });
  }, 60_000);

  it('on a paused trap-mode VM: the physical hart\'s TLB maps its pages to its host frames', async () => {
    const vm = (await lab.call('vm.create', { kernel: 'paging/paging.S', mode: 'trap', name: 'paging-trap', placement: 'scattered' })) as MachineStatus;
    await stepIntoPagedKernel(vm.id);
    const info = await tlb(vm.id);
    expect(info).toMatchObject({ source: 'physical hart', holdsThisVm: true });
    expect(info.note).toMatch(/filled from the shadow/);
    const page = entries(info).find((e) => e.vpn === 2 && !e.bare)!;
    const walk = (await lab.call('vm.walk', { id: vm.id, address: 0x2000 })) as WalkInfo;
    expect(walk.guestPhysical).toBe(0x800a3000);
    // Scattered placement: the host frame is not the guest page, and the TLB holds the host frame,
    // tagged with the privilege the physical hart ran the deprivileged guest kernel at: U.
    expect(walk.hostPhysical).not.toBe(0x800a3000);
    expect(page).toMatchObject({ slot: 2, priv: 0, level: 0, ppn: walk.hostPhysical! >>> 12 });
    // The counters are this VM's own: its hits are vm.stats's, and another VM's run on the same
    // physical hart adds nothing to them.
    const stats = (await lab.call('vm.stats', { id: vm.id })) as VmStatsInfo;
    expect(info.hits).toBe(stats.tlb.hits);
    expect(info.hits).toBeGreaterThan(0);
    expect(info.misses).toBeGreaterThan(0);
    const other = (await lab.call('vm.create', { kernel: 'paging/paging.S', mode: 'trap', name: 'paging-other' })) as MachineStatus;
    await lab.call('vm.step', { id: other.id, count: 20_000 });
    const after = await tlb(vm.id);
    expect([after.hits, after.misses]).toEqual([info.hits, info.misses]);
    expect(after.holdsThisVm).toBe(false);
    await lab.call('vm.destroy', { id: other.id });
    await lab.call('vm.destroy', { id: vm.id });
  }, 60_000);

  it('on a bare machine: the hart\'s TLB, its entries agreeing with vm.translate', async () => {
    const m = (await lab.call('vm.create', { kernel: 'paging/paging.S', mode: 'bare' })) as MachineStatus;
    await expect(lab.call('vm.stats', { id: m.id })).rejects.toMatchObject({ code: 'bad-request' });
    const s = await stepIntoPagedKernel(m.id);
    expect(s.state).toBe('paused');
    const info = await tlb(m.id);
    expect(info).toMatchObject({ source: 'machine', holdsThisVm: true, size: TLB_SIZE });
    expect(info.misses).toBeGreaterThan(0);
    const all = entries(info);
    const page = all.find((e) => e.vpn === 2 && !e.bare)!;
    expect(page).toMatchObject({ slot: 2, priv: 1, level: 0, pte: 0x20028cc7, ppn: 0x800a3 });
    const t = (await lab.call('vm.translate', { id: m.id, address: 0x2000 })) as TranslationInfo;
    expect(t.pa).toBe(page.ppn * 4096);
    // M-mode's boot ran with translation off: bare entries map a page to itself.
    for (const e of all.filter((x) => x.bare)) expect([e.ppn, e.pte]).toEqual([e.vpn, 0]);
    // The counters only grow while it runs on.
    await lab.call('vm.step', { id: m.id, count: 1000 });
    const later = await tlb(m.id);
    expect(later.hits + later.misses).toBeGreaterThan(info.hits + info.misses);
    await lab.call('vm.destroy', { id: m.id });
  }, 60_000);

  it('refuses an unknown machine and malformed parameters', async () => {
    await expect(lab.call('vm.tlb', { id: 'm999' })).rejects.toMatchObject({ code: 'not-found' });
    await expect(lab.call('vm.tlb', { id: '' })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(lab.call('vm.tlb', { id: 'm1', all: true })).rejects.toMatchObject({ code: 'bad-request' });
  });
});

describe('a VM of the compared kernel', () => {
  it('ends with 8 reflected ecalls in its last statistics tick, and the figures of the comparison\'s trap row', async () => {
    ticks.length = 0;
    const vm = (await lab.call('vm.create', { kernel: 'traps/traps.S', mode: 'trap', name: 'traps-trap' })) as MachineStatus;
    await lab.call('vm.run', { id: vm.id });
    await until('the traps VM to halt', async () => ((await lab.call('vm.list', {})) as MachineStatus[]).find((s) => s.id === vm.id)?.vmState === 'halted');
    await until('the stop tick', () => ticks.some((t) => t.id === vm.id && t.stats.reflected.exception8 === SYSCALLS));
    const mine = ticks.filter((t) => t.id === vm.id);
    const last = mine[mine.length - 1];
    expect(last.stats.reflected).toEqual({ exception8: SYSCALLS });
    expect(last.stats.exits.exception8).toBe(SYSCALLS);
    expect(last.stats).toEqual(await lab.call('vm.stats', { id: vm.id }));
    // The same 16 MiB VM as compare.run's trap row: the same deterministic figures.
    const row = result.rows.find((r) => r.mode === 'trap')!;
    expect([last.stats.instructions, last.stats.exitCount, last.stats.modeledCycles, last.stats.cycleBreakdown]).toEqual([row.instructions, row.exits, row.modeledCycles, row.breakdown]);
    for (let i = 1; i < mine.length; i++) expect(mine[i].t).toBeGreaterThanOrEqual(mine[i - 1].t);
    expect(consoleText.get(vm.id)).toBe(EXPECTED);
    await lab.call('vm.destroy', { id: vm.id });
  }, 60_000);
});
