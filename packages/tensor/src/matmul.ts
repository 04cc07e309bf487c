import type { MatmulOptions } from '@gradkit/kernels';
import { formatShape, ShapeError } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { deviceOf } from './operands.js';
import type { Tensor } from './tensor.js';

/**
 * Matrix product `C = op(A) op(B)` of two 2-D tensors, where `op` transposes when `transA` /
 * `transB` is set. A transposed operand is read in place: no transposed copy is made, neither
 * here nor in the backward pass, which also uses the transposed-operand kernels:
 *
 * | options | dA | dB |
 * |---|---|---|
 * | none | dC B^T | A^T dC |
 * | transA (A is k x m) | B dC^T | A dC |
 * | transB (B is n x k) | dC B | dC^T A |
 * | both | B^T dC^T | dC^T A^T |
 *
 * @throws {ShapeError} naming `matmul` when an operand is not 2-D or the inner sizes differ.
 * @example
 * ```ts
 * matmul(tensor([[1, 2]]), tensor([[3], [4]])).toArray(); // [[11]]
 * matmul(x, w, { transB: true }); // x w^T, as a Linear layer with weight [out, in]
 * ```
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const op = 'matmul';
  const d = deviceOf(op, a, b);
  const transA = options.transA === true;
  const transB = options.transB === true;
  if (a.rank !== 2 || b.rank !== 2) {
    throw new ShapeError(
      op,
      `expects 2-D operands, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
      [a.shape, b.shape],
    );
  }
  const out = d.matmul(a.array, b.array, { transA, transB });
  return fromOp(op, out, [a, b], (ctx) => {
    const sa = ctx.needs[1] ? ctx.save(a.array) : null;
    const sb = ctx.needs[0] ? ctx.save(b.array) : null;
    return (dy) => {
      let da = null;
      let db = null;
      if (!transA && !transB) {
        if (sb) da = d.matmul(dy, sb, { transB: true });
        if (sa) db = d.matmul(sa, dy, { transA: true });
      } else if (transA && !transB) {
        if (sb) da = d.matmul(sb, dy, { transB: true });
        if (sa) db = d.matmul(sa, dy);
      } else if (!transA && transB) {
        if (sb) da = d.matmul(dy, sb);
        if (sa) db = d.matmul(dy, sa, { transA: true });
      } else {
        if (sb) da = d.matmul(sb, dy, { transA: true, transB: true });
        if (sa) db = d.matmul(dy, sa, { transA: true, transB: true });
      }
      return [da, db];
    };
  });
}
