// The write-heavy workload of the crash test, shared by the child that runs it and the test that checks
// what survived. Every sector a write touches is filled with one 32-bit stamp, so a sector read back
// names the operation that wrote it.
import { rng } from '../support/rng';

/** One step of the workload. */
export interface CrashOp {
  kind: 'write' | 'zero' | 'discard' | 'flush';
  sector: number;
  count: number;
  /** The stamp a write leaves in each sector (nonzero). */
  stamp: number;
}

/** The deterministic workload for `seed` on a disk of `sectors` sectors. */
export function crashOps(seed: number, count: number, sectors: number): CrashOp[] {
  const r = rng(seed);
  const ops: CrashOp[] = [];
  for (let i = 0; i < count; i++) {
    const pick = r() % 100;
    const n = 1 + (r() % (pick < 10 ? 256 : 48));
    const sector = r() % (sectors - n + 1);
    const stamp = (((seed & 0xfff) << 20) | (i & 0xfffff)) >>> 0 || 1;
    const kind = pick < 8 ? 'flush' : pick < 14 ? 'zero' : pick < 20 ? 'discard' : 'write';
    ops.push({ kind, sector, count: n, stamp });
  }
  return ops;
}

/** Fills `count` sectors of a fresh buffer with `stamp`. */
export function stamped(count: number, stamp: number): Uint8Array {
  const out = new Uint8Array(count * 512);
  const v = new DataView(out.buffer);
  for (let i = 0; i < out.length; i += 4) v.setUint32(i, stamp);
  return out;
}

/** The sectors an operation sets and the stamp each then holds (0 = zeros); a discard zeroes whole clusters only. */
export function effects(op: CrashOp, clusterSize: number, diskSectors: number): [number, number][] {
  if (op.kind === 'flush') return [];
  if (op.kind !== 'discard') {
    const value = op.kind === 'write' ? op.stamp : 0;
    return Array.from({ length: op.count }, (_, i) => [op.sector + i, value] as [number, number]);
  }
  const per = clusterSize / 512;
  const end = op.sector + op.count;
  const first = Math.ceil(op.sector / per) * per;
  const last = end === diskSectors ? end : Math.floor(end / per) * per;
  const out: [number, number][] = [];
  for (let s = first; s < last; s++) out.push([s, 0]);
  return out;
}
