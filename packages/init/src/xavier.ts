import type { Tensor } from '@gradkit/tensor';
import type { Distribution } from './distribution.js';
import { computeFans } from './fans.js';
import { checkShape, fillInPlace } from './host.js';
import type { FillOptions, InitOptions } from './options.js';
import { checkBoolean, checkFan, checkGain, normalFromStd, sampleScaled, uniformFromStd } from './scaled.js';

/** Options of {@link xavierUniform}. */
export interface XavierOptions {
  /** Scaling factor, >= 0 (default 1; see `calculateGain`). */
  readonly gain?: number;
}

/** Options of {@link xavierNormal}. */
export interface XavierNormalOptions extends XavierOptions {
  /**
   * Keras' convention (`glorot_normal`): draw from a normal truncated at two standard deviations,
   * rescaled by 1/0.8796 so the variance is still `std^2` (default false: PyTorch's plain normal).
   */
  readonly truncated?: boolean;
}

/** @internal std = gain sqrt(2 / (fanIn + fanOut)), as PyTorch computes it. */
function xavierStd(op: string, shape: readonly number[], gain: number): number {
  checkShape(op, shape);
  const { fanIn, fanOut } = computeFans(shape);
  checkFan(op, shape, fanIn + fanOut, 'fanIn + fanOut');
  return gain * Math.sqrt(2.0 / (fanIn + fanOut));
}

/** @internal */
export function xavierUniformDistribution(
  op: string,
  shape: readonly number[],
  options: XavierOptions,
): Distribution {
  return uniformFromStd(xavierStd(op, shape, checkGain(op, options.gain ?? 1)));
}

/** @internal */
export function xavierNormalDistribution(
  op: string,
  shape: readonly number[],
  options: XavierNormalOptions,
): Distribution {
  const truncated = checkBoolean(op, 'truncated', options.truncated);
  return normalFromStd(xavierStd(op, shape, checkGain(op, options.gain ?? 1)), truncated);
}

/**
 * Xavier/Glorot uniform initialization (PyTorch's `xavier_uniform_`, Keras' `glorot_uniform`,
 * Keras' default kernel initializer): U(-bound, bound) with
 * `bound = gain * sqrt(6 / (fanIn + fanOut))`, so Var = gain^2 * 2 / (fanIn + fanOut).
 * Fans as {@link computeFans} (PyTorch's layout `[out, in, ...kernel]`). Default gain 1.
 *
 * @throws {ShapeError} for fewer than 2 dimensions. {@link @gradkit/tensor!ValueError} for a negative gain.
 * @see X. Glorot and Y. Bengio, "Understanding the difficulty of training deep feedforward neural
 *   networks", AISTATS 2010.
 * @example
 * ```ts
 * const w = xavierUniform([256, 784], { gain: calculateGain('tanh') });
 * ```
 */
export function xavierUniform(shape: readonly number[], options: XavierOptions & InitOptions = {}): Tensor {
  const op = 'xavierUniform';
  return sampleScaled(op, shape, options, () => xavierUniformDistribution(op, shape, options));
}

/**
 * Xavier/Glorot normal initialization (PyTorch's `xavier_normal_`): N(0, std^2) with
 * `std = gain * sqrt(2 / (fanIn + fanOut))`. Default gain 1. With `truncated: true`, Keras'
 * `glorot_normal` (a normal truncated at ±2 of its standard deviations, std scaled by 1/0.8796...
 * so the variance is the same).
 *
 * @throws {ShapeError} for fewer than 2 dimensions. {@link @gradkit/tensor!ValueError} for a negative gain.
 * @see X. Glorot and Y. Bengio, "Understanding the difficulty of training deep feedforward neural
 *   networks", AISTATS 2010.
 * @example
 * ```ts
 * const w = xavierNormal([256, 784]);
 * const keras = xavierNormal([256, 784], { truncated: true });
 * ```
 */
export function xavierNormal(
  shape: readonly number[],
  options: XavierNormalOptions & InitOptions = {},
): Tensor {
  const op = 'xavierNormal';
  return sampleScaled(op, shape, options, () => xavierNormalDistribution(op, shape, options));
}

/**
 * Fills `t` in place with {@link xavierUniform} values and returns it.
 *
 * @see X. Glorot and Y. Bengio, AISTATS 2010.
 * @example
 * ```ts
 * xavierUniform_(layer.weight);
 * ```
 */
export function xavierUniform_<T extends Tensor>(t: T, options: XavierOptions & FillOptions = {}): T {
  const op = 'xavierUniform_';
  return fillInPlace(
    op,
    t,
    (s, o) => sampleScaled(op, s, o, () => xavierUniformDistribution(op, s, options)),
    options,
  );
}

/**
 * Fills `t` in place with {@link xavierNormal} values and returns it.
 *
 * @see X. Glorot and Y. Bengio, AISTATS 2010.
 * @example
 * ```ts
 * xavierNormal_(layer.weight, { gain: 5 / 3 });
 * ```
 */
export function xavierNormal_<T extends Tensor>(t: T, options: XavierNormalOptions & FillOptions = {}): T {
  const op = 'xavierNormal_';
  return fillInPlace(
    op,
    t,
    (s, o) => sampleScaled(op, s, o, () => xavierNormalDistribution(op, s, options)),
    options,
  );
}
