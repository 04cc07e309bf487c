import type { Tensor } from '@gradkit/tensor';
import { ShapeError } from '@gradkit/tensor';
import { checkShape, fillInPlace, formatShape, upload } from './host.js';
import type { FillOptions, InitOptions } from './options.js';

/**
 * The identity matrix for a 2-D weight (PyTorch's `eye_`, Keras' `Identity`): ones on the main
 * diagonal, zeros elsewhere (`[rows, cols]` may be rectangular), so a `Linear` layer initially
 * passes through as many inputs as it can. Draws nothing.
 *
 * @throws {ShapeError} unless the shape has exactly 2 dimensions.
 * @see PyTorch `torch.nn.init.eye_`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * eye([2, 3]).toArray(); // [[1, 0, 0], [0, 1, 0]]
 * ```
 */
export function eye(shape: readonly number[], options: InitOptions = {}): Tensor {
  const op = 'eye';
  checkShape(op, shape);
  if (shape.length !== 2) {
    throw new ShapeError(
      op,
      `only tensors with 2 dimensions are supported, got shape ${formatShape(shape)}`,
      [shape],
    );
  }
  const [rows, cols] = shape;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < Math.min(rows, cols); i++) out[i * cols + i] = 1;
  return upload(out, shape, options);
}

/**
 * Fills a 2-D `t` in place with the identity (PyTorch's `eye_`) and returns it.
 *
 * @see PyTorch `torch.nn.init.eye_`.
 * @example
 * ```ts
 * eye_(layer.weight);
 * ```
 */
export function eye_<T extends Tensor>(t: T, options: FillOptions = {}): T {
  return fillInPlace('eye_', t, eye, options);
}
