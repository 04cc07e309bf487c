import type { Tensor } from '@gradkit/tensor';
import { ShapeError, ValueError } from '@gradkit/tensor';
import { checkShape, fillInPlace, formatShape, upload } from './host.js';
import type { FillOptions, InitOptions } from './options.js';

/** Options of {@link dirac}. */
export interface DiracOptions {
  /** Number of groups of the convolution (default 1); `shape[0]` must be divisible by it. */
  readonly groups?: number;
}

/**
 * The Dirac delta for a convolution weight `[out, in, ...kernel]` with 1 to 3 kernel dimensions
 * (PyTorch's `dirac_`): for each group g and each `d < min(out / groups, in)`, the centre tap
 * `kernel[k // 2]` of `w[g * (out / groups) + d, d]` is 1 and everything else 0, so the
 * convolution initially passes as many input channels through as it can. Draws nothing.
 *
 * @throws {ShapeError} unless the shape has 3, 4 or 5 dimensions. {@link ValueError} when
 *   `groups` is not a positive integer dividing `shape[0]`.
 * @see PyTorch `torch.nn.init.dirac_`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * const w = dirac([16, 16, 3, 3]); // an identity 3x3 convolution
 * ```
 */
export function dirac(shape: readonly number[], options: DiracOptions & InitOptions = {}): Tensor {
  const op = 'dirac';
  const size = checkShape(op, shape);
  if (shape.length < 3 || shape.length > 5) {
    throw new ShapeError(
      op,
      `only tensors with 3, 4, or 5 dimensions are supported, got shape ${formatShape(shape)}`,
      [shape],
    );
  }
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new ValueError(op, `groups must be a positive integer, got ${String(groups)}`);
  }
  if (shape[0] % groups !== 0) {
    throw new ValueError(op, `dim 0 (${shape[0]}) must be divisible by groups (${groups})`);
  }
  const out = new Float32Array(size);
  const perGroup = shape[0] / groups;
  const minDim = Math.min(perGroup, shape[1]);
  const kernel = shape.slice(2);
  // Row-major offset of the centre tap within one [in, ...kernel] filter's kernel block.
  let centre = 0;
  for (const k of kernel) centre = centre * k + Math.floor(k / 2);
  const kernelSize = kernel.reduce((p, k) => p * k, 1);
  for (let g = 0; g < (size > 0 ? groups : 0); g++) {
    for (let d = 0; d < minDim; d++) {
      const o = g * perGroup + d;
      out[(o * shape[1] + d) * kernelSize + centre] = 1;
    }
  }
  return upload(out, shape, options);
}

/**
 * Fills `t` in place with the Dirac delta (PyTorch's `dirac_`) and returns it.
 *
 * @see PyTorch `torch.nn.init.dirac_`.
 * @example
 * ```ts
 * dirac_(conv.weight, { groups: 2 });
 * ```
 */
export function dirac_<T extends Tensor>(t: T, options: DiracOptions & FillOptions = {}): T {
  return fillInPlace('dirac_', t, (s, o) => dirac(s, { ...o, groups: options.groups }), options);
}
