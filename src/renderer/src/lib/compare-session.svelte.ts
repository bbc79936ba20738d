// The compare view's run: one comparison at a time (as the host allows), kept here rather than in
// the view so its result and a run in progress survive switching the center view. The host keeps
// the running comparison and the last result too (compare.state, compare.done), so a page loaded
// while one runs shows it running, can cancel it, and gets its result. The form is kept here too,
// and in localStorage (compare-form.ts), so a reload shows what the user chose.

import type { CompareConfig, CompareResult, CompareState } from '../../../shared/inspect-api';
import type { LabApi } from '../../../shared/lab-api';
import { rememberCompareForm, storedCompareForm, type CompareForm } from './compare-form';

/** The last comparison and the one running. */
export class CompareSession {
  /** What is running, and since when (ms, Date.now). */
  running = $state<{ readonly config: CompareConfig; readonly since: number } | undefined>();
  result = $state<CompareResult | undefined>();
  /** Why the last run gave no result ('' after a success). */
  error = $state('');
  /** The view's form as the user left it (also across a reload). */
  form = $state<CompareForm>(storedCompareForm());

  constructor(private readonly lab: LabApi) {
    lab.on('compare.done', (state) => this.adopt(state));
  }

  /** Takes the host's comparison state: after a reload, the one running and the last result. */
  async restore(): Promise<void> {
    const state = await this.lab.call('compare.state', {}).catch(() => undefined);
    if (state) this.adopt(state);
  }

  private adopt(state: CompareState): void {
    this.running = state.running && { config: state.running.config, since: state.running.since };
    if (state.last) {
      this.result = state.last.result ?? this.result;
      this.error = state.last.error ?? '';
    }
  }

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

  /** Remembers the form for the next load of the page (reads every field, so an effect tracks them all). */
  rememberForm(): void {
    rememberCompareForm(this.form);
  }

  /** Stops the running comparison (its run then ends with 'compare: cancelled'). */
  async cancel(): Promise<void> {
    await this.lab.call('compare.cancel', {});
  }
}
