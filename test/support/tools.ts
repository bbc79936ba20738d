// Host tools the reference tests depend on. A missing tool is a test failure that names the Debian
// package to install (README.md, Install and test), never a silent skip.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The Debian package that provides each external tool the tests run. */
export const TOOL_PACKAGES = {
  'qemu-system-riscv32': 'qemu-system-misc',
  'riscv64-unknown-elf-as': 'binutils-riscv64-unknown-elf',
  'riscv64-unknown-elf-ld': 'binutils-riscv64-unknown-elf',
  'riscv64-unknown-elf-objdump': 'binutils-riscv64-unknown-elf',
  'riscv64-unknown-elf-objcopy': 'binutils-riscv64-unknown-elf',
  'riscv64-unknown-elf-gcc': 'gcc-riscv64-unknown-elf',
  'gdb-multiarch': 'gdb-multiarch',
} as const;

/** Name of a tool listed in TOOL_PACKAGES. */
export type ToolName = keyof typeof TOOL_PACKAGES;

const PICOLIBC_SPECS = '/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs';

/** Absolute path of `cmd` on PATH, or undefined. */
export function findTool(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, cmd);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** Returns the path of `cmd`, or throws an error telling which Debian package provides it. */
export function requireTool(cmd: string, debianPackage: string): string {
  const path = findTool(cmd);
  if (!path) {
    throw new Error(`required tool '${cmd}' not found on PATH: install the Debian package ${debianPackage} (apt-get install ${debianPackage})`);
  }
  return path;
}

/** requireTool for a tool named in TOOL_PACKAGES. */
export function tool(cmd: ToolName): string {
  return requireTool(cmd, TOOL_PACKAGES[cmd]);
}

/** Path of picolibc's gcc specs file; throws naming picolibc-riscv64-unknown-elf when it is missing. */
export function requirePicolibc(): string {
  try {
    accessSync(PICOLIBC_SPECS, constants.R_OK);
  } catch {
    throw new Error(`picolibc for RISC-V not found (${PICOLIBC_SPECS}): install the Debian package picolibc-riscv64-unknown-elf`);
  }
  return PICOLIBC_SPECS;
}
