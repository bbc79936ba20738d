// The service's handle on the VMM worker: typed commands with replies, and each VM's UART and
// status streams by key.

import { Worker } from 'node:worker_threads';
import type { LabErrorCode, MigrationEvent } from '../shared/lab-api';
import { LabError } from './errors';
import type { VmmCommand, VmmMessage, VmmReplies, VmmRequest, VmWorkerStatus } from './vmm-protocol';

/** Error codes a worker's reply keeps (a path refused by the policy in the worker included); others are bad-state. */
const WORKER_CODES: ReadonlySet<string> = new Set(['bad-request', 'not-found', 'outside-workspace']);

/** Listeners of the VMM's output. */
export interface VmmHostEvents {
  uart(key: string, data: Uint8Array): void;
  status(key: string, status: VmWorkerStatus): void;
  /** A migration's progress. */
  migration(key: string, event: MigrationEvent): void;
  /** The worker is gone (every VM with it). */
  exit(error?: Error): void;
}

/** The lab's VMM, running in its own worker_thread. */
export class VmmHost {
  private readonly worker: Worker;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(workerPath: string, private readonly events: VmmHostEvents) {
    this.worker = new Worker(workerPath, { workerData: { kind: 'vmm' } });
    this.worker.on('message', (msg: VmmMessage) => this.onMessage(msg));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('VMM worker exited')));
  }

  /** Whether the worker is gone. */
  get gone(): boolean {
    return this.closed;
  }

  private onMessage(msg: VmmMessage): void {
    if (msg.t === 'uart') this.events.uart(msg.key, msg.data);
    else if (msg.t === 'status') this.events.status(msg.key, msg.status);
    else if (msg.t === 'migration') this.events.migration(msg.key, msg.event);
    else {
      const p = this.pending.get(msg.seq);
      if (!p) return;
      this.pending.delete(msg.seq);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new LabError(WORKER_CODES.has(msg.error.code) ? (msg.error.code as LabErrorCode) : 'bad-state', msg.error.message));
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
  send<C extends VmmCommand>(command: C): Promise<VmmReplies[C['op']]> {
    if (this.closed) return Promise.reject(new LabError('bad-state', 'the VMM is gone'));
    const seq = ++this.seq;
    const req = { ...command, seq } as VmmRequest;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage(req);
    });
  }

  /** Stops the worker (every VM is cut off at once). */
  async terminate(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new LabError('bad-state', 'the VMM was shut down'));
    this.pending.clear();
    await this.worker.terminate();
  }
}
