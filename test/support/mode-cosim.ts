// Co-simulation of two VMM techniques on one guest (docs/vmm.md, "Comparing the modes"): the guest
// runs in a VM of the technique under test (bt or trap) and, in a VMM of its own, in an emulate-mode
// VM, the reference (the VMM interprets every instruction on the virtual hart). At every exit of the
// technique under test (each exception of the physical hart: emulated instructions, reflected traps,
// shadow fills, device accesses) and, in bt, at every callout, its guest-visible state (pc, x1..x31,
// virtual privilege, the virtual CSRs, retired instructions and the guest's clock) is taken before
// the VMM handles it; the emulate VM is run to exactly the same step of the guest's clock and its
// virtual hart must hold the same state. The run ends with the same comparison after the guest's
// exit, and the same console output and exit code.

import { CSR_BY_NUM } from '../../src/engine/cpu/csr';
import type { CpuFeatures } from '../../src/engine/cpu/hart';
import { BtVcpu } from '../../src/engine/vmm/bt/bt-vcpu';
import { CALLOUT_NAMES } from '../../src/engine/vmm/bt/translate';
import type { DiskAttachment } from '../../src/engine/machine/board';
import type { Vm } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { TrapVcpu } from '../../src/engine/vmm/trap/trap-vcpu';

/** Virtual CSRs compared (privileged spec names and numbers). */
export const COSIM_CSRS: Readonly<Record<string, number>> = {
  mstatus: 0x300, misa: 0x301, medeleg: 0x302, mideleg: 0x303, mie: 0x304, mtvec: 0x305, mcounteren: 0x306,
  mscratch: 0x340, mepc: 0x341, mcause: 0x342, mtval: 0x343, mip: 0x344, pmpcfg0: 0x3a0, pmpaddr0: 0x3b0,
  stvec: 0x105, scounteren: 0x106, sscratch: 0x140, sepc: 0x141, scause: 0x142, stval: 0x143, satp: 0x180,
};

/** What the guest sees of its hart at one point. */
export interface GuestState {
  /** The guest's clock: steps (instructions and traps) done before this point. */
  clock: number;
  instret: number;
  pc: number;
  priv: number;
  x: number[];
  csr: Record<string, number>;
}

/** A co-simulation's outcome. */
export interface CosimResult {
  /** Points compared (exits and callouts, and the end). */
  points: number;
  /** Points by kind ('exit 2', 'callout csr', 'end', ...). */
  kinds: Record<string, number>;
  /** The first point where the states differ, in words (undefined: none). */
  firstDifference?: string;
  output: string;
  exitCode: number | null;
  referenceOutput: string;
  referenceExitCode: number | null;
  state: string;
  crashReason?: string;
}

/** How the guest is run. */
export interface CosimOptions {
  memSize: number;
  cpu?: Partial<CpuFeatures>;
  input?: Uint8Array;
  /** Disks for each VM (each gets its own copy from `disks()`). */
  disks?: () => DiskAttachment[];
  /** Steps of the guest's clock at most. */
  maxSteps?: number;
}

