import type { DeviceArray } from '@gradkit/kernels';
import { formatShape, ShapeError, ValueError } from '@gradkit/kernels';
import { fromOp } from './autograd.js';
import { isGradEnabled } from './grad-mode.js';
import type { Reduction } from './loss-reduction.js';
import { checkReduction, reduceLoss } from './loss-reduction.js';
import type { Labels } from './operands.js';
import { deviceOf, labelsArray } from './operands.js';
import type { Tensor } from './tensor.js';
import { disposeAll, view } from './util.js';

/** Options of {@link softmaxCrossEntropy}. */
export interface SoftmaxCrossEntropyOptions {
  /** Label smoothing epsilon in [0, 1] (default 0), as PyTorch's `label_smoothing`. */
  readonly labelSmoothing?: number;
  /** `'mean'` over the batch (default), `'sum'`, or `'none'` (one loss per row, shape `[N]`). */
  readonly reduction?: Reduction;
}

/**
 * Cross-entropy of softmax(logits) against integer class labels, PyTorch's `F.cross_entropy` for
 * logits `[N, C]` and class indices `[N]`, fused into one op:
 *
 * `loss_n = -sum_c q_{n,c} log softmax(x_n)_c` with `q = (1 - eps) onehot(y_n) + eps / C`,
 * i.e. `(1 - eps) (-log p_{n,y_n}) + eps mean_c(-log p_{n,c})`, with `log p = x - logsumexp(x)`
 * (stable). Gradient: `dloss/dx_n = softmax(x_n) - q_n` (times the output gradient, / N for mean).
 *
 * Labels given as an array or Int32Array are checked on the host to be integers in `[0, C)`;
 * labels in a tensor (integer-valued floats, shape `[N]`) are not checked (that would need a
 * read-back): an out-of-range label contributes only its smoothing term.
 *
 * @throws {ShapeError} when logits are not `[N, C]` or labels are not `[N]`.
 * @throws {ValueError} for labels that are not integers in `[0, C)`, or `labelSmoothing` outside [0, 1].
 * @see https://pytorch.org/docs/stable/generated/torch.nn.functional.cross_entropy.html
 * @see https://arxiv.org/abs/1512.00567 (Szegedy et al., label smoothing)
 * @example
 * ```ts
 * const loss = softmaxCrossEntropy(tensor([[2, 0, 0], [0, 3, 0]]), [0, 1]); // mean over 2 rows
 * const smooth = softmaxCrossEntropy(logits, labels, { labelSmoothing: 0.1, reduction: 'sum' });
 * ```
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  labels: Labels,
  options: SoftmaxCrossEntropyOptions = {},
): Tensor {
  const op = 'softmaxCrossEntropy';
  const d = deviceOf(op, logits);
  if (logits.rank !== 2) {
    throw new ShapeError(op, `logits must be [N, C], got ${formatShape(logits.shape)}`, [logits.shape]);
  }
  const [n, c] = logits.shape;
  if (c === 0)
    throw new ShapeError(op, `logits have no classes (shape ${formatShape(logits.shape)})`, [logits.shape]);
  const { labelSmoothing = 0, reduction = 'mean' } = options;
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new ValueError(op, `labelSmoothing must be in [0, 1], got ${String(labelSmoothing)}`);
  }
  checkReduction(op, reduction);
  const { array: lab, owned } = labelsArray(op, labels, c, d, [n]);
  const x = logits.array;
  const made: DeviceArray[] = [];
  let ownedLab: DeviceArray | null = owned ? lab : null; // disposed here unless the graph takes it
  try {
    // fused on backends that have it (wasm), composed of logsumexp, oneHot and maps elsewhere; the
    // probabilities (softmax) only when the backward pass will need them
    const recording = isGradEnabled() && logits.requiresGrad;
    const [rows, lse, probs] = d.softmaxCrossEntropy(x, lab, labelSmoothing, recording); // [N], [N, 1], [N, C]
    lse.dispose();
    if (probs) made.push(probs);
    const { out, scale } = reduceLoss(rows, reduction);
    made.length = 0;
    const keepLab = owned ? lab : view(lab);
    ownedLab = null;
    const temps = probs ? [probs, keepLab] : [keepLab];
    return fromOp(
      op,
      out,
      [logits],
      (ctx) => {
        const sp = ctx.own(probs!);
        const sy = ctx.own(keepLab);
        return (dy) => [d.softmaxCrossEntropyGrad(sp, sy, dy, labelSmoothing, scale)];
      },
      temps,
    );
  } catch (e) {
    disposeAll(...made);
    throw e;
  } finally {
    ownedLab?.dispose();
  }
}
