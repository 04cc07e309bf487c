import { ValueError } from './errors.js';

/** A serializable snapshot of an {@link Rng}: four 32-bit words. */
export type RngState = readonly [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded pseudo-random generator: xoshiro128** (Blackman & Vigna), seeded through splitmix32.
 * Random tensors are drawn on the host from it and uploaded, so the same seed gives the same
 * numbers on every backend. Its state can be saved and restored for bit-exact resumes.
 *
 * - `uniform()`: U[0, 1) with 24 random bits (every float32 step in [0, 1) reachable).
 * - `normal()`: N(0, 1) by the Box–Muller transform.
 *
 * @see https://prng.di.unimi.it/ (xoshiro128**)
 * @example
 * ```ts
 * const rng = new Rng(42);
 * rng.uniform(); // same value for every run with seed 42
 * const saved = rng.state();
 * const a = rng.normal();
 * rng.setState(saved);
 * rng.normal() === a; // true
 * ```
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** Cached second Box–Muller value, or NaN. */
  private spare = Number.NaN;

  /** @param seed any integer (taken modulo 2^32); default 0. */
  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Re-seeds the generator in place. */
  seed(seed: number): void {
    if (!Number.isInteger(seed)) throw new ValueError('Rng', `seed must be an integer, got ${seed}`);
    const sm = splitmix32(seed);
    this.s0 = sm();
    this.s1 = sm();
    this.s2 = sm();
    this.s3 = sm();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = Number.NaN;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** U[0, 1): `(nextU32() >>> 8) / 2^24`, exactly representable in float32. */
  uniform(): number {
    return (this.nextU32() >>> 8) * 2 ** -24;
  }

  /** N(0, 1) by Box–Muller; values come in pairs, the second is cached. */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = Number.NaN;
      return v;
    }
    const u1 = 1 - this.uniform(); // (0, 1]
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** A copy of the state (the cached normal is discarded on restore, so save between pairs). */
  state(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Restores a state from {@link Rng.state}. */
  setState(state: RngState): void {
    if (
      !Array.isArray(state) ||
      state.length !== 4 ||
      state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)
    ) {
      throw new ValueError('Rng.setState', 'state must be four unsigned 32-bit integers');
    }
    [this.s0, this.s1, this.s2, this.s3] = state;
    this.spare = Number.NaN;
  }

  /** Fills `out` with U[low, high). */
  fillUniform(out: Float32Array, low = 0, high = 1): Float32Array {
    const span = high - low;
    for (let i = 0; i < out.length; i++) out[i] = low + span * this.uniform();
    return out;
  }

  /** Fills `out` with N(mean, std^2). */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    // Drop an unused Box–Muller value so that state() fully describes the generator after a fill.
    this.spare = Number.NaN;
    return out;
  }

  /** Fills `out` with Bernoulli(p) draws: 1 with probability p, else 0. */
  fillBernoulli(out: Float32Array, p: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform() < p ? 1 : 0;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
