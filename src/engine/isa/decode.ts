// Decoders generated from the instruction table at module load:
//  - DECODE_BUCKET / decodeWord: 32-bit word → Op, one typed-array load for most instructions;
//  - EXPAND_C: every 16-bit compressed encoding → its 32-bit base equivalent (0 when reserved);
//  - C_ID: every 16-bit compressed encoding → its compressed Op (for tracing and disassembly).

import { fieldMask, getField, putField, type FieldName } from './fields';
import { Op } from './opcodes';
import { INSTRUCTIONS, INSN_BY_ID, type ExpandArg, type InsnDef } from './table';

const BUCKET_BITS = 0x707f;
const FUNCT7_BITS = 0xfe000000;
/** Bucket values at or below this are linear lists: LINEAR_BASE - index. */
const LINEAR_BASE = -1000;

/** Bucket index of a 32-bit word: opcode bits 6:0 and funct3 bits 14:12. */
export function bucketOf(word: number): number {
  return (word & 0x7f) | ((word >>> 5) & 0x380);
}

/** For each bucket: an Op (>= 0), -(1 + s) for funct7 sub-table s, or LINEAR_BASE - l for list l. */
export const DECODE_BUCKET = new Int16Array(1024);
/** funct7 sub-tables, 128 entries each. */
export const DECODE_FUNCT7 = new Int16Array(128 * 16);
const LINEAR: InsnDef[][] = [];

function satisfiesNonzero(def: InsnDef, word: number): boolean {
  const names = def.nonzero;
  if (names === undefined) return true;
  for (let i = 0; i < names.length; i++) if (getField(word, names[i]) === 0) return false;
  return true;
}

/**
 * Each 32-bit entry in the buckets its fixed opcode and funct3 bits allow, in table order: most
 * entries fix all ten bits (one bucket). Filtering the table once per bucket (1,024 filters of some
 * 150 entries, their callbacks in V8's bytecode interpreter) cost every start about 2 ms.
 */
function entriesByBucket(): InsnDef[][] {
  const buckets: InsnDef[][] = [];
  for (let b = 0; b < 1024; b++) buckets.push([]);
  for (let i = 0; i < INSTRUCTIONS.length; i++) {
    const def = INSTRUCTIONS[i];
    if (def.size !== 4) continue;
    const fixed = bucketOf(def.mask & BUCKET_BITS);
    const at = bucketOf(def.match) & fixed;
    const free = 0x3ff & ~fixed;
    // Every subset of the free bits, from all of them down to none.
    for (let sub = free; ; sub = (sub - 1) & free) {
      buckets[at | sub].push(def);
      if (sub === 0) break;
    }
  }
  return buckets;
}

function buildWordDecoder(): void {
  const buckets = entriesByBucket();
  let subCount = 0;
  for (let b = 0; b < 1024; b++) {
    const word = (b & 0x7f) | ((b & 0x380) << 5);
    const inBucket = buckets[b];
    // Most specific first: more fixed bits wins (fence.tso before fence, c.nop before c.addi).
    inBucket.sort((a, b2) => popcount(b2.mask) - popcount(a.mask));
    if ((word & 3) !== 3 || inBucket.length === 0) {
      DECODE_BUCKET[b] = Op.ILLEGAL;
    } else if (inBucket.length === 1 && (inBucket[0].mask & ~BUCKET_BITS) === 0) {
      DECODE_BUCKET[b] = inBucket[0].id;
    } else if (inBucket.every((def) => (def.mask & ~BUCKET_BITS) >>> 0 === FUNCT7_BITS || (def.mask & ~BUCKET_BITS) === 0) && subCount < 16) {
      const s = subCount++;
      for (let f7 = 0; f7 < 128; f7++) {
        const w = (word | (f7 << 25)) >>> 0;
        const hit = inBucket.find((def) => ((w ^ def.match) & def.mask) === 0);
        DECODE_FUNCT7[s * 128 + f7] = hit ? hit.id : Op.ILLEGAL;
      }
      DECODE_BUCKET[b] = -(1 + s);
    } else {
      DECODE_BUCKET[b] = LINEAR_BASE - LINEAR.length;
      LINEAR.push(inBucket);
    }
  }
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}

/** Resolves a word whose bucket is a sub-table or a list (the rare path of the interpreter). */
export function decodeSlow(word: number, bucket: number): Op {
  if (bucket > LINEAR_BASE) return DECODE_FUNCT7[(-1 - bucket) * 128 + (word >>> 25)];
  for (const def of LINEAR[LINEAR_BASE - bucket]) if (((word ^ def.match) & def.mask) === 0) return def.id;
  return Op.ILLEGAL;
}

/** Decodes a 32-bit instruction word (low two bits 11) to its Op; ILLEGAL when no entry matches. */
export function decodeWord(word: number): Op {
  const b = DECODE_BUCKET[bucketOf(word)];
  return b >= 0 ? b : decodeSlow(word, b);
}

/** 32-bit base equivalent of each 16-bit compressed encoding; 0 marks a reserved encoding. */
export const EXPAND_C = new Int32Array(65536);
/** Compressed Op of each 16-bit encoding (ILLEGAL when reserved or not compressed). */
export const C_ID = new Uint8Array(65536);

/** One field of a compressed entry's expansion: where it goes and how its value is found. */
interface ExpandStep {
  readonly name: FieldName;
  readonly arg: ExpandArg;
}

