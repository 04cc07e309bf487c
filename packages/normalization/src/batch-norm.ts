import type { DeviceArray } from '@gradkit/tensor';
import { fromOp, ShapeError, type Tensor, ValueError } from '@gradkit/tensor';
import {
  checkBoolean,
  checkEps,
  checkMomentum,
  checkOperands,
  checkParamShape,
  disposeAll,
  formatShape,
  ownOnce,
} from './checks.js';
import { updateRunningStats } from './running-stats.js';
import { S } from './specs.js';

/**
 * What BatchNorm's `momentum` means, and the defaults that go with it:
 *
 * - `'pytorch'` (default): `running = (1 - momentum) running + momentum batch`, momentum 0.1,
 *   eps 1e-5, the running variance receives the unbiased batch variance (divided by M - 1);
 * - `'keras'`: `moving = momentum moving + (1 - momentum) batch` (momentum is a decay), momentum
 *   0.99, eps 1e-3, the moving variance receives the biased batch variance (divided by M), as
 *   `tf.keras.layers.BatchNormalization`.
 *
 * Both normalize with the biased batch variance in training and put eps inside the square root.
 * An explicit `momentum` or `eps` overrides the convention's default.
 *
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.BatchNorm1d.html
 * @see https://keras.io/api/layers/normalization_layers/batch_normalization/
 * @example
 * ```ts
 * new BatchNorm1d(16, { convention: 'keras' }); // momentum 0.99 = PyTorch's 0.01, eps 1e-3
 * new BatchNorm1d(16, { convention: 'keras', momentum: 0.9 }); // Keras' momentum=0.9
 * ```
 */
export type BatchNormConvention = 'pytorch' | 'keras';

/** Options of {@link batchNorm}. */
export interface BatchNormFunctionalOptions {
  /** Per-channel scale gamma, shape `[C]` (default none: 1). */
  readonly weight?: Tensor | null;
  /** Per-channel shift beta, shape `[C]` (default none: 0). */
  readonly bias?: Tensor | null;
  /** Running mean, shape `[C]`: used in evaluation, updated in place in training. */
  readonly runningMean?: Tensor | null;
  /** Running variance, shape `[C]`: used in evaluation, updated in place in training. */
  readonly runningVar?: Tensor | null;
  /**
   * Number of updates so far, shape `[]`: incremented by one per training call when given;
   * required for `momentum: null` (the cumulative average divides by it, on the device).
   */
  readonly numBatchesTracked?: Tensor | null;
  /** Normalize with the batch statistics (and update the running ones). Default false, as PyTorch's `F.batch_norm`. */
  readonly training?: boolean;
  /**
   * Weight of the running-statistics update (see {@link BatchNormConvention}); null: cumulative
   * average (PyTorch's `momentum=None`). Default 0.1 (`'pytorch'`) or 0.99 (`'keras'`).
   */
  readonly momentum?: number | null;
  /** Added to the variance inside the square root. Default 1e-5 (`'pytorch'`) or 1e-3 (`'keras'`). */
  readonly eps?: number;
  /** Meaning of `momentum` and the defaults (default `'pytorch'`). */
  readonly convention?: BatchNormConvention;
}

/** @internal The defaults of a convention. */
export const CONVENTIONS: Readonly<
  Record<BatchNormConvention, { readonly momentum: number; readonly eps: number; readonly unbiased: boolean }>
> = {
  pytorch: { momentum: 0.1, eps: 1e-5, unbiased: true },
  keras: { momentum: 0.99, eps: 1e-3, unbiased: false },
};

/** @internal Validates a convention name. */
export function checkConvention(op: string, value: unknown): BatchNormConvention {
  if (value !== 'pytorch' && value !== 'keras') {
    throw new ValueError(op, `convention must be 'pytorch' or 'keras', got ${String(value)}`);
  }
  return value;
}

/** @internal The input ranks a batch norm accepts, and the channel count a layer expects. */
export interface BatchNormLayout {
  readonly minRank: number;
  readonly maxRank: number;
  /** The accepted shapes, for messages: `'[N, C, *]'`. */
  readonly expected: string;
  /** The number of channels (axis 1) a layer was built for. */
  readonly channels?: number;
}

