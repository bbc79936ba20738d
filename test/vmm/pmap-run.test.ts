// Pmap.mapRun (a VM's whole RAM mapped at its creation) builds exactly the table that mapping the
// same pages one by one with Pmap.map builds: the same level-0 tables taken in the same order, the
// same entries, the same guest page → frame mirror, whatever the run's start and length.
import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/engine/machine/bus';
import { FrameAllocator, VMM_OWNER } from '../../src/engine/vmm/frames';
import { Pmap } from '../../src/engine/vmm/pmap';

const HOST_BASE = 0x8000_0000;
const HOST_SIZE = 64 << 20;
const GUEST_BASE = 0x8000_0000;
const GUEST_SIZE = 24 << 20;

function build(pages: [start: number, count: number][], run: boolean): { bus: Bus; frames: FrameAllocator; pmap: Pmap } {
  const bus = new Bus(HOST_BASE, HOST_SIZE);
  const frames = new FrameAllocator(HOST_BASE, HOST_SIZE / 4096);
  const pmap = new Pmap(bus, frames, GUEST_BASE, GUEST_SIZE);
  for (const [start, count] of pages) {
    const first = frames.allocRun(count, 5);
    if (run) pmap.mapRun(GUEST_BASE + start * 4096, first, count);
    else for (let k = 0; k < count; k++) pmap.map(GUEST_BASE + (start + k) * 4096, first + k);
  }
  return { bus, frames, pmap };
}

describe('Pmap.mapRun', () => {
  const cases: Record<string, [number, number][]> = {
    'all of guest RAM': [[0, GUEST_SIZE / 4096]],
    'runs starting and ending inside level-0 tables': [[3, 1500], [2000, 1], [2047, 2], [4000, 1100]],
    'a run of one table exactly': [[1024, 1024]],
  };
  it.each(Object.keys(cases))('maps %s as map() page by page does', (name) => {
    const a = build(cases[name], false);
    const b = build(cases[name], true);
    expect(Array.from(b.pmap.frameOf)).toEqual(Array.from(a.pmap.frameOf));
    expect(b.pmap.rootFrame).toBe(a.pmap.rootFrame);
    expect(Buffer.from(b.bus.ram).equals(Buffer.from(a.bus.ram))).toBe(true);
    expect(Array.from(b.frames.owner)).toEqual(Array.from(a.frames.owner));
    expect(b.frames.owner.filter((o) => o === VMM_OWNER).length).toBeGreaterThan(4);
    // Spot checks through the table walk itself.
    for (const [start, count] of cases[name]) {
      for (const page of [start, start + count - 1]) {
        const gpa = GUEST_BASE + page * 4096 + 0x123;
        expect(b.pmap.walk(gpa).pa).toBe(b.pmap.lookup(gpa));
      }
    }
  });
});
