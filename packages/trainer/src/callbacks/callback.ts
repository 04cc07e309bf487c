import type { Module, StateEntry } from '@gradkit/tensor';
import type { Checkpoint } from '../checkpoint/types.js';
import type { BatchInfo, BatchLoss, EpochLogs, EpochRecord } from '../logs.js';

/** A JSON value (callback state in checkpoints). */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** The optimizer surface the trainer needs (what `@gradkit/optimizers`' `Optimizer` provides). */
export interface TrainerOptimizer {
  /** Updates the parameters from their gradients (once per batch). */
  step(): unknown;
  /** Clears the parameters' gradients. */
  zeroGrad(): void;
  /** The learning rate of parameter group `group` (default 0). */
  getLr(group?: number): number;
  /** Sets the learning rate of group `group`, or of every group when `group` is left out. */
  setLr(lr: number, group?: number): void;
  /** The optimizer's complete state, JSON-serializable (stored in checkpoints). */
  stateDict(): unknown;
  /** Restores a state produced by `stateDict()` (on resume). */
  loadStateDict(state: never): void;
}

/** What callbacks see of the running training: the model, the optimizer, the history so far, and a stop switch. */
export interface TrainingContext {
  /** The model being trained. */
  readonly model: Module;
  /** The optimizer updating it. */
  readonly optimizer: TrainerOptimizer;
  /** Epochs completed so far (this run and any resumed one). */
  readonly history: readonly EpochRecord[];
  /** Epochs requested in total. */
  readonly epochs: number;
  /** Asks the loop to stop after the current epoch, with a reason for the history. */
  stop(reason: string): void;
  /**
   * Asks the loop for a checkpoint once every callback has seen the epoch's end (so every
   * callback's state is current): the loop builds it ({@link Trainer.checkpoint} with the
   * callbacks of this `fit`) and hands it to `write`. Requests with the same `key` in one epoch
   * are served once (the first `write`). `ModelCheckpoint` of `@gradkit/trainer/node` writes
   * directories this way; in a browser, `write` can keep `encodeCheckpoint(ckpt)` bytes.
   *
   * @param key what the checkpoint is for, e.g. the directory it goes to.
   * @param write receives the checkpoint (synchronously, before the next epoch starts).
   */
  requestCheckpoint(key: string, write: (ckpt: Checkpoint) => void): void;
}

/**
 * Hooks into {@link Trainer.fit}. Every method is optional. A callback with state that must
 * survive a resume (early-stopping counters, the best value) implements `stateDict` /
 * `loadStateDict`; the trainer stores it in checkpoints under the callback's `name`.
 *
 * Order per epoch: `onEpochBegin`, `onBatchEnd` for every batch (with `onLossesRead` after each
 * read of the pending losses), `onEpochEnd` (after validation, with the epoch's logs; callbacks
 * run in the order given, and may change the logs they see, e.g. add `lr`).
 */
export interface Callback {
  /** Unique name, the key of its state in checkpoints. */
  readonly name: string;
  /** Called once before the first epoch of `fit` (after a resume restored the state). */
  onTrainBegin?(ctx: TrainingContext): void;
  /** Called before each epoch's first batch; `epoch` counts from 1. */
  onEpochBegin?(epoch: number, ctx: TrainingContext): void;
  /**
   * Called after each training batch (the optimizer has stepped). Reading `info.loss` makes the
   * trainer read the loss back now (see {@link BatchInfo.loss}); prefer `onLossesRead`.
   */
  onBatchEnd?(info: BatchInfo, ctx: TrainingContext): void;
  /**
   * Called each time the trainer has read batch losses back from the device (every
   * `lossReadInterval` steps, at the end of each epoch, and when a callback read `info.loss`),
   * with those batches in order. Every batch's loss is delivered exactly once.
   */
  onLossesRead?(losses: readonly BatchLoss[], ctx: TrainingContext): void;
  /** Called after each epoch's validation with its logs (`loss`, `val_loss`, metrics, ...). */
  onEpochEnd?(epoch: number, logs: EpochLogs, ctx: TrainingContext): void;
  /** Called once when `fit` ends, with why it stopped (`'completed'`, or a callback's reason). */
  onTrainEnd?(ctx: TrainingContext, stopReason: string): void;
  /** The callback's state as JSON, stored in checkpoints under its `name`. */
  stateDict?(): Json;
  /** Restores a state produced by `stateDict()` (on resume). */
  loadStateDict?(state: Json): void;
  /** Tensors of the state (e.g. the best weights), stored in the checkpoint's safetensors file. */
  stateTensors?(): Record<string, StateEntry>;
  /** Restores the tensors produced by `stateTensors()` (on resume). */
  loadStateTensors?(tensors: Record<string, StateEntry>): void;
}

/** Which direction is better for a monitored value. */
export type MonitorMode = 'min' | 'max' | 'auto';

/** `'auto'` resolved from the name: accuracy-like metrics are maximized, the rest minimized. */
export function resolveMode(monitor: string, mode: MonitorMode): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /acc|auc|precision|recall|f1/i.test(monitor) ? 'max' : 'min';
}
