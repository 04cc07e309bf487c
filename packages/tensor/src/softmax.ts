import { normalizeAxes } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { deviceOf } from './operands.js';
import { S } from './specs.js';
import type { Tensor } from './tensor.js';

/**
 * Softmax along `axis` (default -1): `y_i = e^(x_i) / sum_j e^(x_j)`, computed as
 * `exp(x - logsumexp(x))` (stable for large inputs). Gradient: `y (dy - sum(dy y))` along the axis.
 *
 * @throws {ShapeError} for an axis out of range.
 * @example
 * ```ts
 * softmax(tensor([[0, Math.log(3)]])).toArray(); // [[0.25, 0.75]]
 * ```
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const op = 'softmax';
  const d = deviceOf(op, x);
  const [ax] = normalizeAxes(op, axis, x.rank);
  return fromOp(op, d.softmax(x.array, ax), [x], (ctx, y) => {
    const sy = ctx.save(y);
    return (dy) => {
      const prod = d.binary('mul', dy, sy);
      const s = d.sum(prod, ax, true);
      prod.dispose();
      try {
        return [d.map(S.softmaxGrad, [sy, dy, s])];
      } finally {
        s.dispose();
      }
    };
  });
}

/**
 * Log-softmax along `axis` (default -1): `x - logsumexp(x)`, stable. Gradient:
 * `dy - softmax(x) sum(dy)` along the axis.
 *
 * @example
 * ```ts
 * logSoftmax(tensor([[0, 0]])).toArray(); // [[-0.6931472, -0.6931472]]
 * ```
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const op = 'logSoftmax';
  const d = deviceOf(op, x);
  const [ax] = normalizeAxes(op, axis, x.rank);
  return fromOp(op, d.logSoftmax(x.array, ax), [x], (ctx, y) => {
    const sy = ctx.save(y);
    return (dy) => {
      const s = d.sum(dy, ax, true);
      try {
        return [d.map(S.logSoftmaxGrad, [sy, dy, s])];
      } finally {
        s.dispose();
      }
    };
  });
}
