// The interpreter's fast run in WebAssembly (src/engine/cpu/fast-run.wat) against execute's own
// JavaScript one: random programs of the instructions it runs (integer, M, loads and stores,
// branches and jumps, compressed forms, AMOs, LR and SC, with illegal and misaligned ones among them) run on two
// machines that differ only in the fast run, in M-mode and in S and U with Sv32, with and without
// C and M. Everything the guest and the translator can see must be the same: pc, registers,
// instructions retired, traps by cause, RAM, TLB hits and the translator's counters. Random loops
// (loopProgram) make the translator build regions that the fast run enters itself, regions that
// trap and call slow paths among them, with LR and SC, instructions across a page's end and CSR
// instructions on mstatus and sstatus (some with an interrupt pending).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { fastRunDefaults } from '../../src/engine/cpu/fast-run';
import { jitDefaults } from '../../src/engine/cpu/jit';
import { FAST_RUN_WASM } from '../../src/engine/cpu/fast-run-wasm';
import { Machine } from '../../src/engine/machine/machine';
import { fastRunBytes, fastRunModule } from '../../scripts/fast-run-wasm';
import { GUEST_DIR, buildAsm } from '../support/build';
import { Rng } from '../support/rng';
import { FUZZ_CODE, FUZZ_CODE_SIZE, FUZZ_DATA, PARAMS, RAM_BASE, RAM_SIZE } from '../support/fuzz-runtime';


/** A register holding a data address most of the time (x1 to x15 start so). */
function base(r: Rng): number {
  return r.below(8) === 0 ? r.below(32) : 1 + r.below(15);
}

/** One random instruction word (or two compressed ones): the fast run's instructions, mostly well formed. */
function randomWord(r: Rng): number {
  const rd = r.below(32);
  const rs1 = base(r);
  const rs2 = r.below(32);
  const f3 = r.below(8);
  switch (r.below(16)) {
    case 0: return r.next() >>> 0;
    case 15: {
      // An AMO, LR or SC (aq and rl at random), now and then with another width.
      const f5 = [0, 1, 2, 3, 4, 8, 12, 16, 20, 24, 28, r.below(32)][r.below(12)];
      return (0x2f | (rd << 7) | ((r.below(6) === 0 ? f3 : 2) << 12) | (base(r) << 15) | (rs2 << 20) | (r.below(4) << 25) | (f5 << 27)) >>> 0;
    }
    case 14: return (0x0f | (r.next() & 0xfffff000) | (rd << 7) | (rs1 << 15) | (r.below(3) << 12)) >>> 0; // FENCE, FENCE.I, illegal
    case 1: return ((r.next() & 0xfffc) | ((r.next() & 0xffff) << 16)) >>> 0; // two compressed halfwords
    case 2: return (r.next() & 0xffff) | ((r.next() & 0xffff) << 16);
    case 3: return (0x13 | (rd << 7) | (f3 << 12) | (rs1 << 15) | ((r.next() & 0xfff) << 20)) >>> 0;
    case 4: return (0x13 | (rd << 7) | ((r.below(2) === 0 ? 1 : 5) << 12) | (rs1 << 15) | (r.below(32) << 20) | ((r.below(3) === 0 ? 0x20 : r.below(8) === 0 ? r.below(128) : 0) << 25)) >>> 0;
    case 5: return (0x33 | (rd << 7) | (f3 << 12) | (rs1 << 15) | (rs2 << 20) | ([0, 0x20, 0x01, 0x01, r.below(128)][r.below(5)] << 25)) >>> 0;
    case 6: return ((r.below(2) === 0 ? 0x37 : 0x17) | (rd << 7) | (r.next() & 0xfffff000)) >>> 0;
    case 7: case 8: return (0x03 | (rd << 7) | (f3 << 12) | (rs1 << 15) | ((r.next() & 0x3f) << 20)) >>> 0;
    case 9: return (0x23 | ((r.next() & 0x1f) << 7) | ((r.below(4) === 0 ? f3 : r.below(3)) << 12) | (rs1 << 15) | (rs2 << 20) | ((r.below(4) === 0 ? 0x7f : 0) << 25)) >>> 0;
    case 10: case 11: {
      // A branch a few instructions away, either way (bits 1 set now and then: misaligned without C).
      const off = (r.below(64) - 40) * 2;
      const imm = off & 0x1fff;
      return (0x63 | (((imm >> 11) & 1) << 7) | (((imm >> 1) & 0xf) << 8) | (f3 << 12) | (base(r) << 15) | (base(r) << 20) | (((imm >> 5) & 0x3f) << 25) | (((imm >> 12) & 1) << 31)) >>> 0;
    }
    case 12: {
      const off = (r.below(64) - 32) * 2;
      const imm = off & 0x1fffff;
      return (0x6f | (rd << 7) | (((imm >> 12) & 0xff) << 12) | (((imm >> 11) & 1) << 20) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 20) & 1) << 31)) >>> 0;
    }
    default: return (0x67 | (rd << 7) | ((r.below(6) === 0 ? f3 : 0) << 12) | (rs1 << 15) | ((r.next() & 0xfff) << 20)) >>> 0;
  }
}

