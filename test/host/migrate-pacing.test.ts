// Live pre-copy paces its rounds by the guest's clock (docs/migration.md, "Stop-and-copy and live
// pre-copy"): while a round's bytes travel, the guest runs exactly the steps the link needs for them
// at the bandwidth, 100 M steps a second, however long the destination takes to read them. Here the
// destination stops reading for a while after the first round began, so the bytes wait in the
// socket for far longer than the link needs: the guest must not run on meanwhile.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationGuest } from '../../src/cli/migrate-guest';
import { assemble } from '../../src/engine/asm/index';
import { GUEST_STEPS_PER_SECOND } from '../../src/engine/machine/machine';
import { receiveMigration } from '../../src/host/migration/destination';
import { Peer } from '../../src/host/migration/peer';
import { migrateOut, type MigratingGuest } from '../../src/host/migration/source';

// Writes a word into each page of 8 MiB (so the first round sends more than the socket holds),
// then counts in one page for ever.
const SOURCE = `
  .equ AREA, 0x80100000
  .equ AREA_END, 0x80900000
  .globl _start
_start:
  li    t0, AREA
  li    t1, AREA_END
  li    t2, 4096
1:sw    t0, 0(t0)
  add   t0, t0, t2
  bltu  t0, t1, 1b
  li    t0, AREA
2:lw    t3, 4(t0)
  addi  t3, t3, 1
  sw    t3, 4(t0)
  j     2b
`;

const asm = assemble(SOURCE, { file: 'migrate-pacing.S' });
if (!asm.elf) throw new Error(asm.diagnostics.map((d) => `${d.line}: ${d.message}`).join('\n'));
const KERNEL = asm.elf;
const STALL_MS = 400;

let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((socket: Socket) => {
    const peer = new Peer(socket, 'the source');
    // After HELLO, the destination reads nothing for STALL_MS: round 1's pages wait in the socket.
    socket.once('data', () => setImmediate(() => {
      socket.pause();
      setTimeout(() => socket.resume(), STALL_MS);
    }));
    void receiveMigration(peer, { prepare: () => {}, resume: () => {} }).catch(() => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('live pre-copy rounds', () => {
  it('run the guest for the steps the link needs for the bytes, not for as long as the destination takes', async () => {
    const guest = new MigrationGuest({ mode: 'bare', kernel: KERNEL, kernelName: 'migrate-pacing.S', mem: 16 << 20, cpu: {}, boot: {}, disks: [], jit: true }, () => {});
    guest.run(200_000);
    let atStart = 0;
    const during: number[] = [];
    const watched: MigratingGuest = {
      mode: guest.mode, ramPages: guest.ramPages,
      get elapsedSteps() {
        return guest.elapsedSteps;
      },
      run: (n) => guest.run(n),
      page: (i) => guest.page(i), usedPages: () => guest.usedPages(),
      startDirtyLog: () => {
        const log = guest.startDirtyLog();
        atStart = guest.elapsedSteps;
        return {
          take: () => {
            during.push(guest.elapsedSteps - atStart);
            atStart = guest.elapsedSteps;
            return log.take();
          },
          stop: () => log.stop(),
        };
      },
      state: () => guest.state(), releaseDisks: () => guest.releaseDisks(),
    };
    const bandwidth = 1 << 30;
    const t0 = performance.now();
    const result = await migrateOut(watched, { port, live: true, maxRounds: 2, threshold: 0, bandwidth });
    const ms = performance.now() - t0;
    if (!result.ok) throw new Error(result.error);
    result.peer.destroy();
    guest.close();
    const rounds = result.figures.rounds;
    expect(rounds[0].pages).toBeGreaterThan(2048);
    // The stall really held round 1's bytes back (the test would prove nothing otherwise).
    expect(ms).toBeGreaterThanOrEqual(STALL_MS);
    // 8 MiB at 1 GiB/s: about 8 ms of the guest's time, 800,000 steps, while the bytes waited 400 ms.
    expect(during[0]).toBe(Math.ceil((rounds[0].bytes / bandwidth) * GUEST_STEPS_PER_SECOND));
    expect(during[1]).toBe(Math.ceil((rounds[1].bytes / bandwidth) * GUEST_STEPS_PER_SECOND));
  }, 60_000);
});
