// Breakpoints in VMs: an emulate-mode VM's virtual hart and a trap-mode VM on the physical hart stop
// in front of the same guest-virtual pcs as a bare machine, with the same registers, as often, and
// the guest's output is unchanged; a VM without breakpoints beside them runs through.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';

const traps = assemble(readFileSync(join(REPO_ROOT, 'labs', 'traps', 'traps.S'), 'latin1'), { file: 'traps.S' });
const address = (name: string): number => traps.symbols.find((s) => s.name === name)!.address;
/** U-mode code (entered once), the S-mode trap entry (each ecall) and a function the kernel calls often. */
const BREAKPOINTS = ['user_main', 's_trap', 'putdec'].map(address);

interface Stop { pc: number; x: number[] }

/** The reference: a bare machine stopping at BREAKPOINTS until the guest exits. */
function bareStops(): { stops: Stop[]; output: string } {
  const out: number[] = [];
  const m = new Machine({ ramSize: 16 << 20, onUart: (b) => out.push(b) });
  m.loadKernel(traps.elf!);
  for (const a of BREAKPOINTS) m.hart.breakpoints.add(a);
  const stops: Stop[] = [];
  for (let i = 0; i < 10_000 && m.exitCode === undefined; i++) {
    if (m.run(1_000_000) === StopReason.BREAKPOINT) stops.push({ pc: m.hart.pcU, x: Array.from(m.hart.x) });
  }
  return { stops, output: Buffer.from(out).toString('latin1') };
}

describe.each(['emulate', 'trap'] as const)('breakpoints in %s mode', (mode) => {
  it('stop where and as often as on a bare machine, with its registers, while a neighbour runs on', () => {
    const bare = bareStops();
    expect(bare.stops.length).toBeGreaterThan(10);
    const vmm = new Vmm({ hostRamSize: 64 << 20, quantum: 5000 });
    const out: number[] = [];
    const vm = vmm.createVm({ name: 'debugged', mode, kernel: traps.elf!, onUart: (b) => out.push(b) });
    const other = [] as number[];
    const neighbour = vmm.createVm({ name: 'neighbour', mode: 'trap', kernel: traps.elf!, onUart: (b) => other.push(b) });
    vmm.setBreakpoints(vm, BREAKPOINTS);
    const stops: Stop[] = [];
    for (let i = 0; i < 10_000 && vm.state !== 'halted' && vm.state !== 'crashed'; i++) {
      vmm.run(50_000);
      if (vm.state === 'paused') {
        expect(vm.atBreakpoint).toBe(true);
        stops.push({ pc: vm.vhart.pcU, x: Array.from(vm.vhart.x) });
        vm.resume();
      }
    }
    expect(vm.crashReason).toBeUndefined();
    expect(stops).toEqual(bare.stops);
    expect(Buffer.from(out).toString('latin1')).toBe(bare.output);
    for (let i = 0; i < 100 && vmm.active; i++) vmm.run(1_000_000);
    expect(neighbour.state).toBe('halted');
    expect(Buffer.from(other).toString('latin1')).toBe(bare.output);
  });

  it('pause in front of a breakpoint at the pc they start from, and pass it once resumed', () => {
    const vmm = new Vmm({ hostRamSize: 64 << 20 });
    const vm = vmm.createVm({ name: 'g', mode, kernel: traps.elf! });
    vmm.setBreakpoints(vm, [address('s_trap')]);
    for (let i = 0; i < 100 && vm.state === 'running'; i++) vmm.run(100_000);
    expect([vm.state, vm.atBreakpoint, vm.vhart.pcU]).toEqual(['paused', true, address('s_trap')]);
    const instret = vm.vhart.instret;
    // Running without a resume stays in front of it.
    vm.state = 'running';
    vmm.runVm(vm, 1000);
    expect([vm.state, vm.vhart.instret]).toEqual(['paused', instret]);
    // Resumed, the instruction there executes and the next ecall stops there again.
    vm.resume();
    for (let i = 0; i < 100 && vm.state === 'running'; i++) vmm.run(100_000);
    expect([vm.state, vm.vhart.pcU]).toEqual(['paused', address('s_trap')]);
    expect(vm.vhart.instret).toBeGreaterThan(instret);
    // Without breakpoints it runs to the end.
    vmm.setBreakpoints(vm, []);
    vm.resume();
    for (let i = 0; i < 100 && vmm.active; i++) vmm.run(1_000_000);
    expect(vm.state).toBe('halted');
  });
});
