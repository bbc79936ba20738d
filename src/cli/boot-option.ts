// The boot options of `run`, `compare` and `.vm.json` as QEMU spells them: `--bios FILE|none|sbi`,
// `--initrd FILE`, `--append ARGS` (placement in src/engine/machine/boot.ts).

import { firmwareEnd, kernelStartAddress, SBI_KERNEL_ADDRESS } from '../engine/machine/boot';
import { MEMORY_MAP } from '../engine/machine/memory-map';
import { isAssemblySource, loadKernelFile, readInputFile } from './kernel-input';

/** Boot options as given on the command line or in a `.vm.json`. */
export interface BootSpec {
  /**
   * `none` (the default), a firmware file (ELF or raw), like QEMU's -bios, or `sbi`: the engine
   * answers the kernel's SBI calls, as QEMU's `-bios default` gives it OpenSBI.
   */
  bios?: string;
  /** An initial ramdisk file, like QEMU's -initrd. */
  initrd?: string;
  /** The kernel command line, like QEMU's -append. */
  append?: string;
}

/** The files of a boot, read. */
export interface BootFiles {
  firmware?: Uint8Array;
  /** `--bios sbi`. */
  sbi?: boolean;
  initrd?: Uint8Array;
  bootargs?: string;
}

/** Reads the files a BootSpec names (paths resolved by `resolvePath`); errors name the option and the file. */
export function readBootFiles(spec: BootSpec, resolvePath: (p: string) => string = (p) => p): BootFiles {
  const out: BootFiles = {};
  if (spec.bios === 'sbi') {
    out.sbi = true;
  } else if (spec.bios !== undefined && spec.bios !== 'none') {
    if (spec.bios === '') throw new Error("--bios takes 'none', 'sbi' or a firmware file, got ''");
    const path = resolvePath(spec.bios);
    out.firmware = isAssemblySource(path) ? loadKernelFile(path) : readFile('--bios', path, 'a firmware image');
  }
  if (spec.initrd !== undefined) out.initrd = readFile('--initrd', resolvePath(spec.initrd), 'an initrd');
  if (spec.append !== undefined) out.bootargs = spec.append;
  return out;
}

/**
 * The kernel file as `run` boots it: a `.S` source behind a firmware is assembled at the address
 * QEMU loads a kernel there (the firmware's end rounded up to 4 MiB; 0x80400000 under `--bios sbi`),
 * else at the start of RAM.
 */
export function loadKernelFor(path: string, boot: BootFiles): Uint8Array {
  const base = boot.sbi ? SBI_KERNEL_ADDRESS : boot.firmware === undefined ? undefined : kernelStartAddress(firmwareEnd(boot.firmware, MEMORY_MAP.ram.base));
  return loadKernelFile(path, [], base);
}

function readFile(option: string, path: string, what: string): Uint8Array {
  try {
    return readInputFile(path, what);
  } catch (err) {
    throw new Error(`${option}: ${(err as Error).message}`);
  }
}
