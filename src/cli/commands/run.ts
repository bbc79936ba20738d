// `vmlab run`: boot a kernel headless with the UART on stdin/stdout; exit with the guest's code.

import { closeSync, fstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { rawKernelNotes } from '../kernel-input';
import { ConsoleEscape, ESCAPE_HELP } from '../console-escape';
import { isStdoutClosed } from '../errors';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { Machine, StopReason } from '../../engine/machine/machine';
import { parseCount, parseCpu, parseSeconds, parseSize, ramSizeProblem } from '../options';
import type { CpuFeatures } from '../../engine/cpu/hart';
import { DEFAULT_RAM_SIZE, MEMORY_MAP } from '../../engine/machine/memory-map';
import { ALL_VM_MODES, type VmMode } from '../../engine/vmm/vm';
import { StuckWatch } from '../../engine/vmm/stuck';
import type { DiskAttachment } from '../../engine/machine/board';
import { closeDisks, collectDisk, type DiskSpec } from '../disk-option';
import { loadKernelFor, readBootFiles, type BootFiles } from '../boot-option';
import { SBI_KERNEL_ADDRESS } from '../../engine/machine/boot';
import { parsePlacement } from '../../shared/placement';
import type { VmPlacement } from '../../shared/lab-api';
import type { DebugTarget } from '../../host/gdb/debug-target';
import type { GdbServer } from '../../host/gdb/gdb-server';
import type { MachineState, VmState } from '../../engine/snapshot/machine-state';
import type { Snapshot, SnapshotDisk, SnapshotParts } from '../../host/snapshot-file';
import { basename, resolve as resolvePath } from 'node:path';
import { InputTimeline } from '../../host/replay/input-timeline';
import { DEFAULT_CHECKPOINT_LIMITS } from '../../host/replay/checkpoints';
import type { RunJournal } from '../record-replay';
import { groupDigits } from '../digits';
import { parseJitBackend } from '../jit-backend';
import type { JitBackend } from '../../engine/cpu/jit-wasm';

/**
 * Wall milliseconds from an arbitrary origin. Not performance.now(): node loads perf_hooks' modules
 * at the first use of the global `performance`, about 11 M host instructions of every run.
 */
function nowMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1000 + ns / 1e6;
}

/** Exit code when the budget or the timeout ends a run (as coreutils' timeout). */
export const EXIT_TIMEOUT = 124;
/** Exit code when the guest sleeps in WFI with nothing left that could wake it. */
export const EXIT_IDLE = 125;
/** Exit code when the guest crashed: the VMM declared it so (VM modes), or a bare guest is stuck in a loop of traps. */
export const EXIT_CRASHED = 126;
/** Exit code when the user quits with Ctrl-A x (as a shell reports an interrupted command). */
export const EXIT_QUIT = 130;
/** Exit code when stdout's reader went away (as a shell reports a command ended by SIGPIPE). */
export const EXIT_OUTPUT_CLOSED = 141;
/** Steps the run loop hands the machine at a time. */
const RUN_CHUNK = 4_000_000;
/** Exit code when a replay does not end as its recording did. */
export const EXIT_REPLAY_DIVERGED = 1;
/** Exit code when --save-snapshot (or --record) could not write its file at the end of the run. */
export const EXIT_SNAPSHOT_FAILED = 1;
/** The largest exit status: a guest's code above it (the test finisher takes 16 bits) reads as it. */
export const MAX_EXIT_STATUS = 255;

/** Where `vmlab run` runs the kernel: alone on the machine, or in a VM of one of the VMM's modes. */
export type RunMode = 'bare' | VmMode;

export interface RunOptions {
  mem?: number;
  cpu?: Partial<CpuFeatures>;
  maxInsns?: number;
  timeout?: number;
  trace?: string;
  stats?: string;
  statsFile?: string;
  realtime?: boolean;
  jit?: boolean;
  jitBackend?: JitBackend;
  mode?: RunMode;
  disk?: DiskSpec[];
  bios?: string;
  initrd?: string;
  append?: string;
  place?: string;
  /** --place, read against the VM's pages. */
  placement?: VmPlacement;
  gdb?: number;
  gdbWait?: boolean;
  snapshot?: string;
  saveSnapshot?: string;
  record?: string;
  replay?: string;
  checkpointInterval?: number;
  checkpointMem?: number;
}

/** The state a run saves into a snapshot file. */
export interface SavedState {
  machine?: MachineState;
  vm?: VmState;
  ram: Iterable<{ index: number; bytes: Uint8Array }>;
  summary: { steps: number; instret: number; pc: number; priv: number; state: string };
}

