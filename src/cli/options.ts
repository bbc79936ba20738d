// Parsers for CLI option values shared by several commands.

import { InvalidArgumentError } from 'commander';
import type { CpuFeatures } from '../engine/cpu/hart';

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

const FEATURE_NAMES: readonly (keyof CpuFeatures)[] = ['pmp', 'h', 'c', 'a', 'm', 'xsensitive'];

/** Parses QEMU-style `rv32,pmp=false,h=on` into CPU features. */
export function parseCpu(text: string): Partial<CpuFeatures> {
  const [model, ...props] = text.split(',');
  if (model !== 'rv32') throw new InvalidArgumentError(`the only CPU model is rv32, got '${model}'`);
  const features: Partial<CpuFeatures> = {};
  for (const prop of props) {
    const [name, value = 'true'] = prop.split('=');
    if (!(FEATURE_NAMES as string[]).includes(name)) {
      throw new InvalidArgumentError(`unknown CPU property '${name}' (known: ${FEATURE_NAMES.join(', ')})`);
    }
    const on = ['true', 'on', 'yes', '1'].includes(value);
    const off = ['false', 'off', 'no', '0'].includes(value);
    if (!on && !off) throw new InvalidArgumentError(`CPU property ${name} takes true or false, got '${value}'`);
    features[name as keyof CpuFeatures] = on;
  }
  return features;
}
