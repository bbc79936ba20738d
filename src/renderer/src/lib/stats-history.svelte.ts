// Statistics over time for the Statistics view: every vm.statsTick the host publishes (about once a
// second while a VM runs, once when it stops) is kept per VM from the moment the app starts, so the
// charts have a history however late the view is opened.

import type { LabApi, VmStatsInfo } from '../../../shared/lab-api';

/** Samples kept per VM: ten minutes of ticks at one a second. */
export const HISTORY_LENGTH = 600;

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

/** Statistics samples per VM. */
export class StatsHistory {
  /** Bumped on every new sample, so views that read the history re-run. */
  version = $state(0);
  private readonly samples = new Map<string, StatsSample[]>();

  constructor(lab: LabApi) {
    lab.on('vm.statsTick', ({ id, t, stats }) => this.add(id, t, stats));
    lab.on('vm.destroyed', ({ id }) => this.forget(id));
  }

  /** Adds a reading; a counter that went back (the VM was reset) starts the history afresh. */
  add(id: string, t: number, stats: VmStatsInfo): void {
    let list = this.samples.get(id);
    if (!list) this.samples.set(id, (list = []));
    const last = list[list.length - 1];
    if (last && (t < last.t || stats.instructions < last.stats.instructions)) list.length = 0;
    if (last && last.t === t && list.length > 0) list[list.length - 1] = { t, stats };
    else list.push({ t, stats });
    if (list.length > HISTORY_LENGTH) list.splice(0, list.length - HISTORY_LENGTH);
    this.version++;
  }

  /** The samples of VM `id`, oldest first. */
  of(id: string): readonly StatsSample[] {
    void this.version;
    return this.samples.get(id) ?? [];
  }

  /** The latest reading of VM `id`. */
  latest(id: string): StatsSample | undefined {
    const list = this.of(id);
    return list[list.length - 1];
  }

  /** Rates per second of one figure between consecutive samples of VM `id`. */
  rates(id: string, series: RateSeries): RatePoint[] {
    const list = this.of(id);
    const read = RATE_SERIES[series];
    const out: RatePoint[] = [];
    for (let i = 1; i < list.length; i++) {
      const dt = (list[i].t - list[i - 1].t) / 1000;
      if (dt <= 0) continue;
      out.push({ x: (list[i].t - list[0].t) / 1000, y: (read(list[i].stats) - read(list[i - 1].stats)) / dt });
    }
    return out;
  }

  /** Drops a removed VM's history. */
  forget(id: string): void {
    if (this.samples.delete(id)) this.version++;
  }
}
