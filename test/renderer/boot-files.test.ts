// The files the forms offer as kernel, firmware and initrd: the kernels the messages name, the
// likely firmware and initrd files first and every other file the host boots under "other files".
import { describe, expect, it } from 'vitest';
import type { FileEntry } from '../../src/shared/lab-api';
import { firmwareChoices, initrdChoices, isKernelFile, KERNEL_KINDS, kernelChoices, kernelFiles, offers } from '../../src/renderer/src/lib/boot-files';

const file = (path: string): FileEntry => ({ path, kind: 'file' });
/** A workspace as a lab course has it: sources, expected outputs, disks, snapshots and boot files. */
const WORKSPACE: FileEntry[] = [
  { path: 'hello', kind: 'dir' },
  file('hello/hello.S'), file('hello/hello.elf'), file('hello/README.md'), file('hello/checks.json'),
  file('boot/fw_jump.bin'), file('boot/fw_jump.elf'), file('boot/rootfs.cpio'), file('boot/rootfs.cpio.gz'),
  file('boot/initrd'), file('boot/initramfs-6.1'), file('disk.img'), file('boot.qcow2'),
  file('snapshots/hello-1.snap'), file('traps/expected-output.txt'), file('vms/mono.vm.json'),
];

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
  it('puts ELF and .bin first for a firmware, the rest under other files, never sources or configurations', () => {
    const fw = firmwareChoices(WORKSPACE);
    expect(fw.likely).toEqual(['hello/hello.elf', 'boot/fw_jump.bin', 'boot/fw_jump.elf']);
    expect(fw.other).toContain('hello/README.md');
    expect(fw.other).toContain('disk.img');
    expect([...fw.likely, ...fw.other]).not.toContain('hello/hello.S');
    expect([...fw.likely, ...fw.other]).not.toContain('vms/mono.vm.json');
    expect([...fw.likely, ...fw.other]).not.toContain('hello/checks.json');
    expect(fw.likely.length + fw.other.length).toBe(WORKSPACE.filter((f) => f.kind === 'file').length - 3);
  });

  it('puts cpio archives, images, compressed files and initrd or initramfs names first for an initrd', () => {
    const initrd = initrdChoices(WORKSPACE);
    expect(initrd.likely).toEqual(['boot/rootfs.cpio', 'boot/rootfs.cpio.gz', 'boot/initrd', 'boot/initramfs-6.1', 'disk.img']);
    expect(initrd.other).toContain('boot/fw_jump.bin');
    expect(initrd.other).toContain('traps/expected-output.txt');
    expect(initrd.other).not.toContain('hello/hello.S');
  });

  it('says whether a remembered choice is still offered', () => {
    const fw = firmwareChoices(WORKSPACE);
    expect(offers(fw, 'boot/fw_jump.bin')).toBe(true);
    expect(offers(fw, 'hello/README.md')).toBe(true);
    expect(offers(fw, 'hello/hello.S')).toBe(false);
    expect(offers(fw, 'gone.bin')).toBe(false);
  });
});
