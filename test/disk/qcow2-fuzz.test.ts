// Fuzzing the qcow2 reader and writer with damaged images: valid images (vmlab's own with 64 KiB and
// 512-byte clusters, an overlay naming its backing file, and qemu-img's compressed image) get header
// fields, header extensions, the backing file name, L1 and L2 entries, the refcount table and refcount
// blocks overwritten, bits flipped, or the file cut short. Each case is opened the way vmlab opens disks
// (openDisk on a host file, read-only and writable), read, written and read back, checked and described.
// The outcome is an error naming the file and what is wrong, in one line without internals, or a disk
// that reads back what was written (when the check finds the damaged image sound). A short run here; npm run test:fuzz:inputs runs 20,000 cases per image.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createQcow2, Qcow2Disk } from '../../src/engine/disk/qcow2';
import { DiskError, MemoryByteStore, type BlockDevice } from '../../src/engine/disk/types';
import { openDisk } from '../../src/host/disk-files';
import { checkDisk, diskInfo } from '../../src/host/disk-tools';
import { LabError } from '../../src/host/errors';
import { requireTool } from '../support/tools';
import { applyMutations, fuzzRuns, INTERNAL_MESSAGE, mutationsArb, type Region } from '../support/mutate';
import { pattern, qemuImgOk, scratch } from './support';

const dir = scratch('fuzz');
const RUNS = fuzzRuns(150);
/** Longest time one case may take: a hang or a huge allocation shows as a slow case. */
const CASE_MS = 2_000;
const counts = new Map<string, { cases: number; refused: number; opened: number; verified: number }>();

/** A base image with the regions worth damaging. */
interface Base {
  name: string;
  bytes: Uint8Array;
  regions: Region[];
}

/** Regions of a qcow2 image found from its own header and tables. */
function regionsOf(bytes: Uint8Array): Region[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const clusterSize = 2 ** v.getUint32(20);
  const l1 = Number(v.getBigUint64(40));
  const l1Size = v.getUint32(36);
  const reftable = Number(v.getBigUint64(48));
  const regions: Region[] = [
    { name: 'header', start: 0, length: 104 },
    { name: 'header extensions', start: 104, length: Math.min(clusterSize, 4096) - 104 },
    { name: 'L1 table', start: l1, length: Math.max(8, l1Size * 8) },
    { name: 'refcount table', start: reftable, length: v.getUint32(56) * clusterSize },
  ];
  const backingOffset = Number(v.getBigUint64(8));
  if (backingOffset !== 0) regions.push({ name: 'backing file name', start: backingOffset, length: v.getUint32(16) });
  for (let i = 0; i < l1Size && i < 4; i++) {
    const l2 = Number(v.getBigUint64(l1 + 8 * i) & 0x00fffffffffffe00n);
    if (l2 !== 0) regions.push({ name: `L2 table ${i}`, start: l2, length: Math.min(clusterSize, 512) });
  }
  const refblock = Number(v.getBigUint64(reftable) & ~0x1ffn);
  if (refblock !== 0) regions.push({ name: 'refcount block 0', start: refblock, length: Math.min(clusterSize, 512) });
  return regions;
}

/** A vmlab-made image with data in a few clusters (and one freed again). */
function ownImage(name: string, clusterBits: number, backing?: { file: string; format: 'raw' | 'qcow2' }): Base {
  const store = new MemoryByteStore();
  const cs = 2 ** clusterBits;
  createQcow2(store, 4 << 20, { clusterBits, backing });
  const disk = Qcow2Disk.open(store, { openBacking: () => new MemoryDisk(4 << 20) });
  disk.write(0, pattern(3 * cs, 1));
  disk.write(2 << 20, pattern(cs, 2));
  disk.flush();
  disk.discard(cs, cs);
  disk.close();
  const bytes = store.contents();
  return { name, bytes, regions: regionsOf(bytes) };
}

/** A zero-filled read-only disk standing in for a backing file while building a base image. */
class MemoryDisk implements BlockDevice {
  readonly format = 'raw';
  readonly readOnly = true;
  constructor(readonly size: number) {}
  read(_offset: number, into: Uint8Array): void {
    into.fill(0);
  }
  write(): void {}
  discard(): void {}
  writeZeroes(): void {}
  flush(): void {}
  close(): void {}
}

