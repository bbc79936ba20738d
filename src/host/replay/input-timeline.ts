// The console input of one run on the guest's clock: every byte string the UART received, with the
// step count at which it was delivered. Console input is the only input of a run that the host's
// timing decides (disk requests complete synchronously inside the guest's notify, and time is the
// step count), so a run is reproduced exactly by starting from the same state and delivering the
// same bytes at the same steps (docs/replay.md).
//
// Three uses: recording (bytes are delivered as they come and logged), replaying a recording
// (bytes come from the log at their steps; the user's typing is ignored), and a debugger's reverse
// execution, which rewinds the guest to a checkpoint and replays forward: bytes already delivered
// after the checkpoint are delivered again at their steps, and bytes typed while the guest stands
// in its past wait for the step where the past ends (the frontier), so history never changes.

/** One delivery of console input. */
export interface InputEvent {
  /** The guest's clock (steps) when the bytes reached the UART. */
  readonly at: number;
  readonly bytes: Uint8Array;
}

/** Console input on the guest's clock. */
export class InputTimeline {
  /** Every delivery, in order of `at`. */
  readonly events: InputEvent[];
  /** How many events the guest has received in its current timeline. */
  next = 0;
  /** The furthest step the guest has reached; before it, the run is a replay of what was. */
  frontier = 0;
  /** Console output is already shown up to the frontier: the run loop mutes it while true. */
  quiet = false;

  /**
   * `deliver` puts bytes into the guest's UART; `steps` reads the guest's clock. A replay passes the
   * recorded events and `live` false: the user's input is then ignored.
   */
  constructor(
    private readonly deliver: (bytes: Uint8Array) => void,
    private readonly steps: () => number,
    events: InputEvent[] = [],
    private readonly live = true,
  ) {
    this.events = events;
    this.frontier = steps();
  }

  /** Moves the frontier up to the guest's clock. */
  note(): void {
    const now = this.steps();
    if (now > this.frontier) this.frontier = now;
  }

  /** The debugger changed the guest here: what follows is new, so the frontier moves to the guest's clock. */
  rebase(): void {
    this.frontier = this.steps();
  }

  /** Bytes the user typed: delivered now at the frontier, else kept for the step where the past ends. */
  input(bytes: Uint8Array): void {
    if (!this.live || bytes.length === 0) return;
    this.note();
    const now = this.steps();
    const last = this.events.length > 0 ? this.events[this.events.length - 1].at : 0;
    if (now >= this.frontier && this.next === this.events.length) {
      this.events.push({ at: now, bytes: bytes.slice() });
      this.next++;
      this.deliver(bytes);
    } else {
      this.events.push({ at: Math.max(this.frontier, last), bytes: bytes.slice() });
    }
  }

  /**
   * Delivers the events due at the guest's clock and returns how many steps the guest may run before
   * the next event or the frontier (Infinity when neither lies ahead). Sets `quiet` for that stretch.
   */
  due(): number {
    const now = this.steps();
    while (this.next < this.events.length && this.events[this.next].at <= now) {
      this.deliver(this.events[this.next].bytes);
      this.next++;
    }
    this.note();
    let limit = Infinity;
    if (this.next < this.events.length) limit = this.events[this.next].at - now;
    this.quiet = now < this.frontier;
    if (this.quiet) limit = Math.min(limit, this.frontier - now);
    return limit;
  }

  /** Bytes still to be delivered (recorded or typed ahead) after the guest's current step. */
  get pending(): number {
    return this.events.length - this.next;
  }
}