/**
 * What the run loop drives: the bare machine or one VM of a VMM. The code of the VMM, the debugger
 * and the snapshots is loaded when a run asks for them (run-vm.ts, the gdb stub, machine-state.ts):
 * a bare run does not compile it at start-up.
 */
export interface Target {
  run(chunk: number): StopReason;
  /** The guest's clock: steps since its last reset. */
  readonly steps: number;
  /** Steps run since the target was made, across the guest's reboots (the run's budget counts these). */
  readonly elapsed: number;
  readonly instret: number;
  readonly exitCode: number | undefined;
  readonly crashReason: string | undefined;
  sendInput(bytes: Uint8Array): void;
  stats(reason: StopReason, wallSeconds: number): object;
  /** Makes the guest's disk writes durable (the run ends or is interrupted). */
  flushDisks(): string | undefined;
  /** The machine or VM as a debugger drives it. */
  debug(): Promise<DebugTarget>;
  /** The whole state, for a snapshot (between runs). */
  save(): Promise<SavedState>;
  /** Continues from a snapshot's state (the target was built from the snapshot's configuration). */
  restore(snapshot: Snapshot): Promise<void>;
  /** The virtio-mmio slot of each disk, in --disk order. */
  readonly diskSlots: readonly number[];
}

/** Statistics printed by --stats json. */
export interface RunStats {
  stopReason: string;
  exitCode: number | null;
  instret: number;
  steps: number;
  wallSeconds: number;
  mips: number;
  traps: Record<string, number>;
  tlb: { misses: number; flushes: number };
  deviceAccesses: number;
  /** Requests and bytes per disk, in --disk order. */
  disks: Record<string, number>[];
}

