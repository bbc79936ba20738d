// Reverse step and reverse continue for one VM of the app's VMM (docs/replay.md): the VM's own
// checkpoints and console-input timeline, with the rewinder the gdb stub and the bare machine's
// session use. The VMM session takes a checkpoint of each running VM between scheduler slices and
// delivers a VM's console input through its timeline, so rewinding one VM replays it alone while
// the other VMs keep their state.

import type { Vm } from '../engine/vmm/vm';
import type { Vmm } from '../engine/vmm/vmm';
import { vmDebugTarget } from './gdb/debug-target';
import { DEFAULT_CHECKPOINT_LIMITS } from './replay/checkpoints';
import { InputTimeline } from './replay/input-timeline';
import { Rewinder } from './replay/rewinder';
import { APP_CHECKPOINT_INTERVAL } from './machine-session';

/**
 * Bytes of RAM page copies one VM's checkpoints keep: a quarter of a bare machine's, as the one VMM
 * worker holds every VM's history at once.
 */
export const VM_CHECKPOINT_BYTES = 64 * 1024 * 1024;

/** One VM's past: checkpoints and the console input it received on its clock. */
export class VmHistory {
  readonly timeline: InputTimeline;
  private readonly rewinder: Rewinder;

  constructor(vmm: Vmm, private readonly vm: Vm) {
    this.timeline = new InputTimeline((b) => vm.sendInput(b), () => vm.machine.clockSteps);
    this.rewinder = new Rewinder(vmDebugTarget(vmm, vm), { ...DEFAULT_CHECKPOINT_LIMITS, interval: APP_CHECKPOINT_INTERVAL, maxBytes: VM_CHECKPOINT_BYTES }, this.timeline);
  }

  /** Checkpoints taken so far and kept now (for tests and the docs' figures). */
  get checkpoints(): { taken: number; kept: number } {
    const h = this.rewinder.history;
    return { taken: h.taken, kept: h.list.length };
  }

  /** The VM is about to run forward (or just ran): a checkpoint when one is due. */
  forward(): void {
    if (!this.vm.runnable && this.vm.state !== 'paused') return;
    this.rewinder.forward();
  }

  /**
   * Delivers the console input due at the VM's clock; returns the steps it may run before more is
   * due or its past ends (Infinity when neither lies ahead).
   */
  due(): number {
    return this.timeline.due();
  }

  /** The VM was changed from outside (memory edited, a debugger, a restore): its past no longer leads here. */
  changed(): void {
    this.rewinder.changed();
  }

  /** Goes back one step; false (nothing moves) at the start of history. */
  stepBack(): boolean {
    return this.rewinder.stepBack();
  }

  /** Goes back to the latest pass through one of `breaks` before now; false after rewinding to the start of history. */
  continueBack(breaks: ReadonlySet<number>): boolean {
    const vh = this.vm.vhart;
    return this.rewinder.continueBack(breaks, false, () => (breaks.has(vh.pcU) ? true : undefined)) === true;
  }
}
