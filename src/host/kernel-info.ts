// What a kernel file is before a machine boots it (docs/machine.md, Boot): an assembly source, an
// ELF loaded by its own addresses, or any other file loaded raw as QEMU's -kernel loads it, at the
// start of RAM without firmware, at 0x80400000 under the built-in SBI and in pv mode (where QEMU puts
// a kernel behind OpenSBI), behind a firmware file at its end rounded up to 4 MiB. `vmlab run` says
// so on stderr; the app's New VM form shows the same notes before Create, with a kernel written for
// pv mode in another mode (or the reverse), which boots and then crashes at its first hypercall.

import { firmwareEnd, kernelStartAddress, SBI_KERNEL_ADDRESS } from '../engine/machine/boot';
import { ElfError, isElf, parseElf } from '../engine/machine/elf';
import { MEMORY_MAP } from '../engine/machine/memory-map';
import { decodeAny } from '../engine/isa/decode';
import type { KernelInfo, MachineMode } from '../shared/lab-api';

const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/** True when nearly all of the first 4 KiB are printable ASCII, tabs and line ends. */
function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 4096);
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)) printable++;
  }
  return n > 0 && printable >= 0.95 * n;
}

/** Offset of the first of the leading `count` instructions that is no RISC-V instruction, if any. */
function firstNonInstruction(bytes: Uint8Array, count = 16): number | undefined {
  let off = 0;
  for (let k = 0; k < count && off + 2 <= bytes.length; k++) {
    const half = bytes[off] | (bytes[off + 1] << 8);
    const size = (half & 3) === 3 ? 4 : 2;
    if (off + size > bytes.length) return off;
    const bits = size === 4 ? (half | (bytes[off + 2] << 16) | (bytes[off + 3] << 24)) >>> 0 : half;
    if (!decodeAny(bits).def) return off;
    off += size;
  }
  return undefined;
}

/**
 * Why a raw kernel loaded at `loadAddress` does not look like RISC-V code (text, or leading bytes
 * that decode to no instruction), or undefined; such a file would spin in traps until a timeout.
 */
export function rawKernelWarning(name: string, bytes: Uint8Array, loadAddress: number): string | undefined {
  if (looksLikeText(bytes)) return `'${name}' looks like a text file, not RISC-V code (assemble a source with a .S or .s name, or vmlab asm)`;
  const bad = firstNonInstruction(bytes);
  return bad === undefined ? undefined : `'${name}' does not look like RISC-V code: the bytes at ${hex(loadAddress + bad)} are no instruction`;
}

/** The boot a kernel is probed for: the mode and the firmware ('sbi', a firmware image's bytes, or none). */
export interface KernelBoot {
  readonly mode: MachineMode;
  readonly firmware?: 'sbi' | Uint8Array;
}

/** Where a raw kernel is loaded and started in `boot`, with the rule that puts it there, in words. */
export function rawLoadAddress(boot: KernelBoot): { address: number; why: string } {
  const ram = MEMORY_MAP.ram.base;
  if (boot.firmware instanceof Uint8Array) {
    return { address: kernelStartAddress(firmwareEnd(boot.firmware, ram)), why: 'behind the firmware: its end rounded up to 4 MiB, as QEMU places it' };
  }
  if (boot.firmware === 'sbi') return { address: SBI_KERNEL_ADDRESS, why: 'where QEMU puts a kernel behind OpenSBI, for the built-in SBI' };
  if (boot.mode === 'pv') return { address: SBI_KERNEL_ADDRESS, why: 'where a pv kernel boots, behind the VMM\'s SBI' };
  return { address: ram, why: 'the start of RAM, as QEMU\'s -kernel without firmware' };
}

/** Whether a kernel's file name marks it as written for pv mode (the labs' and workloads' `-pv.S`). */
export function isPvKernelName(name: string): boolean {
  return /-pv\.[^./]+$/i.test(name);
}

/** A note when the kernel's name says it was written for another mode than `mode`. */
function modeNote(name: string, mode: MachineMode): string | undefined {
  if (mode !== 'pv' && isPvKernelName(name)) {
    const where = mode === 'bare' ? 'a bare machine' : `${mode} mode`;
    return `'${name}' is written for pv mode (its name ends in -pv): it calls the VMM by hypercalls, which nothing answers in ${where}, so it crashes at the first one; pick mode pv`;
  }
  if (mode === 'pv' && !isPvKernelName(name)) {
    return `pv mode runs kernels written for its hypercalls (the labs' -pv.S files); unless '${name}' is one, it crashes at its first privileged instruction or device access`;
  }
  return undefined;
}

/**
 * The note for an assembly source that assembles with no `_start`: it then starts at the beginning
 * of its code, as GNU ld defaults the entry to .text, and a file that kernels `.include` (the
 * structure lab's lib.S) runs one routine, returns to address 0 and crashes in a loop of traps.
 */
export function noStartNote(name: string): string {
  return `'${name}' defines no _start, so it starts at the beginning of its code: a source without _start is usually a file that a kernel includes (.include), not a kernel`;
}

/**
 * What `bytes` (the file `name`; undefined for an assembly source, assembled on Create) is and how
 * it boots in `boot`: a raw image's load address, warnings a user should read before creating the
 * machine, and the problem that will refuse it (an ELF vmlab cannot load).
 */
export function describeKernel(name: string, bytes: Uint8Array | undefined, boot: KernelBoot): KernelInfo {
  const notes: string[] = [];
  const mode = modeNote(name, boot.mode);
  if (bytes === undefined) return { format: 'source', notes: mode ? [mode] : [] };
  if (bytes.length === 0) return { format: 'raw', size: 0, notes, problem: `could not load kernel '${name}': the file is empty` };
  if (isElf(bytes)) {
    try {
      parseElf(bytes);
    } catch (err) {
      if (!(err instanceof ElfError)) throw err;
      return { format: 'elf', size: bytes.length, notes, problem: `could not load kernel '${name}': ${err.message}` };
    }
    return { format: 'elf', size: bytes.length, notes: mode ? [mode] : [] };
  }
  const load = rawLoadAddress(boot);
  notes.push(`'${name}' is not an ELF file: it is loaded as a raw image of ${bytes.length} bytes at ${hex(load.address)} (${load.why}) and started there`);
  const warning = rawKernelWarning(name, bytes, load.address);
  if (warning) notes.push(warning);
  if (mode) notes.push(mode);
  return { format: 'raw', size: bytes.length, loadAddress: load.address, notes };
}
