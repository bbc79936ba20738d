// Parsers for CLI option values shared by several commands.

import { InvalidArgumentError } from 'commander';
import type { CpuFeatures } from '../engine/cpu/hart';
import { CpuSpecError, parseCpuSpec } from '../shared/cpu-options';

/** Parses a size such as 128M, 64MiB, 1G, 65536 into bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([kKmMgG]?)(i?[bB])?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`expected a size like 128M or 65536, got '${text}'`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
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
