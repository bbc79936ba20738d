// vm.migrate through the lab service, with the real VMM worker as the source and a real `vmlab host`
// process as the destination (docs/migration.md, "In the app"): a running VM moves live and
// stop-and-copy, every round reaches the events before the request answers, the console the app
// shows equals `vmlab run`'s output of the same kernel and the host's instruction count equals
// the run's; bad requests and hosts that are none or drop the connection get one line each and
// leave the VM running here, unchanged.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { onFrames } from '../support/migration-frames';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src/host/lab-service';
import type { AttachedDiskInfo, LabEvents, MachineStatus, MigrationEvent, MigrationFiguresInfo } from '../../src/shared/lab-api';
import { REPO_ROOT } from '../support/build';
import { recordEvents, until } from '../support/lab';
import { freePort } from '../support/gdb-session';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const root = mkdtempSync(join(tmpdir(), 'vmlab-migrate-app-'));
let lab: LabService;
const consoleText = new Map<string, string>();
const latest = new Map<string, MachineStatus>();
/** Every migration event, with the time it came, and when each request answered. */
const events: { at: number; e: MigrationEvent }[] = [];

/** The migration lab's kernel made ten times longer (20,000 bursts), so it still runs when the request arrives. */
const LONG = readFileSync(join(REPO_ROOT, 'labs/migration/dirty.S'), 'utf8').replace(/\.equ BURSTS, 2000\b/, '.equ BURSTS, 20000');

beforeAll(async () => {
  expect(LONG).toContain('.equ BURSTS, 20000');
  cpSync(join(REPO_ROOT, 'labs/migration'), join(root, 'migration'), { recursive: true });
  cpSync(join(REPO_ROOT, 'labs/hello'), join(root, 'hello'), { recursive: true });
  writeFileSync(join(root, 'migration', 'long.S'), LONG);
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { consoleText, latest });
  lab.subscribe((event, payload) => {
    if (event === 'vm.migration') events.push({ at: performance.now(), e: payload as LabEvents['vm.migration'] });
  });
});

afterAll(() => lab.dispose());

/** `vmlab run` of the long kernel: its output and instruction count. */
const reference = (() => {
  let memo: { stdout: string; instret: number } | undefined;
  return (): { stdout: string; instret: number } => {
    if (memo !== undefined) return memo;
    const stats = join(root, 'ref.json');
    const r = spawnSync(process.execPath, [VMLAB, 'run', join(root, 'migration', 'long.S'), '--mode', 'trap', '--mem', '16M', '--stats-file', stats], { encoding: 'latin1', timeout: 170_000, input: '' });
    expect(r.status).toBe(0);
    memo = { stdout: r.stdout, instret: (JSON.parse(readFileSync(stats, 'utf8')) as { instret: number }).instret };
    return memo;
  };
})();

interface HostProc {
  port: number;
  stats: string;
  stderr: () => string;
  done: Promise<number | null>;
  kill: () => void;
}

let hosts = 0;

/**
 * A real `vmlab host --once` on a port the system picks (--port 0), once it listens. Ports picked
 * here at random collided now and then with another test's connection (EADDRINUSE, and the test
 * waited out its time).
 */
async function startHost(): Promise<HostProc> {
  const stats = join(root, `host-${hosts++}.json`);
  const child = spawn(process.execPath, [VMLAB, 'host', '--port', '0', '--once', '--stats-file', stats], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('latin1').on('data', (d: string) => { stderr += d; });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
  void done.then(() => clearTimeout(timer));
  await until('vmlab host to listen', () => /host listening on 127\.0\.0\.1:\d+/.test(stderr), 60_000);
  const port = Number(/host listening on 127\.0\.0\.1:(\d+)/.exec(stderr)![1]);
  return { port, stats, stderr: () => stderr, done, kill: () => child.kill('SIGKILL') };
}

/** A server on a fresh port that `serve`s each connection. */
async function fakeHost(serve: (s: Socket) => void): Promise<{ port: number; server: Server }> {
  const server = createServer(serve);
  await new Promise<void>((r, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => r());
  });
  return { port: (server.address() as AddressInfo).port, server };
}

