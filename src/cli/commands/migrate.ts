// `vmlab host` and `vmlab migrate` (docs/migration.md): a running machine or VM moves from one
// vmlab process to another on 127.0.0.1, stop-and-copy or by live pre-copy. `vmlab migrate` boots
// the kernel with the options of `vmlab run`, runs it here, moves it to the `vmlab host` on PORT
// and then relays its console, so whoever started it sees one continuous output and gets the
// guest's exit code. `vmlab host` receives VMs, runs each to its end (its console on the host's
// stdout too) and sends the console back.

import { closeSync, openSync, writeSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import type { Command } from 'commander';
import { SBI_KERNEL_ADDRESS } from '../../engine/machine/boot';
import { DEFAULT_RAM_SIZE, MEMORY_MAP } from '../../engine/machine/memory-map';
import { ALL_VM_MODES } from '../../engine/vmm/vm';
import { receiveMigration } from '../../host/migration/destination';
import { Peer } from '../../host/migration/peer';
import { Exit, frame, jsonFrame, MessageType, parseJson, parseLoopbackAddress } from '../../host/migration/protocol';
import { migrateOut, type MigrationFigures, type MigrationRound } from '../../host/migration/source';
import { checkSnapshotDisks, decodeSnapshot, type Snapshot } from '../../host/snapshot-file';
import { parsePlacement } from '../../shared/placement';
import { loadKernelFor, readBootFiles } from '../boot-option';
import { collectDisk, type DiskSpec } from '../disk-option';
import { isStdoutClosed } from '../errors';
import { rawKernelNotes } from '../kernel-input';
import { MigrationGuest, type GuestSpec } from '../migrate-guest';
import { parseCount, parseCpu, parseSize, ramSizeProblem } from '../options';
import type { CpuFeatures } from '../../engine/cpu/hart';
import { groupDigits } from '../digits';

/** Steps the guest runs between looks at the console and the connection. */
const CHUNK = 200_000;

interface MigrateOptions {
  to: string;
  mode?: string;
  mem?: number;
  cpu?: Partial<CpuFeatures>;
  bios?: string;
  initrd?: string;
  append?: string;
  disk?: DiskSpec[];
  place?: string;
  at?: number;
  stopAndCopy?: boolean;
  maxRounds?: number;
  threshold?: number;
  bandwidth?: number;
  maxInsns?: number;
  statsFile?: string;
  jit: boolean;
}

interface HostOptions {
  port: string;
  once?: boolean;
  maxInsns?: number;
  statsFile?: string;
  jit: boolean;
}

/** How a run ended, as `vmlab run` names it, and the exit code it gives. */
interface RunEnd {
  end: string;
  exitCode: number | null;
  instret: number;
  steps: number;
  message?: string;
}

/** Registers `vmlab migrate` and `vmlab host`. */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('boot a kernel, run it here and move it, running, to the vmlab host on 127.0.0.1:PORT; its console continues here')
    .argument('<kernel>', 'ELF32 RISC-V executable, raw image, or assembly source (.S)')
    .requiredOption('--to <port>', 'the `vmlab host` to move to: PORT or 127.0.0.1:PORT')
    .option('--mode <mode>', `bare, or a VM of the VMM: ${ALL_VM_MODES.join(' | ')} (default trap)`)
    .option('--mem <size>', 'RAM size, e.g. 32M', parseSize)
    .option('--cpu <model>', 'CPU model and features, as vmlab run', parseCpu)
    .option('--bios <file>', "firmware: 'none' (default), 'sbi' or a file, as vmlab run")
    .option('--initrd <file>', 'initial ramdisk')
    .option('--append <args>', 'kernel command line')
    .option('--disk <spec>', 'a virtio-blk disk, as vmlab run (repeatable); the host opens the same image', collectDisk)
    .option('--place <placement>', 'contiguous (default) or scattered')
    .option('--at <steps>', 'start the migration once the guest ran STEPS steps, reboots included (default 0: at once)', parseCount)
    .option('--stop-and-copy', 'stop the guest for the whole copy instead of live pre-copy')
    .option('--max-rounds <n>', 'pre-copy rounds before the final stop at the latest (default 30)', parseCount)
    .option('--threshold <pages>', 'stop and send the rest once a round leaves at most PAGES dirty pages (default 64)', parseCount)
    .option('--bandwidth <bytes>', 'bytes per second the link carries, e.g. 32M (default 32M); pre-copy rounds last as long as their bytes need', parseSize)
    .option('--max-insns <n>', 'stop after N steps of the guest, reboots included (here and at the host); exit code 124', parseCount)
    .option('--stats-file <file>', 'write the migration\'s figures and how the run ended to FILE (JSON)')
    .option('--no-jit', 'interpret every instruction (no block translation)')
    .action(async (kernel: string, opts: MigrateOptions) => {
      process.exitCode = await migrateCommand(kernel, opts);
    });

  program
    .command('host')
    .description('receive VMs that `vmlab migrate` moves here on 127.0.0.1:PORT, run each to its end and send its console back')
    .requiredOption('--port <port>', 'TCP port on 127.0.0.1 (or 127.0.0.1:PORT); 0: any free port, printed when listening')
    .option('--once', 'exit after the first VM that arrived ended, with its exit code')
    .option('--max-insns <n>', 'stop a VM after N steps since it started (at its source too), reboots included; exit code 124', parseCount)
    .option('--stats-file <file>', 'write how the last VM\'s run ended to FILE (JSON)')
    .option('--no-jit', 'interpret every instruction (no block translation)')
    .action(async (opts: HostOptions) => {
      process.exitCode = await hostCommand(opts);
    });
}

