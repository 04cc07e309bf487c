import type { JsonValue, LayerSpec, ModelSpec } from '@gradkit/nn';
import {
  adadelta,
  adagrad,
  adam,
  adamax,
  adamw,
  clipGradNorm,
  clipGradValue,
  cosineAnnealingSchedule,
  exponentialSchedule,
  joinSchedules,
  lamb,
  linearSchedule,
  lion,
  nadam,
  oneCycleSchedule,
  ReduceLROnPlateau,
  radam,
  rmsprop,
  sgd,
  stepSchedule,
} from '@gradkit/optimizers';
import { l1Penalty, l2Penalty, maxNorm } from '@gradkit/regularizers';
import type { Module, Schedule, Tensor } from '@gradkit/tensor';
import type { Callback, TrainerOptimizer } from '@gradkit/trainer';
import { LearningRateScheduler, ReduceLROnPlateauCallback } from '@gradkit/trainer';
import type { TrainConfig } from './config.js';
import { isCnn } from './config.js';

/** The input sample shape of a model on MNIST-like data: `[1, 28, 28]` for a CNN, `[784]` for an MLP. */
export function sampleShapeFor(c: Pick<TrainConfig, 'model'>, inputs: number): number[] {
  return isCnn(c) ? [1, 28, 28] : [inputs];
}

/**
 * The model description for a config. `mlp`: [inputDropout] (linear [norm] act [dropout])* linear.
 * The CNNs (see {@link cnnSpecFor}) take `sampleShape` `[C, H, W]`.
 */
export function modelSpecFor(
  c: TrainConfig,
  inputs: number,
  classes: number,
  sampleShape: readonly number[] = [inputs],
): ModelSpec {
  if (isCnn(c)) return cnnSpecFor(c, sampleShape, classes);
  const layers: LayerSpec[] = [];
  if (c.inputDropout > 0) layers.push({ type: 'dropout', p: c.inputDropout });
  let width = inputs;
  const init: Record<string, JsonValue> =
    c.init === 'pytorch' ? {} : { weightInit: { name: c.init }, biasInit: 'zeros' };
  for (const h of c.hidden) {
    layers.push({ type: 'linear', in: width, out: h, ...init });
    if (c.norm === 'batch') layers.push({ type: 'batchNorm', numFeatures: h });
    if (c.norm === 'layer') layers.push({ type: 'layerNorm', normalizedShape: h });
    layers.push({ type: c.activation });
    if (c.dropout > 0) layers.push({ type: 'dropout', p: c.dropout });
    width = h;
  }
  layers.push({ type: 'linear', in: width, out: classes, ...init });
  return { format: 'gradkit.sequential', version: 1, layers };
}

/** One convolution of a CNN recipe: output channels, kernel size, padding, then a 2x2 max-pool. */
interface ConvBlock {
  readonly out: number;
  readonly kernel: number;
  readonly padding: number;
}

/**
 * The architectures of the convolutional models (every activation is `--activation`, ReLU by
 * default; every pool a 2x2 max-pool):
 * - `lenet5`: LeNet-5 (LeCun et al. 1998) in its modern form, ReLU and max-pool instead of tanh and
 *   subsampling: conv 5x5 6 pad 2, pool, conv 5x5 16, pool, flatten (16x5x5 = 400), linear 120,
 *   linear 84, linear 10.
 * - `cnn`: three conv3x3 (pad 1) blocks of 8, 16, 32 channels, each conv-BN-ReLU-pool
 *   (28 -> 14 -> 7 -> 3), flatten (288), linear 128, linear 10: 44,482 parameters with batch
 *   norm, kept small so that an MNIST epoch stays cheap on a CPU.
 */
