import type { Tensor } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import type { Distribution } from './distribution.js';
import { computeFans } from './fans.js';
import { checkShape, fillInPlace, finiteNumber } from './host.js';
import type { FillOptions, InitOptions } from './options.js';
import { normalFromStd, sampleScaled } from './scaled.js';

/** Options of {@link varianceScaling} (Keras' `VarianceScaling` arguments and defaults). */
export interface VarianceScalingOptions {
  /** The target variance times the fan, > 0 (default 1). */
  readonly scale?: number;
  /** Which fan divides `scale`: `'fanIn'` (default), `'fanOut'` or `'fanAvg'` ((fanIn + fanOut) / 2). */
  readonly mode?: 'fanIn' | 'fanOut' | 'fanAvg';
  /**
   * `'truncatedNormal'` (default, as Keras): a normal truncated at ±2 standard deviations with std
   * `sqrt(scale / fan) / 0.8796...`; `'normal'`: N(0, scale / fan); `'uniform'`:
   * U(-sqrt(3 scale / fan), sqrt(3 scale / fan)).
   */
  readonly distribution?: 'truncatedNormal' | 'normal' | 'uniform';
}

/** @internal */
export function varianceScalingDistribution(
  op: string,
  shape: readonly number[],
  options: VarianceScalingOptions,
): Distribution {
  checkShape(op, shape);
  const { scale = 1, mode = 'fanIn', distribution = 'truncatedNormal' } = options;
  finiteNumber(op, 'scale', scale);
  if (!(scale > 0)) throw new ValueError(op, `scale must be > 0, got ${scale}`);
  if (mode !== 'fanIn' && mode !== 'fanOut' && mode !== 'fanAvg') {
    throw new ValueError(op, `mode must be 'fanIn', 'fanOut' or 'fanAvg', got ${JSON.stringify(mode)}`);
  }
  if (distribution !== 'truncatedNormal' && distribution !== 'normal' && distribution !== 'uniform') {
    throw new ValueError(
      op,
      `distribution must be 'truncatedNormal', 'normal' or 'uniform', got ${JSON.stringify(distribution)}`,
    );
  }
  const { fanIn, fanOut } = computeFans(shape);
  const fan = mode === 'fanIn' ? fanIn : mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2;
  const variance = scale / Math.max(1, fan); // Keras guards an empty fan with max(1, fan)
  if (distribution === 'uniform') {
    const limit = Math.sqrt(3 * variance);
    return { kind: 'uniform', low: -limit, high: limit };
  }
  return normalFromStd(Math.sqrt(variance), distribution === 'truncatedNormal');
}

/**
 * Variance scaling (Keras' `VarianceScaling`), the family every fan-based initializer belongs to:
 * weights with variance `scale / fan`, drawn from a truncated normal (default), a normal or a
 * uniform distribution. Keras' named initializers are instances:
 *
 * | Keras | options |
 * | --- | --- |
 * | `glorot_uniform` | `{ scale: 1, mode: 'fanAvg', distribution: 'uniform' }` (= {@link xavierUniform}) |
 * | `glorot_normal` | `{ scale: 1, mode: 'fanAvg' }` |
 * | `he_uniform` | `{ scale: 2, distribution: 'uniform' }` |
 * | `he_normal` | `{ scale: 2 }` |
 * | `lecun_uniform` | `{ distribution: 'uniform' }` |
 * | `lecun_normal` | `{}` |
 *
 * Fans follow {@link computeFans} (PyTorch's layout `[out, in, ...kernel]`, not Keras'
 * `[...kernel, in, out]`).
 *
 * @throws {ShapeError} for fewer than 2 dimensions. {@link ValueError} for scale <= 0 or an
 *   unknown mode or distribution.
 * @see Keras' `VarianceScaling`: https://keras.io/api/layers/initializers/#variancescaling-class
 * @see K. He et al., ICCV 2015; X. Glorot and Y. Bengio, AISTATS 2010.
 * @example
 * ```ts
 * const w = varianceScaling([128, 64], { scale: 2 }); // Keras' he_normal
 * ```
 */
export function varianceScaling(
  shape: readonly number[],
  options: VarianceScalingOptions & InitOptions = {},
): Tensor {
  const op = 'varianceScaling';
  return sampleScaled(op, shape, options, () => varianceScalingDistribution(op, shape, options));
}

/**
 * Fills `t` in place with {@link varianceScaling} values and returns it.
 *
 * @see Keras' `VarianceScaling`.
 * @example
 * ```ts
 * varianceScaling_(layer.weight, { scale: 2, distribution: 'uniform' });
 * ```
 */
export function varianceScaling_<T extends Tensor>(
  t: T,
  options: VarianceScalingOptions & FillOptions = {},
): T {
  const op = 'varianceScaling_';
  return fillInPlace(
    op,
    t,
    (s, o) => sampleScaled(op, s, o, () => varianceScalingDistribution(op, s, options)),
    options,
  );
}
