import type { Device, Parameter, Tensor } from '@gradkit/tensor';
import { Module, ones, ShapeError, ValueError, zeros } from '@gradkit/tensor';
import {
  checkBoolean,
  checkEps,
  checkOperands,
  checkParamShape,
  checkPositiveInt,
  formatShape,
  sizeOf,
} from './checks.js';
import { normalizeFused } from './normalize.js';

/** Options of {@link groupNorm}. */
export interface GroupNormFunctionalOptions {
  /** Per-channel scale, shape `[C]` (default none: 1). */
  readonly weight?: Tensor | null;
  /** Per-channel shift, shape `[C]` (default none: 0). */
  readonly bias?: Tensor | null;
  /** Added to the variance inside the square root (default 1e-5). */
  readonly eps?: number;
}

/** @internal The group-norm computation behind {@link groupNorm} and {@link GroupNorm}; errors name `op`. */
export function groupNormImpl(
  op: string,
  x: Tensor,
  numGroups: number,
  options: GroupNormFunctionalOptions,
  channels?: number,
): Tensor {
  const { weight = null, bias = null } = options;
  const eps = checkEps(op, options.eps ?? 1e-5);
  const g = checkPositiveInt(op, 'numGroups', numGroups);
  checkOperands(op, x, { weight, bias });
  if (x.rank < 2) {
    throw new ShapeError(op, `expects an input [N, C, *], got shape ${formatShape(x.shape)}`, [x.shape]);
  }
  const [n, c] = x.shape;
  if (channels !== undefined && c !== channels) {
    throw new ShapeError(
      op,
      `expects ${channels} channels (input [N, ${channels}, *]), got shape ${formatShape(x.shape)}`,
      [x.shape],
    );
  }
  if (c % g !== 0) {
    throw new ShapeError(
      op,
      `the ${c} channels of an input of shape ${formatShape(x.shape)} do not divide into ${g} groups`,
      [x.shape],
    );
  }
  checkParamShape(op, 'weight', weight, [c], x);
  checkParamShape(op, 'bias', bias, [c], x);
  const spatial = sizeOf(x.shape.slice(2));
  return normalizeFused('groupNorm', x, weight, bias, {
    view: [n, g, c / g, spatial],
    statAxes: [2, 3],
    paramView: [1, g, c / g, 1],
    paramAxes: [0, 3],
    centered: true,
    eps,
  });
}

/**
 * Group normalization (Wu & He 2018) of an input `[N, C, *]`, PyTorch's `F.group_norm`: the C
 * channels are split into `numGroups` groups of C / G consecutive channels, and each sample's group
 * (C / G * prod(*) values) is normalized on its own; then a per-channel affine:
 *
 * `y = (x - mean_{n,g}) / sqrt(var_{n,g} + eps) * weight_c + bias_c`, var biased.
 *
 * The same in training and evaluation. numGroups = 1 normalizes each sample over all of C and *
 * (LayerNorm over [C, *] with per-channel affine); numGroups = C is instance normalization.
 * Defaults: eps 1e-5, no weight (1), no bias (0). Fused forward and backward: with
 * g = dy weight / sqrt(var + eps), `dx = g - mean(g) - xhat mean(g xhat)` per group,
 * `dweight = sum(dy xhat)`, `dbias = sum(dy)` per channel over N and *.
 *
 * @throws {ShapeError} naming `groupNorm` for an input of rank < 2, C not divisible by numGroups, or
 *   weight / bias not `[C]`.
 * @throws {ValueError} for eps < 0 or numGroups not a positive integer.
 * @see Wu & He 2018, Group Normalization: https://arxiv.org/abs/1803.08494
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.functional.group_norm.html
 * @example
 * ```ts
 * const y = groupNorm(randn([8, 32, 16, 16]), 8); // 8 groups of 4 channels
 * ```
 */
export function groupNorm(x: Tensor, numGroups: number, options: GroupNormFunctionalOptions = {}): Tensor {
  return groupNormImpl('groupNorm', x, numGroups, options);
}

/** Options of {@link GroupNorm}. */
export interface GroupNormOptions {
  /** Added to the variance inside the square root (default 1e-5). */
  readonly eps?: number;
  /** Learnable per-channel `weight` (initially 1) and `bias` (initially 0). Default true. */
  readonly affine?: boolean;
  /** Where to create the parameters (default: the default device). */
  readonly device?: Device;
}

/**
 * Group normalization (Wu & He 2018), PyTorch's `nn.GroupNorm`: each sample's channels are split
 * into `numGroups` groups normalized on their own (statistics over the group's channels and every
 * trailing dimension), then scaled and shifted per channel:
 *
 * `y = (x - mean_{n,g}) / sqrt(var_{n,g} + eps) * weight_c + bias_c`
 *
 * The same in training and evaluation (no running statistics). Defaults: eps 1e-5, affine true
 * (weight 1, bias 0, shape `[numChannels]`). State dict keys: `weight`, `bias`, as PyTorch's.
 *
 * @throws {ValueError} from the constructor when numChannels is not divisible by numGroups.
 * @throws {ShapeError} from `forward` naming `GroupNorm` when the input is not `[N, numChannels, *]`.
 * @see Wu & He 2018, Group Normalization: https://arxiv.org/abs/1803.08494
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.GroupNorm.html
 * @example
 * ```ts
 * const gn = new GroupNorm(4, 16); // 4 groups of 4 channels
 * const y = gn.forward(randn([2, 16, 8, 8]));
 * ```
 */
export class GroupNorm extends Module<[Tensor], Tensor> {
  /** G, the number of groups. */
  readonly numGroups: number;
  /** C, the number of channels (a multiple of numGroups). */
  readonly numChannels: number;
  /** Added to the variance inside the square root. */
  readonly eps: number;
  /** Whether `weight` and `bias` exist. */
  readonly affine: boolean;
  /** Per-channel scale, shape `[C]`, initially 1 (null unless affine). */
  readonly weight: Parameter | null;
  /** Per-channel shift, shape `[C]`, initially 0 (null unless affine). */
  readonly bias: Parameter | null;

  constructor(numGroups: number, numChannels: number, options: GroupNormOptions = {}) {
    super();
    const op = 'GroupNorm';
    this.numGroups = checkPositiveInt(op, 'numGroups', numGroups);
    this.numChannels = checkPositiveInt(op, 'numChannels', numChannels);
    if (numChannels % numGroups !== 0) {
      throw new ValueError(op, `numChannels (${numChannels}) must be divisible by numGroups (${numGroups})`);
    }
    this.eps = checkEps(op, options.eps ?? 1e-5);
    this.affine = checkBoolean(op, 'affine', options.affine ?? true);
    const device = options.device;
    this.weight = this.affine ? this.registerParameter('weight', ones([numChannels], { device })) : null;
    this.bias = this.affine ? this.registerParameter('bias', zeros([numChannels], { device })) : null;
  }

  /** Normalizes `x` (`[N, numChannels, *]`) per sample and group. */
  forward(x: Tensor): Tensor {
    return groupNormImpl(
      'GroupNorm',
      x,
      this.numGroups,
      { weight: this.weight, bias: this.bias, eps: this.eps },
      this.numChannels,
    );
  }

  /** `GroupNorm(4, 16, eps=0.00001, affine=true)`. */
  override toString(): string {
    return `GroupNorm(${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine})`;
  }
}
