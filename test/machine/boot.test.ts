// Boots with a firmware, an initrd and a command line, as `qemu-system-riscv32 -machine virt -bios B
// -kernel K -initrd I -append A` does them (QEMU 7.2's hw/riscv/boot.c): the firmware of the
// project's own (test/guests/boot/fw-report.S) prints what the reset vector handed it (a0, a1, a2,
// the fw_dynamic_info words, the word at next_addr, the DTB magic), and must print the same on
// QEMU and vmlab; the device tree of the same boot must match QEMU's dumpdtb node for node.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleFile, formatDiagnostic } from '../../src/cli/kernel-input';
import { initrdStartAddress, kernelStartAddress, parseImageHeader } from '../../src/engine/machine/boot';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { GUEST_DIR } from '../support/build';
import { decompile, lines, modelledPart, parseDts, resolvePhandles, withoutAdditions } from '../support/dts';
import { QEMU_CPU } from '../support/qemu';
import { tool } from '../support/tools';

const execFileAsync = promisify(execFile);
const BOOT_DIR = join(GUEST_DIR, 'boot');
const work = mkdtempSync(join(tmpdir(), 'vmlab-boot-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Files of the boots: firmware and kernels as ELF and raw, an initrd. */
const files: Record<string, string> = {};

/** Assembles `source` (text, with .include from the boot folder) at `base` into work/name.elf and work/name.bin. */
function build(name: string, source: string, base: number): void {
  const src = join(work, `${name}.S`);
  writeFileSync(src, source);
  const r = assembleFile(src, { base, includeDirs: [BOOT_DIR] });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !r.elf) throw new Error(errors.map(formatDiagnostic).join('\n'));
  files[`${name}.elf`] = join(work, `${name}.elf`);
  writeFileSync(files[`${name}.elf`], r.elf);
}

async function objcopyBinary(name: string): Promise<void> {
  files[`${name}.bin`] = join(work, `${name}.bin`);
  await execFileAsync(tool('riscv64-unknown-elf-objcopy'), ['-O', 'binary', files[`${name}.elf`], files[`${name}.bin`]]);
}

beforeAll(async () => {
  build('fw', '.include "fw-report.S"\n', 0x8000_0000);
  // A firmware whose bss ends past 4 MiB: QEMU rounds its end up to 8 MiB for the kernel.
  build('fw-big', '.include "fw-report.S"\n.bss\n.zero 0x400000\n', 0x8000_0000);
  // A kernel whose entry is not its first byte: QEMU hands the firmware the load base.
  build('kernel', '.text\n.word 0x11223344\n.globl _start\n_start: j _start\n', 0x8040_0000);
  build('kernel8', '.text\n.word 0x55667788\n.globl _start\n_start: j _start\n', 0x8080_0000);
  await objcopyBinary('fw');
  await objcopyBinary('kernel');
  files.initrd = join(work, 'initrd.img');
  writeFileSync(files.initrd, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7 + 3) & 0xff)));
}, 120_000);

interface Boot {
  bios: string;
  kernel: string;
  initrd?: string;
  append?: string;
  memMiB?: number;
}

const BOOTS: Record<string, Boot> = {
  'ELF firmware, ELF kernel (entry past its load base)': { bios: 'fw.elf', kernel: 'kernel.elf' },
  'raw firmware, raw kernel, initrd, command line': { bios: 'fw.bin', kernel: 'kernel.bin', initrd: 'initrd', append: 'console=hvc0 earlycon=sbi' },
  'firmware past 4 MiB: kernel at the next 4 MiB': { bios: 'fw-big.elf', kernel: 'kernel8.elf', initrd: 'initrd', memMiB: 64 },
  'raw firmware, raw kernel, 512 MiB: initrd at kernel + 128 MiB': { bios: 'fw.bin', kernel: 'kernel.bin', initrd: 'initrd', memMiB: 512 },
  '-bios none: the kernel is the firmware': { bios: 'none', kernel: 'fw.elf', initrd: 'initrd', append: 'quiet' },
};

function qemuArgs(b: Boot, extra: string[]): string[] {
  const args = ['-nographic', '-monitor', 'none', '-serial', 'stdio', '-m', `${b.memMiB ?? 128}M`, '-cpu', QEMU_CPU,
    '-bios', b.bios === 'none' ? 'none' : files[b.bios], '-kernel', files[b.kernel], ...extra];
  if (b.initrd) args.push('-initrd', files[b.initrd]);
  if (b.append !== undefined) args.push('-append', b.append);
  return args;
}

function vmlabMachine(b: Boot, out: number[] = []): Machine {
  const m = new Machine({
    ramSize: (b.memMiB ?? 128) << 20,
    onUart: (x) => out.push(x),
    firmware: b.bios === 'none' ? undefined : new Uint8Array(readFileSync(files[b.bios])),
    initrd: b.initrd ? new Uint8Array(readFileSync(files[b.initrd])) : undefined,
    bootargs: b.append,
  });
  m.loadKernel(new Uint8Array(readFileSync(files[b.kernel])));
  return m;
}

