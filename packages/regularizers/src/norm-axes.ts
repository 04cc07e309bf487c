import type { DeviceArray, Tensor } from '@gradkit/tensor';
import { ShapeError, ValueError } from '@gradkit/tensor';

/**
 * Options shared by the norm constraints ({@link maxNorm}, {@link unitNorm}): which axes one
 * unit's norm is taken over.
 */
export interface NormAxisOptions {
  /**
   * The axes the L2 norm is computed over (Keras' meaning of `axis`; negative axes count from
   * the end). Default: every axis but the first, so each output unit (row of a `[out, in]` Linear
   * weight, filter of an `[out, in, kh, kw]` convolution) has its own norm (PyTorch's
   * `torch.renorm(w, 2, 0, c)`); the whole tensor for a 1-D parameter. Keras' `axis=0` (columns of
   * its `[in, out]` kernel) is `axis: 0`.
   */
  readonly axis?: number | readonly number[];
}

/** @internal Checks `axis` (integers, not repeated) without a shape; errors name `op`. */
export function checkAxisOption(op: string, axis: unknown): void {
  if (axis === undefined) return;
  const list = Array.isArray(axis) ? axis : [axis];
  if (list.length === 0) throw new ValueError(op, 'axis must not be an empty list');
  for (const a of list) {
    if (typeof a !== 'number' || !Number.isInteger(a)) {
      throw new ValueError(op, `axis must be an integer or a list of integers, got ${String(a)}`);
    }
  }
}

/** @internal The sorted, non-negative axes for a parameter of this rank. */
export function unitAxes(
  op: string,
  name: string,
  param: Tensor,
  axis: number | readonly number[] | undefined,
): number[] {
  const rank = param.rank;
  if (axis === undefined) {
    if (rank <= 1) return rank === 0 ? [] : [0];
    return Array.from({ length: rank - 1 }, (_, i) => i + 1);
  }
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const out = list.map((a) => (a < 0 ? a + rank : a));
  for (let i = 0; i < out.length; i++) {
    if (out[i] < 0 || out[i] >= rank || out.indexOf(out[i]) !== i) {
      throw new ShapeError(
        op,
        `axis ${list[i]} is out of range or repeated for parameter '${name}' of shape [${param.shape.join(',')}]`,
        [param.shape],
      );
    }
  }
  return out.sort((a, b) => a - b);
}

/** @internal Per-unit sums of squares of `w` over `axes`, kept as size-1 dimensions (broadcast against `w`). */
export function sumOfSquares(w: DeviceArray, axes: readonly number[]): DeviceArray {
  const d = w.device;
  const sq = d.unary('square', w);
  try {
    return d.sum(sq, axes, true);
  } finally {
    sq.dispose();
  }
}