const CNN_RECIPES: Record<'lenet5' | 'cnn', { convs: ConvBlock[]; dense: number[] }> = {
  lenet5: {
    convs: [
      { out: 6, kernel: 5, padding: 2 },
      { out: 16, kernel: 5, padding: 0 },
    ],
    dense: [120, 84],
  },
  cnn: {
    convs: [
      { out: 8, kernel: 3, padding: 1 },
      { out: 16, kernel: 3, padding: 1 },
      { out: 32, kernel: 3, padding: 1 },
    ],
    dense: [128],
  },
};

/**
 * The model description of a convolutional model on `[C, H, W]` samples:
 * [inputDropout] (conv [batchNorm2d] act maxPool2d)* flatten ([dropout] linear [batchNorm] act)* [dropout] linear.
 * `--norm batch` adds BatchNorm2d after each convolution (whose bias is then dropped, as it would
 * be cancelled by the normalization) and BatchNorm1d after each hidden linear layer; `--dropout`
 * drops the inputs of every linear layer (the flattened conv features and each hidden layer's
 * output); `--init` applies to every conv and linear weight.
 */
export function cnnSpecFor(c: TrainConfig, sampleShape: readonly number[], classes: number): ModelSpec {
  if (sampleShape.length !== 3)
    throw new Error(`--model ${c.model}: expected [C, H, W] samples, got [${sampleShape.join(', ')}]`);
  const recipe = CNN_RECIPES[c.model as 'lenet5' | 'cnn'];
  const init: Record<string, JsonValue> =
    c.init === 'pytorch' ? {} : { weightInit: { name: c.init }, biasInit: 'zeros' };
  const layers: LayerSpec[] = [];
  if (c.inputDropout > 0) layers.push({ type: 'dropout', p: c.inputDropout });
  let [channels, h, w] = sampleShape;
  for (const b of recipe.convs) {
    const conv: LayerSpec = {
      type: 'conv2d',
      in: channels,
      out: b.out,
      kernelSize: b.kernel,
      ...(b.padding ? { padding: b.padding } : {}),
      ...(c.norm === 'batch' ? { bias: false } : {}),
      ...(c.init === 'pytorch' ? {} : c.norm === 'batch' ? { weightInit: init.weightInit } : init),
    };
    layers.push(conv);
    if (c.norm === 'batch') layers.push({ type: 'batchNorm2d', numFeatures: b.out });
    layers.push({ type: c.activation });
    layers.push({ type: 'maxPool2d', kernelSize: 2 });
    channels = b.out;
    h = Math.floor((h + 2 * b.padding - b.kernel + 1) / 2);
    w = Math.floor((w + 2 * b.padding - b.kernel + 1) / 2);
  }
  layers.push({ type: 'flatten' });
  let width = channels * h * w;
  for (const units of recipe.dense) {
    if (c.dropout > 0) layers.push({ type: 'dropout', p: c.dropout });
    layers.push({ type: 'linear', in: width, out: units, ...init });
    if (c.norm === 'batch') layers.push({ type: 'batchNorm', numFeatures: units });
    layers.push({ type: c.activation });
    width = units;
  }
  if (c.dropout > 0) layers.push({ type: 'dropout', p: c.dropout });
  layers.push({ type: 'linear', in: width, out: classes, ...init });
  return { format: 'gradkit.sequential', version: 1, layers };
}

