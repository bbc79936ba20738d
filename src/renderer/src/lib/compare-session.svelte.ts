// The compare view's run: one comparison at a time (as the host allows), kept here rather than in
// the view so its result and a run in progress survive switching the center view.

import type { CompareConfig, CompareResult } from '../../../shared/inspect-api';
import type { LabApi } from '../../../shared/lab-api';

/** The last comparison and the one running. */
export class CompareSession {
  /** What is running, and since when (ms, Date.now). */
  running = $state<{ readonly config: CompareConfig; readonly since: number } | undefined>();
  result = $state<CompareResult | undefined>();
  /** Why the last run gave no result ('' after a success). */
  error = $state('');

  constructor(private readonly lab: LabApi) {}

  /** Runs a comparison; the result or the error lands in this session's state. */
  async run(config: CompareConfig): Promise<void> {
    if (this.running) return;
    this.running = { config, since: Date.now() };
    this.error = '';
    try {
      this.result = await this.lab.call('compare.run', config);
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.running = undefined;
    }
  }

  /** Stops the running comparison (its run then ends with 'compare: cancelled'). */
  async cancel(): Promise<void> {
    await this.lab.call('compare.cancel', {});
  }
}