/** Registers `vmlab run`. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('boot a kernel (ELF, raw image or .S source) on the virt machine; the UART is stdin/stdout')
    .argument('[kernel]', 'ELF32 RISC-V executable, raw image, or assembly source (.S) to assemble first (not with --snapshot)')
    .option('--mem <size>', 'RAM size, e.g. 128M', parseSize)
    .option('--cpu <model>', 'CPU model and features, e.g. rv32,pmp=false,xsensitive=on', parseCpu)
    .option('--max-insns <n>', 'stop after N steps (instructions and traps); exit code 124', parseCount)
    .option('--timeout <seconds>', 'stop after this much wall time; exit code 124', parseSeconds)
    .option('--trace <file>', 'write a commit log (one line per instruction) to FILE')
    .option('--stats <format>', 'print statistics to stderr at the end (format: json)')
    .option('--stats-file <file>', 'write the JSON statistics to FILE')
    .option('--realtime', 'derive mtime from the host clock instead of executed instructions')
    .option('--no-jit', 'interpret every instruction (no block translation)')
    .option('--jit-backend <backend>', 'what hot code is translated to: wasm (WebAssembly, the default) or js (JavaScript functions); bare mode', parseJitBackend)
    .option('--mode <mode>', `bare (default), or run in a VM of the VMM: ${ALL_VM_MODES.join(' | ')} (pv needs a kernel written for it)`, parseMode)
    .option('--bios <file>', "firmware at the start of RAM (ELF or raw), 'none' (default), or 'sbi': the kernel starts in S-mode at QEMU's kernel address and vmlab answers its SBI calls (as QEMU's -bios default with OpenSBI)")
    .option('--initrd <file>', 'initial ramdisk, placed as QEMU places it and announced in /chosen')
    .option('--append <args>', 'kernel command line (/chosen/bootargs)')
    .option('--disk <spec>', 'attach a virtio-blk disk: FILE[,format=raw|qcow2][,readonly][,legacy=on|off][,serial=ID][,slot=N|bus=virtio-mmio-bus.N] (repeatable)', collectDisk)
    .option('--place <placement>', 'a VM\'s guest pages in host frames: contiguous (default), scattered, or page:frame pairs in hex, e.g. a1:c0,a2:c1,a3:c4')
    .option('--gdb <port>', 'GDB remote stub on 127.0.0.1:PORT (0: any free port), as QEMU\'s -gdb tcp::PORT', parsePort)
    .option('--gdb-wait', 'with --gdb: hold the guest before its first instruction until gdb continues it (QEMU\'s -S)')
    .option('--save-snapshot <file>', 'save the whole machine or VM state to FILE where the run stops')
    .option('--snapshot <file>', 'continue from a snapshot file (the kernel, memory, CPU, boot files, disks and mode are its own)')
    .option('--record <file>', 'record the run (its start state and the console input on the guest\'s clock) to FILE, for --replay')
    .option('--replay <file>', 'replay a recorded run exactly and check that its output, instruction count and end state are the recording\'s')
    .option('--checkpoint-interval <steps>', `with --gdb: steps between the checkpoints reverse execution rewinds to (default ${DEFAULT_CHECKPOINT_LIMITS.interval})`, parseCount)
    .option('--checkpoint-mem <size>', 'with --gdb: memory the checkpoints may hold, e.g. 256M (default)', parseSize)
    .action(async (kernel: string | undefined, opts: RunOptions) => {
      let snapshot: Snapshot | undefined;
      let journal: RunJournal | undefined;
      if (opts.replay !== undefined) {
        if (opts.snapshot !== undefined) throw new Error(`--replay ${opts.replay}: a recording holds its start state; leave out --snapshot`);
        for (const [flag, value] of [['--record', opts.record], ['--max-insns', opts.maxInsns], ['--timeout', opts.timeout], ['--mode', opts.mode]] as const) {
          if (value !== undefined) throw new Error(`--replay ${opts.replay}: the replay ends and runs as the recording did; leave out ${flag}`);
        }
      }
      if (opts.record !== undefined) {
        if (opts.gdb !== undefined) throw new Error('--record: a debugger\'s changes to registers and memory are not recorded; leave out --gdb (replay the recording under --gdb instead)');
        if (opts.realtime) throw new Error('--record: a --realtime run depends on the host clock and cannot be replayed exactly; leave out --realtime');
        checkWritable('--record', opts.record);
      }
      if ((opts.checkpointInterval !== undefined || opts.checkpointMem !== undefined) && opts.gdb === undefined) {
        throw new Error('--checkpoint-interval and --checkpoint-mem need --gdb PORT');
      }
      const from = opts.snapshot ?? opts.replay;
      const fromFlag = opts.snapshot !== undefined ? '--snapshot' : '--replay';
      if (from !== undefined) {
        if (kernel !== undefined) throw new Error(`${fromFlag} ${from}: the kernel comes from the ${fromFlag === '--snapshot' ? 'snapshot' : 'recording'}; give no KERNEL`);
        const given: [string, unknown][] = [['--mem', opts.mem], ['--cpu', opts.cpu], ['--bios', opts.bios], ['--initrd', opts.initrd],
          ['--append', opts.append], ['--disk', opts.disk], ['--place', opts.place], ['--realtime', opts.realtime]];
        for (const [flag, value] of given) if (value !== undefined) throw new Error(`${fromFlag} ${from}: ${flag} comes from the ${fromFlag === '--snapshot' ? 'snapshot' : 'recording'}; leave it out`);
        const { readSnapshotFile, modeChangeProblem } = await import('../../host/snapshot-file');
        if (opts.replay !== undefined) {
          journal = (await import('../record-replay')).RunJournal.replay(opts.replay);
          snapshot = journal.recording!.start;
        } else snapshot = readSnapshotFile(from);
        const c = snapshot.header.config;
        const modeProblem = opts.mode === undefined ? undefined : modeChangeProblem(c.mode, opts.mode);
        if (modeProblem !== undefined) throw new Error(`${fromFlag} ${from}: ${modeProblem}`);
        opts.mode ??= c.mode as RunMode;
        opts.mem = c.ramSize;
        opts.cpu = c.cpu;
        opts.place = c.place;
        opts.disk = snapshot.header.disks.map((d) => ({ path: d.path, format: d.format, readOnly: d.readOnly, legacy: d.legacy, serial: d.serial, slot: d.slot }));
      } else if (kernel === undefined) {
        throw new Error("missing required argument 'kernel' (or --snapshot FILE, or --replay FILE)");
      }
      if (opts.record !== undefined) journal = (await import('../record-replay')).RunJournal.record(opts.record);
      opts.mode ??= 'bare';
      if (opts.saveSnapshot !== undefined) {
        if (opts.realtime) throw new Error('--save-snapshot: a --realtime run depends on the host clock and cannot be continued exactly; leave out --realtime');
        checkWritable('--save-snapshot', opts.saveSnapshot);
      }
      if (opts.stats !== undefined && opts.stats !== 'json') throw new Error(`--stats takes 'json', got '${opts.stats}'`);
      const memProblem = opts.mem === undefined ? undefined : ramSizeProblem(opts.mem, '--mem', opts.mode !== undefined && opts.mode !== 'bare');
      if (memProblem !== undefined) throw new Error(memProblem);
      if (opts.place !== undefined) {
        if ((opts.mode ?? 'bare') === 'bare') throw new Error('--place: only a VM (--mode emulate, trap, bt, pv or hw) places its pages in host frames');
        try {
          opts.placement = parsePlacement(opts.place, (opts.mem ?? DEFAULT_RAM_SIZE) / 4096);
        } catch (err) {
          throw new Error(`--place ${opts.place}: ${(err as Error).message}`);
        }
      }
      if (opts.gdbWait && opts.gdb === undefined) throw new Error('--gdb-wait needs --gdb PORT');
      if (opts.gdb !== undefined && opts.trace) throw new Error('--trace and --gdb cannot be used together');
      process.exitCode = await runKernel(kernel ?? from!, opts, snapshot, journal);
    });
}

function parsePort(text: string): number {
  if (/^\d{1,5}$/.test(text) && Number(text) <= 65535) return Number(text);
  throw new InvalidArgumentError(`expected a TCP port number (0 to 65535), got '${text}'`);
}

function parseMode(text: string): RunMode {
  if (text === 'bare' || (ALL_VM_MODES as readonly string[]).includes(text)) return text as RunMode;
  throw new InvalidArgumentError(`expected one of bare, ${ALL_VM_MODES.join(', ')}; got '${text}'`);
}

/**
 * Removes the `--stats-file` of a `run` command line before anything else happens: after the run
 * the file exists exactly when the guest ran, so a grading script can tell vmlab's refusal of its
 * input (no file) from a guest that exited with the same code (README, "Exit codes").
 */
