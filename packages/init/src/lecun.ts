import type { Tensor } from '@gradkit/tensor';
import type { Distribution } from './distribution.js';
import { computeFans } from './fans.js';
import { checkShape, fillInPlace } from './host.js';
import type { FillOptions, InitOptions } from './options.js';
import { checkBoolean, checkFan, normalFromStd, sampleScaled, uniformFromStd } from './scaled.js';

/** Options of {@link lecunNormal}. */
export interface LecunNormalOptions {
  /**
   * Keras' convention (`lecun_normal`, the SELU recommendation there): a normal truncated at two
   * standard deviations, rescaled by 1/0.8796 so the variance is still 1 / fanIn (default false).
   */
  readonly truncated?: boolean;
}

/** @internal std = 1 / sqrt(fanIn): PyTorch's kaiming with nonlinearity 'linear' and mode 'fan_in'. */
function lecunStd(op: string, shape: readonly number[]): number {
  checkShape(op, shape);
  const { fanIn } = computeFans(shape);
  return 1 / Math.sqrt(checkFan(op, shape, fanIn, 'fanIn'));
}

/** @internal */
export function lecunUniformDistribution(op: string, shape: readonly number[]): Distribution {
  return uniformFromStd(lecunStd(op, shape));
}

/** @internal */
export function lecunNormalDistribution(
  op: string,
  shape: readonly number[],
  options: LecunNormalOptions,
): Distribution {
  return normalFromStd(lecunStd(op, shape), checkBoolean(op, 'truncated', options.truncated));
}

/**
 * LeCun uniform initialization: U(-bound, bound) with `bound = sqrt(3 / fanIn)` (Var = 1 / fanIn),
 * the same as Keras' `lecun_uniform` and as PyTorch's `kaiming_uniform_(w, nonlinearity='linear')`.
 *
 * @throws {ShapeError} for fewer than 2 dimensions.
 * @see Y. LeCun, L. Bottou, G. Orr and K.-R. Müller, "Efficient BackProp", Neural Networks:
 *   Tricks of the Trade, 1998.
 * @example
 * ```ts
 * const w = lecunUniform([128, 64]);
 * ```
 */
export function lecunUniform(shape: readonly number[], options: InitOptions = {}): Tensor {
  const op = 'lecunUniform';
  return sampleScaled(op, shape, options, () => lecunUniformDistribution(op, shape));
}

/**
 * LeCun normal initialization: N(0, 1 / fanIn), as PyTorch's
 * `kaiming_normal_(w, nonlinearity='linear')` (the initialization PyTorch recommends for SELU
 * networks). Self-normalizing networks (Klambauer et al. 2017) assume exactly this variance. With
 * `truncated: true`, Keras' `lecun_normal` (a normal truncated at ±2 standard deviations with the
 * same variance).
 *
 * @throws {ShapeError} for fewer than 2 dimensions.
 * @see Y. LeCun, L. Bottou, G. Orr and K.-R. Müller, "Efficient BackProp", 1998.
 * @see G. Klambauer, T. Unterthiner, A. Mayr and S. Hochreiter, "Self-normalizing neural
 *   networks", NeurIPS 2017.
 * @example
 * ```ts
 * const w = lecunNormal([128, 64]); // for a SELU layer
 * ```
 */
export function lecunNormal(
  shape: readonly number[],
  options: LecunNormalOptions & InitOptions = {},
): Tensor {
  const op = 'lecunNormal';
  return sampleScaled(op, shape, options, () => lecunNormalDistribution(op, shape, options));
}

/**
 * Fills `t` in place with {@link lecunUniform} values and returns it.
 *
 * @see Y. LeCun et al., "Efficient BackProp", 1998.
 * @example
 * ```ts
 * lecunUniform_(layer.weight);
 * ```
 */
export function lecunUniform_<T extends Tensor>(t: T, options: FillOptions = {}): T {
  const op = 'lecunUniform_';
  return fillInPlace(op, t, (s, o) => sampleScaled(op, s, o, () => lecunUniformDistribution(op, s)), options);
}

/**
 * Fills `t` in place with {@link lecunNormal} values and returns it.
 *
 * @see Y. LeCun et al., "Efficient BackProp", 1998.
 * @example
 * ```ts
 * lecunNormal_(layer.weight);
 * ```
 */
export function lecunNormal_<T extends Tensor>(t: T, options: LecunNormalOptions & FillOptions = {}): T {
  const op = 'lecunNormal_';
  return fillInPlace(
    op,
    t,
    (s, o) => sampleScaled(op, s, o, () => lecunNormalDistribution(op, s, options)),
    options,
  );
}