/** The optimizer for a config (PyTorch's hyperparameter names and defaults where the config is silent). */
export function optimizerFor(c: TrainConfig, model: Module): TrainerOptimizer {
  const lr = c.lr;
  const wd = c.weightDecay;
  const betas = [c.beta1, c.beta2] as const;
  const eps = c.eps === null ? {} : { eps: c.eps };
  switch (c.optimizer) {
    case 'sgd':
      return sgd(model, { lr, weightDecay: wd });
    case 'momentum':
      return sgd(model, { lr, momentum: c.momentum ?? 0.9, nesterov: c.nesterov, weightDecay: wd });
    case 'adam':
      return adam(model, { lr, betas, weightDecay: wd, ...eps });
    case 'adamw':
      return adamw(model, { lr, betas, weightDecay: wd, ...eps });
    case 'rmsprop':
      return rmsprop(model, { lr, momentum: c.momentum ?? 0, weightDecay: wd, ...eps });
    case 'adagrad':
      return adagrad(model, { lr, weightDecay: wd, ...eps });
    case 'adamax':
      return adamax(model, { lr, betas, weightDecay: wd, ...eps });
    case 'nadam':
      return nadam(model, { lr, betas, weightDecay: wd, ...eps });
    case 'radam':
      return radam(model, { lr, betas, weightDecay: wd, ...eps });
    case 'adadelta':
      return adadelta(model, { lr, weightDecay: wd, ...eps });
    case 'lion':
      return lion(model, { lr, betas, weightDecay: wd });
    case 'lamb':
      return lamb(model, { lr, betas, weightDecay: wd, ...eps });
  }
}

/** The per-epoch learning-rate schedule of a config (with linear warm-up), or null for a constant rate. */
export function scheduleFor(
  c: TrainConfig,
  stepsPerEpoch: number,
): { schedule: Schedule; unit: 'step' | 'epoch' } | null {
  const lr = c.lr;
  const total = c.epochs;
  const afterWarmup = total - c.warmup;
  let main: Schedule | null;
  let unit: 'step' | 'epoch' = 'epoch';
  switch (c.schedule) {
    case 'constant':
    case 'plateau':
      main = null;
      break;
    case 'step':
      main = stepSchedule({ lr, stepSize: c.stepSize, gamma: c.gamma });
      break;
    case 'exponential':
      main = exponentialSchedule({ lr, gamma: c.gamma });
      break;
    case 'cosine':
      main = cosineAnnealingSchedule({ lr, tMax: afterWarmup });
      break;
    case 'onecycle':
      // per optimizer step over the whole run; warm-up is part of the cycle
      return { schedule: oneCycleSchedule({ maxLr: lr, totalSteps: total * stepsPerEpoch }), unit: 'step' };
  }
  if (c.warmup > 0) {
    const warm = linearSchedule({ lr, startFactor: 1 / (c.warmup + 1), endFactor: 1, totalIters: c.warmup });
    return {
      schedule: main ? joinSchedules([warm, main], [c.warmup]) : (s) => warm(Math.min(s, c.warmup)),
      unit,
    };
  }
  unit = 'epoch';
  return main ? { schedule: main, unit } : null;
}

/** Trainer options for the config's penalties, clipping and constraints, and the schedule callbacks. */
export function tricksFor(c: TrainConfig, stepsPerEpoch: number) {
  const penalty =
    c.l1 > 0 || c.l2 > 0
      ? (m: Module): Tensor => {
          const parts: Tensor[] = [];
          if (c.l1 > 0) parts.push(l1Penalty(m, c.l1));
          if (c.l2 > 0) parts.push(l2Penalty(m, c.l2));
          return parts.length === 1 ? parts[0] : parts[0].add(parts[1]);
        }
      : undefined;
  const gradientHooks: ((m: Module) => void)[] = [];
  if (c.clipNorm !== null) gradientHooks.push((m) => clipGradNorm(m, c.clipNorm!));
  if (c.clipValue !== null) gradientHooks.push((m) => clipGradValue(m, c.clipValue!));
  const constraints = c.maxNorm !== null ? [(m: Module) => maxNorm(m, c.maxNorm!)] : [];
  const callbacks: Callback[] = [];
  const sched = scheduleFor(c, stepsPerEpoch);
  if (sched) callbacks.push(new LearningRateScheduler(sched));
  if (c.schedule === 'plateau') {
    callbacks.push(
      new ReduceLROnPlateauCallback({
        scheduler: new ReduceLROnPlateau({ lr: c.lr, factor: c.gamma, patience: 2 }),
      }),
    );
  }
  return { penalty, gradientHooks, constraints, callbacks };
}
