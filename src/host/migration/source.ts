// The sending side of a migration (docs/migration.md). Stop-and-copy stops the guest, sends every
// page that is not all zero and then the state. Live pre-copy sends every page while the guest
// runs on, then, round after round, the pages the dirty log names as written since the previous
// round; the guest runs meanwhile, for as long as the round's pages take at the link's bandwidth (as
// QEMU's max-bandwidth paces it), counted in the guest's own time: its clock's steps, 100 M a
// second. The rounds and their pages are so the same on every run, however fast the host. When a round leaves at most `threshold`
// dirty pages, or after `maxRounds` rounds, the guest stops for good here and the last dirty pages
// and the state go in one short stop. Any failure before the destination said RESUMED leaves the
// guest here, as it was when it stopped: the caller continues it.

import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { GUEST_STEPS_PER_SECOND } from '../../engine/machine/machine';
import type { DirtyLog } from '../../engine/vmm/dirty-log';
import type { MigrationRoundInfo } from '../../shared/migration-api';
import { encodeSnapshot, type SnapshotParts } from '../snapshot-file';
import { Peer, PEER_TIMEOUT_MS } from './peer';
import { frame, jsonFrame, MessageType, PAGES_PER_FRAME, pagesFrame, parseJson, PROTOCOL, PROTOCOL_VERSION, Resumed } from './protocol';

/** What the source needs of the machine or VM it moves. */
export interface MigratingGuest {
  readonly mode: string;
  /** Pages of guest RAM. */
  readonly ramPages: number;
  /** Runs up to `steps` steps of the guest's clock; false when it cannot run on (it ended or waits with nothing to wake it). */
  run(steps: number): boolean;
  /** Steps of the guest's clock since it started, reboots included. */
  readonly elapsedSteps: number;
  /** Guest RAM page `index` (a view). */
  page(index: number): Uint8Array;
  /** Indexes of the pages that are not all zero. */
  usedPages(): number[];
  startDirtyLog(): DirtyLog;
  /** The state without RAM, as a snapshot holds it (its disks flushed and hashed). */
  state(): SnapshotParts;
  /** Closes the disk images, so the destination may open them. */
  releaseDisks(): void;
}

/**
 * Console input typed once the guest's state was taken for the destination. The guest here no
 * longer counts: the bytes wait, and go to the destination once it runs the guest, or back to the
 * guest here if the migration fails.
 */
export class InputHold {
  private bytes: Uint8Array[] | undefined;

  /** From now on, input waits. */
  start(): void {
    this.bytes ??= [];
  }

  /** Keeps `data` if input waits; false when it goes to the guest as usual. */
  hold(data: Uint8Array): boolean {
    if (this.bytes === undefined) return false;
    this.bytes.push(data.slice());
    return true;
  }

  /** The bytes that waited, in order; input goes to the guest again. */
  release(): Uint8Array[] {
    const out = this.bytes ?? [];
    this.bytes = undefined;
    return out;
  }
}

/** How to migrate. */
export interface MigrationOptions {
  port: number;
  live: boolean;
  /** Pre-copy rounds before the final stop at the latest. */
  maxRounds: number;
  /** Dirty pages few enough to stop and send them. */
  threshold: number;
  /** Bytes per second the link carries (pre-copy paces its rounds by it). */
  bandwidth: number;
  /** Steps the guest runs between looks at the link. */
  chunk?: number;
}

/** One round of pages (with the dirty pages it left for the next round). */
export type MigrationRound = MigrationRoundInfo;

/** The figures of a migration. */
export interface MigrationFigures {
  live: boolean;
  rounds: MigrationRound[];
  pagesSent: number;
  totalMs: number;
  downtimeMs: number;
  /** The destination's own part of the downtime: building and restoring the VM. */
  restoreMs: number;
}

/** How a migration ended. */
export type MigrationResult =
  | { ok: true; figures: MigrationFigures; peer: Peer }
  | { ok: false; error: string; disksReleased: boolean; state?: Uint8Array; rounds: MigrationRound[] };

