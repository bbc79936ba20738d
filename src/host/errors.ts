// Errors that cross the LabApi: a code the renderer can act on and a message a student can read.

import type { LabErrorCode, LabErrorInfo } from '../shared/lab-api';

/** An expected failure of a request (bad input, missing file, wrong state). */
export class LabError extends Error {
  constructor(readonly code: LabErrorCode, message: string) {
    super(message);
    this.name = 'LabError';
  }
}

/** The wire form of any thrown value; unexpected errors become 'failed'. */
export function toErrorInfo(err: unknown): LabErrorInfo {
  if (err instanceof LabError) return { code: err.code, message: err.message };
  return { code: 'failed', message: err instanceof Error ? err.message : String(err) };
}
