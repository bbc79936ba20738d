// The migration part of the LabApi (docs/migration.md, "In the app"): move a running VM of the app to
// a `vmlab host` on 127.0.0.1, live pre-copy or stop-and-copy, with an event for every round as it
// ends and the figures at the end. Merged into LabMethods and LabEvents by lab-api.ts.

/** One round of pages as the source sent it. */
export interface MigrationRoundInfo {
  readonly round: number;
  /** Pages sent in this round. */
  readonly pages: number;
  /** Pages the guest wrote while the round travelled, left for the next round (0 after the final one). */
  readonly dirty: number;
  /** Bytes of the round's frames. */
  readonly bytes: number;
  /** How long the round took, in milliseconds. */
  readonly ms: number;
  /** The last round, sent with the guest stopped. */
  readonly final: boolean;
}

/** The figures of a migration that succeeded. */
export interface MigrationFiguresInfo {
  readonly live: boolean;
  readonly rounds: readonly MigrationRoundInfo[];
  readonly pagesSent: number;
  readonly totalMs: number;
  /** From the guest's final stop here to the host's word that it runs there. */
  readonly downtimeMs: number;
  /** The host's own part of the downtime: building and restoring the VM. */
  readonly restoreMs: number;
}

/** Where a VM that is moving or moved stands (on MachineStatus while it applies). */
export interface MigrationPlace {
  /** The host, as 127.0.0.1:PORT. */
  readonly to: string;
  /** moving: rounds under way; moved: it runs at the host (its console comes back here); ended: its run there ended. */
  readonly phase: 'moving' | 'moved' | 'ended';
  /** How its run at the host ended, or why its console stopped coming back. */
  readonly end?: string;
}

/** Progress of a migration, as it happens. */
export type MigrationEvent =
  | { readonly id: string; readonly kind: 'start'; readonly to: string; readonly live: boolean }
  | { readonly id: string; readonly kind: 'round'; readonly to: string; readonly round: MigrationRoundInfo }
  | { readonly id: string; readonly kind: 'done'; readonly to: string; readonly figures: MigrationFiguresInfo }
  | { readonly id: string; readonly kind: 'failed'; readonly to: string; readonly error: string; readonly rounds: readonly MigrationRoundInfo[] };

/** The migration requests: method name → [params, result]. */
export interface MigrationMethods {
  /**
   * Moves VM `id`, running, to the `vmlab host` at `to` (PORT or 127.0.0.1:PORT): live pre-copy
   * (default) or stop-and-copy (`live: false`). Resolves once the VM runs there; a failure leaves it
   * running here and rejects with the reason in one line.
   */
  'vm.migrate': [{ id: string; to: string; live?: boolean; maxRounds?: number; threshold?: number; bandwidth?: number }, MigrationFiguresInfo];
}

/** The migration events: name → payload. */
export interface MigrationEvents {
  /** A migration started, a round ended, or it succeeded or failed. */
  'vm.migration': MigrationEvent;
}

/** The migration method names. */
export const MIGRATION_METHODS: readonly (keyof MigrationMethods)[] = ['vm.migrate'];
/** The migration event names. */
export const MIGRATION_EVENTS: readonly (keyof MigrationEvents)[] = ['vm.migration'];
