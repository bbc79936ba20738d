// The disk lists of the New VM form, the Attach form and the compare view: an image the host cannot
// open is kept with its reason (before, it was left out or offered), and a raw image that is not a
// whole number of sectors is explained as QEMU sizes it.
import { describe, expect, it } from 'vitest';
import { compareDiskRefusal, MAX_COMPARE_DISK, type DiskImageInfo } from '../../src/shared/lab-api';
import { chosenDiskNote, diskChoices, diskNote } from '../../src/renderer/src/lib/disk-choices';

const image = (path: string, fileSize: number, extra: Partial<DiskImageInfo> = {}): DiskImageInfo => ({
  path, format: 'raw', virtualSize: Math.ceil(fileSize / 512) * 512, fileSize, diskSize: 4096, allocatedBytes: fileSize, attachedTo: [], ...extra,
});

describe('diskChoices', () => {
  it('keeps an unreadable image, apart, with the reason less its own name', () => {
    const bad = image('d/bad.qcow2', 0, { error: 'd/bad.qcow2: qcow2: version 7 is not supported (only 2 and 3)' });
    expect(diskChoices([image('a.img', 1 << 20), bad, image('b.qcow2', 1 << 16, { format: 'qcow2' })])).toEqual({
      usable: ['a.img', 'b.qcow2'],
      unusable: [{ path: 'd/bad.qcow2', reason: 'qcow2: version 7 is not supported (only 2 and 3)' }],
    });
    expect(diskChoices([image('x.img', 0, { error: 'no access' })]).unusable).toEqual([{ path: 'x.img', reason: 'no access' }]);
  });

  it('lists an image larger than a comparison copies as unusable there, with the host\'s reason, and keeps it elsewhere', () => {
    // The compare view's check: 64 MiB is taken, one sector more is not (the host refuses it only after Run).
    const compare = (d: DiskImageInfo): string | undefined => compareDiskRefusal(d.virtualSize);
    const images = [image('at.img', MAX_COMPARE_DISK), image('big.img', MAX_COMPARE_DISK + 512), image('q.qcow2', 4096, { format: 'qcow2', virtualSize: 1 << 30 })];
    expect(MAX_COMPARE_DISK).toBe(64 << 20);
    expect(diskChoices(images, compare)).toEqual({
      usable: ['at.img'],
      unusable: [
        { path: 'big.img', reason: 'a comparison copies at most 64 MiB of disk into memory, the image has 67109376 bytes' },
        { path: 'q.qcow2', reason: 'a comparison copies at most 64 MiB of disk into memory, the image has 1073741824 bytes' },
      ],
    });
    // A VM takes them all; an image the host cannot open keeps the host's reason whatever the check.
    expect(diskChoices(images).usable).toEqual(['at.img', 'big.img', 'q.qcow2']);
    expect(diskChoices([image('bad.img', 0, { error: 'bad.img: gone' })], () => 'too big').unusable).toEqual([{ path: 'bad.img', reason: 'gone' }]);
  });
});

describe('diskNote', () => {
  it('explains a raw image of part of a sector as QEMU sizes it, and an empty one', () => {
    expect(diskNote(image('tiny.img', 5))).toBe('tiny.img is 5 bytes, less than one 512-byte sector: the guest sees 1 sector (512 bytes), as on QEMU; past the file\'s end it reads zeros, and a write there grows the file to 512 bytes');
    expect(diskNote(image('odd.img', 600))).toMatch(/^odd\.img is 600 bytes, not a whole number of 512-byte sectors: the guest sees 2 sectors \(1024 bytes\)/);
    expect(diskNote(image('empty.img', 0))).toMatch(/^empty\.img is empty \(0 bytes\): the guest sees a disk of no sectors/);
  });

  it('says nothing of whole sectors, a qcow2 or an unreadable image', () => {
    expect(diskNote(image('a.img', 1024))).toBeUndefined();
    expect(diskNote(image('q.qcow2', 200_000, { format: 'qcow2' }))).toBeUndefined();
    expect(diskNote(image('bad.img', 0, { error: 'gone' }))).toBeUndefined();
  });
});

describe('chosenDiskNote', () => {
  it('gives the note of the chosen image, and nothing for none or one no longer listed', () => {
    const images = [image('a.img', 1024), image('tiny.img', 5)];
    expect(chosenDiskNote(images, 'tiny.img')).toBe(diskNote(images[1]));
    expect(chosenDiskNote(images, 'tiny.img')).toMatch(/^tiny\.img is 5 bytes/);
    expect(chosenDiskNote(images, 'a.img')).toBeUndefined();
    expect(chosenDiskNote(images, '')).toBeUndefined();
    expect(chosenDiskNote(images, 'gone.img')).toBeUndefined();
  });
});