/** Each compressed entry's expansion steps, listed once (Object.entries per halfword cost start-up time). */
const EXPAND_STEPS = new Map<InsnDef, readonly ExpandStep[]>();

function expandSteps(def: InsnDef): readonly ExpandStep[] {
  let steps = EXPAND_STEPS.get(def);
  if (steps === undefined) {
    steps = (Object.entries(def.expand!.args) as [FieldName, ExpandArg][]).map(([name, arg]) => ({ name, arg }));
    EXPAND_STEPS.set(def, steps);
  }
  return steps;
}

/** Builds the base instruction word that a compressed entry expands to. */
export function expandCompressed(def: InsnDef, half: number): number {
  let word = INSN_BY_ID[def.expand!.op].match;
  const get = (name: FieldName): number => getField(half, name);
  const steps = expandSteps(def);
  for (let i = 0; i < steps.length; i++) {
    const { name, arg } = steps[i];
    const value = typeof arg === 'number' ? arg : typeof arg === 'function' ? arg(get) : getField(half, arg);
    word |= putField(name, value);
  }
  return word | 0;
}

/** Finds the compressed entry for a 16-bit encoding, honoring reserved (nonzero) constraints. */
export function matchCompressed(half: number): InsnDef | undefined {
  return C_CANDIDATES.find((def) => ((half ^ def.match) & def.mask) === 0 && satisfiesNonzero(def, half));
}

const C_CANDIDATES = INSTRUCTIONS.filter((def) => def.size === 2).sort((a, b) => popcount(b.mask) - popcount(a.mask));

/**
 * Fills EXPAND_C and C_ID entry by entry rather than halfword by halfword: each entry's halfwords
 * (its free bits over its fixed ones) are walked in Gray-code order, so each next halfword differs
 * from the last in one bit. Every expansion copies bits of the halfword into fields of the base word
 * (sign bits repeated, constants added), so a halfword's expansion is the expansion of the entry's
 * match XOR the change each of its free bits makes alone: 2 + (free bits) calls of expandCompressed
 * per entry instead of one per halfword (building the tables halfword by halfword took 50-90 ms of
 * every start). test/isa/decode.test.ts checks every halfword against matchCompressed and
 * expandCompressed. Entries are written least specific first, so the most specific matching entry
 * wins, as in matchCompressed; one whose reserved (nonzero) form a halfword is leaves it reserved
 * (c.jr x0 is not c.mv).
 */
function buildCompressedDecoder(): void {
  for (let e = C_CANDIDATES.length - 1; e >= 0; e--) {
    const def = C_CANDIDATES[e];
    const free: number[] = [];
    for (let bit = 1; bit < 0x10000; bit <<= 1) if ((def.mask & bit) === 0) free.push(bit);
    const base = expandCompressed(def, def.match);
    const delta = Int32Array.from(free, (bit) => expandCompressed(def, def.match | bit) ^ base);
    // Halfwords where a reserved-if-zero field is zero (c.addi4spn's immediate, c.jr's rs1) stay illegal.
    const nonzero = (def.nonzero ?? []).map(fieldMask);
    fillCompressed(def.match, base, Int32Array.from(free), delta, nonzero.length === 0 ? undefined : Int32Array.from(nonzero), def.id);
  }
}

/**
 * The Gray-code walk of one entry's halfwords (buildCompressedDecoder), on numbers and typed arrays
 * only: a small function V8 optimizes in about a millisecond. With the entry objects (of several
 * shapes) in its loop, the whole builder was compiled on the stack, dropped at the next shape and
 * compiled again: 60 to 200 ms of every start, more than the walk itself.
 */
function fillCompressed(match: number, base: number, free: Int32Array, delta: Int32Array, nonzero: Int32Array | undefined, id: number): void {
  let h = match;
  let word = base;
  const n = 1 << free.length;
  for (let k = 0; ; ) {
    let legal = true;
    if (nonzero !== undefined) for (let i = 0; i < nonzero.length; i++) if ((h & nonzero[i]) === 0) legal = false;
    EXPAND_C[h] = legal ? word : 0;
    C_ID[h] = legal ? id : Op.ILLEGAL;
    if (++k === n) break;
    // The bit that changes from Gray code k - 1 to k: the lowest set bit of k.
    const i = 31 - Math.clz32(k & -k);
    h ^= free[i];
    word ^= delta[i];
  }
}

/** A decoded instruction for tools (disassembler, tracer, VMM emulation): entry, word and size. */
export interface Decoded {
  readonly def: InsnDef | undefined;
  /** The raw bits (16 or 32 of them). */
  readonly bits: number;
  readonly size: 2 | 4;
}

/** Decodes the instruction at the start of `bits` (low 16 or all 32 bits). */
export function decodeAny(bits: number): Decoded {
  if ((bits & 3) !== 3) {
    const half = bits & 0xffff;
    const id = C_ID[half];
    return { def: id === Op.ILLEGAL ? undefined : INSN_BY_ID[id], bits: half, size: 2 };
  }
  const id = decodeWord(bits >>> 0);
  return { def: id === Op.ILLEGAL ? undefined : INSN_BY_ID[id], bits: bits >>> 0, size: 4 };
}

buildWordDecoder();
buildCompressedDecoder();
