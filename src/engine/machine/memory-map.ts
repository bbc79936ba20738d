// The physical memory map of docs/machine.md, compatible with QEMU's rv32 `virt` machine.

/** Base addresses and sizes of the virt machine's regions. */
export const MEMORY_MAP = {
  bootRom: { base: 0x0000_1000, size: 0x1000 },
  testFinisher: { base: 0x0010_0000, size: 0x1000 },
  clint: { base: 0x0200_0000, size: 0x10000 },
  plic: { base: 0x0c00_0000, size: 0x400_0000 },
  uart0: { base: 0x1000_0000, size: 0x100 },
  virtio: { base: 0x1000_1000, size: 0x1000, count: 8 },
  ram: { base: 0x8000_0000 },
} as const;

/** PLIC interrupt source numbers. */
export const IRQ = {
  uart0: 10,
  /** virtio slot n uses VIRTIO_BASE + n. */
  virtioBase: 1,
} as const;

/** Whether `pc` lies in the boot ROM (the reset vector's code, a device: never guest RAM). */
export function inBootRom(pc: number): boolean {
  return pc >= MEMORY_MAP.bootRom.base && pc < MEMORY_MAP.bootRom.base + MEMORY_MAP.bootRom.size;
}

/**
 * The largest RAM: it starts at 0x80000000 and physical addresses have 32 bits, so RAM ends at
 * 0xffffffff at the latest (2 GiB).
 */
export const MAX_RAM_SIZE = 2 ** 32 - MEMORY_MAP.ram.base;

/** Host RAM the VMM keeps beside its guests' RAM for pmaps and shadow tables (64 MiB). */
export const VMM_RESERVE = 64 * 1024 * 1024;

/** Default RAM size: 128 MiB. */
export const DEFAULT_RAM_SIZE = 128 * 1024 * 1024;

/** mtime frequency in Hz (QEMU virt: 10 MHz). */
export const TIMEBASE_HZ = 10_000_000;
