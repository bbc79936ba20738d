// The block translator must be invisible: every corpus program gives the same output, exit code,
// instruction and step counts, and final registers with and without it.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { ASM_DIR, C_DIR, buildGuest, listGuests, mapLimit } from '../support/build';
import { declaredInput } from '../support/vmlab';

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
  return { output: Buffer.from(out).toString('latin1'), exitCode: m.exitCode, reason, instret: m.hart.instret, steps: m.clockSteps, pc: m.hart.pcU, regs: [...m.hart.x] };
}

beforeAll(async () => {
  await mapLimit(programs, 4, async (p) => elves.set(p, await buildGuest(p)));
}, 600_000);

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
