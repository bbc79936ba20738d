// Checkpoints for reverse execution (src/host/replay/checkpoints.ts): a guest that rewrites 64 pages
// over and over is checkpointed every 1,000 steps under tight bounds; the store stays within its
// byte and count limits, keeps the start of history, shares pages that did not change, and every
// checkpoint it kept puts the machine back exactly: the state equals the one saved then, and running
// on from it ends in the uninterrupted run's state.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleFile } from '../../src/cli/kernel-input';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { ramPages, saveMachine } from '../../src/engine/snapshot/machine-state';
import { machineDebugTarget } from '../../src/host/gdb/debug-target';
import { CheckpointStore } from '../../src/host/replay/checkpoints';
import { stateDigest } from '../../src/host/replay/record-file';

const SOURCE = `
.equ FINISHER, 0x100000
.text
_start:
  li s0, 0
  la s1, buf
round:
  li t0, 0
fill:
  slli t1, t0, 12
  add t1, t1, s1
  sw s0, 0(t1)
  addi t0, t0, 1
  li t2, 64
  blt t0, t2, fill
  addi s0, s0, 1
  li t2, 200
  blt s0, t2, round
  li t0, FINISHER
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b
.bss
.balign 4096
buf: .zero 262144
`;

function boot(): Machine {
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-checkpoints-'));
  const src = join(dir, 'pages.S');
  writeFileSync(src, SOURCE);
  const asm = assembleFile(src);
  if (!asm.elf) throw new Error('pages.S does not assemble');
  const m = new Machine({ ramSize: 16 * 1024 * 1024 });
  m.loadKernel(asm.elf);
  return m;
}

const digest = (m: Machine): string => stateDigest({ machine: saveMachine(m), ram: ramPages(m.bus) });

describe('CheckpointStore', () => {
  it('stays within its bounds and rewinds exactly to every checkpoint it kept', () => {
    const whole = boot();
    expect(whole.run(1e7)).toBe(StopReason.EXIT);
    const end = digest(whole);
    const endSteps = whole.clockSteps;

    const m = boot();
    const limits = { interval: 1000, maxBytes: 1024 * 1024, maxCount: 8 };
    const store = new CheckpointStore(machineDebugTarget(m), limits);
    const saved = new Map<number, string>();
    while (m.exitCode === undefined) {
      store.maybeTake(0);
      if (store.list.some((c) => c.steps === m.clockSteps)) saved.set(m.clockSteps, digest(m));
      m.run(250);
      expect(store.bytes).toBeLessThanOrEqual(limits.maxBytes + 64 * 4096);
      expect(store.list.length).toBeLessThanOrEqual(limits.maxCount);
    }
    expect(m.clockSteps).toBe(endSteps);
    expect(store.taken).toBeGreaterThan(50);
    expect(store.dropped).toBe(store.taken - store.list.length);
    expect(store.list[0].steps).toBe(0);
    const steps = store.list.map((c) => c.steps);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    // Thinning keeps the spacing even: no gap is more than twice another.
    const gaps = steps.slice(1).map((s, i) => s - steps[i]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(4 * Math.min(...gaps));

    for (const cp of [...store.list].reverse()) {
      store.restore(cp);
      expect(m.clockSteps).toBe(cp.steps);
      expect(digest(m)).toBe(saved.get(cp.steps));
      expect(m.run(1e7)).toBe(StopReason.EXIT);
      expect(m.clockSteps).toBe(endSteps);
      expect(digest(m)).toBe(end);
    }
  });

  it('shares the pages that did not change since the checkpoint before', () => {
    const m = boot();
    const store = new CheckpointStore(machineDebugTarget(m), { interval: 1, maxBytes: 1 << 30, maxCount: 100 });
    m.run(5000);
    store.take(0);
    const first = store.bytes;
    expect(first).toBeGreaterThan(0);
    m.run(1);
    store.take(0);
    // One store instruction at most: one page more, the rest shared.
    expect(store.bytes - first).toBeLessThanOrEqual(4096);
    store.clear();
    expect(store.bytes).toBe(0);
    expect(store.list).toHaveLength(0);
  });
});
