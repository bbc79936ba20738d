// `vmlab run --record FILE` and `vmlab run --replay FILE`: what the run loop keeps of a run (its
// console output, for the end check) and how the end of a recorded run is written and the end of a
// replay is judged. The formats live in host/replay/ (docs/replay.md).

import { createHash } from 'node:crypto';
import { base64, readRecordFile, writeRecordFile, type Recording, type RecordEnd } from '../host/replay/record-file';
import type { InputTimeline } from '../host/replay/input-timeline';

/** How a run ended, as the run loop knows it. */
export interface RunEnd {
  steps: number;
  instret: number;
  stopReason: string;
  exitStatus: number;
  /** `stateDigest` of the guest's state at the end. */
  stateSha256: string;
}

/** The console output of a recorded or replayed run, and what to do at its end. */
export class RunJournal {
  private readonly output = createHash('sha256');
  private outputBytes = 0;

  private constructor(readonly kind: 'record' | 'replay', readonly file: string, readonly recording?: Recording) {}

  /** A run that records into `file`. */
  static record(file: string): RunJournal {
    return new RunJournal('record', file);
  }

  /** A run that replays `file` (read and checked now; throws one line when it cannot be used). */
  static replay(file: string): RunJournal {
    return new RunJournal('replay', file, readRecordFile(file));
  }

  /** Console output the guest wrote (as shown: a rewound guest's repeated output is not shown twice). */
  noteOutput(bytes: readonly number[]): void {
    this.output.update(Uint8Array.from(bytes));
    this.outputBytes += bytes.length;
  }

  /** Writes the recording: the start state, the input the guest received, and how the run ended. */
  writeRecording(startedFrom: string, mode: string, start: Uint8Array, timeline: InputTimeline, end: RunEnd): void {
    const recorded: RecordEnd = {
      steps: end.steps, instret: end.instret, stopReason: end.stopReason, exitStatus: end.exitStatus,
      outputBytes: this.outputBytes, outputSha256: this.output.copy().digest('hex'), stateSha256: end.stateSha256,
    };
    const inputs = timeline.events.slice(0, timeline.next).map((e) => ({ at: e.at, data: base64(e.bytes) }));
    writeRecordFile(this.file, { created: new Date().toISOString(), startedFrom, mode, inputs, end: recorded }, start);
  }

  /** Compares a replay's end with the recording's: undefined when equal, else one line saying what differs. */
  divergence(end: Omit<RunEnd, 'stopReason' | 'exitStatus'>): string | undefined {
    const want = this.recording!.header.end;
    const got = { outputBytes: this.outputBytes, outputSha256: this.output.copy().digest('hex') };
    if (end.steps !== want.steps) return `the replay ended after ${end.steps} steps, the recording after ${want.steps}`;
    if (end.instret !== want.instret) return `the replay retired ${end.instret} instructions, the recording ${want.instret}`;
    if (got.outputBytes !== want.outputBytes || got.outputSha256 !== want.outputSha256) {
      return `the console output differs (${got.outputBytes} bytes, the recording's ${want.outputBytes})`;
    }
    const state = end.stateSha256;
    if (state !== want.stateSha256) return `the end state differs (SHA-256 ${state.slice(0, 16)}..., the recording's ${want.stateSha256.slice(0, 16)}...)`;
    return undefined;
  }
}
