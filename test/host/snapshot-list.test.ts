// snapshot.list reads each snapshot file once per version of the file (snapshot-list.ts): the file
// operations are counted through an injected SnapshotFiles. An unchanged file is stat'ed and not
// read again; a file written again (a new inode, another size) is read again; a file damaged in
// place without changing its identity keeps its listed verdict but is refused at restore, which
// reads the whole file anew. Disks: an image not as the snapshot recorded it (another size, another
// SHA-256, missing, outside the workspace) is named in the entry's diskProblems, and an unchanged
// image is hashed once, not at every list.
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { MachineState, VmState } from '../../src/engine/snapshot/machine-state';
import { writeSnapshotFile, type SnapshotDisk, type SnapshotParts } from '../../src/host/snapshot-file';
import { NODE_SNAPSHOT_FILES, type SnapshotFiles } from '../../src/host/snapshot-list';
import { SnapshotService, type SnapshotServiceHost } from '../../src/host/snapshot-service';
import { Workspace } from '../../src/host/workspace';
import type { MachineStatus, SnapshotEntry } from '../../src/shared/lab-api';

/** A small snapshot at `instret` instructions, bare, or of a trap-mode VM with `disks`. */
function parts(instret: number, disks: SnapshotDisk[] = []): SnapshotParts {
  return {
    header: {
      created: new Date(Date.UTC(2026, 0, 1, 0, 0, instret)).toISOString(),
      config: { mode: disks.length > 0 ? 'trap' : 'bare', ramSize: 1 << 20, cpu: {}, kernelName: 'k.S', name: 'm' },
      disks,
      summary: { steps: instret, instret, pc: 0x80000000, priv: 3, state: 'paused' },
      ...(disks.length > 0 ? { vm: {} as VmState } : { machine: {} as MachineState }),
    },
    kernel: new Uint8Array(64),
    ram: [{ index: 0, bytes: new Uint8Array(4096).fill(instret & 0xff) }],
  };
}

let root: string;
let reads: string[];
let hashed: string[];
let restored: string[];
let service: SnapshotService;
/** Stats as node:fs does unless a test fixes the identity. */
let statOf: SnapshotFiles['stat'];

const list = (): Promise<SnapshotEntry[]> => service.handlers['snapshot.list']({});
const file = (name: string): string => join(root, 'snapshots', name);
/** Dates a file's last write a minute back, past SETTLE_MS: its identity then stands for its bytes. */
const age = (...paths: string[]): void => {
  const then = new Date(Date.now() - 60_000);
  for (const p of paths) utimesSync(p, then, then);
};

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'vmlab-snaplist-'));
  mkdirSync(join(root, 'snapshots'));
  const ws = await Workspace.open(root);
  reads = [];
  hashed = [];
  restored = [];
  statOf = NODE_SNAPSHOT_FILES.stat;
  const files: SnapshotFiles = {
    stat: (p) => statOf(p),
    read: (p) => {
      reads.push(basename(p));
      return NODE_SNAPSHOT_FILES.read(p);
    },
    digest: (p) => {
      hashed.push(basename(p));
      return NODE_SNAPSHOT_FILES.digest(p);
    },
  };
  const host: SnapshotServiceHost = {
    workspace: () => ws,
    machine: () => { throw new Error('no machines here'); },
    vmm: () => { throw new Error('no VMM here'); },
    changed: () => undefined,
    restore: async (plan) => {
      restored.push(plan.path);
      return { id: 'm1', name: 'm-restored' } as MachineStatus;
    },
  };
  service = new SnapshotService(host, files);
  writeSnapshotFile(file('a.snap'), parts(10));
  writeSnapshotFile(file('b.snap'), parts(20));
  age(file('a.snap'), file('b.snap'));
});

describe('snapshot.list', () => {
  it('reads each file once; listing again with the files unchanged reads nothing', async () => {
    const first = await list();
    expect(first.map((e) => [e.path, e.instret])).toEqual([['snapshots/b.snap', 20], ['snapshots/a.snap', 10]]);
    expect(reads.sort()).toEqual(['a.snap', 'b.snap']);
    for (let i = 0; i < 3; i++) expect(await list()).toEqual(first);
    expect(reads).toHaveLength(2);
  });

  it('two lists at once share one read of each file', async () => {
    const [x, y] = await Promise.all([list(), list()]);
    expect(x).toEqual(y);
    expect(reads.sort()).toEqual(['a.snap', 'b.snap']);
  });

  it('a file written again is read again and described anew; a damaged one is listed with its problem', async () => {
    await list();
    writeSnapshotFile(file('a.snap'), parts(30));
    appendFileSync(file('b.snap'), 'x');
    age(file('a.snap'), file('b.snap'));
    const again = await list();
    expect(reads.sort()).toEqual(['a.snap', 'a.snap', 'b.snap', 'b.snap']);
    expect(again).toEqual([
      { path: 'snapshots/a.snap', created: '2026-01-01T00:00:30.000Z', mode: 'bare', machine: 'm', kernel: 'k.S', instret: 30, steps: 30, pc: 0x80000000, state: 'paused', disks: [] },
      { path: 'snapshots/b.snap', problem: 'snapshot snapshots/b.snap: checksum mismatch: the file is damaged or truncated' },
    ]);
    await list();
    expect(reads).toHaveLength(4);
  });

  it('a file written in the last SETTLE_MS is read at every list (a write in the same clock tick keeps its identity); once older, it is not', async () => {
    writeSnapshotFile(file('new.snap'), parts(60));
    await list();
    await list();
    expect(reads.filter((r) => r === 'new.snap')).toHaveLength(2);
    age(file('new.snap'));
    await list();
    await list();
    expect(reads.filter((r) => r === 'new.snap')).toHaveLength(3);
    expect(reads).toHaveLength(5);
  });

  it('a file that cannot be read is listed with the reason', async () => {
    mkdirSync(file('folder.snap'));
    const listed = await list();
    expect(listed.find((e) => e.path === 'snapshots/folder.snap')).toEqual({ path: 'snapshots/folder.snap', problem: 'snapshot snapshots/folder.snap: it is a folder' });
    expect(listed).toHaveLength(3);
  });

  it('a file damaged in place keeping its identity keeps its verdict in the list, and restore refuses it', async () => {
    statOf = async () => ({ size: 1, mtimeMs: 1, ctimeMs: 1, ino: 1 });
    const before = await list();
    const bytes = readFileSync(file('a.snap'));
    bytes[bytes.length >> 1] ^= 0x40;
    writeFileSync(file('a.snap'), bytes);
    expect(await list()).toEqual(before);
    expect(reads).toHaveLength(2);
    await expect(service.handlers['snapshot.restore']({ path: 'snapshots/a.snap' })).rejects.toMatchObject({
      code: 'bad-request', message: 'snapshot snapshots/a.snap: checksum mismatch: the file is damaged or truncated',
    });
    expect(restored).toEqual([]);
    await service.handlers['snapshot.restore']({ path: 'snapshots/b.snap' });
    expect(restored).toEqual(['snapshots/b.snap']);
  });
});

