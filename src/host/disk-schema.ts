// Schemas of the disk manager's requests (docs/app.md: every request is validated before it runs),
// merged into schema.ts's table. Paths are checked for confinement by the service (Workspace).

import { z } from 'zod';
import { DISK_EXTENSIONS, MAX_DISK_SIZE, MAX_VM_DISKS, type DiskMethods } from '../shared/disk-api';
import type { LabParams } from '../shared/lab-api';

const path = z.string().min(1).max(4096);
const id = z.string().min(1).max(64);
const format = z.enum(['raw', 'qcow2']);
const imagePath = path.refine(
  (p) => DISK_EXTENSIONS.some((ext) => p.toLowerCase().endsWith(ext)),
  `a disk image's name ends in ${DISK_EXTENSIONS.join(', ')}`,
);

/** Largest disk the manager creates (shared with the app's form, which names the limit). */
export { MAX_DISK_SIZE };

/** One disk to attach (vm.create's `disks`, vm.attachDisk's `disk`). */
export const diskAttachment = z.strictObject({
  path,
  format: format.optional(),
  readOnly: z.boolean().optional(),
  legacy: z.boolean().optional(),
  // virtio-blk's GET_ID answer is at most 20 bytes.
  serial: z.string().regex(/^[\x20-\x7e]{0,20}$/, 'a serial of at most 20 printable ASCII characters').optional(),
  slot: z.number().int().min(0).max(MAX_VM_DISKS - 1).optional(),
});

/** vm.create's `disks`. */
export const vmDisks = z.array(diskAttachment).max(MAX_VM_DISKS, `at most ${MAX_VM_DISKS} disks fit on the virtio-mmio slots`);

/** The schema of each disk request's parameters. */
export const DISK_SCHEMAS: { [M in keyof DiskMethods]: z.ZodType<LabParams<M>> } = {
  'disk.list': z.strictObject({}),
  'disk.create': z.strictObject({
    path: imagePath,
    format,
    size: z.number().int().min(512).max(MAX_DISK_SIZE).optional(),
    backing: path.optional(),
  }).refine((p) => p.size !== undefined || p.backing !== undefined, { path: ['size'], message: 'a size is needed (or a backing file to take it from)' })
    .refine((p) => p.format === 'qcow2' || p.backing === undefined, { path: ['backing'], message: 'only a qcow2 image has a backing file' }),
  'disk.convert': z.strictObject({ from: path, to: imagePath, format }),
  'vm.disks': z.strictObject({ id }),
  'vm.attachDisk': z.strictObject({ id, disk: diskAttachment }),
  'vm.detachDisk': z.strictObject({ id, index: z.number().int().min(0).max(MAX_VM_DISKS - 1) }),
  'vm.readSector': z.strictObject({ id, index: z.number().int().min(0).max(MAX_VM_DISKS - 1), sector: z.number().int().min(0).max(MAX_DISK_SIZE / 512) }),
};
