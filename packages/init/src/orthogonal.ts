import type { Tensor } from '@gradkit/tensor';
import { ShapeError } from '@gradkit/tensor';
import { checkShape, fillInPlace, finiteNumber, formatShape, rngOf, upload } from './host.js';
import type { FillOptions, InitOptions } from './options.js';
import { orthogonalFromNormal } from './qr.js';

/** Options of {@link orthogonal}. */
export interface OrthogonalOptions {
  /** Scaling factor (default 1; see `calculateGain`). */
  readonly gain?: number;
}

/**
 * (Semi-)orthogonal initialization (PyTorch's `orthogonal_`, Keras' `Orthogonal`): the weight,
 * viewed as a `rows x cols` matrix with `rows = shape[0]` and `cols` the product of the other
 * dimensions (PyTorch's flattening for convolutions), is `gain` times a matrix with orthonormal
 * rows (rows <= cols: W W^T = gain^2 I) or orthonormal columns (rows > cols: W^T W = gain^2 I).
 *
 * Recipe (as PyTorch): draw A ~ N(0, 1) of `rows x cols` from the generator (row-major), transpose
 * it if rows < cols, factor A = Q R (Householder, float64), multiply Q's columns by
 * sign(diag(R)) so the result is uniformly (Haar) distributed, transpose back, scale by `gain`.
 *
 * @throws {ShapeError} for fewer than 2 dimensions. {@link @gradkit/tensor!ValueError} for a non-finite gain.
 * @see A. M. Saxe, J. L. McClelland and S. Ganguli, "Exact solutions to the nonlinear dynamics of
 *   learning in deep linear neural networks", ICLR 2014.
 * @see F. Mezzadri, "How to generate random matrices from the classical compact groups", 2007.
 * @example
 * ```ts
 * const w = orthogonal([64, 64], { gain: calculateGain('tanh') });
 * const conv = orthogonal([16, 3, 3, 3]); // rows 16, cols 27: W W^T = I
 * ```
 */
export function orthogonal(shape: readonly number[], options: OrthogonalOptions & InitOptions = {}): Tensor {
  const op = 'orthogonal';
  const size = checkShape(op, shape);
  const gain = finiteNumber(op, 'gain', options.gain ?? 1);
  if (shape.length < 2) {
    throw new ShapeError(
      op,
      `only tensors with 2 or more dimensions are supported, got shape ${formatShape(shape)}`,
      [shape],
    );
  }
  if (size === 0) return upload(new Float32Array(0), shape, options);
  const rows = shape[0];
  const cols = size / rows;
  const a = rngOf(options).fillNormal(new Float32Array(size));
  return upload(Float32Array.from(orthogonalFromNormal(a, rows, cols, gain)), shape, options);
}

/**
 * Fills `t` in place with {@link orthogonal} values and returns it.
 *
 * @see A. M. Saxe et al., ICLR 2014.
 * @example
 * ```ts
 * orthogonal_(rnn.weightHh);
 * ```
 */
export function orthogonal_<T extends Tensor>(t: T, options: OrthogonalOptions & FillOptions = {}): T {
  return fillInPlace('orthogonal_', t, (s, o) => orthogonal(s, { ...o, gain: options.gain }), options);
}