const ANY_RANK: BatchNormLayout = { minRank: 2, maxRank: Number.POSITIVE_INFINITY, expected: '[N, C, *]' };

/**
 * Batch normalization (Ioffe & Szegedy 2015) of an input `[N, C, *]` per channel, PyTorch's
 * `F.batch_norm` with the options as named arguments:
 *
 * `y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c`
 *
 * - `training: true`: mean and var are the batch statistics of channel c over the M = N * prod(*)
 *   values of axes 0, 2, 3, ... (var biased, divided by M). Running statistics, when given, are
 *   updated in place on the device (no read-back): `running = (1 - momentum) running + momentum
 *   batch` with the unbiased batch variance (divided by M - 1) in `runningVar`, or the cumulative
 *   average for `momentum: null` (then `numBatchesTracked` is required), or the Keras rule with
 *   `convention: 'keras'` (see {@link BatchNormConvention}). M must be more than 1.
 * - `training: false` (default, as PyTorch): the running statistics normalize.
 *
 * Defaults: eps 1e-5, momentum 0.1, no weight (1), no bias (0), training false.
 *
 * Forward and backward run as fused kernels (two reductions and two element-wise passes forward).
 * Gradients in training mode, with xhat = (x - mean) / sqrt(var + eps):
 * `dx = weight / sqrt(var + eps) * (dy - mean(dy) - xhat mean(dy xhat))`,
 * `dweight = sum(dy xhat)`, `dbias = sum(dy)` (means and sums per channel over the M values); in
 * evaluation `dx = dy weight / sqrt(runningVar + eps)`. The running statistics are constants for
 * autograd.
 *
 * @throws {ShapeError} naming `batchNorm` when x has rank < 2 or weight, bias or the running
 *   statistics are not `[C]`.
 * @throws {ValueError} for M = 1 in training (as PyTorch: "expected more than 1 value per
 *   channel"), evaluation without running statistics, eps < 0, momentum outside [0, 1], or
 *   `momentum: null` with running statistics but no `numBatchesTracked`.
 * @see Ioffe & Szegedy 2015, Batch Normalization: https://arxiv.org/abs/1502.03167
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.functional.batch_norm.html
 * @example
 * ```ts
 * const x = randn([32, 4]);
 * const runningMean = zeros([4]);
 * const runningVar = ones([4]);
 * const y = batchNorm(x, { runningMean, runningVar, training: true }); // updates the running stats
 * const z = batchNorm(x, { runningMean, runningVar }); // evaluation: uses them
 * ```
 */
export function batchNorm(x: Tensor, options: BatchNormFunctionalOptions = {}): Tensor {
  return batchNormImpl('batchNorm', x, options);
}

/**
 * @internal The batch-norm computation behind {@link batchNorm} and the BatchNorm layers; errors
 * name `op`; `layout` restricts the input rank and channels (BatchNorm1d: rank 2 or 3).
 */
