// A guest that reboots itself (test finisher 0x7777) while it moves by live pre-copy
// (docs/migration.md): the reboot clears RAM and loads the image again behind the guest's back, and
// every page it changes must reach the destination. The source is `vmlab migrate`'s guest in every
// mode and bare, and the app's VM in every VMM mode; the destination is the real receiving side in
// this process. The RAM the destination got equals, page for page, the RAM of a run that never
// moved stopped at the same point, and the guest continued from it prints what that run prints.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationGuest } from '../../src/cli/migrate-guest';
import { assemble } from '../../src/engine/asm/index';
import { VMM_RESERVE } from '../../src/engine/machine/memory-map';
import { ALL_VM_MODES, type VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { receiveMigration } from '../../src/host/migration/destination';
import { Peer } from '../../src/host/migration/peer';
import { migrateOut, type MigratingGuest } from '../../src/host/migration/source';
import type { Snapshot } from '../../src/host/snapshot-file';
import { AppMigratingGuest } from '../../src/host/vm-migration';

// Each boot spins (storing its count, so every pre-copy round has a page to send), then looks at
// AREA (32 pages, one word in 256 bytes) and its data word `mark`: 'A' when the boot found them as
// a fresh boot leaves them (zero), 'X' when not. Then it writes them, spins again and asks for a
// reboot, which must clear them again.
const SOURCE = `
  .equ UART, 0x10000000
  .equ FINISHER, 0x100000
  .equ AREA, 0x80200000
  .equ AREA_END, 0x80220000
  .equ SPIN, 10000
  .globl _start
_start:
  la    t1, count
  li    t0, SPIN
1:sw    t0, 0(t1)
  addi  t0, t0, -1
  bnez  t0, 1b
  li    t0, AREA
  li    t1, AREA_END
  li    t2, 0
2:lw    t3, 0(t0)
  or    t2, t2, t3
  addi  t0, t0, 256
  bltu  t0, t1, 2b
  la    t0, mark
  lw    t3, 0(t0)
  or    t2, t2, t3
  li    a0, 'A'
  beqz  t2, 3f
  li    a0, 'X'
3:li    a1, UART
  sb    a0, 0(a1)
  li    t0, AREA
  li    t1, AREA_END
  li    t2, 0x5a5a5a5a
4:sw    t2, 0(t0)
  addi  t0, t0, 256
  bltu  t0, t1, 4b
  la    t0, mark
  sw    t2, 0(t0)
  la    t1, count
  li    t0, SPIN
5:sw    t0, 0(t1)
  addi  t0, t0, -1
  bnez  t0, 5b
  li    t0, FINISHER
  li    t1, 0x7777
  sw    t1, 0(t0)
6:j     6b
  .data
mark: .word 0
count: .word 0
`;

const MEM = 16 << 20;
const PAGES = MEM / 4096;
/** Steps per run call, for the migrating guest and the run it is compared with alike. */
const CALL = 1_000;

const asm = assemble(SOURCE, { file: 'migrate-reboot.S' });
if (!asm.elf) throw new Error(asm.diagnostics.map((d) => `${d.line}: ${d.message}`).join('\n'));
const KERNEL = asm.elf;

interface Built {
  guest: MigratingGuest;
  output: number[];
  /** The guest's clock: steps since its last reset. */
  steps(): number;
}

/** `vmlab migrate`'s guest, or the app's VM in a VMM of its own. */
function build(kind: 'cli' | 'app', mode: 'bare' | VmMode): Built {
  const output: number[] = [];
  const onUart = (b: number): void => { output.push(b); };
  if (kind === 'cli') {
    const guest = new MigrationGuest({ mode, kernel: KERNEL, kernelName: 'migrate-reboot.S', mem: MEM, cpu: {}, boot: {}, disks: [], jit: true }, onUart);
    return { guest, output, steps: () => guest.steps };
  }
  const vmm = new Vmm({ hostRamSize: MEM + VMM_RESERVE, jit: true });
  const made = { name: 'g', mode: mode as VmMode, kernel: KERNEL, memSize: MEM };
  const vm = vmm.createVm({ ...made, onUart });
  return { guest: new AppMigratingGuest({ vmm, vm, disks: [], made }), output, steps: () => vm.machine.clockSteps };
}

/** Calls after the fourth print: the fill is done (its spin lasts 30 calls), and the migration's log is read once more. */
const HOLD = 10;
/** Calls after the fourth print: past the reboot, in the fifth boot's first spin (30 calls). */
const STOP = 45;

/**
 * `b` run in calls of CALL steps until it has printed four characters, then STOP calls more; `run`
 * answers false from then on, so a migration stops there. Given the log it reads (`takes`), the
 * guest waits at HOLD until the log was read once more: a pre-copy round ends after the writes of
 * the fourth boot and before its reboot, so the pages the reboot clears went with data.
 */
function stopped(b: Built, takes: () => number): MigratingGuest {
  const g = b.guest;
  let calls = 0;
  let heldAt = -1;
  // Every call counts as CALL steps, held ones too, so the rounds (paced in the guest's steps) end while it is held.
  let clock = 0;
  return {
    mode: g.mode, ramPages: g.ramPages,
    get elapsedSteps() {
      return clock;
    },
    run: () => {
      clock += CALL;
      if (b.output.length >= 4) {
        if (calls === STOP) return false;
        if (calls === HOLD) {
          if (heldAt < 0) heldAt = takes();
          if (takes() === heldAt) return true;
        }
        calls++;
      }
      g.run(CALL);
      return true;
    },
    page: (i) => g.page(i), usedPages: () => g.usedPages(), startDirtyLog: () => g.startDirtyLog(),
    state: () => g.state(), releaseDisks: () => g.releaseDisks(),
  };
}

let server: Server;
let port = 0;
let received: ((s: Snapshot) => void) | undefined;

beforeAll(async () => {
  server = createServer((socket) => {
    const peer = new Peer(socket, 'the source');
    void receiveMigration(peer, { prepare: () => {}, resume: (s) => received?.(s) }).catch(() => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Pages where the destination's RAM differs from `ref`'s (at most 8 named). */
function differences(ram: ReadonlyMap<number, Uint8Array>, ref: MigratingGuest): number[] {
  const zero = new Uint8Array(4096);
  const out: number[] = [];
  for (let i = 0; i < PAGES && out.length < 8; i++) {
    if (Buffer.compare(ram.get(i) ?? zero, ref.page(i)) !== 0) out.push(i);
  }
  return out;
}

/** Runs until `b` printed `n` characters (a bounded number of calls). */
function runToPrints(g: MigratingGuest, output: number[], n: number): void {
  for (let i = 0; i < 2_000 && output.length < n; i++) g.run(CALL);
}

describe('a guest that reboots while it moves live', () => {
  const cases: ['cli' | 'app', 'bare' | VmMode][] = [
    ...(['bare', ...ALL_VM_MODES] as ('bare' | VmMode)[]).map((m): ['cli', 'bare' | VmMode] => ['cli', m]),
    ...ALL_VM_MODES.map((m): ['app', VmMode] => ['app', m]),
  ];
  for (const [kind, mode] of cases) {
    it(`${kind === 'cli' ? 'vmlab migrate' : 'the app'}, ${mode}: the destination's RAM and output are those of a run that never moved`, async () => {
      const src = build(kind, mode);
      // The migration starts in the first boot's second spin; pre-copy rounds run the guest through
      // reboots, and it stops in the fifth boot's first spin.
      let takes = 0;
      const moving = stopped(src, () => takes);
      runToPrints(src.guest, src.output, 1);
      for (let i = 0; i < 10; i++) src.guest.run(CALL);
      const logged: MigratingGuest = {
        ...moving,
        get elapsedSteps() {
          return moving.elapsedSteps;
        },
        startDirtyLog: () => {
          const log = src.guest.startDirtyLog();
          // No round comes back empty: a round without pages lasts no steps of the guest, and with
          // no threshold every round after it would be empty too. The last page, never written, is
          // sent again instead.
          return {
            take: () => {
              takes++;
              const pages = log.take();
              return pages.length > 0 ? pages : [PAGES - 1];
            },
            stop: () => log.stop(),
          };
        },
      };
      const got = new Promise<Snapshot>((resolve) => { received = resolve; });
      const result = await migrateOut(logged, { port, live: true, maxRounds: 100_000, threshold: -1, bandwidth: 4 << 20, chunk: CALL });
      if (!result.ok) throw new Error(result.error);
      result.peer.destroy();
      const snapshot = await got;
      // A round ended at HOLD, the round after it at the stop, then the final stop's: at least three.
      expect(result.figures.rounds.length).toBeGreaterThanOrEqual(3);
      expect(Buffer.from(src.output).toString('latin1')).toBe('AAAA');

      // The run that never moved, to the same step of the fifth boot. (Calls of a guest that logs
      // may run fewer steps, its logging faults being no steps: the clock, not the calls, is the same.)
      const ref = build(kind, mode);
      runToPrints(ref.guest, ref.output, 4);
      for (let last = -1; ref.steps() >= last;) {
        last = ref.steps();
        ref.guest.run(CALL);
      }
      while (ref.steps() < src.steps()) ref.guest.run(Math.min(CALL, src.steps() - ref.steps()));
      expect(ref.steps()).toBe(src.steps());
      expect(Buffer.from(ref.output).toString('latin1')).toBe('AAAA');
      // The RAM that arrived against that run's, and against the guest here where it stopped.
      const here = new Map(Array.from({ length: PAGES }, (_, i) => [i, src.guest.page(i)]));
      expect({ arrived: differences(snapshot.ram, ref.guest), here: differences(here, ref.guest), sent: differences(snapshot.ram, src.guest) })
        .toEqual({ arrived: [], here: [], sent: [] });

      // Continued there, the guest prints what the run that never moved prints.
      const out: number[] = [];
      const there = MigrationGuest.fromSnapshot(snapshot, (b) => out.push(b), true);
      runToPrints(there, out, 3);
      runToPrints(ref.guest, ref.output, 7);
      there.close();
      expect(Buffer.from(out).toString('latin1')).toBe(Buffer.from(ref.output.slice(4)).toString('latin1'));
    }, 60_000);
  }
});
