// `vmlab migrate` and `vmlab host` as two real processes on 127.0.0.1 (docs/migration.md): a running
// lab kernel moves live and stop-and-copy in every mode, and its console output, exit code and
// instruction count equal a run that never moved. A connection dropped in the middle (by either
// side) and hostile messages leave the source's VM running and the host listening, each with a
// one-line reason.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { onFrames } from '../support/migration-frames';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';
// A port nobody listens on when the test takes it: ports picked at random in a fixed range
// collided now and then with another test's connection (EADDRINUSE, and the test waited out its time).
import { freePort } from '../support/gdb-session';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const DIRTY = join(REPO_ROOT, 'labs', 'migration', 'dirty.S');
const PAGING = join(REPO_ROOT, 'labs', 'paging', 'paging.S');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-migrate-'));

interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  done: Promise<Proc>;
  /** The process's end, killing it when it has not ended within `ms` (a host still waiting for a VM). */
  within(ms: number): Promise<Proc>;
  /** Resolves, with stderr so far, when stderr has printed a line matching `re`. */
  waitFor(re: RegExp): Promise<string>;
}

function start(args: string[], input = ''): Running {
  const child = spawn(process.execPath, [VMLAB, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: { re: RegExp; resolve: (stderr: string) => void }[] = [];
  child.stdout.setEncoding('latin1').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('latin1').on('data', (d: string) => {
    stderr += d;
    for (const w of [...watchers]) if (w.re.test(stderr)) { watchers.splice(watchers.indexOf(w), 1); w.resolve(stderr); }
  });
  child.stdin.end(input);
  const done = new Promise<Proc>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
  void done.then(() => clearTimeout(timer));
  return {
    done,
    within: (ms) => {
      const t = setTimeout(() => child.kill('SIGKILL'), ms);
      return done.finally(() => clearTimeout(t));
    },
    waitFor: (re) => new Promise<string>((resolve, reject) => {
      if (re.test(stderr)) return resolve(stderr);
      watchers.push({ re, resolve });
      void done.then(() => reject(new Error(`exited before printing ${re}: ${stderr}`)));
    }),
  };
}

function reference(kernel: string, mode: string, mem: string): { stdout: string; code: number | null; instret: number } {
  const stats = join(dir, `ref-${mode}-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(process.execPath, [VMLAB, 'run', kernel, '--mode', mode, '--mem', mem, '--stats-file', stats], { encoding: 'latin1', timeout: 170_000, input: '' });
  return { stdout: r.stdout, code: r.status, instret: (JSON.parse(readFileSync(stats, 'utf8')) as { instret: number }).instret };
}

/**
 * A `vmlab host --once` on a port the system picks (`--port 0`), so that no other listener of a
 * parallel test file can hold it; its port is read from the line it prints.
 */
async function host(extra: string[] = []): Promise<{ port: number; proc: Running; stats: string }> {
  const stats = join(dir, `host-${Math.random().toString(36).slice(2)}.json`);
  const proc = start(['host', '--port', '0', '--once', '--stats-file', stats, ...extra]);
  const port = Number(/host listening on 127\.0\.0\.1:(\d+)/.exec(await proc.waitFor(/host listening on 127\.0\.0\.1:\d+/))![1]);
  return { port, proc, stats };
}

interface Figures { live: boolean; rounds: { round: number; pages: number; final: boolean }[]; totalMs: number; downtimeMs: number }

describe('vmlab migrate and vmlab host', () => {
  // Live cases converge after the first round (the working set is below --threshold 200), so the
  // guest is still running when it moves however fast the machine; rounds are tested below.
  const cases: [string, string, string, string[]][] = [
    ['dirty.S', DIRTY, 'trap', ['--at', '3000000', '--threshold', '200']],
    ['dirty.S', DIRTY, 'bt', ['--at', '2000000', '--threshold', '200']],
    ['dirty.S', DIRTY, 'hw', ['--at', '3000000', '--threshold', '200']],
    ['dirty.S', DIRTY, 'emulate', ['--at', '1000000', '--stop-and-copy']],
    ['dirty.S', DIRTY, 'bare', ['--at', '4000000', '--stop-and-copy']],
    ['dirty.S', DIRTY, 'trap', ['--at', '5000000', '--stop-and-copy']],
    ['dirty.S', DIRTY, 'emulate', ['--at', '2000000', '--threshold', '200']],
    ['paging.S', PAGING, 'hw', ['--at', '6000', '--stop-and-copy']],
  ];
  for (const [name, kernel, mode, args] of cases) {
    const live = !args.includes('--stop-and-copy');
    it(`${name} in ${mode}, ${live ? 'live' : 'stop-and-copy'}: the output, exit code and instructions of a run that never moved`, async () => {
      const mem = kernel === PAGING ? '32M' : '16M';
      const ref = reference(kernel, mode, mem);
      expect(ref.code).toBe(0);
      const h = await host();
      const stats = join(dir, `mig-${h.port}.json`);
      const m = await start(['migrate', kernel, '--to', String(h.port), '--mode', mode, '--mem', mem, '--stats-file', stats, ...args]).done;
      const hp = await h.proc.within(60_000);
      expect(m.stderr).toMatch(/moved to 127\.0\.0\.1:\d+ \((live pre-copy|stop-and-copy)\)/);
      expect(m.stdout).toBe(ref.stdout);
      expect(m.code).toBe(0);
      expect(hp.code).toBe(0);
      // The host printed the console from the move on: the end of the same output.
      expect(hp.stdout.length).toBeGreaterThan(0);
      expect(ref.stdout.endsWith(hp.stdout)).toBe(true);
      const hostEnd = JSON.parse(readFileSync(h.stats, 'utf8')) as { instret: number; end: string };
      expect(hostEnd.end).toBe('exit');
      expect(hostEnd.instret).toBe(ref.instret);
      const f = (JSON.parse(readFileSync(stats, 'utf8')) as { migration: Figures; run: { instret: number } });
      expect(f.run.instret).toBe(ref.instret);
      expect(f.migration.live).toBe(live);
      const rounds = f.migration.rounds;
      expect(rounds[rounds.length - 1].final).toBe(true);
      expect(rounds.every((r, i) => r.round === i + 1)).toBe(true);
      if (live) {
        expect(rounds.length).toBeGreaterThanOrEqual(2);
        expect(rounds[0].pages).toBeGreaterThan(2);
      } else {
        expect(rounds).toHaveLength(1);
      }
      expect(f.migration.downtimeMs).toBeLessThanOrEqual(f.migration.totalMs);
    }, 180_000);
  }

  it('a VM with a disk moves: the host opens the same image once the source closed it, and the image ends as a run that never moved left it', async () => {
    const DISK_LAB = join(REPO_ROOT, 'labs', 'disk', 'disk.S');
    const images = ['ref', 'moved'].map((n) => join(dir, `disk-${n}.img`));
    for (const img of images) writeFileSync(img, Buffer.alloc(1024 * 1024));
    const ref = spawnSync(process.execPath, [VMLAB, 'run', DISK_LAB, '--mode', 'trap', '--mem', '32M', '--disk', images[0]], { encoding: 'latin1', timeout: 120_000, input: '' });
    expect(ref.status).toBe(0);
    const h = await host();
    const m = await start(['migrate', DISK_LAB, '--to', String(h.port), '--mode', 'trap', '--mem', '32M', '--disk', images[1], '--at', '600', '--stop-and-copy']).done;
    const hp = await h.proc.within(60_000);
    expect(m.stderr).toMatch(/moved to 127\.0\.0\.1:\d+ \(stop-and-copy\)/);
    expect(m.stdout).toBe(ref.stdout);
    expect(hp.code).toBe(0);
    expect(Buffer.compare(readFileSync(images[1]), readFileSync(images[0]))).toBe(0);
    expect(readFileSync(images[1]).some((b) => b !== 0)).toBe(true);
  }, 180_000);

  it('live pre-copy of a working set larger than the threshold stops at --max-rounds, with the working set in every round', async () => {
    const ref = reference(DIRTY, 'trap', '16M');
    const move = async (): Promise<{ rounds: Figures['rounds']; stderr: string }> => {
      const h = await host();
      const stats = join(dir, `mig-rounds-${h.port}.json`);
      const m = await start(['migrate', DIRTY, '--to', String(h.port), '--mode', 'trap', '--mem', '16M', '--at', '500000', '--threshold', '8', '--max-rounds', '3', '--bandwidth', '64M', '--stats-file', stats]).done;
      await h.proc.within(60_000);
      expect(m.stdout).toBe(ref.stdout);
      return { rounds: (JSON.parse(readFileSync(stats, 'utf8')) as { migration: Figures }).migration.rounds, stderr: m.stderr };
    };
    const first = await move();
    const rounds = first.rounds;
    expect(rounds).toHaveLength(4);
    // A round lets the guest run for as long as 64 MiB/s carries its ~128 pages, 8 ms of its time
    // (800,000 steps): more than 4 bursts of 16 pages each, never fewer than the threshold's 8.
    for (const r of rounds.slice(1)) expect(r.pages).toBeGreaterThanOrEqual(64);
    expect(first.stderr).toMatch(/migration round 3: \d+ pages/);
    // The rounds go by the guest's clock, not the host's: a second move sends the same pages, round by round.
    const again = await move();
    const pages = (rs: Figures['rounds']): number[] => rs.map((r) => r.pages);
    expect(pages(again.rounds)).toEqual(pages(rounds));
  }, 180_000);

  it('a host that drops the connection in the middle leaves the VM running at the source, unchanged', async () => {
    const ref = reference(DIRTY, 'trap', '16M');
    const port = await freePort();
    let pages = 0;
    const server = createServer((s: Socket) => {
      s.on('data', (d: Buffer) => {
        // HELLO first: answer READY (length 1+2, type 10, "{}"), then drop after some pages.
        if (pages === 0) s.write(Buffer.from([3, 0, 0, 0, 10, 0x7b, 0x7d]));
        pages += d.length;
        if (pages > 100_000) s.destroy();
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    const stats = join(dir, `mig-drop-${port}.json`);
    const m = await start(['migrate', DIRTY, '--to', String(port), '--mode', 'trap', '--mem', '16M', '--at', '3000000', '--stats-file', stats]).done;
    server.close();
    expect(m.stderr).toMatch(/vmlab: migration to 127\.0\.0\.1:\d+ failed: .*(closed the connection|broke).*; the VM runs on here/);
    expect(m.stdout).toBe(ref.stdout);
    expect(m.code).toBe(0);
    expect((JSON.parse(readFileSync(stats, 'utf8')) as { run: { instret: number } }).run.instret).toBe(ref.instret);
  }, 180_000);

  it('a host that accepts and never answers fails the migration after 10 s; the VM runs on at the source', async () => {
    const ref = reference(DIRTY, 'trap', '16M');
    const port = await freePort();
    const sockets: Socket[] = [];
    const server = createServer((s: Socket) => { sockets.push(s); });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    const m = await start(['migrate', DIRTY, '--to', String(port), '--mode', 'trap', '--mem', '16M', '--at', '1000000']).done;
    for (const s of sockets) s.destroy();
    server.close();
    expect(m.stderr).toMatch(/migration to 127\.0\.0\.1:\d+ failed: 127\.0\.0\.1:\d+ sent nothing for 10 s; the VM runs on here/);
    expect(m.stdout).toBe(ref.stdout);
    expect(m.code).toBe(0);
  }, 180_000);

  it('a host that drops the connection after the source closed its disks: the source continues from the state it sent, its disks reopened', async () => {
    const DISK_LAB = join(REPO_ROOT, 'labs', 'disk', 'disk.S');
    const images = ['ref2', 'back'].map((n) => join(dir, `disk-${n}.img`));
    for (const img of images) writeFileSync(img, Buffer.alloc(1024 * 1024));
    const ref = spawnSync(process.execPath, [VMLAB, 'run', DISK_LAB, '--mode', 'trap', '--mem', '32M', '--disk', images[0]], { encoding: 'latin1', timeout: 120_000, input: '' });
    const port = await freePort();
    const server = createServer((s: Socket) => {
      onFrames(s, (type) => {
        // HELLO: READY; STATE: PREPARED; RELEASED: the host goes away.
        if (type === 1) s.write(Buffer.from([3, 0, 0, 0, 10, 0x7b, 0x7d]));
        if (type === 3) s.write(Buffer.from([3, 0, 0, 0, 11, 0x7b, 0x7d]));
        if (type === 5) s.destroy();
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    const m = await start(['migrate', DISK_LAB, '--to', String(port), '--mode', 'trap', '--mem', '32M', '--disk', images[1], '--at', '600', '--stop-and-copy']).done;
    server.close();
    expect(m.stderr).toMatch(/migration to 127\.0\.0\.1:\d+ failed: .*; the VM runs on here/);
    expect(m.stdout).toBe(ref.stdout);
    expect(m.code).toBe(0);
    expect(Buffer.compare(readFileSync(images[1]), readFileSync(images[0]))).toBe(0);
  }, 180_000);

  it('console output and the end that come in the same read as RESUMED reach the source (a loaded machine reads them together)', async () => {
    const ref = reference(DIRTY, 'trap', '16M');
    const port = await freePort();
    const frameOf = (type: number, payload: Buffer): Buffer => {
      const head = Buffer.alloc(5);
      head.writeUInt32LE(payload.length + 1, 0);
      head.writeUInt8(type, 4);
      return Buffer.concat([head, payload]);
    };
    const server = createServer((s: Socket) => {
      onFrames(s, (type) => {
        if (type === 1) s.write(frameOf(10, Buffer.from('{}')));
        if (type === 3) s.write(frameOf(11, Buffer.from('{}')));
        // RELEASED: RESUMED, console output and EXIT in one write, as a host that resumed a guest
        // printing at once can put them on the wire before the source reads.
        if (type === 5) {
          s.write(Buffer.concat([
            frameOf(12, Buffer.from('{"restoreMs":1}')),
            frameOf(13, Buffer.from('moved along\n')),
            frameOf(14, Buffer.from('{"end":"exit","exitCode":7,"instret":1,"steps":1}')),
          ]));
          setTimeout(() => s.end(), 2000);
        }
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    const m = await start(['migrate', DIRTY, '--to', String(port), '--mode', 'trap', '--mem', '16M', '--at', '1000000', '--stop-and-copy']).done;
    server.close();
    expect(m.stderr).toMatch(/moved to 127\.0\.0\.1:\d+ \(stop-and-copy\)/);
    expect(m.stdout.endsWith('moved along\n')).toBe(true);
    expect(ref.stdout.startsWith(m.stdout.slice(0, -'moved along\n'.length))).toBe(true);
    expect(m.code).toBe(7);
  }, 180_000);

  it('a host that answers with garbage gets a clear error and the VM runs on at the source', async () => {
    const ref = reference(DIRTY, 'emulate', '16M');
    const port = await freePort();
    const server = createServer((s: Socket) => s.write(Buffer.from([5, 0, 0, 0, 99, 1, 2, 3, 4])));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    const m = await start(['migrate', DIRTY, '--to', String(port), '--mode', 'emulate', '--mem', '16M', '--at', '1000000']).done;
    server.close();
    expect(m.stderr).toMatch(/migration to 127\.0\.0\.1:\d+ failed: 127\.0\.0\.1:\d+ sent unknown type 99 where READY belongs; the VM runs on here/);
    expect(m.stdout).toBe(ref.stdout);
    expect(m.code).toBe(0);
  }, 180_000);

  it('a port where another server listens (an HTTP answer) is named as no vmlab host, and the VM runs on at the source', async () => {
    const ref = reference(DIRTY, 'emulate', '16M');
    const port = await freePort();
    const server = createServer((s: Socket) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    const m = await start(['migrate', DIRTY, '--to', String(port), '--mode', 'emulate', '--mem', '16M', '--at', '1000000']).done;
    server.close();
    expect(m.stderr).toMatch(new RegExp(`migration to 127\\.0\\.0\\.1:${port} failed: 127\\.0\\.0\\.1:${port} is not a vmlab host: what it sent is no migration frame \\(start \`vmlab host --port ${port}\` there\\); the VM runs on here`));
    expect(m.stdout).toBe(ref.stdout);
    expect(m.code).toBe(0);
  }, 180_000);

  it('a source that drops the connection or sends hostile frames is refused in one line; the host then takes a good migration', async () => {
    const ref = reference(DIRTY, 'trap', '16M');
    const h = await host();
    const send = (bytes: Buffer, then: 'drop' | 'wait'): Promise<string> => new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port: h.port }, () => {
        s.write(bytes);
        if (then === 'drop') setTimeout(() => s.destroy(), 200);
      });
      let got = '';
      s.on('data', (d) => { got += d.toString('latin1'); });
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    const json = (type: number, v: object): Buffer => {
      const body = Buffer.from(JSON.stringify(v));
      const head = Buffer.alloc(5);
      head.writeUInt32LE(body.length + 1, 0);
      head.writeUInt8(type, 4);
      return Buffer.concat([head, body]);
    };
    const hello = { protocol: 'vmlab-migration', version: 1, mode: 'trap', ramPages: 4096, live: true };
    // A frame longer than any migration sends.
    expect(await send(Buffer.from([0xff, 0xff, 0xff, 0xff, 1]), 'wait')).toBe('');
    await h.proc.waitFor(/refused: 127\.0\.0\.1:\d+ sent a frame of 4294967295 bytes, more than the 67108864 a migration sends/);
    // Another protocol version.
    expect(await send(json(1, { ...hello, version: 7 }), 'wait')).toContain('migration protocol version 7; this vmlab speaks version 1');
    // A page outside the VM.
    const page = Buffer.alloc(4 + 4 + 4096);
    page.writeUInt32LE(1, 0);
    page.writeUInt32LE(5000, 4);
    const pages = Buffer.concat([Buffer.from([(page.length + 1) & 0xff, (page.length + 1) >> 8, 0, 0, 2]), page]);
    expect(await send(Buffer.concat([json(1, hello), pages]), 'wait')).toContain('a PAGES message names page 5000; the VM has 4096 pages');
    // A state that is no snapshot.
    expect(await send(Buffer.concat([json(1, hello), json(3, { not: 'a snapshot' })]), 'wait')).toContain('not a vmlab snapshot');
    // Dropped after HELLO.
    await send(json(1, hello), 'drop');
    await h.proc.waitFor(/refused: 127\.0\.0\.1:\d+ closed the connection/);
    // The host still takes a real migration.
    const m = await start(['migrate', DIRTY, '--to', String(h.port), '--mode', 'trap', '--mem', '16M', '--at', '2000000']).done;
    const hp = await h.proc.within(60_000);
    expect(m.stdout).toBe(ref.stdout);
    expect(m.code).toBe(0);
    expect(hp.code).toBe(0);
    expect(hp.stderr.match(/incoming migration from .* refused/g)).toHaveLength(5);
  }, 180_000);

  it('refuses a host that is not 127.0.0.1, and says when nothing listens', async () => {
    const far = spawnSync(process.execPath, [VMLAB, 'migrate', DIRTY, '--to', '10.0.0.1:4000'], { encoding: 'latin1', timeout: 60_000, input: '' });
    expect(far.status).toBe(2);
    expect(far.stderr).toBe('vmlab: --to 10.0.0.1:4000: a migration goes to 127.0.0.1 only\n');
    const port = await freePort();
    const none = spawnSync(process.execPath, [VMLAB, 'migrate', DIRTY, '--to', String(port), '--mem', '16M'], { encoding: 'latin1', timeout: 120_000, input: '' });
    expect(none.stderr).toContain(`migration to 127.0.0.1:${port} failed: nothing listens on 127.0.0.1:${port}`);
    expect(none.status).toBe(0);
  }, 180_000);

  it('--max-insns holds during live pre-copy: the guest stops at that step while rounds go on, and moves there', async () => {
    const budget = 400_000;
    const stats = join(dir, `budget-ref-${Math.random().toString(36).slice(2)}.json`);
    const ref = spawnSync(process.execPath, [VMLAB, 'run', DIRTY, '--mode', 'trap', '--mem', '16M', '--max-insns', String(budget), '--stats-file', stats], { encoding: 'latin1', timeout: 120_000, input: '' });
    expect(ref.status).toBe(124);
    const h = await host(['--max-insns', String(budget)]);
    // At 1 MiB/s the first round alone lasts long enough for the guest to run far past its budget.
    const m = await start(['migrate', DIRTY, '--to', String(h.port), '--mode', 'trap', '--mem', '16M', '--at', '100000', '--bandwidth', '1M', '--max-insns', String(budget)]).done;
    await h.proc.within(60_000);
    expect(m.stderr).toMatch(/moved to 127\.0\.0\.1:\d+ \(live pre-copy\)/);
    expect(m.stdout).toBe(ref.stdout);
    const end = JSON.parse(readFileSync(h.stats, 'utf8')) as { steps: number; instret: number; end: string };
    const uncut = JSON.parse(readFileSync(stats, 'utf8')) as { instret: number };
    expect(end).toMatchObject({ steps: budget, end: 'budget', instret: uncut.instret });
  }, 180_000);

  it('says, as vmlab run does, when the kernel is a text file loaded as a raw image', async () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'this is no kernel\n');
    const port = await freePort();
    const r = spawnSync(process.execPath, [VMLAB, 'migrate', text, '--to', String(port), '--max-insns', '1000'], { encoding: 'latin1', timeout: 60_000, input: '' });
    const run = spawnSync(process.execPath, [VMLAB, 'run', text, '--max-insns', '1000'], { encoding: 'latin1', timeout: 60_000, input: '' });
    const warning = `vmlab: warning: '${text}' looks like a text file, not RISC-V code (assemble a source with a .S or .s name, or vmlab asm)`;
    expect(run.stderr.split('\n')).toContain(warning);
    expect(r.stderr.split('\n')).toContain(warning);
    expect(r.stderr.split('\n')).toContain(`vmlab: '${text}' is not an ELF file: loaded as a raw image of 18 bytes at 0x80000000, entry there`);
  }, 120_000);
});

