import type { Labels, Reduction, Tensor } from '@gradkit/tensor';
import { binaryCrossEntropyWithLogits, mseLoss, softmaxCrossEntropy, ValueError } from '@gradkit/tensor';

function checkReduction(op: string, reduction: Reduction): Reduction {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ValueError(op, `reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
  return reduction;
}

/** Options of {@link CrossEntropyLoss}. */
export interface CrossEntropyLossOptions {
  /** Label smoothing epsilon in [0, 1) (default 0), as PyTorch's `label_smoothing`. */
  readonly labelSmoothing?: number;
  /** `'mean'` (default), `'sum'` or `'none'`. */
  readonly reduction?: Reduction;
}

/**
 * Softmax cross-entropy on integer class labels, PyTorch's `nn.CrossEntropyLoss`:
 * `loss_i = -sum_c q_ic log softmax(z_i)_c` with `q = (1 - eps) onehot(y) + eps / C`.
 *
 * @example
 * ```ts
 * const loss = new CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(logits, [3, 1, 4]);
 * ```
 */
export class CrossEntropyLoss {
  /** The label smoothing epsilon in [0, 1). */
  readonly labelSmoothing: number;
  /** How the per-example losses are combined: `'mean'`, `'sum'` or `'none'`. */
  readonly reduction: Reduction;
  constructor(options: CrossEntropyLossOptions = {}) {
    const { labelSmoothing = 0, reduction = 'mean' } = options;
    if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing < 1)) {
      throw new ValueError('CrossEntropyLoss', `labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
    }
    this.labelSmoothing = labelSmoothing;
    this.reduction = checkReduction('CrossEntropyLoss', reduction);
  }
  /** The loss of `logits` `[N, C]` against `labels` (N integers in [0, C)). */
  forward(logits: Tensor, labels: Labels): Tensor {
    return softmaxCrossEntropy(logits, labels, {
      labelSmoothing: this.labelSmoothing,
      reduction: this.reduction,
    });
  }
}

/**
 * Mean squared error, PyTorch's `nn.MSELoss`: `mean((pred - target)^2)` (or sum / none).
 *
 * @example
 * ```ts
 * new MSELoss().forward(pred, target).item();
 * ```
 */
export class MSELoss {
  /** How the squared errors are combined: `'mean'` (default), `'sum'` or `'none'`. */
  readonly reduction: Reduction;
  /** @param options.reduction `'mean'` (default), `'sum'` or `'none'`. */
  constructor(options: { readonly reduction?: Reduction } = {}) {
    this.reduction = checkReduction('MSELoss', options.reduction ?? 'mean');
  }
  /** The loss of `pred` against `target` (same shape). */
  forward(pred: Tensor, target: Tensor): Tensor {
    return mseLoss(pred, target, { reduction: this.reduction });
  }
}

/**
 * Binary cross-entropy on logits, PyTorch's `nn.BCEWithLogitsLoss`, computed stably:
 * `max(z, 0) - z t + log(1 + e^{-|z|})` (with `posWeight` scaling the positive term).
 *
 * @example
 * ```ts
 * new BCEWithLogitsLoss().forward(logits, targets).item();
 * ```
 */
export class BCEWithLogitsLoss {
  /** How the per-element losses are combined: `'mean'` (default), `'sum'` or `'none'`. */
  readonly reduction: Reduction;
  /** The weight of the positive term: a number, or a tensor that broadcasts against the logits. */
  readonly posWeight: number | Tensor | undefined;
  /**
   * @param options.reduction `'mean'` (default), `'sum'` or `'none'`.
   * @param options.posWeight weight of the positive term (default 1).
   */
  constructor(options: { readonly reduction?: Reduction; readonly posWeight?: number | Tensor } = {}) {
    this.reduction = checkReduction('BCEWithLogitsLoss', options.reduction ?? 'mean');
    this.posWeight = options.posWeight;
  }
  /** The loss of `logits` against `targets` in [0, 1] (same shape). */
  forward(logits: Tensor, targets: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(logits, targets, {
      reduction: this.reduction,
      ...(this.posWeight ? { posWeight: this.posWeight } : {}),
    });
  }
}
