// The writer lock (docs/disks.md): an image open for writing refuses a second writer with DiskError 'locked',
// lets readers in, takes over a lock whose process is gone, and disappears when the writer closes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createQcow2 } from '../../src/engine/disk/qcow2';
import { DiskError } from '../../src/engine/disk/types';
import { lockPathFor, openDisk } from '../../src/host/disk-files';
import { newStore, scratch } from './support';

const dir = scratch('lock');

function image(name: string, format: 'raw' | 'qcow2'): string {
  const path = join(dir, name);
  const store = newStore(path);
  if (format === 'qcow2') createQcow2(store, 1 << 20);
  else store.resize(1 << 20);
  store.close();
  return path;
}

function lockError(fn: () => unknown): DiskError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DiskError) return err;
    throw err;
  }
  throw new Error('expected a DiskError');
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('writer lock', () => {
  it.each(['raw', 'qcow2'] as const)('refuses a second writer of a %s image, lets readers in, and unlocks on close', (format) => {
    const path = image(`one.${format}`, format);
    const writer = openDisk(path);
    expect(readFileSync(lockPathFor(path), 'utf8').trim()).toBe(String(process.pid));
    const err = lockError(() => openDisk(path));
    expect(err.code).toBe('locked');
    // A second writer in the same process hears that, not its own pid as "the other writer".
    expect(err.message).toContain('already open for writing in this vmlab');
    expect(err.message).not.toContain(String(process.pid));
    // A writer that named itself is named to the second one.
    const owned = image(`owned.${format}`, format);
    const alpha = openDisk(owned, { owner: "VM 'alpha'" });
    expect(lockError(() => openDisk(owned, { owner: "VM 'beta'" })).message).toMatch(/^\S*owned\.\w+ is already open for writing by VM 'alpha'; attach it read-only/);
    alpha.close();
    const data = new Uint8Array(512).fill(9);
    writer.write(0, data);
    writer.flush();
    // A qcow2 reader sees the metadata as of its open (it caches the L1 table), so it opens after the flush.
    const reader = openDisk(path, { readOnly: true });
    const seen = new Uint8Array(512);
    reader.read(0, seen);
    expect(seen).toEqual(data);
    reader.close();
    writer.close();
    expect(existsSync(lockPathFor(path))).toBe(false);
    openDisk(path).close();
  });

  it('takes over a lock left by a process that is gone, and one holding garbage', () => {
    const path = image('stale.qcow2', 'qcow2');
    for (const content of [`${deadPid()}\n`, 'not a pid\n']) {
      writeFileSync(lockPathFor(path), content);
      const disk = openDisk(path);
      expect(readFileSync(lockPathFor(path), 'utf8').trim()).toBe(String(process.pid));
      disk.close();
      expect(existsSync(lockPathFor(path))).toBe(false);
    }
  });

  it('respects a lock held by another live process and leaves its lock file alone', () => {
    const path = image('live.qcow2', 'qcow2');
    writeFileSync(lockPathFor(path), `${process.ppid}\n`);
    const err = lockError(() => openDisk(path));
    expect(err.code).toBe('locked');
    expect(err.message).toContain(`process ${process.ppid}`);
    expect(readFileSync(lockPathFor(path), 'utf8').trim()).toBe(String(process.ppid));
    openDisk(path, { readOnly: true }).close();
  });

  it('locks every name of one image together: a symlink and a linked folder take the image\'s own lock', () => {
    const path = image('named.img', 'raw');
    symlinkSync('named.img', join(dir, 'alias.img'));
    mkdirSync(join(dir, 'sub'));
    symlinkSync('..', join(dir, 'sub', 'up'));
    const writer = openDisk(join(dir, 'alias.img'));
    expect(lockPathFor(join(dir, 'alias.img'))).toBe(lockPathFor(path));
    expect(existsSync(`${path}.lock`)).toBe(true);
    expect(existsSync(join(dir, 'alias.img.lock'))).toBe(false);
    for (const name of [path, join(dir, 'sub', 'up', 'named.img')]) expect(lockError(() => openDisk(name)).code).toBe('locked');
    writer.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
    openDisk(join(dir, 'sub', 'up', 'named.img')).close();
  });

  it('opens backing files read-only without locking them', () => {
    const base = image('base.qcow2', 'qcow2');
    const top = join(dir, 'top.qcow2');
    const store = newStore(top);
    createQcow2(store, 1 << 20, { backing: { file: 'base.qcow2', format: 'qcow2' } });
    store.close();
    const a = openDisk(top);
    expect(existsSync(lockPathFor(base))).toBe(false);
    const baseWriter = openDisk(base);
    baseWriter.close();
    a.close();
  });
});