describe('boot with firmware, initrd and command line, against QEMU 7.2', () => {
  for (const [name, b] of Object.entries(BOOTS)) {
    it(`${name}: the reset vector hands the firmware what QEMU's does`, async () => {
      const q = await execFileAsync(tool('qemu-system-riscv32'), qemuArgs(b, ['-machine', 'virt']), { encoding: 'latin1', timeout: 30_000 });
      const out: number[] = [];
      const m = vmlabMachine(b, out);
      expect(m.run(1_000_000)).toBe(StopReason.EXIT);
      expect(m.exitCode).toBe(0);
      expect(Buffer.from(out).toString('latin1')).toBe(q.stdout);
      expect(q.stdout).toMatch(/^fw_dynamic_info 4942534f$/m);
    });

    it(`${name}: the device tree matches QEMU's dumpdtb`, async () => {
      const dtb = join(work, 'qemu.dtb');
      await execFileAsync(tool('qemu-system-riscv32'), qemuArgs(b, ['-machine', `virt,dumpdtb=${dtb}`]));
      const qemu = modelledPart(resolvePhandles(parseDts((await decompile(dtb)).dts)));
      const m = vmlabMachine(b);
      const ours = join(work, 'vmlab.dtb');
      writeFileSync(ours, m.fdt);
      const { dts, stderr } = await decompile(ours);
      expect(stderr).toBe('');
      expect(lines(withoutAdditions(resolvePhandles(parseDts(dts))))).toEqual(lines(qemu));
      const chosen = qemu.get('/chosen')!;
      expect(chosen.has('linux,initrd-start')).toBe(b.initrd !== undefined);
      expect(chosen.has('bootargs')).toBe(b.append !== undefined);
      if (b.initrd) {
        // The initrd's bytes are where /chosen says.
        const start = parseInt(/<(\S+)>/.exec(chosen.get('linux,initrd-start')!)![1], 16);
        const bytes = readFileSync(files[b.initrd]);
        const off = m.bus.ramOffset(start, 4096);
        expect(Buffer.from(m.bus.ram.subarray(off, off + 4096))).toEqual(bytes.subarray(0, 4096));
      }
    });
  }
});

describe('boot layout rules', () => {
  it('puts the kernel at the firmware end rounded up to 4 MiB, the initrd at kernel + min(RAM/2, 128 MiB)', () => {
    expect(kernelStartAddress(0x8000_0000)).toBe(0x8000_0000);
    expect(kernelStartAddress(0x8004_0c98)).toBe(0x8040_0000);
    expect(kernelStartAddress(0x8040_0001)).toBe(0x8080_0000);
    expect(initrdStartAddress(0x8040_0000, 128 << 20)).toBe(0x8440_0000);
    expect(initrdStartAddress(0x8000_0000, 1 << 30)).toBe(0x8800_0000);
  });

  it('reads a Linux Image header and refuses a kernel whose image_size RAM cannot hold', () => {
    const image = new Uint8Array(4096);
    const view = new DataView(image.buffer);
    view.setUint32(8, 0x40_0000, true);
    view.setUint32(16, 100 << 20, true);
    image.set(new TextEncoder().encode('RISCV\0\0\0'), 48);
    view.setUint32(56, 0x05435352, true);
    expect(parseImageHeader(image)).toEqual({ textOffset: 0x40_0000, imageSize: 100 << 20 });
    expect(parseImageHeader(new Uint8Array(4096))).toBeUndefined();
    const m = new Machine({ ramSize: 64 << 20, firmware: new Uint8Array(readFileSync(files['fw.bin'])) });
    expect(() => m.loadKernel(image)).toThrow(/the kernel needs 104857600 bytes \(its Image header's image_size, bss included\) from 0x80400000, past the end of RAM at 0x84000000/);
    // A kernel whose bss reaches QEMU's place for the initrd is refused by name.
    view.setUint32(16, 200 << 20, true);
    const withInitrd = new Machine({ ramSize: 256 << 20, firmware: new Uint8Array(readFileSync(files['fw.bin'])), initrd: new Uint8Array(100) });
    expect(() => withInitrd.loadKernel(image)).toThrow(/^the kernel \(0x80400000\.\.0x8cc00000\) and the initrd \(0x88400000\.\.0x88400064\) overlap in RAM/);
  });

  it('refuses an initrd that runs past the end of RAM', () => {
    const m = new Machine({ ramSize: 8 << 20, initrd: new Uint8Array(5 << 20) });
    expect(() => m.loadKernel(new Uint8Array(readFileSync(files['fw.elf'])))).toThrow(/the initrd of 5242880 bytes at 0x80400000 \(QEMU's place for it\) runs past the end of RAM at 0x80800000/);
  });

  it('refuses a kernel ELF on top of the firmware', () => {
    const m = new Machine({ firmware: new Uint8Array(readFileSync(files['fw-big.elf'])) });
    expect(() => m.loadKernel(new Uint8Array(readFileSync(files['kernel.elf'])))).toThrow(/^the firmware \(0x800[0-9a-f]{5}\.\.0x80400260\) and the kernel \(0x80400000\.\.0x80400006\) overlap in RAM/);
  });
});
