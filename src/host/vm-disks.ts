// The disks of the VMs in the VMM worker (docs/disks.md): the worker opens each image through
// disk-files.ts (node:fs, a writable image locked against other writers), hands the BlockDevices to
// the VM's board, and flushes and closes them when the VM goes or its disk list changes. The block
// view reads a sector through the same BlockDevice the guest's virtio-blk device uses, so a qcow2
// image shows the guest's view (backing chain and metadata not yet flushed included).

import { DiskError, type BlockDevice } from '../engine/disk/types';
import type { DiskAttachment } from '../engine/machine/board';
import { MEMORY_MAP } from '../engine/machine/memory-map';
import type { Vm } from '../engine/vmm/vm';
import { SECTOR_SIZE, type AttachedDiskInfo, type DiskFormat, type SectorBlock } from '../shared/disk-api';
import { openDisk } from './disk-files';
import { LabError } from './errors';
import { PathPolicy } from './paths';

/** One disk as the service asks the worker to open it. */
export interface DiskOpenSpec {
  /** Real host path, resolved and confined by the service's path policy. */
  file: string;
  /** The workspace's real folder: the worker's policy confines the backing chain to it. */
  root: string;
  /** Workspace path, for messages and listings. */
  path: string;
  format?: DiskFormat;
  readOnly: boolean;
  legacy: boolean;
  serial?: string;
  /** virtio-mmio slot 0..7; default QEMU's order. */
  slot?: number;
}

/** An open disk of a VM. */
export interface OpenedDisk {
  readonly spec: DiskOpenSpec;
  readonly device: BlockDevice;
}

/** Whether two specs name the same open: same file, same access, same format. */
function sameOpen(a: DiskOpenSpec, b: DiskOpenSpec): boolean {
  return a.file === b.file && a.readOnly === b.readOnly && (a.format === undefined || b.format === undefined || a.format === b.format);
}

/**
 * Opens `specs` for one VM, reusing the devices of `current` that stay (a writable image cannot be
 * opened twice: its lock is held). `others` are the other VMs' disks, named in the writer-conflict
 * message. On a failure everything opened here is closed again and a readable Error is thrown.
 */
export function openVmDisks(specs: readonly DiskOpenSpec[], current: readonly OpenedDisk[], others: ReadonlyMap<string, readonly OpenedDisk[]>): OpenedDisk[] {
  if (specs.length > MEMORY_MAP.virtio.count) throw new Error(`at most ${MEMORY_MAP.virtio.count} disks fit on the virtio-mmio slots, got ${specs.length}`);
  const spare = [...current];
  const opened: OpenedDisk[] = [];
  const fresh: OpenedDisk[] = [];
  try {
    for (const spec of specs) {
      const k = spare.findIndex((d) => sameOpen(d.spec, spec));
      if (k >= 0) {
        opened.push({ spec: { ...spare[k].spec, legacy: spec.legacy, serial: spec.serial }, device: spare[k].device });
        spare.splice(k, 1);
        continue;
      }
      if (opened.some((d) => d.spec.file === spec.file && (!d.spec.readOnly || !spec.readOnly))) {
        throw new Error(`disk ${spec.path} is attached twice to this VM; a writable image can be attached once`);
      }
      if (!spec.readOnly) {
        for (const [name, disks] of others) {
          if (disks.some((d) => d.spec.file === spec.file && !d.spec.readOnly)) {
            throw new Error(`disk ${spec.path} is attached for writing to VM '${name}': detach it there, or attach it read-only`);
          }
        }
      }
      const d = { spec, device: open(spec) };
      fresh.push(d);
      opened.push(d);
    }
  } catch (err) {
    closeDisks(fresh);
    throw err;
  }
  return opened;
}

function open(spec: DiskOpenSpec): BlockDevice {
  try {
    // The service resolved and checked the name; adopt() takes it without resolving it again, and the
    // open itself refuses a link or a file outside the workspace put there since.
    return openDisk(new PathPolicy(spec.root).adopt(spec.file, spec.path), { format: spec.format, readOnly: spec.readOnly });
  } catch (err) {
    if (err instanceof DiskError && err.code === 'locked') {
      throw new Error(`disk ${spec.path} is open for writing elsewhere (another VM, vmlab run or a converting copy): ${err.message}`);
    }
    const msg = (err as Error).message.split(spec.root + '/').join('');
    if (err instanceof LabError) throw new LabError(err.code, msg.startsWith(spec.path) || msg.startsWith(`'${spec.path}'`) ? msg : `disk ${spec.path}: ${msg}`);
    throw new Error(`disk ${spec.path}: ${msg}`);
  }
}

/** The board's form of a VM's disks. */
export function attachments(disks: readonly OpenedDisk[]): DiskAttachment[] {
  return disks.map((d) => ({ device: d.device, legacy: d.spec.legacy, serial: d.spec.serial, slot: d.spec.slot }));
}

/** Flushes and closes disks (each close flushes); returns the first error's message, if any. */
export function closeDisks(disks: readonly OpenedDisk[]): string | undefined {
  let first: string | undefined;
  for (const d of disks) {
    try {
      d.device.close();
    } catch (err) {
      first ??= `disk ${d.spec.path}: ${(err as Error).message}`;
    }
  }
  return first;
}

/** The API's view of a VM's disks, with the guest's request counters. */
export function describeDisks(vm: Vm, disks: readonly OpenedDisk[]): AttachedDiskInfo[] {
  return disks.map((d, index) => {
    const slot = vm.machine.board.diskSlots[index];
    const info: AttachedDiskInfo = {
      index,
      slot,
      address: MEMORY_MAP.virtio.base + slot * MEMORY_MAP.virtio.size,
      path: d.spec.path,
      format: d.device.format as DiskFormat,
      readOnly: d.device.readOnly,
      legacy: d.spec.legacy,
      size: d.device.size,
      stats: vm.machine.board.disks[index]?.stats.toJSON() ?? {},
    };
    return d.spec.serial === undefined ? info : { ...info, serial: d.spec.serial };
  });
}

/** Reads sector `sector` of disk `index` of a VM that is not running, as its guest would read it. */
export function readSector(vm: Vm, index: number, sector: number): SectorBlock {
  if (vm.state === 'running' || vm.state === 'waiting') throw new Error(`cannot read the disks of VM ${vm.name} while it runs: pause it first`);
  const blk = vm.machine.board.disks[index];
  if (!blk) throw new Error(`VM ${vm.name} has no disk ${index} (it has ${vm.machine.board.disks.length})`);
  const sectors = Math.floor(blk.disk.size / SECTOR_SIZE);
  if (sector >= sectors) throw new Error(`sector ${sector} is past the end of disk ${index} (${sectors} sectors)`);
  const bytes = new Uint8Array(SECTOR_SIZE);
  blk.disk.read(sector * SECTOR_SIZE, bytes);
  return { index, sector, bytes };
}
