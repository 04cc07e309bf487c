import type { Device, Parameter, Tensor } from '@gradkit/tensor';
import { Module, noGrad, ones, zeros } from '@gradkit/tensor';
import type { BatchNormConvention, BatchNormLayout } from './batch-norm.js';
import { batchNormImpl, CONVENTIONS, checkConvention } from './batch-norm.js';
import { checkBoolean, checkEps, checkMomentum, checkPositiveInt } from './checks.js';

/** Options of {@link BatchNorm}, {@link BatchNorm1d} and {@link BatchNorm2d}. */
export interface BatchNormOptions {
  /** Added to the variance inside the square root. Default 1e-5 (`'pytorch'`) or 1e-3 (`'keras'`). */
  readonly eps?: number;
  /**
   * Weight of the running-statistics update: `running = (1 - momentum) running + momentum batch`
   * (`'pytorch'`, default 0.1) or `running = momentum running + (1 - momentum) batch` (`'keras'`,
   * default 0.99); null: cumulative average over every batch so far (PyTorch's `momentum=None`).
   */
  readonly momentum?: number | null;
  /** Learnable per-channel `weight` (gamma, initially 1) and `bias` (beta, initially 0). Default true. */
  readonly affine?: boolean;
  /**
   * Keep running statistics (buffers `running_mean`, `running_var`, `num_batches_tracked`) and
   * normalize with them in evaluation mode. Default true; false: batch statistics in both modes.
   */
  readonly trackRunningStats?: boolean;
  /** The meaning of `momentum` and the defaults (default `'pytorch'`); see {@link BatchNormConvention}. */
  readonly convention?: BatchNormConvention;
  /** Where to create the parameters and buffers (default: the default device). */
  readonly device?: Device;
}

/**
 * Batch normalization over the channels (axis 1) of an input `[N, C, *]` of any rank >= 2,
 * PyTorch's `nn.BatchNorm{1,2,3}d` in one class (see {@link BatchNorm1d} and {@link BatchNorm2d}
 * for the rank-checked forms):
 *
 * `y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c`
 *
 * In training mode (the default) mean and var are the batch statistics over axes 0, 2, 3, ...
 * (biased variance), and the buffers are updated on the device with no read-back:
 * `runningMean = (1 - momentum) runningMean + momentum mean`,
 * `runningVar = (1 - momentum) runningVar + momentum var_unbiased` (var times M / (M - 1)),
 * `numBatchesTracked += 1`. With `momentum: null` the running statistics are the cumulative
 * average (factor 1 / numBatchesTracked). After {@link Module.eval} the running statistics
 * normalize. With `trackRunningStats: false` there are no buffers and batch statistics are used
 * in both modes.
 *
 * Defaults: eps 1e-5, momentum 0.1, affine true, trackRunningStats true, convention `'pytorch'`.
 * `convention: 'keras'` reads momentum as Keras' decay (default 0.99), eps 1e-3, and puts the
 * biased batch variance into the running variance, as `tf.keras.layers.BatchNormalization`.
 *
 * State dict keys, order and dtypes are PyTorch's, so a state dict loads into `nn.BatchNorm1d`/`2d`
 * with `strict=True`: `weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked` (an
 * `'int64'` entry, written as `I64` to safetensors; held on the device as a float32 scalar, exact
 * up to 2^24 batches). The properties keep camelCase names (`bn.runningMean` is the buffer
 * `running_mean`). Checkpoints written before gradkit used these keys (`runningMean`,
 * `runningVar`, float32 `numBatchesTracked`) are renamed on read by `@gradkit/trainer`'s
 * `loadCheckpoint`.
 *
 * Forward and backward are fused kernels; see {@link batchNorm} for the gradients.
 *
 * @throws {ShapeError} from `forward` naming the layer when the input has the wrong rank or channel count.
 * @throws {ValueError} from `forward` for one value per channel in training (N * prod(*) = 1).
 * @see Ioffe & Szegedy 2015, Batch Normalization: https://arxiv.org/abs/1502.03167
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.BatchNorm1d.html
 * @example
 * ```ts
 * const bn = new BatchNorm(16);
 * const y = bn.forward(randn([32, 16, 10])); // training: batch statistics, buffers updated
 * bn.eval();
 * const z = bn.forward(randn([4, 16, 10])); // evaluation: running statistics
 * bn.stateDict(); // { weight, bias, running_mean, running_var, num_batches_tracked }
 * ```
 */
