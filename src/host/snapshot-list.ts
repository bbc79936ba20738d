// snapshot.list's reading of the snapshots/ folder (docs/snapshots.md, "In the app"). A file is read
// and checked whole (signature, version, lengths, checksum, header) once per version of the file:
// its verdict, the entry or the problem, is kept under the file's identity (size, mtime, ctime,
// inode), so listing again after a change elsewhere in the workspace costs one stat per file, where
// it read and hashed every file (twelve 6.8 MB files: 60 ms of CPU a list, now 0.8 ms). A file
// written again (vmlab writes a new file and renames it, giving a new inode; an edit changes mtime
// and ctime) is checked again. As git does with its index, a verdict is kept only for a file last
// written well before it was read: a write in the same tick of the file system's clock would leave
// the identity as it was, so a file written in the last SETTLE_MS is read again at every list.
// Restore reads the file whole and checks everything anew, so a damaged file is refused there even
// if it kept its identity. The file's checksum is hashed 1 MiB at a time with the event loop let
// run between steps (envelopeChecksumAsync), as the disk images are: a snapshot of a VM with
// 256 MiB of RAM hashed in one go held the host's event loop 171 ms at the first list.
//
// Each entry also names the disks whose images are no longer as the snapshot recorded them: a size
// that differs, else a SHA-256 that differs (the image's digest is kept under the image's identity
// too, so an image is hashed again only after it was written), a missing image, or one outside the
// workspace. Restore refuses such a snapshot (snapshot-file.ts's checkSnapshotDisks, hashing anew),
// and the panel says so before anyone clicks: both hash with fileDigestAsync, which lets the host's
// event loop run between two 1 MiB chunks, and phrase the difference with diskChange.

import { readFile, stat } from 'node:fs/promises';
import type { SnapshotDiskProblem, SnapshotEntry } from '../shared/snapshot-api';
import { envelopeChecksumAsync, readProblem } from './envelope-file';
import { decodeSnapshot, diskChange, fileDigestAsync, type FileDigest, type SnapshotDisk } from './snapshot-file';

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
  /** Size and SHA-256 (hex) of a file's bytes. */
  digest(path: string): Promise<FileDigest>;
}

/** The host's files through node:fs. */
export const NODE_SNAPSHOT_FILES: SnapshotFiles = {
  stat: (path) => stat(path),
  read: (path) => readFile(path),
  digest: fileDigestAsync,
};

/** What a file's header says, or why it cannot be read. */
type Verdict =
  | { readonly entry: Omit<SnapshotEntry, 'disks'>; readonly disks: readonly SnapshotDisk[] }
  | { readonly problem: string };

const identityKey = (id: FileIdentity): string => `${id.size}/${id.mtimeMs}/${id.ctimeMs}/${id.ino}`;

/** How long before it is read a file must have been written for its identity to stand for its bytes. */
export const SETTLE_MS = 2000;

/**
 * Keeps `value` under `path` in `map` for the file's identity `id`, shared by whoever asks meanwhile;
 * it is dropped once settled when the file was written too recently to be trusted (`readAt` is when
 * its stat was asked for), or when `keep` refuses it.
 */
function remember<T>(map: Map<string, { key: string; value: Promise<T> }>, path: string, id: FileIdentity, readAt: number, value: Promise<T>, keep: (v: T) => boolean = () => true): Promise<T> {
  map.set(path, { key: identityKey(id), value });
  const drop = (): void => {
    if (map.get(path)?.value === value) map.delete(path);
  };
  value.then((v) => {
    if (readAt - id.mtimeMs < SETTLE_MS || !keep(v)) drop();
  }, drop);
  return value;
}

/** Describes snapshot files, each read once per version. */
export class SnapshotLister {
  /** Host path → the identity it was read at and its verdict (a promise, so two lists share one read). */
  private readonly verdicts = new Map<string, { key: string; value: Promise<Verdict> }>();
  /** Disk image host path → the identity it was hashed at and its digest. */
  private readonly digests = new Map<string, { key: string; value: Promise<FileDigest> }>();

  constructor(private readonly files: SnapshotFiles = NODE_SNAPSHOT_FILES) {}

  /**
   * The entries of the files `paths` (workspace path → host path); `workspacePath` gives a disk's
   * workspace path. Files no longer listed are forgotten.
   */
  async list(paths: ReadonlyMap<string, string>, workspacePath: (full: string) => string | undefined): Promise<SnapshotEntry[]> {
    const hosts = new Set(paths.values());
    for (const real of this.verdicts.keys()) if (!hosts.has(real)) this.verdicts.delete(real);
    const images = new Set<string>();
    const entries = await Promise.all([...paths].map(async ([path, real]): Promise<SnapshotEntry> => {
      const v = await this.verdict(path, real);
      if ('problem' in v) return { path, problem: v.problem };
      for (const d of v.disks) images.add(d.path);
      const problems = (await Promise.all(v.disks.map((d) => this.diskProblem(d, workspacePath(d.path))))).filter((p) => p !== undefined);
      return { ...v.entry, disks: v.disks.map((d) => workspacePath(d.path) ?? d.path), ...(problems.length > 0 ? { diskProblems: problems } : {}) };
    }));
    for (const image of this.digests.keys()) if (!images.has(image)) this.digests.delete(image);
    return entries;
  }

  /** Why disk `d` cannot be restored against its image as it is now (undefined: it is as recorded). */
  private async diskProblem(d: SnapshotDisk, rel: string | undefined): Promise<SnapshotDiskProblem | undefined> {
    if (rel === undefined) return { path: d.path, problem: 'it lies outside the workspace' };
    const readAt = Date.now();
    let id: FileIdentity;
    try {
      id = await this.files.stat(d.path);
    } catch (err) {
      return { path: rel, problem: readProblem(err) };
    }
    const modified = new Date(id.mtimeMs).toISOString();
    // Another size needs no hashing.
    const resized = diskChange(d, { size: id.size });
    if (resized !== undefined) return { path: rel, problem: resized, modified };
    let now: FileDigest;
    try {
      now = await this.digest(d.path, id, readAt);
    } catch (err) {
      return { path: rel, problem: readProblem(err) };
    }
    const change = diskChange(d, now, true);
    return change === undefined ? undefined : { path: rel, problem: change, modified };
  }

  /** An image's digest, hashed once per version of the image (one that grew while hashed is not kept). */
  private digest(path: string, id: FileIdentity, readAt: number): Promise<FileDigest> {
    const known = this.digests.get(path);
    if (known?.key === identityKey(id)) return known.value;
    return remember(this.digests, path, id, readAt, this.files.digest(path), (got) => got.size === id.size);
  }

  private async verdict(path: string, real: string): Promise<Verdict> {
    const readAt = Date.now();
    let id: FileIdentity;
    try {
      id = await this.files.stat(real);
    } catch (err) {
      this.verdicts.delete(real);
      return { problem: `snapshot ${path}: ${readProblem(err)}` };
    }
    const known = this.verdicts.get(real);
    if (known?.key === identityKey(id)) return known.value;
    return remember(this.verdicts, real, id, readAt, this.read(path, real));
  }

  private async read(path: string, real: string): Promise<Verdict> {
    try {
      const data = await this.files.read(real).catch((err: unknown) => { throw new Error(`snapshot ${path}: ${readProblem(err)}`); });
      const h = decodeSnapshot(data, path, await envelopeChecksumAsync(data)).header;
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