export function forgetStatsFile(argv: readonly string[]): void {
  if (argv[0] !== 'run') return;
  for (let i = 1; i < argv.length; i++) {
    const file = argv[i] === '--stats-file' ? argv[i + 1] : argv[i].startsWith('--stats-file=') ? argv[i].slice('--stats-file='.length) : undefined;
    if (file === undefined || file === '') continue;
    try {
      unlinkSync(file);
    } catch {
      // Not there (or not a file): nothing stale to mislead a script.
    }
  }
}

/** Opens an output file the user named, or throws one line naming the option and what is wrong. */
function openOutput(option: string, path: string): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
    throw new Error(`${option} ${path}: cannot write the file: ${why}`);
  }
}

/** True when stdout and stderr are the same file or terminal (vmlab's lines then follow the guest's). */
function stderrFollowsStdout(): boolean {
  try {
    const out = fstatSync(1);
    const err = fstatSync(2);
    return out.dev === err.dev && out.ino === err.ino;
  } catch {
    return false;
  }
}

/** Fails early, in one line, when FILE cannot be written (the run would otherwise be lost at its end). */
function checkWritable(option: string, path: string): void {
  const probe = `${resolvePath(path)}.tmp-${process.pid}`;
  try {
    closeSync(openOutput(option, probe));
  } catch (err) {
    // Name the file the user gave, not the probe beside it.
    throw new Error((err as Error).message.replace(`${option} ${probe}`, `${option} ${path}`));
  }
  unlinkSync(probe);
}

