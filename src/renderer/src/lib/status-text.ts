// A machine's state in the status bar's words: the state once, with what the host says about it
// only where that adds something (`paused (breakpoint)`, `halted, exit code 0`, `crashed: …`),
// never `paused (paused)` or `waiting (waiting for input (wfi))`.

import type { MachineStatus } from '../../../shared/lab-api';

/** The state of a machine (a VM's own state where it has one) with the reason that goes with it. */
export function stateText(s: Pick<MachineStatus, 'state' | 'vmState' | 'reason' | 'exitCode' | 'crashReason'>): string {
  const state = s.vmState ?? s.state;
  const reason = s.reason;
  switch (state) {
    case 'running':
      return 'running';
    case 'paused':
      // The host's reason says why (breakpoint, step, reached, reset, loaded) unless it is the state again.
      return reason === undefined || reason === 'paused' ? 'paused' : `paused (${reason})`;
    case 'idle':
    case 'waiting':
      return 'waiting for input (wfi)';
    case 'exited':
      return s.exitCode === undefined ? reason ?? 'exited' : `exited with code ${s.exitCode}`;
    case 'halted':
      return s.exitCode === undefined ? 'halted' : `halted, exit code ${s.exitCode}`;
    case 'stopped':
      return 'stopped (powered off)';
    case 'crashed':
      return `crashed: ${s.crashReason ?? reason ?? 'no reason given'}`;
    case 'error':
      return reason === undefined ? 'error' : `error: ${reason}`;
  }
}
