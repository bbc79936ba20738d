// The block translator must be invisible: every corpus program gives the same output, exit code,
// instruction and step counts, and final registers with and without it.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { ASM_DIR, C_DIR, buildGuest, listGuests, mapLimit } from '../support/build';
import { declaredInput } from '../support/vmlab';
import { forEachBackend } from '../support/jit-backends';
import { breakpointStops } from '../support/jit-run';
import { jitDefaults } from '../../src/engine/cpu/jit';

const programs = [...listGuests(ASM_DIR, '.S'), ...listGuests(C_DIR, '.c')];
const elves = new Map<string, string>();

interface Outcome {
  output: string;
  exitCode: number | undefined;
  reason: StopReason;
  instret: number;
  steps: number;
  pc: number;
  regs: number[];
}

let blocksTranslated = 0;

function run(elf: string, jit: boolean, input: Uint8Array | undefined): Outcome {
  const out: number[] = [];
  const m = new Machine({ cpu: { jit }, onUart: (b) => out.push(b) });
  m.loadKernel(new Uint8Array(readFileSync(elf)));
  if (input) m.sendInput(input);
  let reason = StopReason.BUDGET;
  for (let i = 0; i < 40 && reason === StopReason.BUDGET; i++) reason = m.run(5_000_000);
  blocksTranslated += m.hart.code?.translated ?? 0;
  // The backend forEachBackend chose is the one that ran.
  if (jit) expect(m.hart.code!.wasm !== undefined).toBe(jitDefaults.backend === 'wasm');
  return { output: Buffer.from(out).toString('latin1'), exitCode: m.exitCode, reason, instret: m.hart.instret, steps: m.clockSteps, pc: m.hart.pcU, regs: [...m.hart.x] };
}

beforeAll(async () => {
  await mapLimit(programs, 4, async (p) => elves.set(p, await buildGuest(p)));
}, 600_000);

forEachBackend(() => {
  describe('block translator against the interpreter', () => {
    afterAll(() => {
      // The comparison means something only if blocks were actually translated and run.
      expect(blocksTranslated).toBeGreaterThan(100);
    });

    test.each(programs.map((p) => [basename(p), p]))('%s', (_name, path) => {
      const input = declaredInput(readFileSync(path, 'latin1'));
      const interpreted = run(elves.get(path)!, false, input);
      const translated = run(elves.get(path)!, true, input);
      expect(translated).toEqual(interpreted);
    });
  });

  describe('breakpoints with the block translator on', () => {
    // A hot loop, a call, and code after them: breakpoints inside and after blocks.
    const SOURCE = `
    .globl _start
  _start:
    li    s0, 20000
  loop:
    addi  a0, a0, 3
  mid:
    xori  a1, a0, 5
    add   a2, a2, a1
    addi  s0, s0, -1
    bnez  s0, loop
    call  work
  after:
    li    t0, 0x100000
    li    t1, 0x5555
    sw    t1, 0(t0)
  1: j 1b
  work:
    li    t2, 5000
  2:addi  a3, a3, 1
    addi  t2, t2, -1
    bnez  t2, 2b
  inside:
    add   a4, a3, a2
    ret
  `;

    function stops(jit: boolean, labels: string[]): { pcs: number[]; instret: number[]; translated: number } {
      const r = assemble(SOURCE, { file: 'bp.S' });
      if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
      const m = new Machine({ cpu: { jit } });
      m.loadKernel(r.elf);
      const sym = new Map(r.symbols.map((s) => [s.name, s.address]));
      for (const l of labels) m.hart.breakpoints.add(sym.get(l)!);
      const { pcs, instret, reason } = breakpointStops(m);
      expect(reason).toBe(StopReason.EXIT);
      return { pcs, instret, translated: m.hart.code?.translated ?? 0 };
    }

    test('stop at the same instructions as the interpreter, while hot code stays translated', () => {
      const labels = ['inside', 'after'];
      const interp = stops(false, labels);
      const jit = stops(true, labels);
      expect(jit.pcs).toEqual(interp.pcs);
      expect(jit.instret).toEqual(interp.instret);
      expect(interp.pcs).toHaveLength(2);
      // Both loops ran as translated blocks although breakpoints were set.
      expect(jit.translated).toBeGreaterThanOrEqual(2);
    });

    test('a breakpoint at the start or in the middle of a hot loop stops every iteration', () => {
      for (const label of ['loop', 'mid']) expect(stops(true, [label]).pcs).toHaveLength(20000);
    });
  });
});
