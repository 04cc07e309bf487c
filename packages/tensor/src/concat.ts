import type { DeviceArray } from '@gradkit/kernels';
import { normalizeAxes, sliceWindow, ValueError } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { deviceOf } from './operands.js';
import type { Tensor } from './tensor.js';

/**
 * Concatenates tensors along `axis` (default 0; negative counts from the end), as PyTorch's
 * `torch.cat`: same rank, same dimensions except along `axis`; zero-size tensors are allowed
 * (PyTorch's legacy exception for 1-D empty tensors of another rank is not). Gradient: each input
 * gets its slice of `dy`.
 *
 * @throws {@link @gradkit/kernels!ShapeError} for an empty list, scalars, different ranks or
 * dimensions, or an axis out of range.
 * @example
 * ```ts
 * concat([tensor([[1, 2]]), tensor([[3, 4], [5, 6]])], 0).toArray(); // [[1, 2], [3, 4], [5, 6]]
 * ```
 * @see https://pytorch.org/docs/1.13/generated/torch.cat.html
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  const op = 'concat';
  if (!Array.isArray(tensors as unknown) || tensors.length === 0) {
    throw new ValueError(op, 'expects a non-empty array of tensors');
  }
  const d = deviceOf(op, ...tensors);
  const out = d.concat(
    tensors.map((t) => t.array),
    axis,
  );
  const [ax] = normalizeAxes(op, axis, tensors[0].rank);
  const shapes = tensors.map((t) => t.shape);
  return fromOp(op, out, tensors, (ctx) => (dy) => {
    const grads: (DeviceArray | null)[] = [];
    let at = 0;
    for (let i = 0; i < shapes.length; i++) {
      const len = shapes[i][ax];
      if (ctx.needs[i]) {
        const starts = dy.shape.map((_, a) => (a === ax ? at : null));
        const ends = dy.shape.map((_, a) => (a === ax ? at + len : null));
        grads.push(d.window(dy, sliceWindow(dy.shape, starts, ends, [], op)));
      } else grads.push(null);
      at += len;
    }
    return grads;
  });
}
