import type { Conv2dPadding, Device, Parameter, Rng, Tensor } from '@gradkit/tensor';
import { checkInteger, conv2d, getRng, Module, ValueError } from '@gradkit/tensor';
import type { Initializer } from './linear.js';
import { pytorchLinearInit } from './linear.js';
import type { Size2 } from './spatial-checks.js';
import { checkConvPadding, optBoolean, pair } from './spatial-checks.js';

/** Options of {@link Conv2d}: `F.conv2d`'s geometry plus the layer's bias, initializers, generator and device. */
export interface Conv2dLayerOptions {
  /** Step between output positions, `s` or `[sh, sw]`. Default 1. */
  readonly stride?: Size2;
  /**
   * Zero padding: `p`, `[ph, pw]`, `[top, bottom, left, right]`, `'valid'` (none) or `'same'`
   * (output size = input size; stride 1 only). Default 0.
   */
  readonly padding?: Conv2dPadding;
  /** Spacing between kernel taps, `d` or `[dh, dw]`. Default 1. */
  readonly dilation?: Size2;
  /** Channel groups (both channel counts divisible by it; `groups = inChannels`: depthwise). Default 1. */
  readonly groups?: number;
  /** Learn an additive per-channel bias (default true). */
  readonly bias?: boolean;
  /**
   * Weight initializer, called with the weight shape `[out, in / groups, kh, kw]` and the fans
   * `fanIn = in / groups * kh * kw`, `fanOut = out * kh * kw` (PyTorch's). Default
   * {@link pytorchLinearInit}: U(-1/sqrt(fanIn), 1/sqrt(fanIn)), which is PyTorch's
   * `kaiming_uniform_(a = sqrt(5))`.
   */
  readonly weightInit?: Initializer;
  /** Bias initializer, called with `[out]` and the weight's fans (default {@link pytorchLinearInit}). */
  readonly biasInit?: Initializer;
  /** Generator for the initial values (default: the global generator of `manualSeed`). */
  readonly rng?: Rng;
  /** Device of the parameters (default: the default device). */
  readonly device?: Device;
}

/**
 * A 2-D convolution layer over NCHW batches, PyTorch's `nn.Conv2d`: {@link @gradkit/tensor!conv2d}
 * with a weight `[out, in / groups, kh, kw]` and a bias `[out]`:
 *
 * `y[n, o, i, j] = bias[o] + sum_{c, u, v} weight[o, c, u, v] * xpad[n, g(o) in/groups + c, i sh + u dh, j sw + v dw]`
 *
 * Output size per axis: `floor((H + padTotal - dh (kh - 1) - 1) / sh) + 1`.
 *
 * Initialization as PyTorch's (`reset_parameters`): weight and bias from
 * U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with `fanIn = in / groups * kh * kw` (for the weight this is
 * `kaiming_uniform_(a = sqrt(5))`), unless `weightInit` / `biasInit` say otherwise; any
 * `@gradkit/init` initializer computes the same fans from the weight's shape, so
 * `(shape, { rng }) => kaimingNormal(shape, { nonlinearity: 'relu', rng })` is He init with
 * `fanIn = in / groups * kh * kw`. In model descriptions (`{ type: 'conv2d', in, out, kernelSize,
 * ... }`) `weightInit` takes an `@gradkit/init` spec.
 *
 * Defaults: stride 1, padding 0, dilation 1, groups 1, bias true.
 *
 * @throws {ValueError} naming `Conv2d` for channel counts or a kernel size that are not positive
 *   integers, channels not divisible by `groups`, a bad stride, dilation or padding, or `'same'`
 *   padding with a stride other than 1.
 * @throws {ShapeError} from `forward` naming `conv2d` when the input is not `[N, in, H, W]` or is
 *   smaller than the dilated kernel.
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.Conv2d.html
 * @example
 * ```ts
 * const conv = new Conv2d(1, 8, 3, { padding: 1 });
 * conv.forward(zeros([16, 1, 28, 28])).shape; // [16, 8, 28, 28]
 * conv.namedParameters().map(([n, p]) => [n, p.shape]); // [['weight', [8, 1, 3, 3]], ['bias', [8]]]
 * new Conv2d(8, 8, 3, { groups: 8, padding: 'same' }); // depthwise
 * ```
 */
export class Conv2d extends Module {
  /** The weight, shape `[outChannels, inChannels / groups, kh, kw]`. */
  readonly weight: Parameter;
  /** The bias, shape `[outChannels]`, or `null` with `bias: false`. */
  readonly bias: Parameter | null;
  /** `[kh, kw]`. */
  readonly kernelSize: readonly [number, number];
  /** `[sh, sw]`. */
  readonly stride: readonly [number, number];
  /** The padding as given (default 0). */
  readonly padding: Conv2dPadding;
  /** `[dh, dw]`. */
  readonly dilation: readonly [number, number];
  /** Channel groups. */
  readonly groups: number;

  /**
   * @param inChannels C of the input `[N, C, H, W]`.
   * @param outChannels channels of the output.
   * @param kernelSize `k` or `[kh, kw]`.
   * @param options geometry, bias, initializers, generator and device (all optional).
   */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Size2,
    options: Conv2dLayerOptions = {},
  ) {
    super();
    const op = 'Conv2d';
    checkInteger(op, 'inChannels', inChannels, 1);
    checkInteger(op, 'outChannels', outChannels, 1);
    this.kernelSize = pair(op, 'kernelSize', kernelSize, 1);
    this.stride = pair(op, 'stride', options.stride ?? 1, 1);
    this.dilation = pair(op, 'dilation', options.dilation ?? 1, 1);
    this.padding = checkConvPadding(op, options.padding ?? 0, this.stride);
    this.groups = checkInteger(op, 'groups', options.groups ?? 1, 1);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new ValueError(
        op,
        `inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${this.groups})`,
      );
    }
    const hasBias = optBoolean(op, 'bias', options.bias, true);
    const [kh, kw] = this.kernelSize;
    const context = {
      fanIn: (inChannels / this.groups) * kh * kw,
      fanOut: outChannels * kh * kw,
      rng: options.rng ?? getRng(),
      ...(options.device ? { device: options.device } : {}),
    };
    this.weight = this.registerParameter(
      'weight',
      (options.weightInit ?? pytorchLinearInit)([outChannels, inChannels / this.groups, kh, kw], context),
    );
    this.bias = hasBias
      ? this.registerParameter('bias', (options.biasInit ?? pytorchLinearInit)([outChannels], context))
      : null;
  }

  /** The convolution of `x` `[N, inChannels, H, W]`: `[N, outChannels, OH, OW]`. */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  /** `Conv2d(1, 8, kernelSize=[3,3], stride=[1,1], padding=1, dilation=[1,1], groups=1, bias=true)`. */
  override toString(): string {
    const p = typeof this.padding === 'string' ? `'${this.padding}'` : JSON.stringify(this.padding);
    return `Conv2d(${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}], stride=[${this.stride}], padding=${p}, dilation=[${this.dilation}], groups=${this.groups}, bias=${this.bias !== null})`;
  }
}
