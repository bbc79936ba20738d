// snapshot.list reads each snapshot file once per version of the file (snapshot-list.ts): the file
// operations are counted through an injected SnapshotFiles. An unchanged file is stat'ed and not
// read again; a file written again (a new inode, another size) is read again; a file damaged in
// place without changing its identity keeps its listed verdict but is refused at restore, which
// reads the whole file anew.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { MachineState } from '../../src/engine/snapshot/machine-state';
import { writeSnapshotFile, type SnapshotParts } from '../../src/host/snapshot-file';
import { NODE_SNAPSHOT_FILES, type SnapshotFiles } from '../../src/host/snapshot-list';
import { SnapshotService, type SnapshotServiceHost } from '../../src/host/snapshot-service';
import { Workspace } from '../../src/host/workspace';
import type { MachineStatus, SnapshotEntry } from '../../src/shared/lab-api';

/** A small bare snapshot at `instret` instructions (the list reads only its header and checksum). */
function parts(instret: number): SnapshotParts {
  return {
    header: {
      created: new Date(Date.UTC(2026, 0, 1, 0, 0, instret)).toISOString(),
      config: { mode: 'bare', ramSize: 1 << 20, cpu: {}, kernelName: 'k.S', name: 'm' },
      disks: [],
      summary: { steps: instret, instret, pc: 0x80000000, priv: 3, state: 'paused' },
      machine: {} as MachineState,
    },
    kernel: new Uint8Array(64),
    ram: [{ index: 0, bytes: new Uint8Array(4096).fill(instret & 0xff) }],
  };
}

let root: string;
let reads: string[];
let restored: string[];
let service: SnapshotService;
/** Stats as node:fs does unless a test fixes the identity. */
let statOf: SnapshotFiles['stat'];

const list = (): Promise<SnapshotEntry[]> => service.handlers['snapshot.list']({});
const file = (name: string): string => join(root, 'snapshots', name);

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'vmlab-snaplist-'));
  mkdirSync(join(root, 'snapshots'));
  const ws = await Workspace.open(root);
  reads = [];
  restored = [];
  statOf = NODE_SNAPSHOT_FILES.stat;
  const files: SnapshotFiles = {
    stat: (p) => statOf(p),
    read: (p) => {
      reads.push(basename(p));
      return NODE_SNAPSHOT_FILES.read(p);
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
    const again = await list();
    expect(reads.sort()).toEqual(['a.snap', 'a.snap', 'b.snap', 'b.snap']);
    expect(again).toEqual([
      { path: 'snapshots/a.snap', created: '2026-01-01T00:00:30.000Z', mode: 'bare', machine: 'm', kernel: 'k.S', instret: 30, steps: 30, pc: 0x80000000, state: 'paused', disks: [] },
      { path: 'snapshots/b.snap', problem: 'snapshot snapshots/b.snap: checksum mismatch: the file is damaged or truncated' },
    ]);
    await list();
    expect(reads).toHaveLength(4);
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
