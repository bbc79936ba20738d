// The disk lists of the New VM form, the Disks view's Attach form and the compare view (pure, no
// runes): every image of the workspace, those the host cannot open shown with the reason rather than
// left out (before, a damaged qcow2 vanished from the lists, or was offered and refused only after
// Run, and only the Disks view said why), in the compare view those larger than a comparison copies
// too, and what the guest will see of a raw image that is not a whole number of 512-byte sectors,
// said before Create, Attach or Run.

import type { DiskImageInfo } from '../../../shared/lab-api';

/** An image the host cannot open, and why (the description's reason without the image's own name). */
export interface UnusableDisk {
  readonly path: string;
  readonly reason: string;
}

/** The images a VM can take, and those it cannot with the reason, each in the list's order. */
export interface DiskChoices {
  readonly usable: readonly string[];
  readonly unusable: readonly UnusableDisk[];
}

const SECTOR = 512;

/**
 * Splits the workspace's images into those a VM can take and those it cannot (with the reason).
 * `refuse` says why the form's use cannot take an image the host opens (the compare view: one larger
 * than a comparison copies, compareDiskRefusal), or undefined when it can.
 */
export function diskChoices(images: readonly DiskImageInfo[], refuse?: (d: DiskImageInfo) => string | undefined): DiskChoices {
  const usable: string[] = [];
  const unusable: UnusableDisk[] = [];
  for (const d of images) {
    const reason = d.error === undefined ? refuse?.(d) : d.error.startsWith(`${d.path}: `) ? d.error.slice(d.path.length + 2) : d.error;
    if (reason === undefined) usable.push(d.path);
    else unusable.push({ path: d.path, reason });
  }
  return { usable, unusable };
}

/**
 * What the guest sees of a raw image that is not a whole number of sectors: as on QEMU, one sector
 * more than its whole sectors, the bytes past the file's end reading as zeros, a write there growing
 * the file (src/engine/disk/raw.ts); an empty image is a disk of no sectors, every request to it
 * failing. Undefined for any other image.
 */
export function diskNote(d: DiskImageInfo): string | undefined {
  if (d.error !== undefined || d.format !== 'raw' || d.fileSize % SECTOR === 0 && d.fileSize > 0) return undefined;
  const bytes = `${d.fileSize} byte${d.fileSize === 1 ? '' : 's'}`;
  if (d.fileSize === 0) return `${d.path} is empty (0 bytes): the guest sees a disk of no sectors and every request to it fails, as on QEMU`;
  const sectors = Math.ceil(d.fileSize / SECTOR);
  const size = sectors * SECTOR;
  const part = d.fileSize < SECTOR ? 'less than one 512-byte sector' : 'not a whole number of 512-byte sectors';
  return `${d.path} is ${bytes}, ${part}: the guest sees ${sectors} sector${sectors === 1 ? '' : 's'} (${size} bytes), as on QEMU; past the file's end it reads zeros, and a write there grows the file to ${size} bytes`;
}

/** diskNote of the image at `path` among `images`; undefined for none chosen or one not listed. */
export function chosenDiskNote(images: readonly DiskImageInfo[], path: string): string | undefined {
  const chosen = path ? images.find((d) => d.path === path) : undefined;
  return chosen && diskNote(chosen);
}