export function batchNormImpl(
  op: string,
  x: Tensor,
  options: BatchNormFunctionalOptions,
  layout: BatchNormLayout = ANY_RANK,
): Tensor {
  const {
    weight = null,
    bias = null,
    runningMean = null,
    runningVar = null,
    numBatchesTracked = null,
    training = false,
  } = options;
  const convention = checkConvention(op, options.convention ?? 'pytorch');
  const defaults = CONVENTIONS[convention];
  const eps = checkEps(op, options.eps ?? defaults.eps);
  const momentum = checkMomentum(op, options.momentum === undefined ? defaults.momentum : options.momentum);
  checkBoolean(op, 'training', training);
  const d = checkOperands(op, x, { weight, bias, runningMean, runningVar, numBatchesTracked });

  if (x.rank < layout.minRank || x.rank > layout.maxRank) {
    throw new ShapeError(op, `expects an input ${layout.expected}, got shape ${formatShape(x.shape)}`, [
      x.shape,
    ]);
  }
  const c = x.shape[1];
  if (layout.channels !== undefined && c !== layout.channels) {
    throw new ShapeError(
      op,
      `expects ${layout.channels} channels (input ${layout.expected} with C = ${layout.channels}), got shape ${formatShape(x.shape)}`,
      [x.shape],
    );
  }
  checkParamShape(op, 'weight', weight, [c], x);
  checkParamShape(op, 'bias', bias, [c], x);
  checkParamShape(op, 'runningMean', runningMean, [c], x);
  checkParamShape(op, 'runningVar', runningVar, [c], x);
  checkParamShape(op, 'numBatchesTracked', numBatchesTracked, [], x);
  if ((runningMean === null) !== (runningVar === null)) {
    throw new ValueError(op, 'runningMean and runningVar must be given together');
  }
  const statShape = x.shape.map((s, i) => (i === 1 ? s : 1));
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const count = x.size / Math.max(c, 1);

  if (!training) {
    if (!runningMean || !runningVar) {
      throw new ValueError(op, 'evaluation mode (training: false) needs runningMean and runningVar');
    }
    return evalForward(x, weight, bias, runningMean, runningVar, eps, statShape, axes);
  }
  if (count <= 1) {
    throw new ValueError(
      op,
      `expected more than 1 value per channel when training, got input shape ${formatShape(x.shape)} (${count} per channel)`,
    );
  }
  if (momentum === null && runningMean && !numBatchesTracked) {
    throw new ValueError(op, 'momentum null (cumulative average) needs numBatchesTracked');
  }

  const xa = x.array;
  const made: DeviceArray[] = [];
  const track = <T extends DeviceArray>(a: T): T => {
    made.push(a);
    return a;
  };
  try {
    const s1 = track(d.sum(xa, axes, true));
    const sq = track(d.map(S.sqDev, [xa, s1], [1 / count]));
    const s2 = track(d.sum(sq, axes, true));
    made.splice(made.indexOf(sq), 1);
    sq.dispose();
    const mean = track(d.scalar('mulScalar', s1, 1 / count));
    const invstd = track(d.map(S.invStd, [s2], [1 / count, eps]));
    const scale = weight ? track(scaleBy(weight.array, invstd, statShape)) : invstd;
    const y = bias
      ? withView(bias.array, statShape, (b) => d.map(S.normalizeShift, [xa, mean, scale, b]))
      : d.map(S.normalize, [xa, mean, scale]);
    track(y);
    if (runningMean && runningVar) {
      const sum = track(d.reshape(s1, [c]));
      const sumSq = track(d.reshape(s2, [c]));
      updateRunningStats(
        {
          runningMean,
          runningVar,
          numBatchesTracked,
          factor: momentum === null ? null : convention === 'keras' ? 1 - momentum : momentum,
          unbiased: defaults.unbiased,
        },
        sum,
        sumSq,
        count,
      );
    }
    made.splice(made.indexOf(y), 1);
    const temps = [...made];
    made.length = 0;
    const inputs = [x, weight, bias].filter((t): t is Tensor => t !== null);
    const at = { weight: weight ? 1 : -1, bias: bias ? inputs.length - 1 : -1 };
    return fromOp(
      'batchNorm',
      y,
      inputs,
      (ctx) => {
        const needX = ctx.needs[0];
        const needW = at.weight >= 0 && ctx.needs[at.weight];
        const needB = at.bias >= 0 && ctx.needs[at.bias];
        const own = ownOnce(ctx.own);
        const sx = needX || needW ? ctx.save(xa) : null;
        const sMean = needX || needW ? own(mean) : null;
        const sInvstd = needX || needW ? own(invstd) : null;
        const sScale = needX ? own(scale) : null;
        return (dy) => {
          const out: (DeviceArray | null)[] = inputs.map(() => null);
          const tmp: DeviceArray[] = [];
          try {
            // sum(dy) = dL/dbeta and sum(dy xhat) = dL/dgamma, per channel.
            const sdy = needX || needB ? d.sum(dy, axes, true) : null;
            if (sdy) tmp.push(sdy);
            let sdyx: DeviceArray | null = null;
            if (needX || needW) {
              const dyx = d.map(S.dyXhat, [sx!, dy, sMean!, sInvstd!]);
              tmp.push(dyx);
              sdyx = d.sum(dyx, axes, true);
              tmp.push(sdyx);
            }
            if (needX) {
              // dx = gamma invstd (dy - sum(dy)/M - xhat sum(dy xhat)/M), in two passes.
              const q = d.map(S.mulScaled, [sInvstd!, sdyx!], [1 / count]);
              tmp.push(q);
              const t = d.map(S.bnGradCenter, [sx!, dy, sMean!, q]);
              tmp.push(t);
              out[0] = d.map(S.bnGradScale, [t, sdy!, sScale!], [1 / count]);
            }
            if (needW) out[at.weight] = d.reshape(sdyx!, [c]);
            if (needB) out[at.bias] = d.reshape(sdy!, [c]);
            return out;
          } catch (e) {
            disposeAll(...out);
            throw e;
          } finally {
            disposeAll(...tmp);
          }
        };
      },
      temps,
    );
  } catch (e) {
    disposeAll(...made);
    throw e;
  }
}

