// What a kernel file is before a machine boots it (docs/machine.md, Boot): an assembly source, an
// ELF loaded by its own addresses, or any other file loaded raw as QEMU's -kernel loads it, at the
// start of RAM without firmware, at 0x80400000 under the built-in SBI and in pv mode (where QEMU puts
// a kernel behind OpenSBI), behind a firmware file at its end rounded up to 4 MiB. `vmlab run` says
// so on stderr; the app's New VM form shows the same notes before Create, with a kernel written for
// pv mode in another mode (or the reverse), which boots and then crashes at its first hypercall. A
// pv kernel is told by its code (it puts the pv extension's id in a7 for its ecalls), by its `-pv`
// name only when there is no code to read (docs/reference.md, Telling a pv kernel).

import { firmwareEnd, kernelStartAddress, SBI_KERNEL_ADDRESS } from '../engine/machine/boot';
import { ElfError, isElf, parseElf } from '../engine/machine/elf';
import { MEMORY_MAP } from '../engine/machine/memory-map';
import { decodeAny } from '../engine/isa/decode';
import { Op } from '../engine/isa/opcodes';
import { PV_EID } from '../engine/vmm/pv/pv-abi';
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

/**
 * Offset of the first of the leading `count` instructions that is no RISC-V instruction, if any. The
 * scan ends at a jump that does not return (`j`, `c.j`): what follows it need not be code, as in a
 * Linux Image, whose first instruction jumps over its 64-byte header.
 */