function addi(rd: number, rs1: number, imm: number): number {
  return (0x13 | (rd << 7) | (rs1 << 15) | ((imm & 0xfff) << 20)) >>> 0;
}

function bne(rs1: number, rs2: number, off: number): number {
  const imm = off & 0x1fff;
  return (0x63 | (((imm >> 11) & 1) << 7) | (((imm >> 1) & 0xf) << 8) | (1 << 12) | (rs1 << 15) | (rs2 << 20) | (((imm >> 5) & 0x3f) << 25) | (((imm >> 12) & 1) << 31)) >>> 0;
}

function jal(rd: number, off: number): number {
  const imm = off & 0x1fffff;
  return (0x6f | (rd << 7) | (((imm >> 12) & 0xff) << 12) | (((imm >> 11) & 1) << 20) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 20) & 1) << 31)) >>> 0;
}

/**
 * A body instruction of loopProgram: mostly computations into x16..x27 and loads and stores
 * through the data registers x1..x15 (some of which hold addresses that fault, or point into the
 * code), now and then any word at all (a trap, a jump, a CSR access).
 */
function loopBody(r: Rng, c: boolean): number {
  const rd = 16 + r.below(12);
  const rs = (): number => r.below(28);
  const base = 1 + r.below(15);
  switch (r.below(16)) {
    // Device registers (x12 and x13 may hold their addresses, loopProgram's caller): the CLINT's
    // timer and the UART's line status.
    case 12: return (0x03 | (rd << 7) | (2 << 12) | (12 << 15)) >>> 0;
    case 14: {
      // A CSR instruction on mstatus or sstatus: mostly a kernel's interrupts off and back (an
      // immediate of MIE or SIE, or a register holding what an earlier one read), now and then
      // mie's machine software interrupt on (x11 may point at the CLINT's msip).
      if (r.below(8) === 0) return (0x73 | (6 << 12) | (8 << 15) | (0x304 << 20)) >>> 0;
      const csr = r.below(2) === 0 ? 0x300 : 0x100;
      const f3 = [1, 2, 3, 5, 6, 7][r.below(6)];
      const src = f3 >= 5 ? [0, 2, 8, 10, r.below(32)][r.below(5)] : r.below(4) === 0 ? 0 : r.below(4) === 0 ? 1 + r.below(15) : 16 + r.below(12);
      return (0x73 | (rd << 7) | (f3 << 12) | (src << 15) | (csr << 20)) >>> 0;
    }
    case 13: return (0x03 | (rd << 7) | (4 << 12) | (13 << 15) | (5 << 20)) >>> 0;
    case 0: case 1: case 2: return (0x13 | (rd << 7) | ([0, 2, 3, 4, 6, 7][r.below(6)] << 12) | (rs() << 15) | ((r.next() & 0xfff) << 20)) >>> 0;
    case 3: case 4: {
      const f3 = r.below(8);
      return (0x33 | (rd << 7) | (f3 << 12) | (rs() << 15) | (rs() << 20) | ((r.below(3) === 0 ? 0x01 : (f3 === 0 || f3 === 5) && r.below(2) === 0 ? 0x20 : 0) << 25)) >>> 0;
    }
    case 5: case 6: return (0x03 | (rd << 7) | ([0, 1, 2, 4, 5][r.below(5)] << 12) | (base << 15) | ((r.below(16) * 4 + (r.below(16) === 0 ? r.below(4) : 0)) << 20)) >>> 0;
    case 7: case 8: {
      const imm = r.below(16) * 4;
      return (0x23 | ((imm & 31) << 7) | (r.below(3) << 12) | (base << 15) | (rs() << 20) | ((imm >> 5) << 25)) >>> 0;
    }
    case 9: return ((r.below(2) === 0 ? 0x37 : 0x17) | (rd << 7) | (r.next() & 0xfffff000)) >>> 0;
    // An AMO, which ends a region's block (the fast run runs it, and its next pc is an entry).
    case 11: return (0x2f | (rd << 7) | (2 << 12) | (base << 15) | (rs() << 20) | ([0, 1, 4, 8, 12, 16, 20, 24, 28][r.below(9)] << 27)) >>> 0;
    case 10: {
      if (!c) return addi(rd, rs(), r.next());
      const cAddi = (): number => {
        const imm = r.below(64) - 32;
        return ((imm & 0x20) << 7) | ((16 + r.below(12)) << 7) | ((imm & 0x1f) << 2) | 1;
      };
      return (cAddi() | (cAddi() << 16)) >>> 0;
    }
    default: return r.below(24) === 0 ? r.next() >>> 0 : addi(rd, rs(), r.next());
  }
}

