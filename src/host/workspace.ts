// The workspace folder (docs/app.md: files are reached only inside the workspace the user opened).
// Every path arrives relative, with '/' separators, and goes through the path policy (paths.ts) before
// any file system call: '..' parts, absolute paths and symbolic links whose target lies outside the
// folder are refused, and each operation then uses the names the policy resolved.

import { constants } from 'node:fs';
import { access, lstat, mkdir, readdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import type { FileEntry, WorkspaceInfo } from '../shared/lab-api';
import { LabError } from './errors';
import { PathPolicy, pathError, readResolved, type ResolvedPath } from './paths';
import { binaryFileNote } from './text-file';

/** Folders the tree does not show (build output of tools, VCS metadata, the lab's stored VMs). */
const HIDDEN = new Set(['.git', 'node_modules', '.vmlab']);

/** A disk image's writer lock (disk-files.ts): the disk layer's own file, come and gone with a writer. */
const DISK_LOCK = /\.(img|raw|qcow2)\.lock$/i;

/**
 * The temporary file of a `write` in flight (`.NAME.PID.SEQ.tmp`, renamed onto NAME when complete):
 * left out of listings, since rewriting a file that exists announces no change and a tree read
 * meanwhile would keep it.
 */
const WRITE_TMP = /^\..+\.\d+\.\d+\.tmp$/;

/** Numbers each temporary file of `write`, so concurrent writes of one file never share a name. */
let tmpSeq = 0;

/** Largest file `read` returns (editor buffers, kernels). */
export const MAX_FILE_SIZE = 64 * 1024 * 1024;

/** A workspace rooted at one real (symlink-free) folder. */
export class Workspace {
  /** The path policy every file of this workspace is named through. */
  readonly policy: PathPolicy;

  private constructor(readonly root: string) {
    this.policy = new PathPolicy(root);
  }

  /** Opens `folder` (created when missing). */
  static async open(folder: string): Promise<Workspace> {
    await mkdir(folder, { recursive: true });
    return new Workspace(await realpath(folder));
  }

  /** Name and location. */
  info(): WorkspaceInfo {
    return { root: this.root, name: basename(this.root) };
  }

  /**
   * Resolves a workspace path with the path policy, refusing anything that could leave the folder:
   * empty, absolute, drive-letter or backslash paths, '..' segments, NUL bytes, and symlinks (of the
   * path or any existing ancestor) resolving outside.
   */
  resolvePath(path: string): ResolvedPath {
    return this.policy.workspacePath(path);
  }

  /** The real host path of a workspace path (resolvePath(path).real): for callers that only need the name. */
  async resolve(path: string): Promise<string> {
    return this.resolvePath(path).real;
  }

  private inside(real: string): boolean {
    return this.policy.contains(real);
  }

  /** Workspace-relative form of an absolute path inside the root. */
  relativePath(full: string): string {
    return relative(this.root, full).split(sep).join('/');
  }

  /**
   * Every file and folder, depth first, each folder's subfolders before its files (as editors' trees
   * show them, so the labs stay together above the files a user adds), each group sorted by name;
   * symlinks leading out, disk images' lock files and the temporary files of writes in flight are
   * left out.
   */
  async list(): Promise<FileEntry[]> {
    const out: FileEntry[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true });
      entries.sort((a, b) => Number(b.isDirectory()) - Number(a.isDirectory()) || a.name.localeCompare(b.name));
      for (const e of entries) {
        if (HIDDEN.has(e.name) || ((DISK_LOCK.test(e.name) || WRITE_TMP.test(e.name)) && e.isFile())) continue;
        const full = join(dir, e.name);
        let isDir = e.isDirectory();
        if (e.isSymbolicLink()) {
          try {
            const real = await realpath(full);
            if (!this.inside(real)) continue;
            isDir = (await lstat(real)).isDirectory();
            if (isDir) continue; // linked folders could form cycles; link files only
          } catch {
            continue;
          }
        }
        out.push({ path: this.relativePath(full), kind: isDir ? 'dir' : 'file' });
        if (isDir) await walk(full);
      }
    };
    await walk(this.root);
    return out;
  }

  /**
   * Reads a file for the assembler's `.include`/`.incbin` (synchronous, as the assembler is):
   * '..' may climb between folders but never above the root; anything refused or missing is
   * undefined, which the assembler reports as a file it cannot find.
   */
  readIncluded(path: string): Uint8Array | undefined {
    const norm = posix.normalize(path);
    if (norm.startsWith('..') || norm.startsWith('/')) return undefined;
    try {
      return readResolved(this.resolvePath(norm), 'an included file', MAX_FILE_SIZE);
    } catch {
      return undefined;
    }
  }

  /** Whether a path exists in the workspace. */
  async exists(path: string): Promise<boolean> {
    return this.resolvePath(path).exists;
  }

  /** Reads a file's bytes (a regular file of at most MAX_FILE_SIZE bytes). */
  async readBytes(path: string): Promise<Uint8Array> {
    return readResolved(this.resolvePath(path), 'a file to read', MAX_FILE_SIZE);
  }

  /** Reads a text file (UTF-8); refuses a binary one (text-file.ts), saying what it is. */
  async readText(path: string): Promise<string> {
    const bytes = await this.readBytes(path);
    const binary = binaryFileNote(path, bytes);
    if (binary !== undefined) throw new LabError('bad-request', `'${path}' is not a text file: ${binary}`);
    return new TextDecoder().decode(bytes);
  }

  /** Writes a file through a temporary name and a rename, so a crash never leaves half a file. */
  async write(path: string, data: string | Uint8Array): Promise<void> {
    const p = this.resolvePath(path);
    const st = p.exists ? await lstat(p.real) : undefined;
    if (st?.isDirectory()) throw new LabError('bad-request', `'${path}' is a folder`);
    await this.requireParent(path, p.real);
    // A link inside the workspace is written through: its target gets the new contents.
    const tmp = join(dirname(p.real), `.${basename(p.real).slice(0, 200)}.${process.pid}.${++tmpSeq}.tmp`);
    try {
      await writeFile(tmp, data, { flag: 'wx' });
      await rename(tmp, p.real);
    } catch (err) {
      await rm(tmp, { force: true });
      throw pathError(err, `'${path}'`, p.real);
    }
  }

  /** Creates an empty file or a folder, with the folders above it that are missing; refuses to overwrite. */
  async create(path: string, kind: 'file' | 'dir'): Promise<void> {
    const p = this.resolvePath(path);
    if (p.exists || (await exists(p.entry))) throw new LabError('exists', `'${path}' already exists`);
    try {
      if (kind === 'dir') {
        await mkdir(p.real, { recursive: true });
      } else {
        await mkdir(dirname(p.real), { recursive: true });
        await writeFile(p.real, '', { flag: 'wx' });
      }
    } catch (err) {
      throw pathError(err, `'${path}'`, p.real);
    }
  }

  /** Renames or moves inside the workspace; refuses to overwrite. */
  async rename(from: string, to: string): Promise<void> {
    const src = this.resolvePath(from);
    const dst = this.resolvePath(to);
    if (!(await exists(src.entry))) throw new LabError('not-found', `'${from}' does not exist`);
    if (dst.exists || (await exists(dst.entry))) throw new LabError('exists', `'${to}' already exists`);
    await this.requireParent(to, dst.entry);
    try {
      await rename(src.entry, dst.entry);
    } catch (err) {
      throw pathError(err, `'${to}'`, dst.entry);
    }
  }

  /** Deletes a file or a folder with its contents (a symlink itself, never its target). */
  async delete(path: string): Promise<void> {
    const p = this.resolvePath(path);
    if (!(await exists(p.entry))) throw new LabError('not-found', `'${path}' does not exist`);
    try {
      await rm(p.entry, { recursive: true });
    } catch (err) {
      throw pathError(err, `'${path}'`, p.entry);
    }
  }

  private async requireParent(path: string, full: string): Promise<void> {
    const st = await lstat(dirname(full)).catch(() => undefined);
    if (!st?.isDirectory()) throw new LabError('not-found', `the folder of '${path}' does not exist`);
  }
}

async function exists(full: string): Promise<boolean> {
  try {
    await lstat(full);
    return true;
  } catch {
    return false;
  }
}

/** Whether `folder` exists and is readable. */
export async function folderExists(folder: string): Promise<boolean> {
  try {
    await access(folder, constants.R_OK);
    return (await lstat(folder)).isDirectory();
  } catch {
    return false;
  }
}
