// In-memory checkpoints of a debugged run, for reverse execution: the guest is rewound to the
// nearest checkpoint before the wanted step and replayed forward (docs/replay.md). A checkpoint is the
// machine's or VM's state without RAM (as a snapshot holds it) plus its RAM page by page; a page equal
// to the same page of the checkpoint before it is shared, not copied, so a checkpoint costs the pages
// the guest wrote since the previous one. Memory is bounded: past `maxBytes` of page copies or
// `maxCount` checkpoints, the checkpoint whose removal leaves the smallest gap goes (never the
// first, which is where history starts), so the spacing grows evenly and a replay stays short.

import type { PhysicalBus } from '../../engine/machine/bus';
import type { DirtyLog } from '../../engine/vmm/dirty-log';

/** What checkpoints need of a machine or VM. */
export interface Rewindable {
  /** The guest's clock (steps). */
  readonly steps: number;
  /** The guest's RAM. */
  readonly ramBus: PhysicalBus;
  /** The state without RAM (a snapshot's machine or VM state). */
  saveState(): unknown;
  /** Puts back a state `saveState` returned (after RAM was put back). */
  loadState(state: unknown): void;
  /** Starts logging the guest's RAM writes (dirty-log.ts); absent where none can be kept. */
  startDirtyLog?(): DirtyLog;
  /** The RAM pages the loader wrote when the guest was built (every other page is zero then). */
  loadedPages?(): readonly number[];
}

/** How a store learns what changed. */
export interface CheckpointOptions {
  /** Keep a dirty log of the guest's RAM (when the target can), so a checkpoint reads only the pages written. */
  dirtyLog?: boolean;
  /** The guest was just built and has not run: RAM is zero but for `loadedPages`, and logging starts now. */
  fresh?: boolean;
}

/** One point the guest can be rewound to. */
export interface Checkpoint {
  readonly steps: number;
  /** How many console-input events the guest had received (InputTimeline.next). */
  readonly inputs: number;
  readonly state: unknown;
  /** RAM page by page; undefined for a page of zeros. */
  readonly pages: readonly (Uint8Array | undefined)[];
}

/** How many checkpoints and how many bytes of page copies to keep. */
export interface CheckpointLimits {
  /** Steps between checkpoints while the guest runs forward. */
  interval: number;
  /** Bytes of RAM page copies kept in all (pages shared between checkpoints count once). */
  maxBytes: number;
  /** Checkpoints kept. */
  maxCount: number;
}

/** Default limits: a checkpoint every 2,000,000 steps, at most 256 MiB of pages and 64 checkpoints. */
export const DEFAULT_CHECKPOINT_LIMITS: CheckpointLimits = { interval: 2_000_000, maxBytes: 256 * 1024 * 1024, maxCount: 64 };

const PAGE = 4096;

/** The checkpoints of one debugged run, in order of steps. */
export class CheckpointStore {
  /** The checkpoints, oldest first. */
  readonly list: Checkpoint[] = [];
  /** Bytes of page copies held now. */
  bytes = 0;
  /** Checkpoints taken and dropped (for docs/tests: the thinning works). */
  taken = 0;
  dropped = 0;
  /** RAM pages read (compared with a copy) and copied by checkpoints and rewinds, for tests and docs. */
  pagesRead = 0;
  pagesCopied = 0;
  private readonly refs = new Map<Uint8Array, number>();
  /** Our dirty log, and the array it writes (the bus's `writeLog` while the log is ours). */
  private log: DirtyLog | undefined;
  private logArray: Uint8Array | undefined;
  /** RAM as it was when the log was last read (undefined: not known, read every page). */
  private known: readonly (Uint8Array | undefined)[] | undefined;
  /** Pages to read at the next checkpoint besides those the log names (what the loader wrote). */
  private pending: readonly number[] = [];

  constructor(private readonly target: Rewindable, readonly limits: CheckpointLimits = DEFAULT_CHECKPOINT_LIMITS, private readonly options: CheckpointOptions = {}) {
    if (options.dirtyLog && options.fresh && target.loadedPages !== undefined && this.startLog()) {
      this.known = new Array<undefined>(this.pageCount);
      this.pending = target.loadedPages();
    }
  }

  /** Stops the dirty log (the store is being dropped); the guest runs on at full speed. */
  dispose(): void {
    if (this.logValid()) this.log!.stop();
    this.forgetLog();
  }

  /** Takes a checkpoint when none lies within `interval` steps before the guest's clock. */
  maybeTake(inputs: number): void {
    const before = this.atOrBefore(this.target.steps);
    if (before === undefined || this.target.steps - before.steps >= this.limits.interval) this.take(inputs);
  }

  /** Takes a checkpoint at the guest's clock (replacing one at the same step). */
  take(inputs: number): Checkpoint {
    const steps = this.target.steps;
    let at = this.list.findIndex((c) => c.steps >= steps);
    if (at < 0) at = this.list.length;
    if (at < this.list.length && this.list[at].steps === steps) this.drop(at);
    let pages: (Uint8Array | undefined)[];
    const dirty = this.dirtySinceKnown();
    if (dirty !== undefined) {
      // Pages the log does not name hold what they held at the last checkpoint taken or restored.
      pages = this.known!.slice();
      for (const i of dirty) pages[i] = this.capture(i, pages[i]);
    } else {
      const prev = at > 0 ? this.list[at - 1].pages : undefined;
      pages = new Array(this.pageCount);
      for (let i = 0; i < pages.length; i++) pages[i] = this.capture(i, prev?.[i]);
      this.restartLog();
    }
    for (const page of pages) if (page !== undefined) this.ref(page);
    if (this.logValid()) this.known = pages;
    const cp: Checkpoint = { steps, inputs, state: this.target.saveState(), pages };
    this.list.splice(at, 0, cp);
    this.taken++;
    this.thin();
    return cp;
  }

