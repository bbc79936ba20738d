// The rule by which a guest counts as stuck, in a module of its own so that the bare machine's run
// loops (the CLI's and the app's) can apply it without loading the VMM.

/**
 * Steps without a retired instruction (outside WFI), over any number of slices, after which a VM
 * counts as crashed. Ten times trap mode's storm limit (trap-vcpu.ts), so that within a slice trap
 * and bt end a storm at their own exit as before, and every mode still ends one that slices cut up.
 * The bare machine is judged by it too (StuckWatch).
 */
export const STUCK_STEPS = 100_000;

/**
 * Steps of the guest's clock in one window of the bare machine's rule (StuckWatch): the bare run
 * loops end a run at each multiple of it, and judge the window there. `vmlab run`'s chunk.
 */
export const STUCK_WINDOW = 4_000_000;

/** The crash reason of a guest stuck for `steps` steps at `pc`. */
export function stuckReason(steps: number, pc: number): string {
  return `no instruction completed in ${steps} steps: the guest is stuck in a loop of traps at pc 0x${(pc >>> 0).toString(16)}`;
}

/**
 * STUCK_STEPS on a bare machine, the same for `vmlab run` and the app, judged between runs and so
 * never in the hot loop: a handler whose own fetch faults (mtvec 0 after any exception) traps
 * forever and retires nothing. The guest's clock is cut into windows of STUCK_WINDOW steps; a run
 * ends at the next window's start at the latest (`budget`). A window seen whole in which no run
 * retired an instruction, waited in WFI or stopped for anything but its budget adds its steps to
 * the stuck count, any other resets it, and the guest is stuck once the count reaches STUCK_STEPS.
 * Where the runs between a window's edges end (the host's speed, input, a pause) changes nothing,
 * so every host, and a run continued from a snapshot, stops a guest at the same step.
 */
export class StuckWatch {
  /** The guest's clock after the last run seen, or -1 before the first. */
  private at = -1;
  /** The current window's index (its start over STUCK_WINDOW). */
  private window = -1;
  /** Whether every step of the current window so far was seen in a run, and whether one progressed. */
  private whole = false;
  private moved = false;
  private stuck = 0;

  /** `budget` steps cut at the end of the window that holds `clock`. */
  budget(clock: number, budget: number): number {
    return Math.min(budget, STUCK_WINDOW - (clock % STUCK_WINDOW));
  }

  /**
   * After a run from `from` to `to` on the guest's clock (steps since the last reset). `progressed`
   * when it retired an instruction, stopped for anything but its budget, or left the hart waiting
   * in WFI. Returns stuckReason once the guest is stuck (at a window's end), with its `pc`.
   */
  ran(from: number, to: number, progressed: boolean, pc: number): string | undefined {
    if (from !== this.at) {
      // Steps went by unseen (the first run, single steps, a debugger, a reset): a new window
      // starts here, whole only if from is its first step.
      this.window = Math.floor(from / STUCK_WINDOW);
      this.whole = from % STUCK_WINDOW === 0;
      this.moved = false;
      this.stuck = 0;
    }
    this.at = to;
    const window = Math.floor(to / STUCK_WINDOW);
    if (window === this.window) {
      if (progressed) this.moved = true;
      return undefined;
    }
    // The run reached the next window: the current one is over.
    const stuck = this.whole && !this.moved && !progressed && window === this.window + 1;
    this.stuck = stuck ? this.stuck + STUCK_WINDOW : 0;
    this.window = window;
    // A run that passed the edge without progress saw the new window from its start.
    this.whole = to % STUCK_WINDOW === 0 || !progressed;
    this.moved = false;
    return this.stuck >= STUCK_STEPS ? stuckReason(this.stuck, pc) : undefined;
  }
}
