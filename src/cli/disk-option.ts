// `--disk FILE[,format=raw|qcow2][,readonly][,legacy=on|off][,serial=ID][,slot=N|bus=virtio-mmio-bus.N]`
// for `vmlab run`, and the
// same fields in a `*.vm.json` file: parsing, and closing the images again, which flushes them
// (disk-open.ts opens them).

import { InvalidArgumentError } from 'commander';
import type { DiskAttachment } from '../engine/machine/board';
import { MEMORY_MAP } from '../engine/machine/memory-map';
import type { DiskFormat } from '../host/disk-files';

/** One disk as the user named it. */
export interface DiskSpec {
  path: string;
  format?: DiskFormat;
  readOnly: boolean;
  /** Version 1 transport (QEMU 7.2's default, force-legacy=on); default true. */
  legacy: boolean;
  serial?: string;
  /** virtio-mmio slot 0..7; default QEMU's order (the highest free slot). */
  slot?: number;
}

const ON = ['on', 'true', 'yes', '1'];
const OFF = ['off', 'false', 'no', '0'];

function flag(name: string, value: string): boolean {
  if (ON.includes(value)) return true;
  if (OFF.includes(value)) return false;
  throw new InvalidArgumentError(`disk option ${name} takes on or off, got '${value}'`);
}

/** A slot number 0..7 from `slot=N` or QEMU's `bus=virtio-mmio-bus.N`. */
function slotNumber(name: string, value: string): number {
  const digits = name === 'bus' ? /^virtio-mmio-bus\.(\d+)$/.exec(value)?.[1] : /^\d+$/.exec(value)?.[0];
  const slot = digits === undefined ? NaN : Number(digits);
  if (!(slot >= 0 && slot < MEMORY_MAP.virtio.count)) {
    const want = name === 'bus' ? 'virtio-mmio-bus.0 .. virtio-mmio-bus.7' : 'a slot 0..7';
    throw new InvalidArgumentError(`disk option ${name} takes ${want}, got '${value}'`);
  }
  return slot;
}

/** Parses `FILE[,format=raw|qcow2][,readonly][,legacy=on|off][,serial=ID][,slot=N|bus=virtio-mmio-bus.N]`. */
export function parseDiskSpec(text: string): DiskSpec {
  const [path, ...props] = text.split(',');
  if (!path) throw new InvalidArgumentError(`--disk needs a file name, got '${text}'`);
  const spec: DiskSpec = { path, readOnly: false, legacy: true };
  for (const prop of props) {
    const eq = prop.indexOf('=');
    const name = eq < 0 ? prop : prop.slice(0, eq);
    const value = eq < 0 ? 'on' : prop.slice(eq + 1);
    if (name === 'format') {
      if (value !== 'raw' && value !== 'qcow2') throw new InvalidArgumentError(`disk format must be raw or qcow2, got '${value}'`);
      spec.format = value;
    } else if (name === 'readonly') {
      spec.readOnly = flag(name, value);
    } else if (name === 'legacy') {
      spec.legacy = flag(name, value);
    } else if (name === 'serial') {
      spec.serial = value;
    } else if (name === 'slot' || name === 'bus') {
      spec.slot = slotNumber(name, value);
    } else {
      throw new InvalidArgumentError(`unknown disk option '${name}' (known: format, readonly, legacy, serial, slot, bus)`);
    }
  }
  return spec;
}

/** Collects repeated `--disk` options (commander's reducer). */
export function collectDisk(text: string, previous: DiskSpec[] = []): DiskSpec[] {
  return [...previous, parseDiskSpec(text)];
}

/** Flushes and closes disks; returns the first error's message, if any (the others are still closed). */
export function closeDisks(disks: readonly DiskAttachment[]): string | undefined {
  let first: string | undefined;
  for (const d of disks) {
    try {
      d.device.close();
    } catch (err) {
      first ??= (err as Error).message;
    }
  }
  return first;
}
