// The lab service: the host side of the LabApi, transport-free. It owns the workspace, the
// assembler, one worker per bare machine and one worker for the VMM, which holds every VM (one
// physical machine, one host RAM: docs/vmm.md); Electron's main process and the web server each bind
// it to their channel. Every request is validated (schema.ts) before anything runs.

import { INSTRUCTIONS } from '../engine/isa/table';
import { CSRS } from '../engine/cpu/csr';
import { SBI_KERNEL_ADDRESS } from '../engine/machine/boot';
import { DEFAULT_RAM_SIZE } from '../engine/machine/memory-map';
import { DEFAULT_VM_MEM } from '../engine/vmm/vm';
import {
  BARE_SPACES, VM_SPACES,
  type AddressSpace, type AssembleResult, type IsaInfo, type LabEventName, type LabEvents, type LabMethod, type LabParams,
  type LabResult, type MachineConfig, type MachineMode, type MachineStatus, type ProgramInfo, type VmPlacement,
} from '../shared/lab-api';
import { EngineAssembler, type AssemblerBackend } from './assembler';
import { ConsoleLog } from './console-log';
import { DiskService } from './disk-service';
import { LabError } from './errors';
import { describeKernel, noStartNote } from './kernel-info';
import { KernelSources } from './kernel-sources';
import { readKernel, readResolved } from './paths';
import { InspectService } from './inspect-service';
import { MachineHost } from './machine-host';
import { validate } from './schema';
import { parseLoopbackAddress } from './migration/protocol';
import { VmmHost } from './vmm-host';
import { STATE_DIR, VmStore, type StoredVmConfig } from './vm-store';
import { LAB_HOST_RAM } from './vmm-session';
import type { VmWorkerStatus } from './vmm-protocol';
import { ensureWorkerBuilt } from './worker-build';
import { SnapshotService, type RestorePlan } from './snapshot-service';
import type { BootImages, WorkerStatus } from './worker-protocol';
import { MAX_FILE_SIZE, Workspace } from './workspace';

/** How the service is set up. */
export interface LabServiceOptions {
  /** Workspace folder (created when missing). */
  workspace: string;
  /** Bundled worker script; default: built from source on demand. */
  workerPath?: string;
  /** Assembler backend; default: the engine's, reading includes from the workspace. */
  assembler?: AssemblerBackend;
}

/** Receives every event of the service. */
export type LabEventListener = <E extends LabEventName>(event: E, payload: LabEvents[E]) => void;

/** Most machines at once, bare machines and VMs together. */
export const MAX_MACHINES = 8;

/** How often a VM's console log is written to the workspace while output arrives (ms). */
export const CONSOLE_SAVE_MS = 1000;

interface MachineEntry {
  readonly id: string;
  readonly kernel: string;
  readonly mode: MachineMode;
  readonly name: string;
  readonly memSize: number;
  readonly placement?: VmPlacement;
  /** The source file whose debugging session (F5) this machine is. */
  readonly source?: string;
  /** A bare machine's own worker; VMs live in the service's VMM worker. */
  readonly host?: MachineHost;
  last: WorkerStatus | VmWorkerStatus;
  /** The console's output as the host keeps it (replayed to a page that attaches). */
  readonly console: ConsoleLog;
  /** VMs: what the workspace stores of it (`.vmlab/NAME.vm.json`). */
  stored?: StoredVmConfig;
  /** The line map and symbols of the build it runs, when the service made that build. */
  program?: ProgramInfo;
}

type Handlers = { [M in LabMethod]: (p: LabParams<M>) => Promise<LabResult<M>> };

