// The app's record of migrations (docs/migration.md, "In the app"): for each VM, the host it moves
// or moved to, every round as its `vm.migration` event arrives, and the figures or the failure at
// the end. One record per LabApi, kept outside the components so a record outlives the form.

import type { LabApi, MigrationEvent, MigrationFiguresInfo, MigrationRoundInfo } from '../../../shared/lab-api';

/** One VM's latest migration. */
export interface MigrationRecord {
  readonly to: string;
  readonly live: boolean;
  rounds: MigrationRoundInfo[];
  figures?: MigrationFiguresInfo;
  error?: string;
}

/** Migrations by VM id, filled from the events. */
export class Migrations {
  records = $state<Record<string, MigrationRecord>>({});

  constructor(lab: LabApi) {
    lab.on('vm.migration', (e) => this.onEvent(e));
    lab.on('vm.destroyed', ({ id }) => delete this.records[id]);
  }

  private onEvent(e: MigrationEvent): void {
    if (e.kind === 'start') {
      this.records[e.id] = { to: e.to, live: e.live, rounds: [] };
      return;
    }
    const r = this.records[e.id] ?? (this.records[e.id] = { to: e.to, live: true, rounds: [] });
    if (e.kind === 'round') r.rounds.push(e.round);
    else if (e.kind === 'done') {
      r.rounds = [...e.figures.rounds];
      r.figures = e.figures;
    } else r.error = e.error;
  }
}

const stores = new WeakMap<LabApi, Migrations>();

/** The migrations of `lab` (made, and subscribed, on first use). */
export function migrationsOf(lab: LabApi): Migrations {
  let m = stores.get(lab);
  if (m === undefined) {
    m = new Migrations(lab);
    stores.set(lab, m);
  }
  return m;
}

/** A migration's figures in one line, as `vmlab migrate` prints them. */
export function figuresText(f: MigrationFiguresInfo, to: string): string {
  const n = f.rounds.length;
  return `moved to ${to} (${f.live ? 'live pre-copy' : 'stop-and-copy'}): ${n} round${n === 1 ? '' : 's'}, ${f.pagesSent} pages, total ${f.totalMs} ms, downtime ${f.downtimeMs} ms`;
}
