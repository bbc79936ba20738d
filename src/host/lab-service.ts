// The lab service: the host side of the LabApi, transport-free. It owns the workspace, the
// assembler and one worker per machine; Electron's main process and the web server each bind it
// to their channel. Every request is validated (schema.ts) before anything runs.

import { INSTRUCTIONS } from '../engine/isa/table';
import { CSRS } from '../engine/cpu/csr';
import type {
  AssembleResult, IsaInfo, LabEventName, LabEvents, LabMethod, LabParams, LabResult, MachineStatus,
} from '../shared/lab-api';
import { EngineAssembler, type AssemblerBackend } from './assembler';
import { LabError } from './errors';
import { MachineHost } from './machine-host';
import { validate } from './schema';
import { ensureWorkerBuilt } from './worker-build';
import type { WorkerStatus } from './worker-protocol';
import { Workspace } from './workspace';

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

/** Most machines at once (each is a thread with its own RAM). */
export const MAX_MACHINES = 8;

interface MachineEntry {
  readonly id: string;
  readonly kernel: string;
  readonly host: MachineHost;
  last: WorkerStatus;
}

type Handlers = { [M in LabMethod]: (p: LabParams<M>) => Promise<LabResult<M>> };

/** The lab service. */
export class LabService {
  private readonly listeners = new Set<LabEventListener>();
  private readonly machines = new Map<string, MachineEntry>();
  private nextId = 1;
  private readonly assembler: AssemblerBackend;
  private isa: IsaInfo | undefined;

  private constructor(private workspace: Workspace, private readonly options: LabServiceOptions) {
    this.assembler = options.assembler ?? new EngineAssembler((path) => this.workspace.readIncluded(path));
  }

  /** Opens the workspace and returns a ready service. */
  static async create(options: LabServiceOptions): Promise<LabService> {
    return new LabService(await Workspace.open(options.workspace), options);
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
    this.emit('fs.changed', {});
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

  /** Terminates every machine. */
  async dispose(): Promise<void> {
    await this.destroyAll();
    this.listeners.clear();
  }

  private async destroyAll(): Promise<void> {
    const all = [...this.machines.values()];
    this.machines.clear();
    await Promise.all(all.map((e) => e.host.terminate()));
  }

  private readonly handlers: Handlers = {
    'workspace.info': async () => this.workspace.info(),
    'fs.list': async () => this.workspace.list(),
    'fs.read': async ({ path }) => ({ text: await this.workspace.readText(path) }),
    'fs.write': async ({ path, text }) => {
      await this.workspace.write(path, text);
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
    'asm.build': async ({ path }) => this.build(path).then((r) => r.result),
    'vm.create': async ({ kernel, ramSize, cpu }) => {
      if (this.machines.size >= MAX_MACHINES) throw new LabError('bad-state', `at most ${MAX_MACHINES} machines at once: destroy one first`);
      let bytes: Uint8Array;
      if (/\.s$/i.test(kernel)) {
        const built = await this.build(kernel);
        if (!built.elf) {
          const first = built.result.diagnostics.find((d) => d.severity === 'error');
          throw new LabError('bad-request', `${kernel} does not assemble${first ? `: line ${first.line}: ${first.message}` : ''}`);
        }
        bytes = built.elf;
      } else {
        bytes = await this.workspace.readBytes(kernel);
      }
      const id = `m${this.nextId++}`;
      const workerPath = this.options.workerPath ?? (await ensureWorkerBuilt());
      const host = new MachineHost(workerPath, {
        uart: (data) => this.emit('vm.console', { id, data }),
        status: (s) => {
          const e = this.machines.get(id);
          if (!e) return;
          e.last = s;
          this.emit('vm.status', this.publicStatus(e));
        },
        exit: (err) => {
          const e = this.machines.get(id);
          if (!e) return;
          e.last = { ...e.last, state: 'error', reason: err?.message ?? 'machine worker exited' };
          this.emit('vm.status', this.publicStatus(e));
        },
      });
      const entry: MachineEntry = { id, kernel, host, last: { state: 'paused', pc: 0, priv: 3, instret: 0, mips: 0 } };
      this.machines.set(id, entry);
      try {
        entry.last = await host.send({ op: 'load', kernel: bytes, ramSize, cpu });
      } catch (err) {
        this.machines.delete(id);
        await host.terminate();
        throw err;
      }
      return this.publicStatus(entry);
    },
    'vm.list': async () => [...this.machines.values()].map((e) => this.publicStatus(e)),
    'vm.run': async ({ id }) => this.command(id, { op: 'run' }),
    'vm.pause': async ({ id }) => this.command(id, { op: 'pause' }),
    'vm.step': async ({ id, count }) => this.command(id, { op: 'step', count: count ?? 1 }),
    'vm.stepOver': async ({ id }) => this.command(id, { op: 'stepOver' }),
    'vm.runTo': async ({ id, address }) => this.command(id, { op: 'runTo', address }),
    'vm.reset': async ({ id }) => this.command(id, { op: 'reset' }),
    'vm.destroy': async ({ id }) => {
      const e = this.machine(id);
      this.machines.delete(id);
      await e.host.terminate();
      this.emit('vm.destroyed', { id });
      return {};
    },
    'vm.input': async ({ id, data }) => {
      await this.machine(id).host.send({ op: 'input', data });
      return {};
    },
    'vm.setBreakpoints': async ({ id, addresses }) => {
      await this.machine(id).host.send({ op: 'breakpoints', addresses });
      return {};
    },
    'vm.registers': async ({ id }) => this.machine(id).host.send({ op: 'registers' }),
    'vm.readMemory': async ({ id, address, length, space }) => this.machine(id).host.send({ op: 'readMemory', address, length, space }),
    'vm.writeMemory': async ({ id, address, bytes, space }) => this.machine(id).host.send({ op: 'writeMemory', address, bytes, space }),
    'vm.translate': async ({ id, address }) => this.machine(id).host.send({ op: 'translate', address }),
    'vm.disassemble': async ({ id, address, count }) => this.machine(id).host.send({ op: 'disassemble', address, count }),
  };

  private machine(id: string): MachineEntry {
    const e = this.machines.get(id);
    if (!e) throw new LabError('not-found', `no machine '${id}'`);
    return e;
  }

  private async command(id: string, cmd: { op: 'run' | 'pause' | 'stepOver' | 'reset' } | { op: 'step'; count: number } | { op: 'runTo'; address: number }): Promise<MachineStatus> {
    const e = this.machine(id);
    e.last = await e.host.send(cmd);
    return this.publicStatus(e);
  }

  private publicStatus(e: MachineEntry): MachineStatus {
    return { id: e.id, kernel: e.kernel, ...e.last };
  }

  /** Assembles a saved source into `<name>.elf` beside it. */
  private async build(path: string): Promise<{ result: AssembleResult; elf?: Uint8Array }> {
    if (!/\.s$/i.test(path)) throw new LabError('bad-request', `'${path}' is not an assembly source (.S or .s)`);
    const text = await this.workspace.readText(path);
    const out = await this.assembler.assemble(text, { file: path });
    const result = toResult(out);
    if (!out.elf) return { result };
    const elfPath = path.replace(/\.s$/i, '.elf');
    const existed = await this.workspace.exists(elfPath);
    await this.workspace.write(elfPath, out.elf);
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
