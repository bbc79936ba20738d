// The device tree's riscv,isa string for each CPU option set against the one QEMU 7.2 puts in its
// tree for the same -cpu (dumpdtb): a guest that reads it (Linux does) must see the same extensions.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Machine } from '../../src/engine/machine/machine';
import { parseCpuSpec } from '../../src/shared/cpu-options';
import { decompile, parseDts } from '../support/dts';
import { QEMU_CPU } from '../support/qemu';
import { tool } from '../support/tools';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'vmlab-isa-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** QEMU's riscv,isa for `-cpu QEMU_CPU` with `changes` appended (later properties win). */
async function qemuIsa(name: string, changes: string): Promise<string> {
  const file = join(work, `${name}.dtb`);
  const cpu = changes === '' ? QEMU_CPU : `${QEMU_CPU},${changes}`;
  await run(tool('qemu-system-riscv32'), ['-machine', `virt,dumpdtb=${file}`, '-cpu', cpu, '-bios', 'none', '-nographic']);
  const tree = parseDts((await decompile(file)).dts);
  return /"(.*)"/.exec(tree.get('/cpus/cpu@0')!.get('riscv,isa')!)![1];
}

describe('riscv,isa against QEMU 7.2', () => {
  const cases = [
    { name: 'default', cpu: '' },
    { name: 'h', cpu: 'h=true' },
    { name: 'no-c', cpu: 'c=false' },
    { name: 'no-m-a', cpu: 'm=false,a=false' },
    { name: 'h-no-c', cpu: 'h=true,c=false' },
  ];
  for (const c of cases) {
    it(`-cpu rv32${c.cpu === '' ? '' : `,${c.cpu}`}`, async () => {
      const expected = await qemuIsa(c.name, c.cpu);
      const machine = new Machine({ cpu: parseCpuSpec(`rv32${c.cpu === '' ? '' : `,${c.cpu}`}`) });
      expect(machine.isaString()).toBe(expected);
    });
  }
});
