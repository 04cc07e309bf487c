import type { Schedule } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import type { BatchInfo, EpochLogs } from '../logs.js';
import type { Callback, Json, MonitorMode, TrainingContext } from './callback.js';
import { resolveMode } from './callback.js';

/** Options of {@link LearningRateScheduler}. */
export interface LearningRateSchedulerOptions {
  /** The learning rate at each step (a `Schedule` from `@gradkit/optimizers`, or any function). */
  readonly schedule: Schedule;
  /** Advance the schedule per optimizer update (`'step'`, default) or per epoch (`'epoch'`). */
  readonly unit?: 'step' | 'epoch';
}

/**
 * Drives the optimizer's learning rate from a schedule: before the first update the rate is
 * `schedule(0)`; after update k (unit `'step'`) or epoch k (unit `'epoch'`) it is `schedule(k)`.
 * The rate in use is logged as `lr`.
 *
 * @example
 * ```ts
 * new LearningRateScheduler({ schedule: cosineAnnealingSchedule({ lr: 0.1, tMax: 1000 }) });
 * ```
 */
export class LearningRateScheduler implements Callback {
  readonly name = 'lrScheduler';
  /** The learning rate as a function of the step (or epoch) count. */
  readonly schedule: Schedule;
  /** What the schedule counts: optimizer updates (`'step'`) or epochs (`'epoch'`). */
  readonly unit: 'step' | 'epoch';
  private count = 0;

  constructor(options: LearningRateSchedulerOptions) {
    if (typeof options?.schedule !== 'function') {
      throw new ValueError('LearningRateScheduler', 'schedule must be a function of the step');
    }
    const unit = options.unit ?? 'step';
    if (unit !== 'step' && unit !== 'epoch') {
      throw new ValueError(
        'LearningRateScheduler',
        `unit must be 'step' or 'epoch', got ${JSON.stringify(unit)}`,
      );
    }
    this.schedule = options.schedule;
    this.unit = unit;
  }

  private apply(ctx: TrainingContext): void {
    const lr = this.schedule(this.count);
    // finite in float32 too: the kernels compute in float32, where 1e300 is Infinity
    if (!(typeof lr === 'number' && Number.isFinite(Math.fround(lr)) && lr >= 0)) {
      throw new ValueError(
        'LearningRateScheduler',
        `schedule(${this.count}) returned ${lr}, not a learning rate (a number >= 0, finite in float32)`,
      );
    }
    ctx.optimizer.setLr(lr);
  }

  onTrainBegin(ctx: TrainingContext): void {
    this.apply(ctx);
  }

  onBatchEnd(_info: BatchInfo, ctx: TrainingContext): void {
    if (this.unit !== 'step') return;
    this.count++;
    this.apply(ctx);
  }

  onEpochEnd(_epoch: number, logs: EpochLogs, ctx: TrainingContext): void {
    if (this.unit !== 'epoch') return;
    this.count++;
    this.apply(ctx);
    logs.next_lr = ctx.optimizer.getLr();
  }

  stateDict(): Json {
    return { count: this.count };
  }

  loadStateDict(state: Json): void {
    this.count = (state as { count: number }).count;
  }
}

/** The plateau logic of `@gradkit/optimizers`' ReduceLROnPlateau, as the trainer uses it. */
export interface PlateauScheduler {
  /** Feeds one epoch's monitored value; returns the learning rate to use from now on. */
  step(metric: number): number;
  /** The plateau state (best value, bad epochs, cooldown), JSON-serializable. */
  stateDict(): unknown;
  /** Restores a state produced by `stateDict()` (on resume). */
  loadStateDict(state: never): void;
}

/** Options of {@link ReduceLROnPlateauCallback}. */
export interface ReduceLROnPlateauCallbackOptions {
  /** A `ReduceLROnPlateau` from `@gradkit/optimizers`, built with the optimizer's initial lr. */
  readonly scheduler: PlateauScheduler;
  /** The logged value it watches (default `'val_loss'`). */
  readonly monitor?: string;
}

/**
 * Lowers the learning rate when a monitored value stops improving: after each epoch the
 * scheduler sees the value and returns the rate for the next epoch (PyTorch's
 * `ReduceLROnPlateau` decisions).
 *
 * @example
 * ```ts
 * new ReduceLROnPlateauCallback({ scheduler: new ReduceLROnPlateau({ lr: 0.1, patience: 2 }) });
 * ```
 */
export class ReduceLROnPlateauCallback implements Callback {
  readonly name = 'reduceLrOnPlateau';
  /** The logged value it watches. */
  readonly monitor: string;
  /** The plateau detector that decides the learning rate. */
  readonly scheduler: PlateauScheduler;

  constructor(options: ReduceLROnPlateauCallbackOptions) {
    if (!options?.scheduler || typeof options.scheduler.step !== 'function') {
      throw new ValueError('ReduceLROnPlateauCallback', 'scheduler must be a ReduceLROnPlateau');
    }
    this.scheduler = options.scheduler;
    this.monitor = options.monitor ?? 'val_loss';
    resolveMode(this.monitor, 'auto' as MonitorMode);
  }

  onEpochEnd(_epoch: number, logs: EpochLogs, ctx: TrainingContext): void {
    const value = logs[this.monitor];
    if (value === undefined) {
      throw new ValueError('ReduceLROnPlateauCallback', `monitor '${this.monitor}' is not logged`);
    }
    const lr = this.scheduler.step(value);
    ctx.optimizer.setLr(lr);
    logs.next_lr = lr;
  }

  stateDict(): Json {
    return this.scheduler.stateDict() as Json;
  }

  loadStateDict(state: Json): void {
    this.scheduler.loadStateDict(state as never);
  }
}
