// qcow2 against qemu-img (QEMU 7.2, Debian qemu-utils): images vmlab writes pass `qemu-img check` and
// `qemu-img compare` equal to the raw bytes vmlab was given; images qemu-img and qemu-io write read in
// vmlab byte for byte as `qemu-img convert -O raw` reads them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkQcow2 } from '../../src/engine/disk/qcow2-check';
import { createQcow2, Qcow2Disk } from '../../src/engine/disk/qcow2';
import type { BlockDevice } from '../../src/engine/disk/types';
import { openDisk } from '../../src/host/disk-files';
import { rng } from '../support/rng';
import { fileStore, newStore, pattern, qemuCheck, qemuImg, qemuImgOk, qemuIo, qemuRaw, scratch } from './support';

const dir = scratch('interop');

function readAll(disk: BlockDevice): Buffer {
  const out = new Uint8Array(disk.size);
  disk.read(0, out);
  return Buffer.from(out);
}

function newImage(name: string, size: number, clusterBits = 16, backing?: { file: string; format: 'raw' | 'qcow2' }): string {
  const path = join(dir, name);
  const store = newStore(path);
  createQcow2(store, size, { clusterBits, backing });
  store.close();
  return path;
}

/** Applies `count` random sector-aligned writes (often partial clusters), flushing now and then. */
function randomWrites(disk: BlockDevice, model: Uint8Array, seed: number, count: number, maxSectors: number): void {
  const r = rng(seed);
  const sectors = disk.size / 512;
  for (let i = 0; i < count; i++) {
    const n = 1 + (r() % maxSectors);
    const at = (r() % (sectors - n + 1)) * 512;
    const data = pattern(n * 512, r());
    disk.write(at, data);
    model.set(data, at);
    if (r() % 16 === 0) disk.flush();
  }
}

/** qemu-img check exit 0 and `qemu-img compare` against the raw model. */
function expectQemuAgrees(image: string, model: Uint8Array): void {
  const check = qemuCheck(image);
  expect(check.text).toContain('"check-errors": 0');
  expect(check.code).toBe(0);
  const raw = join(dir, `model-${Math.random().toString(36).slice(2)}.raw`);
  writeFileSync(raw, model);
  const cmp = qemuImg(['compare', '-f', 'qcow2', '-F', 'raw', image, raw]);
  expect(cmp.stdout + cmp.stderr).toContain('Images are identical');
  expect(cmp.code).toBe(0);
}

describe('images vmlab writes', () => {
  it('random writes with partial clusters pass qemu-img check and compare equal to raw', () => {
    const size = 32 << 20;
    const image = newImage('random.qcow2', size);
    const model = new Uint8Array(size);
    const disk = openDisk(image);
    randomWrites(disk, model, 11, 600, 300);
    disk.close();
    expectQemuAgrees(image, model);
    const ours = checkQcow2(fileStore(image, true));
    const theirs = qemuCheck(image).report;
    expect([ours.corruptions, ours.leaks, ours.allocatedClusters, ours.imageEndOffset, ours.totalClusters])
      .toEqual([0, 0, theirs['allocated-clusters'], theirs['image-end-offset'], theirs['total-clusters']]);
  });

  it('an overlay copies partial clusters from its backing file; discards and zero writes read as zeros', () => {
    const size = 8 << 20;
    const base = join(dir, 'cow-base.qcow2');
    qemuImgOk(['create', '-q', '-f', 'qcow2', base, String(size)]);
    qemuIo(base, ['write -P 0x5a 0 8M', 'write -P 0x11 1M 64k']);
    const model = new Uint8Array(qemuRaw(base, dir));
    const top = newImage('cow-top.qcow2', size, 16, { file: 'cow-base.qcow2', format: 'qcow2' });
    const disk = openDisk(top);
    expect(disk.format).toBe('qcow2');
    randomWrites(disk, model, 12, 200, 40);
    const r = rng(13);
    for (let i = 0; i < 60; i++) {
      const at = (r() % (size / 512 - 256)) * 512;
      const len = (1 + (r() % 256)) * 512;
      if (i % 2 === 0) {
        disk.writeZeroes(at, len);
        model.fill(0, at, at + len);
      } else {
        disk.discard(at, len);
        // A discard zeroes the whole 64 KiB clusters it covers and leaves partial ones as they are.
        const first = Math.ceil(at / 65536) * 65536;
        const last = Math.floor((at + len) / 65536) * 65536;
        if (last > first) model.fill(0, first, last);
      }
    }
    expect(readAll(disk).equals(Buffer.from(model))).toBe(true);
    disk.close();
    expectQemuAgrees(top, model);
    expect(qemuRaw(top, dir).equals(Buffer.from(model))).toBe(true);
  });

  it('grows the refcount table and blocks past the first ones (512-byte clusters)', () => {
    const size = 24 << 20;
    const image = newImage('grow.qcow2', size, 9);
    const model = new Uint8Array(size);
    const disk = openDisk(image) as Qcow2Disk;
    const before = (disk.header.refcountTableOffset);
    const chunk = pattern(64 << 10, 99);
    for (let at = 0; at < 12 << 20; at += 64 << 10) {
      disk.write(at, chunk);
      model.set(chunk, at);
    }
    randomWrites(disk, model, 14, 300, 64);
    disk.close();
    const reopened = Qcow2Disk.open(fileStore(image, true));
    expect(reopened.header.refcountTableOffset).not.toBe(before);
    expect(reopened.header.refcountTableClusters).toBeGreaterThan(1);
    reopened.close();
    expectQemuAgrees(image, model);
  });

  it('discarded clusters are reused and a closed image has no leaks', () => {
    const size = 4 << 20;
    const image = newImage('reuse.qcow2', size, 12);
    const model = new Uint8Array(size);
    const disk = openDisk(image);
    for (let round = 0; round < 4; round++) {
      randomWrites(disk, model, 20 + round, 200, 16);
      disk.discard(0, size);
      model.fill(0);
      disk.flush();
    }
    randomWrites(disk, model, 30, 100, 16);
    disk.close();
    expectQemuAgrees(image, model);
    // Four full rounds fit in the space of about one: freed clusters were allocated again.
    const end = qemuCheck(image).report['image-end-offset'] as number;
    expect(end).toBeLessThan(3 << 20);
  });

  it.each([
    ['refcount_bits=1', ['-o', 'refcount_bits=1,cluster_size=4096']],
    ['refcount_bits=64', ['-o', 'refcount_bits=64,cluster_size=4096']],
    ['version 2 (compat=0.10)', ['-o', 'compat=0.10']],
  ])('writes qemu-img images with %s', (_name, opts) => {
    const size = 16 << 20;
    const image = join(dir, `opts-${_name.replace(/\W/g, '')}.qcow2`);
    qemuImgOk(['create', '-q', '-f', 'qcow2', ...opts, image, String(size)]);
    qemuIo(image, ['write -P 0x77 0 1M']);
    const model = new Uint8Array(qemuRaw(image, dir));
    const disk = openDisk(image);
    randomWrites(disk, model, 40, 300, 64);
    disk.writeZeroes(2 << 20, 1 << 20);
    model.fill(0, 2 << 20, 3 << 20);
    disk.close();
    expectQemuAgrees(image, model);
  });
});

