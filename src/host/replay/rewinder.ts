// Reverse execution of one machine or VM by checkpoint and replay (docs/replay.md): checkpoints are
// taken as the guest runs forward; going back rewinds to the nearest one before the wanted step and
// replays forward, delivering the console input the guest had received at the same steps. The gdb
// stub (reverse-stepi, reverse-continue) and the app's sessions (Reverse step, Reverse continue)
// both drive it.

import { StopReason } from '../../engine/machine/machine';
import type { DebugTarget } from '../gdb/debug-target';
import { CheckpointStore, DEFAULT_CHECKPOINT_LIMITS, type Checkpoint, type CheckpointLimits } from './checkpoints';
import type { InputTimeline } from './input-timeline';

/** Checkpoints and rewinds of one debugged target. */
export class Rewinder {
  readonly history: CheckpointStore;

  constructor(private readonly target: DebugTarget, limits: CheckpointLimits = DEFAULT_CHECKPOINT_LIMITS, private readonly timeline?: InputTimeline) {
    this.history = new CheckpointStore(target, limits);
  }

  /** The guest is about to run forward: takes a checkpoint when one is due. */
  forward(): void {
    this.history.maybeTake(this.timeline?.next ?? 0);
  }

  /** The guest was changed from outside (registers, memory): the past no longer leads here. */
  changed(): void {
    this.history.clear();
    this.timeline?.rebase();
  }

  /** Goes back one guest step; false (and nothing moves) at the start of history. */
  stepBack(): boolean {
    const t = this.target;
    t.sync();
    this.timeline?.note();
    const now = t.steps;
    const cp = this.history.atOrBefore(now - 1);
    if (cp === undefined) return false;
    this.rewind(cp);
    if (!this.replayTo(now - 1)) {
      // The step before `now` is not on a plain run's way (the hart slept in WFI across it): find the
      // last position single steps reach before `now`, and go there.
      this.rewind(cp);
      let previous = t.steps;
      this.replayStepwise(now, () => { previous = t.steps; });
      this.rewind(cp);
      this.replayStepwise(previous);
    }
    t.sync();
    return true;
  }

  /**
   * Goes back to the latest position before the current one where `hit` returns a value: `hit` is
   * asked where the guest stands in front of one of `breaks` (at every position when `stepwise`, as
   * watchpoints need). Returns that value, or undefined after rewinding to the start of history.
   */
  continueBack<T>(breaks: ReadonlySet<number>, stepwise: boolean, hit: () => T | undefined): T | undefined {
    const t = this.target;
    t.sync();
    this.timeline?.note();
    let end = t.steps;
    t.setBreakpoints(breaks);
    for (let cp = this.history.atOrBefore(end - 1); cp !== undefined; cp = this.history.before(cp)) {
      this.rewind(cp);
      let found: { steps: number; value: T } | undefined;
      const look = (): void => {
        t.sync();
        const value = hit();
        if (value !== undefined) found = { steps: t.steps, value };
      };
      if (stepwise) this.replayStepwise(end, look);
      else {
        look();
        this.replayTo(end, look);
      }
      if (found !== undefined) {
        this.rewind(cp);
        if (stepwise) this.replayStepwise(found.steps);
        else this.replayTo(found.steps);
        t.sync();
        return found.value;
      }
      end = cp.steps;
    }
    const first = this.history.list[0];
    if (first !== undefined) this.rewind(first);
    t.sync();
    return undefined;
  }

  /** Puts the guest back to a checkpoint, with the console input it had received then. */
  private rewind(cp: Checkpoint): void {
    this.history.restore(cp);
    if (this.timeline !== undefined) this.timeline.next = cp.inputs;
  }

  /** Delivers the input due now (quietly: this is the past) and returns the steps until more is due. */
  private due(): number {
    if (this.timeline === undefined) return Infinity;
    const limit = this.timeline.due();
    this.timeline.quiet = true;
    return limit;
  }

  /** Replays to step `goal`; breakpoints met on the way are passed to `onBreak` and run over. */
  private replayTo(goal: number, onBreak?: () => void): boolean {
    const t = this.target;
    while (t.steps < goal) {
      const before = t.steps;
      const r = t.run(Math.min(goal - t.steps, this.due()));
      if (r === StopReason.BREAKPOINT) {
        if (t.steps < goal) onBreak?.();
        continue;
      }
      if (r !== StopReason.BUDGET && r !== StopReason.IDLE) break;
      if (t.steps === before) break;
    }
    t.sync();
    return t.steps === goal;
  }

  /** Replays one guest step at a time to step `goal`, calling `visit` at each position before its step. */
  private replayStepwise(goal: number, visit?: () => void): boolean {
    const t = this.target;
    while (t.steps < goal) {
      visit?.();
      this.due();
      const before = t.steps;
      const r = stepOnce(t);
      if (t.steps === before || (r !== StopReason.BUDGET && r !== StopReason.IDLE)) break;
    }
    return t.steps === goal;
  }
}

/** One guest step (a VM's step may need a few VMM turns before its own clock moves). */
export function stepOnce(t: DebugTarget): StopReason {
  const before = t.steps;
  let r: StopReason = StopReason.BUDGET;
  for (let i = 0; i < 16 && t.steps === before; i++) {
    r = t.run(1);
    if (r !== StopReason.BUDGET && r !== StopReason.BREAKPOINT) break;
  }
  t.sync();
  return r === StopReason.BREAKPOINT ? StopReason.BUDGET : r;
}