/** Writes console bytes to stdout in batches. */
class ConsoleOut {
  private pending: number[] = [];
  constructor(private readonly also?: (bytes: Uint8Array) => void) {}
  byte = (b: number): void => {
    this.pending.push(b);
  };
  flush(): void {
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending);
    this.pending = [];
    if (!isStdoutClosed()) process.stdout.write(bytes);
    this.also?.(bytes);
  }
}

const say = (text: string): void => {
  process.stderr.write(`vmlab: ${text}\n`);
};

/** Exit code of a run's end, as `vmlab run` gives it. */
function exitCodeOf(e: RunEnd): number {
  if (e.end === 'exit') return Math.min(e.exitCode ?? 0, 255);
  if (e.end === 'crashed') return 126;
  if (e.end === 'idle') return 125;
  if (e.end === 'budget') return 124;
  return 1;
}

/**
 * Runs `guest` until it ends, runs out of `maxInsns` steps or waits with its input closed; with
 * `stopAt`, returns undefined when the guest has run that many steps first. Both count the steps
 * since the guest started, across its reboots.
 */
async function drive(guest: MigrationGuest, out: ConsoleOut, maxInsns: number | undefined, inputClosed: () => boolean, stopAt = Infinity): Promise<RunEnd | undefined> {
  for (;;) {
    // Steps since the guest started, its reboots included (each reboot starts its clock again).
    const elapsed = guest.elapsedSteps;
    const budget = maxInsns === undefined ? Infinity : maxInsns - elapsed;
    if (budget <= 0) return endOf(guest, 'budget');
    if (elapsed >= stopAt) return undefined;
    guest.run(Math.min(CHUNK, budget, stopAt - elapsed));
    out.flush();
    const state = guest.end;
    if (state === 'exit' || state === 'crashed') return endOf(guest, state);
    if (state === 'idle') {
      if (inputClosed()) return endOf(guest, 'idle');
      await new Promise((r) => setTimeout(r, 5));
    } else {
      await yieldToEvents();
    }
  }
}

function endOf(guest: MigrationGuest, end: string): RunEnd {
  return {
    end, exitCode: guest.exitCode ?? null, instret: guest.instret, steps: guest.steps,
    message: end === 'crashed' ? `the guest crashed: ${guest.crashReason}` : undefined,
  };
}

function writeJson(path: string | undefined, value: object): void {
  if (path === undefined) return;
  const fd = openSync(path, 'w');
  writeSync(fd, JSON.stringify(value, null, 2) + '\n');
  closeSync(fd);
}

