import type { Device, DeviceArray } from '@gradkit/kernels';
import { BackendError, normalizeAxes, ValueError } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import type { Labels } from './operands.js';
import { arrayOf, defaultDevice, deviceOf, labelsArray } from './operands.js';
import { Tensor } from './tensor.js';
import { view } from './util.js';

/** Indices for {@link gather}: a tensor of integer-valued floats (any shape), or host integers. */
export type Indices = Tensor | readonly number[] | Int32Array;

/**
 * Selects entries along `axis` (default 0): the result has x's shape with dimension `axis`
 * replaced by the indices' shape, `out[..., j, ...] = x[..., indices[j], ...]` (NumPy's `take`;
 * embedding lookup for axis 0). Host indices are checked to be integers in range; indices in a
 * tensor are not (that would need a read-back) and must be valid. Gradient for x: `dy` scattered
 * back and summed where an index repeats (`Device.scatterAdd`: each element adds its updates in
 * index order, O(size of dy) on the CPU backends), as PyTorch's `index_select` backward. No
 * gradient for the indices.
 *
 * @throws {ValueError} for host indices that are not integers in `[0, x.shape[axis])`.
 * @example
 * ```ts
 * gather(tensor([[1, 2], [3, 4], [5, 6]]), [2, 0]).toArray(); // [[5, 6], [1, 2]]
 * ```
 */
export function gather(x: Tensor, indices: Indices, axis = 0): Tensor {
  const op = 'gather';
  const d = deviceOf(op, x);
  const [ax] = normalizeAxes(op, axis, x.rank);
  const len = x.shape[ax];
  let idx: DeviceArray;
  let owned = false;
  if (indices instanceof Tensor) {
    idx = arrayOf(op, indices, 'indices');
    if (indices.device !== d) throw new BackendError(d.name, `${op}: indices are on another device`);
  } else {
    if (!Array.isArray(indices) && !(indices instanceof Int32Array)) {
      throw new ValueError(op, 'indices must be a Tensor, an array of integers or an Int32Array');
    }
    for (let i = 0; i < indices.length; i++) {
      const v = indices[i];
      if (!Number.isInteger(v) || v < 0 || v >= len) {
        throw new ValueError(
          op,
          `index ${i} is ${String(v)}; indices must be integers in [0, ${len}) on axis ${ax}`,
        );
      }
    }
    idx = d.array(Float32Array.from(indices));
    owned = true;
  }
  let out: DeviceArray;
  try {
    out = d.gather(x.array, idx, ax);
  } catch (e) {
    if (owned) idx.dispose();
    throw e;
  }
  const xShape = x.shape;
  return fromOp(
    op,
    out,
    [x],
    (ctx) => {
      const ix = ctx.own(view(idx));
      return (dy) => [d.scatterAdd(dy, ix, ax, xShape)];
    },
    owned ? [idx] : [],
  );
}

/**
 * One-hot encoding: `out[..., j] = labels[...] == j ? 1 : 0`, shape `[...labels.shape, depth]`.
 * Host labels must be integers in `[0, depth)`; labels in a tensor are not checked (a label out
 * of range gives an all-zero row). Not differentiable.
 *
 * @param options.device where to create the result for host labels (default: the default device).
 * @throws {ValueError} for a depth that is not a positive integer, or bad host labels.
 * @example
 * ```ts
 * oneHot([2, 0], 3).toArray(); // [[0, 0, 1], [1, 0, 0]]
 * ```
 */
export function oneHot(labels: Labels, depth: number, options: { readonly device?: Device } = {}): Tensor {
  const op = 'oneHot';
  if (!Number.isInteger(depth) || depth <= 0)
    throw new ValueError(op, `depth must be a positive integer, got ${depth}`);
  const device = labels instanceof Tensor ? labels.device : (options.device ?? defaultDevice());
  const { array, owned } = labelsArray(op, labels, depth, device);
  try {
    return new Tensor(device.oneHot(array, depth));
  } finally {
    if (owned) array.dispose();
  }
}
