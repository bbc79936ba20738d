// What the New VM form is told about a kernel before Create (vm.kernelInfo, src/host/kernel-info.ts):
// a raw image's load address for each boot as docs/machine.md gives it (start of RAM; 0x80400000
// under the built-in SBI and in pv mode; behind a firmware file its end rounded up to 4 MiB), text
// or non-instructions where code is expected, a kernel written for another mode, and an ELF vmlab
// cannot load, which vm.create then refuses naming the file before any machine is made.
import { copyFileSync, cpSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeKernel, elfCode, noStartNote, pvKernel, rawLoadAddress, setsPvExtension } from '../../src/host/kernel-info';
import { assembleFile } from '../../src/cli/kernel-input';
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
    // A jump that does not return ends the scan: a Linux Image starts with one over its 64-byte
    // header (c.j 64 here; then the header's fields, its 'RISCV' magic at 48, and code). Before, the
    // header's second halfword was taken for an instruction and the Image was warned of.
    const image = new Uint8Array(96);
    image.set([0x81, 0xa0], 0); // c.j 64
    image.set([0x00, 0x00, 0x40, 0x00], 8); // text_offset 4 MiB
    image.set(new TextEncoder().encode('RISCV\0\0\0RSC\x05'), 48);
    image.set([0x13, 0x05, 0x00, 0x00], 64); // li a0, 0
    expect(describeKernel('Image', image, { mode: 'bare' }).notes).toHaveLength(1);
    // j 64 (jal x0) too, but not a call (jal ra), after which the bytes are still code.
    image.set([0x6f, 0x00, 0x00, 0x04], 0);
    expect(describeKernel('Image', image, { mode: 'bare' }).notes).toHaveLength(1);
    image.set([0xef, 0x00, 0x00, 0x04], 0);
    expect(describeKernel('Image', image, { mode: 'bare' }).notes[1]).toBe("'Image' does not look like RISC-V code: the bytes at 0x80000004 are no instruction");
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

  it('tells every pv kernel of the labs and workloads by its code, and no other kernel', () => {
    const kernels = [
      ...readdirSync(join(REPO, 'labs'), { withFileTypes: true }).filter((d) => d.isDirectory())
        .flatMap((d) => readdirSync(join(REPO, 'labs', d.name)).filter((f) => /\.S$/.test(f)).map((f) => join('labs', d.name, f))),
      ...readdirSync(join(REPO, 'bench', 'workloads')).filter((f) => /\.S$/.test(f)).map((f) => join('bench', 'workloads', f)),
      // Calls every SBI function and probes the pv extension by its id (in a0): not a pv kernel.
      join('test', 'guests', 'sbi', 'sbi-calls.S'),
    ];
    const pv = kernels.filter((k) => {
      const r = assembleFile(join(REPO, k), {});
      // The structure lab's included files: some do not assemble alone, frame.S holds macros only.
      if (!r.elf || !r.symbols.some((sym) => sym.name === '_start')) return false;
      // Named without -pv, so that only the code can tell.
      return pvKernel(k.replace(/-pv\.S$/, '.S'), elfCode(r.elf)).pv;
    });
    expect(pv.sort()).toEqual(kernels.filter((k) => k.endsWith('-pv.S')).sort());
    expect(pv.length).toBe(9);
  });

  it('finds the pv id set in a7 by lui and addi, with instructions between, not a lui alone or another register', () => {
    const words = (...w: number[]): Uint8Array => new Uint8Array(new Uint32Array(w).buffer);
    const LUI_A7 = 0x085658b7; // lui a7, 0x8565
    const ADDI_A7 = 0xd4c88893; // addi a7, a7, -692
    expect(setsPvExtension([words(LUI_A7, ADDI_A7, 0x00000073)])).toBe(true);
    expect(setsPvExtension([words(0x085652b7, 0x00000013, 0xd4c28893)])).toBe(true); // lui t0; nop; addi a7, t0, -692
    expect(setsPvExtension([new Uint8Array([0x01, 0x00, ...words(LUI_A7, ADDI_A7)])])).toBe(true); // after a compressed nop
    expect(setsPvExtension([words(LUI_A7, 0xd4c88513)])).toBe(false); // addi a0, a7, -692: the probe's argument
    expect(setsPvExtension([words(LUI_A7)])).toBe(false);
    expect(setsPvExtension([words(ADDI_A7, LUI_A7)])).toBe(false);
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
    // The labs as a new workspace has them; traps-pv.S under a name without -pv, traps.S under one with it.
    cpSync(join(REPO, 'labs', 'structure'), join(root, 'structure'), { recursive: true });
    cpSync(join(REPO, 'labs', 'traps'), join(root, 'traps'), { recursive: true });
    copyFileSync(join(root, 'traps', 'traps-pv.S'), join(root, 'traps', 'syscalls.S'));
    copyFileSync(join(root, 'traps', 'traps.S'), join(root, 'traps', 'mine-pv.S'));
    writeFileSync(join(root, 'traps', 'draft-pv.S'), '  .globl _start\n_start:\n  frob a0\n');
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

  it('tells a pv kernel by its code, not its name', async () => {
    // traps-pv.S as syscalls.S: warned outside pv, by what its code does.
    expect(await lab.call('vm.kernelInfo', { kernel: 'traps/syscalls.S', mode: 'trap' })).toEqual({ format: 'source', notes: [
      "'traps/syscalls.S' is written for pv mode (its code calls the VMM's pv extension, a7 = 0x08564d4c): it calls the VMM by hypercalls, which nothing answers in trap mode, so it crashes at the first one; pick mode pv",
    ] });
    expect(await lab.call('vm.kernelInfo', { kernel: 'traps/syscalls.S', mode: 'pv' })).toEqual({ format: 'source', notes: [] });
    // traps.S as mine-pv.S: no hypercall, so no pv warning in trap mode, and pv mode's note in pv.
    expect(await lab.call('vm.kernelInfo', { kernel: 'traps/mine-pv.S', mode: 'trap' })).toEqual({ format: 'source', notes: [] });
    expect(((await lab.call('vm.kernelInfo', { kernel: 'traps/mine-pv.S', mode: 'pv' })) as KernelInfo).notes[0]).toMatch(/^pv mode runs kernels written for its hypercalls/);
    // Built into an ELF, the same verdicts.
    await lab.call('asm.build', { path: 'traps/syscalls.S', mode: 'pv' });
    await lab.call('asm.build', { path: 'traps/mine-pv.S' });
    expect(((await lab.call('vm.kernelInfo', { kernel: 'traps/syscalls.elf', mode: 'emulate' })) as KernelInfo).notes[0]).toContain("(its code calls the VMM's pv extension, a7 = 0x08564d4c)");
    expect(await lab.call('vm.kernelInfo', { kernel: 'traps/mine-pv.elf', mode: 'emulate' })).toEqual({ format: 'elf', size: expect.any(Number), notes: [] });
    // No code to read (it does not assemble): the name decides.
    expect(((await lab.call('vm.kernelInfo', { kernel: 'traps/draft-pv.S', mode: 'trap' })) as KernelInfo).notes[0]).toContain('(its name ends in -pv)');
  });

  it('refuses an x86 ELF naming the file, and makes no machine', async () => {
    await expect(lab.call('vm.create', { kernel: 'x86.elf', mode: 'emulate' })).rejects.toThrow(/^could not load kernel 'x86\.elf': ELF file for x86-64, not RISC-V/);
    expect(await lab.call('vm.list', {})).toEqual([]);
    await expect(lab.call('vm.kernelInfo', { kernel: 'missing.bin', mode: 'emulate' })).rejects.toThrow(/missing\.bin/);
  });
});
