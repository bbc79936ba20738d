// A trap into an unmapped vector (mtvec = 0) must fault at pc 0 again — instruction access fault,
// cause 1 — and never run whatever the fetch path cached last (as QEMU: one 'A', then a loop).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/engine/machine/machine';
import { gnuAssemble } from '../support/gnu-as';
import { runQemu } from '../support/qemu';

const SOURCE = `
.globl _start
_start:
  li t0, 0x10000000
  li a0, 'A'
  sb a0, 0(t0)
  .word 0xffffffff
`;

describe('a trap to an unmapped vector', () => {
  it.each([true, false])('faults at pc 0 with cause 1 and prints what QEMU prints (translator %s)', async (jit) => {
    const image = gnuAssemble(SOURCE);
    const file = join(mkdtempSync(join(tmpdir(), 'vmlab-vec-')), 'vec.bin');
    writeFileSync(file, image);
    const q = await runQemu(file, { timeoutMs: 3000 });
    const out: number[] = [];
    const m = new Machine({ cpu: { jit }, onUart: (b) => out.push(b) });
    m.loadKernel(image);
    for (let i = 0; i < 3000; i++) m.step();
    expect(Buffer.from(out).toString('latin1')).toBe(q.output.toString('latin1'));
    expect(m.hart.mcause).toBe(1);
    expect(m.hart.mepc).toBe(0);
    m.run(100_000);
    expect(Buffer.from(out).toString('latin1')).toBe('A');
  });
});
