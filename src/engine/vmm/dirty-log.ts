// Dirty-page logging for live migration (docs/migration.md): which guest RAM pages were written
// since the log was last read. Each technique learns of its guest's stores the way a real VMM of
// its kind does:
// - trap, bt, pv: the shadow tables. Reading the log takes W out of every shadow entry; the guest's
//   first store to a page is a page fault the VMM logs before it maps the page writable again
//   (KVM's shadow MMU write-protects for its dirty log the same way).
// - hw: the G-stage table (the pmap). Reading the log clears W in every leaf and fences the TLB;
//   the first store is a store guest-page fault the VMM logs before it gives W back (KVM on
//   RISC-V: kvm_riscv_gstage_wp_memory_region). The hart's A/D updates of VS-stage PTEs pass the
//   G-stage as loads, so the hart logs those itself (TwoStage.logPteWrites).
// - emulate and the bare machine: the interpreter. Every RAM store of the bus and of devices is
//   logged (PhysicalBus.writeLog); the hart's TLB gets no writable entry for a clean page, so its
//   first store there takes the slow path through the bus.
// In every mode the VMM's own writes (emulated stores, SBI, DMA of the virtual devices) go through
// the VM's guest bus or its device memory and are logged there. The log never changes what the
// guest computes or its clock: a logging fault is no step of the guest.

import type { Machine } from '../machine/machine';
import type { Vm } from './vm';
import type { Vmm } from './vmm';

/** The dirty log of one VM or bare machine. */
export interface DirtyLog {
  /** Guest RAM pages (index from the start of guest RAM) written since `start` or the last `take`; re-arms the log. */
  take(): number[];
  /** Ends logging; the guest runs on at full speed. */
  stop(): void;
}

/** Starts logging a VM's writes to its RAM; every page counts as clean from now on. */
export function startVmDirtyLog(vmm: Vmm, vm: Vm): DirtyLog {
  const host = vmm.host;
  const log = new Uint8Array(Math.ceil(host.ramSize / 4096));
  const hostPage = new Int32Array(vm.pmap.frameOf.length);
  vm.pmap.frameOf.forEach((frame, page) => {
    hostPage[page] = frame < 0 ? -1 : Math.floor((vmm.frames.address(frame) - host.ramBase) / 4096);
  });
  const protect = (): void => {
    vmm.unload();
    if (vm.mode === 'hw') {
      vm.pmap.writeProtectAll();
      vmm.hwHart.tlb.flushAll();
    } else {
      vmm.trapVcpu(vm)?.shadows.writeProtectAll();
      vmm.hart.tlb.flushAll();
    }
    // The virtual hart interprets in emulate mode (and the boot ROM and virtual M-mode elsewhere).
    vm.vhart.tlb.flushAll();
  };
  vm.bus.writeLog = log;
  protect();
  return {
    take(): number[] {
      const pages: number[] = [];
      for (let page = 0; page < hostPage.length; page++) {
        const hp = hostPage[page];
        if (hp >= 0 && log[hp] !== 0) {
          pages.push(page);
          log[hp] = 0;
        }
      }
      protect();
      return pages;
    },
    stop(): void {
      vm.bus.writeLog = undefined;
      vmm.unload();
      // hw: the guest's stores must not fault on leaves left write-protected.
      if (vm.mode === 'hw') {
        vm.pmap.frameOf.forEach((frame, page) => {
          if (frame >= 0) vm.pmap.allowWrite(vm.pmap.guestRamBase + page * 4096);
        });
        vmm.hwHart.tlb.flushAll();
      }
    },
  };
}

/** Starts logging a bare machine's writes to its RAM. */
export function startMachineDirtyLog(m: Machine): DirtyLog {
  const bus = m.bus;
  const log = new Uint8Array(Math.ceil(bus.ramSize / 4096));
  bus.writeLog = log;
  m.hart.tlb.flushAll();
  return {
    take(): number[] {
      const pages: number[] = [];
      for (let page = 0; page < log.length; page++) {
        if (log[page] !== 0) {
          pages.push(page);
          log[page] = 0;
        }
      }
      m.hart.tlb.flushAll();
      return pages;
    },
    stop(): void {
      bus.writeLog = undefined;
    },
  };
}
