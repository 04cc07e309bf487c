import { join } from 'node:path';
import { ValueError } from '@gradkit/tensor';
import { saveCheckpoint } from '../checkpoint/checkpoint.js';
import type { EpochLogs } from '../logs.js';
import type { Callback, Json, MonitorMode, TrainingContext } from './callback.js';
import { resolveMode } from './callback.js';

/** Options of {@link ModelCheckpoint}. */
export interface ModelCheckpointOptions {
  /** Directory that receives `last/` and `best/` checkpoint directories. */
  readonly dir: string;
  /** Save after every epoch to `last/` (default true): what `resume` continues from. */
  readonly saveLast?: boolean;
  /** Save to `best/` whenever the monitored value improves (default true). */
  readonly saveBest?: boolean;
  /** The logged value that decides "best" (default `'val_loss'`, falling back to `'loss'` when not logged). */
  readonly monitor?: string;
  /** `'min'`, `'max'` or `'auto'` (default: from the name; accuracy-like values are maximized). */
  readonly mode?: MonitorMode;
}

/**
 * Saves checkpoints during training: `dir/last` after every epoch (with everything needed to
 * resume bit for bit) and `dir/best` when the monitored value improves. Each save replaces the
 * previous one atomically (`saveCheckpoint`). Node only (`@gradkit/trainer/node`): in a browser,
 * write a callback that calls `ctx.requestCheckpoint(key, (ckpt) => ...encodeCheckpoint(ckpt))`.
 *
 * A monitored value that is not finite (NaN, an infinity) is never "best": `best/` is only
 * written for a finite improvement. (Within `Trainer.fit` with `nonFiniteCheck` on, an epoch
 * with non-finite weights or a non-finite `loss`/`val_loss` throws before any checkpoint is
 * written, and `Trainer.checkpoint` refuses non-finite weights in any case.)
 *
 * @example
 * ```ts
 * new ModelCheckpoint({ dir: 'runs/mnist/checkpoints' });
 * ```
 */
export class ModelCheckpoint implements Callback {
  readonly name = 'modelCheckpoint';
  /** The directory that receives `last/` and `best/`. */
  readonly dir: string;
  /** Whether it saves to `last/` after every epoch. */
  readonly saveLast: boolean;
  /** Whether it saves to `best/` when the monitored value improves. */
  readonly saveBest: boolean;
  /** The logged value that decides "best". */
  readonly monitor: string;
  private readonly modeOption: MonitorMode;
  /** The best monitored value so far (null before the first epoch). */
  best: number | null = null;
  /** 1-based epoch of the best value (0 before any). */
  bestEpoch = 0;

  constructor(options: ModelCheckpointOptions) {
    if (!options?.dir) throw new ValueError('ModelCheckpoint', 'dir is required');
    this.dir = options.dir;
    this.saveLast = options.saveLast ?? true;
    this.saveBest = options.saveBest ?? true;
    this.monitor = options.monitor ?? 'val_loss';
    this.modeOption = options.mode ?? 'auto';
  }

  onEpochEnd(epoch: number, logs: EpochLogs, ctx: TrainingContext): void {
    const key = logs[this.monitor] !== undefined ? this.monitor : 'loss';
    const value = logs[key];
    const mode = resolveMode(key, this.modeOption);
    const improved =
      Number.isFinite(value) &&
      (this.best === null || (mode === 'min' ? value < this.best : value > this.best));
    if (improved) {
      this.best = value;
      this.bestEpoch = epoch;
    }
    if (this.saveBest && improved) this.request(ctx, join(this.dir, 'best'));
    if (this.saveLast) this.request(ctx, join(this.dir, 'last'));
  }

  /** Asks the loop for a checkpoint written to `dir` once every callback has seen the epoch's end. */
  private request(ctx: TrainingContext, dir: string): void {
    ctx.requestCheckpoint(dir, (ckpt) => saveCheckpoint(dir, ckpt));
  }

  stateDict(): Json {
    return { best: this.best, bestEpoch: this.bestEpoch };
  }

  /**
   * Restores a state produced by {@link ModelCheckpoint.stateDict} (on resume).
   *
   * @throws {ValueError} when `best` is neither null nor a finite number.
   */
  loadStateDict(state: Json): void {
    const s = state as { best: number | null; bestEpoch: number };
    if (!(s?.best === null || (typeof s?.best === 'number' && Number.isFinite(s.best)))) {
      throw new ValueError(
        'ModelCheckpoint.loadStateDict',
        `best must be null or a finite number, got ${JSON.stringify(s?.best)}`,
      );
    }
    this.best = s.best;
    this.bestEpoch = s.bestEpoch;
  }
}