async function runKernel(path: string, opts: RunOptions, snapshot?: Snapshot, journal?: RunJournal): Promise<number> {
  const boot: BootFiles = snapshot === undefined ? readBootFiles(opts) : {
    firmware: snapshot.firmware, initrd: snapshot.initrd, bootargs: snapshot.header.config.bootargs, sbi: snapshot.header.config.sbi,
  };
  // A pv kernel is written for the VMM's SBI: it boots as under --bios sbi.
  if (opts.mode === 'pv' && boot.firmware === undefined) boot.sbi = true;
  const bytes = snapshot === undefined ? loadKernelFor(path, boot) : snapshot.kernel;
  if (snapshot !== undefined) await (await import('../../host/snapshot-file')).checkSnapshotDisks(opts.snapshot !== undefined ? `--snapshot ${opts.snapshot}` : `--replay ${opts.replay!}`, snapshot.header.disks);
  if (opts.place !== undefined && opts.placement === undefined) opts.placement = parsePlacement(opts.place, (opts.mem ?? DEFAULT_RAM_SIZE) / 4096);
  let pending: number[] = [];
  let lastByte = 0x0a;
  // Console input on the guest's clock (recorded, replayed, or replayed again after a debugger rewinds).
  let timeline: InputTimeline | undefined;
  const flush = (): void => {
    if (pending.length > 0) {
      journal?.noteOutput(pending);
      lastByte = pending[pending.length - 1];
      if (!isStdoutClosed()) process.stdout.write(Buffer.from(pending));
      pending = [];
    }
  };
  const onUart = (b: number): void => {
    if (timeline?.quiet) return;
    pending.push(b);
    if (pending.length >= 4096) flush();
  };
  if (opts.mode !== 'bare' && opts.trace) throw new Error('--trace works with --mode bare only');
  if (opts.mode !== undefined && opts.mode !== 'bare' && opts.jitBackend !== undefined) throw new Error('--jit-backend works with --mode bare only');
  const statsFile = opts.statsFile === undefined ? undefined : openOutput('--stats-file', opts.statsFile);
  if (statsFile !== undefined) closeSync(statsFile);
  const trace = opts.trace ? openOutput('--trace', opts.trace) : undefined;
  let target: Target;
  let machine: Machine | undefined;
  // The disk formats' code (qcow2 brings fflate) is loaded only for a run with disks.
  const disks = opts.disk !== undefined && opts.disk.length > 0 ? (await import('../disk-open')).openDisks(opts.disk) : [];
  // With disks attached, SIGINT/SIGTERM/SIGHUP end the run through the normal path, so the images
  // are flushed and unlocked before vmlab exits.
  let signal: NodeJS.Signals | undefined;
  // Ends the run loop's wait while the guest is idle (set during that wait): input, its end or a signal.
  let wake: (() => void) | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    signal = sig;
    wake?.();
  };
  const signals: NodeJS.Signals[] = disks.length > 0 ? ['SIGINT', 'SIGTERM', 'SIGHUP'] : [];
  for (const sig of signals) process.on(sig, onSignal);
  try {
    if (opts.mode === undefined || opts.mode === 'bare') {
      machine = new Machine({
        ramSize: opts.mem,
        cpu: { ...opts.cpu, jit: opts.jit !== false, jitBackend: opts.jitBackend },
        onUart,
        timeMode: opts.realtime ? 'realtime' : 'deterministic',
        clock: () => nowMs(),
        disks,
        ...boot,
      });
      machine.loadKernel(bytes);
      target = machineTarget(machine);
    } else {
      target = (await import('../run-vm')).vmTarget(opts.mode, bytes, opts, onUart, disks, boot);
    }
    if (snapshot !== undefined) {
      try {
        await target.restore(snapshot);
      } catch (err) {
        throw new Error(`the snapshot does not fit this vmlab: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    for (const sig of signals) process.off(sig, onSignal);
    closeDisks(disks);
    if (trace !== undefined) closeSync(trace);
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  const pvBoot = boot.sbi === true || opts.mode === 'pv';
  if (boot.firmware === undefined && snapshot === undefined) for (const note of rawKernelNotes(path, bytes, pvBoot ? SBI_KERNEL_ADDRESS : MEMORY_MAP.ram.base)) process.stderr.write(`vmlab: ${note}\n`);
  const replaying = journal?.kind === 'replay';
  timeline = new InputTimeline((b) => target.sendInput(b), () => target.steps, replaying ? journal!.recording!.inputs.slice() : [], !replaying);
  let recordStart: Uint8Array | undefined;
  if (journal?.kind === 'record') {
    try {
      target.flushDisks();
      const { snapshotBytes } = await import('../../host/replay/record-file');
      recordStart = snapshotBytes(await snapshotParts(target, opts, snapshot?.header.config.kernelName ?? basename(path), bytes, boot, disks));
    } catch (err) {
      for (const sig of signals) process.off(sig, onSignal);
      closeDisks(disks);
      throw err;
    }
  }
  let gdb: GdbServer | undefined;
  if (opts.gdb !== undefined) {
    try {
      const { startGdbServer } = await import('../../host/gdb/gdb-server');
      gdb = await startGdbServer(await target.debug(), opts.gdb, {
        waitForDebugger: opts.gdbWait === true,
        timeline,
        checkpoints: {
          ...DEFAULT_CHECKPOINT_LIMITS,
          interval: opts.checkpointInterval ?? DEFAULT_CHECKPOINT_LIMITS.interval,
          maxBytes: opts.checkpointMem ?? DEFAULT_CHECKPOINT_LIMITS.maxBytes,
        },
      });
    } catch (err) {
      for (const sig of signals) process.off(sig, onSignal);
      closeDisks(disks);
      throw err;
    }
    process.stderr.write(`vmlab: gdb stub on 127.0.0.1:${gdb.port}${opts.gdbWait ? ', waiting for gdb' : ''}\n`);
  }
  let killed = false;
  let saveError: string | undefined;
  let endState = '';

  let inputClosed = false;
  let quit = false;
  const stdin = process.stdin;
  // An interactive run gets QEMU's console escape: Ctrl-A x quits, Ctrl-A h helps.
  const escape = new ConsoleEscape({
    input: (b) => timeline!.input(b),
    quit: () => { quit = true; },
    help: () => process.stderr.write(ESCAPE_HELP),
    flush: () => { target.flushDisks(); },
  });
  const onData = (chunk: Buffer): void => {
    if (stdin.isTTY) escape.feed(new Uint8Array(chunk));
    else timeline!.input(new Uint8Array(chunk));
    wake?.();
  };
  const onEnd = (): void => {
    inputClosed = true;
    wake?.();
  };
  // A replay takes its input from the recording; the keyboard only quits it (Ctrl-A x).
  if (!replaying || stdin.isTTY) {
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onEnd);
    if (stdin.isTTY) stdin.setRawMode(true);
  }

  const started = nowMs();
  const deadline = opts.timeout ? started + opts.timeout * 1000 : Infinity;
  let remaining = replaying ? journal!.recording!.header.end.steps - target.steps : opts.maxInsns ?? Infinity;
  let reason: StopReason = StopReason.BUDGET;
  const stepsAtStart = target.steps;
  const elapsedAtStart = target.elapsed;
  try {
    while (true) {
      if (signal !== undefined || quit || isStdoutClosed()) { reason = StopReason.STOPPED; break; }
      // Chunks end at multiples of RUN_CHUNK steps of the guest's clock, so a run continued from a
      // snapshot meets the same chunk ends as one never cut (the VMM judges a guest stuck per chunk).
      // Input is delivered at the step the recording says (between chunks, as the keyboard's is).
      const chunk = Math.min(remaining, trace === undefined ? RUN_CHUNK - (target.steps % RUN_CHUNK) : 1, gdb === undefined ? timeline.due() : Infinity);
      if (chunk <= 0) { reason = StopReason.BUDGET; break; }
      const before = target.steps;
      const elapsed = target.elapsed;
      if (gdb !== undefined) {
        const r = await gdb.stub.run(chunk);
        if (r === 'killed') {
          killed = true;
          reason = StopReason.STOPPED;
          break;
        }
        reason = r;
      } else {
        reason = trace !== undefined && machine ? traceStep(machine, trace) : target.run(chunk);
      }
      // A reboot the guest asked for restarts its clock, not the run's budget.
      remaining -= target.elapsed - elapsed;
      flush();
      if (reason === StopReason.EXIT || reason === CRASHED || isStdoutClosed()) break;
      if (nowMs() >= deadline) { reason = StopReason.BUDGET; break; }
      if (reason === StopReason.IDLE) {
        if (replaying ? timeline.pending === 0 || target.steps === before : inputClosed || stdin.destroyed) break;
        // Until input comes, stdin ends or a signal arrives, 5 ms at most (a --realtime guest's timer
        // runs on the host's clock): a fixed sleep delayed the echo of each key and the end of a run
        // whose stdin was already closed by up to 5 ms.
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
          const timer = setTimeout(done, 5);
          wake = done;
        });
      } else {
        await yieldToEvents();
      }
    }
  } finally {
    for (const sig of signals) process.off(sig, onSignal);
    flush();
    if (gdb !== undefined) {
      gdb.stub.finish();
      await gdb.close();
    }
    // Closing flushes every image (fsync) and releases its writer lock.
    target.flushDisks();
    if (journal !== undefined) endState = (await import('../../host/replay/record-file')).stateDigest(await target.save());
    if (opts.saveSnapshot !== undefined) {
      try {
        await saveSnapshot(opts.saveSnapshot, target, opts, snapshot?.header.config.kernelName ?? basename(path), bytes, boot, disks);
      } catch (err) {
        saveError = (err as Error).message;
      }
    }
    const diskError = closeDisks(disks);
    if (diskError !== undefined) process.stderr.write(`vmlab: ${diskError}\n`);
    if (trace !== undefined) closeSync(trace);
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    stdin.unref?.();
  }
  const wall = (nowMs() - started) / 1000;
  const outputClosed = isStdoutClosed() && reason !== StopReason.EXIT && reason !== CRASHED;
  const end = reason === StopReason.EXIT ? 'exit' : signal !== undefined ? 'signal' : quit ? 'quit' : killed ? 'killed' : outputClosed ? 'output-closed' : STOP_NAMES[reason] ?? String(reason);
  const stats = { ...target.stats(reason, wall), stopReason: end };
  // vmlab's own last words start on a line of their own, not glued to the guest's last line.
  let newLine = lastByte !== 0x0a && stderrFollowsStdout();
  const line = (text: string): void => {
    process.stderr.write((newLine ? '\n' : '') + text + '\n');
    newLine = false;
  };
  const say = (text: string): void => line(`vmlab: ${text}`);
  if (opts.stats === 'json') line(JSON.stringify(stats));
  if (saveError !== undefined) say(saveError);
  if (opts.statsFile) {
    const fd = openOutput('--stats-file', opts.statsFile);
    writeSync(fd, JSON.stringify(stats, null, 2) + '\n');
    closeSync(fd);
  }
  if (saveError !== undefined) return EXIT_SNAPSHOT_FAILED;
  if (replaying && signal === undefined && !quit && !killed) {
    const diverged = journal!.divergence({ steps: target.steps, instret: target.instret, stateSha256: endState });
    if (diverged !== undefined) {
      say(`--replay ${opts.replay}: the run diverged from the recording: ${diverged}`);
      return EXIT_REPLAY_DIVERGED;
    }
    say(`replay of ${opts.replay}: ${count(target.steps)} steps, ${count(target.instret)} instructions, console output and end state as recorded`);
    return journal!.recording!.header.end.exitStatus;
  }
  const status = endStatus();
  if (journal?.kind === 'record') {
    try {
      journal.writeRecording(opts.snapshot ?? 'reset', opts.mode ?? 'bare', recordStart!, timeline, {
        steps: target.steps, instret: target.instret, stopReason: end, exitStatus: status, stateSha256: endState,
      });
    } catch (err) {
      say((err as Error).message);
      return EXIT_SNAPSHOT_FAILED;
    }
  }
  return status;

  /** vmlab's exit status for how the run ended, saying why when the guest did not end it. */
  function endStatus(): number {
    if (reason === StopReason.EXIT) return Math.min(target.exitCode ?? 0, MAX_EXIT_STATUS);
    if (signal !== undefined) {
      say(`stopped by ${signal} after ${count(target.instret)} instructions; disks flushed and closed`);
      return 128 + (osConstants.signals[signal] ?? 0);
    }
    if (quit) {
      say(`quit (Ctrl-A x) after ${count(target.instret)} instructions; disks flushed and closed`);
      return EXIT_QUIT;
    }
    if (killed) {
      say(`killed by the debugger after ${count(target.instret)} instructions; disks flushed and closed`);
      return EXIT_QUIT;
    }
    if (outputClosed) return EXIT_OUTPUT_CLOSED;
    if (reason === CRASHED) {
      say(`the guest crashed: ${target.crashReason}`);
      return EXIT_CRASHED;
    }
    if (reason === StopReason.IDLE) {
      say('the guest waits for an interrupt (WFI) and nothing is left to wake it');
      return EXIT_IDLE;
    }
    if (opts.timeout && nowMs() >= deadline) {
      say(`stopped by --timeout ${opts.timeout} after ${count(target.instret)} instructions`);
    } else {
      const ran = target.elapsed - elapsedAtStart;
      if (ran === target.steps - stepsAtStart) {
        say(`stopped by --max-insns ${opts.maxInsns} after ${count(target.steps)} steps${budgetDetail(target)}`);
      } else {
        say(`stopped by --max-insns ${opts.maxInsns} after ${count(stepsAtStart + ran)} steps; the guest rebooted itself during the run, and its clock reads ${count(target.steps)} steps since its last boot`);
      }
    }
    return EXIT_TIMEOUT;
  }
}

const count = groupDigits;

/** Writes the run's state to a snapshot file (after the disks were flushed, so their digests hold). */
async function saveSnapshot(file: string, target: Target, opts: RunOptions, kernelName: string, kernel: Uint8Array, boot: BootFiles, disks: readonly DiskAttachment[]): Promise<void> {
  const { writeSnapshotFile } = await import('../../host/snapshot-file');
  writeSnapshotFile(file, await snapshotParts(target, opts, kernelName, kernel, boot, disks));
}

/** The run's state as a snapshot holds it. */
async function snapshotParts(target: Target, opts: RunOptions, kernelName: string, kernel: Uint8Array, boot: BootFiles, disks: readonly DiskAttachment[]): Promise<SnapshotParts> {
  const { fileDigest } = await import('../../host/snapshot-file');
  const state = await target.save();
  const specs = opts.disk ?? [];
  const snapDisks: SnapshotDisk[] = disks.map((d, i) => {
    const path = resolvePath(specs[i].path);
    return {
      path, format: d.device.format as 'raw' | 'qcow2', readOnly: d.device.readOnly, legacy: d.legacy ?? true, serial: d.serial,
      slot: target.diskSlots[i], ...fileDigest(path),
    };
  });
  return {
    header: {
      created: new Date().toISOString(),
      config: { mode: opts.mode ?? 'bare', ramSize: opts.mem ?? DEFAULT_RAM_SIZE, cpu: opts.cpu ?? {}, bootargs: boot.bootargs, sbi: boot.sbi, place: opts.place, kernelName },
      disks: snapDisks,
      summary: state.summary,
      machine: state.machine,
      vm: state.vm,
    },
    kernel,
    firmware: boot.firmware,
    initrd: boot.initrd,
    ram: state.ram,
  };
}

/**
 * The budget counts steps (instructions, traps taken, and time a hart sleeps in WFI, 10 steps a
 * tick of mtime), so a guest that waits on its timer retires far fewer instructions than the budget.
 */
function budgetDetail(target: Target): string {
  if (target.steps === target.instret) return '';
  return ` (${count(target.instret)} instructions retired; the other ${count(target.steps - target.instret)} steps were traps taken and time waited in WFI, which the budget counts too)`;
}

/** The run loop's own stop reason for a crashed VM. */
export const CRASHED = 100 as StopReason;

export const STOP_NAMES: Record<number, string> = { 1: 'exit', 2: 'budget', 3: 'idle', 4: 'stopped', 5: 'reset', 6: 'breakpoint', 100: 'crashed' };

function machineTarget(machine: Machine): Target {
  // The bare machine is judged stuck by the VMs' rule (STUCK_STEPS), at the ends of windows of the
  // guest's clock (StuckWatch, the app's rule too), so where the run ends does not depend on the host.
  const watch = new StuckWatch();
  let crashReason: string | undefined;
  return {
    run(chunk) {
      const instret = machine.hart.instret;
      const from = machine.clockSteps;
      const reason = machine.run(watch.budget(from, chunk));
      const progressed = reason !== StopReason.BUDGET || machine.hart.waiting || machine.hart.instret !== instret;
      crashReason = watch.ran(from, machine.clockSteps, progressed, machine.hart.pcU);
      return crashReason === undefined ? reason : CRASHED;
    },
    get steps() { return machine.clockSteps; },
    get elapsed() { return machine.elapsedSteps; },
    get instret() { return machine.hart.instret; },
    get exitCode() { return machine.exitCode; },
    get crashReason() { return crashReason; },
    sendInput: (bytes) => machine.sendInput(bytes),
    stats: (reason, wall) => collectStats(machine, reason, wall),
    flushDisks: () => machine.flushDisks(),
    debug: async () => (await import('../../host/gdb/debug-target')).machineDebugTarget(machine),
    diskSlots: machine.board.diskSlots,
    async save() {
      const { ramPages, saveMachine } = await import('../../engine/snapshot/machine-state');
      return {
        machine: saveMachine(machine),
        ram: ramPages(machine.bus),
        summary: { steps: machine.clockSteps, instret: machine.hart.instret, pc: machine.hart.pc, priv: machine.hart.priv, state: machine.exitCode === undefined ? 'running' : `exited (${machine.exitCode})` },
      };
    },
    async restore(snapshot) {
      const { loadMachine, loadRam } = await import('../../engine/snapshot/machine-state');
      loadRam(machine.bus, snapshot.ram);
      // A VM's snapshot continues on the bare machine from its virtual machine's state.
      loadMachine(machine, snapshot.header.machine ?? snapshot.header.vm!.machine);
    },
  };
}

function collectStats(machine: Machine, reason: StopReason, wallSeconds: number): RunStats {
  const h = machine.hart;
  const traps: Record<string, number> = {};
  h.trapCounts.forEach((count, i) => {
    if (count > 0) traps[i >= 32 ? `interrupt${i - 32}` : `exception${i}`] = count;
  });
  return {
    stopReason: STOP_NAMES[reason] ?? String(reason),
    exitCode: machine.exitCode ?? null,
    instret: h.instret,
    steps: machine.clockSteps,
    wallSeconds,
    mips: wallSeconds > 0 ? h.instret / wallSeconds / 1e6 : 0,
    traps,
    tlb: { misses: h.tlb.misses, flushes: h.tlb.flushes },
    deviceAccesses: machine.bus.deviceAccesses,
    disks: machine.board.disks.map((d) => d.stats.toJSON()),
  };
}

const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/** Executes one step and writes a Spike-style commit-log line for it. */
function traceStep(machine: Machine, fd: number): StopReason {
  const h = machine.hart;
  const pc = h.pc;
  const before = Int32Array.from(h.x);
  const priv = h.priv;
  const bits = h.fetchSlow(pc);
  const fetchFault = h.fault;
  const reason = machine.run(1);
  let line = `core   0: ${priv} ${hex(pc)} (${fetchFault ? 'fault' : (bits & 3) === 3 ? hex(bits) : '0x' + (bits & 0xffff).toString(16).padStart(4, '0')})`;
  for (let r = 1; r < 32; r++) if (h.x[r] !== before[r]) line += ` x${r} ${hex(h.x[r])}`;
  if (h.pc !== ((pc + ((bits & 3) === 3 ? 4 : 2)) | 0)) line += ` -> ${hex(h.pc)}`;
  writeSync(fd, line + '\n');
  return reason;
}
