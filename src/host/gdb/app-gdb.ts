// The app's gdb switch for one machine or VM (docs/debugging.md, "In the app"): a stub on
// 127.0.0.1 that, while a debugger is attached, drives the guest itself. The owner (a machine
// session or the VMM session) keeps the guest paused in its own scheduler while gdb holds it and
// refuses its own run and step commands then, so the two debuggers never run one guest at once.
// Between two slices the stub runs, the loop yields, so the owner's other VMs and its requests go on.

import { StopReason } from '../../engine/machine/machine';
import { STOP_CRASHED, type DebugTarget } from './debug-target';
import { startGdbServer, type GdbServer } from './gdb-server';

/** Steps one slice of a gdb continue runs before the loop yields to the worker's other work. */
const SLICE = 200_000;

/** What the owner hears. */
export interface AppGdbHooks {
  /** A debugger arrived (the guest is held) or left (breakpoints gone: give the app's back). */
  attached(on: boolean): void;
  /** The stub ran the guest or stopped it: report the state again. */
  changed(): void;
  /** gdb killed the guest (`kill`). */
  killed(): void;
}

/** A gdb stub attached to one guest of the app. */
export class AppGdb {
  private looping = false;
  /** The stub is running the guest for gdb (continue or step), between its stops. */
  running = false;

  private constructor(private readonly server: GdbServer, private readonly hooks: AppGdbHooks) {}

  /** Listens on 127.0.0.1:`port` (0: a free port); rejects with one line when it cannot. */
  static async start(target: DebugTarget, port: number, hooks: AppGdbHooks): Promise<AppGdb> {
    const holder: { gdb?: AppGdb } = {};
    // The stub may run the guest only while a debugger is attached; after a detach the owner's
    // own scheduler has it again.
    const guarded: DebugTarget = Object.create(target, {
      run: { value: (budget: number): StopReason => (holder.gdb?.attached ? target.run(budget) : StopReason.STOPPED) },
    }) as DebugTarget;
    let server: GdbServer;
    try {
      server = await startGdbServer(guarded, port, {}, (on) => holder.gdb?.connection(on));
    } catch (err) {
      throw new Error((err as Error).message.replace(/^--gdb (\d+): the port is in use$/, 'gdb: port $1 of 127.0.0.1 is in use: choose another, or 0 for a free one').replace(/^--gdb /, 'gdb: port '));
    }
    holder.gdb = new AppGdb(server, hooks);
    return holder.gdb;
  }

  /** The port it listens on. */
  get port(): number {
    return this.server.port;
  }

  /** Whether a debugger is attached. */
  get attached(): boolean {
    return this.server.stub.attached;
  }

  /** Stops listening; an attached debugger is dropped (the guest stays paused). */
  async close(): Promise<void> {
    await this.server.close();
  }

  private connection(on: boolean): void {
    this.hooks.attached(on);
    if (on && !this.looping) void this.loop();
  }

  /** Lets the stub drive the guest while a debugger is attached. */
  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (this.attached) {
        const r = await this.server.stub.run(SLICE);
        if (r === 'killed') {
          this.running = false;
          this.hooks.killed();
          return;
        }
        this.running = this.attached && !this.server.stub.held && r !== StopReason.EXIT && r !== STOP_CRASHED;
        this.hooks.changed();
        if (!this.attached) break;
        // A guest asleep in WFI waits for input or its timer: give the worker a breath, not a spin.
        await new Promise((resolve) => (r === StopReason.IDLE ? setTimeout(resolve, 5) : setImmediate(resolve)));
      }
    } finally {
      this.looping = false;
      this.running = false;
    }
  }
}
