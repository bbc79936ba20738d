// Periodic statistics snapshots (issue #7): while a VM runs, its counters are read about once a
// second and published as a vm.statsTick event, and once more when it stops, so the renderer's
// charts follow without asking. Ticks ride on the status ticks the VMM worker already sends; no
// counter is read per instruction.

import type { MachineState, VmStatsInfo } from '../shared/lab-api';

/** Interval between two statistics ticks of one VM (ms). */
export const STATS_TICK_MS = 1000;

/** Decides when to read a VM's statistics, and publishes them. */
export class StatsTicker {
  private readonly last = new Map<string, { t: number; state: MachineState }>();

  constructor(
    private readonly read: (id: string) => Promise<VmStatsInfo>,
    private readonly publish: (id: string, t: number, stats: VmStatsInfo) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** A VM's status arrived: tick when it runs and a second has passed, or when it stopped running. */
  onStatus(id: string, state: MachineState): void {
    const t = this.now();
    const prev = this.last.get(id);
    const stopped = prev !== undefined && prev.state === 'running' && state !== 'running';
    const due = state === 'running' && (prev === undefined || prev.state !== 'running' || t - prev.t >= STATS_TICK_MS);
    if (!stopped && !due) {
      if (prev) prev.state = state;
      else this.last.set(id, { t: 0, state });
      return;
    }
    this.last.set(id, { t, state });
    this.read(id).then((stats) => this.publish(id, t, stats), () => undefined);
  }

  /** Forgets a removed VM. */
  forget(id: string): void {
    this.last.delete(id);
  }
}
