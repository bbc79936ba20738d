// The status bar's words for each state the host reports: the state once, with a reason only where
// it says more than the state (the issue's `paused (paused)` and `waiting (waiting for input (wfi))`).
import { describe, expect, it } from 'vitest';
import { stateText } from '../../src/renderer/src/lib/status-text';

describe('stateText', () => {
  it.each([
    [{ state: 'paused', vmState: 'paused', reason: 'paused' }, 'paused'],
    [{ state: 'idle', vmState: 'waiting', reason: 'waiting for input (wfi)' }, 'waiting for input (wfi)'],
    [{ state: 'idle', reason: 'waiting for input (wfi)' }, 'waiting for input (wfi)'],
    [{ state: 'running' }, 'running'],
    [{ state: 'paused', reason: 'breakpoint' }, 'paused (breakpoint)'],
    [{ state: 'paused', vmState: 'paused', reason: 'reset' }, 'paused (reset)'],
    [{ state: 'paused', vmState: 'paused' }, 'paused'],
    [{ state: 'exited', reason: 'exited with code 3', exitCode: 3 }, 'exited with code 3'],
    [{ state: 'exited', vmState: 'halted', reason: 'exited with code 0', exitCode: 0 }, 'halted, exit code 0'],
    [{ state: 'exited', vmState: 'stopped', reason: 'stopped' }, 'stopped (powered off)'],
    [{ state: 'error', vmState: 'crashed', reason: 'store access fault', crashReason: 'store access fault' }, 'crashed: store access fault'],
    [{ state: 'error', reason: 'engine failure: boom' }, 'error: engine failure: boom'],
  ] as const)('%j reads "%s"', (status, text) => {
    expect(stateText(status)).toBe(text);
  });

  it('never repeats the state in parentheses', () => {
    for (const [state, vmState] of [['paused', 'paused'], ['idle', 'waiting'], ['exited', 'stopped'], ['exited', 'halted']] as const) {
      const text = stateText({ state, vmState, reason: vmState === 'waiting' ? 'waiting for input (wfi)' : vmState, exitCode: 0 });
      expect(text).not.toMatch(/(\w+) \(\1/);
    }
  });
});