const runLong = async (name: string, mode = 'trap'): Promise<string> => {
  const vm = await lab.call('vm.create', { kernel: 'migration/long.S', mode, memSize: 16 << 20, name }) as MachineStatus;
  await lab.call('vm.run', { id: vm.id });
  return vm.id;
};

describe('vm.migrate to a real vmlab host', () => {
  for (const live of [true, false]) {
    it(`${live ? 'live pre-copy' : 'stop-and-copy'}: rounds as they happen, then the VM runs at the host with the output and instructions of a run that never moved`, async () => {
      const ref = reference();
      const h = await startHost();
      const id = await runLong(live ? 'live' : 'stopcopy');
      // After 100 bursts the guest has written its whole working set.
      await until('the first report', () => (consoleText.get(id) ?? '').includes('burst 00000064'), 60_000);
      const from = events.length;
      let answered = 0;
      const figures = await lab.call('vm.migrate', live ? { id, to: `127.0.0.1:${h.port}`, live, bandwidth: 16 << 20 } : { id, to: `127.0.0.1:${h.port}`, live }).finally(() => { answered = performance.now(); }) as MigrationFiguresInfo;
      const mine = events.slice(from).filter((x) => x.e.id === id);
      expect(mine[0].e).toMatchObject({ kind: 'start', to: `127.0.0.1:${h.port}`, live });
      const rounds = mine.filter((x) => x.e.kind === 'round').map((x) => (x.e as Extract<MigrationEvent, { kind: 'round' }>).round);
      // Every round came as an event, in order, before the request answered, and they are the figures' rounds.
      expect(rounds).toEqual(figures.rounds);
      expect(mine.every((x) => x.at <= answered)).toBe(true);
      expect(mine[mine.length - 1].e).toMatchObject({ kind: 'done', figures });
      expect(rounds.map((r) => r.round)).toEqual(rounds.map((_, i) => i + 1));
      expect(rounds[rounds.length - 1]).toMatchObject({ final: true, dirty: 0 });
      if (live) {
        expect(rounds.length).toBeGreaterThanOrEqual(2);
        // The first round sends the guest's pages: its 128-page working set and more.
        expect(rounds[0].pages).toBeGreaterThan(128);
        for (const r of rounds.slice(0, -1)) expect(r.dirty).toBeLessThanOrEqual(129);
      } else {
        expect(rounds).toHaveLength(1);
      }
      for (const r of rounds) expect(r.bytes).toBeGreaterThanOrEqual(r.pages * 4096);
      expect(figures.pagesSent).toBe(rounds.reduce((n, r) => n + r.pages, 0));
      expect(figures.downtimeMs).toBeLessThanOrEqual(figures.totalMs);
      expect(latest.get(id)?.migration).toMatchObject({ to: `127.0.0.1:${h.port}` });
      // The host runs it to its end and its console comes back to the VM's console here.
      expect(await h.done).toBe(0);
      await until('the host\'s EXIT', () => latest.get(id)?.migration?.phase === 'ended');
      expect(latest.get(id)).toMatchObject({ state: 'exited', vmState: 'stopped', migration: { phase: 'ended', end: `halted, exit code 0 at 127.0.0.1:${h.port}` } });
      expect(consoleText.get(id)).toBe(ref.stdout);
      expect((JSON.parse(readFileSync(h.stats, 'utf8')) as { instret: number }).instret).toBe(ref.instret);
      // The VM here is no longer runnable; removing it ends nothing at the host.
      await expect(lab.call('vm.run', { id })).rejects.toThrow(/moved to 127\.0\.0\.1:\d+ and runs there/);
      await lab.call('vm.destroy', { id });
    }, 180_000);
  }
});

