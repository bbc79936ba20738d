// The host's one path policy (docs/security-paths.md). Every file the host opens for a user or a guest
// (workspace files, kernels, disk images, backing files) is named by PathPolicy.resolve, which resolves
// symbolic links once and, for a workspace, checks that the real path lies inside it; and opened by
// openResolved, which opens exactly that real path: O_NOFOLLOW (a link put in its place since is
// refused), O_NONBLOCK with a type check before and after the open (a FIFO, a device, a folder or a
// socket is refused, never waited on), the size checked before a byte is read, and on Linux the open
// file's own name (/proc/self/fd) checked against the workspace once more. The command line's policy
// has no root: like QEMU it opens any host file the user names, with the same type and size checks.
// Errors are LabErrors whose messages name the path as the user gave it, never the host's errno text.

import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, realpathSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LabError } from './errors';

/** A path the policy let through. */
export interface ResolvedPath {
  /** The name messages use: workspace-relative in the lab, as given on the command line. */
  readonly name: string;
  /** Absolute path with every symbolic link resolved (a missing file: its existing folders resolved). */
  readonly real: string;
  /** The entry itself (for rename and delete): its folder resolved, its last part as named, so a link stays a link. */
  readonly entry: string;
  /** Whether the file (a link: its target) exists. */
  readonly exists: boolean;
  /** The policy that resolved it; backing files of an image are resolved by the same one. */
  readonly policy: PathPolicy;
}

/** Names that may not be followed: where a name leads, and whether it may go there. */
export class PathPolicy {
  /** `root`: the workspace's real folder; undefined for the command line, which may name any host file. */
  constructor(readonly root?: string) {}

  /** Whether an absolute, symlink-free path lies inside the root (always, without one). */
  contains(real: string): boolean {
    return this.root === undefined || real === this.root || real.startsWith(this.root + sep);
  }

  /** The workspace-relative form of a path inside the root (the path itself without a root). */
  display(real: string): string {
    if (this.root === undefined) return real;
    return relative(this.root, real).split(sep).join('/');
  }

  /**
   * A workspace path: relative, '/'-separated, no '..' part, no NUL byte, no drive letter or
   * backslash; resolved and confined.
   */
  workspacePath(path: string): ResolvedPath {
    if (this.root === undefined) throw new Error('workspacePath needs a workspace root');
    if (path.length === 0) throw new LabError('bad-request', 'empty path');
    if (path.includes('\0')) throw new LabError('bad-request', 'path contains a NUL byte');
    if (path.startsWith('/') || path.includes('\\') || /^[A-Za-z]:/.test(path)) {
      throw new LabError('outside-workspace', `'${short(path)}' is not a path inside the workspace (use a relative path)`);
    }
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw new LabError('outside-workspace', `'${short(path)}' leads outside the workspace ('..')`);
    if (parts.length === 0) throw new LabError('bad-request', `'${short(path)}' names the workspace itself`);
    return this.resolve(join(this.root, ...parts), path);
  }

  /** A host path as the command line names it, relative to `base` (default: the current folder). */
  hostPath(path: string, base = process.cwd()): ResolvedPath {
    if (path.length === 0) throw new LabError('bad-request', 'empty path');
    if (path.includes('\0')) throw new LabError('bad-request', `'${printable(path)}': the path contains a NUL byte`);
    return this.resolve(resolve(base, path), path);
  }

  /**
   * The file a backing file name of `image` leads to. As QEMU, a relative name is relative to the image's
   * folder, but to its real folder: the image is opened under its real name, so the chain is resolved from
   * there too (from a symlink's own folder, a check could look at a different file than the open).
   */
  backing(image: ResolvedPath, name: string): ResolvedPath {
    // An absolute name outside the workspace is not repeated: the message would carry a host path.
    const shown = this.root !== undefined && isAbsolute(name) ? (this.contains(name) ? this.display(name) : null) : printable(name);
    const label = `${image.name}: its backing file${shown === null ? ', an absolute path,' : ` ${shown}`}`;
    if (name.length === 0) throw new LabError('bad-request', `${image.name}: the backing file name is empty`);
    if (name.includes('\0')) throw new LabError('bad-request', `${image.name}: the backing file name contains a NUL byte`);
    const full = isAbsolute(name) ? name : resolve(dirname(image.real), name);
    const p = this.resolve(full, name, label);
    if (!p.exists) throw new LabError('not-found', `${label} is missing`);
    return { ...p, name: this.root === undefined ? name : this.display(p.real) };
  }