/**
 * Random loops: blocks, each in pages of its own, that count x28 down over a random body and
 * branch back, then jump to the next block (or now and then to another), the last back to the
 * first. The translator builds regions at their heads (chained from page to page); the fast run,
 * coming from an AMO, a trap's return or a jump, enters them there. With C, a block may sit across
 * a page's end (no region holds an instruction there: the fast run runs it at every pass, or
 * leaves it to execute's general path): its first body instruction there after a compressed one,
 * its head there (the jump from another page lands there), or its loop's head there (the branch
 * back lands there). Returns the code's halfwords.
 */
function loopProgram(r: Rng, c: boolean): number[] {
  const PAGE = 2048;
  const blocks = 3 + r.below(3);
  // Halfwords before the page's end where a block across it starts (0: a block inside its page).
  const across = Array.from({ length: blocks }, () => (c && r.below(2) === 0 ? [4, 1, 3][r.below(3)] : 0));
  const heads = Array.from({ length: blocks }, (_, b) => (across[b] !== 0 ? (3 * b + 2) * PAGE - across[b] : 3 * b * PAGE + 2 * r.below(64)));
  const hw = new Array<number>(blocks * 3 * PAGE).fill(0);
  let at = 0;
  const put = (w: number): void => {
    hw[at++] = w & 0xffff;
    hw[at++] = w >>> 16;
  };
  for (let b = 0; b < blocks; b++) {
    at = heads[b];
    put(addi(28, 0, 2 + r.below(30)));
    const top = at;
    if (across[b] === 4) hw[at++] = ((16 + r.below(12)) << 7) | (1 << 2) | 1; // c.addi rd, 1
    const n = 2 + r.below(14);
    for (let i = 0; i < n; i++) {
      // Across the page's end, now and then an instruction the fast run may leave to execute's
      // general path: a load through x13 (the UART's when it holds its address).
      put(i === 0 && across[b] === 4 && r.below(2) === 0 ? (0x03 | (16 << 7) | (4 << 12) | (13 << 15) | (5 << 20)) >>> 0 : loopBody(r, c));
      if (r.below(6) === 0) {
        // LR and SC on one data register, now and then a store to the word between them (SC fails).
        const base = 1 + r.below(15);
        put((0x2f | ((16 + r.below(12)) << 7) | (2 << 12) | (base << 15) | (2 << 27)) >>> 0);
        if (r.below(3) === 0) put((0x23 | (2 << 12) | (base << 15) | (r.below(28) << 20)) >>> 0);
        // An SC elsewhere ends the reservation (the SC after it fails).
        if (r.below(3) === 0) put((0x2f | ((16 + r.below(12)) << 7) | (2 << 12) | ((1 + r.below(15)) << 15) | (r.below(28) << 20) | (3 << 27)) >>> 0);
        put((0x2f | ((16 + r.below(12)) << 7) | (2 << 12) | (base << 15) | (r.below(28) << 20) | (3 << 27)) >>> 0);
      }
    }
    put(addi(28, 28, -1));
    put(bne(28, 0, (top - at) * 2));
    const to = r.below(3) === 0 ? r.below(blocks) : (b + 1) % blocks;
    put(jal(0, (heads[to] - at) * 2));
  }
  return hw;
}

