import { type Rng, ValueError } from '@gradkit/tensor';

/**
 * A saved state of an `Rng` (four unsigned 32-bit words), as returned by `rng.state()` and
 * accepted by `rng.setState()`. JSON-serializable, for checkpoints.
 *
 * @example
 * ```ts
 * const saved: RngState = rng.state();
 * rng.setState(saved);
 * ```
 */
export type RngState = ReturnType<Rng['state']>;

const TWO_32 = 0x100000000;

/**
 * A uniform integer in `[0, bound)` for `1 <= bound <= 2^32`, without modulo bias: 32-bit draws
 * at or above the largest multiple of `bound` are rejected and redrawn.
 */
function randomBelow(rng: Rng, bound: number): number {
  const limit = TWO_32 - (TWO_32 % bound);
  let x = rng.nextU32();
  while (x >= limit) x = rng.nextU32();
  return x % bound;
}

/**
 * A uniformly random permutation of `0 .. n-1`, by the Fisher–Yates (Durstenfeld) shuffle:
 * for `i = n-1` down to `1`, swap element `i` with element `j`, `j` uniform in `[0, i]` (drawn
 * from 32-bit words of `rng` without modulo bias). Deterministic: the same generator state gives
 * the same permutation, and the generator advances by at least `n - 1` draws.
 *
 * @throws {ValueError} when `n` is not a non-negative integer below 2^31.
 * @see https://en.wikipedia.org/wiki/Fisher%E2%80%93Yates_shuffle
 * @example
 * ```ts
 * const order = permutation(5, new Rng(42)); // e.g. Int32Array [3, 0, 4, 1, 2], the same for every run
 * ```
 */
export function permutation(n: number, rng: Rng): Int32Array {
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 31) {
    throw new ValueError('permutation', `n must be a non-negative integer below 2^31, got ${n}`);
  }
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomBelow(rng, i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