  /**
   * A path another part of the host resolved with this policy already (the lab service for the VMM
   * worker): checked to be absolute and inside the root without resolving it again; openResolved
   * then opens exactly it.
   */
  adopt(real: string, name: string): ResolvedPath {
    if (!isAbsolute(real) || !this.contains(real)) throw new LabError('outside-workspace', `'${short(name)}' lies outside the workspace`);
    return { name, real, entry: real, exists: true, policy: this };
  }

  /**
   * The one resolution: symbolic links of `full` resolved once (a missing file: its deepest existing
   * folder resolved and the rest appended; a dangling link is refused, its target could appear
   * outside later), the real path and the entry's folder confined to the root. `label` names the
   * path in messages.
   */
  resolve(full: string, name: string, label = `'${short(name)}'`): ResolvedPath {
    const { real, exists } = realOf(full, label);
    if (!this.contains(real)) throw new LabError('outside-workspace', `${label} ${exists ? 'lies' : 'would lie'} outside the workspace`);
    let entry = real;
    if (entry !== full) {
      const parent = dirname(full);
      const realParent = parent === full ? parent : realOf(parent, label).real;
      if (!this.contains(realParent)) {
        throw new LabError('outside-workspace', `${label} lies in a folder outside the workspace`);
      }
      entry = join(realParent, basename(full));
    }
    return { name, real, entry, exists, policy: this };
  }
}

/** The command line's policy: any host file, as QEMU opens it. */
export const HOST_FILES = new PathPolicy();

/** realpath of `full`; a missing file's existing folders resolved and the rest appended. */
function realOf(full: string, label: string): { real: string; exists: boolean } {
  try {
    return { real: realpathSync.native(full), exists: true };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw pathError(err, label, full);
    if (isLink(full)) throw new LabError('outside-workspace', `${label} is a link to a missing target`);
    const parent = dirname(full);
    if (parent === full) return { real: full, exists: false };
    return { real: join(realOf(parent, label).real, basename(full)), exists: false };
  }
}

