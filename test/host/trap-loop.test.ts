// A bare machine whose hart only takes traps (a jump to 0 with mtvec 0: the fetch fault's handler
// is the faulting address) used to show 'running' at 0.0 MIPS forever in the app. The session
// pauses it by `vmlab run`'s rule (engine/vmm/stuck.ts): a window of STUCK_WINDOW steps of the
// guest's clock in which nothing retired, outside WFI. Where it pauses does not depend on the
// host's speed; a guest that traps often but retires between the traps, a spinning loop and a hart
// waiting for a far timer run on.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { DEFAULT_STEPS_PER_TICK } from '../../src/engine/machine/machine';
import { STUCK_WINDOW } from '../../src/engine/vmm/stuck';
import { MachineSession } from '../../src/host/machine-session';
import type { WorkerStatus } from '../../src/host/worker-protocol';

/**
 * A session on `source` whose clock moves `msPerReading` per reading (a slow host runs few steps
 * per slice, a fast one many) and whose slices run when pumped.
 */
function session(source: string, msPerReading: number) {
  const r = assemble(source, { file: 't.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  let t = 0;
  const queue: (() => void)[] = [];
  let last: WorkerStatus | undefined;
  const s = new MachineSession({ uart: () => {}, status: (st) => (last = st) }, () => (t += msPerReading), (fn) => queue.push(fn));
  s.load(r.elf, 1 << 20, undefined);
  const csr = (name: string): number => s.registers().csrs.find((c) => c.name === name)!.value;
  /** Runs slices until `done` holds between two of them or the machine stops running; the last status. */
  const pump = (done: () => boolean = () => false): WorkerStatus => {
    while (queue.length > 0 && !done()) queue.shift()!();
    return last!;
  };
  return { s, pump, csr };
}

const trapLoop = '        .globl _start\n_start:\n        li t0, 0\n        jr t0\n';

describe('trap loop on a bare machine', () => {
  it('pauses a hart that only traps at the same step on a slow host and a fast one, naming mcause, mepc and mtvec', () => {
    for (const msPerReading of [5, 0.01]) {
      const { s, pump, csr } = session(trapLoop, msPerReading);
      s.run();
      // Two instructions retire in the first window, then every step is an instruction access fault
      // (1) at 0, whose handler is 0: the second window is the first without progress.
      const st = pump();
      expect(st.state).toBe('paused');
      expect(st.reason).toBe('no instruction completed in 4000000 steps: the guest is stuck in a loop of traps at pc 0x0; mcause 1, mepc 0x0, mtvec 0x0');
      // Where `vmlab run` ends the same guest (test/cli/run-ends.test.ts): the end of the second window.
      expect(csr('mcycle')).toBe(2 * STUCK_WINDOW);
      expect(st.instret).toBe(8); // the boot ROM's six and the guest's two
      expect(s.registers().pc).toBe(0);
    }
  });

  it('pauses it again a window later when the user runs it on', () => {
    const { s, pump, csr } = session(trapLoop, 0.01);
    s.run();
    expect(pump().state).toBe('paused');
    s.run();
    const again = pump();
    expect(again.state).toBe('paused');
    expect(again.reason).toBe('no instruction completed in 8000000 steps: the guest is stuck in a loop of traps at pc 0x0; mcause 1, mepc 0x0, mtvec 0x0');
    expect(csr('mcycle')).toBe(3 * STUCK_WINDOW);
  });

  it('lets a guest that traps often but retires between the traps run on, and end', () => {
    // An ecall every 16 steps through 9 M steps: 140,000 traps in the second window.
    const busy = session([
      '        .globl _start', '_start:', '        la t0, handler', '        csrw mtvec, t0', '        li s0, 560000',
      '1:      ecall', '        li s1, 4', '2:      addi s1, s1, -1', '        bnez s1, 2b', '        addi s0, s0, -1', '        bnez s0, 1b',
      '        li t0, 0x100000', '        li t1, 0x5555', '        sw t1, 0(t0)', '3:      j 3b',
      '        .balign 4', 'handler:', '        csrr t2, mepc', '        addi t2, t2, 4', '        csrw mepc, t2', '        mret', '',
    ].join('\n'), 0.01);
    busy.s.run();
    const st = busy.pump();
    expect(st.state).toBe('exited');
    expect(st.exitCode).toBe(0);
    expect(busy.csr('mcycle')).toBeGreaterThan(2 * STUCK_WINDOW);
  });

  it('lets a spinning loop and a hart waiting for a far timer run on', () => {
    const spin = session('        .globl _start\n_start:\n        addi a0, a0, 1\n        j _start\n', 0.01);
    spin.s.run();
    expect(spin.pump(() => spin.csr('mcycle') >= 3 * STUCK_WINDOW).state).toBe('running');
    // WFI with the machine timer enabled and far away (2^30 ticks; all ones would be none, and the
    // machine idle until input): steps pass, nothing retires, no trap.
    const timer = session([
      '        .globl _start', '_start:', '        li t0, 0x2004000', '        li t1, 0x40000000', '        sw t1, 0(t0)', '        sw zero, 4(t0)',
      '        li t0, 0x80', '        csrs mie, t0', '1:      wfi', '        j 1b', '',
    ].join('\n'), 0.01);
    timer.s.run();
    const clock = (): number => timer.csr('time') * DEFAULT_STEPS_PER_TICK;
    const asleep = timer.pump(() => clock() >= STUCK_WINDOW).instret;
    const waited = timer.pump(() => clock() >= 4 * STUCK_WINDOW);
    expect(waited.state).toBe('running');
    expect(waited.instret).toBe(asleep);
  });
});
