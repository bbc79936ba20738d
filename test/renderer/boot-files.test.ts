// The files the forms offer as kernel, firmware and initrd: the kernels the messages name, the
// likely firmware and initrd files first and under "other files" every other file that may be a boot
// image: not text (sources, READMEs, expected outputs, configurations), nor a qcow2 disk or a snapshot.
import { describe, expect, it } from 'vitest';
import type { FileEntry } from '../../src/shared/lab-api';
import { firmwareChoices, initrdChoices, isKernelFile, KERNEL_KINDS, kernelChoices, kernelFiles, mayBeBootImage, offers } from '../../src/renderer/src/lib/boot-files';

const file = (path: string): FileEntry => ({ path, kind: 'file' });
/** A workspace as a lab course has it: sources, expected outputs, disks, snapshots and boot files. */
const WORKSPACE: FileEntry[] = [
  { path: 'hello', kind: 'dir' },
  file('hello/hello.S'), file('hello/hello.elf'), file('hello/README.md'), file('hello/checks.json'),
  file('boot/fw_jump.bin'), file('boot/fw_jump.elf'), file('boot/rootfs.cpio'), file('boot/rootfs.cpio.gz'),
  file('boot/initrd'), file('boot/initramfs-6.1'), file('disk.img'), file('boot.qcow2'),
  file('snapshots/hello-1.snap'), file('traps/expected-output.txt'), file('vms/mono.vm.json'),
  file('boot/Image'), file('boot/u-boot.rom'), file('src/main.c'), file('src/Makefile'), file('LICENSE'),
];
/** The files of WORKSPACE no boot-file list offers. */
const NEVER = ['hello/hello.S', 'hello/README.md', 'hello/checks.json', 'boot.qcow2', 'snapshots/hello-1.snap',
  'traps/expected-output.txt', 'vms/mono.vm.json', 'src/main.c', 'src/Makefile', 'LICENSE'];

describe('kernel files', () => {
  it('lists sources, ELF and raw .bin images, and the message names each kind the list takes', () => {
    expect(kernelFiles(WORKSPACE)).toEqual(['hello/hello.S', 'hello/hello.elf', 'boot/fw_jump.bin', 'boot/fw_jump.elf']);
    for (const ext of ['.S', '.elf', '.bin']) {
      expect(KERNEL_KINDS).toContain(ext);
      expect(isKernelFile(`k${ext}`)).toBe(true);
    }
    expect(isKernelFile('k.s')).toBe(true);
    expect(isKernelFile('README.md')).toBe(false);
    expect(kernelFiles([{ path: 'x.S', kind: 'dir' }])).toEqual([]);
  });
});

describe('kernel choices', () => {
  it('sets the sources without _start apart, keeping the workspace order of each part', () => {
    const files = [file('structure/lib.S'), file('structure/micro.S'), file('structure/mono.S'), file('structure/user.S'), file('structure/mono.elf'), file('structure/README.md')];
    expect(kernelChoices(files, ['structure/user.S', 'structure/lib.S'])).toEqual({
      kernels: ['structure/micro.S', 'structure/mono.S', 'structure/mono.elf'],
      withoutStart: ['structure/lib.S', 'structure/user.S'],
    });
    // A source the host named that is gone from the files is in neither list.
    expect(kernelChoices([file('hello/hello.S')], ['gone.S'])).toEqual({ kernels: ['hello/hello.S'], withoutStart: [] });
  });
});

describe('firmware and initrd choices', () => {
  it('puts ELF and .bin first for a firmware, the other binaries under other files, never text, disks or snapshots', () => {
    const fw = firmwareChoices(WORKSPACE);
    expect(fw.likely).toEqual(['hello/hello.elf', 'boot/fw_jump.bin', 'boot/fw_jump.elf']);
    expect(fw.other).toEqual(['boot/rootfs.cpio', 'boot/rootfs.cpio.gz', 'boot/initrd', 'boot/initramfs-6.1', 'disk.img', 'boot/Image', 'boot/u-boot.rom']);
  });

  it('offers no text file, qcow2 disk or snapshot, and any other file', () => {
    for (const path of NEVER) expect([path, mayBeBootImage(path)]).toEqual([path, false]);
    for (const path of ['fw_jump.bin', 'boot/Image', 'vmlinux', 'u-boot.rom', 'rootfs.cpio.gz', 'disk.img', 'a.dtb', 'README.bin', 'readme-fw.elf']) {
      expect([path, mayBeBootImage(path)]).toEqual([path, true]);
    }
    // The seeded labs hold only sources, checks, READMEs and expected outputs: nothing to offer.
    expect(firmwareChoices([file('hello/hello.S'), file('hello/README.md'), file('hello/checks.json'), file('traps/expected-output.txt')]))
      .toEqual({ likely: [], other: [] });
  });

  it('puts cpio archives, images, compressed files and initrd or initramfs names first for an initrd', () => {
    const initrd = initrdChoices(WORKSPACE);
    expect(initrd.likely).toEqual(['boot/rootfs.cpio', 'boot/rootfs.cpio.gz', 'boot/initrd', 'boot/initramfs-6.1', 'disk.img']);
    expect(initrd.other).toEqual(['hello/hello.elf', 'boot/fw_jump.bin', 'boot/fw_jump.elf', 'boot/Image', 'boot/u-boot.rom']);
  });

  it('says whether a remembered choice is still offered', () => {
    const fw = firmwareChoices(WORKSPACE);
    expect(offers(fw, 'boot/fw_jump.bin')).toBe(true);
    expect(offers(fw, 'boot/Image')).toBe(true);
    expect(offers(fw, 'hello/README.md')).toBe(false);
    expect(offers(fw, 'hello/hello.S')).toBe(false);
    expect(offers(fw, 'gone.bin')).toBe(false);
  });
});