/** qemu-img's image with compressed clusters (convert -c), for the compressed descriptors. */
function compressedImage(): Base {
  requireTool('qemu-img', 'qemu-utils');
  const raw = join(dir, 'plain.raw');
  writeFileSync(raw, Buffer.concat([Buffer.from(pattern(256 * 1024, 7)), Buffer.alloc(256 * 1024, 0x41)]));
  const out = join(dir, 'compressed.qcow2');
  qemuImgOk(['convert', '-q', '-c', '-f', 'raw', '-O', 'qcow2', '-o', 'cluster_size=4096', raw, out]);
  const bytes = new Uint8Array(readFileSync(out));
  return { name: 'qemu-img compressed, 4 KiB clusters', bytes, regions: regionsOf(bytes) };
}

/** The outcome of one case; throws (failing the property) for anything but a clean error or a correct disk. */
function exercise(path: string, tally: { refused: number; opened: number; verified: number }): void {
  // Writes must read back on an image the check finds sound. On one with damaged refcounts a write may
  // fail (metadata is never overwritten) or, as in QEMU, land on a data cluster the refcounts call free.
  const sound = isSound(path);
  for (const readOnly of [true, false]) {
    let disk: BlockDevice;
    try {
      disk = openDisk(path, { readOnly });
    } catch (err) {
      expectClean(err, path, true);
      tally.refused++;
      continue;
    }
    tally.opened++;
    try {
      if (use(disk, readOnly, sound)) tally.verified++;
    } catch (err) {
      // Damage found while reading or writing reaches the guest as an I/O error; its text must still read well.
      expectClean(err, path, false);
    } finally {
      try {
        disk.close();
      } catch (err) {
        expectClean(err, path, false);
      }
    }
  }
  for (const op of [() => diskInfo(path), () => checkDisk(path)]) {
    try {
      op();
    } catch (err) {
      expectClean(err, path, true);
    }
  }
}

/** Whether vmlab's check (qemu-img check's equivalent) finds no corruption. */
function isSound(path: string): boolean {
  try {
    const r = checkDisk(path);
    return r === undefined || (r.corruptions === 0 && r.checkErrors === 0);
  } catch {
    return false;
  }
}

/** Reads a spread of sectors; a writable disk also gets writes that must read back if the image is sound. */
function use(disk: BlockDevice, readOnly: boolean, sound: boolean): boolean {
  const sector = new Uint8Array(512);
  const sectors = Math.floor(disk.size / 512);
  for (const s of [0, 1, 8, 128, 4096, 8191, sectors - 1]) if (s >= 0 && s < sectors) disk.read(s * 512, sector);
  if (readOnly || sectors < 2) return false;
  const data = pattern(1024, 99);
  disk.write(0, data);
  const back = new Uint8Array(1024);
  disk.read(0, back);
  if (sound) expect(Buffer.from(back).equals(Buffer.from(data)), 'a write reads back').toBe(true);
  disk.flush();
  return sound;
}

/** A DiskError or LabError in one line, naming the file when it comes from opening it, without internals. */
function expectClean(err: unknown, path: string, named: boolean): void {
  if (!(err instanceof DiskError || err instanceof LabError)) throw err;
  const message = err.message;
  expect(message).not.toMatch(INTERNAL_MESSAGE);
  expect(message).not.toContain('\n');
  if (named) expect(message.startsWith(path) || message.startsWith(`'${path}'`), `"${message}" names ${path}`).toBe(true);
}

const bases: (() => Base)[] = [
  () => ownImage('vmlab, 64 KiB clusters', 16),
  () => ownImage('vmlab, 512-byte clusters', 9),
  () => ownImage('vmlab overlay on base.raw', 16, { file: 'base.raw', format: 'raw' }),
  compressedImage,
];

