// Reverse execution puts a guest's disk back as well as its RAM (src/host/replay/checkpoints.ts,
// engine/disk/undo-log.ts). The disk lab's kernel counts its boots in sector 0: run to its end,
// rewound to the start of history and run again, it must find the disk as the first run did and
// print "boot 1" again, bare and in every VMM mode; a rewind to any checkpoint leaves the disk as
// it was at that checkpoint's step. Past half its byte bound the disk's log is cut and history starts
// at a later checkpoint, where the disk is as it was then.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleFile } from '../../src/cli/kernel-input';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { RawDisk } from '../../src/engine/disk/raw';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { VMM_RESERVE } from '../../src/engine/machine/memory-map';
import type { VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { machineDebugTarget, vmDebugTarget, type DebugTarget } from '../../src/host/gdb/debug-target';
import { Rewinder } from '../../src/host/replay/rewinder';
import { REPO_ROOT } from '../support/build';

const MEM = 32 * 1024 * 1024;
const DISK_BYTES = 64 * 1024;
const elf = assembleFile(join(REPO_ROOT, 'labs', 'disk', 'disk.S')).elf!;
// A disk that already counted 41 boots, so "back as it was" is not merely zeros.
const START = new Uint8Array(DISK_BYTES);
START.set([0x42, 0x4f, 0x4f, 0x54, 41, 0, 0, 0]);

interface Booted {
  target: DebugTarget;
  store: MemoryByteStore;
  output: () => string;
}

function boot(mode: 'bare' | VmMode): Booted {
  const store = new MemoryByteStore(START);
  const disks = [{ device: new RawDisk(store), legacy: true }];
  const out: number[] = [];
  const onUart = (b: number): void => { out.push(b); };
  const output = (): string => Buffer.from(out).toString('latin1');
  if (mode === 'bare') {
    const m = new Machine({ ramSize: MEM, disks, onUart });
    m.loadKernel(elf);
    return { target: machineDebugTarget(m), store, output };
  }
  const vmm = new Vmm({ hostRamSize: MEM + VMM_RESERVE, jit: true });
  const vm = vmm.createVm({ name: 'g', mode, kernel: elf, memSize: MEM, disks, onUart });
  return { target: vmDebugTarget(vmm, vm), store, output };
}

/** The first 8 bytes of the disk: the magic and the count. */
const sector0 = (b: Booted): number[] => Array.from(b.store.contents().subarray(0, 8));

/** Runs forward to the guest's end, a checkpoint due before each slice; returns the step of each slice's start. */
function runToEnd(b: Booted, rw: Rewinder, slice: number): number[] {
  const starts: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    rw.forward();
    starts.push(b.target.steps);
    const r = b.target.run(slice);
    if (r === StopReason.EXIT || b.target.exitCode !== undefined) return starts;
  }
  throw new Error('the guest did not end');
}

describe('reverse execution and disks', () => {
  for (const mode of ['bare', 'emulate', 'trap', 'bt', 'hw'] as const) {
    it(`rewinds the disk with the guest (${mode})`, () => {
      const b = boot(mode);
      const rw = new Rewinder(b.target, { interval: 100, maxBytes: 64 << 20, maxCount: 64 });
      runToEnd(b, rw, 100);
      expect(b.output()).toContain('boot 42');
      expect(sector0(b)).toEqual([0x42, 0x4f, 0x4f, 0x54, 42, 0, 0, 0]);
      expect(rw.history.list.length).toBeGreaterThan(2);

      // Back through every checkpoint, newest first: the disk holds the count the guest had read or
      // written by that step, and the count only ever goes back.
      const counts = [...rw.history.list].reverse().map((cp) => {
        rw.history.restore(cp);
        return b.store.contents()[4];
      });
      expect(counts[0]).toBe(42);
      expect(counts[counts.length - 1]).toBe(41);
      expect(counts.every((c, i) => i === 0 || c <= counts[i - 1])).toBe(true);

      // Back to the start of history and on again: the guest reads 41 again and prints "boot 42" once more.
      expect(rw.continueBack(new Set(), false, () => undefined)).toBeUndefined();
      expect(b.target.steps).toBe(0);
      expect(Buffer.compare(b.store.contents(), START)).toBe(0);
      const before = b.output().length;
      runToEnd(b, rw, 100);
      expect(b.output().slice(before)).toContain('boot 42');
      expect(sector0(b)).toEqual([0x42, 0x4f, 0x4f, 0x54, 42, 0, 0, 0]);
    });
  }

  it('cuts the disk log past half its bound: history starts later, with the disk as it was there', () => {
    const b = boot('trap');
    // 512 bytes of old contents (one sector) is past half of 1,000: at the next checkpoint, the first goes.
    const rw = new Rewinder(b.target, { interval: 100, maxBytes: 1_000, maxCount: 64 });
    runToEnd(b, rw, 100);
    const first = rw.history.list[0];
    expect(first.steps).toBeGreaterThan(0);
    expect(rw.history.diskBytes).toBeLessThanOrEqual(500);
    expect(rw.continueBack(new Set(), false, () => undefined)).toBeUndefined();
    expect(b.target.steps).toBe(first.steps);
    // History now starts after the count was written: the disk holds the new count there.
    expect(sector0(b)).toEqual([0x42, 0x4f, 0x4f, 0x54, 42, 0, 0, 0]);
    const before = b.output().length;
    runToEnd(b, rw, 100);
    expect(b.output().slice(before)).not.toContain('boot 43');
  });

  it('keeps no disk log in a snapshot of the state', () => {
    const b = boot('bare');
    const rw = new Rewinder(b.target, { interval: 100, maxBytes: 64 << 20, maxCount: 64 });
    runToEnd(b, rw, 100);
    const state = JSON.stringify(b.target.saveState());
    expect(state).not.toContain('undo');
  });
});
