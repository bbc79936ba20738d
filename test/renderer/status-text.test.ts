// The status bar's words for each state the host reports: the state once, with a reason only where
// it says more than the state (the issue's `paused (paused)` and `waiting (waiting for input (wfi))`).
import { describe, expect, it } from 'vitest';
import { rateText, stateText } from '../../src/renderer/src/lib/status-text';

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

describe('rateText', () => {
  it.each([
    [{ state: 'running', mips: 42.345 }, 0, '42.3 MIPS'],
    [{ state: 'running', mips: 0 }, 0, 'measuring MIPS'],
    [{ state: 'running', mips: 0 }, 30, 'measuring MIPS'],
    [{ state: 'paused', mips: 0 }, 42.345, 'last 42.3 MIPS'],
    [{ state: 'exited', vmState: 'halted', mips: 0 }, 12, 'last 12.0 MIPS'],
    [{ state: 'paused', vmState: 'paused', mips: 0 }, 0, 'paused'],
    [{ state: 'idle', mips: 0 }, 0, 'idle'],
    [{ state: 'idle', vmState: 'waiting', mips: 0 }, 0, 'idle'],
    [{ state: 'exited', vmState: 'halted', mips: 0 }, 0, 'halted'],
    [{ state: 'exited', mips: 0 }, 0, 'exited'],
    [{ state: 'exited', vmState: 'stopped', mips: 0 }, 0, 'stopped'],
    [{ state: 'error', vmState: 'crashed', mips: 0 }, 0, 'crashed'],
  ] as const)('%j, last rate %d, reads "%s"', (status, last, text) => {
    expect(rateText(status, last)).toBe(text);
  });

  it('never reads "— MIPS" or a figure of no measurement', () => {
    for (const state of ['paused', 'idle', 'exited', 'error'] as const) {
      expect(rateText({ state, mips: 0 }, 0)).not.toMatch(/—|MIPS/);
    }
  });
});
