// In-memory checkpoints of a debugged run, for reverse execution: the guest is rewound to the
// nearest checkpoint before the wanted step and replayed forward (docs/replay.md). A checkpoint is the
// machine's or VM's state without RAM (as a snapshot holds it) plus its RAM page by page; a page equal
// to the same page of the checkpoint before it is shared, not copied, so a checkpoint costs the pages
// the guest wrote since the previous one. Memory is bounded: past `maxBytes` of page copies or
// `maxCount` checkpoints, the checkpoint whose removal leaves the smallest gap goes (never the
// first, which is where history starts), so the spacing grows evenly and a replay stays short.
// Disks are not copied: from the first checkpoint on, each virtio-blk disk keeps the old contents of
// what the guest's requests overwrite (engine/disk/undo-log.ts), and a rewind writes them back. That
// log reaches back to the first checkpoint; past half of `maxBytes` it is cut, and history starts
// at a later checkpoint.

import type { VirtioBlk } from '../../engine/devices/virtio-blk';
import { DiskUndoLog } from '../../engine/disk/undo-log';
import type { PhysicalBus } from '../../engine/machine/bus';

/** What checkpoints need of a machine or VM. */
export interface Rewindable {
  /** The guest's clock (steps). */
  readonly steps: number;
  /** The guest's RAM. */
  readonly ramBus: PhysicalBus;
  /** The guest's disks (the board's virtio-blk devices). */
  readonly disks: readonly VirtioBlk[];
  /** The state without RAM (a snapshot's machine or VM state). */
  saveState(): unknown;
  /** Puts back a state `saveState` returned (after RAM was put back). */
  loadState(state: unknown): void;
}

/** One point the guest can be rewound to. */
export interface Checkpoint {
  readonly steps: number;
  /** How many console-input events the guest had received (InputTimeline.next). */
  readonly inputs: number;
  readonly state: unknown;
  /** RAM page by page; undefined for a page of zeros. */
  readonly pages: readonly (Uint8Array | undefined)[];
  /** Each disk's undo-log mark at the checkpoint. */
  readonly diskMarks: readonly number[];
}

/** How many checkpoints and how many bytes of page copies to keep. */
export interface CheckpointLimits {
  /** Steps between checkpoints while the guest runs forward. */
  interval: number;
  /** Bytes of RAM page copies kept in all (pages shared between checkpoints count once), and of old disk contents. */
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
  private readonly refs = new Map<Uint8Array, number>();

  constructor(private readonly target: Rewindable, readonly limits: CheckpointLimits = DEFAULT_CHECKPOINT_LIMITS) {}

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
    const prev = at > 0 ? this.list[at - 1].pages : undefined;
    const bus = this.target.ramBus;
    const count = Math.floor(bus.ramSize / PAGE);
    const pages: (Uint8Array | undefined)[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const off = bus.ramOffset(bus.ramBase + i * PAGE, PAGE);
      // A page the bus never marked written is all zero: not read, so the host does not commit it.
      if (off < 0 || bus.written[off >>> 12] === 0) continue;
      const now = pageAt(bus.ram, off);
      const old = prev?.[i];
      if (old !== undefined && now.equals(old)) {
        pages[i] = this.ref(old);
      } else if (!now.equals(ZERO_PAGE)) {
        const copy = new Uint8Array(now);
        this.bytes += PAGE;
        pages[i] = this.ref(copy);
      }
    }
    const diskMarks = this.target.disks.map((d) => (d.undo ??= new DiskUndoLog(d.disk)).mark);
    const cp: Checkpoint = { steps, inputs, state: this.target.saveState(), pages, diskMarks };
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
    const bus = this.target.ramBus;
    const count = Math.floor(bus.ramSize / PAGE);
    for (let i = 0; i < count; i++) {
      const off = bus.ramOffset(bus.ramBase + i * PAGE, PAGE);
      if (off < 0) continue;
      const saved = cp.pages[i];
      if (bus.written[off >>> 12] === 0) {
        if (saved !== undefined) {
          bus.ram.set(saved, off);
          bus.written[off >>> 12] = 1;
        }
        continue;
      }
      const now = pageAt(bus.ram, off);
      // Compare first: most pages hold what they held, and writing RAM the guest never touched
      // would make the host commit it.
      if (!now.equals(saved ?? ZERO_PAGE)) {
        bus.ram.set(saved ?? ZERO_PAGE, off);
        if (saved !== undefined) bus.written[off >>> 12] = 1;
      }
    }
    this.target.disks.forEach((d, i) => d.undo?.rollBack(cp.diskMarks[i]));
    this.target.loadState(cp.state);
  }

  /** Forgets every checkpoint (the debugger changed the guest: history before now no longer leads here). */
  clear(): void {
    while (this.list.length > 0) this.drop(this.list.length - 1);
    for (const d of this.target.disks) d.undo = undefined;
  }

  /** Bytes of old disk contents the undo logs hold. */
  get diskBytes(): number {
    let n = 0;
    for (const d of this.target.disks) n += d.undo?.bytes ?? 0;
    return n;
  }

  private ref(page: Uint8Array): Uint8Array {
    this.refs.set(page, (this.refs.get(page) ?? 0) + 1);
    return page;
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
    // The disks' logs reach back to the first checkpoint: past half the bound, history starts later.
    while (this.diskBytes > this.limits.maxBytes / 2 && this.list.length > 1) {
      this.drop(0);
      const first = this.list[0];
      this.target.disks.forEach((d, i) => d.undo?.forgetBefore(first.diskMarks[i]));
    }
    while ((this.bytes + this.diskBytes > this.limits.maxBytes || this.list.length > this.limits.maxCount) && this.list.length > 2) {
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