/**
 * A loop of CSR instructions on mstatus (M-mode) or sstatus: interrupts off and back on through
 * immediates and registers, reads, writes of whole values, with the machine software interrupt
 * enabled and, now and then, pending (stores to the CLINT's msip through x11). Returns halfwords.
 */
function csrProgram(r: Rng, mode: number): number[] {
  const csr = mode === 3 ? 0x300 : 0x100;
  const ie = mode === 3 ? 8 : 2;
  const op = (f3: number, rd: number, src: number): number => (0x73 | (rd << 7) | (f3 << 12) | (src << 15) | (csr << 20)) >>> 0;
  const w: number[] = [(0x73 | (6 << 12) | (8 << 15) | (0x304 << 20)) >>> 0, addi(19, 0, ie), addi(21, 0, 1)];
  const top = w.length;
  w.push(addi(28, 0, 20 + r.below(40)));
  const loop = w.length;
  const n = 6 + r.below(10);
  for (let i = 0; i < n; i++) {
    const rd = 16 + r.below(4);
    switch (r.below(9)) {
      case 0: w.push(op(7, rd, ie)); break;
      case 1: w.push(op(6, rd, ie)); break;
      case 2: w.push(op(2, 0, 16 + r.below(4))); break;
      case 3: w.push(op(3, rd, 19)); break;
      case 4: w.push(op(1, rd, 16 + r.below(4))); break;
      case 5: w.push(op(2, rd, 0)); break;
      case 6: w.push((0x23 | (2 << 12) | (11 << 15) | ((r.below(2) === 0 ? 21 : 0) << 20)) >>> 0); break;
      case 7: w.push(op(5, rd, r.below(2) === 0 ? ie : 0)); break;
      default: w.push(loopBody(r, false));
    }
  }
  w.push(addi(28, 28, -1));
  w.push(bne(28, 0, (loop - w.length) * 4));
  w.push(jal(0, (top - w.length) * 4));
  return w.flatMap((x) => [x & 0xffff, x >>> 16]);
}

const CONFIGS = [
  { name: 'M, bare', mode: 3, paging: 0, c: true, m: true, a: true },
  { name: 'S, Sv32', mode: 1, paging: 1, c: true, m: true, a: true },
  { name: 'U, Sv32', mode: 0, paging: 1, c: true, m: true, a: true },
  { name: 'M, bare, no C', mode: 3, paging: 0, c: false, m: true, a: true },
  { name: 'S, Sv32, no M', mode: 1, paging: 1, c: true, m: false, a: true },
  { name: 'S, Sv32, no A', mode: 1, paging: 1, c: true, m: true, a: false },
] as const;

let runtime: Uint8Array;
/** Regions the fast run entered itself, over the runs so far. */
let fastRunEntries = 0;
/** The same runtime without compressed instructions, for the harts without C. */
let runtimeNoC: Uint8Array;

