/**
 * A small seeded pseudo-random generator (mulberry32) for fault injection and soak runs: the
 * same seed gives the same sequence on every machine, so a run that found a bug is replayed by
 * its printed seed. Not for anything that needs unpredictability.
 */

/** A seeded generator: `next()` in [0, 1), plus the helpers fault scripts need. */
export interface Prng {
  /** The seed it started from (a uint32). */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (both included). */
  int(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

/** A mulberry32 generator from a 32-bit seed (any number; it is truncated to uint32). */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed: seed >>> 0,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (p) => next() < p,
  };
}
