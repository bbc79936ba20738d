// The translation-cache inspector (vm.translations, vm.translationBlock) through the lab service with
// the real VMM worker: on a bt-mode VM of the traps lab, every block's address and guest code are
// the kernel's own bytes in guest RAM, its hits add up to the statistics counters and its callouts
// bound them; on
// the project's self-modifying kernel (test/guests/vmm/self-modify.S) the invalidation history names
// the stores into f and the block each one dropped; other machines and bad keys are refused.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine } from '../../src/engine/machine/machine';
import { LabService } from '../../src/host/lab-service';
import { unpackTranslatedBlocks, type TranslatedBlockDetail, type TranslationsInfo } from '../../src/shared/inspect-api';
import type { MachineStatus, MemoryBlock, VmStatsInfo } from '../../src/shared/lab-api';
import { GUEST_DIR, REPO_ROOT } from '../support/build';
import { recordEvents, until } from '../support/lab';

let lab: LabService;
const latest = new Map<string, MachineStatus>();
const consoleText = new Map<string, string>();

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'vmlab-bt-view-'));
  cpSync(join(REPO_ROOT, 'labs', 'traps'), join(root, 'traps'), { recursive: true });
  cpSync(join(GUEST_DIR, 'vmm', 'self-modify.S'), join(root, 'self-modify.S'));
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { latest, consoleText });
});

afterAll(() => lab.dispose());

const call = <T>(method: string, params: Record<string, unknown>): Promise<T> => lab.call(method, params) as Promise<T>;

/** Creates a VM of `kernel` in `mode` and runs it to its exit. */
async function ranToExit(kernel: string, mode: string, name: string): Promise<MachineStatus> {
  const vm = await call<MachineStatus>('vm.create', { kernel, mode, name });
  await call('vm.run', { id: vm.id });
  await until(`${name} to exit`, () => latest.get(vm.id)?.state === 'exited', 60_000);
  return vm;
}

describe('vm.translations on a bt VM', () => {
  let vm: MachineStatus;
  let info: TranslationsInfo;
  let stats: VmStatsInfo;
  beforeAll(async () => {
    vm = await ranToExit('traps/traps.S', 'bt', 'traps-bt');
    info = await call<TranslationsInfo>('vm.translations', { id: vm.id });
    stats = await call<VmStatsInfo>('vm.stats', { id: vm.id });
  });

  it('lists every translated block once, keyed by its guest-physical address and virtual privilege, and its code is the kernel\'s', async () => {
    const blocks = unpackTranslatedBlocks(info.blocks);
    // The traps lab never rewrites its code: every block translated is still in the cache.
    expect(info.invalidations).toEqual([]);
    expect(blocks.length).toBe(stats.translation.blocks);
    expect(new Set(blocks.map((b) => `${b.gpa}:${b.priv}`)).size).toBe(blocks.length);
    expect(blocks.map((b) => b.gpa)).toEqual([...blocks.map((b) => b.gpa)].sort((a, b) => a - b));
    // The kernel runs in virtual M- and S-mode, paging off: guest-virtual = guest-physical.
    expect(new Set(blocks.map((b) => b.priv))).toEqual(new Set([1, 3]));
    const image = assemble(readFileSync(join(REPO_ROOT, 'labs', 'traps', 'traps.S'), 'latin1'), { file: 'traps.S' });
    const start = Math.min(...image.symbols.map((s) => s.address));
    for (const b of blocks) {
      expect(b.pc).toBe(b.gpa);
      expect(b.gpa).toBeGreaterThanOrEqual(start);
      const detail = await call<TranslatedBlockDetail>('vm.translationBlock', { id: vm.id, gpa: b.gpa, priv: b.priv });
      expect(detail.insns.length).toBe(b.length);
      const mem = await call<MemoryBlock>('vm.readMemory', { id: vm.id, address: b.gpa, length: b.bytes, space: 'guest-physical' });
      const hex = Buffer.from(mem.bytes).toString('hex');
      // Each instruction's encoding is what guest RAM holds at its address (little-endian).
      let off = 0;
      for (const i of detail.insns) {
        const size = i.hex.length / 2;
        expect(i.pc).toBe(b.gpa + off);
        expect(hex.slice(off * 2, (off + size) * 2)).toBe(Buffer.from(i.hex, 'hex').reverse().toString('hex'));
        expect(i.text).not.toBe('');
        off += size;
      }
      expect(off).toBe(b.bytes);
      // Before its last instruction a block holds only callouts it goes on after (CSR accesses and
      // rdpriv); the block records the last callout it holds, and each is a call of the VMM.
      const held = detail.insns.filter((i) => i.callout !== undefined);
      expect(held.slice(0, -1).every((i) => i.callout === 'csr' || i.callout === 'rdpriv')).toBe(true);
      expect(detail.insns.slice(0, -1).every((i) => i.callout === undefined || i.callout === 'csr' || i.callout === 'rdpriv')).toBe(true);
      expect(held.at(-1)?.callout).toBe(b.callout < 0 ? undefined : info.calloutNames[b.callout]);
      for (const i of held) expect(i.code).toContain(`c.callout(${info.calloutNames.indexOf(i.callout!)}, `);
      expect(detail.source).toContain(detail.insns[0].code);
    }
  });

  it('hits add up to the statistics: translations, cache hits and chained jumps; callouts by kind', async () => {
    const blocks = unpackTranslatedBlocks(info.blocks);
    const t = stats.translation;
    // Each dispatch of a block counts one hit: its translation, a lookup that found it, or a chained jump.
    expect(blocks.reduce((a, b) => a + b.hits, 0)).toBe(t.blocks + t.hits + t.chainedJumps);
    // A block runs each callout it holds at most once a dispatch (a dispatch at the end of a slice
    // runs only the block's first instruction; a block leaves at a callout that changed the guest's
    // context), so per kind the callouts are at most the hits of the blocks holding that kind, times
    // how many they hold, and every kind counted has such a block.
    const byKind: Record<string, number> = {};
    for (const b of blocks.filter((x) => x.callout >= 0)) {
      const detail = await call<TranslatedBlockDetail>('vm.translationBlock', { id: vm.id, gpa: b.gpa, priv: b.priv });
      for (const i of detail.insns) if (i.callout !== undefined) byKind[i.callout] = (byKind[i.callout] ?? 0) + b.hits;
    }
    expect(Object.keys(byKind).sort()).toEqual(Object.keys(t.calloutKinds).sort());
    expect(Object.keys(byKind)).toEqual(expect.arrayContaining(['csr', 'mret', 'sret']));
    for (const [kind, n] of Object.entries(t.calloutKinds)) expect(n).toBeLessThanOrEqual(byKind[kind]);
    expect(t.callouts).toBe(Object.values(t.calloutKinds).reduce((a, b) => a + b, 0));
    // Chains point at live blocks.
    const starts = new Set(blocks.map((b) => b.gpa));
    const chained = blocks.filter((b) => b.chain >= 0);
    expect(chained.length).toBeGreaterThan(0);
    for (const b of chained) expect(starts.has(b.chain)).toBe(true);
    // Every block lies on a page the VMM write-protects as code.
    expect(new Set(blocks.map((b) => Math.floor(b.gpa / 4096)))).toEqual(new Set(info.codePages));
  });

  it('refuses a key with no block, and machines that are not bt VMs', async () => {
    await expect(lab.call('vm.translationBlock', { id: vm.id, gpa: 0x80000002, priv: 1 })).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/^gpa: no translated block at guest-physical 0x80000002/) });
    const trap = await call<MachineStatus>('vm.create', { kernel: 'traps/traps.S', mode: 'trap', name: 'traps-trap' });
    const bare = await call<MachineStatus>('vm.create', { kernel: 'traps/traps.S', name: 'traps-bare' });
    await expect(lab.call('vm.translations', { id: trap.id })).rejects.toMatchObject({ code: 'bad-request', message: 'id: only a bt-mode VM has a translation cache (this machine is a trap-mode VM)' });
    await expect(lab.call('vm.translations', { id: bare.id })).rejects.toMatchObject({ code: 'bad-request', message: 'id: only a bt-mode VM has a translation cache (this machine is bare)' });
    for (const m of [trap, bare]) await call('vm.destroy', { id: m.id });
  });

  it.each([
    ['vm.translations', { id: 'm999' }, 'not-found'],
    ['vm.translations', {}, 'bad-request'],
    ['vm.translations', { id: 'm1', all: true }, 'bad-request'],
    ['vm.translationBlock', { id: 'm1', gpa: 0x80000000, priv: 0 }, 'bad-request'],
    ['vm.translationBlock', { id: 'm1', gpa: 2 ** 32, priv: 1 }, 'bad-request'],
    ['vm.translationBlock', { id: 'm1', gpa: 0x80000000 }, 'bad-request'],
  ])('%s %j is refused (%s)', async (method, params, code) => {
    await expect(lab.call(method, params)).rejects.toMatchObject({ code });
  });
});