/** The lab service. */
export class LabService {
  private readonly listeners = new Set<LabEventListener>();
  private readonly machines = new Map<string, MachineEntry>();
  private vmm: VmmHost | undefined;
  private nextId = 1;
  private readonly assembler: AssemblerBackend;
  private isa: IsaInfo | undefined;
  private readonly disks = new DiskService({
    workspace: () => this.workspace,
    machine: (id) => this.machine(id),
    vmm: () => this.vmmHost(),
    changed: () => this.emit('fs.changed', {}),
    disksChanged: async (id, specs) => {
      const e = this.machines.get(id);
      if (!e?.stored) return;
      const disks = specs.map((d) => ({
        path: d.path, readOnly: d.readOnly, legacy: d.legacy,
        ...(d.format === undefined ? {} : { format: d.format }), ...(d.serial === undefined ? {} : { serial: d.serial }),
        ...(d.slot === undefined ? {} : { slot: d.slot }),
      }));
      const { disks: _old, ...rest } = e.stored;
      e.stored = disks.length > 0 ? { ...rest, disks } : rest;
      await this.storeConfig(e);
    },
  });
  private readonly store = new VmStore(() => this.workspace);
  /** The line map and symbols of the last build of each ELF this service wrote, by workspace path. */
  private readonly builds = new Map<string, ProgramInfo>();
  /** What assembling each saved source says of it as a kernel (its _start, its code), per text. */
  private readonly sources = new KernelSources({ assemble: (text, o) => this.assembler.assemble(text, o) }, (path) => this.workspace.readText(path));
  private saveTimer: ReturnType<typeof setInterval> | undefined;
  private saving: Promise<void> = Promise.resolve();
  /** Stored VMs that could not be recreated at the last start, one line each. */
  restoreProblems: string[] = [];
  private readonly inspect = new InspectService({
    machine: (id) => this.machine(id),
    vmm: () => this.vmmHost(),
    kernelBytes: (path, base) => this.kernelBytes(path, base),
    diskSpecs: (disks) => this.disks.specs(disks),
    bootImages: (config) => this.bootImages(config),
    workerPath: async () => this.options.workerPath ?? (await ensureWorkerBuilt()),
    statsTick: (id, t, stats) => this.emit('vm.statsTick', { id, t, stats }),
    compareDone: (state) => this.emit('compare.done', state),
  });

  private readonly snapshots = new SnapshotService({
    workspace: () => this.workspace,
    machine: (id) => this.machine(id),
    vmm: () => this.vmmHost(),
    changed: () => this.emit('fs.changed', {}),
    restore: (plan) => this.restoredMachine(plan),
  });

  private constructor(private workspace: Workspace, private readonly options: LabServiceOptions) {
    this.assembler = options.assembler ?? new EngineAssembler((path) => this.workspace.readIncluded(path));
  }

  /** Opens the workspace, recreates the VMs it stores (paused) and returns a ready service. */
  static async create(options: LabServiceOptions): Promise<LabService> {
    const service = new LabService(await Workspace.open(options.workspace), options);
    await service.restore();
    return service;
  }

  /** The open workspace. */
  get root(): string {
    return this.workspace.root;
  }

  /** Switches to another workspace folder (Electron's Open Folder); machines are destroyed. */
  async openWorkspace(folder: string): Promise<void> {
    const ws = await Workspace.open(folder);
    await this.destroyAll();
    this.workspace = ws;
    await this.restore();
    this.emit('fs.changed', {});
  }