const now = (): number => performance.now();
const ms = (v: number): number => Math.round(v * 100) / 100;

/** Moves `guest` to the vmlab listening on 127.0.0.1:`opts.port`; `onRound` hears of each round as it ends. */
export async function migrateOut(guest: MigratingGuest, opts: MigrationOptions, onRound: (r: MigrationRound) => void = () => {}): Promise<MigrationResult> {
  const t0 = now();
  const rounds: MigrationRound[] = [];
  let peer: Peer | undefined;
  let log: DirtyLog | undefined;
  let released = false;
  let state: Uint8Array | undefined;
  const chunk = opts.chunk ?? 20_000;
  try {
    peer = await Peer.connect(opts.port);
    peer.send(jsonFrame(MessageType.HELLO, { protocol: PROTOCOL, version: PROTOCOL_VERSION, mode: guest.mode, ramPages: guest.ramPages, live: opts.live }));
    await peer.expect(MessageType.READY);
    let pending: number[];
    let tStop: number;
    if (opts.live) {
      log = guest.startDirtyLog();
      pending = guest.usedPages();
      for (let round = 1; ; round++) {
        const t = now();
        const bytes = sendPages(peer, guest, pending);
        // The guest runs while the round travels, for as long as the link needs for its bytes in
        // the guest's time; then the round waits, the guest stopped, until the bytes left.
        const until = guest.elapsedSteps + Math.ceil((bytes / opts.bandwidth) * GUEST_STEPS_PER_SECOND);
        let running = true;
        while (running && guest.elapsedSteps < until) {
          running = guest.run(Math.min(chunk, until - guest.elapsedSteps));
          await yieldToEvents();
          if (peer.error !== undefined) throw peer.error;
        }
        await peer.drain();
        if (peer.error !== undefined) throw peer.error;
        const sentPages = pending.length;
        pending = log.take();
        const r = { round, pages: sentPages, dirty: pending.length, bytes, ms: ms(now() - t), final: false };
        rounds.push(r);
        onRound(r);
        if (!running || pending.length <= opts.threshold || round >= opts.maxRounds) break;
      }
      tStop = now();
      pending = [...new Set([...pending, ...log.take()])].sort((a, b) => a - b);
      log.stop();
      log = undefined;
    } else {
      tStop = now();
      pending = guest.usedPages();
    }
    const t = now();
    const bytes = sendPages(peer, guest, pending);
    const parts = guest.state();
    state = Buffer.concat(encodeSnapshot({ ...parts, ram: [] }));
    peer.send(frame(MessageType.STATE, state));
    await peer.expect(MessageType.PREPARED);
    guest.releaseDisks();
    released = true;
    peer.send(frame(MessageType.RELEASED));
    // The host builds and restores the VM before it answers: give it longer.
    const resumed = parseJson(await peer.expect(MessageType.RESUMED, 6 * PEER_TIMEOUT_MS), Resumed);
    const tEnd = now();
    const last = { round: rounds.length + 1, pages: pending.length, dirty: 0, bytes, ms: ms(tEnd - t), final: true };
    rounds.push(last);
    onRound(last);
    return {
      ok: true,
      peer,
      figures: {
        live: opts.live, rounds, pagesSent: rounds.reduce((n, r) => n + r.pages, 0),
        totalMs: ms(tEnd - t0), downtimeMs: ms(tEnd - tStop), restoreMs: resumed.restoreMs,
      },
    };
  } catch (err) {
    log?.stop();
    peer?.destroy();
    return { ok: false, error: (err as Error).message, disksReleased: released, state, rounds };
  }
}

/** Queues `pages` on the connection (their bytes as they are now); returns the bytes queued. */
function sendPages(peer: Peer, guest: MigratingGuest, pages: readonly number[]): number {
  let bytes = 0;
  for (let i = 0; i < pages.length; i += PAGES_PER_FRAME) {
    const batch = pages.slice(i, i + PAGES_PER_FRAME).map((index) => ({ index, bytes: guest.page(index) }));
    const f = pagesFrame(batch);
    peer.send(f);
    bytes += f.length;
  }
  return bytes;
}
