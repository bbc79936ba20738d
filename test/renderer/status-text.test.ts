// The status bar's words for each state the host reports: the state once, with a reason only where
// it says more than the state (the issue's `paused (paused)` and `waiting (waiting for input (wfi))`).
import { describe, expect, it } from 'vitest';
import { rateText, stateText } from '../../src/renderer/src/lib/status-text';
import { haltedText, stateName } from '../../src/shared/state-words';

describe('stateText', () => {
  it.each([
    [{ state: 'paused', vmState: 'paused', reason: 'paused' }, 'paused'],
    [{ state: 'idle', vmState: 'waiting', reason: 'waiting for input (wfi)' }, 'waiting for input (wfi)'],
    [{ state: 'idle', reason: 'waiting for input (wfi)' }, 'waiting for input (wfi)'],
    [{ state: 'running' }, 'running'],
    [{ state: 'paused', reason: 'breakpoint' }, 'paused (breakpoint)'],
    [{ state: 'paused', vmState: 'paused', reason: 'reset' }, 'paused (reset)'],
    [{ state: 'paused', vmState: 'paused' }, 'paused'],
    [{ state: 'exited', reason: 'halted, exit code 3', exitCode: 3 }, 'halted, exit code 3'],
    [{ state: 'exited', vmState: 'halted', reason: 'halted, exit code 0', exitCode: 0 }, 'halted, exit code 0'],
    [{ state: 'exited', vmState: 'stopped', reason: 'stopped' }, 'stopped (powered off)'],
    [{ state: 'error', vmState: 'crashed', reason: 'store access fault', crashReason: 'store access fault' }, 'crashed: store access fault'],
    [{ state: 'error', reason: 'engine failure: boom' }, 'error: engine failure: boom'],
  ] as const)('%j reads "%s"', (status, text) => {
    expect(stateText(status)).toBe(text);
  });

  // A bare machine's worker says exited and idle where the VMM says halted and waiting: the same
  // event reads the same (the status bar said `exited with code 0` for one, `halted, exit code 0` for the other).
  it.each([
    [{ state: 'exited', reason: haltedText(0), exitCode: 0 }, { state: 'exited', vmState: 'halted', reason: haltedText(0), exitCode: 0 }, 'halted'],
    [{ state: 'exited', reason: haltedText(7), exitCode: 7 }, { state: 'exited', vmState: 'halted', reason: haltedText(7), exitCode: 7 }, 'halted'],
    [{ state: 'idle', reason: 'waiting for input (wfi)' }, { state: 'idle', vmState: 'waiting', reason: 'waiting for input (wfi)' }, 'waiting'],
    [{ state: 'paused', reason: 'breakpoint' }, { state: 'paused', vmState: 'paused', reason: 'breakpoint' }, 'paused'],
    [{ state: 'running' }, { state: 'running', vmState: 'running' }, 'running'],
  ] as const)('a bare machine %j reads as the VM %j (%s)', (bare, vm, name) => {
    expect(stateText(bare)).toBe(stateText(vm));
    expect(stateName(bare)).toBe(name);
    expect(stateName(vm)).toBe(name);
  });

  it('says an exit code one way', () => {
    expect(haltedText(0)).toBe('halted, exit code 0');
    expect(haltedText(undefined)).toBe('halted');
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
  ] as const)('%j, last rate %d, reads "%s"', (status, last, text) => {
    expect(rateText(status, last)).toBe(text);
  });

  // The state field names the state already: a second word for it read "halted, exit code 0 … halted".
  it.each([
    [{ state: 'paused', vmState: 'paused', reason: 'reset', mips: 0 }],
    [{ state: 'paused', reason: 'loaded', mips: 0 }],
    [{ state: 'idle', reason: 'waiting for input (wfi)', mips: 0 }],
    [{ state: 'idle', vmState: 'waiting', mips: 0 }],
    [{ state: 'exited', vmState: 'halted', reason: 'halted, exit code 0', exitCode: 0, mips: 0 }],
    [{ state: 'exited', reason: 'halted, exit code 3', exitCode: 3, mips: 0 }],
    [{ state: 'exited', vmState: 'stopped', reason: 'stopped', mips: 0 }],
    [{ state: 'error', vmState: 'crashed', crashReason: 'store access fault', mips: 0 }],
    [{ state: 'error', reason: 'engine failure: boom', mips: 0 }],
  ] as const)('%j with no rate measured: no rate, and the state said once', (status) => {
    expect(rateText(status, 0)).toBeUndefined();
    const bar = [stateText(status), rateText(status, 0)].filter((t) => t !== undefined).join(' ');
    const word = /^\w+/.exec(bar)![0];
    expect(bar.split(/\W+/).filter((w) => w === word)).toHaveLength(1);
  });

  it('never reads "— MIPS" or a figure of no measurement', () => {
    for (const state of ['paused', 'idle', 'exited', 'error'] as const) {
      expect(rateText({ state, mips: 0 }, 0) ?? '').not.toMatch(/—|MIPS/);
    }
  });
});
