// The workspace folder (DESIGN 7: files are reached only inside the workspace the user opened).
// Every path arrives relative, with '/' separators; '..' segments, absolute paths and symbolic
// links whose target lies outside the folder are refused before any file system call that could
// follow them.

import { constants, readFileSync, realpathSync, statSync } from 'node:fs';
import { access, lstat, mkdir, readdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import type { FileEntry, WorkspaceInfo } from '../shared/lab-api';
import { LabError } from './errors';

/** Folders the tree does not show (build output of tools, VCS metadata). */
const HIDDEN = new Set(['.git', 'node_modules']);

/** A disk image's writer lock (disk-files.ts): the disk layer's own file, come and gone with a writer. */
const DISK_LOCK = /\.(img|raw|qcow2)\.lock$/i;

/** Numbers each temporary file of `write`, so concurrent writes of one file never share a name. */
let tmpSeq = 0;

/** Largest file `read` returns (editor buffers, kernels). */
export const MAX_FILE_SIZE = 64 * 1024 * 1024;

/** A workspace rooted at one real (symlink-free) folder. */
export class Workspace {
  private constructor(readonly root: string) {}

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
   * Maps a workspace path to an absolute host path, refusing anything that could leave the folder:
   * empty, absolute, drive-letter or backslash paths, '..' segments, NUL bytes, and symlinks (of the
   * path or any existing ancestor) resolving outside.
   */
  async resolve(path: string): Promise<string> {
    const full = this.lexical(path);
    let probe = full;
    // Find the deepest existing ancestor and check where it really is.
    while (true) {
      try {
        const real = await realpath(probe);
        if (!this.inside(real)) throw new LabError('outside-workspace', `'${path}' leads outside the workspace`);
        break;
      } catch (err) {
        if (err instanceof LabError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
        // A dangling symlink is refused outright: its target could be created outside later.
        if (await isSymlink(probe)) throw new LabError('outside-workspace', `'${path}' is a link to a missing target`);
        const parent = dirname(probe);
        if (parent === probe) break;
        probe = parent;
      }
    }
    return full;
  }

  /** Lexical checks only; see resolve. */
  private lexical(path: string): string {
    if (path.length === 0) throw new LabError('bad-request', 'empty path');
    if (path.includes('\0')) throw new LabError('bad-request', 'path contains a NUL byte');
    if (path.startsWith('/') || path.includes('\\') || /^[A-Za-z]:/.test(path)) {
      throw new LabError('outside-workspace', `'${path}' is not a path inside the workspace (use a relative path)`);
    }
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw new LabError('outside-workspace', `'${path}' leads outside the workspace ('..')`);
    if (parts.length === 0) throw new LabError('bad-request', `'${path}' names the workspace itself`);
    return join(this.root, ...parts);
  }

  private inside(real: string): boolean {
    return real === this.root || real.startsWith(this.root + sep);
  }

  /** Workspace-relative form of an absolute path inside the root. */
  relativePath(full: string): string {
    return relative(this.root, full).split(sep).join('/');
  }

  /** Every file and folder, depth first, sorted by name; symlinks leading out and disk images' lock files are left out. */
  async list(): Promise<FileEntry[]> {
    const out: FileEntry[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true });
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const e of entries) {
        if (HIDDEN.has(e.name) || (DISK_LOCK.test(e.name) && e.isFile())) continue;
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
      const real = realpathSync(this.lexical(norm));
      if (!this.inside(real)) return undefined;
      const st = statSync(real);
      if (!st.isFile() || st.size > MAX_FILE_SIZE) return undefined;
      return new Uint8Array(readFileSync(real));
    } catch {
      return undefined;
    }
  }

  /** Whether a path exists in the workspace. */
  async exists(path: string): Promise<boolean> {
    return exists(await this.resolve(path));
  }

  /** Reads a file's bytes. */
  async readBytes(path: string): Promise<Uint8Array> {
    const full = await this.resolve(path);
    const st = await lstat(full).catch(() => undefined);
    if (!st) throw new LabError('not-found', `'${path}' does not exist`);
    if (st.isDirectory()) throw new LabError('bad-request', `'${path}' is a folder`);
    const real = await realpath(full);
    const size = (await lstat(real)).size;
    if (size > MAX_FILE_SIZE) throw new LabError('bad-request', `'${path}' is larger than ${MAX_FILE_SIZE >> 20} MiB`);
    return new Uint8Array(await readFile(real));
  }

  /** Reads a text file (UTF-8). */
  async readText(path: string): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(path));
  }

  /** Writes a file through a temporary name and a rename, so a crash never leaves half a file. */
  async write(path: string, data: string | Uint8Array): Promise<void> {
    const full = await this.resolve(path);
    const st = await lstat(full).catch(() => undefined);
    if (st?.isDirectory()) throw new LabError('bad-request', `'${path}' is a folder`);
    await this.requireParent(path, full);
    const target = st?.isSymbolicLink() ? await realpath(full) : full;
    const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${++tmpSeq}.tmp`);
    await writeFile(tmp, data);
    await rename(tmp, target);
  }

  /** Creates an empty file or a folder; refuses to overwrite. */
  async create(path: string, kind: 'file' | 'dir'): Promise<void> {
    const full = await this.resolve(path);
    if (await exists(full)) throw new LabError('exists', `'${path}' already exists`);
    if (kind === 'dir') {
      await mkdir(full, { recursive: true });
    } else {
      await this.requireParent(path, full);
      await writeFile(full, '', { flag: 'wx' });
    }
  }

  /** Renames or moves inside the workspace; refuses to overwrite. */
  async rename(from: string, to: string): Promise<void> {
    const src = await this.resolve(from);
    const dst = await this.resolve(to);
    if (!(await exists(src))) throw new LabError('not-found', `'${from}' does not exist`);
    if (await exists(dst)) throw new LabError('exists', `'${to}' already exists`);
    await this.requireParent(to, dst);
    await rename(src, dst);
  }

  /** Deletes a file or a folder with its contents (a symlink itself, never its target). */
  async delete(path: string): Promise<void> {
    const full = await this.resolve(path);
    if (!(await exists(full))) throw new LabError('not-found', `'${path}' does not exist`);
    await rm(full, { recursive: true });
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

async function isSymlink(full: string): Promise<boolean> {
  try {
    return (await lstat(full)).isSymbolicLink();
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