describe('vm.migrate refusals and failures', () => {
  it('bad requests are refused in one line and change nothing', async () => {
    const id = await runLong('refused');
    const bad: [Record<string, unknown>, RegExp, string][] = [
      [{ id, to: '10.0.0.1:4444' }, /^vm\.migrate: to 10\.0\.0\.1:4444: a migration goes to 127\.0\.0\.1 only$/, 'bad-request'],
      [{ id, to: 'host' }, /^vm\.migrate: to host: expected PORT or 127\.0\.0\.1:PORT$/, 'bad-request'],
      [{ id, to: '70000' }, /the port must be 1 to 65535/, 'bad-request'],
      [{ id, to: '4444', live: 'yes' }, /^vm\.migrate: live: /, 'bad-request'],
      [{ id, to: '4444', live: false, maxRounds: 3 }, /stop-and-copy sends everything in one stop/, 'bad-request'],
      [{ id, to: '4444', bandwidth: 1000 }, /^vm\.migrate: bandwidth: /, 'bad-request'],
      [{ id: 'm999', to: '4444' }, /^no machine 'm999'/, 'not-found'],
    ];
    for (const [params, message, code] of bad) {
      await expect(lab.call('vm.migrate', params)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    }
    await lab.call('vm.pause', { id });
    await expect(lab.call('vm.migrate', { id, to: '4444' })).rejects.toThrow(/^VM refused is paused: run it first/);
    expect(latest.get(id)).toMatchObject({ vmState: 'paused' });
    expect(latest.get(id)?.migration).toBeUndefined();
    await lab.call('vm.destroy', { id });
  }, 60_000);

  it('no host listening, or another server there: one line naming it, and the VM runs on here to the output of a run that never moved', async () => {
    const ref = reference();
    const port = await freePort();
    const id = await runLong('nohost');
    await expect(lab.call('vm.migrate', { id, to: String(port) })).rejects.toMatchObject({
      code: 'failed',
      message: `migration of VM nohost to 127.0.0.1:${port} failed: nothing listens on 127.0.0.1:${port} (start \`vmlab host --port ${port}\` there); the VM runs on here`,
    });
    const http = await fakeHost((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')));
    await expect(lab.call('vm.migrate', { id, to: `127.0.0.1:${http.port}` })).rejects.toThrow(
      `migration of VM nohost to 127.0.0.1:${http.port} failed: 127.0.0.1:${http.port} is not a vmlab host: what it sent is no migration frame (start \`vmlab host --port ${http.port}\` there); the VM runs on here`,
    );
    http.server.close();
    await until('the VM\'s end', () => latest.get(id)?.vmState === 'halted', 120_000);
    expect(latest.get(id)?.migration).toBeUndefined();
    expect(consoleText.get(id)).toBe(ref.stdout);
    await lab.call('vm.destroy', { id });
  }, 180_000);

  it('a host that drops the connection mid-migration: the request fails in one line, the VM runs on here and ends as a run that never moved', async () => {
    const ref = reference();
    let received = 0;
    const drop = await fakeHost((s) => {
      s.on('data', (d: Buffer) => {
        // HELLO first: answer READY (length 3, type 10, "{}"), then drop after some pages.
        if (received === 0) s.write(Buffer.from([3, 0, 0, 0, 10, 0x7b, 0x7d]));
        received += d.length;
        if (received > 100_000) s.destroy();
      });
    });
    const id = await runLong('dropped');
    await until('the first report', () => (consoleText.get(id) ?? '').includes('burst 00000064'), 60_000);
    const from = events.length;
    await expect(lab.call('vm.migrate', { id, to: String(drop.port) })).rejects.toMatchObject({
      code: 'failed',
      message: expect.stringMatching(new RegExp(`^migration of VM dropped to 127\\.0\\.0\\.1:${drop.port} failed: (127\\.0\\.0\\.1:${drop.port} closed the connection|the connection to 127\\.0\\.0\\.1:${drop.port} broke \\(\\w+\\)); the VM runs on here$`)),
    });
    drop.server.close();
    const failed = events.slice(from).find((x) => x.e.id === id && x.e.kind === 'failed');
    expect(failed?.e).toMatchObject({ kind: 'failed', to: `127.0.0.1:${drop.port}` });
    expect(latest.get(id)?.migration).toBeUndefined();
    expect(['running', 'halted']).toContain(latest.get(id)?.vmState);
    await until('the VM\'s end', () => latest.get(id)?.vmState === 'halted', 120_000);
    expect(consoleText.get(id)).toBe(ref.stdout);
    expect(latest.get(id)?.instret).toBeGreaterThan(0);
    await lab.call('vm.destroy', { id });
  }, 180_000);

  it('a host that drops the connection after the VM closed its disks: the VM is rebuilt from the state it sent, its disk attached again, and ends as a run that never moved', async () => {
    const ref = reference();
    writeFileSync(join(root, 'spare.img'), Buffer.alloc(1 << 20));
    const drop = await fakeHost((s) => {
      onFrames(s, (type) => {
        // HELLO: READY; STATE: PREPARED; RELEASED: the host goes away.
        if (type === 1) s.write(Buffer.from([3, 0, 0, 0, 10, 0x7b, 0x7d]));
        if (type === 3) s.write(Buffer.from([3, 0, 0, 0, 11, 0x7b, 0x7d]));
        if (type === 5) s.destroy();
      });
    });
    const vm = await lab.call('vm.create', { kernel: 'migration/long.S', mode: 'trap', memSize: 16 << 20, name: 'released', disks: [{ path: 'spare.img' }] }) as MachineStatus;
    const id = vm.id;
    await lab.call('vm.run', { id });
    await until('the first report', () => (consoleText.get(id) ?? '').includes('burst 00000064'), 60_000);
    await expect(lab.call('vm.migrate', { id, to: String(drop.port), live: false })).rejects.toThrow(
      new RegExp(`^migration of VM released to 127\\.0\\.0\\.1:${drop.port} failed: .*; the VM runs on here$`),
    );
    drop.server.close();
    expect(latest.get(id)?.migration).toBeUndefined();
    const disks = await lab.call('vm.disks', { id }) as AttachedDiskInfo[];
    expect(disks.map((d) => d.path)).toEqual(['spare.img']);
    await until('the VM\'s end', () => latest.get(id)?.vmState === 'halted', 120_000);
    expect(consoleText.get(id)).toBe(ref.stdout);
    expect(readFileSync(join(root, 'spare.img')).every((b) => b === 0)).toBe(true);
    await lab.call('vm.destroy', { id });
  }, 180_000);
});

describe('a moved VM\'s console', () => {
  it('gathers the output its host sends frame by frame into few console events, every byte in order', async () => {
    // A host that takes the VM (stop-and-copy), then sends 2,000 lines, each in a frame of its own,
    // as `vmlab host` sends a guest that prints a line per run chunk. One console event per frame
    // came to thousands per second, and a page under load answered its requests seconds late.
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${String(i).padStart(4, '0')} from the host\n`);
    const host = await fakeHost((s) => {
      onFrames(s, (type) => {
        // HELLO: READY; STATE: PREPARED; RELEASED: RESUMED, then the output.
        if (type === 1) s.write(Buffer.from([3, 0, 0, 0, 10, 0x7b, 0x7d]));
        if (type === 3) s.write(Buffer.from([3, 0, 0, 0, 11, 0x7b, 0x7d]));
        if (type === 5) {
          const resumed = Buffer.from('{"restoreMs":1}');
          s.write(Buffer.concat([Buffer.from([resumed.length + 1, 0, 0, 0, 12]), resumed]));
          for (const line of lines) {
            const text = Buffer.from(line);
            s.write(Buffer.concat([Buffer.from([text.length + 1, 0, 0, 0, 13]), text]));
          }
        }
      });
    });
    const id = await runLong('relayed');
    await until('the first report', () => (consoleText.get(id) ?? '').includes('burst 00000064'), 60_000);
    const before = consoleText.get(id) ?? '';
    let chunks = 0;
    const stop = lab.subscribe((event, payload) => {
      if (event === 'vm.console' && (payload as LabEvents['vm.console']).id === id) chunks++;
    });
    await lab.call('vm.migrate', { id, to: String(host.port), live: false });
    const all = lines.join('');
    await until('the host\'s 2,000 lines', () => (consoleText.get(id) ?? '').endsWith(all), 60_000);
    stop();
    const text = consoleText.get(id) ?? '';
    expect(text.startsWith(before)).toBe(true);
    expect(text.indexOf('line 0000')).toBe(text.length - all.length);
    // The output of the VM's last slices here, then the host's lines gathered (50 ms apart at most).
    expect(chunks).toBeLessThan(40);
    host.server.close();
    await lab.call('vm.destroy', { id });
  }, 180_000);
});

describe('console input while a VM moves', () => {
  /** A host that takes the VM (stop-and-copy) and, once the VM's disks are released, waits for `go` before it answers; it keeps every INPUT frame. */
  async function holdingHost(answer: 'resume' | 'drop'): Promise<{ port: number; server: Server; released: Promise<void>; go: () => void; input: () => string }> {
    let input = '';
    let onReleased = (): void => {};
    const released = new Promise<void>((r) => { onReleased = r; });
    let go = (): void => {};
    const host = await fakeHost((s) => {
      onFrames(s, (type, payload) => {
        if (type === 1) s.write(Buffer.from([3, 0, 0, 0, 10, 0x7b, 0x7d]));
        if (type === 3) s.write(Buffer.from([3, 0, 0, 0, 11, 0x7b, 0x7d]));
        if (type === 4) input += payload.toString('latin1');
        if (type === 5) {
          go = () => {
            if (answer === 'drop') return void s.destroy();
            const resumed = Buffer.from('{"restoreMs":1}');
            s.write(Buffer.concat([Buffer.from([resumed.length + 1, 0, 0, 0, 12]), resumed]));
          };
          onReleased();
        }
      });
    });
    return { ...host, released, go: () => go(), input: () => input };
  }

  const greeted = async (name: string): Promise<string> => {
    const vm = await lab.call('vm.create', { kernel: 'hello/hello.S', mode: 'trap', memSize: 16 << 20, name }) as MachineStatus;
    await lab.call('vm.run', { id: vm.id });
    await until('the greeting', () => (consoleText.get(vm.id) ?? '').includes('Type something'), 60_000);
    await until('waiting for input', () => latest.get(vm.id)?.vmState === 'waiting', 60_000);
    return vm.id;
  };
  const type = (id: string, text: string): Promise<unknown> => lab.call('vm.input', { id, data: new TextEncoder().encode(text) });

  it('typed after the VM\'s state went to the host and before it resumed there: the bytes go to the host, ahead of what is typed later', async () => {
    const host = await holdingHost('resume');
    const id = await greeted('typing');
    const moved = lab.call('vm.migrate', { id, to: String(host.port), live: false });
    await host.released;
    // The state the host restores was taken already: only the host can give these bytes to the guest.
    await type(id, 'ab\r');
    host.go();
    await moved;
    await type(id, 'cd');
    await until('both inputs at the host', () => host.input() === 'ab\rcd', 30_000);
    expect(consoleText.get(id)).not.toContain('ab\r\n');
    host.server.close();
    await lab.call('vm.destroy', { id });
  }, 120_000);

  it('typed after the state was sent, when the host then drops the connection: the VM rebuilt here gets the bytes and echoes them', async () => {
    const host = await holdingHost('drop');
    const id = await greeted('typed-back');
    const moved = lab.call('vm.migrate', { id, to: String(host.port), live: false });
    await host.released;
    await type(id, 'xy\r');
    host.go();
    await expect(moved).rejects.toThrow(/the VM runs on here$/);
    await until('the echo', () => (consoleText.get(id) ?? '').endsWith('xy\r\n'), 60_000);
    expect(host.input()).toBe('');
    host.server.close();
    await lab.call('vm.destroy', { id });
  }, 120_000);
});
