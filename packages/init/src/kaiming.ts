import type { Tensor } from '@gradkit/tensor';
import type { Distribution } from './distribution.js';
import type { FanMode } from './fans.js';
import { checkFanMode, computeFans } from './fans.js';
import type { Nonlinearity, PyTorchNonlinearity } from './gain.js';
import { calculateGain } from './gain.js';
import { checkShape, fillInPlace, finiteNumber } from './host.js';
import type { FillOptions, InitOptions } from './options.js';
import { checkBoolean, checkFan, normalFromStd, sampleScaled, uniformFromStd } from './scaled.js';

/** Options of {@link kaimingUniform} (PyTorch's `kaiming_uniform_` arguments and defaults). */
export interface KaimingOptions {
  /**
   * The negative slope of the leaky ReLU that follows (used only by `nonlinearity: 'leakyRelu'`;
   * default 0). `a: Math.sqrt(5)` reproduces PyTorch's `nn.Linear` / `nn.Conv*d` default weights.
   */
  readonly a?: number;
  /** `'fanIn'` (default) preserves the variance of activations forward, `'fanOut'` of gradients backward. */
  readonly mode?: FanMode;
  /** The nonlinearity whose gain scales the weights (default `'leakyRelu'`, as PyTorch; see `calculateGain`). */
  readonly nonlinearity?: Nonlinearity | PyTorchNonlinearity;
}

/** Options of {@link kaimingNormal}. */
export interface KaimingNormalOptions extends KaimingOptions {
  /**
   * Keras' convention (`he_normal`): a normal truncated at two standard deviations, rescaled by
   * 1/0.8796 so the variance is still `std^2` (default false: PyTorch's plain normal).
   */
  readonly truncated?: boolean;
}

/** @internal std = gain / sqrt(fan), as PyTorch computes it. */
function kaimingStd(op: string, shape: readonly number[], options: KaimingOptions): number {
  checkShape(op, shape);
  const { a = 0, mode = 'fanIn', nonlinearity = 'leakyRelu' } = options;
  finiteNumber(op, 'a', a);
  checkFanMode(op, mode);
  const gain = calculateGain(nonlinearity, a);
  const fans = computeFans(shape);
  const fan = checkFan(op, shape, mode === 'fanIn' ? fans.fanIn : fans.fanOut, mode);
  return gain / Math.sqrt(fan);
}

/** @internal */
export function kaimingUniformDistribution(
  op: string,
  shape: readonly number[],
  options: KaimingOptions,
): Distribution {
  return uniformFromStd(kaimingStd(op, shape, options));
}

/** @internal */
export function kaimingNormalDistribution(
  op: string,
  shape: readonly number[],
  options: KaimingNormalOptions,
): Distribution {
  const truncated = checkBoolean(op, 'truncated', options.truncated);
  return normalFromStd(kaimingStd(op, shape, options), truncated);
}

/**
 * He/Kaiming uniform initialization (PyTorch's `kaiming_uniform_`): U(-bound, bound) with
 * `bound = gain * sqrt(3 / fan)`, `gain = calculateGain(nonlinearity, a)` and `fan` the fan-in or
 * fan-out of {@link computeFans}. Defaults as PyTorch: a = 0, mode 'fanIn', nonlinearity
 * 'leakyRelu' (so gain = sqrt(2), bound = sqrt(6 / fanIn)). Keras' `he_uniform` is the same with
 * its own kernel layout.
 *
 * @throws {ShapeError} for fewer than 2 dimensions. {@link @gradkit/tensor!ValueError} for an unknown mode or
 *   nonlinearity.
 * @see K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers: surpassing human-level
 *   performance on ImageNet classification", ICCV 2015.
 * @example
 * ```ts
 * const w = kaimingUniform([128, 64], { nonlinearity: 'relu' });
 * const torchLinearDefault = kaimingUniform([128, 64], { a: Math.sqrt(5) }); // bound 1/sqrt(64)
 * ```
 */
export function kaimingUniform(shape: readonly number[], options: KaimingOptions & InitOptions = {}): Tensor {
  const op = 'kaimingUniform';
  return sampleScaled(op, shape, options, () => kaimingUniformDistribution(op, shape, options));
}

/**
 * He/Kaiming normal initialization (PyTorch's `kaiming_normal_`): N(0, std^2) with
 * `std = gain / sqrt(fan)`; defaults as {@link kaimingUniform}. With `truncated: true`, Keras'
 * `he_normal` (which draws from a normal truncated at ±2 standard deviations with std scaled by
 * 1/0.8796, keeping the variance 2 / fanIn).
 *
 * @throws {ShapeError} for fewer than 2 dimensions. {@link @gradkit/tensor!ValueError} for an unknown mode or
 *   nonlinearity.
 * @see K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers", ICCV 2015.
 * @example
 * ```ts
 * const w = kaimingNormal([64, 3, 3, 3], { mode: 'fanOut', nonlinearity: 'relu' });
 * const keras = kaimingNormal([128, 64], { nonlinearity: 'relu', truncated: true });
 * ```
 */
export function kaimingNormal(
  shape: readonly number[],
  options: KaimingNormalOptions & InitOptions = {},
): Tensor {
  const op = 'kaimingNormal';
  return sampleScaled(op, shape, options, () => kaimingNormalDistribution(op, shape, options));
}

/**
 * Fills `t` in place with {@link kaimingUniform} values and returns it.
 *
 * @see K. He et al., ICCV 2015.
 * @example
 * ```ts
 * kaimingUniform_(layer.weight, { nonlinearity: 'relu' });
 * ```
 */
export function kaimingUniform_<T extends Tensor>(t: T, options: KaimingOptions & FillOptions = {}): T {
  const op = 'kaimingUniform_';
  return fillInPlace(
    op,
    t,
    (s, o) => sampleScaled(op, s, o, () => kaimingUniformDistribution(op, s, options)),
    options,
  );
}

/**
 * Fills `t` in place with {@link kaimingNormal} values and returns it.
 *
 * @see K. He et al., ICCV 2015.
 * @example
 * ```ts
 * kaimingNormal_(conv.weight, { mode: 'fanOut', nonlinearity: 'relu' });
 * ```
 */
export function kaimingNormal_<T extends Tensor>(t: T, options: KaimingNormalOptions & FillOptions = {}): T {
  const op = 'kaimingNormal_';
  return fillInPlace(
    op,
    t,
    (s, o) => sampleScaled(op, s, o, () => kaimingNormalDistribution(op, s, options)),
    options,
  );
}
