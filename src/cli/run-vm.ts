// `vmlab run --mode emulate|trap|bt|pv|hw`: the run's target is one VM of a VMM. Loaded by
// commands/run.ts only for such a run, so that a bare run does not load the VMM's code.

import type { DiskAttachment } from '../engine/machine/board';
import { StopReason } from '../engine/machine/machine';
import { DEFAULT_RAM_SIZE, VMM_RESERVE } from '../engine/machine/memory-map';
import { loadRam, loadVm, loadVmMachine, ramPages, saveVm } from '../engine/snapshot/machine-state';
import { modeledCycles } from '../engine/vmm/stats';
import type { Vm, VmMode } from '../engine/vmm/vm';
import { Vmm } from '../engine/vmm/vmm';
import { vmDebugTarget } from '../host/gdb/debug-target';
import type { BootFiles } from './boot-option';
import { CRASHED, STOP_NAMES, type RunOptions, type Target } from './commands/run';

/** Builds the VMM and its one VM for the run. */
export function vmTarget(mode: VmMode, kernel: Uint8Array, opts: RunOptions, onUart: (b: number) => void, disks: DiskAttachment[], boot: BootFiles): Target {
  const memSize = opts.mem ?? DEFAULT_RAM_SIZE;
  const vmm = new Vmm({ hostRamSize: memSize + VMM_RESERVE, jit: opts.jit !== false });
  const vm = vmm.createVm({ name: 'guest', mode, kernel, memSize, cpu: opts.cpu, onUart, disks, placement: opts.placement, ...boot });
  return {
    run(chunk) {
      vmm.runVm(vm, chunk);
      if (vm.state === 'halted') return StopReason.EXIT;
      if (vm.state === 'crashed') return CRASHED;
      if (vm.state === 'waiting') return StopReason.IDLE;
      return StopReason.BUDGET;
    },
    get steps() { return vm.machine.clockSteps; },
    get elapsed() { return vm.machine.elapsedSteps; },
    get instret() { return vm.stats.instructions; },
    get exitCode() { return vm.exitCode; },
    get crashReason() { return vm.crashReason; },
    sendInput: (bytes) => vm.sendInput(bytes),
    stats: (reason, wallSeconds) => vmStats(vm, reason, wallSeconds),
    flushDisks: () => vm.machine.flushDisks(),
    debug: async () => vmDebugTarget(vmm, vm),
    diskSlots: vm.machine.board.diskSlots,
    async save() {
      const state = saveVm(vmm, vm);
      const h = vm.vhart;
      return { vm: state, ram: ramPages(vm.bus), summary: { steps: vm.machine.clockSteps, instret: h.instret, pc: h.pc, priv: h.priv, state: vm.state } };
    },
    async restore(snapshot) {
      loadRam(vm.bus, snapshot.ram);
      const h = snapshot.header;
      // Taken bare or in another mode: the machine's state moves into the VM; the VM's own
      // counters and its vCPU start afresh in this mode.
      if (h.vm !== undefined && h.config.mode === mode) loadVm(vmm, vm, h.vm);
      else loadVmMachine(vmm, vm, h.machine ?? h.vm!.machine);
    },
  };
}

/** Statistics of a VM run: the bare fields plus the VMM's counters and modeled cycles. */
function vmStats(vm: Vm, reason: StopReason, wallSeconds: number): object {
  const instret = vm.stats.instructions;
  const cycles = modeledCycles(vm.stats, vm.mode === 'emulate');
  return {
    mode: vm.mode,
    state: vm.state,
    crashReason: vm.crashReason ?? null,
    stopReason: STOP_NAMES[reason] ?? String(reason),
    exitCode: vm.exitCode ?? null,
    instret,
    steps: vm.machine.clockSteps,
    wallSeconds,
    mips: wallSeconds > 0 ? instret / wallSeconds / 1e6 : 0,
    exitsPerMillion: instret > 0 ? (vm.stats.exitCount / instret) * 1e6 : 0,
    modeledCycles: cycles.total,
    cycleBreakdown: cycles.breakdown,
    vmm: vm.stats.toJSON(),
    disks: vm.machine.board.disks.map((d) => d.stats.toJSON()),
  };
}
