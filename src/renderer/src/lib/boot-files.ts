// Which workspace files the forms offer as a kernel, a firmware and an initrd. The host boots any
// file as a kernel, firmware or initrd (a non-ELF file is a raw image, as QEMU's -kernel, -bios and
// -initrd take it), so the firmware and initrd selects list the files that look like one first and
// the rest under "other files" (a kernel Image, a u-boot, a file with a name of its own), leaving
// out the files that are never a boot image: text (sources, documents such as README.md and
// expected-output.txt, configurations) and the containers vmlab reads otherwise (qcow2 disks,
// snapshots). `vmlab run --bios/--initrd` still takes any file. The kernel lists keep to the files that name a kernel, said in KERNEL_KINDS, and
// set apart the sources that define no _start (asm.withoutStart): files that kernels include, such
// as the structure lab's lib.S, which run one routine from their first line and crash.

import type { FileEntry } from '../../../shared/lab-api';

/** Kernel files by name: assembly sources (assembled first), ELF images and raw `.bin` images. */
const KERNEL_NAME = /\.(s|elf|bin)$/i;
/** The kernel files in words, for the messages of a workspace that has none. */
export const KERNEL_KINDS = '.S, .elf or .bin';
/** A firmware by name: an ELF or a raw image (OpenSBI builds fw_jump.elf and fw_jump.bin). */
const FIRMWARE_NAME = /\.(elf|bin)$/i;
/** An initrd by name: a cpio archive, an image, a compressed archive, or initrd/initramfs in its name. */
const INITRD_NAME = /(\.(cpio|img|gz|xz|zst|lz4|lzma|lzo|bz2)$)|(^|\/)(initrd|initramfs|rootfs)[^/]*$/i;
/**
 * Files that are never a firmware or an initrd, by name: text (sources, documents, configurations,
 * and the usual extensionless READMEs, licences and makefiles) and the containers vmlab reads
 * otherwise (qcow2 disk images, snapshots), whose bytes no guest boots.
 */
const NOT_BOOT_IMAGE = new RegExp([
  String.raw`\.(s|c|h|cc|cpp|hpp|rs|go|py|sh|ld|lds|mk|dts|md|markdown|txt|rst|adoc|html?|csv|log|json|jsonc|toml|ya?ml|ini|cfg|conf|xml)$`,
  String.raw`(^|/)(readme|licen[cs]e|copying|notice|authors|changelog|makefile|kconfig)$`,
  String.raw`\.(qcow2|snap)$`,
].join('|'), 'i');

/** Whether a workspace path can be offered as a firmware or an initrd (text and vmlab's other containers cannot). */
export function mayBeBootImage(path: string): boolean {
  return !NOT_BOOT_IMAGE.test(path);
}

/** The choices of one boot-file select: the likely files first, then every other file it may take. */
export interface BootFileChoices {
  readonly likely: readonly string[];
  readonly other: readonly string[];
}

/** Whether a workspace path names a kernel the forms offer. */
export function isKernelFile(path: string): boolean {
  return KERNEL_NAME.test(path);
}

/** The workspace's kernel files, in the workspace's order. */
export function kernelFiles(files: readonly FileEntry[]): string[] {
  return files.filter((f) => f.kind === 'file' && isKernelFile(f.path)).map((f) => f.path);
}

/** The kernel lists' choices: the kernels, and apart the sources without `_start` (files kernels include). */
export interface KernelChoices {
  readonly kernels: readonly string[];
  readonly withoutStart: readonly string[];
}

/** The workspace's kernel files split by `withoutStart` (the sources that define no `_start`), each in the workspace's order. */
export function kernelChoices(files: readonly FileEntry[], withoutStart: readonly string[]): KernelChoices {
  const apart = new Set(withoutStart);
  const all = kernelFiles(files);
  return { kernels: all.filter((p) => !apart.has(p)), withoutStart: all.filter((p) => apart.has(p)) };
}

/** The firmware select's choices. */
export function firmwareChoices(files: readonly FileEntry[]): BootFileChoices {
  return split(files, FIRMWARE_NAME);
}

/** The initrd select's choices. */
export function initrdChoices(files: readonly FileEntry[]): BootFileChoices {
  return split(files, INITRD_NAME);
}

/** Whether `path` is one of the choices (likely or other). */
export function offers(choices: BootFileChoices, path: string): boolean {
  return choices.likely.includes(path) || choices.other.includes(path);
}

function split(files: readonly FileEntry[], likely: RegExp): BootFileChoices {
  const paths = files.filter((f) => f.kind === 'file' && mayBeBootImage(f.path)).map((f) => f.path);
  return { likely: paths.filter((p) => likely.test(p)), other: paths.filter((p) => !likely.test(p)) };
}