function stateOf(vm: Vm, clock: number, pc: number, x: ArrayLike<number>): GuestState {
  const vh = vm.vhart;
  const csr: Record<string, number> = {};
  for (const [name, num] of Object.entries(COSIM_CSRS)) csr[name] = (CSR_BY_NUM[num]?.read(vh) ?? 0) >>> 0;
  return { clock, instret: vh.instretNow(), pc: pc >>> 0, priv: vh.priv, x: Array.from(x, (v) => v >>> 0), csr };
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** The fields that differ, in words. */
export function stateDifferences(test: GuestState, ref: GuestState): string[] {
  const out: string[] = [];
  if (test.clock !== ref.clock) out.push(`clock: ${test.clock} vs ${ref.clock}`);
  if (test.pc !== ref.pc) out.push(`pc: ${hex(test.pc)} vs ${hex(ref.pc)}`);
  if (test.priv !== ref.priv) out.push(`priv: ${test.priv} vs ${ref.priv}`);
  if (test.instret !== ref.instret) out.push(`instret: ${test.instret} vs ${ref.instret}`);
  for (let r = 1; r < 32; r++) if (test.x[r] !== ref.x[r]) out.push(`x${r}: ${hex(test.x[r])} vs ${hex(ref.x[r])}`);
  for (const name of Object.keys(COSIM_CSRS)) if (test.csr[name] !== ref.csr[name]) out.push(`${name}: ${hex(test.csr[name])} vs ${hex(ref.csr[name])}`);
  return out;
}

/** Runs `kernel` in `mode` against emulate, comparing the guest's state at every exit and callout. */
export function cosimulate(kernel: Uint8Array, mode: 'bt' | 'trap', options: CosimOptions): CosimResult {
  const maxSteps = options.maxSteps ?? 200_000_000;
  const make = (m: 'bt' | 'trap' | 'emulate'): { vmm: Vmm; vm: Vm; out: number[] } => {
    const vmm = new Vmm({ hostRamSize: options.memSize + (64 << 20) });
    const out: number[] = [];
    const vm = vmm.createVm({ name: m, mode: m, kernel, memSize: options.memSize, cpu: options.cpu, disks: options.disks?.(), onUart: (b) => out.push(b) });
    if (options.input) vm.sendInput(options.input);
    return { vmm, vm, out };
  };
  const test = make(mode);
  const ref = make('emulate');
  const result: CosimResult = { points: 0, kinds: {}, output: '', exitCode: null, referenceOutput: '', referenceExitCode: null, state: '' };

  /** Runs the reference to `clock` and compares its state with `s`. */
  const compare = (kind: string, s: GuestState): void => {
    if (result.firstDifference !== undefined) return;
    const m = ref.vm.machine;
    for (let i = 0; m.clockSteps < s.clock && ref.vm.runnable && i < 1000; i++) ref.vmm.runVm(ref.vm, s.clock - m.clockSteps);
    ref.vmm.unload();
    // An interrupt is no step of the clock: at this step the technique under test may have taken one
    // (it injects them between slices) that the reference takes first thing in its next run. Bring
    // the reference's timer lines up to this step and let it take a pending interrupt as its run
    // would, when that is the only difference.
    m.clint.update();
    let diffs = stateDifferences(s, stateOf(ref.vm, m.clockSteps, ref.vm.vhart.pc, ref.vm.vhart.x));
    const vh = ref.vm.vhart;
    if (diffs.length > 0 && (!vh.waiting || vh.wakeupPending())) {
      const irq = vh.pendingInterrupt();
      if (irq >= 0) {
        vh.takeInterrupt(irq);
        diffs = stateDifferences(s, stateOf(ref.vm, m.clockSteps, vh.pc, vh.x));
      }
    }
    result.points++;
    result.kinds[kind] = (result.kinds[kind] ?? 0) + 1;
    if (diffs.length > 0) result.firstDifference = `at ${kind} (point ${result.points}, step ${s.clock}, ${mode} pc ${hex(s.pc)}): ${mode} vs emulate: ${diffs.join('; ')}`;
  };

  const vcpu = test.vmm.vcpu(test.vm);
  if (!(vcpu instanceof TrapVcpu)) throw new Error(`${mode}: not a vCPU on the physical hart`);
  /** The guest's state on the physical hart before the VMM handles the step being counted now. */
  const here = (): GuestState => {
    vcpu.syncClock();
    const vh = test.vm.vhart;
    // The step of the instruction (or trap) at hand is counted already; the state is from before it.
    return stateOf(test.vm, test.vm.machine.clockSteps + vh.sliceSteps - 1, test.vmm.hart.pc, test.vmm.hart.x);
  };
  const trap = vcpu.trap.bind(vcpu);
  vcpu.trap = (cause: number, tval: number): void => {
    compare(`exit ${cause}`, here());
    trap(cause, tval);
  };
  if (vcpu instanceof BtVcpu) {
    const callout = vcpu.callout.bind(vcpu);
    vcpu.callout = (kind: number, bits: number): boolean => {
      compare(`callout ${CALLOUT_NAMES[kind]}`, here());
      return callout(kind, bits);
    };
  }
  while (test.vmm.active && test.vm.machine.clockSteps < maxSteps) test.vmm.run(Math.min(1_000_000, maxSteps - test.vm.machine.clockSteps));
  test.vmm.unload();
  compare('end', stateOf(test.vm, test.vm.machine.clockSteps, test.vm.vhart.pc, test.vm.vhart.x));
  // The reference runs to its own end too (the same end, when nothing differed).
  while (ref.vmm.active && ref.vm.machine.clockSteps < maxSteps) ref.vmm.run(Math.min(1_000_000, maxSteps - ref.vm.machine.clockSteps));
  result.output = Buffer.from(test.out).toString('latin1');
  result.exitCode = test.vm.exitCode ?? null;
  result.referenceOutput = Buffer.from(ref.out).toString('latin1');
  result.referenceExitCode = ref.vm.exitCode ?? null;
  result.state = test.vm.state;
  result.crashReason = test.vm.crashReason;
  return result;
}
