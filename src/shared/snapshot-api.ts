// The snapshot part of the LabApi (docs/snapshots.md, "In the app"): save a machine's or VM's whole
// state into the workspace's snapshots/ folder, list the files there, and restore one into a new
// machine or VM that continues exactly where the saved one stood. Merged into LabMethods by
// lab-api.ts.

/** The workspace folder the app saves snapshots into and lists them from. */
export const SNAPSHOT_DIR = 'snapshots';
/** A snapshot file's extension. */
export const SNAPSHOT_EXTENSION = '.snap';

/** One snapshot file of the workspace, described from its header. */
export interface SnapshotEntry {
  /** Workspace path of the file. */
  readonly path: string;
  /** When it was saved (ISO 8601), the mode it was taken in and the name of the machine it came from. */
  readonly created?: string;
  readonly mode?: string;
  readonly machine?: string;
  /** The kernel it runs (as the machine was created from it). */
  readonly kernel?: string;
  /** Instructions retired and steps of the guest's clock when it was saved. */
  readonly instret?: number;
  readonly steps?: number;
  readonly pc?: number;
  /** The guest's state when it was saved (running, paused, halted, ...). */
  readonly state?: string;
  /** Images the snapshot refers to (workspace paths where they lie inside the workspace). */
  readonly disks?: string[];
  /** Why the file cannot be restored (damaged, truncated, another version), in one line. */
  readonly problem?: string;
  /**
   * The disks whose images are no longer as the snapshot recorded them (or are missing, or lie
   * outside the workspace); absent when every disk is as it was. Restore refuses such a snapshot.
   */
  readonly diskProblems?: SnapshotDiskProblem[];
}

/** A disk of a snapshot that cannot be restored against its image as the image is now. */
export interface SnapshotDiskProblem {
  /** The image: its workspace path, or its host path when it lies outside the workspace. */
  readonly path: string;
  /** What differs, in one line: `changed since the snapshot was taken (size 2097152 bytes, was 1048576)`, `no such file`. */
  readonly problem: string;
  /** When the image was last written (ISO 8601), when it exists. */
  readonly modified?: string;
}

/** The snapshot requests: method name → [params, result]. */
export interface SnapshotMethods {
  /** Every snapshot file in SNAPSHOT_DIR, newest first; a damaged one is listed with its problem. */
  'snapshot.list': [Record<string, never>, SnapshotEntry[]];
  /**
   * Saves machine `id`'s whole state to SNAPSHOT_DIR/`name`.snap (default: the machine's name and
   * its instruction count); its disks are flushed first. The machine keeps its state and goes on.
   */
  'snapshot.save': [{ id: string; name?: string }, SnapshotEntry];
}

/** The snapshot method names. */
export const SNAPSHOT_METHODS: readonly (keyof SnapshotMethods | 'snapshot.restore')[] = ['snapshot.list', 'snapshot.save', 'snapshot.restore'];
