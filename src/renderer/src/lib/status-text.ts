// A machine's state in the status bar's words: the state once, with what the host says about it
// only where that adds something (`paused (breakpoint)`, `halted, exit code 0`, `crashed: …`),
// never `paused (paused)` or `waiting (waiting for input (wfi))`; and its speed: the MIPS of the last
// interval while it runs, the last rate it ran at once it does not, else nothing, the state field
// having named the state already (before, every machine that was not running showed `— MIPS`, and
// then one that had no rate showed its state a second time: `halted, exit code 0 … halted`). A bare
// machine's state reads as a VM's (src/shared/state-words.ts): it said `exited with code 0`.

import type { MachineStatus } from '../../../shared/lab-api';
import { haltedText, stateName } from '../../../shared/state-words';

/** The state of a machine (a VM's own state where it has one) with the reason that goes with it. */
export function stateText(s: Pick<MachineStatus, 'state' | 'vmState' | 'reason' | 'exitCode' | 'crashReason'>): string {
  const reason = s.reason;
  switch (stateName(s)) {
    case 'running':
      return 'running';
    case 'paused':
      // The host's reason says why (breakpoint, step, reached, reset, loaded) unless it is the state again.
      return reason === undefined || reason === 'paused' ? 'paused' : `paused (${reason})`;
    case 'waiting':
      return 'waiting for input (wfi)';
    case 'halted':
      return haltedText(s.exitCode);
    case 'stopped':
      return 'stopped (powered off)';
    case 'crashed':
      return `crashed: ${s.crashReason ?? reason ?? 'no reason given'}`;
    case 'error':
      return reason === undefined ? 'error' : `error: ${reason}`;
  }
}

/**
 * The status bar's speed: the host's MIPS over its last interval while the machine runs (`measuring
 * MIPS` before the first interval ends); otherwise `last N MIPS`, the rate it ran at before it
 * stopped, when one was measured (`lastMips` > 0), else undefined: a run shorter than one interval
 * has no rate, and the state (`paused`, `halted`, …) is stateText's to say.
 */
export function rateText(s: Pick<MachineStatus, 'state' | 'mips'>, lastMips: number): string | undefined {
  // The host's first figure comes one interval after the start; until then there is none to show.
  if (s.state === 'running') return s.mips > 0 ? `${s.mips.toFixed(1)} MIPS` : 'measuring MIPS';
  return lastMips > 0 ? `last ${lastMips.toFixed(1)} MIPS` : undefined;
}
