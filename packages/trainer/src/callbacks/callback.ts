import type { Module, StateEntry } from '@gradkit/tensor';
import type { BatchInfo, EpochLogs, EpochRecord } from '../logs.js';

/** A JSON value (callback state in checkpoints). */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** The optimizer surface the trainer needs (what `@gradkit/optimizers`' `Optimizer` provides). */
export interface TrainerOptimizer {
  step(): unknown;
  zeroGrad(): void;
  getLr(group?: number): number;
  setLr(lr: number, group?: number): void;
  stateDict(): unknown;
  loadStateDict(state: never): void;
}

/** What callbacks see of the running training: the model, the optimizer, the history so far, and a stop switch. */
export interface TrainingContext {
  readonly model: Module;
  readonly optimizer: TrainerOptimizer;
  /** Epochs completed so far (this run and any resumed one). */
  readonly history: readonly EpochRecord[];
  /** Epochs requested in total. */
  readonly epochs: number;
  /** Asks the loop to stop after the current epoch, with a reason for the history. */
  stop(reason: string): void;
  /** Asks the loop to write a checkpoint to `dir` once every callback has seen the epoch's end. */
  saveCheckpoint(dir: string): void;
}

/**
 * Hooks into {@link Trainer.fit}. Every method is optional. A callback with state that must
 * survive a resume (early-stopping counters, the best value) implements `stateDict` /
 * `loadStateDict`; the trainer stores it in checkpoints under the callback's `name`.
 *
 * Order per epoch: `onEpochBegin`, `onBatchEnd` for every batch, `onEpochEnd` (after validation,
 * with the epoch's logs; callbacks run in the order given, and may change the logs they see, e.g.
 * add `lr`).
 */
export interface Callback {
  /** Unique name, the key of its state in checkpoints. */
  readonly name: string;
  onTrainBegin?(ctx: TrainingContext): void;
  onEpochBegin?(epoch: number, ctx: TrainingContext): void;
  onBatchEnd?(info: BatchInfo, ctx: TrainingContext): void;
  onEpochEnd?(epoch: number, logs: EpochLogs, ctx: TrainingContext): void;
  onTrainEnd?(ctx: TrainingContext, stopReason: string): void;
  stateDict?(): Json;
  loadStateDict?(state: Json): void;
  /** Tensors of the state (e.g. the best weights), stored in the checkpoint's safetensors file. */
  stateTensors?(): Record<string, StateEntry>;
  loadStateTensors?(tensors: Record<string, StateEntry>): void;
}

/** Which direction is better for a monitored value. */
export type MonitorMode = 'min' | 'max' | 'auto';

/** `'auto'` resolved from the name: accuracy-like metrics are maximized, the rest minimized. */
export function resolveMode(monitor: string, mode: MonitorMode): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /acc|auc|precision|recall|f1/i.test(monitor) ? 'max' : 'min';
}
