// A VM's memory as the inspectors see it, in its three address spaces: guest-virtual (through the
// guest's own satp, on its virtual hart), guest-physical (through the pmap) and host-physical. Every
// space resolves, page by page, to host frames of this VM's guest RAM and nothing else: a host
// frame that the VM's pmap does not map (another VM's, the VMM's tables, the shadows) reads as
// invalid and cannot be written, so the inspector of one VM never shows or changes another's.

import { Access } from '../engine/mmu/walk';
import { translateDebug } from '../engine/machine/inspect';
import type { Vm } from '../engine/vmm/vm';
import type { Vmm } from '../engine/vmm/vmm';
import type { AddressLocation, AddressSpace, MemoryBlock } from '../shared/lab-api';

/** Host frame → guest RAM page index of one VM (its pmap read backwards). */
export function reversePmap(vm: Vm): Map<number, number> {
  const out = new Map<number, number>();
  vm.pmap.frameOf.forEach((frame, page) => {
    if (frame >= 0) out.set(frame, page);
  });
  return out;
}

/** A VM with what its inspectors need. */
export interface InspectedVm {
  readonly vmm: Vmm;
  readonly vm: Vm;
  /** reversePmap(vm), built once (placement never changes). */
  readonly frames: Map<number, number>;
}

/** Where one address of `space` lives: the host-physical address, or why it has none. */
function resolve(t: InspectedVm, va: number, space: AddressSpace, access: Access): { hpa: number; gpa?: number } | { note: string; gpa?: number } {
  const { vm, vmm } = t;
  let gpa: number;
  if (space === 'host-physical') {
    const frame = Math.floor((va - vmm.frames.base) / 4096);
    const page = va >= vmm.frames.base ? t.frames.get(frame) : undefined;
    if (page === undefined) return { note: 'not a host frame of this VM' };
    return { hpa: va, gpa: vm.pmap.guestRamBase + page * 4096 + (va & 0xfff) };
  }
  if (space === 'guest-virtual') {
    const tr = translateDebug(vm.vhart, va, access);
    if (tr.pa === undefined) return { note: `page fault (cause ${tr.fault}) in the guest's page table` };
    gpa = tr.pa;
  } else if (space === 'guest-physical') {
    gpa = va;
  } else {
    throw new Error(`a VM's memory is guest-virtual, guest-physical or host-physical, not '${space}'`);
  }
  const hpa = vm.pmap.lookup(gpa);
  return hpa < 0 ? { gpa, note: 'not guest RAM (a device or a hole)' } : { hpa, gpa };
}

/** Reads `length` bytes from `address` in `space`; bytes outside the VM's RAM are marked invalid. */
export function readVmMemory(t: InspectedVm, address: number, length: number, space: AddressSpace): MemoryBlock {
  const bytes = new Uint8Array(length);
  const valid = new Uint8Array(length);
  const host = t.vmm.host;
  let i = 0;
  while (i < length) {
    const a = (address + i) >>> 0;
    const chunk = Math.min(length - i, 4096 - (a & 4095));
    const r = resolve(t, a, space, Access.LOAD);
    if ('hpa' in r) {
      const off = r.hpa - host.ramBase;
      bytes.set(host.ram.subarray(off, off + chunk), i);
      valid.fill(1, i, i + chunk);
    }
    i += chunk;
  }
  return { address: address >>> 0, bytes, valid };
}

/**
 * Writes bytes into the VM's RAM; returns how many landed. Translated code of the written bytes is
 * dropped, and a write to one of the guest's page-table pages empties the shadows and TLBs, as the
 * VMM does for a guest store there.
 */
export function writeVmMemory(t: InspectedVm, address: number, data: Uint8Array, space: AddressSpace): number {
  const { vm, vmm } = t;
  const shadows = vmm.trapVcpu(vm)?.shadows;
  let written = 0;
  for (let i = 0; i < data.length; i++) {
    const r = resolve(t, (address + i) >>> 0, space, Access.STORE);
    if (!('hpa' in r)) continue;
    vmm.hart.noteStore(r.hpa, 1);
    vmm.host.ram[r.hpa - vmm.host.ramBase] = data[i];
    vmm.host.written[(r.hpa - vmm.host.ramBase) >>> 12] = 1;
    written++;
    if (shadows && r.gpa !== undefined && shadows.tablePages.has(r.gpa >>> 12)) {
      shadows.flush();
      vmm.hart.tlb.flushAll();
    }
  }
  if (written > 0) vm.vhart.tlb.flushAll();
  return written;
}

/** Names `address` of `space` in every space of the VM where it has a name. */
export function locateVm(t: InspectedVm, address: number, space: AddressSpace): AddressLocation {
  const a = address >>> 0;
  const r = resolve(t, a, space, Access.LOAD);
  const addresses: Partial<Record<AddressSpace, number>> = { [space]: a };
  if (r.gpa !== undefined) addresses['guest-physical'] = r.gpa;
  if ('hpa' in r) {
    addresses['host-physical'] = r.hpa;
    return { space, address: a, addresses };
  }
  return { space, address: a, addresses, note: r.note };
}
