import { padWindow, sliceWindow } from '@gradkit/kernels';
import { deviceOf } from './operands.js';
import type { Tensor } from './tensor.js';
import { windowOp } from './window.js';

/** A slice bound: an index (negative counts from the end) or `null` for the default. */
export type SliceBound = number | null | undefined;

/**
 * Basic slicing as in Python / NumPy, `x[starts[0]:ends[0]:steps[0], ...]`: one entry per
 * leading axis (axes without an entry are taken whole; `null` is a default bound; `steps`
 * defaults to 1). Python semantics throughout: negative indices count from the end,
 * out-of-range bounds are clamped (never an error), a negative step walks backwards (`[::-1]`
 * reverses; PyTorch refuses negative steps, NumPy allows them) and an empty range gives a
 * zero-size axis. One window kernel, a copy. Gradient: `dy` scattered back into a zero tensor of
 * x's shape.
 *
 * @throws {@link @gradkit/kernels!ValueError} for a step of 0 or a non-integer bound or step.
 * @throws {@link @gradkit/kernels!ShapeError} for more entries than `x` has axes.
 * @example
 * ```ts
 * const x = arange(10);
 * slice(x, [1], [8], [3]).toArray(); // [1, 4, 7]
 * slice(x, [-3], [null]).toArray(); // [7, 8, 9]
 * slice(x, [null], [null], [-2]).toArray(); // [9, 7, 5, 3, 1]
 * ```
 */
export function slice(
  x: Tensor,
  starts: readonly SliceBound[],
  ends: readonly SliceBound[],
  steps: readonly SliceBound[] = [],
): Tensor {
  deviceOf('slice', x);
  return windowOp('slice', x, sliceWindow(x.shape, starts, ends, steps, 'slice'));
}

/**
 * Constant padding: `pads[a] = [before, after]` elements added on each side of axis `a` (one
 * pair per axis, first axis first, as NumPy's `np.pad`; PyTorch's `F.pad` lists pairs from the
 * last axis), filled with `value` (default 0; NaN and ±Infinity allowed). A negative count
 * removes that many elements instead, as `F.pad` does; an axis cropped below zero length is an
 * error. Only the constant mode. Gradient: `dy` without the padding (the cropped elements get 0).
 *
 * @throws {@link @gradkit/kernels!ShapeError} when `pads` does not have one pair per axis or an axis
 * would end up with a negative length.
 * @throws {@link @gradkit/kernels!ValueError} for a count that is not an integer.
 * @example
 * ```ts
 * pad(tensor([[1, 2]]), [[1, 0], [0, 1]]).toArray(); // [[0, 0, 0], [1, 2, 0]]
 * pad(tensor([1, 2, 3]), [[-1, 1]], -1).toArray(); // [2, 3, -1]
 * ```
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.functional.pad.html
 */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  deviceOf('pad', x);
  return windowOp('pad', x, padWindow(x.shape, pads, value, 'pad'));
}
