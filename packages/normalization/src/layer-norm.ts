import type { Device, DeviceArray, Parameter } from '@gradkit/tensor';
import { Module, ones, ShapeError, Tensor, zeros } from '@gradkit/tensor';
import {
  checkBoolean,
  checkEps,
  checkOperands,
  checkParamShape,
  formatShape,
  normalizeShapeArg,
  sizeOf,
} from './checks.js';
import { normalizeFused } from './normalize.js';

/** Options of {@link layerNorm}. */
export interface LayerNormFunctionalOptions {
  /** Elementwise scale, shape `normalizedShape` (default none: 1). */
  readonly weight?: Tensor | null;
  /** Elementwise shift, shape `normalizedShape` (default none: 0). */
  readonly bias?: Tensor | null;
  /** Added to the variance inside the square root (default 1e-5). */
  readonly eps?: number;
}

/** @internal Checks `x` against a trailing shape; errors name `op`. Returns [rows, features]. */
export function checkTrailing(op: string, x: Tensor, shape: readonly number[]): [number, number] {
  const k = shape.length;
  const tail = x.shape.slice(x.rank - k);
  if (x.rank < k || tail.some((s, i) => s !== shape[i])) {
    throw new ShapeError(
      op,
      `expects an input [*, ${shape.join(', ')}] (trailing dimensions equal to normalizedShape ${formatShape(shape)}), got shape ${formatShape(x.shape)}`,
      [x.shape, shape],
    );
  }
  const features = sizeOf(shape);
  return [x.size / Math.max(features, 1), features];
}

/**
 * @internal The layer-norm computation behind {@link layerNorm}, {@link layerNormWithStats} and
 * {@link LayerNorm}; errors name `op`. `onStats` sees the per-row mean and rstd (`[rows, 1]`).
 */
export function layerNormImpl(
  op: string,
  x: Tensor,
  normalizedShape: number | readonly number[],
  options: LayerNormFunctionalOptions,
  onStats?: (mean: DeviceArray, rstd: DeviceArray) => void,
): Tensor {
  const { weight = null, bias = null } = options;
  const eps = checkEps(op, options.eps ?? 1e-5);
  const shape = normalizeShapeArg(op, normalizedShape);
  checkOperands(op, x, { weight, bias });
  const [rows, features] = checkTrailing(op, x, shape);
  checkParamShape(op, 'weight', weight, shape, x);
  checkParamShape(op, 'bias', bias, shape, x);
  return normalizeFused(
    'layerNorm',
    x,
    weight,
    bias,
    {
      view: [rows, features],
      statAxes: [1],
      paramView: [1, features],
      paramAxes: [0],
      centered: true,
      eps,
    },
    onStats && ((mean, rstd) => onStats(mean!, rstd)),
  );
}

/**
 * Layer normalization (Ba et al. 2016) over the trailing dimensions `normalizedShape` of x
 * (`[*, ...normalizedShape]`), PyTorch's `F.layer_norm`: for every leading index, with the D values
 * of the trailing dimensions,
 *
 * `y = (x - mean) / sqrt(var + eps) * weight + bias`, var biased (divided by D).
 *
 * The same in training and evaluation. Defaults: eps 1e-5, no weight (1), no bias (0). Fused
 * forward and backward: with g = dy weight / sqrt(var + eps),
 * `dx = g - mean(g) - xhat mean(g xhat)`, `dweight = sum(dy xhat)`, `dbias = sum(dy)` (the sums
 * over the leading dimensions).
 *
 * @throws {ShapeError} naming `layerNorm` when the trailing dimensions of x differ from
 *   normalizedShape, or weight / bias do not have shape normalizedShape.
 * @throws {ValueError} for eps < 0 or a normalizedShape that is not positive integers.
 * @see Ba, Kiros & Hinton 2016, Layer Normalization: https://arxiv.org/abs/1607.06450
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.functional.layer_norm.html
 * @example
 * ```ts
 * const h = randn([8, 20, 64]); // batch, tokens, features
 * const y = layerNorm(h, [64]); // each token's 64 features: mean 0, variance 1
 * ```
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  options: LayerNormFunctionalOptions = {},
): Tensor {
  return layerNormImpl('layerNorm', x, normalizedShape, options);
}

/** What {@link layerNormWithStats} returns, as `torch.native_layer_norm`'s `(output, mean, rstd)`. */
export interface LayerNormWithStats {
  /** The normalized output, as {@link layerNorm} returns it (gradients flow through it). */
  readonly output: Tensor;
  /** The mean of each row, shape `[*, 1, ..., 1]` (x's leading dimensions, a 1 per normalized one); no gradient. */
  readonly mean: Tensor;
  /** `1 / sqrt(var + eps)` of each row (biased var), shaped as `mean`; no gradient. */
  readonly rstd: Tensor;
}

