// The boot options of `run`, `compare` and `.vm.json` as QEMU spells them: `--bios FILE|none`,
// `--initrd FILE`, `--append ARGS` (placement in src/engine/machine/boot.ts).

import { readInputFile } from './kernel-input';

/** Boot options as given on the command line or in a `.vm.json`. */
export interface BootSpec {
  /** `none` (the default) or a firmware file (ELF or raw), like QEMU's -bios. */
  bios?: string;
  /** An initial ramdisk file, like QEMU's -initrd. */
  initrd?: string;
  /** The kernel command line, like QEMU's -append. */
  append?: string;
}

/** The files of a boot, read. */
export interface BootFiles {
  firmware?: Uint8Array;
  initrd?: Uint8Array;
  bootargs?: string;
}

/** Reads the files a BootSpec names (paths resolved by `resolvePath`); errors name the option and the file. */
export function readBootFiles(spec: BootSpec, resolvePath: (p: string) => string = (p) => p): BootFiles {
  const out: BootFiles = {};
  if (spec.bios !== undefined && spec.bios !== 'none') {
    if (spec.bios === '') throw new Error("--bios takes 'none' or a firmware file, got ''");
    out.firmware = readFile('--bios', resolvePath(spec.bios), 'a firmware image');
  }
  if (spec.initrd !== undefined) out.initrd = readFile('--initrd', resolvePath(spec.initrd), 'an initrd');
  if (spec.append !== undefined) out.bootargs = spec.append;
  return out;
}

function readFile(option: string, path: string, what: string): Uint8Array {
  try {
    return readInputFile(path, what);
  } catch (err) {
    throw new Error(`${option}: ${(err as Error).message}`);
  }
}