async function migrateCommand(kernelPath: string, opts: MigrateOptions): Promise<number> {
  const port = parseLoopbackAddress('--to', opts.to);
  const mode = (opts.mode ?? 'trap') as GuestSpec['mode'];
  if (mode !== 'bare' && !(ALL_VM_MODES as readonly string[]).includes(mode)) throw new Error(`--mode: expected one of bare, ${ALL_VM_MODES.join(', ')}; got '${opts.mode}'`);
  const mem = opts.mem ?? DEFAULT_RAM_SIZE;
  const memProblem = ramSizeProblem(mem, '--mem', mode !== 'bare');
  if (memProblem !== undefined) throw new Error(memProblem);
  if (opts.place !== undefined && opts.place !== 'contiguous' && opts.place !== 'scattered') throw new Error(`--place ${opts.place}: a migrating VM is placed contiguous or scattered`);
  if (opts.place !== undefined && mode === 'bare') throw new Error('--place: only a VM places its pages in host frames');
  if (opts.stopAndCopy && (opts.maxRounds !== undefined || opts.threshold !== undefined || opts.bandwidth !== undefined)) {
    throw new Error('--stop-and-copy sends everything in one stop: --max-rounds, --threshold and --bandwidth belong to live pre-copy');
  }
  const boot = readBootFiles(opts);
  if (mode === 'pv' && boot.firmware === undefined) boot.sbi = true;
  const kernel = loadKernelFor(kernelPath, boot);
  if (boot.firmware === undefined) for (const note of rawKernelNotes(kernelPath, kernel, boot.sbi ? SBI_KERNEL_ADDRESS : MEMORY_MAP.ram.base)) process.stderr.write(`vmlab: ${note}\n`);
  const spec: GuestSpec = {
    mode, kernel, kernelName: kernelPath, mem, cpu: opts.cpu ?? {}, place: opts.place,
    placement: opts.place === undefined ? undefined : parsePlacement(opts.place, mem / 4096), boot, disks: opts.disk ?? [], jit: opts.jit,
  };
  const out = new ConsoleOut();
  let guest: MigrationGuest;
  try {
    guest = new MigrationGuest(spec, out.byte);
  } catch (err) {
    throw new Error(`${kernelPath}: ${(err as Error).message}`);
  }
  // Console input: to the guest while it is here, to the host once it moved.
  let inputClosed = false;
  let forward: ((bytes: Uint8Array) => void) | undefined;
  const onData = (chunk: Buffer): void => {
    if (forward !== undefined) forward(new Uint8Array(chunk));
    else guest.sendInput(new Uint8Array(chunk));
  };
  const onEnd = (): void => {
    inputClosed = true;
    forward?.(new Uint8Array(0));
  };
  process.stdin.on('data', onData);
  process.stdin.on('end', onEnd);
  process.stdin.on('error', onEnd);
  const stats: { migration?: MigrationFigures | { failed: string; rounds: MigrationRound[] }; run?: RunEnd } = {};
  try {
    const at = opts.at ?? 0;
    if (opts.maxInsns !== undefined) guest.stepLimit = opts.maxInsns;
    let end = await drive(guest, out, opts.maxInsns, () => inputClosed, at);
    if (end === undefined) {
      const live = !opts.stopAndCopy;
      const result = await migrateOut(guest, {
        port, live, maxRounds: opts.maxRounds ?? 30, threshold: opts.threshold ?? 64, bandwidth: opts.bandwidth ?? 32 * 1024 * 1024,
      }, (r) => say(`migration round ${r.round}${r.final ? ' (final, guest stopped)' : ''}: ${r.pages} pages (${Math.round(r.bytes / 1024)} KiB) in ${r.ms} ms`));
      out.flush();
      if (result.ok) {
        const f = result.figures;
        stats.migration = f;
        say(`moved to 127.0.0.1:${port} (${f.live ? 'live pre-copy' : 'stop-and-copy'}): ${f.rounds.length} round${f.rounds.length === 1 ? '' : 's'}, ${f.pagesSent} pages, total ${f.totalMs} ms, downtime ${f.downtimeMs} ms`);
        end = await relay(result.peer, out, (send) => {
          // Typed while the host restored the guest: it goes there, before anything typed later.
          for (const bytes of guest.held.release()) send(bytes);
          forward = send;
          if (inputClosed) send(new Uint8Array(0));
        });
      } else {
        stats.migration = { failed: result.error, rounds: result.rounds };
        say(`migration to 127.0.0.1:${port} failed: ${result.error}; the VM runs on here`);
        if (result.disksReleased) {
          // The disks were closed for the host: continue from the state that was sent and this
          // guest's RAM (the pages went apart), with the disks reopened here.
          const state = decodeSnapshot(Buffer.from(result.state!), 'of this run');
          state.ram = new Map(guest.usedPages().map((i) => [i, guest.page(i).slice()]));
          const held = guest.held.release();
          guest = MigrationGuest.fromSnapshot(state, out.byte, opts.jit);
          // Typed after the state was taken: the guest here runs on from that state, so it gets the bytes.
          for (const bytes of held) guest.sendInput(bytes);
        } else {
          for (const bytes of guest.held.release()) guest.sendInput(bytes);
        }
        end = await drive(guest, out, opts.maxInsns, () => inputClosed);
      }
    }
    stats.run = end;
    if (end!.message !== undefined) say(end!.message);
    return exitCodeOf(end!);
  } finally {
    out.flush();
    const problem = guest.close();
    if (problem !== undefined) say(problem);
    process.stdin.off('data', onData);
    process.stdin.off('end', onEnd);
    process.stdin.off('error', onEnd);
    process.stdin.pause();
    process.stdin.unref?.();
    writeJson(opts.statsFile, stats);
  }
}

