// test/guests/asm/wfi.S waits in S for a machine timer interrupt with a loop that reads the flag
// its M handler sets, then executes wfi. M interrupts cannot be masked from S (privileged spec
// 3.1.6.1: a higher privilege's interrupts are always enabled), so an interrupt that comes between
// the read and the wfi would leave the wfi waiting for ever (the handler disarms the timer): the
// handler sends such an interrupt back to the check. Here the timer's deadline sweeps every step
// over the way into S and the loop, and every run wakes and ends.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { assemble, DEFAULT_BASE } from '../../src/engine/asm/index';
import { DISK_READER } from '../../src/cli/kernel-input';
import { Machine } from '../../src/engine/machine/machine';
import { ASM_DIR, LIB_DIR } from '../support/build';

const PATH = join(ASM_DIR, 'wfi.S');
const SOURCE = readFileSync(PATH, 'latin1');

function run(deltaTicks: number): { code: number | undefined; out: string } {
  const source = SOURCE.replace(/li t2, 1000000\n/, `li t2, ${deltaTicks}\n`);
  if (source === SOURCE) throw new Error('wfi.S no longer sets its deadline with li t2, 1000000');
  const r = assemble(source, { file: PATH, base: DEFAULT_BASE, reader: DISK_READER, includeDirs: [LIB_DIR] });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => `${d.line}: ${d.message}`).join('\n'));
  let out = '';
  // One step per tick: the deadline can fall on every instruction.
  const m = new Machine({ onUart: (b) => { out += String.fromCharCode(b); }, cpu: { jit: false }, stepsPerTick: 1 });
  m.loadKernel(r.elf);
  m.run(2_000_000);
  return { code: m.exitCode, out };
}

describe('wfi.S: an interrupt between the check and the wfi', () => {
  test('every deadline from 1 to 80 steps after it is set wakes the S loop, and the run ends', () => {
    const stuck: number[] = [];
    for (let t = 1; t <= 80; t++) {
      const r = run(t);
      if (r.code !== 0 || !r.out.includes('S woke from wfi')) stuck.push(t);
    }
    expect(stuck).toEqual([]);
  });
});
