import type { DeviceArray } from '@gradkit/kernels';
import { formatShape, normalizeAxes, reducedShape, ShapeError, ValueError } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { deviceOf } from './operands.js';
import { S } from './specs.js';
import type { Axes } from './tensor.js';
import { Tensor } from './tensor.js';
import { view } from './util.js';

interface Plan {
  axes: number[];
  keepShape: number[];
  count: number;
}

function plan(op: string, x: Tensor, axes: Axes | undefined, keepDims: boolean): Plan {
  deviceOf(op, x);
  if (typeof keepDims !== 'boolean') {
    throw new ValueError(op, `keepDims must be a boolean, got ${String(keepDims)}`);
  }
  const ax = normalizeAxes(op, axes, x.rank);
  return {
    axes: ax,
    keepShape: reducedShape(x.shape, ax, true),
    count: ax.reduce((p, a) => p * x.shape[a], 1),
  };
}

/** dy reshaped so that it broadcasts against x (reduced axes kept as 1). */
function keptView(dy: DeviceArray, keepShape: readonly number[]): DeviceArray {
  return view(dy, keepShape);
}

/**
 * Sum over `axes` (default: all; negative axes count from the end); `keepDims` keeps reduced
 * axes as size 1. Gradient: `dy` broadcast back over the reduced axes.
 *
 * @throws {ShapeError} for an axis out of range or repeated.
 * @example
 * ```ts
 * sum(tensor([[1, 2], [3, 4]]), 1).toArray(); // [3, 7]
 * sum(tensor([[1, 2], [3, 4]])).item(); // 10
 * ```
 */
export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return sumOrMean('sum', x, axes, keepDims);
}

/**
 * Mean over `axes` (default: all): the sum divided by the number of reduced elements. Gradient:
 * `dy / count` broadcast back over the reduced axes.
 *
 * @example
 * ```ts
 * mean(tensor([[1, 2], [3, 4]]), 0).toArray(); // [2, 3]
 * ```
 */
export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return sumOrMean('mean', x, axes, keepDims);
}

function sumOrMean(op: 'sum' | 'mean', x: Tensor, axes: Axes | undefined, keepDims: boolean): Tensor {
  const p = plan(op, x, axes, keepDims);
  const d = x.device;
  const out = d.reduce(op, x.array, p.axes, keepDims);
  const scale = op === 'mean' ? 1 / p.count : 1;
  const inShape = x.shape;
  return fromOp(op, out, [x], () => (dy) => {
    // dy broadcast back over the reduced axes (x itself is not kept for the backward pass)
    const dk = keptView(dy, p.keepShape);
    try {
      return [d.map(S.scale, [dk], [scale], inShape)];
    } finally {
      dk.dispose();
    }
  });
}

function extremum(op: 'max' | 'min', x: Tensor, axes: Axes | undefined, keepDims: boolean): Tensor {
  const p = plan(op, x, axes, keepDims);
  if (x.size === 0)
    throw new ShapeError(op, `cannot reduce an empty tensor (shape ${formatShape(x.shape)})`, [x.shape]);
  const d = x.device;
  const out = d.reduce(op, x.array, p.axes, keepDims);
  return fromOp(op, out, [x], (ctx, y) => {
    const sx = ctx.save(x.array);
    const sy = ctx.save(y);
    return (dy) => {
      const mk = keptView(sy, p.keepShape);
      const dk = keptView(dy, p.keepShape);
      const mask = d.binary('equal', sx, mk);
      const count = d.sum(mask, p.axes, true);
      try {
        return [d.map(S.extremumGrad, [sx, mk, dk, count])];
      } finally {
        mk.dispose();
        dk.dispose();
        mask.dispose();
        count.dispose();
      }
    };
  });
}

/**
 * Maximum over `axes` (default: all). Gradient (as PyTorch's `amax`): `dy` split evenly among the
 * elements equal to the maximum.
 *
 * @throws {ShapeError} for an empty tensor or a bad axis.
 * @example
 * ```ts
 * max(tensor([[1, 5], [7, 2]]), 1).toArray(); // [5, 7]
 * ```
 */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return extremum('max', x, axes, keepDims);
}

/**
 * Minimum over `axes` (default: all). Gradient (as PyTorch's `amin`): `dy` split evenly among the
 * elements equal to the minimum.
 *
 * @example
 * ```ts
 * min(tensor([[1, 5], [7, 2]]), 1).toArray(); // [1, 2]
 * ```
 */
export function min(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return extremum('min', x, axes, keepDims);
}

/**
 * Index of the maximum along `axis` (default -1), the first one at ties, as float values; where a
 * row holds a NaN, the index of its first NaN (as PyTorch: a NaN is never skipped). Not
 * differentiable: the result never requires grad.
 *
 * @example
 * ```ts
 * argmax(tensor([[1, 5, 2], [7, 0, 7]])).toArray(); // [1, 0]
 * ```
 */
export function argmax(x: Tensor, axis = -1, keepDims = false): Tensor {
  const op = 'argmax';
  plan(op, x, axis, keepDims);
  return new Tensor(x.device.argmax(x.array, axis, keepDims));
}

/**
 * `log(sum(exp(x)))` over `axes` (default: all), computed stably as `m + log(sum(exp(x - m)))`
 * with m the maximum. Gradient: `dy * softmax(x)` over the reduced axes, i.e. `dy e^(x - lse)`.
 *
 * @example
 * ```ts
 * logsumexp(tensor([0, 0])).item(); // 0.6931472 (log 2)
 * ```
 */
export function logsumexp(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const op = 'logsumexp';
  const p = plan(op, x, axes, keepDims);
  const d = x.device;
  const out = d.logsumexp(x.array, p.axes, keepDims);
  return fromOp(op, out, [x], (ctx, y) => {
    const sx = ctx.save(x.array);
    const sy = ctx.save(y);
    return (dy) => {
      const lk = keptView(sy, p.keepShape);
      const dk = keptView(dy, p.keepShape);
      try {
        return [d.map(S.logsumexpGrad, [sx, lk, dk])];
      } finally {
        lk.dispose();
        dk.dispose();
      }
    };
  });
}