/**
 * {@link layerNorm} that also returns its per-row statistics, as PyTorch's
 * `torch.native_layer_norm(x, normalizedShape, weight, bias, eps)` returns `(output, mean, rstd)`:
 * for every leading index, over the D values of the trailing dimensions `normalizedShape`,
 *
 * `mean = sum(x) / D`, `rstd = 1 / sqrt(sum((x - mean)^2) / D + eps)`,
 * `output = (x - mean) rstd * weight + bias`.
 *
 * `mean` and `rstd` have x's leading dimensions followed by a 1 for each normalized dimension
 * (`[4, 3, 5]` over `[5]` gives `[4, 3, 1]`; over `[3, 5]`, `[4, 1, 1]`), as PyTorch shapes them.
 * They are the very statistics the output was computed with (copied out), for users who need
 * them, e.g. to fuse a backward pass of their own or to log activation statistics. As in PyTorch,
 * only `output` is differentiable: gradients flow through it exactly as through
 * {@link layerNorm}; `mean` and `rstd` carry none (`requiresGrad` false).
 *
 * Defaults: eps 1e-5, no weight (1), no bias (0).
 *
 * @throws {ShapeError} naming `layerNormWithStats` when the trailing dimensions of x differ from
 *   normalizedShape, or weight / bias do not have shape normalizedShape.
 * @throws {ValueError} for eps < 0 or a normalizedShape that is not positive integers.
 * @see https://github.com/pytorch/pytorch/blob/main/aten/src/ATen/native/layer_norm.cpp (native_layer_norm)
 * @see Ba, Kiros & Hinton 2016, Layer Normalization: https://arxiv.org/abs/1607.06450
 * @example
 * ```ts
 * const { output, mean, rstd } = layerNormWithStats(randn([8, 20, 64]), [64]);
 * mean.shape; // [8, 20, 1]
 * rstd.shape; // [8, 20, 1]
 * ```
 */
export function layerNormWithStats(
  x: Tensor,
  normalizedShape: number | readonly number[],
  options: LayerNormFunctionalOptions = {},
): LayerNormWithStats {
  const op = 'layerNormWithStats';
  const copies: DeviceArray[] = [];
  try {
    const output = layerNormImpl(op, x, normalizedShape, options, (mean, rstd) => {
      const k = Array.isArray(normalizedShape) ? normalizedShape.length : 1;
      const statShape = [...x.shape.slice(0, x.rank - k), ...new Array<number>(k).fill(1)];
      for (const a of [mean, rstd]) {
        const copy = a.device.unary('identity', a);
        try {
          copies.push(a.device.reshape(copy, statShape));
        } finally {
          copy.dispose();
        }
      }
    });
    return { output, mean: new Tensor(copies[0]), rstd: new Tensor(copies[1]) };
  } catch (e) {
    for (const c of copies) c.dispose();
    throw e;
  }
}

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance inside the square root (default 1e-5). */
  readonly eps?: number;
  /** Learnable elementwise `weight` (initially 1) and, unless `bias: false`, `bias` (initially 0). Default true. */
  readonly elementwiseAffine?: boolean;
  /** With `elementwiseAffine`, also learn `bias` (default true; as PyTorch 2.1's `bias` flag). */
  readonly bias?: boolean;
  /** Where to create the parameters (default: the default device). */
  readonly device?: Device;
}

/**
 * Layer normalization (Ba et al. 2016) over the trailing dimensions `normalizedShape`, PyTorch's
 * `nn.LayerNorm`:
 *
 * `y = (x - mean) / sqrt(var + eps) * weight + bias`, with mean and the biased var over the
 * trailing dimensions of each sample; the same in training and evaluation (no running statistics).
 *
 * Defaults: eps 1e-5, elementwiseAffine true (weight 1, bias 0, both of shape normalizedShape),
 * bias true. State dict keys: `weight`, `bias`, as PyTorch's.
 *
 * @throws {ShapeError} from `forward` naming `LayerNorm` when the input's trailing dimensions differ from normalizedShape.
 * @see Ba, Kiros & Hinton 2016, Layer Normalization: https://arxiv.org/abs/1607.06450
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.LayerNorm.html
 * @example
 * ```ts
 * const ln = new LayerNorm(64);
 * const y = ln.forward(randn([8, 20, 64]));
 * const noAffine = new LayerNorm([20, 64], { elementwiseAffine: false });
 * ```
 */
export class LayerNorm extends Module<[Tensor], Tensor> {
  /** The trailing dimensions normalized over. */
  readonly normalizedShape: readonly number[];
  /** Added to the variance inside the square root. */
  readonly eps: number;
  /** Whether `weight` (and `bias`, unless disabled) exist. */
  readonly elementwiseAffine: boolean;
  /** Elementwise scale, shape normalizedShape, initially 1 (null without elementwiseAffine). */
  readonly weight: Parameter | null;
  /** Elementwise shift, shape normalizedShape, initially 0 (null without elementwiseAffine or with `bias: false`). */
  readonly bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const op = 'LayerNorm';
    this.normalizedShape = Object.freeze(normalizeShapeArg(op, normalizedShape));
    this.eps = checkEps(op, options.eps ?? 1e-5);
    this.elementwiseAffine = checkBoolean(op, 'elementwiseAffine', options.elementwiseAffine ?? true);
    const withBias = checkBoolean(op, 'bias', options.bias ?? true);
    const device = options.device;
    const shape = this.normalizedShape;
    this.weight = this.elementwiseAffine ? this.registerParameter('weight', ones(shape, { device })) : null;
    this.bias =
      this.elementwiseAffine && withBias ? this.registerParameter('bias', zeros(shape, { device })) : null;
  }

  /** Normalizes the trailing dimensions of `x` (`[*, ...normalizedShape]`). */
  forward(x: Tensor): Tensor {
    return layerNormImpl('LayerNorm', x, this.normalizedShape, {
      weight: this.weight,
      bias: this.bias,
      eps: this.eps,
    });
  }

  /** `LayerNorm([64], eps=0.00001, elementwiseAffine=true)`. */
  override toString(): string {
    return `LayerNorm(${formatShape(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}${this.elementwiseAffine && !this.bias ? ', bias=false' : ''})`;
  }
}
