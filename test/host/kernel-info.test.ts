// What the New VM form is told about a kernel before Create (vm.kernelInfo, src/host/kernel-info.ts):
// a raw image's load address for each boot as docs/machine.md gives it (start of RAM; 0x80400000
// under the built-in SBI and in pv mode; behind a firmware file its end rounded up to 4 MiB), text
// or non-instructions where code is expected, a kernel written for another mode, and an ELF vmlab
// cannot load, which vm.create then refuses naming the file before any machine is made.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeKernel, noStartNote, rawLoadAddress } from '../../src/host/kernel-info';
import { LabService } from '../../src/host/lab-service';
import type { KernelInfo } from '../../src/shared/lab-api';

const REPO = join(__dirname, '..', '..');
const SPIN = new Uint8Array([0x6f, 0x00, 0x00, 0x00]); // j .
/** An ELF header for x86-64 (e_machine 62), which vmlab refuses. */
const X86 = new Uint8Array(64);
X86.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
X86.set([2, 0, 62, 0], 16);

describe('describeKernel', () => {
  it('puts a raw image where docs/machine.md says, per boot', () => {
    expect(rawLoadAddress({ mode: 'trap' }).address).toBe(0x80000000);
    expect(rawLoadAddress({ mode: 'bare', firmware: 'sbi' }).address).toBe(0x80400000);
    expect(rawLoadAddress({ mode: 'pv' }).address).toBe(0x80400000);
    // A raw firmware of 5 MiB + 1 byte: the kernel at its end rounded up to 4 MiB.
    expect(rawLoadAddress({ mode: 'emulate', firmware: new Uint8Array(5 * 1024 * 1024 + 1) }).address).toBe(0x80800000);
    expect(describeKernel('spin.bin', SPIN, { mode: 'trap' })).toEqual({
      format: 'raw', size: 4, loadAddress: 0x80000000,
      notes: ["'spin.bin' is not an ELF file: it is loaded as a raw image of 4 bytes at 0x80000000 (the start of RAM, as QEMU's -kernel without firmware) and started there"],
    });
  });

  it('warns of text and of bytes that are no instruction, at their address', () => {
    const text = describeKernel('notes.elf', new TextEncoder().encode('not code at all\n'.repeat(4)), { mode: 'emulate' });
    expect(text.notes[1]).toBe("'notes.elf' looks like a text file, not RISC-V code (assemble a source with a .S or .s name, or vmlab asm)");
    const zeros = describeKernel('zeros.bin', new Uint8Array(64), { mode: 'bare', firmware: 'sbi' });
    expect(zeros.notes[1]).toBe("'zeros.bin' does not look like RISC-V code: the bytes at 0x80400000 are no instruction");
  });

  it('flags a pv kernel outside pv mode and a kernel not written for pv in it', () => {
    expect(describeKernel('disk/disk-pv.S', undefined, { mode: 'emulate' }).notes).toEqual([
      "'disk/disk-pv.S' is written for pv mode (its name ends in -pv): it calls the VMM by hypercalls, which nothing answers in emulate mode, so it crashes at the first one; pick mode pv",
    ]);
    expect(describeKernel('disk/disk-pv.S', undefined, { mode: 'bare' }).notes[0]).toContain('nothing answers in a bare machine');
    expect(describeKernel('disk/disk-pv.S', undefined, { mode: 'pv' })).toEqual({ format: 'source', notes: [] });
    expect(describeKernel('hello/hello.S', undefined, { mode: 'pv' }).notes[0]).toMatch(/^pv mode runs kernels written for its hypercalls/);
    expect(describeKernel('hello/hello.S', undefined, { mode: 'trap' })).toEqual({ format: 'source', notes: [] });
  });

  it('names an ELF it cannot load', () => {
    expect(describeKernel('x86.elf', X86, { mode: 'emulate' })).toMatchObject({
      format: 'elf', problem: expect.stringMatching(/^could not load kernel 'x86\.elf': ELF file for x86-64, not RISC-V/),
    });
  });
});

