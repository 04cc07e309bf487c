import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { StateDict } from '@gradkit/tensor';
import { GradkitError } from '@gradkit/tensor';
import type { Json } from '../callbacks/callback.js';
import type { TrainerState } from '../trainer.js';
import { writeFileAtomic } from './atomic.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

/**
 * File names inside a checkpoint directory.
 *
 * @example
 * ```ts
 * join('runs/mnist/last', CHECKPOINT_FILES.model); // 'runs/mnist/last/model.safetensors'
 * ```
 */
export const CHECKPOINT_FILES = {
  /** The model's parameters and persistent buffers (safetensors). */
  model: 'model.safetensors',
  /** The optimizer's state dict (JSON). */
  optimizer: 'optimizer.json',
  /** The callbacks' state tensors, e.g. early stopping's best weights (safetensors). */
  callbacks: 'callbacks.safetensors',
  /** The trainer's state: epoch, step, history, callback states, run metadata (JSON). */
  state: 'trainer.json',
} as const;

/** Everything a checkpoint holds. */
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

/**
 * A missing, incomplete or inconsistent checkpoint.
 *
 * @example
 * ```ts
 * try {
 *   loadCheckpoint('runs/none');
 * } catch (e) {
 *   if (e instanceof CheckpointError) console.error(e.message); // runs/none: no such checkpoint directory
 * }
 * ```
 */
export class CheckpointError extends GradkitError {
  /** `'CheckpointError'`: the class name, shown in messages and stack traces. */
  override name = 'CheckpointError';
}

/**
 * Writes a checkpoint directory: `model.safetensors` (weights), `optimizer.json`,
 * `callbacks.safetensors` and `trainer.json` (epoch, step, history, generator states, callback
 * states, model description, config). The files are written into a temporary directory that then
 * replaces `dir` by renames, so an interrupted save leaves the previous checkpoint intact.
 *
 * @example
 * ```ts
 * saveCheckpoint('runs/mnist/last', { model: model.stateDict(), optimizer: opt.stateDict(), trainer: trainer.state(), callbackTensors: {}, modelSpec, config });
 * ```
 */
export function saveCheckpoint(dir: string, ckpt: Checkpoint): void {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const old = join(parent, `.${basename(dir)}.old-${process.pid}`);
  try {
    const meta = { format: 'gradkit', epoch: String(ckpt.trainer.epoch), step: String(ckpt.trainer.step) };
    writeFileAtomic(join(tmp, CHECKPOINT_FILES.model), encodeSafetensors(ckpt.model, meta));
    writeFileAtomic(join(tmp, CHECKPOINT_FILES.optimizer), JSON.stringify(ckpt.optimizer));
    const cbt: StateDict = {};
    for (const [cb, tensors] of Object.entries(ckpt.callbackTensors)) {
      for (const [k, v] of Object.entries(tensors)) cbt[`${cb}/${k}`] = v;
    }
    writeFileAtomic(join(tmp, CHECKPOINT_FILES.callbacks), encodeSafetensors(cbt, meta));
    const state = {
      format: 'gradkit.checkpoint',
      version: 1,
      savedAt: new Date().toISOString(),
      trainer: ckpt.trainer,
      model: ckpt.modelSpec,
      config: ckpt.config,
    };
    writeFileAtomic(join(tmp, CHECKPOINT_FILES.state), `${JSON.stringify(state, null, 1)}\n`);
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(dir) && existsSync(old)) renameSync(old, dir);
    throw e;
  }
}

function readOrThrow(path: string, what: string): Buffer {
  if (!existsSync(path))
    throw new CheckpointError(`${path}: missing ${what}; is this a gradkit checkpoint directory?`);
  return readFileSync(path);
}

/**
 * Reads a checkpoint directory written by {@link saveCheckpoint}.
 *
 * @throws {CheckpointError} for a missing directory or file, a foreign format, or files from
 *   different epochs.
 * @example
 * ```ts
 * const ckpt = loadCheckpoint('runs/mnist/last');
 * model.loadStateDict(ckpt.model);
 * ckpt.trainer.epoch; // epochs completed when it was written
 * ```
 */
export function loadCheckpoint(dir: string): Checkpoint {
  if (!existsSync(dir)) throw new CheckpointError(`${dir}: no such checkpoint directory`);
  const stateText = readOrThrow(join(dir, CHECKPOINT_FILES.state), CHECKPOINT_FILES.state).toString('utf8');
  let state: {
    format?: string;
    version?: number;
    trainer: TrainerState;
    model: Json | null;
    config: Json | null;
  };
  try {
    state = JSON.parse(stateText);
  } catch (e) {
    throw new CheckpointError(
      `${join(dir, CHECKPOINT_FILES.state)}: not valid JSON (${(e as Error).message})`,
    );
  }
  if (state.format !== 'gradkit.checkpoint' || state.version !== 1) {
    throw new CheckpointError(
      `${dir}: unsupported checkpoint format ${JSON.stringify(state.format)} version ${state.version}`,
    );
  }
  const modelPath = join(dir, CHECKPOINT_FILES.model);
  const model = decodeSafetensors(readOrThrow(modelPath, CHECKPOINT_FILES.model), modelPath);
  if (model.metadata.epoch !== String(state.trainer.epoch)) {
    throw new CheckpointError(
      `${dir}: ${CHECKPOINT_FILES.model} is from epoch ${model.metadata.epoch}, ${CHECKPOINT_FILES.state} from epoch ${state.trainer.epoch}`,
    );
  }
  const optimizer = JSON.parse(
    readOrThrow(join(dir, CHECKPOINT_FILES.optimizer), CHECKPOINT_FILES.optimizer).toString('utf8'),
  );
  const cbPath = join(dir, CHECKPOINT_FILES.callbacks);
  const callbackTensors: Record<string, StateDict> = {};
  if (existsSync(cbPath)) {
    for (const [key, t] of Object.entries(decodeSafetensors(readFileSync(cbPath), cbPath).tensors)) {
      const slash = key.indexOf('/');
      const cb = key.slice(0, slash);
      callbackTensors[cb] ??= {};
      callbackTensors[cb][key.slice(slash + 1)] = t;
    }
  }
  return {
    model: model.tensors,
    optimizer,
    trainer: state.trainer,
    callbackTensors,
    modelSpec: state.model ?? null,
    config: state.config ?? null,
  };
}