describe('the invalidation history of a self-modifying kernel', () => {
  it('names each store into f, the block it dropped and when; the kernel runs the new code', async () => {
    const vm = await ranToExit('self-modify.S', 'bt', 'smc-bt');
    expect(consoleText.get(vm.id)).toBe('11123\n');
    const info = await call<TranslationsInfo>('vm.translations', { id: vm.id });
    const stats = await call<VmStatsInfo>('vm.stats', { id: vm.id });
    const image = assemble(readFileSync(join(GUEST_DIR, 'vmm', 'self-modify.S'), 'latin1'), { file: 'self-modify.S' });
    const sym = (n: string): number => image.symbols.find((s) => s.name === n)!.address >>> 0;
    const f = sym('f');
    // Each store names its own pc; the kernel takes no trap, so its clock counts instructions only.
    expect(info.invalidations.map((x) => ({ cause: x.cause, pc: x.pc, gpa: x.gpa, length: x.length, blocks: x.blocks }))).toEqual([
      { cause: 'store', pc: sym('store1'), gpa: f, length: 4, blocks: [f] },
      { cause: 'store', pc: sym('store2'), gpa: f, length: 4, blocks: [f] },
    ]);
    expect(stats.translation.invalidations).toBe(2);
    expect(info.step).toBe(stats.instructions);
    // The store retired when it invalidated: the guest's instructions then, counted from a bare run
    // of the same kernel stopped right after each store.
    for (const [k, label] of ['store1', 'store2'].entries()) {
      const m = new Machine({ ramSize: 16 << 20 });
      m.loadKernel(image.elf!);
      let n = 0;
      while (m.hart.pcU !== sym(label) && n++ < 10_000) m.run(1);
      m.run(1);
      expect([info.invalidations[k].instret, info.invalidations[k].step]).toEqual([m.hart.instret, m.clockSteps]);
    }
    // f is in the cache again, translated from its last code: li a0, 3.
    const detail = await call<TranslatedBlockDetail>('vm.translationBlock', { id: vm.id, gpa: f, priv: 3 });
    expect(detail.insns.map((i) => i.text)).toEqual(['li a0,3', 'ret']);
    expect(detail.hits).toBe(1);
    // mhartid, mscratch written and read: three CSR callouts.
    expect(stats.translation.calloutKinds).toEqual({ csr: 3 });
  });
});