describe('console input while the guest moves', () => {
  const HELLO = join(REPO_ROOT, 'labs', 'hello', 'hello.S');
  const frameOf = (type: number, payload: Buffer): Buffer => {
    const head = Buffer.alloc(5);
    head.writeUInt32LE(payload.length + 1, 0);
    head.writeUInt8(type, 4);
    return Buffer.concat([head, payload]);
  };

  /**
   * `vmlab migrate` of the echoing hello lab to a fake host that takes it (stop-and-copy) and, once
   * the source released its disks, hears `typed` on the source's stdin before it answers `answer`.
   */
  async function typedWhileMoving(answer: 'resume' | 'drop', typed: string): Promise<{ proc: Proc; input: string }> {
    const port = await freePort();
    let input = '';
    const child = spawn(process.execPath, [VMLAB, 'migrate', HELLO, '--to', String(port), '--mode', 'trap', '--mem', '16M', '--stop-and-copy'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('latin1').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const server = createServer((s: Socket) => {
      onFrames(s, (type, payload) => {
        if (type === 1) s.write(frameOf(10, Buffer.from('{}')));
        if (type === 3) s.write(frameOf(11, Buffer.from('{}')));
        if (type === 4) {
          input += payload.toString('latin1');
          // Everything typed has come: the guest ends at the host.
          if (input === `${typed}later` && !s.writableEnded) s.end(frameOf(14, Buffer.from('{"end":"exit","exitCode":3,"instret":1,"steps":1}')));
        }
        if (type === 5) {
          // The source's state is on its way: what is typed now belongs to whoever runs the guest next.
          child.stdin.write(typed);
          setTimeout(() => {
            if (answer === 'drop') return void s.destroy();
            s.write(frameOf(12, Buffer.from('{"restoreMs":1}')));
            setTimeout(() => child.stdin.end('later'), 500);
          }, 1000);
        }
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    if (answer === 'drop') child.stdout.on('data', () => { if (stdout.endsWith(typed.replace('\r', '\r\n'))) child.stdin.end(); });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    server.close();
    return { proc: { code, stdout, stderr }, input };
  }

  it('typed after the state went to the host and before it resumed there: the bytes go to the host, ahead of what is typed later', async () => {
    const { proc, input } = await typedWhileMoving('resume', 'ab\r');
    expect(proc.stderr).toMatch(/moved to 127\.0\.0\.1:\d+ \(stop-and-copy\)/);
    expect(input).toBe('ab\rlater');
    expect(proc.stdout).not.toContain('ab\r\n');
    expect(proc.code).toBe(3);
  }, 90_000);

  it('typed after the state was sent, when the host then drops the connection: the guest here gets the bytes and echoes them', async () => {
    const { proc, input } = await typedWhileMoving('drop', 'xy\r');
    expect(proc.stderr).toMatch(/migration to 127\.0\.0\.1:\d+ failed: .*; the VM runs on here/);
    expect(input).toBe('');
    expect(proc.stdout.endsWith('Type something and I will echo it.\r\nxy\r\n')).toBe(true);
  }, 90_000);
});
