// How the CLI fails and ends: exit codes of its own, errors already reported, a closed stdout.

/** Exit code for bad input (usage, unreadable or malformed files). */
export const EXIT_BAD_INPUT = 2;

/** An error whose explanation is already on stderr (the assembler's diagnostics): exit quietly. */
export class ReportedError extends Error {
  constructor(readonly exitCode = EXIT_BAD_INPUT) {
    super('reported');
  }
}

let stdoutClosed = false;

/** Whether stdout's reader went away (a closed pipe, `vmlab run ... | head -c 100`). */
export function isStdoutClosed(): boolean {
  return stdoutClosed;
}

/**
 * A closed stdout (EPIPE) is an ordinary way for a run to end, not a crash: note it and stop
 * writing; `run` ends the guest quietly with its disks flushed.
 */
export function watchStdout(): void {
  if (process.stdout.listenerCount('error') > 0) return;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') process.stderr.write(`vmlab: cannot write to stdout: ${err.message}\n`);
    stdoutClosed = true;
  });
}
