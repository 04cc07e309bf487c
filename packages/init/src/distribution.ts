import type { Rng, Tensor } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import { checkShape, finiteNumber, rngOf, upload } from './host.js';
import { normalCdf, normalQuantile } from './normal-cdf.js';
import type { InitOptions } from './options.js';

/**
 * The element-wise distribution an i.i.d. initializer draws from (see {@link distributionOf}):
 *
 * - `constant`: every element is `value`.
 * - `uniform`: U[low, high).
 * - `normal`: N(mean, std^2).
 * - `truncatedNormal`: N(mean, std^2) conditioned on [a, b] (absolute bounds, PyTorch's
 *   `trunc_normal_`).
 */
export type Distribution =
  | {
      /** Every element is `value`. */
      readonly kind: 'constant';
      /** The constant. */
      readonly value: number;
    }
  | {
      /** U[low, high). */
      readonly kind: 'uniform';
      /** The lower bound (inclusive). */
      readonly low: number;
      /** The upper bound (exclusive). */
      readonly high: number;
    }
  | {
      /** N(mean, std^2). */
      readonly kind: 'normal';
      /** The mean. */
      readonly mean: number;
      /** The standard deviation. */
      readonly std: number;
    }
  | {
      /** N(mean, std^2) conditioned on [a, b]. */
      readonly kind: 'truncatedNormal';
      /** The mean of the normal before truncation. */
      readonly mean: number;
      /** The standard deviation of the normal before truncation. */
      readonly std: number;
      /** The lower bound, absolute (not in standard deviations); may be `-Infinity`. */
      readonly a: number;
      /** The upper bound, absolute; may be `Infinity`. */
      readonly b: number;
    };

/** @internal Checks a uniform range named by `op`: finite, `low < high`. */
export function checkUniform(op: string, low: number, high: number): void {
  finiteNumber(op, 'a', low);
  finiteNumber(op, 'b', high);
  if (!(low < high)) throw new ValueError(op, `a must be less than b, got a = ${low}, b = ${high}`);
}

/** @internal Checks normal parameters named by `op`: finite mean, finite std >= 0. */
export function checkNormal(op: string, mean: number, std: number): void {
  finiteNumber(op, 'mean', mean);
  finiteNumber(op, 'std', std);
  if (std < 0) throw new ValueError(op, `std must be >= 0, got ${std}`);
}

/** @internal Checks truncated-normal parameters: std > 0, a < b (bounds may be infinite). */
export function checkTruncatedNormal(op: string, mean: number, std: number, a: number, b: number): void {
  finiteNumber(op, 'mean', mean);
  finiteNumber(op, 'std', std);
  if (!(std > 0)) throw new ValueError(op, `std must be > 0, got ${std}`);
  for (const [name, v] of [
    ['a', a],
    ['b', b],
  ] as const) {
    if (typeof v !== 'number' || Number.isNaN(v)) {
      throw new ValueError(op, `${name} must be a number (infinite bounds are allowed), got ${String(v)}`);
    }
  }
  if (!(a < b)) throw new ValueError(op, `a must be less than b, got a = ${a}, b = ${b}`);
}

/**
 * @internal Fills `out` with N(mean, std^2) truncated to [a, b] by inversion: each element takes
 * one uniform u of `rng` (at the midpoint of its 2^-24 cell, so strictly inside (0, 1)) and maps it
 * through Phi^-1 between Phi(alpha) and Phi(beta). The interval is reflected into the lower tail
 * when it lies mostly above the mean, where the CDF keeps its relative precision; values are
 * clamped to [a, b] after rounding to float32.
 */
export function fillTruncatedNormal(
  op: string,
  out: Float32Array,
  rng: Rng,
  mean: number,
  std: number,
  a: number,
  b: number,
): Float32Array {
  const alpha = (a - mean) / std;
  const beta = (b - mean) / std;
  const flip = alpha + beta > 0;
  const lo = normalCdf(flip ? -beta : alpha);
  const hi = normalCdf(flip ? -alpha : beta);
  if (!(hi > lo)) {
    throw new ValueError(
      op,
      `[a, b] = [${a}, ${b}] lies too far in the tail of N(${mean}, ${std}^2) to be sampled (its probability underflows)`,
    );
  }
  const span = hi - lo;
  const fa = Math.fround(a);
  const fb = Math.fround(b);
  for (let i = 0; i < out.length; i++) {
    const u = rng.uniform() + 2 ** -25;
    const z = normalQuantile(lo + u * span);
    const v = Math.fround(mean + std * (flip ? -z : z));
    out[i] = Math.min(Math.max(v, fa), fb);
  }
  return out;
}

/**
 * Draws a tensor of `shape` from `distribution` (one host draw per element from `options.rng`,
 * row-major, then one upload). This is how every i.i.d. initializer samples: for example
 * `kaimingUniform(shape, o)` equals `sample(distributionOf({ name: 'kaimingUniform' }, shape), shape, o)`,
 * and a `uniform` distribution draws the same numbers as `rand(shape, { low, high, rng })`.
 *
 * @throws {ValueError} for invalid parameters (`low >= high`, a negative std, `a >= b`).
 * @see PyTorch `torch.nn.init`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * const w = sample({ kind: 'normal', mean: 0, std: 0.02 }, [768, 768], { rng: new Rng(0) });
 * ```
 */
export function sample(
  distribution: Distribution,
  shape: readonly number[],
  options: InitOptions = {},
): Tensor {
  const op = 'sample';
  const size = checkShape(op, shape);
  const out = new Float32Array(size);
  const d = distribution;
  switch (d?.kind) {
    case 'constant':
      finiteNumber(op, 'value', d.value);
      out.fill(d.value);
      break;
    case 'uniform':
      // low == high (a zero bound, e.g. gain 0) is allowed here and gives constant values.
      finiteNumber(op, 'low', d.low);
      finiteNumber(op, 'high', d.high);
      if (d.low > d.high) throw new ValueError(op, `low must be <= high, got [${d.low}, ${d.high})`);
      if (size > 0) rngOf(options).fillUniform(out, d.low, d.high);
      break;
    case 'normal':
      checkNormal(op, d.mean, d.std);
      if (size > 0) rngOf(options).fillNormal(out, d.mean, d.std);
      break;
    case 'truncatedNormal':
      checkTruncatedNormal(op, d.mean, d.std, d.a, d.b);
      if (size > 0) fillTruncatedNormal(op, out, rngOf(options), d.mean, d.std, d.a, d.b);
      break;
    default:
      throw new ValueError(op, `unknown distribution ${JSON.stringify(d)}`);
  }
  return upload(out, shape, options);
}
