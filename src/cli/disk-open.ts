// Opening the images of `--disk` options (disk-option.ts parses them): a writable image is locked
// against a second writer. A module of its own so that `vmlab run` without disks loads none of the
// disk formats' code (the qcow2 reader brings fflate: about 20 ms of CPU at every start).

import { resolve } from 'node:path';
import type { DiskAttachment } from '../engine/machine/board';
import { assignDiskSlots } from '../engine/machine/disk-slots';
import { DiskError } from '../engine/disk/types';
import { openDisk } from '../host/disk-files';
import { HOST_FILES } from '../host/paths';
import { closeDisks, type DiskSpec } from './disk-option';

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
