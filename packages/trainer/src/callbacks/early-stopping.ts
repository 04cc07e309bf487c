import type { StateDict } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import type { EpochLogs } from '../logs.js';
import type { Callback, Json, MonitorMode, TrainingContext } from './callback.js';
import { resolveMode } from './callback.js';

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /** The logged value to watch (default `'val_loss'`). */
  readonly monitor?: string;
  /** `'min'`, `'max'` or `'auto'` (default: from the name). */
  readonly mode?: MonitorMode;
  /** Epochs without improvement before stopping (default 0: stop at the first epoch that does not improve). */
  readonly patience?: number;
  /** Smallest change that counts as an improvement (default 0). */
  readonly minDelta?: number;
  /** At the end of training, put back the weights of the best epoch (default false). */
  readonly restoreBestWeights?: boolean;
}

/**
 * Stops training when the monitored value has not improved for `patience` epochs, as Keras'
 * `EarlyStopping`: an epoch improves when `value < best - minDelta` (mode min) or
 * `value > best + minDelta` (mode max). With `restoreBestWeights`, the best epoch's weights are
 * kept on the host and loaded back when training ends, whether it stopped early or ran out of
 * epochs (TensorFlow.js has no such option).
 *
 * A monitored value that is not finite (NaN, `Infinity`, `-Infinity`: a diverged run) is never an
 * improvement: it counts as an epoch without improvement, never becomes `best`, and its weights
 * are never kept for `restoreBestWeights`. (Keras agrees for NaN; it would take `-Infinity` as a
 * new best loss.)
 *
 * @throws {ValueError} for a negative patience or minDelta.
 * @example
 * ```ts
 * trainer.fit(train, { epochs: 50, validationSplit: 0.1, callbacks: [new EarlyStopping({ patience: 3, restoreBestWeights: true })] });
 * ```
 */
export class EarlyStopping implements Callback {
  readonly name = 'earlyStopping';
  /** The logged value it watches. */
  readonly monitor: string;
  /** Whether lower (`'min'`) or higher (`'max'`) is better, `'auto'` resolved. */
  readonly mode: 'min' | 'max';
  /** Epochs without improvement it tolerates before stopping. */
  readonly patience: number;
  /** Smallest change that counts as an improvement. */
  readonly minDelta: number;
  /** Whether the best epoch's weights are put back at the end. */
  readonly restoreBestWeights: boolean;
  /** Best value so far (Infinity / -Infinity before the first epoch). */
  best: number;
  /** 1-based epoch of the best value (0 before any). */
  bestEpoch = 0;
  /** Epochs since the last improvement. */
  wait = 0;
  /** 1-based epoch at which training was stopped, or 0. */
  stoppedEpoch = 0;
  private bestWeights: StateDict | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    const {
      monitor = 'val_loss',
      mode = 'auto',
      patience = 0,
      minDelta = 0,
      restoreBestWeights = false,
    } = options;
    if (!Number.isInteger(patience) || patience < 0) {
      throw new ValueError('EarlyStopping', `patience must be a non-negative integer, got ${patience}`);
    }
    if (typeof minDelta !== 'number' || !(minDelta >= 0)) {
      throw new ValueError('EarlyStopping', `minDelta must be >= 0, got ${minDelta}`);
    }
    if (mode !== 'min' && mode !== 'max' && mode !== 'auto') {
      throw new ValueError(
        'EarlyStopping',
        `mode must be 'min', 'max' or 'auto', got ${JSON.stringify(mode)}`,
      );
    }
    this.monitor = monitor;
    this.mode = resolveMode(monitor, mode);
    this.patience = patience;
    this.minDelta = minDelta;
    this.restoreBestWeights = restoreBestWeights;
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  private improved(value: number): boolean {
    if (!Number.isFinite(value)) return false;
    return this.mode === 'min' ? value < this.best - this.minDelta : value > this.best + this.minDelta;
  }

  onEpochEnd(epoch: number, logs: EpochLogs, ctx: TrainingContext): void {
    const value = logs[this.monitor];
    if (value === undefined) {
      throw new ValueError(
        'EarlyStopping',
        `monitor '${this.monitor}' is not logged (logged: ${Object.keys(logs).join(', ')}); add validation data for val_*`,
      );
    }
    if (this.improved(value)) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights) this.bestWeights = ctx.model.stateDict();
      return;
    }
    this.wait++;
    if (this.wait > this.patience) {
      this.stoppedEpoch = epoch;
      ctx.stop(
        `early stopping: ${this.monitor} did not improve for ${this.wait} epoch${this.wait === 1 ? '' : 's'} ` +
          (this.bestEpoch > 0
            ? `(best ${this.best.toPrecision(5)} at epoch ${this.bestEpoch})`
            : `(no epoch had a finite ${this.monitor})`),
      );
    }
  }

  onTrainEnd(ctx: TrainingContext): void {
    if (this.restoreBestWeights && this.bestWeights) ctx.model.loadStateDict(this.bestWeights);
  }

  stateDict(): Json {
    return {
      best: Number.isFinite(this.best) ? this.best : String(this.best),
      bestEpoch: this.bestEpoch,
      wait: this.wait,
      stoppedEpoch: this.stoppedEpoch,
      hasBestWeights: this.bestWeights !== null,
    };
  }

  /**
   * Restores a state produced by {@link EarlyStopping.stateDict} (on resume).
   *
   * @throws {ValueError} when `best` is NaN or the wrong infinity for the mode: a best of NaN
   *   would never be improved on.
   */
  loadStateDict(state: Json): void {
    const s = state as { best: number | string; bestEpoch: number; wait: number; stoppedEpoch: number };
    const best = Number(s?.best);
    const worst = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    if (!(Number.isFinite(best) || best === worst)) {
      throw new ValueError(
        'EarlyStopping.loadStateDict',
        `best must be a finite number or ${worst} (mode ${this.mode}), got ${JSON.stringify(s?.best)}`,
      );
    }
    this.best = best;
    this.bestEpoch = s.bestEpoch;
    this.wait = s.wait;
    this.stoppedEpoch = s.stoppedEpoch;
  }

  stateTensors(): StateDict {
    return this.bestWeights ?? {};
  }

  loadStateTensors(tensors: StateDict): void {
    this.bestWeights = Object.keys(tensors).length > 0 ? tensors : null;
  }
}
