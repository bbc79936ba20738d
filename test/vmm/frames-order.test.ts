import { describe, expect, it } from 'vitest';
import { FREE, FrameAllocator, OutOfFrames } from '../../src/engine/vmm/frames';

/** The allocator's placement rule written out plainly: the highest aligned run of free frames. */
function highestRun(owner: Uint16Array, n: number, align: number): number {
  for (let i = owner.length - n; i >= 0; i--) {
    if (i % align !== 0) continue;
    let ok = true;
    for (let k = i; k < i + n; k++) if (owner[k] !== FREE) ok = false;
    if (ok) return i;
  }
  return -1;
}

describe('frame allocator order', () => {
  it('takes runs and single frames exactly where the highest-free rule puts them, through frees and explicit takes', () => {
    const fa = new FrameAllocator(0x8000_0000, 300, 7);
    const model = new Uint16Array(300);
    let seed = 12345;
    const rnd = (m: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % m;
    };
    const held: number[] = [];
    for (let step = 0; step < 5000; step++) {
      const op = rnd(10);
      if (op < 4) {
        const n = 1 + (rnd(4) === 0 ? rnd(6) : 0);
        const align = rnd(3) === 0 ? 4 : 1;
        const want = highestRun(model, n, align);
        if (want < 0) {
          expect(() => fa.allocRun(n, 2, align)).toThrow(OutOfFrames);
          continue;
        }
        expect(fa.allocRun(n, 2, align)).toBe(want);
        for (let k = want; k < want + n; k++) { model[k] = 2; held.push(k); }
      } else if (op < 8 && held.length > 0) {
        const i = held.splice(rnd(held.length), 1)[0];
        fa.free(i);
        model[i] = FREE;
      } else if (op === 8) {
        const i = rnd(300);
        if (model[i] === FREE) { fa.take(i, 3); model[i] = 3; held.push(i); }
      } else {
        const i = fa.allocScattered(4);
        expect(model[i]).toBe(FREE);
        model[i] = 4;
        held.push(i);
      }
      expect([...fa.owner]).toEqual([...model]);
    }
  });
});
