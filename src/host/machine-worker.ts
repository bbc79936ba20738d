// Entry point of an engine worker_thread. `workerData.kind` picks what it runs: 'machine' (the
// default) binds a MachineSession, one bare machine; 'vmm' binds the VmmSession, the lab's one VMM
// with all its VMs; 'compare' runs one comparison (compare-run.ts). Built into out/worker/machine-worker.mjs by esbuild (bundling inlines the
// engine's const enums).

import { parentPort, workerData } from 'node:worker_threads';
import { compareWorker } from './compare-run';
import { ElfError } from '../engine/machine/elf';
import { OutOfFrames } from '../engine/vmm/frames';
import { MachineSession } from './machine-session';
import { LabError } from './errors';
import { InspectError } from './vm-inspect';
import { SnapshotError } from '../engine/snapshot/fields';
import { VmmSession } from './vmm-session';
import { compileFastRun } from './v8-flags';
import type { VmmMessage, VmmRequest } from './vmm-protocol';
import type { WorkerMessage, WorkerRequest } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('machine-worker must run in a worker_thread');
// The interpreter's fast run, compiled for this thread's isolate with V8's optimizing compiler (the
// process's flags keep the translator's regions in Liftoff).
compileFastRun();

const post = (msg: WorkerMessage | VmmMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);
const now = (): number => performance.now();
const defer = (fn: () => void): void => void setImmediate(fn);

function machineWorker(): (req: WorkerRequest) => unknown {
  const session = new MachineSession(
    {
      uart: (data) => post({ t: 'uart', data }, [data.buffer as ArrayBuffer]),
      status: (status) => post({ t: 'status', status }),
    },
    now,
    defer,
  );
  return (req) => {
    switch (req.op) {
      case 'load': return session.load(req.kernel, req.ramSize, req.cpu, req.boot);
      case 'run': return session.run();
      case 'pause': return session.pause();
      case 'step': return session.step(req.count);
      case 'stepOver': return session.stepOver();
      case 'reverseStep': return session.reverseStep();
      case 'reverseContinue': return session.reverseContinue();
      case 'runTo': return session.runTo(req.address);
      case 'reset': return session.reset();
      case 'input': session.input(req.data); return null;
      case 'breakpoints': session.setBreakpoints(req.addresses); return null;
      case 'registers': return session.registers();
      case 'readMemory': return session.readMemory(req.address, req.length, req.space);
      case 'writeMemory': return session.writeMemory(req.address, req.bytes, req.space);
      case 'translate': return session.translate(req.address);
      case 'locate': return session.locate(req.address, req.space);
      case 'disassemble': return session.disassemble(req.address, req.count);
      case 'inspect': return session.inspect(req.request);
      case 'status': return session.status();
      case 'saveSnapshot': return session.saveSnapshot(req.target);
      case 'gdb': return session.gdb(req.enabled, req.port);
      case 'restore': return session.restore(req.snapshot, req.cpu, req.boot);
    }
  };
}

function vmmWorker(): (req: VmmRequest) => unknown {
  const session = new VmmSession(
    {
      uart: (key, data) => post({ t: 'uart', key, data }, [data.buffer as ArrayBuffer]),
      status: (key, status) => post({ t: 'status', key, status }),
      migration: (key, event) => post({ t: 'migration', key, event }),
    },
    now,
    defer,
  );
  return (req) => {
    switch (req.op) {
      case 'create': return session.create(req.key, req.name, req.mode, req.memSize, req.placement, req.kernel, req.cpu, req.disks, req.boot);
      case 'run': return session.run(req.key);
      case 'pause': return session.pause(req.key);
      case 'step': return session.step(req.key, req.count);
      case 'stepOver': return session.stepOver(req.key);
      case 'reverseStep': return session.reverseStep(req.key);
      case 'reverseContinue': return session.reverseContinue(req.key);
      case 'runTo': return session.runTo(req.key, req.address);
      case 'breakpoints': session.setBreakpoints(req.key, req.addresses); return null;
      case 'reset': return session.reset(req.key);
      case 'stop': return session.stop(req.key);
      case 'destroy': session.destroy(req.key); return null;
      case 'input': session.input(req.key, req.data); return null;
      case 'registers': return session.registers(req.key);
      case 'readMemory': return session.readMemory(req.key, req.address, req.length, req.space);
      case 'writeMemory': return session.writeMemory(req.key, req.address, req.bytes, req.space);
      case 'translate': return session.translate(req.key, req.address);
      case 'locate': return session.locate(req.key, req.address, req.space);
      case 'disassemble': return session.disassemble(req.key, req.address, req.count);
      case 'stats': return session.stats(req.key);
      case 'status': return session.status(req.key);
      case 'disks': return session.disks(req.key);
      case 'setDisks': return session.setDisks(req.key, req.disks);
      case 'readSector': return session.readSector(req.key, req.index, req.sector);
      case 'closeDisks': return session.closeAllDisks() ?? null;
      case 'inspect': return session.inspect(req.key, req.request);
      case 'saveSnapshot': return session.saveSnapshot(req.key, req.target);
      case 'gdb': return session.gdb(req.key, req.enabled, req.port);
      case 'migrate': return session.migrate(req.key, req.options);
      case 'restore': return session.restore(req.key, req.name, req.mode, req.placement, req.snapshot, req.cpu, req.disks, req.boot);
    }
  };
}

const kind = (workerData as { kind?: string } | undefined)?.kind;

if (kind === 'compare') {
  // A compare worker answers the one job it is given, then the service terminates it.
  port.once('message', compareWorker((reply) => port.postMessage(reply)));
} else {
  const dispatch = (kind === 'vmm' ? vmmWorker() : machineWorker()) as (req: { seq: number }) => unknown;
  // A command may answer later (the gdb switch waits for its port): its reply goes when it settles.
  port.on('message', async (req: { seq: number }) => {
    try {
      post({ t: 'reply', seq: req.seq, ok: true, value: await dispatch(req) });
    } catch (err) {
      const code = err instanceof LabError ? err.code : err instanceof ElfError || err instanceof OutOfFrames || err instanceof InspectError || err instanceof SnapshotError ? 'bad-request' : 'bad-state';
      post({ t: 'reply', seq: req.seq, ok: false, error: { code, message: err instanceof Error ? err.message : String(err) } });
    }
  });
}
