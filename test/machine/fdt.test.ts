// The generated device tree against the one QEMU 7.2 builds for `-machine virt` (dumpdtb), both read
// back through dtc: same node paths, and in every node the same properties and values (compatible,
// reg, interrupts, with phandle references resolved to node paths), apart from a listed set of devices
// and properties vmlab leaves out on purpose.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { generateFdt } from '../../src/engine/machine/fdt';
import { MEMORY_MAP } from '../../src/engine/machine/memory-map';
import { QEMU_CPU } from '../support/qemu';
import { ADDED, decompile, lines, modelledPart, parseDts, resolvePhandles, withoutAdditions, type Tree } from '../support/dts';
import { requireTool, tool } from '../support/tools';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'vmlab-fdt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A trivial kernel, for the QEMU runs that need -kernel (-append). */
async function tinyKernel(): Promise<string> {
  const src = join(work, 'k.S');
  writeFileSync(src, '.globl _start\n_start: j _start\n');
  await run(tool('riscv64-unknown-elf-as'), ['-march=rv32imac_zicsr_zifencei', '-mabi=ilp32', '-o', join(work, 'k.o'), src]);
  await run(tool('riscv64-unknown-elf-ld'), ['-m', 'elf32lriscv', '-Ttext=0x80000000', '-o', join(work, 'k.elf'), join(work, 'k.o')]);
  return join(work, 'k.elf');
}

/** Dumps QEMU's tree for the machine; returns the blob's path. */
async function qemuDtb(name: string, memMiB: number, harts: number, bootargs?: string): Promise<string> {
  const qemu = tool('qemu-system-riscv32');
  const file = join(work, `${name}-qemu.dtb`);
  const args = ['-machine', `virt,dumpdtb=${file}`, '-m', `${memMiB}M`, '-smp', String(harts), '-cpu', QEMU_CPU, '-bios', 'none', '-nographic'];
  if (bootargs !== undefined) args.push('-kernel', await tinyKernel(), '-append', bootargs);
  await run(qemu, args);
  return file;
}

/** QEMU's tree for the machine, phandles resolved. */
async function qemuTree(name: string, memMiB: number, harts: number, bootargs?: string): Promise<Tree> {
  return resolvePhandles(parseDts((await decompile(await qemuDtb(name, memMiB, harts, bootargs))).dts));
}

describe('device tree against QEMU 7.2 virt', () => {
  const cases = [
    { name: 'default', memMiB: 128, harts: 1, bootargs: undefined },
    { name: 'bootargs', memMiB: 256, harts: 1, bootargs: 'console=ttyS0 earlycon=sbi' },
    { name: 'two-harts', memMiB: 64, harts: 2, bootargs: undefined },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.memMiB} MiB, ${c.harts} hart(s): dtc accepts it and the tree matches QEMU's`, async () => {
      const qemu = await qemuTree(c.name, c.memMiB, c.harts, c.bootargs);
      const isa = /"(.*)"/.exec(qemu.get('/cpus/cpu@0')!.get('riscv,isa')!)![1];
      const blob = generateFdt({ ramBase: MEMORY_MAP.ram.base, ramSize: c.memMiB << 20, isa, hartCount: c.harts, bootargs: c.bootargs });
      const file = join(work, `${c.name}-vmlab.dtb`);
      writeFileSync(file, blob);
      const { dts, stderr } = await decompile(file);
      expect(stderr).toBe('');
      const ours = resolvePhandles(parseDts(dts));

      const expected = modelledPart(qemu);
      expect(lines(withoutAdditions(ours))).toEqual(lines(expected));
      // /, chosen, poweroff, reboot, memory, cpus, cpu-map, cluster0, soc; per hart cpu, its
      // interrupt-controller and coreN; in soc serial, test, plic, clint and 8 virtio_mmio.
      expect(expected.size).toBe(9 + 3 * c.harts + 12);
      for (const [path, props] of ours) {
        for (const name of props.keys()) if (!expected.get(path)?.has(name)) expect(`${path}:${name}`).toMatch(ADDED);
      }
    });
  }

  for (const harts of [1, 2]) {
    it(`numbers phandles as QEMU does (${harts} hart(s))`, async () => {
      const raw = parseDts((await decompile(await qemuDtb(`ph${harts}`, 128, harts))).dts);
      writeFileSync(join(work, `ph${harts}.dtb`), generateFdt({ ramBase: MEMORY_MAP.ram.base, ramSize: 128 << 20, hartCount: harts }));
      const ours = parseDts((await decompile(join(work, `ph${harts}.dtb`))).dts);
      const phandles = [...ours].filter(([, props]) => props.has('phandle'));
      expect(phandles.length).toBe(2 * harts + 2);
      for (const [path, props] of phandles) expect(`${path} ${props.get('phandle')}`).toBe(`${path} ${raw.get(path)!.get('phandle')}`);
    });
  }
});

describe('device tree blob', () => {
  it('has a v17 header whose offsets and sizes describe the blob', () => {
    const blob = generateFdt({ ramBase: 0x8000_0000, ramSize: 128 << 20, bootargs: 'x' });
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const [magic, total, offStruct, offStrings, offRsv, version, lastComp, , sizeStrings, sizeStruct] = Array.from({ length: 10 }, (_, i) => view.getUint32(4 * i));
    expect(magic).toBe(0xd00dfeed);
    expect(total).toBe(blob.length);
    expect([version, lastComp]).toEqual([17, 16]);
    expect(offRsv % 8).toBe(0);
    expect([view.getUint32(offRsv), view.getUint32(offRsv + 12)]).toEqual([0, 0]);
    expect(offStruct + sizeStruct).toBe(offStrings);
    expect(offStrings + sizeStrings).toBe(total);
    expect(view.getUint32(offStruct + sizeStruct - 4)).toBe(9);
  });

  it('round-trips through dtc with bootargs containing UTF-8', async () => {
    const file = join(work, 'utf8.dtb');
    writeFileSync(file, generateFdt({ ramBase: 0x8000_0000, ramSize: 1 << 20, bootargs: 'name=Zoë ✓' }));
    const fdtget = requireTool('fdtget', 'device-tree-compiler');
    const { stdout } = await run(fdtget, ['-t', 's', file, '/chosen', 'bootargs']);
    expect(stdout.trim()).toBe('name=Zoë ✓');
  });
});