  /** The latest checkpoint at or before `steps`. */
  atOrBefore(steps: number): Checkpoint | undefined {
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i].steps <= steps) return this.list[i];
    return undefined;
  }

  /** The latest checkpoint before `cp` (undefined for the first). */
  before(cp: Checkpoint): Checkpoint | undefined {
    const i = this.list.indexOf(cp);
    return i > 0 ? this.list[i - 1] : undefined;
  }

  /** Puts the guest back to `cp`: RAM, then the rest of its state. */
  restore(cp: Checkpoint): void {
    const dirty = this.dirtySinceKnown();
    if (dirty !== undefined) {
      // Only pages written since, or that differ between the known RAM and `cp`, can differ now.
      const known = this.known!;
      for (const i of dirty) this.put(i, cp.pages[i]);
      for (let i = 0; i < known.length; i++) if (known[i] !== cp.pages[i]) this.put(i, cp.pages[i]);
    } else {
      for (let i = 0; i < this.pageCount; i++) this.put(i, cp.pages[i]);
      this.restartLog();
    }
    if (this.logValid()) this.known = cp.pages;
    this.target.loadState(cp.state);
  }

  /** Forgets every checkpoint (the debugger changed the guest: history before now no longer leads here). */
  clear(): void {
    while (this.list.length > 0) this.drop(this.list.length - 1);
    // What changed the guest may have written RAM behind the log's back: read all of it next time.
    this.known = undefined;
    this.pending = [];
  }

  private get pageCount(): number {
    return Math.floor(this.target.ramBus.ramSize / PAGE);
  }

  /** Page `i` now: `old` when it still holds that, undefined when zero, else a copy. */
  private capture(i: number, old: Uint8Array | undefined): Uint8Array | undefined {
    const bus = this.target.ramBus;
    const off = bus.ramOffset(bus.ramBase + i * PAGE, PAGE);
    if (off < 0) return undefined;
    this.pagesRead++;
    const now = pageAt(bus.ram, off);
    if (old !== undefined && now.equals(old)) return old;
    if (now.equals(ZERO_PAGE)) return undefined;
    this.pagesCopied++;
    return new Uint8Array(now);
  }

  /** Makes page `i` hold `saved` (zeros when undefined). */
  private put(i: number, saved: Uint8Array | undefined): void {
    const bus = this.target.ramBus;
    const off = bus.ramOffset(bus.ramBase + i * PAGE, PAGE);
    if (off < 0) return;
    this.pagesRead++;
    // Compare first: most pages hold what they held, and writing RAM the guest never touched
    // would make the host commit it.
    if (!pageAt(bus.ram, off).equals(saved ?? ZERO_PAGE)) bus.ram.set(saved ?? ZERO_PAGE, off);
  }

  /** Whether the bus still writes into our log (a migration's log replaces it, and its end removes it). */
  private logValid(): boolean {
    return this.log !== undefined && this.logArray !== undefined && this.target.ramBus.writeLog === this.logArray;
  }

  private forgetLog(): void {
    this.log = undefined;
    this.logArray = undefined;
    this.known = undefined;
    this.pending = [];
  }

  /**
   * The pages written since RAM was last known (the log re-armed), or undefined when RAM is not
   * known or the log no longer sees every write.
   */
  private dirtySinceKnown(): number[] | undefined {
    if (!this.logValid()) {
      this.forgetLog();
      return undefined;
    }
    const dirty = this.log!.take();
    if (this.known === undefined) return undefined;
    const pending = this.pending;
    this.pending = [];
    return pending.length === 0 ? dirty : [...new Set([...pending, ...dirty])];
  }

  /** After reading all of RAM: the log (re-armed, or started if nobody else logs the bus) covers what comes next. */
  private restartLog(): void {
    if (this.logValid()) return;
    this.forgetLog();
    if (this.options.dirtyLog) this.startLog();
  }

  /** Starts our log unless another (a migration's) logs the bus; true when ours runs. */
  private startLog(): boolean {
    const t = this.target;
    if (t.startDirtyLog === undefined || t.ramBus.writeLog !== undefined) return false;
    this.log = t.startDirtyLog();
    this.logArray = t.ramBus.writeLog;
    return this.logArray !== undefined;
  }

  /** One more checkpoint holds `page` (a page no checkpoint held counts towards `bytes` again). */
  private ref(page: Uint8Array): void {
    const n = this.refs.get(page) ?? 0;
    if (n === 0) this.bytes += PAGE;
    this.refs.set(page, n + 1);
  }

  private drop(index: number): void {
    const [cp] = this.list.splice(index, 1);
    for (const page of cp.pages) {
      if (page === undefined) continue;
      const n = this.refs.get(page)! - 1;
      if (n > 0) this.refs.set(page, n);
      else {
        this.refs.delete(page);
        this.bytes -= PAGE;
      }
    }
    this.dropped++;
  }

  /** Keeps within the limits: drops the inner checkpoint whose neighbours are closest. */
  private thin(): void {
    while ((this.bytes > this.limits.maxBytes || this.list.length > this.limits.maxCount) && this.list.length > 2) {
      let best = 1;
      let gap = Infinity;
      for (let i = 1; i < this.list.length - 1; i++) {
        const g = this.list[i + 1].steps - this.list[i - 1].steps;
        if (g < gap) {
          gap = g;
          best = i;
        }
      }
      this.drop(best);
    }
  }
}

const ZERO_PAGE = new Uint8Array(PAGE);

/** One page of RAM as a Buffer (its `equals` is a native memcmp). */
function pageAt(ram: Uint8Array, off: number): Buffer {
  return Buffer.from(ram.buffer, ram.byteOffset + off, PAGE);
}