function firstNonInstruction(bytes: Uint8Array, count = 16): number | undefined {
  let off = 0;
  for (let k = 0; k < count && off + 2 <= bytes.length; k++) {
    const half = bytes[off] | (bytes[off + 1] << 8);
    const size = (half & 3) === 3 ? 4 : 2;
    if (off + size > bytes.length) return off;
    const bits = size === 4 ? (half | (bytes[off + 2] << 16) | (bytes[off + 3] << 24)) >>> 0 : half;
    const def = decodeAny(bits).def;
    if (!def) return off;
    if (def.id === Op.C_J || (def.id === Op.JAL && ((bits >>> 7) & 31) === 0)) return undefined;
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

/** The code of an ELF a kernel boots from: its executable segments' bytes (all its segments when none is marked executable). */
export function elfCode(bytes: Uint8Array): Uint8Array[] {
  const segments = parseElf(bytes).segments;
  const code = segments.filter((s) => (s.flags & 1) !== 0);
  return (code.length > 0 ? code : segments).map((s) => s.data);
}

// `li a7, PV_EID` as every assembler and compiler emits it for this constant: lui then addi with
// the low 12 bits sign-extended (PV_EID's bit 11 is set, so the lui takes the next 4 KiB up).
const PV_EID_LO = ((PV_EID << 20) >> 20);
const PV_EID_HI = ((PV_EID - PV_EID_LO) >>> 12);
/** How far before its addi the lui may stand, in bytes (a few instructions scheduled between). */
const PV_LUI_REACH = 32;
const A7 = 17;

/**
 * Whether `code` sets a7 to the pv extension's id PV_EID, as a call of the pv ABI does before its
 * ecall (docs/reference.md, The hypercall ABI of pv): an `addi a7, rX, lo` preceded within
 * PV_LUI_REACH bytes by `lui rX, hi`, found at any 2-byte boundary (compressed code aligns so).
 * A kernel that only probes the extension (the SBI's probe takes the id in a0) does not count.
 */
export function setsPvExtension(code: readonly Uint8Array[]): boolean {
  const addi = (((PV_EID_LO & 0xfff) << 20) | (A7 << 7) | 0x13) >>> 0;
  for (const c of code) {
    const word = (at: number): number => (c[at] | (c[at + 1] << 8) | (c[at + 2] << 16) | (c[at + 3] << 24)) >>> 0;
    for (let at = 0; at + 4 <= c.length; at += 2) {
      const w = word(at);
      if (((w & 0xfff07fff) >>> 0) !== addi) continue;
      const lui = ((PV_EID_HI << 12) | (((w >>> 15) & 31) << 7) | 0x37) >>> 0;
      for (let back = 2; back <= PV_LUI_REACH && at - back >= 0; back += 2) if (word(at - back) === lui) return true;
    }
  }
  return false;
}

/** Whether a kernel is written for pv mode, and what told: its code, or its name when there was no code to read. */
export interface PvVerdict {
  readonly pv: boolean;
  readonly by: 'code' | 'name';
}

/**
 * Whether the kernel `name` with code `code` (undefined: a source that does not assemble) is written
 * for pv mode. Its code decides whenever there is code: a kernel that sets a7 to PV_EID calls the
 * VMM by hypercalls, one that never does is no pv kernel, whatever its name. Only without code does
 * the `-pv` name decide.
 */
export function pvKernel(name: string, code: readonly Uint8Array[] | undefined): PvVerdict {
  return code === undefined ? { pv: isPvKernelName(name), by: 'name' } : { pv: setsPvExtension(code), by: 'code' };
}

/** Whether the kernel file `bytes` (an ELF, else a raw image) is written for pv mode; an ELF vmlab cannot read goes by its name. */
export function pvKernelFile(name: string, bytes: Uint8Array): PvVerdict {
  if (!isElf(bytes)) return pvKernel(name, [bytes]);
  try {
    return pvKernel(name, elfCode(bytes));
  } catch (err) {
    if (err instanceof ElfError) return pvKernel(name, undefined);
    throw err;
  }
}

/** What told a pv kernel, in words for a note. */
export function pvReason(verdict: PvVerdict): string {
  return verdict.by === 'code' ? `its code calls the VMM's pv extension, a7 = ${hex(PV_EID)}` : 'its name ends in -pv';
}

/** A note when the kernel is written for another mode than `mode`. */
export function modeNote(name: string, mode: MachineMode, verdict: PvVerdict): string | undefined {
  if (mode !== 'pv' && verdict.pv) {
    const where = mode === 'bare' ? 'a bare machine' : `${mode} mode`;
    return `'${name}' is written for pv mode (${pvReason(verdict)}): it calls the VMM by hypercalls, which nothing answers in ${where}, so it crashes at the first one; pick mode pv`;
  }
  if (mode === 'pv' && !verdict.pv) {
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
 * machine, and the problem that will refuse it (an ELF vmlab cannot load). `sourceCode` is the code
 * a source assembles to (undefined when it does not assemble), read for the pv hypercall.
 */
export function describeKernel(name: string, bytes: Uint8Array | undefined, boot: KernelBoot, sourceCode?: readonly Uint8Array[]): KernelInfo {
  const notes: string[] = [];
  if (bytes === undefined) {
    const mode = modeNote(name, boot.mode, pvKernel(name, sourceCode));
    return { format: 'source', notes: mode ? [mode] : [] };
  }
  if (bytes.length === 0) return { format: 'raw', size: 0, notes, problem: `could not load kernel '${name}': the file is empty` };
  if (isElf(bytes)) {
    let code: Uint8Array[];
    try {
      code = elfCode(bytes);
    } catch (err) {
      if (!(err instanceof ElfError)) throw err;
      return { format: 'elf', size: bytes.length, notes, problem: `could not load kernel '${name}': ${err.message}` };
    }
    const mode = modeNote(name, boot.mode, pvKernel(name, code));
    return { format: 'elf', size: bytes.length, notes: mode ? [mode] : [] };
  }
  const load = rawLoadAddress(boot);
  notes.push(`'${name}' is not an ELF file: it is loaded as a raw image of ${bytes.length} bytes at ${hex(load.address)} (${load.why}) and started there`);
  const warning = rawKernelWarning(name, bytes, load.address);
  if (warning) notes.push(warning);
  const mode = modeNote(name, boot.mode, pvKernel(name, [bytes]));
  if (mode) notes.push(mode);
  return { format: 'raw', size: bytes.length, loadAddress: load.address, notes };
}
