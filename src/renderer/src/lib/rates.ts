// Rates per second between statistics readings, for the Statistics view's charts (pure, no runes).

import type { VmStatsInfo } from '../../../shared/lab-api';

/** One statistics reading; `t` in milliseconds (the host's clock). */
export interface StatsSample {
  readonly t: number;
  readonly stats: VmStatsInfo;
}

/** A series of rates per second between consecutive samples, at the later sample's time (s from the first). */
export interface RatePoint {
  readonly x: number;
  readonly y: number;
}

/** The figures charted over time, each read from a sample's statistics. */
export const RATE_SERIES = {
  instructions: (s: VmStatsInfo): number => s.instructions,
  exits: (s: VmStatsInfo): number => s.exitCount,
  shadow: (s: VmStatsInfo): number => s.shadow.fills + s.shadow.syncs + s.shadow.flushes + s.shadow.writeProtectFaults,
  tlbMisses: (s: VmStatsInfo): number => s.tlb.misses,
} as const;

/** The name of a charted figure. */
export type RateSeries = keyof typeof RATE_SERIES;

/** Rates per second of `read` between consecutive samples, at each later sample's time (s from the first). */
export function ratePoints(list: readonly StatsSample[], read: (s: VmStatsInfo) => number): RatePoint[] {
  const out: RatePoint[] = [];
  for (let i = 1; i < list.length; i++) {
    const dt = (list[i].t - list[i - 1].t) / 1000;
    if (dt <= 0) continue;
    out.push({ x: (list[i].t - list[0].t) / 1000, y: (read(list[i].stats) - read(list[i - 1].stats)) / dt });
  }
  return out;
}