describe('images qemu writes', () => {
  it('reads data, zero clusters (plain and allocated) and unallocated space as qemu-img does', () => {
    const image = join(dir, 'q-zero.qcow2');
    qemuImgOk(['create', '-q', '-f', 'qcow2', image, '16M']);
    qemuIo(image, ['write -P 0x61 0 4M', 'write -z 64k 128k', 'write -z -u 1M 192k', 'write -P 0x62 8M 1k', 'write -z 3M 5k']);
    const disk = openDisk(image, { readOnly: true });
    expect(readAll(disk).equals(qemuRaw(image, dir))).toBe(true);
    disk.close();
  });

  it('reads compressed clusters written by qemu-img convert -c', () => {
    const raw = join(dir, 'q-comp.raw');
    const data = Buffer.alloc(6 << 20);
    const r = rng(5);
    for (let at = 0; at < data.length; at += 4096) {
      const kind = r() % 3;
      if (kind === 0) Buffer.from(pattern(4096, r())).copy(data, at);
      else if (kind === 1) data.fill(r() & 0xff, at, at + 4096);
    }
    writeFileSync(raw, data);
    for (const cluster of ['65536', '4096', '512']) {
      const image = join(dir, `q-comp-${cluster}.qcow2`);
      qemuImgOk(['convert', '-c', '-O', 'qcow2', '-o', `cluster_size=${cluster}`, raw, image]);
      expect(qemuCheck(image).report['compressed-clusters']).toBeGreaterThan(0);
      const disk = openDisk(image, { readOnly: true });
      expect(readAll(disk).equals(data)).toBe(true);
      disk.close();
    }
  });

  it('writes over compressed clusters (copy on write out of the compressed data)', () => {
    const raw = join(dir, 'q-comp-w.raw');
    writeFileSync(raw, Buffer.from(pattern(2 << 20, 3)).fill(7, 0, 1 << 20));
    const image = join(dir, 'q-comp-w.qcow2');
    qemuImgOk(['convert', '-c', '-O', 'qcow2', raw, image]);
    const model = new Uint8Array(qemuRaw(image, dir));
    const disk = openDisk(image);
    randomWrites(disk, model, 50, 100, 20);
    disk.close();
    expectQemuAgrees(image, model);
  });

  it('reads a backing chain raw <- qcow2 <- qcow2 with relative names, from another working folder', () => {
    const base = join(dir, 'chain-base.raw');
    writeFileSync(base, Buffer.from(pattern(4 << 20, 8)));
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-b', 'chain-base.raw', '-F', 'raw', 'chain-mid.qcow2', '6M'], dir);
    qemuIo(join(dir, 'chain-mid.qcow2'), ['write -P 0x21 1M 100k', 'write -z 2M 64k', 'write -P 0x22 4M 1M']);
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-b', 'chain-mid.qcow2', '-F', 'qcow2', 'chain-top.qcow2'], dir);
    qemuIo(join(dir, 'chain-top.qcow2'), ['write -P 0x23 1050k 30k', 'write -z 0 4k']);
    const disk = openDisk(join(dir, 'chain-top.qcow2'), { readOnly: true });
    expect(disk.size).toBe(6 << 20);
    expect(readAll(disk).equals(qemuRaw(join(dir, 'chain-top.qcow2'), dir))).toBe(true);
    disk.close();
  });

  it('reads a version 2 image', () => {
    const image = join(dir, 'q-v2.qcow2');
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', image, '4M']);
    qemuIo(image, ['write -P 0x31 512 3M']);
    const disk = openDisk(image, { readOnly: true }) as Qcow2Disk;
    expect(disk.header.version).toBe(2);
    expect(readAll(disk).equals(qemuRaw(image, dir))).toBe(true);
    disk.close();
  });
});
