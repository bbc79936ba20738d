// Statistics over time for the Statistics view: every vm.statsTick the host publishes (about once a
// second while a VM runs, once when it stops) is kept per VM from the moment the app starts, so the
// charts have a history however late the view is opened.

import type { LabApi, VmStatsInfo } from '../../../shared/lab-api';
import { RATE_SERIES, ratePoints, type RatePoint, type RateSeries, type StatsSample } from './rates';

/** Samples kept per VM: ten minutes of ticks at one a second. */
export const HISTORY_LENGTH = 600;

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

  /** The samples of VM `id`, oldest first (a copy, so a derived value that holds it sees each change). */
  of(id: string): readonly StatsSample[] {
    void this.version;
    return this.samples.get(id)?.slice() ?? [];
  }

  /** The latest reading of VM `id`. */
  latest(id: string): StatsSample | undefined {
    const list = this.of(id);
    return list[list.length - 1];
  }

  /** Rates per second of one figure between consecutive samples of VM `id`. */
  rates(id: string, series: RateSeries): RatePoint[] {
    return ratePoints(this.of(id), RATE_SERIES[series]);
  }

  /** Drops a removed VM's history. */
  forget(id: string): void {
    if (this.samples.delete(id)) this.version++;
  }
}

