// Full emulation: the VM's own virtual hart interprets every guest instruction on the guest bus
// (block translation off); guest page walks run in software, then through the pmap. The VMM is the
// interpreter, so there are no exits.

import { StopReason } from '../../machine/machine';
import { inBootRom } from '../../machine/memory-map';
import type { Vcpu } from '../vcpu';
import type { Vm } from '../vm';

/**
 * Memory references of a software two-stage walk in emulate mode: two guest levels, each guest PTE
 * address and the final address translated through the two-level pmap (privileged spec §8.5).
 */
export const WALK_REFERENCES_PER_MISS = 2 + 3 * 2;

/** The emulate-mode vCPU of one VM. */
export class EmulateVcpu implements Vcpu {
  readonly onHart = false;
  /** Device accesses the boot ROM made (its fetches and loads), left out of the VM's statistics. */
  private romAccesses = 0;

  constructor(private readonly vm: Vm) {}

  run(budget: number): StopReason {
    const vm = this.vm;
    const m = vm.machine;
    const before = m.clockSteps;
    const retiredBefore = m.hart.instret;
    // The boot ROM (the reset vector) is the machine's boot, not the guest: as trap mode runs it
    // outside the statistics (TrapVcpu.bootThroughRom), its fetches and loads are no device accesses.
    let reason: StopReason = StopReason.BUDGET;
    let rom = this.romAccesses;
    // Each run(1) passes a breakpoint at its own start: the loop stops in front of one itself.
    while (reason === StopReason.BUDGET && m.clockSteps - before < budget && inBootRom(m.hart.pcU)) {
      if (m.hart.breakpoints.has(m.hart.pcU) && m.hart.pcU !== vm.resumePc) {
        reason = StopReason.BREAKPOINT;
        break;
      }
      const accesses = vm.bus.deviceAccesses;
      const steps = m.clockSteps;
      reason = m.run(1);
      if (m.clockSteps !== steps) vm.resumePc = -1;
      rom += vm.bus.deviceAccesses - accesses;
    }
    this.romAccesses = rom;
    const left = budget - (m.clockSteps - before);
    // Machine.run passes a breakpoint at the pc it starts from; only a resume may do that.
    if (reason === StopReason.BUDGET && left > 0 && m.hart.breakpoints.has(m.hart.pcU) && m.hart.pcU !== vm.resumePc) reason = StopReason.BREAKPOINT;
    if (reason === StopReason.BUDGET && left > 0) reason = m.run(left);
    if (m.clockSteps !== before) vm.resumePc = -1;
    vm.stats.retired[m.hart.priv] += m.hart.instret - retiredBefore;
    vm.stats.emulate('interpreted', m.hart.instret - retiredBefore);
    vm.stats.tlbHits = m.hart.tlb.hits;
    vm.stats.tlbMisses = m.hart.tlb.misses;
    vm.stats.walkReferences = m.hart.tlb.misses * WALK_REFERENCES_PER_MISS;
    vm.stats.deviceAccesses = vm.bus.deviceAccesses - rom;
    return reason;
  }

  switchIn(): void {}

  switchOut(): void {}

  /** The virtual hart runs no translated code and keeps no shadows: nothing to drop. */
  dmaWritten(): void {}

  reset(): void {}

  /** The ROM's accesses are counted afresh with the statistics. */
  restart(): void {
    this.romAccesses = 0;
  }

  destroy(): void {}
}

