// The dirty log that live migration reads (src/engine/vmm/dirty-log.ts): after every round, a copy
// of guest RAM that took only the pages the log named equals the guest's RAM, page for page, in
// every mode (the shadow tables in trap, bt and pv, the G-stage in hw, the bus in emulate and bare).
// Logging changes nothing the guest computes: the output, instructions and steps of a logged run
// equal an unlogged run's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { RawDisk } from '../../src/engine/disk/raw';
import type { DiskAttachment } from '../../src/engine/machine/board';
import { Machine } from '../../src/engine/machine/machine';
import type { PhysicalBus } from '../../src/engine/machine/bus';
import { startMachineDirtyLog, startVmDirtyLog, type DirtyLog } from '../../src/engine/vmm/dirty-log';
import { ALL_VM_MODES, type VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';

const MiB = 1024 * 1024;

function kernel(path: string): Uint8Array {
  const asm = assemble(readFileSync(join(REPO_ROOT, path), 'latin1'), { file: path });
  if (!asm.elf) throw new Error(`${path} does not assemble`);
  return asm.elf;
}

interface Guest {
  output: number[];
  bus: PhysicalBus;
  pages: number;
  steps(): number;
  instret(): number;
  run(steps: number): void;
  done(): boolean;
  log(): DirtyLog;
}

function guest(mode: 'bare' | VmMode, elf: Uint8Array, scattered = false, mem = 16 * MiB, disks: DiskAttachment[] = []): Guest {
  const output: number[] = [];
  if (mode === 'bare') {
    const m = new Machine({ ramSize: mem, onUart: (b) => output.push(b), disks });
    m.loadKernel(elf);
    return {
      output, bus: m.bus, pages: mem / 4096,
      steps: () => m.clockSteps, instret: () => m.hart.instret,
      run: (n) => { m.run(n); }, done: () => m.exitCode !== undefined,
      log: () => startMachineDirtyLog(m),
    };
  }
  const vmm = new Vmm({ hostRamSize: mem + 32 * MiB });
  const vm = vmm.createVm({ name: 'g', mode, kernel: elf, memSize: mem, onUart: (b) => output.push(b), placement: scattered ? 'scattered' : 'contiguous', disks });
  return {
    output, bus: vm.bus, pages: mem / 4096,
    steps: () => vm.machine.clockSteps, instret: () => vm.vhart.instret,
    run: (n) => { vmm.runVm(vm, n); }, done: () => vm.state !== 'running',
    log: () => startVmDirtyLog(vmm, vm),
  };
}

function page(bus: PhysicalBus, index: number, copy = true): Uint8Array {
  const off = bus.ramOffset(bus.ramBase + index * 4096, 4096);
  return copy ? bus.ram.slice(off, off + 4096) : bus.ram.subarray(off, off + 4096);
}

/**
 * Runs with the log read every `round` steps, for at most `rounds` rounds, then to the end; returns
 * how many pages each read named.
 */
function migrateInPlace(g: Guest, start: number, round: number, rounds: number, horizon = Infinity): number[] {
  while (g.steps() < start && !g.done()) g.run(start - g.steps());
  const log = g.log();
  const copy: Uint8Array[] = [];
  for (let i = 0; i < g.pages; i++) copy.push(page(g.bus, i));
  const counts: number[] = [];
  while (!g.done() && counts.length < rounds) {
    g.run(round);
    const dirty = log.take();
    counts.push(dirty.length);
    for (const i of dirty) copy[i] = page(g.bus, i);
    for (let i = 0; i < g.pages; i++) {
      if (Buffer.compare(page(g.bus, i, false), copy[i]) !== 0) {
        throw new Error(`page ${i} changed in round ${counts.length} and the log did not name it`);
      }
    }
  }
  log.stop();
  runTo(g, horizon);
  return counts;
}

/** Runs until the guest ends or its clock reaches `horizon`. */
function runTo(g: Guest, horizon: number): void {
  while (!g.done() && g.steps() < horizon) g.run(Math.min(1_000_000, horizon - g.steps()));
}

describe('dirty log', () => {
  const dirty = kernel('labs/migration/dirty.S');
  for (const mode of ['bare', ...ALL_VM_MODES.filter((m) => m !== 'pv')] as ('bare' | VmMode)[]) {
    test(`${mode}: every page written is logged, and the run is the unlogged run`, () => {
      const plain = guest(mode, dirty);
      while (!plain.done()) plain.run(1_000_000);
      const logged = guest(mode, dirty, mode !== 'bare');
      const counts = migrateInPlace(logged, 3_000_000, 400_000, 10);
      expect(Buffer.from(logged.output).toString()).toBe(Buffer.from(plain.output).toString());
      expect(logged.instret()).toBe(plain.instret());
      expect(logged.steps()).toBe(plain.steps());
      // The working set is 128 pages: a round of 400,000 steps writes most of it, never much more.
      expect(Math.max(...counts)).toBeGreaterThan(100);
      expect(Math.max(...counts)).toBeLessThan(140);
    });
  }

  test('pv: a kernel that changes its page tables by hypercalls is logged too', () => {
    const elf = kernel('labs/paging/paging-pv.S');
    const plain = guest('pv', elf, false, 32 * MiB);
    runTo(plain, 2_000_000);
    const logged = guest('pv', elf, true, 32 * MiB);
    migrateInPlace(logged, 5_000, 2_000, 20, 2_000_000);
    expect(Buffer.from(logged.output).toString()).toBe(Buffer.from(plain.output).toString());
    expect(logged.instret()).toBe(plain.instret());
    expect(logged.output.length).toBeGreaterThan(500);
  });

  test('trap, hw, emulate: a kernel with paging on (guest page tables, A/D bits, user pages) is logged', () => {
    const elf = kernel('labs/paging/paging.S');
    for (const mode of ['trap', 'hw', 'emulate'] as VmMode[]) {
      const plain = guest(mode, elf, false, 32 * MiB);
      runTo(plain, 2_000_000);
      const logged = guest(mode, elf, true, 32 * MiB);
      migrateInPlace(logged, 5_000, 2_000, 20, 2_000_000);
      expect(Buffer.from(logged.output).toString(), mode).toBe(Buffer.from(plain.output).toString());
      expect(logged.instret(), mode).toBe(plain.instret());
    }
  });

  test("bare, emulate, trap, hw: the disk's writes into RAM (data, status, the used ring) are logged", () => {
    const elf = kernel('labs/disk/disk.S');
    const disk = (): DiskAttachment[] => [{ device: new RawDisk(new MemoryByteStore(new Uint8Array(64 * 1024))), legacy: true }];
    for (const mode of ['bare', 'emulate', 'trap', 'hw'] as ('bare' | VmMode)[]) {
      const plain = guest(mode, elf, false, 32 * MiB, disk());
      runTo(plain, 2_000_000);
      const logged = guest(mode, elf, mode !== 'bare', 32 * MiB, disk());
      migrateInPlace(logged, 200, 200, 200, 2_000_000);
      expect(Buffer.from(logged.output).toString(), mode).toBe(Buffer.from(plain.output).toString());
      expect(Buffer.from(logged.output).toString(), mode).toContain('boot 1');
    }
  });
});
