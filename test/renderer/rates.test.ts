// The Statistics view's rates per second between statistics ticks, for its charts.
import { describe, expect, it } from 'vitest';
import type { VmStatsInfo } from '../../src/shared/lab-api';
import { RATE_SERIES, ratePoints } from '../../src/renderer/src/lib/rates';

const stats = (instructions: number, exitCount: number, fills = 0, misses = 0): VmStatsInfo => ({
  instructions, retired: { user: 0, supervisor: instructions, machine: 0 }, exitCount, exits: {}, emulated: {}, reflected: {},
  shadow: { fills, syncs: 0, flushes: 0, writeProtectFaults: 1 }, tlb: { hits: 0, misses, walkReferences: 0 },
  translation: { blocks: 0, hits: 0, invalidations: 0, callouts: 0, calloutKinds: {}, chainedJumps: 0 }, hypercalls: {}, pv: { refused: 0, pteUpdates: 0 },
  deviceAccesses: 0, wallMs: 0, modeledCycles: 0, cycleBreakdown: {},
});

describe('ratePoints', () => {
  const samples = [
    { t: 10_000, stats: stats(0, 0) },
    { t: 11_000, stats: stats(5_000_000, 300, 4, 10) },
    { t: 11_000, stats: stats(5_000_000, 300, 4, 10) },
    { t: 13_000, stats: stats(6_000_000, 1300, 8, 30) },
  ];

  it('divides each increase by the seconds between two ticks, at seconds from the first tick', () => {
    expect(ratePoints(samples, RATE_SERIES.instructions)).toEqual([{ x: 1, y: 5_000_000 }, { x: 3, y: 500_000 }]);
    expect(ratePoints(samples, RATE_SERIES.exits)).toEqual([{ x: 1, y: 300 }, { x: 3, y: 500 }]);
    // Shadow work: fills, syncs, flushes and write-protection faults together.
    expect(ratePoints(samples, RATE_SERIES.shadow)).toEqual([{ x: 1, y: 4 }, { x: 3, y: 2 }]);
    expect(ratePoints(samples, RATE_SERIES.tlbMisses)).toEqual([{ x: 1, y: 10 }, { x: 3, y: 10 }]);
  });

  it('has no point for fewer than two ticks', () => {
    expect(ratePoints([], RATE_SERIES.exits)).toEqual([]);
    expect(ratePoints(samples.slice(0, 1), RATE_SERIES.exits)).toEqual([]);
  });
});
