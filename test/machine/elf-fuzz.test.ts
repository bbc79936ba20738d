// Fuzzing the kernel loader with damaged kernels: the hello guest linked by GNU ld and by vmlab's own
// assembler gets its ELF header, program headers, section headers, symbol and string tables
// overwritten, bits flipped, or the file cut short; random bytes of every length around the RAM size
// are loaded as raw images. Each case is loaded into a Machine as vmlab run and the VMM load kernels,
// and run for a bounded number of steps. The outcome is an error saying what is wrong with the file,
// in one line without internals, or a run that ends or uses up its steps; never an exception from the
// run, a hang or a crash. A short run here; npm run test:fuzz:inputs runs 20,000 cases per input.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElfError } from '../../src/engine/machine/elf';
import { Machine } from '../../src/engine/machine/machine';
import { ASM_DIR, buildAsm, buildAsmGnu } from '../support/build';
import { applyMutations, fuzzRuns, INTERNAL_MESSAGE, mutationsArb, type Region } from '../support/mutate';

const RUNS = fuzzRuns(150);
const RAM_SIZE = 1 << 20;
const STEPS = 20_000;
const CASE_MS = 2_000;
const counts = new Map<string, { cases: number; refused: number; ran: number }>();
const bases = new Map<string, Uint8Array>();

beforeAll(async () => {
  bases.set('hello, GNU ld', new Uint8Array(readFileSync(await buildAsmGnu(join(ASM_DIR, 'hello.S')))));
  bases.set("hello, vmlab's assembler", new Uint8Array(readFileSync(await buildAsm(join(ASM_DIR, 'hello.S')))));
});

/** The ELF header, the program and section header tables, and the symbol and string tables. */
function regionsOf(bytes: Uint8Array): Region[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phoff = v.getUint32(28, true);
  const shoff = v.getUint32(32, true);
  const phnum = v.getUint16(44, true);
  const shnum = v.getUint16(48, true);
  const regions: Region[] = [
    { name: 'ELF header', start: 0, length: 52 },
    { name: 'program headers', start: phoff, length: phnum * 32 },
  ];
  if (shoff !== 0) {
    regions.push({ name: 'section headers', start: shoff, length: shnum * 40 });
    for (let i = 0; i < shnum; i++) {
      const sh = shoff + i * 40;
      const type = v.getUint32(sh + 4, true);
      // SHT_SYMTAB and SHT_STRTAB
      if (type === 2 || type === 3) regions.push({ name: `section ${i}`, start: v.getUint32(sh + 16, true), length: Math.max(1, v.getUint32(sh + 20, true)) });
    }
  }
  return regions;
}

/** Loads and runs one kernel; throws (failing the property) unless it ends cleanly. */
function boot(bytes: Uint8Array, tally: { refused: number; ran: number }): void {
  const t0 = Date.now();
  const m = new Machine({ ramSize: RAM_SIZE, onUart: () => undefined });
  try {
    m.loadKernel(bytes);
  } catch (err) {
    if (!(err instanceof Error) || (err.constructor !== ElfError && err.constructor !== Error)) throw err;
    expect(err.message).not.toMatch(INTERNAL_MESSAGE);
    expect(err.message).not.toContain('\n');
    expect(err.message.length).toBeGreaterThan(10);
    tally.refused++;
    return;
  }
  m.run(STEPS);
  tally.ran++;
  expect(Date.now() - t0, 'one case took too long').toBeLessThan(CASE_MS);
}

describe('damaged ELF kernels', () => {
  for (const name of ['hello, GNU ld', "hello, vmlab's assembler"]) {
    it(`${name}: ${RUNS} mutated and truncated copies are refused cleanly or run`, () => {
      const base = bases.get(name)!;
      const regions = regionsOf(base);
      const tally = { cases: 0, refused: 0, ran: 0 };
      counts.set(name, tally);
      fc.assert(
        fc.property(mutationsArb(regions), (mutations) => {
          tally.cases++;
          boot(applyMutations(base, regions, mutations), tally);
        }),
        { seed: name.length * 0x1313, numRuns: RUNS },
      );
      expect(tally.refused).toBeGreaterThan(0);
      expect(tally.ran).toBeGreaterThan(0);
    }, RUNS > 500 ? 3_600_000 : 120_000);
  }
});

describe('raw kernel images', () => {
  it(`${RUNS} random images of every size up to past the RAM are refused cleanly or run`, () => {
    const tally = { cases: 0, refused: 0, ran: 0 };
    counts.set('raw images', tally);
    const size = fc.oneof(fc.nat({ max: 4096 }), fc.constantFrom(0, 1, 2, 3, 4, RAM_SIZE - 1, RAM_SIZE, RAM_SIZE + 1, 2 * RAM_SIZE));
    fc.assert(
      fc.property(size, fc.integer(), fc.boolean(), (n, seed, magic) => {
        tally.cases++;
        const bytes = new Uint8Array(n);
        let x = seed | 1;
        for (let i = 0; i < n; i++) {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          bytes[i] = x & 0xff;
        }
        // Some start like an ELF file and then are anything at all.
        if (magic && n >= 4) bytes.set([0x7f, 0x45, 0x4c, 0x46]);
        boot(bytes, tally);
      }),
      { seed: 0x13, numRuns: RUNS },
    );
    expect(tally.refused).toBeGreaterThan(0);
    expect(tally.ran).toBeGreaterThan(0);
  }, RUNS > 500 ? 3_600_000 : 120_000);

  it('an empty kernel is refused as QEMU refuses it, not run for ever', () => {
    expect(() => new Machine({ ramSize: RAM_SIZE }).loadKernel(new Uint8Array(0))).toThrow(/^could not load the kernel: the file is empty$/);
  });
});

afterAll(() => {
  const total = [...counts.values()].reduce((n, c) => n + c.cases, 0);
  console.log(`kernel fuzz: ${total} cases (${[...counts].map(([n, c]) => `${n}: ${c.cases}, ${c.refused} refused, ${c.ran} ran`).join('; ')})`);
});
