// Mutations of binary files for the input fuzzers (test/disk/qcow2-fuzz, test/machine/elf-fuzz): a valid
// file with a few fields overwritten by values that tend to break parsers, bits flipped, or the file cut
// short, aimed at the regions where its structures lie. Cases come from fast-check with fixed seeds, so
// a failure names a seed and a path that replays it.
import fc from 'fast-check';

/** Whether the long runs were asked for (npm run test:fuzz:inputs). */
export const FUZZ_LONG = process.env.VMLAB_FUZZ_LONG === '1';

/** Cases per input: `short` in npm test, 20,000 in the long run, or VMLAB_FUZZ_RUNS when set. */
export function fuzzRuns(short: number): number {
  const asked = Number(process.env.VMLAB_FUZZ_RUNS);
  return Number.isSafeInteger(asked) && asked > 0 ? asked : FUZZ_LONG ? 20_000 : short;
}

/** A byte range of the file worth aiming at, such as a header or a table. */
export interface Region {
  readonly name: string;
  readonly start: number;
  readonly length: number;
}

/** One change to a file. */
export type Mutation =
  | { readonly op: 'set'; readonly region: number; readonly at: number; readonly width: 1 | 2 | 4 | 8; readonly value: bigint; readonly little: boolean }
  | { readonly op: 'flip'; readonly region: number; readonly at: number; readonly bit: number }
  | { readonly op: 'cut'; readonly region: number; readonly at: number }
  | { readonly op: 'grow'; readonly bytes: number };

/** Values near the edges where lengths, offsets and counts go wrong. */
const EDGES: readonly bigint[] = [
  0n, 1n, 2n, 3n, 7n, 8n, 9n, 0x10n, 0x34n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x1ffn, 0x200n, 0xfffn, 0x1000n, 0xffffn, 0x10000n,
  0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 0x100000000n, 1n << 53n, (1n << 56n) - 1n, 1n << 62n, 1n << 63n, (1n << 64n) - 1n,
];

/** Mutations aimed at `regions` (index into it); `at` is taken modulo the region's length when applied. */
export function mutationArb(regions: readonly Region[]): fc.Arbitrary<Mutation> {
  const region = fc.nat({ max: regions.length - 1 });
  const at = fc.nat({ max: 1 << 20 });
  const value = fc.oneof(fc.constantFrom(...EDGES), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: 0xffffn }));
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), region, at, width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), value, little: fc.boolean() }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('flip' as const), region, at, bit: fc.nat({ max: 7 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('cut' as const), region, at }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('grow' as const), bytes: fc.integer({ min: 1, max: 4096 }) }) },
  );
}

/** One to four mutations of a file. */
export function mutationsArb(regions: readonly Region[]): fc.Arbitrary<Mutation[]> {
  return fc.array(mutationArb(regions), { minLength: 1, maxLength: 4 });
}

/** A copy of `bytes` with the mutations applied in order. */
export function applyMutations(bytes: Uint8Array, regions: readonly Region[], mutations: readonly Mutation[]): Uint8Array {
  let out = bytes.slice();
  for (const m of mutations) {
    if (m.op === 'grow') {
      const grown = new Uint8Array(out.length + m.bytes);
      grown.set(out);
      grown.fill(0xa5, out.length);
      out = grown;
      continue;
    }
    const r = regions[m.region];
    const offset = r.start + (r.length > 0 ? m.at % r.length : 0);
    if (m.op === 'cut') {
      out = out.slice(0, Math.min(out.length, offset));
    } else if (m.op === 'flip') {
      if (offset < out.length) out[offset] ^= 1 << m.bit;
    } else {
      for (let i = 0; i < m.width; i++) {
        const pos = offset + i;
        if (pos >= out.length) break;
        const shift = BigInt(8 * (m.little ? i : m.width - 1 - i));
        out[pos] = Number((m.value >> shift) & 0xffn);
      }
    }
  }
  return out;
}

/** What no message for bad input may contain: JavaScript's internals, errno names, stack frames. */
export const INTERNAL_MESSAGE = /undefined|NaN|TypeError|RangeError|ReferenceError|SyntaxError: Unexpected|ENOENT|ENOTDIR|EISDIR|ENAMETOOLONG|ELOOP|EINVAL|Array buffer|array buffer|Invalid typed array|null bytes|Maximum call stack|out of memory|at .*\.ts|\[object /;
