import { formatShape, ShapeError, shapesEqual } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import type { Reduction } from './loss-reduction.js';
import { checkReduction, reduceLoss } from './loss-reduction.js';
import { deviceOf } from './operands.js';
import { S } from './specs.js';
import type { Tensor } from './tensor.js';

/** Options of {@link mseLoss}. */
export interface MseLossOptions {
  /** `'mean'` (default), `'sum'` or `'none'` (element-wise, the input's shape). */
  readonly reduction?: Reduction;
}

/**
 * Mean squared error, PyTorch's `F.mse_loss`: `mean((pred - target)^2)` (or the sum, or the
 * element-wise squares). `pred` and `target` must have the same shape (no silent broadcasting).
 * Gradients: `2 (pred - target) dy` for pred (divided by the element count for mean) and its
 * negative for target.
 *
 * @throws {ShapeError} naming `mseLoss` and both shapes when they differ.
 * @example
 * ```ts
 * mseLoss(tensor([1, 2]), tensor([1, 4])).item(); // 2
 * ```
 */
export function mseLoss(pred: Tensor, target: Tensor, options: MseLossOptions = {}): Tensor {
  const op = 'mseLoss';
  const d = deviceOf(op, pred, target);
  const { reduction = 'mean' } = options;
  checkReduction(op, reduction);
  if (!shapesEqual(pred.shape, target.shape)) {
    throw new ShapeError(
      op,
      `pred ${formatShape(pred.shape)} and target ${formatShape(target.shape)} must have the same shape`,
      [pred.shape, target.shape],
    );
  }
  const { out, scale } = reduceLoss(d.binary('squaredDifference', pred.array, target.array), reduction);
  return fromOp(op, out, [pred, target], (ctx) => {
    const sp = ctx.save(pred.array);
    const st = ctx.save(target.array);
    return (dy) => [
      ctx.needs[0] ? d.map(S.mseGrad, [sp, st, dy], [2 * scale]) : null,
      ctx.needs[1] ? d.map(S.mseGrad, [sp, st, dy], [-2 * scale]) : null,
    ];
  });
}
