// Property test: random sequences of writes, zero writes, discards, flushes, reopens and simulated
// crashes on a qcow2 image (with and without a backing file, three cluster sizes) read exactly as a
// flat byte-array model does, and every image left behind passes checkQcow2 with no corruption.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkQcow2 } from '../../src/engine/disk/qcow2-check';
import { createQcow2, Qcow2Disk } from '../../src/engine/disk/qcow2';
import { RawDisk } from '../../src/engine/disk/raw';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { pattern } from './support';

const SIZE = 1 << 20;
const SECTORS = SIZE / 512;

type Op =
  | { kind: 'write' | 'zero' | 'discard'; sector: number; count: number; seed: number }
  | { kind: 'flush' }
  | { kind: 'reopen' }
  | { kind: 'crash' };

const range = fc.record({ sector: fc.integer({ min: 0, max: SECTORS - 1 }), count: fc.integer({ min: 1, max: 300 }), seed: fc.integer() });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: range.map((r) => ({ kind: 'write' as const, ...r })) },
  { weight: 2, arbitrary: range.map((r) => ({ kind: 'zero' as const, ...r })) },
  { weight: 2, arbitrary: range.map((r) => ({ kind: 'discard' as const, ...r })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

function backingDisk(): RawDisk {
  return new RawDisk(new MemoryByteStore(pattern(SIZE / 2, 777), true));
}

function open(bytes: Uint8Array, withBacking: boolean): { store: MemoryByteStore; disk: Qcow2Disk } {
  const store = new MemoryByteStore(bytes);
  return { store, disk: Qcow2Disk.open(store, { openBacking: withBacking ? () => backingDisk() : undefined }) };
}

function expectClean(bytes: Uint8Array, allowLeaks: boolean): void {
  const r = checkQcow2(new MemoryByteStore(bytes, true));
  expect(r.messages.filter((m) => !allowLeaks || !m.startsWith('Leaked'))).toEqual([]);
  expect(r.corruptions).toBe(0);
  if (!allowLeaks) expect(r.leaks).toBe(0);
}

function runOps(ops: Op[], clusterBits: number, withBacking: boolean): void {
  const cs = 2 ** clusterBits;
  const init = new MemoryByteStore();
  createQcow2(init, SIZE, { clusterBits, backing: withBacking ? { file: 'base.raw', format: 'raw' } : undefined });
  let { store, disk } = open(init.contents(), withBacking);
  const model = new Uint8Array(SIZE);
  if (withBacking) model.set(pattern(SIZE / 2, 777));
  let durable = model.slice();
  // Sectors written since the last flush: after a crash they may hold old or new contents.
  let touched = new Uint8Array(SECTORS);
  for (const op of ops) {
    if (op.kind === 'flush') {
      disk.flush();
      durable = model.slice();
      touched = new Uint8Array(SECTORS);
    } else if (op.kind === 'reopen') {
      disk.close();
      expectClean(store.contents(), false);
      ({ store, disk } = open(store.contents(), withBacking));
      durable = model.slice();
      touched = new Uint8Array(SECTORS);
    } else if (op.kind === 'crash') {
      // The file as a killed process leaves it: every write so far, none of the unflushed metadata.
      const image = store.contents();
      expectClean(image, true);
      const crashed = open(image, withBacking).disk;
      const seen = new Uint8Array(SIZE);
      crashed.read(0, seen);
      for (let s = 0; s < SECTORS; s++) {
        if (touched[s]) continue;
        const a = seen.subarray(s * 512, s * 512 + 512);
        if (!Buffer.from(a).equals(Buffer.from(durable.subarray(s * 512, s * 512 + 512)))) {
          throw new Error(`after a crash, sector ${s} lost flushed data`);
        }
      }
    } else {
      const count = Math.min(op.count, SECTORS - op.sector);
      const at = op.sector * 512;
      const len = count * 512;
      touched.fill(1, op.sector, op.sector + count);
      if (op.kind === 'write') {
        const data = pattern(len, op.seed);
        disk.write(at, data);
        model.set(data, at);
      } else if (op.kind === 'zero') {
        disk.writeZeroes(at, len);
        model.fill(0, at, at + len);
      } else {
        disk.discard(at, len);
        const first = Math.ceil(at / cs) * cs;
        const last = at + len === SIZE ? SIZE : Math.floor((at + len) / cs) * cs;
        if (last > first) model.fill(0, first, last);
      }
    }
  }
  const all = new Uint8Array(SIZE);
  disk.read(0, all);
  expect(Buffer.from(all).equals(Buffer.from(model))).toBe(true);
  disk.close();
  expectClean(store.contents(), false);
}

describe('qcow2 against a flat model', () => {
  it.each([
    [9, false], [12, false], [16, false], [9, true], [12, true], [16, true],
  ])('cluster_bits %i, backing file %s', (clusterBits, withBacking) => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => runOps(ops, clusterBits, withBacking)), {
      seed: 0x5eed + clusterBits * 2 + (withBacking ? 1 : 0),
      numRuns: 40,
    });
  });
});
