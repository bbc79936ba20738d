/** xorshift32: a reproducible stream of random 32-bit numbers, so failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** The same stream as an object, with numbers below a bound (`below(n)`: the next number modulo n). */
export class Rng {
  private readonly r: () => number;

  constructor(seed: number) {
    this.r = rng(seed);
  }
  next(): number {
    return this.r();
  }
  below(n: number): number {
    return this.r() % n;
  }
}