describe('vm.kernelInfo and vm.create', () => {
  let lab: LabService;
  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'vmlab-kernel-info-'));
    writeFileSync(join(root, 'spin.bin'), SPIN);
    writeFileSync(join(root, 'x86.elf'), X86);
    writeFileSync(join(root, 'fw.bin'), new Uint8Array(4096));
    writeFileSync(join(root, 'lib.S'), '# a routine kernels include\nputc:\n  ret\n');
    writeFileSync(join(root, 'kernel.S'), '  .globl _start\n_start:\n  j _start\n');
    writeFileSync(join(root, 'broken.S'), '  frob a0\n');
    writeFileSync(join(root, 'broken-kernel.S'), '  .globl _start\n_start:\n  frob a0\n');
    // The structure lab as a new workspace has it.
    cpSync(join(REPO, 'labs', 'structure'), join(root, 'structure'), { recursive: true });
    lab = await LabService.create({ workspace: root });
  });
  afterAll(() => lab.dispose());

  it('tells where a raw kernel goes behind a firmware file of the workspace', async () => {
    const info = (await lab.call('vm.kernelInfo', { kernel: 'spin.bin', mode: 'trap', bios: 'fw.bin' })) as KernelInfo;
    expect(info.loadAddress).toBe(0x80400000);
    expect(info.notes[0]).toContain('behind the firmware: its end rounded up to 4 MiB');
  });

  it('says a source without _start is not a kernel (the structure lab\'s lib.S crashed at pc 0 without a word)', async () => {
    const lib = (await lab.call('vm.kernelInfo', { kernel: 'lib.S', mode: 'bare' })) as KernelInfo;
    expect(lib).toEqual({ format: 'source', notes: ["'lib.S' defines no _start, so it starts at the beginning of its code: a source without _start is usually a file that a kernel includes (.include), not a kernel"] });
    expect(await lab.call('vm.kernelInfo', { kernel: 'kernel.S', mode: 'trap' })).toEqual({ format: 'source', notes: [] });
    // One that does not assemble: Create names its errors; its symbols still tell whether it has a _start.
    expect(await lab.call('vm.kernelInfo', { kernel: 'broken-kernel.S', mode: 'trap' })).toEqual({ format: 'source', notes: [] });
    expect(await lab.call('vm.kernelInfo', { kernel: 'broken.S', mode: 'trap' })).toEqual({ format: 'source', notes: [noStartNote('broken.S')] });
  });

  it('lists the structure lab\'s included files apart from its kernels, and says why when one is chosen', async () => {
    // In the workspace's order (folders first). frame.S and lib.S assemble alone; fs.S, user.S and
    // virtio.S name symbols of the kernels that include them.
    const included = ['structure/frame.S', 'structure/fs.S', 'structure/lib.S', 'structure/user.S', 'structure/virtio.S'];
    expect(await lab.call('asm.withoutStart', {})).toEqual([...included, 'broken.S', 'lib.S']);
    expect(await lab.call('vm.kernelInfo', { kernel: 'structure/fs.S', mode: 'trap' })).toEqual({ format: 'source', notes: [noStartNote('structure/fs.S')] });
    expect(await lab.call('vm.kernelInfo', { kernel: 'structure/mono.S', mode: 'trap' })).toEqual({ format: 'source', notes: [] });
    // A source given _start is a kernel at the next list.
    const lib = (await lab.call('fs.read', { path: 'lib.S' })) as { text: string };
    await lab.call('fs.write', { path: 'lib.S', text: `  .globl _start\n_start:\n${lib.text}` });
    expect(await lab.call('asm.withoutStart', {})).toEqual([...included, 'broken.S']);
    await lab.call('fs.write', { path: 'lib.S', text: lib.text });
  });

  it('refuses an x86 ELF naming the file, and makes no machine', async () => {
    await expect(lab.call('vm.create', { kernel: 'x86.elf', mode: 'emulate' })).rejects.toThrow(/^could not load kernel 'x86\.elf': ELF file for x86-64, not RISC-V/);
    expect(await lab.call('vm.list', {})).toEqual([]);
    await expect(lab.call('vm.kernelInfo', { kernel: 'missing.bin', mode: 'emulate' })).rejects.toThrow(/missing\.bin/);
  });
});
