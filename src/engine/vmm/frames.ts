// The VMM's host frame allocator: 4 KiB frames of host RAM, each with an owner, handed out
// contiguously, scattered (a seeded, deterministic shuffle, so translation is visible), or at
// explicit frame numbers (labs that reproduce a lecture's figures). Runs and single frames come from
// the top of host RAM down, so the low frames a lecture names (`a1:c0 a2:c1 a3:c4`) stay free for an
// explicit placement whatever VMs were created before it.

/** Owner id of a free frame. */
export const FREE = 0;
/** Owner id of frames the VMM keeps for itself (pmaps, shadow tables). */
export const VMM_OWNER = 1;

/** How a VM's guest-physical pages are placed in host frames. */
export type Placement =
  | 'contiguous'
  | 'scattered'
  /** Guest page index (from the start of guest RAM) → host frame index, for the listed pages. */
  | { explicit: ReadonlyArray<readonly [guestPage: number, hostFrame: number]>; rest?: 'contiguous' | 'scattered' };

/** Thrown when host RAM cannot satisfy a request. */
export class OutOfFrames extends Error {}

/** Thrown when a frame asked for by number belongs to someone (`owner`: VMM_OWNER or a VM's id). */
export class FrameTaken extends OutOfFrames {
  constructor(readonly frame: number, readonly owner: number) {
    super(`host frame 0x${frame.toString(16)} is already in use${owner === VMM_OWNER ? " (it holds the VMM's own tables)" : ''}`);
  }
}

/** Frames of host RAM [base, base + count * 4096). */
export class FrameAllocator {
  /** Owner of each frame (FREE, VMM_OWNER, or a VM's id). */
  readonly owner: Uint16Array;
  /** 1 for a frame that has been freed at least once: it may hold an earlier owner's data. */
  private readonly recycledFlags: Uint8Array;
  private seed: number;
  private freeCount: number;
  /**
   * No frame above this index is free: runs and single frames are searched from here down (a VMM
   * that frees and takes shadow tables all the time scanned past every taken frame on each take).
   */
  private top: number;

  constructor(readonly base: number, readonly count: number, seed = 1) {
    this.owner = new Uint16Array(count);
    this.recycledFlags = new Uint8Array(count);
    this.seed = seed >>> 0 || 1;
    this.freeCount = count;
    this.top = count - 1;
  }

  /** Host physical address of frame `i`. */
  address(i: number): number {
    return this.base + i * 4096;
  }

  /** Frames still free. */
  get available(): number {
    return this.freeCount;
  }

  /** Takes one specific frame; throws when it is taken or out of range. */
  take(i: number, owner: number): number {
    if (i < 0 || i >= this.count) throw new OutOfFrames(`host frame 0x${i.toString(16)} does not exist (host RAM has ${this.count} frames, 0x0-0x${(this.count - 1).toString(16)})`);
    if (this.owner[i] !== FREE) throw new FrameTaken(i, this.owner[i]);
    this.owner[i] = owner;
    this.freeCount--;
    return i;
  }

  /**
   * The highest `n` consecutive free frames whose first index is a multiple of `align`; returns the
   * first.
   */
  allocRun(n: number, owner: number, align = 1): number {
    // Going down, `run` counts the free frames from i upwards (none is free above `top`).
    while (this.top >= 0 && this.owner[this.top] !== FREE) this.top--;
    let run = 0;
    for (let i = this.top; i >= 0; i--) {
      run = this.owner[i] === FREE ? run + 1 : 0;
      if (run >= n && i % align === 0) {
        // Frames i .. i + n - 1 are free (the run counted them).
        this.owner.fill(owner, i, i + n);
        this.freeCount -= n;
        return i;
      }
    }
    throw new OutOfFrames(`no run of ${n} free frames left in host RAM (${this.freeCount} frames free)`);
  }

  /** One free frame, chosen at random (deterministically from the seed). */
  allocScattered(owner: number): number {
    if (this.freeCount === 0) throw new OutOfFrames('host RAM is full');
    let i = this.next() % this.count;
    while (this.owner[i] !== FREE) i = (i + 1) % this.count;
    return this.take(i, owner);
  }

  /** Shuffles `items` in place (Fisher-Yates with the allocator's seeded generator). */
  shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.next() % (i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
  }

  /** The highest free frame. */
  alloc(owner: number): number {
    return this.allocRun(1, owner);
  }

  /** Whether frame `i` was freed before (else it is still zero, as host RAM was allocated). */
  recycled(i: number): boolean {
    return this.recycledFlags[i] === 1;
  }

  /** Returns a frame to the pool. */
  free(i: number): void {
    if (this.owner[i] !== FREE) {
      this.owner[i] = FREE;
      this.recycledFlags[i] = 1;
      this.freeCount++;
      if (i > this.top) this.top = i;
    }
  }

  /** Frees every frame of an owner. */
  freeAll(owner: number): void {
    for (let i = 0; i < this.count; i++) if (this.owner[i] === owner) this.free(i);
  }

  private next(): number {
    // xorshift32: deterministic placement for reproducible runs.
    let s = this.seed;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    this.seed = s >>> 0;
    return this.seed;
  }
}
