// The service's handle on one machine worker: typed commands with replies, UART and status
// streams, and termination.

import { Worker } from 'node:worker_threads';
import { LabError } from './errors';
import type { WorkerCommand, WorkerMessage, WorkerReplies, WorkerRequest, WorkerStatus } from './worker-protocol';

/** Listeners of a machine's output. */
export interface MachineHostEvents {
  uart(data: Uint8Array): void;
  status(status: WorkerStatus): void;
  exit(error?: Error): void;
}

/** One machine running in its own worker_thread. */
export class MachineHost {
  private readonly worker: Worker;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(workerPath: string, private readonly events: MachineHostEvents) {
    this.worker = new Worker(workerPath);
    this.worker.on('message', (msg: WorkerMessage) => this.onMessage(msg));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('machine worker exited')));
  }

  private onMessage(msg: WorkerMessage): void {
    if (msg.t === 'uart') this.events.uart(msg.data);
    else if (msg.t === 'status') this.events.status(msg.status);
    else {
      const p = this.pending.get(msg.seq);
      if (!p) return;
      this.pending.delete(msg.seq);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new LabError(msg.error.code === 'bad-request' ? 'bad-request' : 'bad-state', msg.error.message));
    }
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new LabError('failed', err.message));
    this.pending.clear();
    this.events.exit(err);
  }

  /** Sends a command and waits for its reply. */
  send<C extends WorkerCommand>(command: C): Promise<WorkerReplies[C['op']]> {
    if (this.closed) return Promise.reject(new LabError('bad-state', 'the machine is gone'));
    const seq = ++this.seq;
    const req = { ...command, seq } as WorkerRequest;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage(req);
    });
  }

  /** Stops the worker (a running guest is cut off at once). */
  async terminate(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new LabError('bad-state', 'the machine was destroyed'));
    this.pending.clear();
    await this.worker.terminate();
  }
}
