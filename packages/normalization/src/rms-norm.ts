import type { Device, Parameter, Tensor } from '@gradkit/tensor';
import { Module, ones } from '@gradkit/tensor';
import {
  checkBoolean,
  checkEps,
  checkOperands,
  checkParamShape,
  formatShape,
  normalizeShapeArg,
} from './checks.js';
import { checkTrailing } from './layer-norm.js';
import { normalizeFused } from './normalize.js';

/**
 * float32 machine epsilon, 2^-23 ≈ 1.19e-7: RMSNorm's default eps (PyTorch's
 * `torch.finfo(torch.float32).eps`, the default of `nn.RMSNorm` for float32 inputs).
 *
 * @see https://pytorch.org/docs/stable/generated/torch.nn.RMSNorm.html
 * @example
 * ```ts
 * new RMSNorm(64).eps === FLOAT32_EPS; // true
 * ```
 */
export const FLOAT32_EPS = 1.1920928955078125e-7;

/** Options of {@link rmsNorm}. */
export interface RmsNormFunctionalOptions {
  /** Elementwise scale, shape `normalizedShape` (default none: 1). */
  readonly weight?: Tensor | null;
  /** Added to the mean square inside the square root (default 2^-23, float32's machine epsilon). */
  readonly eps?: number;
}

/** @internal The RMS-norm computation behind {@link rmsNorm} and {@link RMSNorm}; errors name `op`. */
export function rmsNormImpl(
  op: string,
  x: Tensor,
  normalizedShape: number | readonly number[],
  options: RmsNormFunctionalOptions,
): Tensor {
  const { weight = null } = options;
  const eps = checkEps(op, options.eps ?? FLOAT32_EPS);
  const shape = normalizeShapeArg(op, normalizedShape);
  checkOperands(op, x, { weight });
  const [rows, features] = checkTrailing(op, x, shape);
  checkParamShape(op, 'weight', weight, shape, x);
  return normalizeFused('rmsNorm', x, weight, null, {
    view: [rows, features],
    statAxes: [1],
    paramView: [1, features],
    paramAxes: [0],
    centered: false,
    eps,
  });
}

/**
 * Root mean square normalization (Zhang & Sennrich 2019) over the trailing dimensions
 * `normalizedShape`: for every leading index, with the D values of the trailing dimensions,
 *
 * `y = x / sqrt(mean(x^2) + eps) * weight`
 *
 * (no centering, no bias; eps inside the square root, as PyTorch 2.4's `F.rms_norm`). Default eps
 * 2^-23 ≈ 1.19e-7, float32's machine epsilon, which is PyTorch's default for float32 inputs
 * (LLaMA-style models pass 1e-6, Keras' `RMSNormalization` uses 1e-6). Fused forward and backward:
 * with r = 1 / sqrt(mean(x^2) + eps), xhat = x r, g = dy weight r:
 * `dx = g - xhat mean(g xhat)`, `dweight = sum(dy xhat)` over the leading dimensions.
 *
 * @throws {ShapeError} naming `rmsNorm` when the trailing dimensions of x differ from normalizedShape
 *   or weight does not have shape normalizedShape.
 * @throws {ValueError} for eps < 0 or a normalizedShape that is not positive integers.
 * @see Zhang & Sennrich 2019, Root Mean Square Layer Normalization: https://arxiv.org/abs/1910.07467
 * @see https://pytorch.org/docs/stable/generated/torch.nn.functional.rms_norm.html
 * @example
 * ```ts
 * const y = rmsNorm(randn([8, 20, 64]), 64, { eps: 1e-6 });
 * ```
 */
export function rmsNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  options: RmsNormFunctionalOptions = {},
): Tensor {
  return rmsNormImpl('rmsNorm', x, normalizedShape, options);
}

/** Options of {@link RMSNorm}. */
export interface RmsNormOptions {
  /** Added to the mean square inside the square root (default 2^-23, float32's machine epsilon). */
  readonly eps?: number;
  /** Learnable elementwise `weight` (initially 1). Default true. */
  readonly elementwiseAffine?: boolean;
  /** Where to create the parameter (default: the default device). */
  readonly device?: Device;
}

/**
 * Root mean square normalization (Zhang & Sennrich 2019) over the trailing dimensions
 * `normalizedShape`, as PyTorch 2.4's `nn.RMSNorm` (PyTorch 1.13 has none):
 *
 * `y = x / sqrt(mean(x^2) + eps) * weight`
 *
 * Like {@link LayerNorm} without the mean subtraction and without bias. Defaults: eps 2^-23
 * (float32's machine epsilon; pass 1e-6 for LLaMA-style models), elementwiseAffine true (weight 1
 * of shape normalizedShape). State dict key: `weight`.
 *
 * @throws {ShapeError} from `forward` naming `RMSNorm` when the input's trailing dimensions differ from normalizedShape.
 * @see Zhang & Sennrich 2019, Root Mean Square Layer Normalization: https://arxiv.org/abs/1910.07467
 * @see https://pytorch.org/docs/stable/generated/torch.nn.RMSNorm.html
 * @example
 * ```ts
 * const norm = new RMSNorm(64, { eps: 1e-6 });
 * const y = norm.forward(randn([8, 20, 64]));
 * ```
 */
export class RMSNorm extends Module<[Tensor], Tensor> {
  /** The trailing dimensions normalized over. */
  readonly normalizedShape: readonly number[];
  /** Added to the mean square inside the square root. */
  readonly eps: number;
  /** Whether `weight` exists. */
  readonly elementwiseAffine: boolean;
  /** Elementwise scale, shape normalizedShape, initially 1 (null without elementwiseAffine). */
  readonly weight: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: RmsNormOptions = {}) {
    super();
    const op = 'RMSNorm';
    this.normalizedShape = Object.freeze(normalizeShapeArg(op, normalizedShape));
    this.eps = checkEps(op, options.eps ?? FLOAT32_EPS);
    this.elementwiseAffine = checkBoolean(op, 'elementwiseAffine', options.elementwiseAffine ?? true);
    this.weight = this.elementwiseAffine
      ? this.registerParameter('weight', ones(this.normalizedShape, { device: options.device }))
      : null;
  }

  /** Normalizes the trailing dimensions of `x` (`[*, ...normalizedShape]`). */
  forward(x: Tensor): Tensor {
    return rmsNormImpl('RMSNorm', x, this.normalizedShape, { weight: this.weight, eps: this.eps });
  }

  /** `RMSNorm([64], eps=0.000001, elementwiseAffine=true)`. */
  override toString(): string {
    return `RMSNorm(${formatShape(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine})`;
  }
}
