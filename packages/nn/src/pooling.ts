import type { AdaptiveSize, Tensor } from '@gradkit/tensor';
import {
  adaptiveAvgPool2d,
  avgPool2d,
  checkInteger,
  invalidArgument,
  Module,
  maxPool2d,
} from '@gradkit/tensor';
import type { Size2 } from './spatial-checks.js';
import { optBoolean, pair } from './spatial-checks.js';

/** Options of {@link MaxPool2d}. */
export interface MaxPool2dLayerOptions {
  /** Step between windows, `s` or `[sh, sw]`. Default: the kernel size. */
  readonly stride?: Size2;
  /** Implicit `-Infinity` padding on each side, `p` or `[ph, pw]` (at most half the kernel). Default 0. */
  readonly padding?: Size2;
  /** Spacing between window taps. Default 1. */
  readonly dilation?: Size2;
  /** Round the output size up instead of down (the last window must start inside the input or the left padding). Default false. */
  readonly ceilMode?: boolean;
}

/**
 * 2-D max pooling over NCHW batches, PyTorch's `nn.MaxPool2d`: {@link @gradkit/tensor!maxPool2d},
 * `y[n, c, i, j] = max_{u, v} xpad[n, c, i sh + u dh, j sw + v dw]`; output size per axis
 * `floor((H + 2 ph - dh (kh - 1) - 1) / sh) + 1` (rounded up with `ceilMode`). The gradient goes
 * to the first maximum of each window (PyTorch's tie rule). No parameters.
 *
 * Defaults: stride = kernelSize, padding 0, dilation 1, ceilMode false.
 *
 * @throws {ValueError} naming `MaxPool2d` for a kernel size, stride or dilation that is not a
 *   positive integer (or pair), a negative padding, or a non-boolean ceilMode.
 * @throws {ShapeError} from `forward` naming `maxPool2d` for an input that is not 4-D or too small.
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.MaxPool2d.html
 * @example
 * ```ts
 * new MaxPool2d(2).forward(zeros([8, 16, 28, 28])).shape; // [8, 16, 14, 14]
 * new MaxPool2d(3, { stride: 2, padding: 1 }).forward(zeros([1, 1, 7, 7])).shape; // [1, 1, 4, 4]
 * ```
 */
export class MaxPool2d extends Module {
  /** `[kh, kw]`. */
  readonly kernelSize: readonly [number, number];
  /** `[sh, sw]`. */
  readonly stride: readonly [number, number];
  /** `[ph, pw]`. */
  readonly padding: readonly [number, number];
  /** `[dh, dw]`. */
  readonly dilation: readonly [number, number];
  /** Whether the output size is rounded up. */
  readonly ceilMode: boolean;

  /**
   * @param kernelSize the window, `k` or `[kh, kw]`.
   * @param options stride, padding, dilation, ceilMode.
   */
  constructor(kernelSize: Size2, options: MaxPool2dLayerOptions = {}) {
    super();
    const op = 'MaxPool2d';
    this.kernelSize = pair(op, 'kernelSize', kernelSize, 1);
    this.stride = options.stride === undefined ? this.kernelSize : pair(op, 'stride', options.stride, 1);
    this.padding = pair(op, 'padding', options.padding ?? 0, 0);
    this.dilation = pair(op, 'dilation', options.dilation ?? 1, 1);
    this.ceilMode = optBoolean(op, 'ceilMode', options.ceilMode, false);
  }

  /** The window maxima of `x` `[N, C, H, W]`. */
  forward(x: Tensor): Tensor {
    return maxPool2d(x, {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
    });
  }
}

/** Options of {@link AvgPool2d}. */
export interface AvgPool2dLayerOptions {
  /** Step between windows, `s` or `[sh, sw]`. Default: the kernel size. */
  readonly stride?: Size2;
  /** Implicit zero padding on each side, `p` or `[ph, pw]` (at most half the kernel). Default 0. */
  readonly padding?: Size2;
  /** Round the output size up instead of down. Default false. */
  readonly ceilMode?: boolean;
  /** Count the padding zeros in the divisor (PyTorch's default true). */
  readonly countIncludePad?: boolean;
  /** Divide every window sum by this integer instead. Default none. */
  readonly divisorOverride?: number;
}

