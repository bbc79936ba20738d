// The debugger on VMs (VmmSession): breakpoints pause one VM with the reason, run-to stops at its
// address, step over runs a call to its return as a bare machine's debugger does, and the temporary
// breakpoint of a run-to is gone once it stopped: in emulate, trap, bt and hw against a bare
// machine, in pv (a kernel only pv runs) against the engine's own run of the same VM.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { MachineSession } from '../../src/host/machine-session';
import { VmmSession } from '../../src/host/vmm-session';
import { REPO_ROOT } from '../support/build';
import { SBI_KERNEL_ADDRESS } from '../../src/engine/machine/boot';
import { Vmm } from '../../src/engine/vmm/vmm';

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

describe.each(['emulate', 'trap', 'bt', 'hw'] as const)('the debugger on a %s VM', (mode) => {
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

describe('the debugger on a pv VM', () => {
  const pvSource = readFileSync(join(REPO_ROOT, 'labs', 'traps', 'traps-pv.S'), 'latin1');
  const pv = assemble(pvSource, { file: 'traps-pv.S', base: SBI_KERNEL_ADDRESS });
  const pvSymbol = (name: string): number => pv.symbols.find((s) => s.name === name)!.address;
  const pvCall = pv.lineMap.find((e) => e.address >= pvSymbol('s_kernel') && /call\s+puts/.test(pvSource.split('\n')[e.line - 1]))!.address;
  /** The registers of the same VM run by the engine alone (no breakpoint) until its clock reaches `steps`. */
  const engineAt = (steps: number): number[] => {
    const vmm = new Vmm({ hostRamSize: 64 << 20 });
    const vm = vmm.createVm({ name: 'ref', mode: 'pv', kernel: pv.elf!, memSize: 16 << 20, sbi: true });
    while (vm.machine.clockSteps < steps && vm.state === 'running') vmm.runVm(vm, steps - vm.machine.clockSteps);
    vmm.unload();
    return Array.from(vm.vhart.x, (v) => v >>> 0);
  };

  it('runs to an address, steps over a call and stops at breakpoints in S and U code with the registers of the engine\'s own run', () => {
    const { s, settle, out } = vmmSession();
    s.create('v', 'traps-pv', 'pv', 16 << 20, 'contiguous', pv.elf!, undefined, [], { sbi: true });
    const clock = (): number => s.vmm.vms[0].machine.clockSteps;
    s.runTo('v', pvCall);
    settle();
    let st = s.status('v');
    expect([st.vmState, st.reason, st.pc]).toEqual(['paused', 'reached', pvCall]);
    expect(s.registers('v').x).toEqual(engineAt(clock()));

    s.stepOver('v');
    const before = out();
    s.stepOver('v');
    settle();
    st = s.status('v');
    expect([st.vmState, st.reason, st.pc]).toEqual(['paused', 'reached', pvCall + 8]);
    expect(out().length).toBeGreaterThan(before.length);
    expect(s.registers('v').x).toEqual(engineAt(clock()));

    for (const [name, priv] of [['user_main', 0], ['s_trap', 1]] as const) {
      s.setBreakpoints('v', [pvSymbol(name)]);
      s.run('v');
      settle();
      st = s.status('v');
      expect([st.vmState, st.reason, st.pc, st.priv], name).toEqual(['paused', 'breakpoint', pvSymbol(name), priv]);
      expect(s.registers('v').x, name).toEqual(engineAt(clock()));
    }
    expect(s.step('v', 3).reason).toBe('step');
    expect(s.registers('v').x).toEqual(engineAt(clock()));

    s.setBreakpoints('v', []);
    s.run('v');
    settle();
    expect(s.status('v').vmState).toBe('halted');
    expect(out()).toBe(readFileSync(join(REPO_ROOT, 'labs', 'traps', 'expected-output.txt'), 'latin1').replace(/^\[M\] .*\n/gm, ''));
  });
});
