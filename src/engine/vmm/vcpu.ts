// The one shape every technique has: a vCPU that runs its VM's guest for a budget of steps and
// comes back to the VMM's scheduler with a stop reason. What differs between techniques lives in
// one folder each (emulate/, trap/, bt/, pv/, hw/); what they share sits beside them here (vm.ts,
// frames.ts, pmap.ts, shadow.ts, guest-bus.ts, stats.ts, vmm.ts).
//
// An exit is a trap the VMM sees while the guest runs: in the techniques that run the guest on the
// physical hart it is an exception of that hart, delivered to the vCPU as `ExitHandler.trap(cause,
// tval)` (the hart's trap hook); in `emulate` the VMM is the interpreter, so there are none. Every
// vCPU counts its exits in the VM's statistics (`VmStats.exits`, by cause).

import type { Hart, TrapHook } from '../cpu/hart';
import type { Machine, StopReason } from '../machine/machine';

/** A technique's handler of exits: every exception of the physical hart while its guest runs there. */
export type ExitHandler = TrapHook;

/** A VM's virtual CPU under one technique. */
export interface Vcpu {
  /**
   * Whether the guest runs on the VMM's physical hart (then the VMM loads it with `switchIn` before
   * `run` and saves it with `switchOut` when another VM gets the hart).
   */
  readonly onHart: boolean;
  /**
   * Runs the guest until `budget` steps of its own clock (the virtual hart's `steps`) have passed, or
   * it halts, waits, reaches a breakpoint or asks for a reset; returns why it stopped. The guest's
   * retired instructions are counted by privilege in the VM's statistics.
   */
  run(budget: number): StopReason;
  /** Puts the guest's state onto the physical hart (onHart techniques). */
  switchIn(): void;
  /** Saves the guest's registers back into its virtual hart. */
  switchOut(): void;
  /** A device wrote `length` bytes of guest RAM at `gpa` (host RAM offset `hostOffset`) behind the guest's back. */
  dmaWritten(gpa: number, hostOffset: number, length: number): void;
  /** The guest was rebooted (its image rewritten): drop what was derived from the old guest state. */
  reset(): void;
  /** The user's reset: the statistics start afresh, so drop counters kept outside them. */
  restart(): void;
  /** The VM is removed: give back what the technique took (shadow frames). */
  destroy(): void;
}

/**
 * A guest waiting in WFI (emulated at its exit) in a technique that runs it on the physical hart:
 * a pending interrupt wakes it (0 is returned and the guest runs on); otherwise its clock sleeps to
 * the next timer deadline within `remaining` steps, and the steps slept are returned. -1: nothing can
 * wake it (the VM is idle).
 */
export function sleepInWfi(m: Machine, vh: Hart, remaining: number): number {
  if (!vh.waiting) return 0;
  if (vh.wakeupPending()) {
    vh.waiting = false;
    return 0;
  }
  const idle = m.skipIdle(remaining);
  return idle === 0 ? -1 : idle;
}