/** `weight` (shape [C]) viewed as `statShape`, times `invstd`. */
function scaleBy(weight: DeviceArray, invstd: DeviceArray, statShape: readonly number[]): DeviceArray {
  return withView(weight, statShape, (w) => weight.device.binary('mul', w, invstd));
}

/** Runs `fn` on a view of `a` with `shape` and frees the view. */
function withView<T>(a: DeviceArray, shape: readonly number[], fn: (v: DeviceArray) => T): T {
  const v = a.device.reshape(a, shape);
  try {
    return fn(v);
  } finally {
    v.dispose();
  }
}

/** Evaluation mode: fixed statistics, so the gradient is a per-channel scale of dy. */
function evalForward(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  runningMean: Tensor,
  runningVar: Tensor,
  eps: number,
  statShape: readonly number[],
  axes: readonly number[],
): Tensor {
  const d = x.device;
  const xa = x.array;
  const made: DeviceArray[] = [];
  try {
    const mean = d.reshape(runningMean.array, statShape);
    made.push(mean);
    const invstd = withView(runningVar.array, statShape, (v) => d.map(S.invStd, [v], [1, eps]));
    made.push(invstd);
    const scale = weight ? scaleBy(weight.array, invstd, statShape) : invstd;
    if (scale !== invstd) made.push(scale);
    const y = bias
      ? withView(bias.array, statShape, (b) => d.map(S.normalizeShift, [xa, mean, scale, b]))
      : d.map(S.normalize, [xa, mean, scale]);
    const temps = [...made];
    made.length = 0;
    const inputs = [x, weight, bias].filter((t): t is Tensor => t !== null);
    const at = { weight: weight ? 1 : -1, bias: bias ? inputs.length - 1 : -1 };
    return fromOp(
      'batchNorm(eval)',
      y,
      inputs,
      (ctx) => {
        const needX = ctx.needs[0];
        const needW = at.weight >= 0 && ctx.needs[at.weight];
        const needB = at.bias >= 0 && ctx.needs[at.bias];
        const own = ownOnce(ctx.own);
        const sx = needW ? ctx.save(xa) : null;
        const sMean = needW ? own(mean) : null;
        const sInvstd = needW ? own(invstd) : null;
        const sScale = needX ? own(scale) : null;
        return (dy) => {
          const out: (DeviceArray | null)[] = inputs.map(() => null);
          const tmp: DeviceArray[] = [];
          try {
            if (needX) out[0] = d.binary('mul', dy, sScale!);
            if (needW) {
              const dyx = d.map(S.dyXhat, [sx!, dy, sMean!, sInvstd!]);
              tmp.push(dyx);
              out[at.weight] = d.sum(dyx, axes);
            }
            if (needB) out[at.bias] = d.sum(dy, axes);
            return out;
          } catch (e) {
            disposeAll(...out);
            throw e;
          } finally {
            disposeAll(...tmp);
          }
        };
      },
      temps,
    );
  } catch (e) {
    disposeAll(...made);
    throw e;
  }
}
