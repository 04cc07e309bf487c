import { formatShape, inferReshape, normalizeAxes, ShapeError } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { deviceOf } from './operands.js';
import type { Axes, Tensor } from './tensor.js';
import { view } from './util.js';

function reshapeAs(op: string, x: Tensor, shape: readonly number[]): Tensor {
  const d = deviceOf(op, x);
  const out = d.reshape(x.array, shape);
  const inShape = x.shape;
  return fromOp(op, out, [x], () => (dy) => [view(dy, inShape)]);
}

/**
 * The same values with another shape (row-major order unchanged); one dimension may be -1 and is
 * inferred. Shares the device buffer: no copy. Gradient: `dy` reshaped back.
 *
 * @throws {ShapeError} when the sizes differ or more than one dimension is -1.
 * @example
 * ```ts
 * reshape(arange(6), [2, -1]).shape; // [2, 3]
 * ```
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  deviceOf('reshape', x);
  if (!Array.isArray(shape)) throw new ShapeError('reshape', `shape must be an array, got ${String(shape)}`);
  return reshapeAs('reshape', x, inferReshape('reshape', x.size, shape));
}

/**
 * Merges dimensions `startDim..endDim` (inclusive, default all; negative count from the end) into
 * one, as PyTorch's `flatten`. A scalar becomes `[1]`. No copy.
 *
 * @example
 * ```ts
 * flatten(zeros([2, 3, 4]), 1).shape; // [2, 12]
 * ```
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  const op = 'flatten';
  deviceOf(op, x);
  if (x.rank === 0) return reshapeAs(op, x, [1]);
  const [s] = normalizeAxes(op, startDim, x.rank);
  const [e] = normalizeAxes(op, endDim, x.rank);
  if (s > e)
    throw new ShapeError(
      op,
      `startDim ${startDim} comes after endDim ${endDim} for shape ${formatShape(x.shape)}`,
    );
  const merged = x.shape.slice(s, e + 1).reduce((p, q) => p * q, 1);
  return reshapeAs(op, x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/**
 * Permutes the axes: output axis i is input axis `perm[i]` (default: all axes reversed, so a
 * matrix is transposed), as NumPy's `transpose` / PyTorch's `permute`. Materializes the permuted
 * values. Gradient: `dy` permuted by the inverse permutation.
 *
 * @throws {ShapeError} when `perm` is not a permutation of the axes.
 * @example
 * ```ts
 * transpose(tensor([[1, 2, 3]])).toArray(); // [[1], [2], [3]]
 * ```
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const op = 'transpose';
  const d = deviceOf(op, x);
  const p = perm ? [...perm] : x.shape.map((_, i) => x.rank - 1 - i);
  const out = d.transpose(x.array, p);
  const inverse = new Array<number>(p.length);
  for (let i = 0; i < p.length; i++) inverse[p[i]] = i;
  return fromOp(op, out, [x], () => (dy) => [d.transpose(dy, inverse)]);
}

/**
 * Removes size-1 dimensions: the given `axes`, or every size-1 axis when omitted. No copy.
 * Naming an axis whose size is not 1 is an error (PyTorch silently ignores it).
 *
 * @throws {ShapeError} for an axis out of range or of size other than 1.
 * @example
 * ```ts
 * squeeze(zeros([2, 1, 3])).shape; // [2, 3]
 * ```
 */
export function squeeze(x: Tensor, axes?: Axes): Tensor {
  const op = 'squeeze';
  deviceOf(op, x);
  const ax =
    axes === undefined ? x.shape.flatMap((s, i) => (s === 1 ? [i] : [])) : normalizeAxes(op, axes, x.rank);
  for (const a of ax) {
    if (x.shape[a] !== 1) {
      throw new ShapeError(op, `axis ${a} has size ${x.shape[a]}, not 1 (shape ${formatShape(x.shape)})`, [
        x.shape,
      ]);
    }
  }
  return reshapeAs(
    op,
    x,
    x.shape.filter((_, i) => !ax.includes(i)),
  );
}

/**
 * Inserts a size-1 dimension at `axis` (in the result: `-1` appends, as PyTorch). No copy.
 *
 * @throws {ShapeError} when `axis` is outside `[-rank-1, rank]`.
 * @example
 * ```ts
 * unsqueeze(zeros([3]), 0).shape; // [1, 3]
 * ```
 */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const op = 'unsqueeze';
  deviceOf(op, x);
  const [a] = normalizeAxes(op, axis, x.rank + 1);
  return reshapeAs(op, x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}