/**
 * 2-D average pooling over NCHW batches, PyTorch's `nn.AvgPool2d`: {@link @gradkit/tensor!avgPool2d},
 * `y[n, c, i, j] = sum_{u, v} xpad[n, c, i sh + u, j sw + v] / divisor`, with the divisor the
 * window size (`countIncludePad`, default), the number of real elements in the window, or
 * `divisorOverride`. The gradient spreads `dy / divisor` over each window. No parameters.
 *
 * Defaults: stride = kernelSize, padding 0, ceilMode false, countIncludePad true.
 *
 * @throws {ValueError} naming `AvgPool2d` for a bad kernel size, stride or padding, a non-boolean
 *   flag, or a `divisorOverride` that is not a positive integer.
 * @throws {ShapeError} from `forward` naming `avgPool2d` for an input that is not 4-D or too small.
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.AvgPool2d.html
 * @example
 * ```ts
 * new AvgPool2d(2).forward(zeros([8, 16, 28, 28])).shape; // [8, 16, 14, 14]
 * new AvgPool2d(3, { stride: 1, padding: 1, countIncludePad: false }); // a 3x3 box blur
 * ```
 */
export class AvgPool2d extends Module {
  /** `[kh, kw]`. */
  readonly kernelSize: readonly [number, number];
  /** `[sh, sw]`. */
  readonly stride: readonly [number, number];
  /** `[ph, pw]`. */
  readonly padding: readonly [number, number];
  /** Whether the output size is rounded up. */
  readonly ceilMode: boolean;
  /** Whether padding zeros count in the divisor. */
  readonly countIncludePad: boolean;
  /** The fixed divisor, or undefined. */
  readonly divisorOverride: number | undefined;

  /**
   * @param kernelSize the window, `k` or `[kh, kw]`.
   * @param options stride, padding, ceilMode, countIncludePad, divisorOverride.
   */
  constructor(kernelSize: Size2, options: AvgPool2dLayerOptions = {}) {
    super();
    const op = 'AvgPool2d';
    this.kernelSize = pair(op, 'kernelSize', kernelSize, 1);
    this.stride = options.stride === undefined ? this.kernelSize : pair(op, 'stride', options.stride, 1);
    this.padding = pair(op, 'padding', options.padding ?? 0, 0);
    this.ceilMode = optBoolean(op, 'ceilMode', options.ceilMode, false);
    this.countIncludePad = optBoolean(op, 'countIncludePad', options.countIncludePad, true);
    this.divisorOverride =
      options.divisorOverride === undefined
        ? undefined
        : checkInteger(op, 'divisorOverride', options.divisorOverride, 1);
  }

  /** The window averages of `x` `[N, C, H, W]`. */
  forward(x: Tensor): Tensor {
    return avgPool2d(x, {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      ...(this.divisorOverride !== undefined ? { divisorOverride: this.divisorOverride } : {}),
    });
  }
}

/**
 * 2-D adaptive average pooling, PyTorch's `nn.AdaptiveAvgPool2d`:
 * {@link @gradkit/tensor!adaptiveAvgPool2d} to a fixed output size `[oh, ow]` whatever the input
 * size: `y[n, c, i, j]` is the mean of `x[n, c, h, w]` over `h` in
 * `[floor(i H / oh), ceil((i + 1) H / oh))` and likewise `w`. `outputSize` 1 is global average
 * pooling (`[N, C, 1, 1]`, often followed by `Flatten`); `null` in a pair keeps that input size.
 * No parameters.
 *
 * @throws {ValueError} naming `AdaptiveAvgPool2d` for an output size that is not a positive
 *   integer, or a pair of positive integers or nulls.
 * @throws {ShapeError} from `forward` naming `adaptiveAvgPool2d` for an input that is not 4-D.
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.AdaptiveAvgPool2d.html
 * @example
 * ```ts
 * new AdaptiveAvgPool2d(1).forward(zeros([8, 64, 7, 7])).shape; // [8, 64, 1, 1]
 * new AdaptiveAvgPool2d([2, null]).forward(zeros([1, 3, 5, 6])).shape; // [1, 3, 2, 6]
 * ```
 */
export class AdaptiveAvgPool2d extends Module {
  /** The output size as given. */
  readonly outputSize: AdaptiveSize;

  /** @param outputSize `s` or `[oh, ow]` (`null` keeps that input size). */
  constructor(outputSize: AdaptiveSize) {
    super();
    const op = 'AdaptiveAvgPool2d';
    const ok = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
    if (
      !(
        ok(outputSize) ||
        (Array.isArray(outputSize) && outputSize.length === 2 && outputSize.every((v) => v === null || ok(v)))
      )
    ) {
      invalidArgument(
        op,
        'outputSize',
        'an integer >= 1 or a pair [oh, ow] of them (null keeps the input size)',
        outputSize,
      );
    }
    this.outputSize = typeof outputSize === 'number' ? outputSize : [outputSize[0], outputSize[1]];
  }

  /** The adaptive averages of `x` `[N, C, H, W]`: `[N, C, oh, ow]`. */
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}