describe('snapshot.list: disks', () => {
  const image = Buffer.alloc(8192, 7);
  const disk = (path: string, bytes: Buffer): SnapshotDisk => ({
    path, format: 'raw', readOnly: false, legacy: true, slot: 0, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'),
  });
  const entry = async (name: string): Promise<SnapshotEntry> => (await list()).find((e) => e.path === `snapshots/${name}`)!;

  it('an image as the snapshot recorded it gives no problem and is hashed once while it is unchanged', async () => {
    writeFileSync(join(root, 'disk.img'), image);
    writeSnapshotFile(file('d.snap'), parts(40, [disk(join(root, 'disk.img'), image)]));
    age(join(root, 'disk.img'), file('d.snap'));
    for (let i = 0; i < 3; i++) {
      const e = await entry('d.snap');
      expect(e.disks).toEqual(['disk.img']);
      expect(e.diskProblems).toBeUndefined();
    }
    expect(hashed).toEqual(['disk.img']);
  });

  it('an image written since the snapshot: another SHA-256 at the same size, another size, gone; put back, it is fine again', async () => {
    writeFileSync(join(root, 'disk.img'), image);
    writeSnapshotFile(file('d.snap'), parts(40, [disk(join(root, 'disk.img'), image)]));
    expect((await entry('d.snap')).diskProblems).toBeUndefined();
    const recorded = createHash('sha256').update(image).digest('hex');

    const written = Buffer.from(image);
    written[0] = 1;
    writeFileSync(join(root, 'disk.img'), written);
    utimesSync(join(root, 'disk.img'), new Date(Date.UTC(2026, 1, 2, 3, 4, 5)), new Date(Date.UTC(2026, 1, 2, 3, 4, 5)));
    const now = createHash('sha256').update(written).digest('hex');
    expect((await entry('d.snap')).diskProblems).toEqual([{
      path: 'disk.img', modified: '2026-02-02T03:04:05.000Z',
      problem: `changed since the snapshot was taken (same size, but its SHA-256 is ${now.slice(0, 12)}…, was ${recorded.slice(0, 12)}…)`,
    }]);
    // The restore refuses it the same, with the image as it is now.
    await expect(service.handlers['snapshot.restore']({ path: 'snapshots/d.snap' })).rejects.toMatchObject({
      code: 'bad-state', message: `snapshot snapshots/d.snap: disk ${join(root, 'disk.img')} changed since the snapshot was taken (its SHA-256 differs); restore it from the image as it was then`,
    });
    expect(hashed).toEqual(['disk.img', 'disk.img']);

    appendFileSync(join(root, 'disk.img'), Buffer.alloc(512));
    expect((await entry('d.snap')).diskProblems).toMatchObject([{ path: 'disk.img', problem: 'changed since the snapshot was taken (size 8704 bytes, was 8192)' }]);
    expect(hashed).toHaveLength(2);

    renameSync(join(root, 'disk.img'), join(root, 'disk-later.img'));
    expect((await entry('d.snap')).diskProblems).toEqual([{ path: 'disk.img', problem: 'no such file' }]);

    writeFileSync(join(root, 'disk.img'), image);
    expect((await entry('d.snap')).diskProblems).toBeUndefined();
    await service.handlers['snapshot.restore']({ path: 'snapshots/d.snap' });
    expect(restored).toEqual(['snapshots/d.snap']);
  });

  it('an image outside the workspace is named with its host path', async () => {
    const outside = join(mkdtempSync(join(tmpdir(), 'vmlab-snaplist-out-')), 'far.img');
    writeFileSync(outside, image);
    writeSnapshotFile(file('far.snap'), parts(50, [disk(outside, image)]));
    expect((await entry('far.snap')).diskProblems).toEqual([{ path: outside, problem: 'it lies outside the workspace' }]);
  });
});
