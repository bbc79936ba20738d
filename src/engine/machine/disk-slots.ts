// Which virtio-mmio slot each disk takes, as QEMU 7.2's virt machine decides it for
// `-device virtio-blk-device[,bus=virtio-mmio-bus.N]` in command-line order: a disk naming a bus takes
// that slot (an occupied one is an error, QEMU's "Bus ... is full"); a disk naming none takes the
// first bus with room in qbus order, and since qbus prepends each new bus and virt creates the
// transports in address order, that is the highest free slot (read back from qemu-system-riscv32 7.2:
// one disk answers at 0x10008000, slot 7; test/devices/disk-slots.test.ts).

import { MEMORY_MAP } from './memory-map';

/** What decides a disk's slot: an explicit one, or none for QEMU's default. */
export interface SlotRequest {
  /** virtio-mmio slot 0..7 (QEMU's bus=virtio-mmio-bus.N); default: the highest free slot. */
  slot?: number;
}

/** The slot of each disk, in order; throws an Error naming the disk for a bad or taken slot, or too many disks. */
export function assignDiskSlots(disks: readonly SlotRequest[]): number[] {
  const count = MEMORY_MAP.virtio.count;
  if (disks.length > count) throw new Error(`at most ${count} disks fit on the virtio-mmio slots, got ${disks.length}`);
  const taken = new Array<boolean>(count).fill(false);
  return disks.map((d, n) => {
    let slot = d.slot;
    if (slot === undefined) {
      slot = count - 1;
      while (taken[slot]) slot--;
    } else if (!Number.isInteger(slot) || slot < 0 || slot >= count) {
      throw new Error(`disk ${n}: virtio-mmio slot ${slot} does not exist (slots 0..${count - 1})`);
    } else if (taken[slot]) {
      throw new Error(`disk ${n}: virtio-mmio slot ${slot} is taken by an earlier disk`);
    }
    taken[slot] = true;
    return slot;
  });
}