beforeAll(async () => {
  const src = join(GUEST_DIR, 'fuzz', 'fuzz-runtime.S');
  runtime = new Uint8Array(readFileSync(await buildAsm(src)));
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-fast-run-'));
  const noC = join(dir, 'fuzz-runtime-norvc.S');
  writeFileSync(noC, `.option norvc\n${readFileSync(src, 'utf8')}`);
  runtimeNoC = new Uint8Array(readFileSync(await buildAsm(noC)));
}, 120_000);

/**
 * What a run left that the guest or the translator can see. `noBitmaps`: the code cache has no
 * bitmaps of block starts to hand out, so the fast run leaves at every jump into a page with blocks.
 */
function run(config: (typeof CONFIGS)[number], seed: number, fast: boolean, build: boolean, noBitmaps = false, loops: boolean | 'csr' = false): Record<string, unknown> {
  const saved = fastRunDefaults.enabled;
  const budget = jitDefaults.buildBudget;
  fastRunDefaults.enabled = fast;
  // Without building, everything runs in the interpreter, the translator's heat counts included.
  if (!build) jitDefaults.buildBudget = 2 ** 40;
  try {
    const r = new Rng(seed);
    // In the loops, a timer tick per step: a load of the timer sees the exact step it ran at.
    const m = new Machine({ ramSize: RAM_SIZE, stepsPerTick: loops ? 1 : undefined, cpu: { pmp: true, c: config.c, a: config.a, m: config.m, h: false, xsensitive: false } });
    expect(m.hart.fastRun !== undefined, 'the fast run in WebAssembly is in use').toBe(fast);
    m.loadKernel(config.c ? runtime : runtimeNoC);
    if (noBitmaps) (m.hart.code as unknown as { freeBits: number[] }).freeBits.length = 0;
    const ram = m.bus.ram;
    const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
    const at = (pa: number): number => pa - RAM_BASE;
    view.setUint32(at(PARAMS), config.mode, true);
    view.setUint32(at(PARAMS) + 4, config.paging, true);
    for (let i = 1; i < 16; i++) view.setUint32(at(PARAMS) + 32 + 4 * i, r.below(5) === 0 ? r.next() : FUZZ_DATA + r.below(0x4000) * 2 + r.below(2), true);
    if (loops) {
      // Data registers that point into the data (loops that fault at every pass leave the fast run
      // no region to enter), but for one now and then, and one that may point into the code:
      // stores that drop translated regions.
      for (let i = 1; i < 15; i++) view.setUint32(at(PARAMS) + 32 + 4 * i, FUZZ_DATA + r.below(0x4000) * 4, true);
      if (r.below(2) === 0) view.setUint32(at(PARAMS) + 32 + 4 * 14, r.next(), true);
      if (r.below(3) === 0) view.setUint32(at(PARAMS) + 32 + 4 * 15, FUZZ_CODE + r.below(64) * 4, true);
      // Device registers: the UART's (a device access ends the slice) and the CLINT's timer (its
      // value counts the instructions retired up to the load).
      if (r.below(2) === 0) view.setUint32(at(PARAMS) + 32 + 4 * 13, 0x1000_0000, true);
      if (r.below(2) === 0) view.setUint32(at(PARAMS) + 32 + 4 * 12, 0x0200_bff8, true);
      if (loops === 'csr' || r.below(3) === 0) view.setUint32(at(PARAMS) + 32 + 4 * 11, 0x0200_0000, true);
      const halves = loops === 'csr' ? csrProgram(r, config.mode) : loopProgram(r, config.c);
      for (let i = 0; i < halves.length; i++) view.setUint16(at(FUZZ_CODE) + 2 * i, halves[i], true);
    } else {
      for (let off = 0; off < FUZZ_CODE_SIZE; off += 4) view.setUint32(at(FUZZ_CODE) + off, randomWord(r), true);
    }
    m.run(loops ? 150_000 : 40_000);
    const h = m.hart;
    // Which dispatcher entered a region is all that may differ (in JitStats.fastRunEntries).
    const stats = { ...h.code?.stats };
    fastRunEntries += stats.fastRunEntries ?? 0;
    delete stats.fastRunEntries;
    return {
      pc: h.pc >>> 0,
      x: Array.from(h.x),
      instret: h.instret + h.sliceDone,
      steps: m.clockSteps,
      traps: Array.from(h.trapCounts).join(','),
      ram: createHash('sha256').update(ram).digest('hex'),
      tlbHits: h.tlb.hits,
      // What the fast run keeps copies of while it runs.
      state: [h.mstatus >>> 0, h.reservation, h.reservedValue],
      jit: JSON.stringify(h.code === undefined ? undefined : stats),
    };
  } finally {
    fastRunDefaults.enabled = saved;
    jitDefaults.buildBudget = budget;
  }
}