function isLink(full: string): boolean {
  try {
    return lstatSync(full).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A path too long to quote whole in a one-line message is cut in the middle. */
function short(path: string): string {
  const p = printable(path);
  return p.length <= 80 ? p : `${p.slice(0, 40)}…${p.slice(-30)}`;
}

/** Control characters (a NUL byte among them) shown as escapes. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * A file system error as a LabError naming `label`, in words instead of the errno text (which would
 * carry the absolute host path). `full` is the host path the call used, to find a file among its folders.
 */
export function pathError(err: unknown, label: string, full?: string): LabError {
  if (err instanceof LabError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return new LabError('not-found', `${label} does not exist`);
    case 'ENOTDIR': {
      const file = full === undefined ? undefined : fileAmongFolders(full);
      return new LabError('not-found', `${label} does not exist: ${file === undefined ? 'a part of it' : `'${basename(file)}'`} is a file, not a folder`);
    }
    case 'ENAMETOOLONG':
      return new LabError('bad-request', `${label} is too long (a name may have at most 255 bytes, a path 4,095)`);
    case 'ELOOP':
      return new LabError('bad-request', `${label} goes through too many symbolic links (a link loop?)`);
    case 'EACCES':
    case 'EPERM':
      return new LabError('bad-request', `${label}: permission denied`);
    case 'EISDIR':
      return new LabError('bad-request', `${label} is a folder`);
    case 'EEXIST':
      return new LabError('exists', `${label} exists already`);
    case 'ENOSPC':
      return new LabError('failed', `${label}: no space left on the device`);
    case 'EROFS':
      return new LabError('bad-request', `${label} is on a read-only file system`);
    default:
      return new LabError('failed', `${label}: ${code ? `the file system refused (${code})` : (err instanceof Error ? err.message : String(err))}`);
  }
}

/** The deepest existing part of `full` when it is not a folder (so the path cannot go on under it). */
function fileAmongFolders(full: string): string | undefined {
  for (let p = dirname(full); p !== dirname(p); p = dirname(p)) {
    try {
      return lstatSync(p).isDirectory() ? undefined : p;
    } catch {
      // Missing: look further up.
    }
  }
  return undefined;
}

/** What a file that is not a regular file is, in words ('a FIFO (named pipe)'). */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** How to open a resolved path. */
export interface OpenOptions {
  /** What the file is to be, for messages: 'a disk image', 'a kernel'. */
  what: string;
  /** Open for reading and writing (default: read only). */
  write?: boolean;
  /** Create the file when missing and truncate it (implies write). */
  create?: boolean;
  /** Largest size accepted, checked before anything is read. */
  maxSize?: number;
}

/** An open regular file. */
export interface OpenedFile {
  readonly fd: number;
  readonly size: number;
}

/** O_NOFOLLOW and O_NONBLOCK where the platform has them (Windows has neither, nor FIFOs). */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NONBLOCK = constants.O_NONBLOCK ?? 0;

/** Opens a resolved path as a regular file; anything else is refused before it could block. */
export function openResolved(p: ResolvedPath, opts: OpenOptions): OpenedFile {
  const label = `'${short(p.name)}'`;
  checkRegular(p, opts);
  const access = opts.create ? constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC : opts.write ? constants.O_RDWR : constants.O_RDONLY;
  let fd: number;
  try {
    fd = openSync(p.real, access | NOFOLLOW | NONBLOCK, 0o644);
  } catch (err) {
    throw (err as NodeJS.ErrnoException).code === 'ELOOP'
      ? new LabError('outside-workspace', `${label} became a symbolic link while it was being opened`)
      : pathError(err, label, p.real);
  }
  try {
    const st = fstatSync(fd);
    requireRegular(st, label, opts.what);
    if (opts.maxSize !== undefined && st.size > opts.maxSize) {
      throw new LabError('bad-request', `${label} is ${formatSize(st.size)}, larger than the ${formatSize(opts.maxSize)} vmlab reads as ${opts.what}`);
    }
    const opened = p.policy.root === undefined ? undefined : openedName(fd);
    if (opened !== undefined && !p.policy.contains(opened)) throw new LabError('outside-workspace', `${label} lies outside the workspace`);
    return { fd, size: st.size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Refuses a path that is there but is not a regular file (and, unless it is to be created, one that
 * is missing), before anything opens it or takes a lock beside it.
 */
export function checkRegular(p: ResolvedPath, opts: Pick<OpenOptions, 'what' | 'create'>): void {
  const label = `'${short(p.name)}'`;
  let st: Stats;
  try {
    st = lstatSync(p.real);
  } catch (err) {
    if (opts.create && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw pathError(err, label, p.real);
  }
  requireRegular(st, label, opts.what);
}

/** Reads a whole regular file (at most `maxSize` bytes, checked before reading). */
export function readResolved(p: ResolvedPath, what: string, maxSize: number): Uint8Array {
  const { fd, size } = openResolved(p, { what, maxSize });
  try {
    const out = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, out, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === size ? out : out.slice(0, done);
  } catch (err) {
    throw pathError(err, `'${short(p.name)}'`, p.real);
  } finally {
    closeSync(fd);
  }
}

/** Largest kernel file vmlab loads (the whole file is read into host memory). */
export const MAX_KERNEL_SIZE = 256 * 1024 * 1024;

/**
 * Reads a kernel (ELF or raw image) as QEMU's -kernel would load it: a regular, non-empty file of at
 * most MAX_KERNEL_SIZE bytes, the size checked before reading.
 */
export function readKernel(p: ResolvedPath, maxSize = MAX_KERNEL_SIZE): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readResolved(p, 'a kernel', maxSize);
  } catch (err) {
    if (err instanceof LabError) throw new LabError(err.code, `could not load kernel: ${err.message}`);
    throw err;
  }
  if (bytes.length === 0) throw new LabError('bad-request', `could not load kernel '${short(p.name)}': the file is empty`);
  return bytes;
}

function requireRegular(st: Stats, label: string, what: string): void {
  if (!st.isFile()) throw new LabError('bad-request', `${label} is ${fileKind(st)}, not a regular file: ${what} must be a regular file`);
}

/** The name the kernel gives an open file (Linux); undefined where /proc is not there. */
function openedName(fd: number): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** A byte count as "2 GiB", "1.5 MiB", "100 bytes". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number(v.toFixed(v < 10 ? 1 : 0))} ${units[u]}`;
}
