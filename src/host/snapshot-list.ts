// snapshot.list's reading of the snapshots/ folder (docs/snapshots.md, "In the app"). A file is read
// and checked whole (signature, version, lengths, checksum, header) once per version of the file:
// its verdict, the entry or the problem, is kept under the file's identity (size, mtime, ctime,
// inode), so listing again after a change elsewhere in the workspace costs one stat per file, where
// it read and hashed every file (about 14 ms for a 6.8 MB Linux snapshot). A file written again
// (vmlab writes a new file and renames it, giving a new inode; an edit changes mtime and ctime) is
// checked again. Restore reads the file whole and checks everything anew, so a damaged file is
// refused there even if it kept its identity.

import { readFile, stat } from 'node:fs/promises';
import type { SnapshotEntry } from '../shared/snapshot-api';
import { readProblem } from './envelope-file';
import { decodeSnapshot, type SnapshotDisk } from './snapshot-file';

/** What identifies one version of a file: a file written again differs in one of these. */
export interface FileIdentity {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
}

/** The file operations the list needs (a test counts them). */
export interface SnapshotFiles {
  stat(path: string): Promise<FileIdentity>;
  read(path: string): Promise<Buffer>;
}

/** The host's files through node:fs. */
export const NODE_SNAPSHOT_FILES: SnapshotFiles = {
  stat: (path) => stat(path),
  read: (path) => readFile(path),
};

/** What a file's header says, or why it cannot be read. */
type Verdict =
  | { readonly entry: Omit<SnapshotEntry, 'disks'>; readonly disks: readonly SnapshotDisk[] }
  | { readonly problem: string };

const identityKey = (id: FileIdentity): string => `${id.size}/${id.mtimeMs}/${id.ctimeMs}/${id.ino}`;

/** Describes snapshot files, each read once per version. */
export class SnapshotLister {
  /** Host path → the identity it was read at and its verdict (a promise, so two lists share one read). */
  private readonly verdicts = new Map<string, { key: string; verdict: Promise<Verdict> }>();

  constructor(private readonly files: SnapshotFiles = NODE_SNAPSHOT_FILES) {}

  /**
   * The entries of the files `paths` (workspace path → host path); `workspacePath` gives a disk's
   * workspace path. Files no longer listed are forgotten.
   */
  async list(paths: ReadonlyMap<string, string>, workspacePath: (full: string) => string | undefined): Promise<SnapshotEntry[]> {
    const hosts = new Set(paths.values());
    for (const real of this.verdicts.keys()) if (!hosts.has(real)) this.verdicts.delete(real);
    return Promise.all([...paths].map(async ([path, real]): Promise<SnapshotEntry> => {
      const v = await this.verdict(path, real);
      if ('problem' in v) return { path, problem: v.problem };
      return { ...v.entry, disks: v.disks.map((d) => workspacePath(d.path) ?? d.path) };
    }));
  }

  private async verdict(path: string, real: string): Promise<Verdict> {
    let key: string;
    try {
      key = identityKey(await this.files.stat(real));
    } catch (err) {
      this.verdicts.delete(real);
      return { problem: `snapshot ${path}: ${readProblem(err)}` };
    }
    const known = this.verdicts.get(real);
    if (known?.key === key) return known.verdict;
    const verdict = this.read(path, real);
    this.verdicts.set(real, { key, verdict });
    return verdict;
  }

  private async read(path: string, real: string): Promise<Verdict> {
    try {
      const h = decodeSnapshot(await this.files.read(real).catch((err: unknown) => { throw new Error(`snapshot ${path}: ${readProblem(err)}`); }), path).header;
      return {
        entry: {
          path, created: h.created, mode: h.config.mode, machine: h.config.name, kernel: h.config.kernelName,
          instret: h.summary.instret, steps: h.summary.steps, pc: h.summary.pc >>> 0, state: h.summary.state,
        },
        disks: h.disks,
      };
    } catch (err) {
      return { problem: err instanceof Error ? err.message : String(err) };
    }
  }
}
