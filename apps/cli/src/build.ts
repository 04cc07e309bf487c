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

/** The model description for a config: [inputDropout] (linear [norm] act [dropout])* linear. */
export function modelSpecFor(c: TrainConfig, inputs: number, classes: number): ModelSpec {
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
