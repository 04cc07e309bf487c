import type { StateDict } from '@gradkit/tensor';
import type { Json } from '../callbacks/callback.js';
import type { TrainerState } from '../trainer.js';

/**
 * The version of the checkpoint format `saveCheckpoint` writes (`trainer.json`'s `version`) and {@link encodeCheckpoint} (its `version` metadata):
 * 2 since state dicts use PyTorch's names and dtypes (`running_mean`, int64
 * `num_batches_tracked`); version 1 (camelCase BatchNorm buffers, float32 counts) is still read,
 * renamed by {@link migrateStateDict} when read.
 *
 * @example
 * ```ts
 * JSON.parse(readFileSync('runs/mnist/last/trainer.json', 'utf8')).version === CHECKPOINT_VERSION; // true
 * ```
 */
export const CHECKPOINT_VERSION = 2;

/**
 * Everything a checkpoint holds: what {@link Trainer.checkpoint} returns and
 * {@link Trainer.restore} takes. {@link encodeCheckpoint} turns it into bytes anywhere (a browser
 * included); `saveCheckpoint` of `@gradkit/trainer/node` writes it as a directory.
 *
 * @example
 * ```ts
 * const ckpt: Checkpoint = trainer.checkpoint();
 * ckpt.trainer.epoch; // epochs completed
 * ```
 */
export interface Checkpoint {
  /** The model's parameters and persistent buffers. */
  readonly model: StateDict;
  /** The optimizer's state dict (JSON). */
  readonly optimizer: unknown;
  /** The training loop's state: epoch, step, history, generator states, callback states. */
  readonly trainer: TrainerState;
  /** Tensors of callback states (e.g. early stopping's best weights), by callback name. */
  readonly callbackTensors: Record<string, StateDict>;
  /** The model description (to rebuild the model), if the run had one. */
  readonly modelSpec: Json | null;
  /** The run's configuration, if given. */
  readonly config: Json | null;
}
