// Robustness: random instruction words run in M, S and U, with Sv32 off and on. The engine must
// never throw, device registers must only be reached inside their regions, a PMP-locked canary page
// must never change, and S/U code must never change the PMP-protected runtime. A short run in CI;
// VMLAB_FUZZ_LONG=1 runs millions of instructions.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { GUEST_DIR, buildAsm } from '../support/build';
import { Rng } from '../support/rng';
import { CANARY, FUZZ_CODE, FUZZ_CODE_SIZE, FUZZ_DATA, PARAMS, RAM_BASE, RAM_SIZE } from '../support/fuzz-runtime';

const LONG = process.env.VMLAB_FUZZ_LONG === '1';
const SLICE_STEPS = 5_000;
/** Slices per configuration: 8 x 5,000 x 5 configurations = 200k steps in CI; 10M when long. */
const SLICES = LONG ? 400 : 8;

const CONFIGS = [
  { name: 'M, bare', mode: 3, paging: 0 },
  { name: 'S, bare', mode: 1, paging: 0 },
  { name: 'S, Sv32', mode: 1, paging: 1 },
  { name: 'U, bare', mode: 0, paging: 0 },
  { name: 'U, Sv32', mode: 0, paging: 1 },
] as const;

/** CSRs worth hitting more often than a uniformly random 12-bit number would. */
const CSRS = [0x100, 0x104, 0x105, 0x106, 0x140, 0x141, 0x142, 0x143, 0x144, 0x180, 0x300, 0x301, 0x302, 0x303, 0x304, 0x305, 0x306, 0x310, 0x340, 0x341, 0x342, 0x343, 0x344, 0x3a0, 0x3b0, 0x3b1, 0xb00, 0xb02, 0xc00, 0xc01, 0xc02, 0xc80, 0xf14];
const SYSTEM_WORDS = [0x00000073, 0x00100073, 0x30200073, 0x10200073, 0x10500073, 0x12000073, 0x0000100f, 0x0ff0000f];
const OPCODES = [0x03, 0x23, 0x13, 0x33, 0x37, 0x17, 0x63, 0x6f, 0x67, 0x73, 0x2f, 0x0f, 0x0b];

/** One random instruction word: mostly well-formed encodings of every major opcode. */
function randomWord(r: Rng): number {
  const kind = r.below(10);
  if (kind === 0) return r.next();
  if (kind === 1) return (r.next() & 0xffff) | ((r.next() & 0xffff) << 16);
  if (kind === 2) return SYSTEM_WORDS[r.below(SYSTEM_WORDS.length)];
  const op = OPCODES[r.below(OPCODES.length)];
  const rd = r.below(32);
  const rs1 = r.below(4) === 0 ? r.below(32) : 1 + r.below(15);
  const rs2 = r.below(32);
  const f3 = r.below(8);
  let word = op | (rd << 7) | (f3 << 12) | (rs1 << 15) | (rs2 << 20) | ((r.next() & 0x7f) << 25);
  if (op === 0x73 && f3 !== 0 && f3 !== 4) word = (word & 0xfffff) | (CSRS[r.below(CSRS.length)] << 20);
  if (op === 0x2f) word = (word & ~(7 << 12)) | (2 << 12);
  if (op === 0x33 && r.below(2) === 0) word = (word & 0x01ffffff) | ((r.below(2) === 0 ? 0x01 : 0x20) << 25);
  if ((op === 0x03 || op === 0x23) && r.below(2) === 0) word = (word & 0x000fffff) | ((r.next() & 0x3f) << 20);
  return word >>> 0;
}

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Wraps every device so an access outside its region is recorded. */
function spyDevices(m: Machine, violations: string[]): void {
  for (const region of m.bus.deviceRegions) {
    const dev = region.device;
    const read = dev.read.bind(dev);
    const write = dev.write.bind(dev);
    const check = (offset: number, size: number, what: string): void => {
      if (offset < 0 || offset + size > region.size || ![1, 2, 4].includes(size)) {
        violations.push(`${what} ${dev.name} offset 0x${offset.toString(16)} size ${size}`);
      }
    };
    dev.read = (offset: number, size: number): number => {
      check(offset, size, 'read');
      return read(offset, size);
    };
    dev.write = (offset: number, value: number, size: number): void => {
      check(offset, size, 'write');
      write(offset, value, size);
    };
  }
}

