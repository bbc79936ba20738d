// The disk manager's part of the LabApi (docs/disks.md, docs/app.md): disk images in the workspace (list, create,
// convert), disks attached to VMs (at creation, attach, detach) and the block view (one sector as the
// guest sees it). Merged into LabMethods by lab-api.ts.

/** Disk image formats the lab reads and writes. */
export type DiskFormat = 'raw' | 'qcow2';

/** Every disk format, in the order the forms offer them. */
export const DISK_FORMATS: readonly DiskFormat[] = ['qcow2', 'raw'];

/** File name endings the disk manager lists as disk images. */
export const DISK_EXTENSIONS: readonly string[] = ['.img', '.raw', '.qcow2'];

/** Bytes in one sector of a virtio-blk disk. */
export const SECTOR_SIZE = 512;

/** Largest disk the disk manager creates (64 GiB; qcow2 and sparse raw files take only what is written). */
export const MAX_DISK_SIZE = 64 * 1024 * 1024 * 1024;

/** Most disks one VM takes (the virt machine's eight virtio-mmio slots). */
export const MAX_VM_DISKS = 8;

/** A disk image in the workspace, as `vmlab disk info` describes it. */
export interface DiskImageInfo {
  /** Workspace path. */
  readonly path: string;
  readonly format: DiskFormat;
  /** Size of the disk the guest sees, in bytes. */
  readonly virtualSize: number;
  /** Length of the image file in bytes. */
  readonly fileSize: number;
  /** Bytes the image file occupies on the host file system (qemu-img's "disk size"; less when sparse). */
  readonly diskSize: number;
  /** Bytes of the virtual disk the image itself defines (a raw image defines all of them). */
  readonly allocatedBytes: number;
  /** qcow2 only. */
  readonly clusterSize?: number;
  /** Backing file name as stored in the image (relative to the image's folder). */
  readonly backingFile?: string;
  readonly backingFormat?: string;
  /** Machines that have the image attached. */
  readonly attachedTo: readonly { readonly id: string; readonly name: string; readonly readOnly: boolean }[];
  /** Why the image could not be described (then the sizes are 0). */
  readonly error?: string;
}

/** One disk to attach to a VM (QEMU: `-drive file=…,format=…,readonly=on -device virtio-blk-device`). */
export interface DiskAttachmentConfig {
  /** Workspace path of the image. */
  path: string;
  /** Default: probed from the file. */
  format?: DiskFormat;
  /** Open without write access; guest writes fail with IOERR (default false). */
  readOnly?: boolean;
  /** Version 1 (legacy) virtio-mmio transport, QEMU 7.2's default; false for version 2 (default true). */
  legacy?: boolean;
  /** What the device answers to GET_ID. */
  serial?: string;
  /** virtio-mmio slot 0..7 (QEMU's `bus=virtio-mmio-bus.N`); default: the highest free slot, QEMU's order. */
  slot?: number;
}

/** A disk attached to a VM. */
export interface AttachedDiskInfo {
  /** Position in the VM's disk list. */
  readonly index: number;
  /** Its virtio-mmio slot (PLIC source slot + 1). */
  readonly slot: number;
  /** Base address of its virtio-mmio transport. */
  readonly address: number;
  readonly path: string;
  readonly format: DiskFormat;
  readonly readOnly: boolean;
  readonly legacy: boolean;
  readonly serial?: string;
  /** Virtual size in bytes. */
  readonly size: number;
  /** Guest requests so far (reads, writes, flushes) and bytes moved. */
  readonly stats: Record<string, number>;
}

/** One sector of an attached disk, as the guest reads it (through a qcow2 image's backing chain). */
export interface SectorBlock {
  readonly index: number;
  readonly sector: number;
  /** SECTOR_SIZE bytes. */
  readonly bytes: Uint8Array;
}

/** The disk manager's requests: method name → [params, result]. */
export interface DiskMethods {
  /** Every disk image in the workspace (files ending in DISK_EXTENSIONS), described. */
  'disk.list': [Record<string, never>, DiskImageInfo[]];
  /** Creates an image; `size` in bytes (rounded up to 512) may be left out when a backing file gives it. */
  'disk.create': [{ path: string; format: DiskFormat; size?: number; backing?: string }, DiskImageInfo];
  /** Save as: copies an image (its backing chain flattened) into a new file of `format`. */
  'disk.convert': [{ from: string; to: string; format: DiskFormat }, DiskImageInfo];
  /** The disks attached to a VM. */
  'vm.disks': [{ id: string }, AttachedDiskInfo[]];
  /** Attaches a disk to a VM that is stopped, halted, crashed or paused before its first instruction; it reboots paused. */
  'vm.attachDisk': [{ id: string; disk: DiskAttachmentConfig }, AttachedDiskInfo[]];
  /** Detaches disk `index` (flushed and closed) under the same conditions as vm.attachDisk. */
  'vm.detachDisk': [{ id: string; index: number }, AttachedDiskInfo[]];
  /** Reads one sector of an attached disk while the VM is not running. */
  'vm.readSector': [{ id: string; index: number; sector: number }, SectorBlock];
}

/** The disk manager's method names, for the allow-lists. */
export const DISK_METHODS: readonly (keyof DiskMethods)[] = [
  'disk.list', 'disk.create', 'disk.convert', 'vm.disks', 'vm.attachDisk', 'vm.detachDisk', 'vm.readSector',
];