  /**
   * Recreates the VMs the workspace stores, each paused before its first instruction with the
   * console it had; a VM that cannot be made again is listed in `restoreProblems` and its files stay.
   */
  private async restore(): Promise<void> {
    const { vms, problems } = await this.store.load();
    for (const { config, console } of vms) {
      try {
        const status = await this.createMachine(config, { restoring: true });
        const e = this.machines.get(status.id)!;
        e.console.append(console);
        const note = `${console.length > 0 && console[console.length - 1] !== 10 ? '\n' : ''}[vmlab started again: ${config.name} was recreated from ${STATE_DIR}/${config.name}.vm.json, paused before its first instruction]\n`;
        e.console.append(new TextEncoder().encode(note));
      } catch (err) {
        problems.push(`${STATE_DIR}/${config.name}.vm.json: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.restoreProblems = problems;
    this.saveTimer ??= setInterval(() => void this.saveConsoles(), CONSOLE_SAVE_MS);
    this.saveTimer.unref?.();
  }

  /** Writes the console log of every VM that printed since the last time. */
  private saveConsoles(): Promise<void> {
    this.saving = this.saving.then(async () => {
      for (const e of [...this.machines.values()]) {
        if (!e.stored || !e.console.takeDirty()) continue;
        await this.store.saveConsole(e.name, e.console.snapshot().data).catch((err: unknown) => this.consoleNote(e, `cannot write its console log: ${(err as Error).message}`));
      }
    });
    return this.saving;
  }

  /** Bytes a machine printed: kept in its log and sent to the pages with their offset. */
  private consoleOut(id: string, data: Uint8Array): void {
    const e = this.machines.get(id);
    if (!e) return;
    const offset = e.console.append(data);
    this.emit('vm.console', { id, data, offset });
  }

  /** A line from vmlab itself in a machine's console. */
  private consoleNote(e: MachineEntry, text: string): void {
    this.consoleOut(e.id, new TextEncoder().encode(`\n[vmlab: ${text}]\n`));
  }

  /** Asks the renderer to save the active file (Electron's File → Save). */
  requestSave(): void {
    this.emit('app.command', { command: 'save' });
  }

  /**
   * Asks the renderer to save the active file as the absolute host path `full` (Electron's File →
   * Save As, after the native dialog); refuses a path outside the workspace.
   */
  async requestSaveAs(full: string): Promise<void> {
    const path = this.workspace.relativePath(full);
    await this.workspace.resolve(path);
    this.emit('app.command', { command: 'saveAs', path });
  }

  /** Subscribes to every event; returns the unsubscribe function. */
  subscribe(listener: LabEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit<E extends LabEventName>(event: E, payload: LabEvents[E]): void {
    for (const l of this.listeners) l(event, payload);
  }

  /** Validates and runs one request. Throws LabError for anything expected to fail. */
  async call(method: string, params: unknown): Promise<unknown> {
    const m = method as LabMethod;
    const p = validate(m, params);
    const handler = this.handlers[m] as (p: unknown) => Promise<unknown>;
    return handler(p);
  }

  /** Writes the VMs' consoles to the workspace and terminates every machine (the stored VMs stay). */
  async dispose(): Promise<void> {
    clearInterval(this.saveTimer);
    this.saveTimer = undefined;
    await this.destroyAll();
    await this.inspect.dispose();
    this.listeners.clear();
  }

  private async destroyAll(): Promise<void> {
    await this.saveConsoles();
    const all = [...this.machines.values()];
    this.machines.clear();
    const vmm = this.vmm;
    this.vmm = undefined;
    this.disks.forgetAll();
    // Flush and close every VM's disks (and release their locks) before the worker is cut off.
    if (vmm && !vmm.gone) await vmm.send({ op: 'closeDisks' }).catch(() => undefined);
    await Promise.all([...all.map((e) => e.host?.terminate()), vmm?.terminate()]);
  }

  private readonly handlers: Handlers = {
    'workspace.info': async () => this.workspace.info(),
    'fs.list': async () => this.workspace.list(),
    'fs.read': async ({ path }) => ({ text: await this.workspace.readText(path) }),
    'fs.write': async ({ path, text }) => {
      const existed = await this.workspace.exists(path);
      await this.workspace.write(path, text);
      if (!existed) this.emit('fs.changed', {});
      return {};
    },
    'fs.create': async ({ path, kind }) => {
      await this.workspace.create(path, kind);
      this.emit('fs.changed', {});
      return {};
    },
    'fs.rename': async ({ from, to }) => {
      await this.workspace.rename(from, to);
      this.emit('fs.changed', {});
      return {};
    },
    'fs.delete': async ({ path }) => {
      await this.workspace.delete(path);
      this.emit('fs.changed', {});
      return {};
    },
    'isa.info': async () => (this.isa ??= {
      instructions: INSTRUCTIONS.map((d) => ({ name: d.name, syntax: d.syntax, ext: d.ext })),
      csrs: CSRS.map((c) => ({ name: c.name, num: c.num })),
    }),
    'asm.check': async ({ path, text }) => {
      await this.workspace.resolve(path);
      return toResult(await this.assembler.assemble(text, { file: path }));
    },
    // F5's run in pv mode builds at the pv kernel's address, as vm.create builds a source for it.
    'asm.build': async ({ path, mode }) => this.build(path, mode === 'pv' ? SBI_KERNEL_ADDRESS : undefined).then((r) => r.result),
    'vm.kernelInfo': async ({ kernel, mode, bios }) => {
      const bytes = /\.s$/i.test(kernel) ? undefined : readKernel(this.workspace.resolvePath(kernel), MAX_FILE_SIZE);
      const firmware = bios === 'sbi' ? 'sbi' : bios !== undefined && bios !== 'none' ? this.bootImages({ bios }).firmware : undefined;
      // A source is assembled for its symbols and code (a source with errors has symbols, no code).
      const facts = bytes === undefined ? await this.sources.facts(kernel) : undefined;
      const info = describeKernel(kernel, bytes, { mode: mode ?? 'bare', firmware }, facts?.code);
      if (facts !== undefined && !facts.start) return { ...info, notes: [...info.notes, noStartNote(kernel)] };
      return info;
    },
    'asm.withoutStart': async () => {
      const sources = (await this.workspace.list()).filter((f) => f.kind === 'file' && /\.s$/i.test(f.path));
      return this.sources.withoutStart(sources.map((f) => f.path));
    },
    'vm.create': async (config) => this.createMachine(config),
    'vm.list': async () => [...this.machines.values()].map((e) => this.publicStatus(e)),
    'vm.run': async ({ id }) => this.command(id, 'run'),
    'vm.pause': async ({ id }) => this.command(id, 'pause'),
    'vm.step': async ({ id, count }) => {
      const e = this.machine(id);
      e.last = e.host ? await e.host.send({ op: 'step', count: count ?? 1 }) : await this.vmmHost().send({ op: 'step', key: id, count: count ?? 1 });
      return this.publicStatus(e);
    },
    'vm.reverseStep': async ({ id }) => this.reverse(id, 'reverseStep'),
    'vm.reverseContinue': async ({ id }) => this.reverse(id, 'reverseContinue'),
    'vm.stepOver': async ({ id }) => {
      const e = this.machine(id);
      e.last = e.host ? await e.host.send({ op: 'stepOver' }) : await this.vmmHost().send({ op: 'stepOver', key: id });
      return this.publicStatus(e);
    },
    'vm.runTo': async ({ id, address }) => {
      const e = this.machine(id);
      e.last = e.host ? await e.host.send({ op: 'runTo', address }) : await this.vmmHost().send({ op: 'runTo', key: id, address });
      return this.publicStatus(e);
    },
    'vm.reset': async ({ id }) => this.command(id, 'reset'),
    'vm.stop': async ({ id }) => this.command(id, 'stop'),
    'vm.destroy': async ({ id }) => {
      const e = this.machine(id);
      this.machines.delete(id);
      this.disks.forget(id);
      this.inspect.forget(id);
      if (e.stored) {
        // After any log write in progress, so the VM's files cannot come back.
        await this.saving;
        await this.store.remove(e.name);
      }
      if (e.host) await e.host.terminate();
      else if (this.vmm && !this.vmm.gone) await this.vmm.send({ op: 'destroy', key: id });
      this.emit('vm.destroyed', { id });
      return {};
    },
    'vm.consoleLog': async ({ id }) => this.machine(id).console.snapshot(),
    'vm.program': async ({ id }) => this.machine(id).program ?? { lineMap: [], symbols: [] },
    'vm.input': async ({ id, data }) => {
      const e = this.machine(id);
      await (e.host ? e.host.send({ op: 'input', data }) : this.vmmHost().send({ op: 'input', key: id, data }));
      return {};
    },
    'vm.setBreakpoints': async ({ id, addresses }) => {
      const e = this.machine(id);
      if (e.host) await e.host.send({ op: 'breakpoints', addresses });
      else await this.vmmHost().send({ op: 'breakpoints', key: id, addresses });
      return {};
    },
    'vm.registers': async ({ id }) => {
      const e = this.machine(id);
      return e.host ? e.host.send({ op: 'registers' }) : this.vmmHost().send({ op: 'registers', key: id });
    },
    'vm.readMemory': async ({ id, address, length, space }) => {
      const e = this.spaceOf(id, space);
      return e.host ? e.host.send({ op: 'readMemory', address, length, space }) : this.vmmHost().send({ op: 'readMemory', key: id, address, length, space });
    },
    'vm.writeMemory': async ({ id, address, bytes, space }) => {
      const e = this.spaceOf(id, space);
      return e.host ? e.host.send({ op: 'writeMemory', address, bytes, space }) : this.vmmHost().send({ op: 'writeMemory', key: id, address, bytes, space });
    },
    'vm.translate': async ({ id, address }) => {
      const e = this.machine(id);
      return e.host ? e.host.send({ op: 'translate', address }) : this.vmmHost().send({ op: 'translate', key: id, address });
    },
    'vm.locate': async ({ id, address, space }) => {
      const e = this.spaceOf(id, space);
      return e.host ? e.host.send({ op: 'locate', address, space }) : this.vmmHost().send({ op: 'locate', key: id, address, space });
    },
    'vm.disassemble': async ({ id, address, count }) => {
      const e = this.machine(id);
      return e.host ? e.host.send({ op: 'disassemble', address, count }) : this.vmmHost().send({ op: 'disassemble', key: id, address, count });
    },
    ...this.disks.handlers,
    ...this.inspect.handlers,
    ...this.snapshots.handlers,
    'vm.gdb': async ({ id, enabled, port }) => {
      const e = this.machine(id);
      e.last = e.host ? await e.host.send({ op: 'gdb', enabled, port: port ?? 0 }) : await this.vmmHost().send({ op: 'gdb', key: id, enabled, port: port ?? 0 });
      return this.publicStatus(e);
    },
    'vm.migrate': async ({ id, to, live, maxRounds, threshold, bandwidth }) => {
      const e = this.machine(id);
      let port: number;
      try {
        port = parseLoopbackAddress('to', to);
      } catch (err) {
        throw new LabError('bad-request', `vm.migrate: ${(err as Error).message}`);
      }
      if (e.host) throw new LabError('bad-request', `${e.name} is a bare machine: the app moves VMs (for a bare machine, vmlab migrate --mode bare)`);
      const isLive = live ?? true;
      if (!isLive && (maxRounds !== undefined || threshold !== undefined || bandwidth !== undefined)) {
        throw new LabError('bad-request', 'vm.migrate: stop-and-copy sends everything in one stop: maxRounds, threshold and bandwidth belong to live pre-copy');
      }
      try {
        return await this.vmmHost().send({
          op: 'migrate', key: id,
          options: { port, live: isLive, maxRounds: maxRounds ?? 30, threshold: threshold ?? 64, bandwidth: bandwidth ?? 32 * 1024 * 1024 },
        });
      } catch (err) {
        // The worker's bad-state is a refusal of this VM or a failed move: both are the request's to report as they are.
        throw err instanceof LabError && err.code === 'bad-state' ? new LabError('failed', err.message) : err;
      }
    },
    'vm.stats': async ({ id }) => {
      const e = this.machine(id);
      if (e.host) throw new LabError('bad-request', `vm.stats: '${e.name}' is a bare machine; the VMM keeps statistics for VMs (mode emulate or trap)`);
      return this.vmmHost().send({ op: 'stats', key: id });
    },
  };

  private machine(id: string): MachineEntry {
    const e = this.machines.get(id);
    if (!e) throw new LabError('not-found', `no machine '${id}' (it was removed, or vmlab started again: reload the page)`);
    return e;
  }

  /** The machine, once `space` is checked to be one of its address spaces. */
  private spaceOf(id: string, space: AddressSpace): MachineEntry {
    const e = this.machine(id);
    const spaces = e.host ? BARE_SPACES : VM_SPACES;
    if (!spaces.includes(space)) {
      const kind = e.host ? 'a bare machine' : 'a VM';
      throw new LabError('bad-request', `space: ${kind} has the address spaces ${spaces.join(', ')}, not '${space}'`);
    }
    return e;
  }

  private vmmHost(): VmmHost {
    if (this.vmm && !this.vmm.gone) return this.vmm;
    throw new LabError('bad-state', 'the VMM is gone: create the VM again');
  }

  private async command(id: string, op: 'run' | 'pause' | 'reset' | 'stop'): Promise<MachineStatus> {
    const e = this.machine(id);
    if (e.host) e.last = await e.host.send({ op: op === 'stop' ? 'pause' : op });
    else e.last = await this.vmmHost().send({ op, key: id });
    return this.publicStatus(e);
  }

  /**
   * Reverse step or continue (docs/replay.md): a bare machine's worker, or the VMM worker for one
   * VM, rewinds it to a checkpoint and replays it.
   */
  private async reverse(id: string, op: 'reverseStep' | 'reverseContinue'): Promise<MachineStatus> {
    const e = this.machine(id);
    e.last = e.host ? await e.host.send({ op }) : await this.vmmHost().send({ op, key: id });
    return this.publicStatus(e);
  }

  private publicStatus(e: MachineEntry): MachineStatus {
    const s: MachineStatus = {
      id: e.id, kernel: e.kernel, mode: e.mode, name: e.name, memSize: e.memSize, ...e.last,
      ...(e.source === undefined ? {} : { source: e.source }),
    };
    return e.placement === undefined ? s : { ...s, placement: e.placement };
  }

  /**
   * Creates a bare machine in its own worker, or a VM in the VMM worker (started on first use); a
   * VM's configuration is stored in the workspace unless it is being restored from there.
   */
  private async createMachine(config: MachineConfig, how: { restoring?: boolean } = {}): Promise<MachineStatus> {
    if (this.machines.size >= MAX_MACHINES) throw new LabError('bad-state', `at most ${MAX_MACHINES} machines at once: destroy one first`);
    const mode = config.mode ?? 'bare';
    const memSize = config.memSize ?? (mode === 'bare' ? DEFAULT_RAM_SIZE : DEFAULT_VM_MEM);
    const placement = mode === 'bare' ? undefined : config.placement ?? 'contiguous';
    if (placement !== undefined) checkPlacement(placement, memSize);
    const name = this.nameFor(config);
    // Disks first: a refused disk must not leave a freshly assembled kernel behind.
    const disks = await this.disks.specs(config.disks ?? []);
    // A pv kernel and one under bios 'sbi' start where QEMU puts a kernel behind OpenSBI.
    const sbi = config.bios === 'sbi' || (mode === 'pv' && (config.bios ?? 'none') === 'none');
    const bytes = await this.kernelBytes(config.kernel, sbi ? SBI_KERNEL_ADDRESS : undefined);
    const program = this.builds.get(config.kernel.replace(/\.s$/i, '.elf'));
    const boot = { ...this.bootImages(config), ...(sbi ? { sbi } : {}) };
    const id = `m${this.nextId++}`;
    const entry: MachineEntry = {
      id, kernel: config.kernel, mode, name, memSize, placement, source: config.source,
      host: mode === 'bare' ? await this.startBare(id) : undefined,
      last: { state: 'paused', pc: 0, priv: 3, instret: 0, mips: 0 },
      console: new ConsoleLog(),
      program,
    };
    this.machines.set(id, entry);
    try {
      if (entry.host) entry.last = await entry.host.send({ op: 'load', kernel: bytes, ramSize: config.memSize, cpu: config.cpu, boot });
      else entry.last = await (await this.startVmm()).send({ op: 'create', key: id, name, mode: mode as 'emulate' | 'trap' | 'bt' | 'pv' | 'hw', memSize, placement: placement!, kernel: bytes, cpu: config.cpu, disks, boot });
    } catch (err) {
      this.machines.delete(id);
      await entry.host?.terminate();
      throw err;
    }
    this.disks.created(id, name, disks);
    if (mode !== 'bare') {
      entry.stored = {
        name, kernel: config.kernel, mode, memSize, placement: placement!,
        ...(config.cpu ? { cpu: config.cpu } : {}), ...(config.disks?.length ? { disks: config.disks } : {}),
        ...(config.bios !== undefined ? { bios: config.bios } : {}), ...(config.initrd !== undefined ? { initrd: config.initrd } : {}),
        ...(config.append !== undefined ? { append: config.append } : {}),
      };
      if (!how.restoring) await this.storeConfig(entry);
    }
    return this.publicStatus(entry);
  }

  /**
   * A machine made from a snapshot (snapshot-service.ts), paused where the snapshot was taken. It is
   * not stored for the next start: it lives until removed or vmlab ends, and its snapshot restores it again.
   */
  private async restoredMachine(plan: RestorePlan): Promise<MachineStatus> {
    if (this.machines.size >= MAX_MACHINES) throw new LabError('bad-state', `at most ${MAX_MACHINES} machines at once: destroy one first`);
    const { mode, snapshot } = plan;
    const name = this.nameFor({ kernel: plan.kernel, name: plan.name }, `${snapshot.header.config.name ?? 'vm'}-restored`);
    const disks = await this.disks.specs(plan.disks);
    const cpu = snapshot.header.config.cpu;
    const id = `m${this.nextId++}`;
    const entry: MachineEntry = {
      id, kernel: plan.kernel, mode, name, memSize: plan.memSize, placement: plan.placement,
      host: mode === 'bare' ? await this.startBare(id) : undefined,
      last: { state: 'paused', pc: 0, priv: 3, instret: 0, mips: 0 },
      console: new ConsoleLog(),
      program: this.builds.get(plan.kernel.replace(/\.s$/i, '.elf')),
    };
    this.machines.set(id, entry);
    try {
      if (entry.host) entry.last = await entry.host.send({ op: 'restore', snapshot, cpu, boot: plan.boot });
      else entry.last = await (await this.startVmm()).send({ op: 'restore', key: id, name, mode: mode as 'emulate' | 'trap' | 'bt' | 'pv' | 'hw', placement: plan.placement!, snapshot, cpu, disks, boot: plan.boot });
    } catch (err) {
      this.machines.delete(id);
      await entry.host?.terminate();
      throw err instanceof LabError ? new LabError(err.code, `snapshot ${plan.path}: ${err.message}`) : err;
    }
    this.disks.created(id, name, disks);
    this.consoleNote(entry, `restored from ${plan.path}: ${snapshot.header.summary.instret.toLocaleString('en-US')} instructions in, ${mode}; the output before the snapshot is not in it`);
    return this.publicStatus(entry);
  }

  /** Writes a VM's configuration to the workspace; a failure is told in its console, the VM lives on. */
  private async storeConfig(e: MachineEntry): Promise<void> {
    if (!e.stored) return;
    await this.store.save(e.stored).catch((err: unknown) => this.consoleNote(e, `cannot keep this VM in ${STATE_DIR}/ for the next start: ${(err as Error).message}`));
  }

  /** The requested name (unique), or `fallback` (default the kernel's file name) made unique. */
  private nameFor(config: Pick<MachineConfig, 'kernel' | 'name'>, fallback?: string): string {
    const taken = new Set([...this.machines.values()].map((e) => e.name));
    if (config.name !== undefined) {
      if (taken.has(config.name)) throw new LabError('bad-request', `name: a machine named '${config.name}' exists already`);
      return config.name;
    }
    const base = (fallback ?? (config.kernel.split('/').pop() ?? 'vm').replace(/\.[^.]*$/, '')).replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 28) || 'vm';
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}-${k}`;
    return name;
  }

  /** The firmware and initrd a configuration names, read from the workspace, and its command line. */
  private bootImages(config: Pick<MachineConfig, 'bios' | 'initrd' | 'append'>): BootImages {
    const read = (option: string, p: string, what: string): Uint8Array => {
      try {
        return readResolved(this.workspace.resolvePath(p), what, MAX_FILE_SIZE);
      } catch (err) {
        throw err instanceof LabError ? new LabError(err.code, `${option}: ${err.message}`) : err;
      }
    };
    return {
      ...(config.bios === 'sbi' ? { sbi: true } : config.bios !== undefined && config.bios !== 'none' ? { firmware: read('bios', config.bios, 'a firmware image') } : {}),
      ...(config.initrd !== undefined ? { initrd: read('initrd', config.initrd, 'an initrd') } : {}),
      ...(config.append !== undefined ? { bootargs: config.append } : {}),
    };
  }

  /** The kernel image: `.S` sources are assembled first (errors name the first problem). */
  private async kernelBytes(kernel: string, base?: number): Promise<Uint8Array> {
    if (!/\.s$/i.test(kernel)) {
      const bytes = readKernel(this.workspace.resolvePath(kernel), MAX_FILE_SIZE);
      // An ELF vmlab cannot load is refused here, naming the file, rather than by the machine's worker.
      const { problem } = describeKernel(kernel, bytes, { mode: 'bare' });
      if (problem) throw new LabError('bad-request', problem);
      return bytes;
    }
    const built = await this.build(kernel, base);
    if (built.elf) return built.elf;
    const first = built.result.diagnostics.find((d) => d.severity === 'error');
    throw new LabError('bad-request', `${kernel} does not assemble${first ? `: line ${first.line}: ${first.message}` : ''}`);
  }

  private async startBare(id: string): Promise<MachineHost> {
    const workerPath = this.options.workerPath ?? (await ensureWorkerBuilt());
    return new MachineHost(workerPath, {
      uart: (data) => this.consoleOut(id, data),
      status: (s) => this.update(id, s),
      exit: (err) => this.update(id, { ...this.machines.get(id)?.last, state: 'error', reason: err?.message ?? 'machine worker exited' } as WorkerStatus),
    });
  }

  private async startVmm(): Promise<VmmHost> {
    if (this.vmm && !this.vmm.gone) return this.vmm;
    const workerPath = this.options.workerPath ?? (await ensureWorkerBuilt());
    // Requests that arrived together all waited for the build: the first one starts the one VMM.
    if (this.vmm && !this.vmm.gone) return this.vmm;
    const vmm = new VmmHost(workerPath, {
      uart: (key, data) => this.consoleOut(key, data),
      status: (key, s) => this.update(key, s),
      migration: (key, event) => {
        if (this.machines.has(key)) this.emit('vm.migration', event);
      },
      exit: (err) => {
        if (this.vmm !== vmm) return;
        for (const e of this.machines.values()) {
          if (!e.host) this.update(e.id, { ...e.last, state: 'error', reason: `the VMM stopped: ${err?.message ?? 'worker exited'}` });
        }
      },
    });
    this.vmm = vmm;
    return vmm;
  }

  private update(id: string, s: WorkerStatus | VmWorkerStatus): void {
    const e = this.machines.get(id);
    if (!e) return;
    e.last = s;
    this.emit('vm.status', this.publicStatus(e));
    if (!e.host) this.inspect.onVmStatus(id, s.state);
  }

  /** Assembles a saved source into `<name>.elf` beside it. */
  private async build(path: string, base?: number): Promise<{ result: AssembleResult; elf?: Uint8Array }> {
    if (!/\.s$/i.test(path)) throw new LabError('bad-request', `'${path}' is not an assembly source (.S or .s)`);
    const text = await this.workspace.readText(path);
    const out = await this.assembler.assemble(text, base === undefined ? { file: path } : { file: path, base });
    const result = toResult(out);
    if (!out.elf) return { result };
    const elfPath = path.replace(/\.s$/i, '.elf');
    const existed = await this.workspace.exists(elfPath);
    await this.workspace.write(elfPath, out.elf);
    this.builds.set(elfPath, { lineMap: result.lineMap, symbols: result.symbols });
    if (!existed) this.emit('fs.changed', {});
    return { result: { ...result, elfPath }, elf: out.elf };
  }
}

function toResult(out: { elf?: Uint8Array; diagnostics: AssembleResult['diagnostics']; lineMap: AssembleResult['lineMap']; symbols: AssembleResult['symbols'] }): AssembleResult {
  return {
    ok: out.elf !== undefined && !out.diagnostics.some((d) => d.severity === 'error'),
    diagnostics: out.diagnostics,
    lineMap: out.lineMap,
    symbols: out.symbols,
  };
}

/** Checks an explicit placement against the VM's pages and the host's frames (bad-request otherwise). */
function checkPlacement(placement: VmPlacement, memSize: number): void {
  if (typeof placement !== 'object') return;
  const pages = memSize / 4096;
  const frames = LAB_HOST_RAM / 4096;
  const seenPages = new Set<number>();
  const seenFrames = new Set<number>();
  for (const [page, frame] of placement.explicit) {
    if (page >= pages) throw new LabError('bad-request', `placement: guest page 0x${page.toString(16)} is outside the VM's ${pages} pages`);
    if (frame >= frames) throw new LabError('bad-request', `placement: host frame 0x${frame.toString(16)} is outside host RAM (${frames} frames)`);
    if (seenPages.has(page)) throw new LabError('bad-request', `placement: guest page 0x${page.toString(16)} is placed twice`);
    if (seenFrames.has(frame)) throw new LabError('bad-request', `placement: host frame 0x${frame.toString(16)} is used twice`);
    seenPages.add(page);
    seenFrames.add(frame);
  }
}
