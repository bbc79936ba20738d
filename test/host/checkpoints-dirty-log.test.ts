// Checkpoints with a dirty log (src/host/replay/checkpoints.ts, as the app's sessions keep them):
// bare and in every VM mode, a guest that writes a working set of pages is checkpointed as it runs,
// and a page only a device writes (DMA through the board's guest memory, as virtio-blk reads land)
// appears between two checkpoints. Each checkpoint holds exactly the RAM of its moment, rewinding to
// each (backwards, then forwards again) puts that RAM back, and a run on from the first ends where an
// uninterrupted run ends. The store reads only the pages written since the checkpoint before, never
// all of RAM: a few hundred pages per checkpoint of a 4,096-page (16 MiB) guest. When a live
// migration's log takes the bus over, the store reads all of RAM instead (and stays exact) without
// disturbing that log, and logs again once the migration's log ends. A reboot the guest asks for
// (RAM cleared and the kernel loaded again, which no log sees) makes the store read all of RAM. The
// app's VM history logs from the VM's build, so its first checkpoint reads only the boot regions.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import type { GuestMemory } from '../../src/engine/devices/guest-memory';
import type { PhysicalBus } from '../../src/engine/machine/bus';
import { Machine } from '../../src/engine/machine/machine';
import { startMachineDirtyLog, startVmDirtyLog, type DirtyLog } from '../../src/engine/vmm/dirty-log';
import { ALL_VM_MODES, type VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { machineDebugTarget, vmDebugTarget, type DebugTarget } from '../../src/host/gdb/debug-target';
import { CheckpointStore, type Checkpoint } from '../../src/host/replay/checkpoints';
import { VmHistory } from '../../src/host/vm-history';
import { REPO_ROOT } from '../support/build';

const MiB = 1024 * 1024;
const ROUND = 300_000;
const ROUNDS = 7;

function kernel(path: string): Uint8Array {
  const asm = assemble(readFileSync(join(REPO_ROOT, path), 'latin1'), { file: path });
  if (!asm.elf) throw new Error(`${path} does not assemble`);
  return asm.elf;
}

interface Guest {
  target: DebugTarget;
  bus: PhysicalBus;
  dma: GuestMemory;
  output: number[];
  run(steps: number): void;
  /** Starts another dirty log on the guest, as a live migration does. */
  migrationLog(): DirtyLog;
}

function guest(mode: 'bare' | VmMode, elf: Uint8Array, mem: number): Guest {
  const output: number[] = [];
  if (mode === 'bare') {
    const m = new Machine({ ramSize: mem, onUart: (b) => output.push(b) });
    m.loadKernel(elf);
    return { target: machineDebugTarget(m), bus: m.bus, dma: m.board.dma, output, run: (n) => { m.run(n); }, migrationLog: () => startMachineDirtyLog(m) };
  }
  const vmm = new Vmm({ hostRamSize: mem + 32 * MiB });
  const vm = vmm.createVm({ name: 'g', mode, kernel: elf, memSize: mem, onUart: (b) => output.push(b), placement: 'scattered' });
  return { target: vmDebugTarget(vmm, vm), bus: vm.bus, dma: vm.machine.board.dma, output, run: (n) => { vmm.runVm(vm, n); }, migrationLog: () => startVmDirtyLog(vmm, vm) };
}

/** Runs to step `goal` (or the guest's end). */
function runTo(g: Guest, goal: number): void {
  for (let i = 0; i < 1000 && g.target.steps < goal && g.target.exitCode === undefined; i++) g.run(goal - g.target.steps);
}

function ramDigest(bus: PhysicalBus): string {
  const h = createHash('sha256');
  for (let i = 0; i < bus.ramSize / 4096; i++) {
    const off = bus.ramOffset(bus.ramBase + i * 4096, 4096);
    h.update(bus.ram.subarray(off, off + 4096));
  }
  return h.digest('hex');
}

/** The pages where a checkpoint and RAM now differ. */
function differing(bus: PhysicalBus, cp: Checkpoint): number[] {
  const zero = new Uint8Array(4096);
  const out: number[] = [];
  for (let i = 0; i < bus.ramSize / 4096; i++) {
    const off = bus.ramOffset(bus.ramBase + i * 4096, 4096);
    if (Buffer.compare(bus.ram.subarray(off, off + 4096), cp.pages[i] ?? zero) !== 0) out.push(i);
  }
  return out;
}

describe('checkpoints with a dirty log', () => {
  const dirty = kernel('labs/migration/dirty.S');
  const pv = kernel('labs/paging/paging-pv.S');
  for (const mode of ['bare', ...ALL_VM_MODES] as ('bare' | VmMode)[]) {
    test(`${mode}: read only what changed, and rewind exactly, device writes included`, () => {
      const elf = mode === 'pv' ? pv : dirty;
      const mem = mode === 'pv' ? 32 * MiB : 16 * MiB;
      const horizon = ROUND * ROUNDS;
      const plain = guest(mode, elf, mem);
      runTo(plain, horizon);

      const g = guest(mode, elf, mem);
      const pageCount = mem / 4096;
      const store = new CheckpointStore(g.target, { interval: 1, maxBytes: 1 << 30, maxCount: 100 }, { dirtyLog: true, fresh: true });
      const saved = new Map<Checkpoint, string>();
      // A page the guest never uses, written only by a device (DMA) between the third and fourth checkpoint.
      const dmaPage = pageCount - 64;
      const dmaBytes = new Uint8Array(4096).map((_, i) => (i * 7 + 1) & 0xff);
      for (let k = 0; k < ROUNDS; k++) {
        const cp = store.take(0);
        expect(differing(g.bus, cp), `checkpoint ${k}`).toEqual([]);
        saved.set(cp, ramDigest(g.bus));
        runTo(g, (k + 1) * ROUND);
        if (k === 2) expect(g.dma.write(g.bus.ramBase + dmaPage * 4096, dmaBytes)).toBe(true);
      }
      const list = [...store.list];
      expect(list).toHaveLength(ROUNDS);
      // Without the log every checkpoint reads all of RAM (ROUNDS * pageCount pages).
      expect(store.pagesRead).toBeGreaterThan(0);
      expect(store.pagesRead).toBeLessThan(ROUNDS * 300);
      const dmaNow = (): Uint8Array => {
        const off = g.bus.ramOffset(g.bus.ramBase + dmaPage * 4096, 4096);
        return g.bus.ram.slice(off, off + 4096);
      };
      for (const cp of [...list.slice().reverse(), ...list.slice(1)]) {
        store.restore(cp);
        expect(g.target.steps).toBe(cp.steps);
        expect(ramDigest(g.bus), `RAM after rewinding to step ${cp.steps}`).toBe(saved.get(cp));
        expect(Buffer.compare(dmaNow(), cp.steps > 3 * ROUND - 1 ? dmaBytes : new Uint8Array(4096)), `the DMA page at step ${cp.steps}`).toBe(0);
      }
      // Rewinds read what differs, not all of RAM either.
      expect(store.pagesRead).toBeLessThan(ROUNDS * 300 + (2 * ROUNDS) * 300);

      store.restore(list[0]);
      const before = g.output.length;
      runTo(g, horizon);
      expect(g.target.steps).toBe(plain.target.steps);
      expect(ramDigest(g.bus)).toBe(ramDigest(plain.bus));
      expect(Buffer.from(g.output.slice(before)).toString()).toBe(Buffer.from(plain.output).toString());
      store.dispose();
      expect(g.bus.writeLog).toBeUndefined();
    }, 60_000);
  }

  for (const mode of ['bare', 'trap', 'hw'] as ('bare' | VmMode)[]) {
    test(`${mode}: a migration's log taking the bus over makes the store read all of RAM, and leaves the migration's log alone`, () => {
      const g = guest(mode, dirty, 16 * MiB);
      const store = new CheckpointStore(g.target, { interval: 1, maxBytes: 1 << 30, maxCount: 100 }, { dirtyLog: true, fresh: true });
      const ours = g.bus.writeLog;
      expect(ours).toBeDefined();
      store.take(0);
      runTo(g, ROUND);
      const migration = g.migrationLog();
      const theirs = g.bus.writeLog;
      expect(theirs).not.toBe(ours);
      runTo(g, 2 * ROUND);
      let read = store.pagesRead;
      let cp = store.take(0);
      expect(differing(g.bus, cp)).toEqual([]);
      expect(store.pagesRead - read).toBe(4096);
      expect(g.bus.writeLog).toBe(theirs);
      // The migration still sees every page: what it logged covers what changed since it started.
      migration.take();
      runTo(g, 3 * ROUND);
      migration.stop();
      runTo(g, 4 * ROUND);
      read = store.pagesRead;
      cp = store.take(0);
      expect(differing(g.bus, cp)).toEqual([]);
      expect(store.pagesRead - read).toBe(4096);
      // With the bus free again the store logs once more, and reads little.
      expect(g.bus.writeLog).toBeDefined();
      runTo(g, 5 * ROUND);
      read = store.pagesRead;
      cp = store.take(0);
      expect(differing(g.bus, cp)).toEqual([]);
      expect(store.pagesRead - read).toBeLessThan(300);
      for (const c of [...store.list].reverse()) {
        store.restore(c);
        expect(g.target.steps).toBe(c.steps);
        expect(differing(g.bus, c)).toEqual([]);
      }
    }, 60_000);
  }

  for (const mode of ['bare', 'emulate', 'trap', 'bt', 'pv', 'hw'] as ('bare' | VmMode)[]) {
    test(`${mode}: a reboot the guest asks for (RAM cleared and loaded again behind the log) is seen`, () => {
      const g = guest(mode, dirty, 16 * MiB);
      const store = new CheckpointStore(g.target, { interval: 1, maxBytes: 1 << 30, maxCount: 100 }, { dirtyLog: true, fresh: true });
      runTo(g, ROUND);
      store.take(0);
      const page = 4096 - 64;
      expect(g.dma.write(g.bus.ramBase + page * 4096, new Uint8Array(4096).fill(0x5a))).toBe(true);
      runTo(g, 2 * ROUND);
      const before = store.take(0);
      expect(before.pages[page]?.[0]).toBe(0x5a);
      // The SiFive test finisher's reset: the next run reboots the guest from its kernel.
      g.bus.store(0x100000, 4, 0x7777);
      g.run(1000);
      g.run(50_000);
      const after = store.take(0);
      expect(after.pages[page]).toBeUndefined();
      expect(differing(g.bus, after)).toEqual([]);
      store.restore(before);
      expect(differing(g.bus, before)).toEqual([]);
      store.restore(after);
      expect(differing(g.bus, after)).toEqual([]);
    }, 60_000);
  }

  test("the app's VM history logs from the VM's build: its first checkpoint reads the boot regions, not all of RAM", () => {
    const vmm = new Vmm({ hostRamSize: 160 * MiB });
    const vm = vmm.createVm({ name: 'g', mode: 'trap', kernel: dirty, memSize: 128 * MiB });
    const history = new VmHistory(vmm, vm, true);
    history.forward();
    const first = history.checkpoints;
    expect(first.taken).toBe(1);
    // The kernel (its 128-page working set in .bss included) and the device tree, of 32,768 pages.
    expect(first.pagesRead).toBeGreaterThan(128);
    expect(first.pagesRead).toBeLessThan(160);
    expect(first.pagesCopied).toBeGreaterThan(0);
    expect(first.pagesCopied).toBeLessThanOrEqual(first.pagesRead);
    history.dispose();
    expect(vm.bus.writeLog).toBeUndefined();
  });
});
