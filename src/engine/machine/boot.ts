// Where a boot puts firmware, kernel, initrd and device tree, and what the reset vector passes, as
// QEMU 7.2's hw/riscv/boot.c and hw/riscv/virt.c (virt_machine_done) do for rv32:
// - `-bios FILE`: the firmware at the start of RAM (an ELF by its physical addresses); the ROM jumps
//   to the start of RAM. `-bios none`: no firmware, the kernel is what runs first.
// - the kernel: an ELF by its physical addresses, its lowest one being the address handed on to the
//   firmware (QEMU passes the load base, not e_entry, so fw_dynamic behaves as fw_jump); any other
//   file raw at riscv_calc_kernel_start_addr = the firmware's end rounded up to 4 MiB on rv32
//   (0x80400000 behind an OpenSBI build, the address fw_jump jumps to; the start of RAM without one).
// - the initrd at kernel + min(RAM / 2, 128 MiB), announced in /chosen as linux,initrd-start/end.
// - the DTB at the end of RAM (below 3 GiB) minus its size, rounded down to 2 MiB (riscv_load_fdt).
// - the reset vector (riscv_setup_rom_reset_vec): a0 = mhartid, a1 = DTB, a2 = the fw_dynamic_info
//   block that follows it in the ROM (magic "OSBI", version 2, next_addr = the kernel, next_mode = S,
//   options 0, boot_hart 0), so both fw_jump and fw_dynamic OpenSBI builds start.
// A Linux `Image` (the RISC-V boot header, Documentation/riscv/boot-image-header.rst) is loaded raw
// as QEMU loads it; vmlab also reads the header's image_size, the memory the kernel occupies once
// running (its bss included), and refuses a layout where RAM, the initrd or the DTB cannot hold it.
// QEMU checks none of this and fails later inside the guest.

import { isElf, parseElf } from './elf';

/**
 * Where `--bios sbi` loads a raw kernel (an ELF goes by its addresses): where QEMU puts it behind
 * OpenSBI on rv32, whose firmware (under 4 MiB) ends below it.
 */
export const SBI_KERNEL_ADDRESS = 0x8040_0000;

/** The address QEMU 7.2's riscv_calc_kernel_start_addr gives on rv32: the firmware's end rounded up to 4 MiB. */
export function kernelStartAddress(firmwareEnd: number): number {
  const align = 4 * 1024 * 1024;
  return Math.ceil(firmwareEnd / align) * align;
}

/** The end of a firmware image loaded at `ramBase` (an ELF: its highest loaded byte, bss included). */
export function firmwareEnd(bytes: Uint8Array, ramBase: number): number {
  if (!isElf(bytes)) return ramBase + bytes.length;
  let end = ramBase;
  for (const seg of parseElf(bytes).segments) end = Math.max(end, seg.paddr + Math.max(seg.memsz, seg.data.length));
  return end;
}

/** Where QEMU 7.2's riscv_load_initrd puts the initrd: kernel + min(RAM / 2, 128 MiB). */
export function initrdStartAddress(kernelEntry: number, ramSize: number): number {
  return kernelEntry + Math.min(Math.floor(ramSize / 2), 128 * 1024 * 1024);
}

/** Where QEMU 7.2's riscv_load_fdt puts a DTB of `size` bytes. */
export function fdtLoadAddress(ramBase: number, ramSize: number, size: number): number {
  const threeGiB = 3 * 1024 * 1024 * 1024;
  const top = ramBase < threeGiB ? Math.min(ramBase + ramSize, threeGiB) : ramBase + ramSize;
  const twoMiB = 2 * 1024 * 1024;
  return Math.floor((top - size) / twoMiB) * twoMiB;
}

/** fw_dynamic_info (OpenSBI include/sbi/fw_dynamic.h): "OSBI" in little-endian. */
export const FW_DYNAMIC_INFO_MAGIC = 0x4942534f;
/** The fw_dynamic_info version QEMU 7.2 writes (with boot_hart). */
export const FW_DYNAMIC_INFO_VERSION = 2;
/** fw_dynamic_info next_mode for S-mode. */
export const FW_DYNAMIC_NEXT_MODE_S = 1;

/**
 * The words of QEMU 7.2's rv32 reset vector and the fw_dynamic_info behind it, for the ROM at
 * 0x1000: `auipc t0, 0; addi a2, t0, 40; csrr a0, mhartid; lw a1, 32(t0); lw t0, 24(t0); jr t0`,
 * then the start address and the DTB address as 64-bit words, then the info block.
 */
export function resetVector(start: number, fdtAddress: number, kernelEntry: number): number[] {
  return [
    0x00000297, 0x02828613, 0xf1402573, 0x0202a583, 0x0182a283, 0x00028067,
    start >>> 0, 0, fdtAddress >>> 0, 0,
    FW_DYNAMIC_INFO_MAGIC, FW_DYNAMIC_INFO_VERSION, kernelEntry >>> 0, FW_DYNAMIC_NEXT_MODE_S, 0, 0,
  ];
}

/** What the RISC-V Linux Image header says about the kernel. */
export interface ImageHeader {
  /** text_offset: where the kernel would like to sit, counted from the start of RAM. */
  textOffset: number;
  /** image_size: bytes the kernel occupies once running (0 in old kernels: unknown). */
  imageSize: number;
}

/** Reads a RISC-V Linux Image header (magic "RISCV\0\0\0" at 48 or "RSC\x05" at 56), if `bytes` has one. */
export function parseImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length < 64) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(48, 56));
  const magic2 = view.getUint32(56, true);
  if (magic !== 'RISCV\0\0\0' && magic2 !== 0x05435352) return undefined;
  const u64 = (off: number): number => view.getUint32(off, true) + view.getUint32(off + 4, true) * 0x1_0000_0000;
  return { textOffset: u64(8), imageSize: u64(16) };
}

/** One loaded piece of a boot, for overlap checks and the boot report. */
export interface BootRegion {
  /** firmware, kernel, initrd or device tree. */
  what: string;
  start: number;
  end: number;
}

/** Throws a one-line error when two regions overlap (QEMU: "rom: requested regions overlap"). */
export function checkOverlaps(regions: readonly BootRegion[]): void {
  const hex = (n: number): string => '0x' + n.toString(16);
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) {
      const a = regions[i];
      const b = regions[j];
      if (a.start < b.end && b.start < a.end && a.end > a.start && b.end > b.start) {
        throw new Error(`the ${a.what} (${hex(a.start)}..${hex(a.end)}) and the ${b.what} (${hex(b.start)}..${hex(b.end)}) overlap in RAM: use more memory (--mem) or a smaller ${b.what}`);
      }
    }
  }
}
