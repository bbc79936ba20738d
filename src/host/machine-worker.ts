// Entry point of a machine worker_thread: binds a MachineSession to the parent port. Built into
// out/worker/machine-worker.mjs by esbuild (bundling inlines the engine's const enums).

import { parentPort } from 'node:worker_threads';
import { ElfError } from '../engine/machine/elf';
import { MachineSession } from './machine-session';
import type { WorkerMessage, WorkerRequest } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('machine-worker must run in a worker_thread');

const post = (msg: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

const session = new MachineSession(
  {
    uart: (data) => post({ t: 'uart', data }, [data.buffer as ArrayBuffer]),
    status: (status) => post({ t: 'status', status }),
  },
  () => performance.now(),
  (fn) => setImmediate(fn),
);

function dispatch(req: WorkerRequest): unknown {
  switch (req.op) {
    case 'load': return session.load(req.kernel, req.ramSize, req.cpu);
    case 'run': return session.run();
    case 'pause': return session.pause();
    case 'step': return session.step(req.count);
    case 'stepOver': return session.stepOver();
    case 'runTo': return session.runTo(req.address);
    case 'reset': return session.reset();
    case 'input': session.input(req.data); return null;
    case 'breakpoints': session.setBreakpoints(req.addresses); return null;
    case 'registers': return session.registers();
    case 'readMemory': return session.readMemory(req.address, req.length, req.space);
    case 'writeMemory': return session.writeMemory(req.address, req.bytes, req.space);
    case 'translate': return session.translate(req.address);
    case 'disassemble': return session.disassemble(req.address, req.count);
    case 'status': return session.status();
  }
}

port.on('message', (req: WorkerRequest) => {
  try {
    post({ t: 'reply', seq: req.seq, ok: true, value: dispatch(req) });
  } catch (err) {
    const code = err instanceof ElfError ? 'bad-request' : 'bad-state';
    post({ t: 'reply', seq: req.seq, ok: false, error: { code, message: err instanceof Error ? err.message : String(err) } });
  }
});
