import { broadcastShapes, formatShape, ShapeError, shapesEqual, ValueError } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import type { Reduction } from './loss-reduction.js';
import { checkReduction, reduceLoss } from './loss-reduction.js';
import { deviceOf, finite } from './operands.js';
import { S } from './specs.js';
import { Tensor } from './tensor.js';

/** Options of {@link binaryCrossEntropyWithLogits}. */
export interface BceWithLogitsOptions {
  /** `'mean'` (default), `'sum'` or `'none'` (element-wise). */
  readonly reduction?: Reduction;
  /**
   * Weight of the positive term (PyTorch's `pos_weight`): a number, or a tensor that broadcasts
   * to the logits' shape (typically `[C]`, one per class). Default 1. Not differentiated.
   */
  readonly posWeight?: number | Tensor;
}

/**
 * Binary cross-entropy on logits, PyTorch's `F.binary_cross_entropy_with_logits`, computed stably:
 *
 * `l = (1 - t) x + (1 + (pw - 1) t) (log(1 + e^-|x|) + max(-x, 0))`,
 *
 * which equals `-[pw t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]` without overflow for large
 * |x|. Gradients: `dl/dx = (1 - t) - (1 + (pw - 1) t) sigmoid(-x)` (= `sigmoid(x) - t` when
 * pw = 1) and `dl/dt = -x + (pw - 1) softplus(-x)`, times the output gradient (/ count for mean).
 * Targets may be soft (any value in [0, 1]).
 *
 * @throws {ShapeError} when targets differ in shape from logits, or posWeight does not broadcast.
 * @see https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html
 * @example
 * ```ts
 * binaryCrossEntropyWithLogits(tensor([0]), tensor([1])).item(); // 0.6931472 (log 2)
 * binaryCrossEntropyWithLogits(logits, targets, { posWeight: tensor([3, 1]), reduction: 'sum' });
 * ```
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  targets: Tensor,
  options: BceWithLogitsOptions = {},
): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  const d = deviceOf(op, logits, targets);
  const { reduction = 'mean', posWeight = 1 } = options;
  checkReduction(op, reduction);
  if (!shapesEqual(logits.shape, targets.shape)) {
    throw new ShapeError(
      op,
      `targets ${formatShape(targets.shape)} must have the logits' shape ${formatShape(logits.shape)}`,
      [logits.shape, targets.shape],
    );
  }
  const x = logits.array;
  const t = targets.array;
  if (posWeight instanceof Tensor) {
    deviceOf(op, logits, posWeight);
    const s = broadcastShapes(op, logits.shape, posWeight.shape);
    if (!shapesEqual(s, logits.shape)) {
      throw new ShapeError(
        op,
        `posWeight ${formatShape(posWeight.shape)} must broadcast to the logits' shape ${formatShape(logits.shape)}`,
        [logits.shape, posWeight.shape],
      );
    }
    const pw = posWeight.array;
    const { out, scale } = reduceLoss(d.map(S.bceWeighted, [x, t, pw]), reduction);
    return fromOp(op, out, [logits, targets], (ctx) => {
      const sx = ctx.save(x);
      const st = ctx.save(t);
      const sw = ctx.save(pw);
      return (dy) => [
        ctx.needs[0] ? d.map(S.bceWeightedGradX, [sx, st, sw, dy], [scale]) : null,
        ctx.needs[1] ? d.map(S.bceWeightedGradT, [sx, st, sw, dy], [scale]) : null,
      ];
    });
  }
  if (typeof posWeight !== 'number') throw new ValueError(op, 'posWeight must be a number or a Tensor');
  finite(op, 'posWeight', posWeight);
  const { out, scale } = reduceLoss(d.map(S.bce, [x, t], [posWeight]), reduction);
  return fromOp(op, out, [logits, targets], (ctx) => {
    const sx = ctx.save(x);
    const st = ctx.save(t);
    return (dy) => [
      ctx.needs[0] ? d.map(S.bceGradX, [sx, st, dy], [posWeight, scale]) : null,
      ctx.needs[1] ? d.map(S.bceGradT, [sx, st, dy], [posWeight, scale]) : null,
    ];
  });
}