let runtime: Uint8Array;

beforeAll(async () => {
  runtime = new Uint8Array(readFileSync(await buildAsm(join(GUEST_DIR, 'fuzz', 'fuzz-runtime.S'))));
}, 120_000);

describe('random instructions never break the engine', () => {
  test.each(CONFIGS.map((c) => [c.name, c]))('%s', (_name, config) => {
    const seedBase = 0x9e3779b9 ^ (config.mode * 0x1000193 + config.paging * 0x7f4a7c15);
    let steps = 0;
    let traps = 0;
    for (let slice = 0; slice < SLICES; slice++) {
      const seed = (seedBase + slice * 0x85ebca6b) >>> 0;
      const r = new Rng(seed);
      const m = new Machine({ ramSize: RAM_SIZE, cpu: { pmp: true, c: true, a: true, m: true, h: false, xsensitive: false } });
      m.loadKernel(runtime);
      const ram = m.bus.ram;
      const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
      const at = (pa: number): number => pa - RAM_BASE;
      view.setUint32(at(PARAMS), config.mode, true);
      view.setUint32(at(PARAMS) + 4, config.paging, true);
      for (let i = 1; i < 16; i++) view.setUint32(at(PARAMS) + 32 + 4 * i, r.below(3) === 0 ? r.next() : FUZZ_DATA + r.below(0x8000) * 2, true);
      for (let off = 0; off < FUZZ_CODE_SIZE; off += 4) view.setUint32(at(FUZZ_CODE) + off, randomWord(r), true);
      for (let off = 0; off < 4096; off += 4) view.setUint32(at(CANARY) + off, 0xc0ffee00 + off, true);
      const canary = digest(ram.slice(at(CANARY), at(CANARY) + 4096));
      const violations: string[] = [];
      spyDevices(m, violations);
      let reason: StopReason;
      try {
        reason = m.run(SLICE_STEPS * 4);
      } catch (e) {
        throw new Error(`engine threw (${config.name}, seed 0x${seed.toString(16)}): ${(e as Error).stack ?? String(e)}`);
      }
      const runtimeAfterBoot = config.mode !== 3 ? digest(ram.slice(0, at(PARAMS))) : '';
      try {
        reason = m.run(SLICE_STEPS);
      } catch (e) {
        throw new Error(`engine threw (${config.name}, seed 0x${seed.toString(16)}): ${(e as Error).stack ?? String(e)}`);
      }
      expect([StopReason.EXIT, StopReason.BUDGET, StopReason.IDLE, StopReason.RESET], `stop reason (seed 0x${seed.toString(16)})`).toContain(reason);
      expect(violations, `device accesses outside their regions (seed 0x${seed.toString(16)})`).toEqual([]);
      expect(digest(ram.slice(at(CANARY), at(CANARY) + 4096)), `PMP-locked canary changed (seed 0x${seed.toString(16)})`).toBe(canary);
      if (config.mode !== 3 && reason !== StopReason.RESET) {
        expect(digest(ram.slice(0, at(PARAMS))), `${config.name} code changed the PMP-protected runtime (seed 0x${seed.toString(16)})`).toBe(runtimeAfterBoot);
      }
      steps += m.clockSteps;
      traps += view.getUint32(at(PARAMS) + 8, true);
    }
    const trapNote = config.mode === 3 ? '' : `, ${traps} traps handled by the runtime`;
    console.log(`fuzz ${config.name}: ${SLICES} slices, ${steps} steps${trapNote}`);
    expect(steps).toBeGreaterThan(SLICES * SLICE_STEPS * 0.5);
  });
});
