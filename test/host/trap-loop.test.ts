// A bare machine whose hart only takes traps (a jump to 0 with mtvec 0: the fetch fault's handler
// is the faulting address) used to show 'running' at 0.0 MIPS forever in the app. The session now
// pauses it after TRAP_LOOP_MS of traps without a retired instruction, naming the trap CSRs; a
// guest that retires instructions, or one that waits in WFI, runs on.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { MachineSession, TRAP_LOOP_MS } from '../../src/host/machine-session';
import type { WorkerStatus } from '../../src/host/worker-protocol';

/** A session on `source` whose clock moves 5 ms per reading and whose slices run when pumped. */
function session(source: string): { s: MachineSession; pump: (ms: number) => WorkerStatus } {
  const r = assemble(source, { file: 't.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  let t = 0;
  const queue: (() => void)[] = [];
  let last: WorkerStatus | undefined;
  const s = new MachineSession({ uart: () => {}, status: (st) => (last = st) }, () => (t += 5), (fn) => queue.push(fn));
  s.load(r.elf, 1 << 20, undefined);
  const pump = (ms: number): WorkerStatus => {
    const end = t + ms;
    while (t < end && queue.length > 0) queue.shift()!();
    return last!;
  };
  return { s, pump };
}

describe('trap loop on a bare machine', () => {
  it('pauses a hart that only traps, naming mcause, mepc and mtvec', () => {
    const { s, pump } = session('        .globl _start\n_start:\n        li t0, 0\n        jr t0\n');
    s.run();
    // Two instructions retire, then every step is an instruction access fault (1) at 0, whose handler is 0.
    expect(pump(TRAP_LOOP_MS / 2).state).toBe('running');
    const st = pump(TRAP_LOOP_MS * 2);
    expect(st.state).toBe('paused');
    expect(st.reason).toBe('trap loop: for 1 s every step trapped and none retired (mcause 1, mepc 0x0, mtvec 0x0)');
    expect(s.registers().pc).toBe(0);
    // Run again: it is paused again after the same time, not at once.
    s.run();
    expect(pump(TRAP_LOOP_MS / 2).state).toBe('running');
    expect(pump(TRAP_LOOP_MS * 2).state).toBe('paused');
  });

  it('lets a spinning loop and a hart waiting for a far timer run on', () => {
    const spin = session('        .globl _start\n_start:\n        addi a0, a0, 1\n        j _start\n');
    spin.s.run();
    expect(spin.pump(TRAP_LOOP_MS * 3).state).toBe('running');
    // WFI with the machine timer enabled and far away: steps pass, nothing retires, no trap.
    const timer = session([
      '        .globl _start', '_start:', '        li t0, 0x2004000', '        li t1, -1', '        sw t1, 0(t0)', '        sw t1, 4(t0)',
      '        li t0, 0x80', '        csrs mie, t0', '1:      wfi', '        j 1b', '',
    ].join('\n'));
    timer.s.run();
    expect(timer.pump(TRAP_LOOP_MS * 3).state).not.toBe('paused');
  });
});
