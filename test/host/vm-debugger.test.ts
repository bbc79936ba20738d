// The debugger on VMs (VmmSession): breakpoints pause one VM with the reason, run-to stops at its
// address, step over runs a call to its return as a bare machine's debugger does, and the temporary
// breakpoint of a run-to is gone once it stopped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { MachineSession } from '../../src/host/machine-session';
import { VmmSession } from '../../src/host/vmm-session';
import { REPO_ROOT } from '../support/build';

const traps = assemble(readFileSync(join(REPO_ROOT, 'labs', 'traps', 'traps.S'), 'latin1'), { file: 'traps.S' });
const symbol = (name: string): number => traps.symbols.find((s) => s.name === name)!.address;
/** The first `call puts` of the S-mode kernel (auipc ra, then jalr ra). */
const CALL = traps.lineMap.find((e) => e.address >= symbol('s_kernel') && /call\s+puts/.test(readFileSync(join(REPO_ROOT, 'labs', 'traps', 'traps.S'), 'latin1').split('\n')[e.line - 1]))!.address;

/** A VMM session whose slices run only when the test pumps them. */
function vmmSession(): { s: VmmSession; settle: () => void; out: () => string } {
  const queue: (() => void)[] = [];
  let out = '';
  const s = new VmmSession({ uart: (_k, d) => (out += new TextDecoder().decode(d)), status: () => {} }, () => performance.now(), (fn) => queue.push(fn), { hostRamSize: 64 << 20 });
  const settle = (): void => {
    for (let i = 0; i < 1000 && queue.length > 0; i++) queue.shift()!();
  };
  return { s, settle, out: () => out };
}

/** The same on a bare machine: the reference. */
function bareSession(): { b: MachineSession; settle: () => void } {
  const queue: (() => void)[] = [];
  const b = new MachineSession({ uart: () => {}, status: () => {} }, () => performance.now(), (fn) => queue.push(fn));
  b.load(traps.elf!, 16 << 20, undefined);
  const settle = (): void => {
    for (let i = 0; i < 1000 && queue.length > 0; i++) queue.shift()!();
  };
  return { b, settle };
}

describe.each(['emulate', 'trap', 'bt'] as const)('the debugger on a %s VM', (mode) => {
  it('runs to an address, steps over a call and stops at breakpoints with the registers of a bare machine', () => {
    const { s, settle, out } = vmmSession();
    const { b, settle: bareSettle } = bareSession();
    s.create('v', 'traps', mode, 16 << 20, 'scattered', traps.elf!, undefined);

    let st = s.runTo('v', CALL);
    settle();
    st = s.status('v');
    b.runTo(CALL);
    bareSettle();
    expect([st.vmState, st.reason, st.pc]).toEqual(['paused', 'reached', CALL]);
    expect(s.registers('v').x).toEqual(b.registers().x);

    // Step over the call's jalr: puts prints the kernel's first line and returns to the next instruction.
    expect(s.stepOver('v').reason).toBe('step');
    b.stepOver();
    const before = out();
    s.stepOver('v');
    settle();
    b.stepOver();
    bareSettle();
    st = s.status('v');
    expect([st.vmState, st.reason, st.pc]).toEqual(['paused', 'reached', CALL + 8]);
    expect(out().length).toBeGreaterThan(before.length);
    expect(s.registers('v').x).toEqual(b.registers().x);

    // A plain instruction steps one; a breakpoint pauses with its reason.
    st = s.stepOver('v');
    expect([st.reason, st.pc]).toEqual(['step', b.stepOver().pc]);
    s.setBreakpoints('v', [symbol('s_trap')]);
    b.setBreakpoints([symbol('s_trap')]);
    s.run('v');
    settle();
    b.run();
    bareSettle();
    st = s.status('v');
    expect([st.vmState, st.reason, st.pc]).toEqual(['paused', 'breakpoint', symbol('s_trap')]);
    expect(s.registers('v').x).toEqual(b.registers().x);

    // The run-to's temporary breakpoint is gone: without breakpoints the guest runs to its end.
    s.setBreakpoints('v', []);
    s.run('v');
    settle();
    expect(s.status('v').vmState).toBe('halted');
    expect(out()).toBe(readFileSync(join(REPO_ROOT, 'labs', 'traps', 'expected-output.txt'), 'latin1'));
  });

  it('keeps its breakpoints when new disks rebuild its board', () => {
    const { s, settle } = vmmSession();
    s.create('v', 'traps', mode, 16 << 20, 'contiguous', traps.elf!, undefined);
    s.setBreakpoints('v', [symbol('s_trap')]);
    s.setDisks('v', []);
    s.run('v');
    settle();
    expect([s.status('v').reason, s.status('v').pc]).toEqual(['breakpoint', symbol('s_trap')]);
  });

  it('refuses to step over or run to while the VM runs', () => {
    const { s } = vmmSession();
    s.create('v', 'traps', mode, 16 << 20, 'contiguous', traps.elf!, undefined);
    s.run('v');
    expect(() => s.stepOver('v')).toThrow('cannot step in VM traps while it runs: pause it first');
    expect(() => s.runTo('v', CALL)).toThrow('cannot run to an address in VM traps while it runs: pause it first');
  });
});