describe('damaged qcow2 images', () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'base.raw'), Buffer.alloc(4 << 20, 0x5a));

  bases.forEach((make, index) => {
    it(`base image ${index + 1}: ${RUNS} mutated and truncated copies end in a clean error or a correct disk`, () => {
      const base = make();
      const tally = { cases: 0, refused: 0, opened: 0, verified: 0 };
      counts.set(base.name, tally);
      const path = join(dir, `case-${index}.qcow2`);
      fc.assert(
        fc.property(mutationsArb(base.regions), (mutations) => {
          tally.cases++;
          writeFileSync(path, applyMutations(base.bytes, base.regions, mutations));
          const t0 = Date.now();
          exercise(path, tally);
          expect(Date.now() - t0, 'one case took too long').toBeLessThan(CASE_MS);
        }),
        { seed: 0x13_0000 + index, numRuns: RUNS },
      );
      // The mutations reach both sides: some images are refused, some still open.
      expect(tally.refused).toBeGreaterThan(0);
      expect(tally.opened).toBeGreaterThan(0);
      expect(tally.verified, 'some damaged images still write and read back').toBeGreaterThan(0);
    }, RUNS > 500 ? 3_600_000 : 120_000);
  });

  it('every cut of the first 4 KiB of an image is reported, as truncated where the header is cut', () => {
    const base = ownImage('vmlab, truncations', 16);
    const path = join(dir, 'cut.qcow2');
    for (let length = 0; length <= 4096; length += length < 128 ? 1 : 64) {
      writeFileSync(path, base.bytes.subarray(0, length));
      const tally = { refused: 0, opened: 0, verified: 0 };
      exercise(path, tally);
      if (length >= 4 && length < 104) {
        expect(() => openDisk(path, { readOnly: true, format: 'qcow2' })).toThrow(/truncated image/);
      }
    }
    // qemu-img writes a 112-byte header (compression_type at byte 104): cut at 104 bytes, the image is
    // truncated, not an image "with compression_type undefined".
    const made = join(dir, 'qemu.qcow2');
    qemuImgOk(['create', '-q', '-f', 'qcow2', made, '1M']);
    writeFileSync(path, readFileSync(made).subarray(0, 104));
    expect(() => openDisk(path, { readOnly: true })).toThrow(/^\S*cut\.qcow2: qcow2: the file is 104 bytes, shorter than its 112-byte header \(truncated image\)$/);
  });

  it('a metadata cluster whose refcount was zeroed is never handed out for new data (found by this fuzzer)', () => {
    for (const clusterBits of [9, 16]) {
      const base = ownImage('zeroed refcount', clusterBits);
      const bytes = base.bytes.slice();
      const v = new DataView(bytes.buffer);
      // Refcount block 0's first entry: the refcount of cluster 0, the header.
      const block = Number(v.getBigUint64(Number(v.getBigUint64(48))) & ~0x1ffn);
      v.setUint16(block, 0);
      const path = join(dir, `zeroed-${clusterBits}.qcow2`);
      writeFileSync(path, bytes);
      const disk = openDisk(path);
      // Guest cluster 64 KiB * 40 has no L2 entry yet: the write allocates a data cluster (and an L2 table).
      expect(() => disk.write(40 * 65536, pattern(512, 5))).toThrow(/cluster 0 holds image metadata but its refcount is 0/);
      disk.close();
      expect(readFileSync(path).subarray(0, 4)).toEqual(Buffer.from([0x51, 0x46, 0x49, 0xfb]));
    }
  });

  it('a NUL byte in the backing file name is reported as such', () => {
    const base = ownImage('nul', 16, { file: 'base.raw', format: 'raw' });
    const name = base.regions.find((r) => r.name === 'backing file name')!;
    for (const fill of ['all', 'middle'] as const) {
      const bytes = base.bytes.slice();
      if (fill === 'all') bytes.fill(0, name.start, name.start + name.length);
      else bytes[name.start + 2] = 0;
      const path = join(dir, `nul-${fill}.qcow2`);
      writeFileSync(path, bytes);
      expect(() => openDisk(path, { readOnly: true })).toThrow(/backing file name contains a NUL byte/);
    }
  });
});

afterAll(() => {
  const total = [...counts.values()].reduce((n, c) => n + c.cases, 0);
  console.log(`qcow2 fuzz: ${total} cases (${[...counts].map(([n, c]) => `${n}: ${c.cases}, ${c.refused} opens refused, ${c.opened} opened, ${c.verified} written and read back`).join('; ')})`);
});
