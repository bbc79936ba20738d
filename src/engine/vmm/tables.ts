// The three tables of the lecture's figure, read out of a VM without side effects: the guest's page
// table (guest-virtual → guest-physical), the pmap (guest-physical → host-physical) and the shadow
// the hardware really uses (guest-virtual → host-physical). Page numbers are given both absolute
// and as page indices from the start of RAM (the lecture's small numbers: 0x01 → 0xA2 → 0xC1).

import { MEMORY_MAP } from '../machine/memory-map';
import type { Shadow } from './shadow';
import type { Vm } from './vm';
import type { Vmm } from './vmm';

/** One mapping of a table. */
export interface Mapping {
  /** Virtual (or guest-physical, for the pmap) page number. */
  readonly from: number;
  /** Target page number. */
  readonly to: number;
  /** `to` as a page index from the start of RAM (guest RAM for the guest table, host RAM otherwise). */
  readonly toIndex: number;
  /** `from` as a RAM page index (the pmap only). */
  readonly fromIndex?: number;
  /** PTE flag bits (V R W X U G A D). */
  readonly flags: number;
  /** Page size: 4 KiB or 4 MiB. */
  readonly size: 4096 | 4194304;
}

const RAM_PAGE = MEMORY_MAP.ram.base / 4096;

/** The guest's own Sv32 table (empty when its satp has paging off). */
export function guestTable(vm: Vm): Mapping[] {
  const satp = vm.vhart.satp;
  if (satp >>> 31 === 0) return [];
  const root = (satp & 0x3fffff) * 4096;
  const out: Mapping[] = [];
  for (let i = 0; i < 1024; i++) {
    const pte = vm.bus.load(root + 4 * i, 4) >>> 0;
    if ((pte & 1) === 0) continue;
    if ((pte & 0xe) !== 0) {
      out.push({ from: i << 10, to: (pte >>> 10) & ~0x3ff, toIndex: ((pte >>> 10) & ~0x3ff) - RAM_PAGE, flags: pte & 0xff, size: 4194304 });
      continue;
    }
    const l0 = (pte >>> 10) * 4096;
    for (let j = 0; j < 1024; j++) {
      const leaf = vm.bus.load(l0 + 4 * j, 4) >>> 0;
      if ((leaf & 1) === 0 || (leaf & 0xe) === 0) continue;
      out.push({ from: (i << 10) | j, to: leaf >>> 10, toIndex: (leaf >>> 10) - RAM_PAGE, flags: leaf & 0xff, size: 4096 });
    }
  }
  return out;
}

/** The VM's pmap: guest RAM pages to host frames. */
export function pmapTable(vm: Vm, vmm: Vmm): Mapping[] {
  return vm.pmap.entries().map(({ gpa, hpa }) => ({
    from: gpa / 4096,
    fromIndex: gpa / 4096 - RAM_PAGE,
    to: hpa / 4096,
    toIndex: (hpa - vmm.frames.base) / 4096,
    flags: 0xdf,
    size: 4096 as const,
  }));
}

/** The entries of one shadow table (trap mode). */
export function shadowTable(vmm: Vmm, shadow: Shadow): Mapping[] {
  const out: Mapping[] = [];
  for (const [vpn1, frame] of [...shadow.l0].sort((a, b) => a[0] - b[0])) {
    const base = vmm.host.ramOffset(vmm.frames.address(frame), 4096) >> 2;
    for (let j = 0; j < 1024; j++) {
      const pte = vmm.host.ram32[base + j] >>> 0;
      if ((pte & 1) === 0) continue;
      out.push({ from: (vpn1 << 10) | j, to: pte >>> 10, toIndex: (pte >>> 10) - vmm.frames.base / 4096, flags: pte & 0xff, size: 4096 });
    }
  }
  return out;
}

/** The shadow the physical hart would use for the VM's current context, if one was built. */
export function currentShadow(vmm: Vmm, vm: Vm): Shadow | undefined {
  const vcpu = vmm.trapVcpu(vm);
  return vcpu?.shadows.all().find((s) => s.key === vcpu.currentKey());
}
