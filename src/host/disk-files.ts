// Disk images as host files (docs/disks.md): a synchronous node:fs ByteStore, a writer lock next to the image,
// and openDisk(), which probes the format and opens raw or qcow2 images with their backing chains.
// Every file is named and opened through the path policy (paths.ts): an image's backing files are
// resolved by the policy the image was resolved by, from the image's real folder, so in the lab a chain
// never leaves the workspace; only regular files open, and a FIFO or a device never blocks.
// Locking (docs/disks.md): a writer creates `<image>.lock` with O_EXCL holding its pid; a lock whose pid
// no longer runs is stale and taken over. Readers never lock. This does not interlock with QEMU's OFD locks.

import { closeSync, constants, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { Qcow2Disk } from '../engine/disk/qcow2';
import { RawDisk } from '../engine/disk/raw';
import { DiskError, type BlockDevice, type ByteStore } from '../engine/disk/types';
import { checkRegular, HOST_FILES, openResolved, type ResolvedPath } from './paths';

/** A file to open: a host path as the command line names it, or a path the policy resolved. */
export type DiskPath = string | ResolvedPath;

/** The resolved form of a DiskPath (a plain string goes through the command line's policy). */
export function resolveDiskPath(path: DiskPath): ResolvedPath {
  return typeof path === 'string' ? HOST_FILES.hostPath(path) : path;
}

/** Options for FileByteStore.open. */
export interface FileStoreOptions {
  /** Open without write access (default false). */
  readOnly?: boolean;
  /** Create the file when missing and truncate it to zero length (implies writable). */
  create?: boolean;
  /** Take the writer lock (default: when writable). */
  lock?: boolean;
  /** Who opens it, named when a second writer in the same process finds the lock (e.g. "VM 'alpha'"). */
  owner?: string;
}

/** A byte store over a host file, using synchronous node:fs calls. */
export class FileByteStore implements ByteStore {
  private fd: number | undefined;
  private size: number;
  private lockPath: string | undefined;

  /** `path` is the name messages use. */
  private constructor(readonly path: string, fd: number, size: number, readonly readOnly: boolean, lockPath: string | undefined) {
    this.fd = fd;
    this.lockPath = lockPath;
    this.size = size;
  }

  /**
   * Opens (or creates) a regular file; a writable open takes the writer lock and throws DiskError
   * 'locked' when held. Anything but a regular file is refused (LabError) before it could block.
   */
  static open(path: DiskPath, opts: FileStoreOptions = {}): FileByteStore {
    const p = resolveDiskPath(path);
    const readOnly = !opts.create && opts.readOnly === true;
    // A FIFO or a device gets no lock file beside it (/dev/null.lock): refused first.
    checkRegular(p, { what: 'a disk image', create: opts.create });
    const lockPath = (opts.lock ?? !readOnly) ? acquireLock(p, opts.owner) : undefined;
    try {
      const { fd, size } = openResolved(p, { what: 'a disk image', write: !readOnly, create: opts.create });
      return new FileByteStore(p.name, fd, size, readOnly, lockPath);
    } catch (err) {
      if (lockPath) releaseLock(lockPath);
      throw err;
    }
  }

  get length(): number {
    return this.size;
  }

  read(offset: number, into: Uint8Array): void {
    const fd = this.handle();
    let done = 0;
    while (done < into.length && offset + done < this.size) {
      const n = this.io(() => readSync(fd, into, done, into.length - done, offset + done));
      if (n === 0) break;
      done += n;
    }
    into.fill(0, done);
  }

  write(offset: number, data: Uint8Array): void {
    const fd = this.handle();
    if (this.readOnly) throw new DiskError('readonly', `${this.path} is open read-only`);
    let done = 0;
    while (done < data.length) {
      done += this.io(() => writeSync(fd, data, done, data.length - done, offset + done));
    }
    this.size = Math.max(this.size, offset + data.length);
  }

  resize(length: number): void {
    const fd = this.handle();
    if (this.readOnly) throw new DiskError('readonly', `${this.path} is open read-only`);
    this.io(() => ftruncateSync(fd, length));
    this.size = length;
  }

  flush(): void {
    const fd = this.handle();
    // fsync (not fdatasync): a grown file's new length is metadata the image needs after a crash.
    if (!this.readOnly) this.io(() => fsyncSync(fd));
  }

  close(): void {
    const fd = this.handle();
    this.fd = undefined;
    try {
      closeSync(fd);
    } finally {
      if (this.lockPath) releaseLock(this.lockPath);
      this.lockPath = undefined;
    }
  }

  private handle(): number {
    if (this.fd === undefined) throw new DiskError('io', `${this.path} is closed`);
    return this.fd;
  }

  private io<T>(op: () => T): T {
    try {
      return op();
    } catch (err) {
      throw new DiskError('io', `${this.path}: ${(err as Error).message}`);
    }
  }
}

/**
 * Path of the lock file that guards writers of `image`: beside the file its name resolves to, so every
 * name of one image (a symlink, a path through a linked folder) takes the same lock.
 */
export function lockPathFor(image: string): string {
  let real = image;
  try {
    real = realpathSync(image);
  } catch {
    // Not created yet: the new file's own name.
  }
  return `${real}.lock`;
}

/** Locks this process holds, with who holds each (for the message a second writer gets). */
const heldLocks = new Map<string, string | undefined>();
let exitHookInstalled = false;

function acquireLock(image: ResolvedPath, owner: string | undefined): string {
  const lockPath = `${image.real}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      heldLocks.set(lockPath, owner);
      installExitHook();
      return lockPath;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DiskError('io', `cannot create the lock file ${lockPath}: ${(err as Error).message}`);
      }
    }
    const holder = readLockPid(lockPath);
    if (holder === process.pid && heldLocks.has(lockPath)) {
      const by = heldLocks.get(lockPath);
      throw new DiskError('locked', `${image.name} is already open for writing ${by === undefined ? 'in this vmlab' : `by ${by}`}; attach it read-only (readonly) or give each its own image`);
    }
    if (holder !== undefined && (holder === process.pid || processAlive(holder))) {
      throw new DiskError('locked', `${image.name} is already open for writing by process ${holder} (lock file ${lockPath}); open it read-only or close the other writer`);
    }
    // Stale: the holder is gone (or the file is unreadable garbage). Remove it only if it still names the
    // same holder, then race for O_EXCL again; a second stale takeover in the same instant is the one window left.
    if (readLockPid(lockPath) === holder) {
      try {
        unlinkSync(lockPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new DiskError('io', `cannot remove the stale lock ${lockPath}: ${(err as Error).message}`);
      }
    }
  }
  throw new DiskError('locked', `${image.name} is being locked by another process (lock file ${lockPath})`);
}

function releaseLock(lockPath: string): void {
  heldLocks.delete(lockPath);
  try {
    if (readLockPid(lockPath) === process.pid) unlinkSync(lockPath);
  } catch {
    // Already gone: nothing to release.
  }
}

function readLockPid(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const lockPath of [...heldLocks.keys()]) releaseLock(lockPath);
  });
}

/** Disk image formats openDisk understands. */
export type DiskFormat = 'raw' | 'qcow2';

/** Options for openDisk. */
export interface OpenDiskOptions {
  /** The image's format; probed from its magic when absent. */
  format?: DiskFormat;
  /** Open without write access and without taking the writer lock. */
  readOnly?: boolean;
  /** Who opens it, for the message a second writer in this process gets (e.g. "VM 'alpha'"). */
  owner?: string;
}

const QCOW2_MAGIC = 0x514649fb;

/** Reads the first bytes of `path` and names its format: qcow2 by its magic, raw otherwise. */
export function probeFormat(path: DiskPath): DiskFormat {
  const store = FileByteStore.open(path, { readOnly: true });
  try {
    const head = new Uint8Array(4);
    store.read(0, head);
    const magic = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
    return store.length >= 4 && magic === QCOW2_MAGIC ? 'qcow2' : 'raw';
  } finally {
    store.close();
  }
}

/** Opens a disk image file as a BlockDevice; a writable open locks the image against other writers. */
export function openDisk(path: DiskPath, opts: OpenDiskOptions = {}): BlockDevice {
  const p = resolveDiskPath(path);
  const format = opts.format ?? probeFormat(p);
  if (format === 'raw') return new RawDisk(FileByteStore.open(p, { readOnly: opts.readOnly, owner: opts.owner }));
  if (format === 'qcow2') return openQcow2File(p, opts.readOnly === true, new Set(), opts.owner);
  throw new DiskError('unsupported', `${p.name}: unknown disk format '${String(format)}' (known: raw, qcow2)`);
}

/** Longest backing chain openDisk follows. */
export const MAX_BACKING_DEPTH = 16;

function openQcow2File(p: ResolvedPath, readOnly: boolean, chain: Set<string>, owner?: string): BlockDevice {
  if (chain.has(p.real)) throw new DiskError('corrupt', `${p.name}: the backing chain loops back to ${p.name}`);
  if (chain.size >= MAX_BACKING_DEPTH) throw new DiskError('unsupported', `${p.name}: backing chain deeper than ${MAX_BACKING_DEPTH} images`);
  const inner = new Set(chain).add(p.real);
  const store = FileByteStore.open(p, { readOnly, owner });
  try {
    return Qcow2Disk.open(store, {
      openBacking: (name, format) => {
        const backing = p.policy.backing(p, name);
        const fmt = format === undefined ? probeFormat(backing) : format;
        if (fmt === 'raw') return new RawDisk(FileByteStore.open(backing, { readOnly: true }));
        if (fmt === 'qcow2') return openQcow2File(backing, true, inner);
        throw new DiskError('unsupported', `${p.name}: backing file ${name} has format '${fmt}' (vmlab reads raw and qcow2)`);
      },
    });
  } catch (err) {
    store.close();
    if (err instanceof DiskError && !err.message.startsWith(p.name)) throw new DiskError(err.code, `${p.name}: ${err.message}`);
    throw err;
  }
}
