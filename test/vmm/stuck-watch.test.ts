// The bare machine's stuck rule (StuckWatch, engine/vmm/stuck.ts), which `vmlab run` and the app
// both apply: judged at the edges of STUCK_WINDOW-step windows of the guest's clock, so where the
// runs between the edges end changes nothing. Driven here by a model guest, without a machine.
import { describe, expect, it } from 'vitest';
import { STUCK_STEPS, STUCK_WINDOW, StuckWatch, stuckReason } from '../../src/engine/vmm/stuck';

const W = STUCK_WINDOW;

/**
 * Runs a model guest that retires its last instruction at step `lastRetire` and traps from then on,
 * from `from` in runs of the lengths `runs` cycles through (each cut at the window's end as the
 * run loops do). Returns the clock at which the watch calls it stuck, and its reason.
 */
function stuckAt(runs: number[], lastRetire: number, from = 0, limit = 10 * W): { at: number; reason: string } | undefined {
  const watch = new StuckWatch();
  let clock = from;
  for (let i = 0; clock < limit; i++) {
    const to = clock + watch.budget(clock, runs[i % runs.length]);
    const reason = watch.ran(clock, to, clock < lastRetire, 0);
    clock = to;
    if (reason !== undefined) return { at: clock, reason };
  }
  return undefined;
}

describe('StuckWatch', () => {
  it('cuts a run at the end of the window it starts in', () => {
    const watch = new StuckWatch();
    expect(watch.budget(0, 1 << 22)).toBe(W);
    expect(watch.budget(W - 1000, 1 << 22)).toBe(1000);
    expect(watch.budget(W - 1000, 300)).toBe(300);
    expect(watch.budget(3 * W, 65536)).toBe(65536);
  });

  it('calls a guest stuck at the end of its first whole window without progress, however the runs are cut', () => {
    // Progress up to step 10 (the guest's first instructions), traps after: the window [W, 2W) is the first stuck one.
    const expected = { at: 2 * W, reason: stuckReason(W, 0) };
    expect(stuckAt([W], 10)).toEqual(expected);
    expect(stuckAt([65536], 10)).toEqual(expected);
    expect(stuckAt([1, 99_999, 1 << 22, 12_345, 3_000_001], 10)).toEqual(expected);
    // The last progress in the first window's last run: the next window is still the stuck one.
    expect(stuckAt([W / 2], W - 1)).toEqual(expected);
    // Progress into the second window moves the stop to the third window's end.
    expect(stuckAt([65536], W + 1)).toEqual({ at: 3 * W, reason: stuckReason(W, 0) });
    expect(W).toBeGreaterThanOrEqual(STUCK_STEPS);
  });

  it('leaves a window it entered mid-way unjudged (a run continued from a snapshot, steps taken by hand)', () => {
    // Stuck from the start: seen whole, the first window ends it; entered at step 1,000,000, the second.
    expect(stuckAt([65536], 0)).toEqual({ at: W, reason: stuckReason(W, 0) });
    expect(stuckAt([65536], 0, 1_000_000)).toEqual({ at: 2 * W, reason: stuckReason(W, 0) });
    const watch = new StuckWatch();
    expect(watch.ran(0, W, false, 0)).toBe(stuckReason(W, 0));
    // Continued without a gap: the stuck count goes on.
    expect(watch.ran(W, 2 * W, false, 0)).toBe(stuckReason(2 * W, 0));
    // One step unseen (a single step by hand): the window [2W, 3W) is not judged, [3W, 4W) is.
    expect(watch.ran(2 * W + 1, 3 * W, false, 4)).toBeUndefined();
    expect(watch.ran(3 * W, 4 * W, false, 4)).toBe(stuckReason(W, 4));
  });

  it('counts a run that progressed (retired, waited in WFI, stopped early) for its whole window', () => {
    const watch = new StuckWatch();
    expect(watch.ran(0, 100, false, 0)).toBeUndefined();
    expect(watch.ran(100, 200, true, 0)).toBeUndefined();
    expect(watch.ran(200, W, false, 0)).toBeUndefined();
    expect(watch.ran(W, 2 * W, false, 0)).toBe(stuckReason(W, 0));
    // A run that passes a window's edge with progress: the window it ends in is not judged whole.
    const over = new StuckWatch();
    expect(over.ran(0, W + 10, true, 0)).toBeUndefined();
    expect(over.ran(W + 10, 2 * W, false, 0)).toBeUndefined();
    expect(over.ran(2 * W, 3 * W, false, 0)).toBe(stuckReason(W, 0));
  });

  it('starts again after a reset sends the clock back', () => {
    // The guest reboots inside a run (clock W + 10 before it, 500 after): the window it lands in is not whole.
    const reboot = new StuckWatch();
    expect(reboot.ran(0, W + 10, true, 0)).toBeUndefined();
    expect(reboot.ran(W + 10, 500, true, 0)).toBeUndefined();
    expect(reboot.ran(500, W, false, 0)).toBeUndefined();
    expect(reboot.ran(W, 2 * W, false, 0)).toBe(stuckReason(W, 0));
    // The user resets the machine between runs: its next run starts at 0, a window's first step.
    const reset = new StuckWatch();
    expect(reset.ran(0, W / 2, false, 0)).toBeUndefined();
    expect(reset.ran(0, W, false, 0)).toBe(stuckReason(W, 0));
  });
});