export class BatchNorm extends Module<[Tensor], Tensor> {
  /** C, the number of channels. */
  readonly numFeatures: number;
  /** Added to the variance inside the square root. */
  readonly eps: number;
  /** The update weight (see {@link BatchNormOptions.momentum}); null for the cumulative average. */
  readonly momentum: number | null;
  /** Whether `weight` and `bias` exist. */
  readonly affine: boolean;
  /** Whether the running-statistics buffers exist. */
  readonly trackRunningStats: boolean;
  /** The meaning of `momentum`. */
  readonly convention: BatchNormConvention;
  /** gamma, shape `[C]`, initially 1 (null unless affine). */
  readonly weight: Parameter | null;
  /** beta, shape `[C]`, initially 0 (null unless affine). */
  readonly bias: Parameter | null;
  /** Buffer `running_mean`, shape `[C]`, initially 0 (null unless trackRunningStats). */
  readonly runningMean: Tensor | null;
  /** Buffer `running_var`, shape `[C]`, initially 1 (null unless trackRunningStats). */
  readonly runningVar: Tensor | null;
  /**
   * Buffer `num_batches_tracked` (an `'int64'` state dict entry), shape `[]`, the number of
   * training batches seen (null unless trackRunningStats).
   */
  readonly numBatchesTracked: Tensor | null;

  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super();
    const op = this.layerName();
    this.numFeatures = checkPositiveInt(op, 'numFeatures', numFeatures);
    this.convention = checkConvention(op, options.convention ?? 'pytorch');
    const defaults = CONVENTIONS[this.convention];
    this.eps = checkEps(op, options.eps ?? defaults.eps);
    this.momentum = checkMomentum(op, options.momentum === undefined ? defaults.momentum : options.momentum);
    this.affine = checkBoolean(op, 'affine', options.affine ?? true);
    this.trackRunningStats = checkBoolean(op, 'trackRunningStats', options.trackRunningStats ?? true);
    const device = options.device;
    const c = this.numFeatures;
    this.weight = this.affine ? this.registerParameter('weight', ones([c], { device })) : null;
    this.bias = this.affine ? this.registerParameter('bias', zeros([c], { device })) : null;
    if (this.trackRunningStats) {
      this.runningMean = this.registerBuffer('running_mean', zeros([c], { device }));
      this.runningVar = this.registerBuffer('running_var', ones([c], { device }));
      this.numBatchesTracked = this.registerBuffer('num_batches_tracked', zeros([], { device }), {
        dtype: 'int64',
      });
    } else {
      this.runningMean = null;
      this.runningVar = null;
      this.numBatchesTracked = null;
    }
  }

  /** The name errors and `toString` use. */
  protected layerName(): string {
    return 'BatchNorm';
  }

  /** @internal The input ranks this layer accepts (a hook for the rank-specific subclasses). */
  protected layout(): BatchNormLayout {
    return {
      minRank: 2,
      maxRank: Number.POSITIVE_INFINITY,
      expected: '[N, C, *]',
      channels: this.numFeatures,
    };
  }

  /**
   * Normalizes `x` (`[N, C, *]`): batch statistics in training mode (updating the buffers),
   * running statistics in evaluation mode (batch statistics when `trackRunningStats` is false).
   */
  forward(x: Tensor): Tensor {
    const batchStats = this.training || !this.trackRunningStats;
    return batchNormImpl(
      this.layerName(),
      x,
      {
        weight: this.weight,
        bias: this.bias,
        runningMean: this.runningMean,
        runningVar: this.runningVar,
        numBatchesTracked: this.numBatchesTracked,
        training: batchStats,
        momentum: this.momentum,
        eps: this.eps,
        convention: this.convention,
      },
      this.layout(),
    );
  }

  /** Sets the running mean to 0, the running variance to 1 and numBatchesTracked to 0. */
  resetRunningStats(): void {
    if (!this.runningMean || !this.runningVar || !this.numBatchesTracked) return;
    const device = this.runningMean.device;
    noGrad(() => {
      for (const [t, value] of [
        [this.runningMean!, 0],
        [this.runningVar!, 1],
        [this.numBatchesTracked!, 0],
      ] as const) {
        const fresh = value === 0 ? zeros(t.shape, { device }) : ones(t.shape, { device });
        t.assign(fresh);
        fresh.dispose();
      }
    });
  }

  /** {@link BatchNorm.resetRunningStats}, and weight back to 1 and bias to 0. */
  resetParameters(): void {
    this.resetRunningStats();
    noGrad(() => {
      if (this.weight) {
        const w = ones(this.weight.shape, { device: this.weight.device });
        this.weight.assign(w);
        w.dispose();
      }
      if (this.bias) {
        const b = zeros(this.bias.shape, { device: this.bias.device });
        this.bias.assign(b);
        b.dispose();
      }
    });
  }

  /** `BatchNorm1d(16, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)`. */
  override toString(): string {
    const conv = this.convention === 'keras' ? ", convention='keras'" : '';
    return `${this.layerName()}(${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}${conv})`;
  }
}

/**
 * {@link BatchNorm} for inputs `[N, C]` or `[N, C, L]`, as PyTorch's `nn.BatchNorm1d`: statistics
 * per channel over N (and L). Other ranks are a ShapeError naming `BatchNorm1d`.
 *
 * @see Ioffe & Szegedy 2015, Batch Normalization: https://arxiv.org/abs/1502.03167
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.BatchNorm1d.html
 * @example
 * ```ts
 * const bn = new BatchNorm1d(8);
 * bn.forward(randn([32, 8])); // features
 * bn.forward(randn([32, 8, 20])); // sequences
 * ```
 */
export class BatchNorm1d extends BatchNorm {
  protected override layerName(): string {
    return 'BatchNorm1d';
  }

  /** @internal */
  protected override layout(): BatchNormLayout {
    return { minRank: 2, maxRank: 3, expected: '[N, C] or [N, C, L]', channels: this.numFeatures };
  }
}

/**
 * {@link BatchNorm} for images `[N, C, H, W]`, as PyTorch's `nn.BatchNorm2d`: statistics per
 * channel over N, H and W. Other ranks are a ShapeError naming `BatchNorm2d`.
 *
 * @see Ioffe & Szegedy 2015, Batch Normalization: https://arxiv.org/abs/1502.03167
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.BatchNorm2d.html
 * @example
 * ```ts
 * const bn = new BatchNorm2d(3);
 * bn.forward(randn([8, 3, 16, 16]));
 * ```
 */
export class BatchNorm2d extends BatchNorm {
  protected override layerName(): string {
    return 'BatchNorm2d';
  }

  /** @internal */
  protected override layout(): BatchNormLayout {
    return { minRank: 4, maxRank: 4, expected: '[N, C, H, W]', channels: this.numFeatures };
  }
}
