// One digest of a snapshot's disk images (snapshot-file.ts) serves the save, the Snapshots list and
// the restore: fileDigest hashes at once, fileDigestAsync the same bytes with the event loop let run
// between two 1 MiB chunks, so the host's restore no longer stops everything while it hashes an image.
// A FIFO put where an image was is refused, never waited on: before, the restore's open blocked the
// host until something wrote to the FIFO, and the list's never ended. A helper process writes one byte
// at a time to the FIFO after UNJAM_AFTER seconds, so an open that blocked ends then, and the image it
// read (1 byte, recorded 0) gives it away.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineState, VmState } from '../../src/engine/snapshot/machine-state';
import { checkSnapshotDisks, fileDigest, fileDigestAsync, writeSnapshotFile, type SnapshotDisk } from '../../src/host/snapshot-file';
import { NODE_SNAPSHOT_FILES, SnapshotLister } from '../../src/host/snapshot-list';

/** Seconds before the helper opens the FIFO for writing. */
const UNJAM_AFTER = 6;

const root = mkdtempSync(join(tmpdir(), 'vmlab-digest-'));
let unjammer: ChildProcess | undefined;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A raw image of `size` bytes, each its offset's low byte xor its MiB number. */
function image(name: string, size: number): { path: string; bytes: Buffer } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i ^ (i >>> 20)) & 0xff;
  const path = join(root, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

const recorded = (path: string, size: number, digest: string): SnapshotDisk => ({ path, format: 'raw', readOnly: false, legacy: true, slot: 0, size, sha256: digest });

beforeAll(() => {
  const fifo = join(root, 'fifo.img');
  const r = spawnSync('mkfifo', [fifo]);
  if (r.status !== 0) throw new Error(`mkfifo failed (coreutils): ${r.stderr}`);
  unjammer = spawn('sh', ['-c', `sleep ${UNJAM_AFTER}; while :; do printf x > '${fifo}'; done`], { stdio: 'ignore', detached: true });
});

afterAll(() => {
  if (unjammer?.pid !== undefined) process.kill(-unjammer.pid, 'SIGTERM');
});

describe('fileDigest and fileDigestAsync', () => {
  it.each([0, 5, 1 << 20, (5 << 19) + 3])('give the size and SHA-256 of a file of %i bytes', async (size) => {
    const { path, bytes } = image(`d-${size}.img`, size);
    const want = { size, sha256: sha256(bytes) };
    expect(fileDigest(path)).toEqual(want);
    expect(await fileDigestAsync(path)).toEqual(want);
  });

  it('refuse a missing file and a folder', async () => {
    mkdirSync(join(root, 'folder.img'));
    expect(() => fileDigest(join(root, 'gone.img'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    await expect(fileDigestAsync(join(root, 'gone.img'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => fileDigest(join(root, 'folder.img'))).toThrow('it is a folder, not a regular file');
  });
});

/** What `work` gives, and how many times the event loop turned while it ran (started after the counter). */
async function loopTurns<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let spinning = true;
  const spin = (): void => {
    turns++;
    if (spinning) setImmediate(spin);
  };
  setImmediate(spin);
  try {
    return { value: await work(), turns };
  } finally {
    spinning = false;
  }
}

describe("restore's disk check", () => {
  it('lets the event loop run while it hashes an 8 MiB image', async () => {
    const { path, bytes } = image('big.img', 8 << 20);
    const { turns } = await loopTurns(() => checkSnapshotDisks('snapshot s.snap', [recorded(path, bytes.length, sha256(bytes))]));
    // One turn at least per 1 MiB chunk; the old check hashed the image in one go (no turn at all).
    expect(turns).toBeGreaterThanOrEqual(8);
  });

  it('refuses an image that changed, in the words the tests of restore pin', async () => {
    const { path, bytes } = image('changed.img', 4096);
    await expect(checkSnapshotDisks('snapshot s.snap', [recorded(path, 4096, sha256(Buffer.alloc(4096)))])).rejects.toThrow(
      `snapshot s.snap: disk ${path} changed since the snapshot was taken (its SHA-256 differs); restore it from the image as it was then`);
    await expect(checkSnapshotDisks('snapshot s.snap', [recorded(path, 512, sha256(bytes))])).rejects.toThrow(
      `snapshot s.snap: disk ${path} changed since the snapshot was taken (size 4096 bytes, was 512); restore it from the image as it was then`);
    await expect(checkSnapshotDisks('snapshot s.snap', [recorded(join(root, 'gone.img'), 0, sha256(Buffer.alloc(0)))])).rejects.toThrow(
      `snapshot s.snap: disk ${join(root, 'gone.img')}: no such file`);
  });
});

describe("the list's check of a snapshot file", () => {
  /** A snapshot of a bare machine with `pages` pages of RAM that are not zero. */
  const write = (name: string, pages: number): string => {
    const path = join(root, name);
    const ram = Array.from({ length: pages }, (_, index) => ({ index, bytes: new Uint8Array(4096).fill((index % 255) + 1) }));
    writeSnapshotFile(path, {
      header: {
        created: '2026-01-01T00:00:00.000Z', config: { mode: 'bare', ramSize: pages * 4096, cpu: {}, kernelName: 'k.S' }, disks: [],
        summary: { steps: 1, instret: 1, pc: 0x80000000, priv: 3, state: 'paused' }, machine: {} as MachineState,
      },
      kernel: new Uint8Array(64),
      ram,
    });
    return path;
  };
  /** The files, with a read that is done at once (from memory), so the only turns are the list's own. */
  const atOnce = { ...NODE_SNAPSHOT_FILES, read: (path: string) => Promise.resolve(readFileSync(path)) };

  it('lets the event loop run while it hashes an 8 MiB snapshot', async () => {
    const snap = write('big.snap', 2048);
    const { turns, value: [entry] } = await loopTurns(() => new SnapshotLister(atOnce).list(new Map([['snapshots/big.snap', snap]]), (full) => relative(root, full)));
    expect(entry).toMatchObject({ path: 'snapshots/big.snap', mode: 'bare', kernel: 'k.S', disks: [] });
    // One turn at least per 1 MiB; the old list hashed the whole file in one go (no turn at all).
    expect(turns).toBeGreaterThanOrEqual(8);
  });

  it('still names a flipped byte of RAM data', async () => {
    const snap = write('flipped.snap', 300);
    const bytes = readFileSync(snap);
    bytes[bytes.length - 32 - 4096 * 150] ^= 1;
    writeFileSync(snap, bytes);
    const [entry] = await new SnapshotLister(atOnce).list(new Map([['snapshots/flipped.snap', snap]]), (full) => relative(root, full));
    expect(entry).toEqual({ path: 'snapshots/flipped.snap', problem: 'snapshot snapshots/flipped.snap: checksum mismatch: the file is damaged or truncated' });
  });
});

describe('a FIFO where a snapshot recorded an empty image', () => {
  const fifo = join(root, 'fifo.img');
  const disk = recorded(fifo, 0, sha256(Buffer.alloc(0)));

  it('is refused by the restore at once', async () => {
    await expect(checkSnapshotDisks('snapshot f.snap', [disk])).rejects.toThrow(`snapshot f.snap: disk ${fifo}: it is a FIFO (named pipe), not a regular file`);
  }, UNJAM_AFTER * 3000);

  it('is named in the list at once', async () => {
    const snap = join(root, 'f.snap');
    writeSnapshotFile(snap, {
      header: {
        created: '2026-01-01T00:00:00.000Z', config: { mode: 'trap', ramSize: 1 << 20, cpu: {}, kernelName: 'k.S' }, disks: [disk],
        summary: { steps: 1, instret: 1, pc: 0x80000000, priv: 3, state: 'paused' }, vm: {} as VmState,
      },
      kernel: new Uint8Array(64),
      ram: [],
    });
    const [entry] = await new SnapshotLister().list(new Map([['snapshots/f.snap', snap]]), (full) => relative(root, full));
    expect(entry.diskProblems).toEqual([{ path: 'fifo.img', problem: 'it is a FIFO (named pipe), not a regular file' }]);
  }, UNJAM_AFTER * 3000);
});