describe('the fast run in WebAssembly', () => {
  test('its committed bytes are fast-run.wat assembled', async () => {
    const bytes = await fastRunBytes();
    expect(Array.from(FAST_RUN_WASM)).toEqual(Array.from(bytes));
    expect(readFileSync(join(__dirname, '../../src/engine/cpu/fast-run-wasm.ts'), 'utf8')).toBe(fastRunModule(bytes));
  });

  test.each(CONFIGS.map((c) => [c.name, c]))('runs random programs as execute does: %s', (_name, config) => {
    let built = 0;
    for (let k = 0; k < 24; k++) {
      const seed = (0x2545f491 + k * 0x9e3779b9 + config.mode * 0x1000193 + (config.c ? 0 : 77) + (config.m ? 0 : 991) + (config.a ? 0 : 5003)) >>> 0;
      const build = k % 2 === 1;
      const js = run(config, seed, false, build);
      const wasm = run(config, seed, true, build);
      expect(wasm, `seed 0x${seed.toString(16)}${build ? '' : ', nothing built'}`).toEqual(js);
      if (build) expect(run(config, seed, true, build, true), `seed 0x${seed.toString(16)}, no block-start bitmaps`).toEqual(js);
      built += (JSON.parse(js.jit as string) as { translations: number }).translations;
    }
    // The seeds that build make the translator build (so its entries and heat meet the fast run's).
    expect(built).toBeGreaterThan(0);
  });

  test.each(CONFIGS.map((c) => [c.name, c]))('runs CSR instructions on mstatus and sstatus as execute does: %s', (_name, config) => {
    for (let k = 0; k < 6; k++) {
      const seed = (0x1b873593 + k * 0x9e3779b9 + config.mode * 0x1000193 + (config.c ? 0 : 77) + (config.m ? 0 : 991) + (config.a ? 0 : 5003)) >>> 0;
      const js = run(config, seed, false, true, false, 'csr');
      expect(run(config, seed, true, true, false, 'csr'), `seed 0x${seed.toString(16)}`).toEqual(js);
    }
  });

  test.each(CONFIGS.map((c) => [c.name, c]))('enters translated regions as execute does, in random loops: %s', (_name, config) => {
    const before = fastRunEntries;
    let runs = 0;
    for (let k = 0; k < 8; k++) {
      const seed = (0x7f4a7c15 + k * 0x9e3779b9 + config.mode * 0x1000193 + (config.c ? 0 : 77) + (config.m ? 0 : 991) + (config.a ? 0 : 5003)) >>> 0;
      const entries = fastRunEntries;
      const js = run(config, seed, false, true, false, true);
      expect(fastRunEntries, 'without the fast run, execute enters every region').toBe(entries);
      const wasm = run(config, seed, true, true, false, true);
      expect(wasm, `seed 0x${seed.toString(16)}`).toEqual(js);
      expect(run(config, seed, true, true, true, true), `seed 0x${seed.toString(16)}, no block-start bitmaps`).toEqual(js);
      runs += (JSON.parse(js.jit as string) as { blockRuns: number }).blockRuns;
    }
    // The fast run entered regions itself: the AMOs, which end a region's block, hand it the loops
    // (without A they trap, and execute enters the regions after the trap's return).
    if (config.a) expect(fastRunEntries - before).toBeGreaterThan(100);
    expect(runs).toBeGreaterThan(0);
  });
});
