import type { DeviceArray, Window2dOptions, WindowSpec } from '@gradkit/kernels';
import { unfoldWindow, ValueError, windowGeometry2d, windowSpec2d } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { deviceOf } from './operands.js';
import type { Tensor } from './tensor.js';
import { view } from './util.js';

/**
 * A strided window read with autograd: output element `o` is `x` at input coordinates
 * `c_a(o) = offsets[a] + sum_{k: axes[k] = a} steps[k] * o_k`, or `spec.padValue` where a
 * coordinate falls outside `x` (see {@link @gradkit/kernels!WindowSpec}). Every movement op of
 * this package (slice, pad, unfold, im2col) is this op with a particular spec; use it directly
 * for a layout they do not give. Gradient: `dy` scatter-added back (`Device.windowScatterAdd`):
 * elements read by several output positions (overlapping windows, broadcasts) sum their
 * gradients, padding gets none.
 *
 * @throws {@link @gradkit/kernels!ShapeError} / {@link @gradkit/kernels!ValueError} for a spec that
 * does not fit `x` (without `padValue`, a read outside `x` is an error).
 * @example
 * ```ts
 * // x[::-1] of a [3] tensor
 * window(tensor([1, 2, 3]), { outShape: [3], axes: [0], steps: [-1], offsets: [2] }).toArray(); // [3, 2, 1]
 * ```
 */
export function window(x: Tensor, spec: WindowSpec): Tensor {
  return windowOp('window', x, spec);
}

/** @internal A window read recorded under the name `op`. */
export function windowOp(op: string, x: Tensor, spec: WindowSpec): Tensor {
  const d = deviceOf(op, x);
  const out = d.window(x.array, spec);
  const inShape = x.shape;
  return fromOp(op, out, [x], () => (dy) => [d.windowScatterAdd(dy, spec, inShape)]);
}

/**
 * Every slice of length `size` along axis `dim`, `step` apart, as PyTorch's
 * `Tensor.unfold(dim, size, step)`: axis `dim` becomes the number of slices
 * `floor((len - size) / step) + 1` and a last axis of length `size` is added,
 * `out[..., i, ..., j] = x[..., i * step + j, ...]`. Gradient: overlapping slices add up.
 *
 * @throws {@link @gradkit/kernels!ShapeError} when `size` exceeds the axis or `dim` is out of range.
 * @throws {@link @gradkit/kernels!ValueError} for a negative `size` or a `step` that is not positive.
 * @example
 * ```ts
 * unfold(arange(5), 0, 2, 1).toArray(); // [[0, 1], [1, 2], [2, 3], [3, 4]]
 * ```
 * @see https://pytorch.org/docs/1.13/generated/torch.Tensor.unfold.html
 */
export function unfold(x: Tensor, dim: number, size: number, step: number): Tensor {
  deviceOf('unfold', x);
  return windowOp('unfold', x, unfoldWindow(x.shape, dim, size, step));
}

/**
 * The `KH x KW` patches of an `[N, C, H, W]` input as a 6-D tensor, with PyTorch's `Conv2d`
 * geometry (`OH = floor((H + 2 padding - dilation (KH - 1) - 1) / stride) + 1`, likewise `OW`).
 * Layout `'windows'` (default) `[N, C, OH, OW, KH, KW]` with
 * `out[n, c, i, j, u, v] = x[n, c, i sh - ph + u dh, j sw - pw + v dw]` (`padValue`, default 0,
 * outside): pooling reduces its last two axes; `'rows'` `[N, OH, OW, C, KH, KW]` is the im2col
 * matrix of a GEMM convolution; `'columns'` `[N, C, KH, KW, OH, OW]` is {@link im2col} before its
 * reshape. One kernel, no transposes. Gradient: overlapping windows add up, padding gets none.
 *
 * @throws {@link @gradkit/kernels!ShapeError} for an input that is not 4-D or a dilated kernel larger
 * than the padded input.
 * @throws {@link @gradkit/kernels!ValueError} for a kernel size, stride or dilation below 1 or a
 * negative padding.
 * @example
 * ```ts
 * windows2d(zeros([8, 3, 28, 28]), 3, { padding: 1 }).shape; // [8, 3, 28, 28, 3, 3]
 * // max-pooling 2x2 / 2:
 * windows2d(x, 2, { stride: 2, padValue: -Infinity }).max([4, 5]);
 * ```
 */
export function windows2d(
  x: Tensor,
  kernelSize: number | readonly [number, number],
  options: Window2dOptions = {},
): Tensor {
  deviceOf('windows2d', x);
  return windowOp('windows2d', x, windowSpec2d(x.shape, kernelSize, options, 'windows2d'));
}

/** Options of {@link im2col}: PyTorch's `F.unfold` arguments, ints or `[h, w]` pairs. */
export interface Im2colOptions {
  /** Step between window positions. Default 1. */
  readonly stride?: number | readonly [number, number];
  /** Zero padding on both sides of H and W. Default 0. */
  readonly padding?: number | readonly [number, number];
  /** Spacing between kernel taps. Default 1. */
  readonly dilation?: number | readonly [number, number];
}

/**
 * PyTorch's `torch.nn.functional.unfold` (im2col): the sliding `KH x KW` blocks of an
 * `[N, C, H, W]` input as columns, shape `[N, C * KH * KW, L]` with `L = OH * OW`:
 * `out[n, (c KH + u) KW + v, i OW + j] = x[n, c, i sh - ph + u dh, j sw - pw + v dw]` (0 in the
 * padding). A convolution is then `W.reshape([OC, C*KH*KW]) @ out`. Gradient: PyTorch's `fold`
 * (overlapping blocks add up).
 *
 * @throws {@link @gradkit/kernels!ShapeError} for an input that is not 4-D or a dilated kernel larger
 * than the padded input.
 * @throws {@link @gradkit/kernels!ValueError} for a kernel size, stride or dilation below 1 or a
 * negative padding.
 * @example
 * ```ts
 * im2col(zeros([1, 3, 5, 5]), 3, { padding: 1 }).shape; // [1, 27, 25]
 * ```
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.functional.unfold.html
 */
export function im2col(
  x: Tensor,
  kernelSize: number | readonly [number, number],
  options: Im2colOptions = {},
): Tensor {
  const op = 'im2col';
  const d = deviceOf(op, x);
  if (options === null || typeof options !== 'object') throw new ValueError(op, 'options must be an object');
  const { stride, padding, dilation } = options;
  const g = windowGeometry2d(op, x.shape, kernelSize, { stride, padding, dilation });
  const spec = windowSpec2d(x.shape, kernelSize, { stride, padding, dilation, layout: 'columns' }, op);
  const [N, C] = x.shape;
  const cols = d.window(x.array, spec);
  let out: DeviceArray;
  try {
    out = d.reshape(cols, [N, C * g.kernel[0] * g.kernel[1], g.out[0] * g.out[1]]);
  } finally {
    cols.dispose();
  }
  const inShape = x.shape;
  return fromOp(op, out, [x], () => (dy) => {
    const dy6 = view(dy, spec.outShape);
    try {
      return [d.windowScatterAdd(dy6, spec, inShape)];
    } finally {
      dy6.dispose();
    }
  });
}
