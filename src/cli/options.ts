// Parsers for CLI option values shared by several commands.

import { InvalidArgumentError } from 'commander';
import type { CpuFeatures } from '../engine/cpu/hart';
import { MAX_RAM_SIZE, MEMORY_MAP, VMM_RESERVE } from '../engine/machine/memory-map';
import { CpuSpecError, parseCpuSpec } from '../shared/cpu-options';

const UNITS = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 } as const;

/** Parses a size such as 128M, 64MiB, 1G, 2T, 65536 into bytes (binary units, as QEMU's). */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([kKmMgGtT]?)(i?[bB])?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`expected a size like 128M or 65536, got '${text}'`);
  const bytes = Number(m[1]) * UNITS[m[2].toLowerCase() as keyof typeof UNITS];
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError(`'${text}' is too large to be a size`);
  return bytes;
}

/** A byte count in the largest binary unit that divides it: 2G, 1984M, 4100K, 1000. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [['T', UNITS.t], ['G', UNITS.g], ['M', UNITS.m], ['K', UNITS.k]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/** The largest guest RAM: the whole machine bare; in a VM, host RAM less the VMM's own reserve. */
export function maxRamSize(inVm: boolean): number {
  return inVm ? MAX_RAM_SIZE - VMM_RESERVE : MAX_RAM_SIZE;
}

/**
 * Checks a RAM size the machine can have; `what` names the input (`--mem`, `a.vm.json: memory`).
 * Returns a one-line message saying what is wrong and why, or undefined when the size is good.
 */
export function ramSizeProblem(bytes: number, what: string, inVm: boolean): string | undefined {
  const shown = formatSize(bytes);
  if (bytes <= 0) return `${what} ${shown}: RAM must be at least 4K`;
  if (bytes % 4096 !== 0) return `${what} ${shown}: RAM must be a whole number of 4 KiB pages`;
  if (bytes <= maxRamSize(inVm)) return undefined;
  const why = `RAM starts at 0x${MEMORY_MAP.ram.base.toString(16)} and physical addresses have 32 bits, so it ends at 0xffffffff at the latest`;
  if (!inVm) return `${what} ${shown} is too large: ${why}; the most is ${formatSize(MAX_RAM_SIZE)}`;
  return `${what} ${shown} is too large for a VM: host ${why}, and the VMM keeps ${formatSize(VMM_RESERVE)} of it for its tables; the most is ${formatSize(maxRamSize(true))}`;
}

/** Parses a non-negative integer (decimal or 0x hex). */
export function parseCount(text: string): number {
  const v = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`expected a non-negative whole number, got '${text}'`);
  return v;
}

/** Parses a positive number of seconds. */
export function parseSeconds(text: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`expected a positive number of seconds, got '${text}'`);
  return v;
}

/** Parses QEMU-style `rv32,pmp=false,h=on` into CPU features (the parser the app shares). */
export function parseCpu(text: string): Partial<CpuFeatures> {
  try {
    return parseCpuSpec(text);
  } catch (err) {
    if (err instanceof CpuSpecError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}