/** After the move: the host's console bytes to stdout, stdin to the host, until the guest's end. */
function relay(peer: Peer, out: ConsoleOut, connectInput: (send: (bytes: Uint8Array) => void) => void): Promise<RunEnd> {
  return new Promise((resolve) => {
    let done = false;
    peer.onFrame = (f) => {
      if (done) return;
      try {
        if (f.type === MessageType.OUTPUT) {
          if (!isStdoutClosed()) process.stdout.write(f.payload);
        } else if (f.type === MessageType.EXIT) {
          done = true;
          resolve(parseJson(f, Exit));
          peer.close();
        } else {
          throw new Error(`${peer.name} sent a message of type ${f.type} where console output belongs`);
        }
      } catch (err) {
        done = true;
        peer.destroy();
        resolve({ end: 'lost', exitCode: null, instret: 0, steps: 0, message: (err as Error).message });
      }
    };
    peer.onEnd = (error) => {
      if (done) return;
      done = true;
      out.flush();
      resolve({ end: 'lost', exitCode: null, instret: 0, steps: 0, message: `${error.message} after the move; the VM runs on there` });
    };
    connectInput((bytes) => peer.send(frame(MessageType.INPUT, bytes)));
  });
}

/**
 * Builds and drops a guest in each kind of machine once, so that the first VM to arrive does not
 * pay for the engine's first construction (hundreds of milliseconds) within its downtime.
 */
function warmUp(jit: boolean): void {
  // A raw image of one instruction: `j .` (jal x0, 0).
  const kernel = new Uint8Array([0x6f, 0x00, 0x00, 0x00]);
  for (const mode of ['bare', 'trap', 'hw'] as const) {
    const g = new MigrationGuest({ mode, kernel, kernelName: 'warm-up', mem: 4 * 1024 * 1024, cpu: {}, boot: {}, disks: [], jit }, () => {});
    g.run(1000);
    g.close();
  }
}

async function hostCommand(opts: HostOptions): Promise<number> {
  let port = parseLoopbackAddress('--port', opts.port, true);
  warmUp(opts.jit);
  let busy = false;
  let finished: ((code: number) => void) | undefined;
  const done = new Promise<number>((resolve) => { finished = resolve; });
  const server = createServer((socket: Socket) => {
    const peer = new Peer(socket, `127.0.0.1:${socket.remotePort ?? 0}`);
    if (busy) {
      peer.send(jsonFrame(MessageType.ERROR, { message: 'this host is busy with another VM' }));
      peer.close();
      return;
    }
    busy = true;
    void receiveOne(peer, opts).then((code) => {
      busy = false;
      if (opts.once && code !== undefined) {
        server.close();
        finished!(code);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`--port ${opts.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`)));
    server.listen(port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  say(`host listening on 127.0.0.1:${port}`);
  return done;
}

/** Receives one VM and runs it to its end; undefined when it never arrived. */
async function receiveOne(peer: Peer, opts: HostOptions): Promise<number | undefined> {
  let guest: MigrationGuest | undefined;
  let source: Peer | undefined = peer;
  const out = new ConsoleOut((bytes) => source?.send(frame(MessageType.OUTPUT, bytes)));
  let inputClosed = false;
  try {
    await receiveMigration(peer, {
      async prepare(s: Snapshot) {
        const c = s.header.config;
        if (c.mode !== 'bare' && !(ALL_VM_MODES as readonly string[]).includes(c.mode)) throw new Error(`no such mode '${c.mode}'`);
        const problem = ramSizeProblem(c.ramSize, 'the RAM', c.mode !== 'bare');
        if (problem !== undefined) throw new Error(problem);
        await checkSnapshotDisks('the migrated VM', s.header.disks);
      },
      resume(s: Snapshot) {
        guest = MigrationGuest.fromSnapshot(s, out.byte, opts.jit);
      },
    });
  } catch (err) {
    say(`incoming migration from ${peer.name} refused: ${(err as Error).message}`);
    return undefined;
  }
  say(`a ${guest!.mode} VM arrived from ${peer.name} at ${groupDigits(guest!.steps)} steps`);
  peer.onFrame = (f) => {
    if (f.type === MessageType.INPUT) {
      if (f.payload.length === 0) inputClosed = true;
      else guest!.sendInput(new Uint8Array(f.payload));
    } else {
      say(`${peer.name} sent a message of type ${f.type} where console input belongs; the VM runs on`);
      source = undefined;
      inputClosed = true;
      peer.destroy();
    }
  };
  peer.onEnd = () => {
    // The source went away: the VM lives here now and runs on.
    source = undefined;
    inputClosed = true;
  };
  const end = (await drive(guest!, out, opts.maxInsns, () => inputClosed))!;
  out.flush();
  const problem = guest!.close();
  if (problem !== undefined) say(problem);
  if (source !== undefined) {
    source.send(jsonFrame(MessageType.EXIT, end));
    source.close();
  }
  say(`the VM from ${peer.name} ended (${end.end}${end.exitCode !== null ? ` ${end.exitCode}` : ''}) after ${groupDigits(end.instret)} instructions`);
  if (end.message !== undefined) say(end.message);
  writeJson(opts.statsFile, end);
  return exitCodeOf(end);
}
