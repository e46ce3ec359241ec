/**
 * Seeded randomness for the fuzzers: the emulator's mulberry32 generator (reproducible from one
 * printed u32) and the byte mutations a hostile or buggy driver could produce. No dependency: a
 * property library's shrinking buys little when every input is a short byte string we can print.
 */
import { createPrng, type Prng } from '../../lib/driver/emulator/prng.js';

export class Rng {
  private readonly prng: Prng;

  constructor(readonly seed: number) {
    this.prng = createPrng(seed);
  }

  /** A uniform u32 (the emulator's mulberry32, scaled back to an integer: exact in a double). */
  u32(): number {
    return this.prng.next() * 0x1_0000_0000;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }

  chance(p: number): boolean {
    return this.prng.chance(p);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** Values that sit on the edges of u8/u16/u32 fields and of the structs' counts (16 pipes). */
const INTERESTING = [0x00, 0x01, 0x02, 0x07, 0x0f, 0x10, 0x11, 0x40, 0x7f, 0x80, 0x81, 0xfe, 0xff];

/**
 * One random mutation of `input` (never changes `input`): flip bits, overwrite bytes with edge
 * values or random ones, write a u16/u32 edge value, truncate, extend, or splice in random bytes.
 */
export function mutate(rng: Rng, input: Uint8Array): Uint8Array {
  const out = Uint8Array.from(input);
  const at = () => rng.below(Math.max(out.length, 1));
  switch (rng.below(7)) {
    case 0:
      for (let i = 1 + rng.below(8); i > 0 && out.length; i--) out[at()] ^= 1 << rng.below(8);
      return out;
    case 1:
      for (let i = 1 + rng.below(4); i > 0 && out.length; i--) out[at()] = rng.pick(INTERESTING);
      return out;
    case 2:
      for (let i = 1 + rng.below(16); i > 0 && out.length; i--) out[at()] = rng.below(256);
      return out;
    case 3: {
      const pos = at();
      const value = rng.pick([0, 1, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff]);
      for (let i = 0; i < 4 && pos + i < out.length; i++) out[pos + i] = (value >>> (8 * i)) & 0xff;
      return out;
    }
    case 4:
      return out.subarray(0, rng.below(out.length + 1));
    case 5: {
      const grown = new Uint8Array(out.length + 1 + rng.below(64));
      grown.set(out);
      grown.set(rng.bytes(grown.length - out.length), out.length);
      return grown;
    }
    default:
      return rng.bytes(rng.below(input.length * 2 + 16));
  }
}

/** An input for one iteration: a mutation of a valid seed most of the time, stacked mutations or pure noise otherwise. */
export function nextInput(rng: Rng, seeds: readonly Uint8Array[]): Uint8Array {
  let input = rng.pick(seeds);
  const rounds = rng.chance(0.8) ? 1 : 1 + rng.below(6);
  for (let i = 0; i < rounds; i++) input = mutate(rng, input);
  return input;
}

/** A seed from the environment (USBFN_FUZZ_SEED) or from the clock, so a failing run can be replayed. */
export function fuzzSeed(): number {
  const fromEnv = process.env.USBFN_FUZZ_SEED;
  return fromEnv !== undefined ? Number(fromEnv) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
}

/**
 * Iterations per target: `quick` in npm test; in a long run (USBFN_FUZZ_ITERATIONS, set by
 * `npm run fuzz`) that number times `share`, for targets whose iterations cost more than a decode.
 */
export function fuzzIterations(quick: number, share = 1): number {
  const fromEnv = Number(process.env.USBFN_FUZZ_ITERATIONS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? Math.max(1, Math.round(fromEnv * share)) : quick;
}

export const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
