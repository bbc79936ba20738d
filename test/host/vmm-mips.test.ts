// The MIPS figure of a VM in the lab's VMM session is measured over that VM's own interval: from when
// it was run, then from its last figure. Before, the interval began when the session last measured
// any VM, so a VM started after the VMM sat idle for a minute had the idle minute in its first figure
// (0.07 MIPS in the app where it then ran at 120).
import { describe, expect, it } from 'vitest';
import { VmmSession } from '../../src/host/vmm-session';
import type { VmWorkerStatus } from '../../src/host/vmm-protocol';
import { TICK_MS } from '../../src/host/machine-session';
import { gnuAssemble } from '../support/gnu-as';

const MiB = 1 << 20;
const SPIN = gnuAssemble(`
.globl _start
_start:
  addi a0, a0, 1
  j _start
`);

describe('VmmSession MIPS', () => {
  it('measures a VM started after an idle minute over its own interval', () => {
    // A clock that moves 25 ms at each reading: every slice ends after one run of the VMM, with a
    // budget that halves (each run seems slow), so the test runs few instructions.
    let clock = 1000;
    const queue: (() => void)[] = [];
    const reports: { key: string; at: number; status: VmWorkerStatus }[] = [];
    const s = new VmmSession({ uart: () => {}, status: (key, status) => reports.push({ key, at: clock, status }) }, () => (clock += 25), (fn) => queue.push(fn), { hostRamSize: 64 * MiB });
    const firstFigure = (key: string): { at: number; status: VmWorkerStatus } => {
      for (let i = 0; i < 1000; i++) {
        const r = reports.find((x) => x.key === key && x.status.state === 'running' && x.status.mips > 0);
        if (r) return r;
        queue.shift()?.();
      }
      throw new Error(`no MIPS figure for ${key}`);
    };

    s.create('a', 'a', 'emulate', 16 * MiB, 'contiguous', SPIN, undefined);
    const aFrom = clock;
    s.run('a');
    const a = firstFigure('a');
    s.pause('a');
    for (let i = 0; i < 100 && queue.length > 0; i++) queue.shift()!();
    expect(queue).toEqual([]);
    clock += 60_000;

    s.create('b', 'b', 'emulate', 16 * MiB, 'contiguous', SPIN, undefined);
    const bFrom = clock;
    s.run('b');
    const b = firstFigure('b');
    // Each first figure is the instructions since the run over at most the time since the run.
    for (const [r, from] of [[a, aFrom], [b, bFrom]] as const) {
      expect(r.at - from).toBeGreaterThanOrEqual(TICK_MS);
      expect(r.status.mips).toBeGreaterThanOrEqual(r.status.instret / ((r.at - from) * 1000));
    }
    expect(b.status.mips).toBeGreaterThan(a.status.mips / 10);
  });
});
