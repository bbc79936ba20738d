// `--disk FILE[,format=raw|qcow2][,readonly][,legacy=on|off][,serial=ID][,slot=N|bus=virtio-mmio-bus.N]`
// for `vmlab run`, and the
// same fields in a `*.vm.json` file: parsing, opening the images (a writable image is locked against
// a second writer) and closing them again, which flushes them.

import { InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import type { DiskAttachment } from '../engine/machine/board';
import { assignDiskSlots } from '../engine/machine/disk-slots';
import { MEMORY_MAP } from '../engine/machine/memory-map';
import { DiskError } from '../engine/disk/types';
import { openDisk, type DiskFormat } from '../host/disk-files';
import { HOST_FILES } from '../host/paths';

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

/**
 * Opens every disk (relative paths against `baseDir`); on a failure closes the ones already open and
 * throws an Error naming the file, e.g. one that another vmlab or QEMU holds for writing. `owner`
 * (e.g. "VM 'alpha'") is named to a second writer of an image in this process.
 */
export function openDisks(specs: readonly DiskSpec[], baseDir = '.', owner?: string): DiskAttachment[] {
  assignDiskSlots(specs);
  const opened: DiskAttachment[] = [];
  try {
    for (const s of specs) {
      try {
        // Named in messages as the user wrote it; opened through the host's path policy (regular files only).
        const path = HOST_FILES.hostPath(s.path, resolve(baseDir));
        if (!path.exists) throw new Error(`disk ${s.path}: no such file (create one with vmlab disk create)`);
        opened.push({ device: openDisk(path, { format: s.format, readOnly: s.readOnly, owner }), legacy: s.legacy, serial: s.serial, slot: s.slot });
      } catch (err) {
        if (err instanceof DiskError && err.code === 'locked') throw new Error(`disk ${s.path} is locked: ${err.message}`);
        const msg = (err as Error).message;
        throw new Error(msg.startsWith(`disk ${s.path}`) ? msg : `disk ${s.path}: ${msg}`);
      }
    }
  } catch (err) {
    closeDisks(opened);
    throw err;
  }
  return opened;
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
