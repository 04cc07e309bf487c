import type { StateDict } from '@gradkit/tensor';
import type { Json } from '../callbacks/callback.js';
import { CheckpointError } from './checkpoint-error.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import type { Checkpoint } from './types.js';
import { CHECKPOINT_VERSION } from './types.js';
import { checkTrainerState, isObject } from './validate.js';

/**
 * A state dict (e.g. `model.stateDict()`) as the bytes of a safetensors file, in memory: no file
 * system, so it works in a browser, a Web Worker and Node alike. Float32 entries are written as
 * `F32`, `'int64'` entries (BatchNorm's `num_batches_tracked`) as `I64`, in name order, as
 * `safetensors.torch.save_file` does, so PyTorch reads the bytes with
 * `safetensors.torch.load(data)` and `load_state_dict(strict=True)`. Store them in IndexedDB,
 * offer them as a download (`new Blob([bytes])`), or post them from a worker.
 *
 * @param dict the tensors by name.
 * @param metadata optional string metadata (the header's `__metadata__`).
 * @throws {SafetensorsError} (a {@link CheckpointError}) when an entry's values do not fill its
 *   shape, an `'int64'` entry holds a non-integer, or a name is `__proto__` or `__metadata__`.
 * @see https://github.com/huggingface/safetensors (the format)
 * @example
 * ```ts
 * const bytes = stateDictToSafetensors(model.stateDict());
 * model.loadStateDict(stateDictFromSafetensors(bytes));
 * ```
 */
export function stateDictToSafetensors(dict: StateDict, metadata: Record<string, string> = {}): Uint8Array {
  return encodeSafetensors(dict, metadata);
}

/**
 * The state dict held by safetensors bytes ({@link stateDictToSafetensors}, a gradkit
 * `model.safetensors`, or PyTorch's `safetensors.torch.save(model.state_dict())`): `F32` tensors
 * as they are, `I64` ones as `'int64'` entries, other dtypes converted to float32. The result
 * loads with `model.loadStateDict(...)`, which checks every key and shape.
 *
 * @param bytes the file's bytes, e.g. `new Uint8Array(await blob.arrayBuffer())`.
 * @param source names the data in error messages (default `'safetensors data'`).
 * @throws {SafetensorsError} (a {@link CheckpointError}) for malformed bytes.
 * @see https://github.com/huggingface/safetensors
 * @example
 * ```ts
 * const res = await fetch('model.safetensors');
 * model.loadStateDict(stateDictFromSafetensors(new Uint8Array(await res.arrayBuffer())));
 * ```
 */
export function stateDictFromSafetensors(bytes: Uint8Array, source = 'safetensors data'): StateDict {
  return decodeSafetensors(bytes, source).tensors;
}

/** The metadata key of each JSON part of a checkpoint in bytes. */
const META = {
  format: 'format',
  version: 'version',
  epoch: 'epoch',
  step: 'step',
  optimizer: 'gradkit.optimizer',
  trainer: 'gradkit.trainer',
  modelSpec: 'gradkit.model',
  config: 'gradkit.config',
} as const;

/** The `format` metadata value of {@link encodeCheckpoint}'s bytes. */
const BYTES_FORMAT = 'gradkit.checkpoint';
/** Callback tensors are stored as `callbacks/<callback>/<name>` beside the model's tensors. */
const CALLBACKS = 'callbacks/';

/**
 * A whole checkpoint ({@link Trainer.checkpoint}: weights, optimizer state, loop state, callback
 * states and tensors, model description, config) as one safetensors file in memory, the
 * browser's counterpart of a checkpoint directory. The model's tensors keep their names (so
 * `safetensors.torch.load` sees the state dict), callback tensors are named
 * `callbacks/<callback>/<name>`, and the JSON parts go into the header's string metadata:
 * `format: 'gradkit.checkpoint'`, `version` ({@link CHECKPOINT_VERSION}), `epoch`, `step`,
 * `gradkit.optimizer`, `gradkit.trainer`, `gradkit.model`, `gradkit.config`.
 * {@link decodeCheckpoint} reads it back; `trainer.restore(decodeCheckpoint(bytes))` then
 * continues the run exactly as a checkpoint directory does.
 *
 * @throws {CheckpointError} when a model tensor's name contains `/`, or the tensors cannot be
 *   encoded ({@link SafetensorsError}).
 * @example
 * ```ts
 * const bytes = encodeCheckpoint(trainer.checkpoint());
 * // later, even in another tab or worker:
 * trainer.restore(decodeCheckpoint(bytes));
 * ```
 */
export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const tensors: StateDict = {};
  for (const [k, v] of Object.entries(ckpt.model)) {
    if (k.includes('/'))
      throw new CheckpointError(`encodeCheckpoint: model tensor '${k}' has a '/' in its name`);
    tensors[k] = v;
  }
  for (const [cb, dict] of Object.entries(ckpt.callbackTensors)) {
    for (const [k, v] of Object.entries(dict)) tensors[`${CALLBACKS}${cb}/${k}`] = v;
  }
  return encodeSafetensors(tensors, {
    [META.format]: BYTES_FORMAT,
    [META.version]: String(CHECKPOINT_VERSION),
    [META.epoch]: String(ckpt.trainer.epoch),
    [META.step]: String(ckpt.trainer.step),
    [META.optimizer]: JSON.stringify(ckpt.optimizer ?? null),
    [META.trainer]: JSON.stringify(ckpt.trainer),
    [META.modelSpec]: JSON.stringify(ckpt.modelSpec ?? null),
    [META.config]: JSON.stringify(ckpt.config ?? null),
  });
}

/**
 * Reads a checkpoint written by {@link encodeCheckpoint}, checking it as `loadCheckpoint` checks
 * a directory: the format and version, the trainer state's fields (epoch, step, history,
 * generator states, callback states), the epoch and step of the weights against the trainer
 * state, and the optimizer state being a JSON object.
 *
 * @param bytes the checkpoint's bytes.
 * @param source names the data in error messages (default `'checkpoint bytes'`).
 * @throws {CheckpointError} for bytes that are not such a checkpoint, naming what is wrong
 *   (a {@link SafetensorsError} for malformed safetensors).
 * @example
 * ```ts
 * const ckpt = decodeCheckpoint(bytes);
 * model.loadStateDict(ckpt.model);
 * trainer.restore(ckpt); // weights, optimizer, epoch, history, generators
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint bytes'): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const version = metadata[META.version];
  if (metadata[META.format] !== BYTES_FORMAT || version !== String(CHECKPOINT_VERSION)) {
    throw new CheckpointError(
      `${source}: not a gradkit checkpoint (format ${JSON.stringify(metadata[META.format] ?? null)}, ` +
        `version ${JSON.stringify(version ?? null)}; expected "${BYTES_FORMAT}" version ${CHECKPOINT_VERSION})`,
    );
  }
  const json = (key: string): unknown => {
    const text = metadata[key];
    if (text === undefined) throw new CheckpointError(`${source}: metadata '${key}' is missing`);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new CheckpointError(`${source}: metadata '${key}' is not valid JSON (${(e as Error).message})`);
    }
  };
  const trainer = checkTrainerState(`${source} '${META.trainer}'`, json(META.trainer));
  for (const key of ['epoch', 'step'] as const) {
    if (metadata[key] !== String(trainer[key])) {
      throw new CheckpointError(
        `${source}: the weights are from ${key} ${metadata[key]}, the trainer state from ${key} ${trainer[key]}`,
      );
    }
  }
  if (trainer.history.length !== trainer.epoch) {
    throw new CheckpointError(
      `${source}: the trainer state has ${trainer.history.length} history records for ${trainer.epoch} completed epochs`,
    );
  }
  const optimizer = json(META.optimizer);
  if (!isObject(optimizer)) {
    throw new CheckpointError(
      `${source}: metadata '${META.optimizer}' must be a JSON object (an optimizer state dict)`,
    );
  }
  const parts: Record<string, Json | null> = {};
  for (const key of [META.modelSpec, META.config]) {
    const v = json(key);
    if (v !== null && !isObject(v))
      throw new CheckpointError(`${source}: metadata '${key}' must be an object or null`);
    parts[key] = v as Json | null;
  }
  const model: StateDict = {};
  const callbackTensors: Record<string, StateDict> = {};
  for (const [key, t] of Object.entries(tensors)) {
    if (!key.startsWith(CALLBACKS)) {
      model[key] = t;
      continue;
    }
    const rest = key.slice(CALLBACKS.length);
    const slash = rest.indexOf('/');
    if (slash <= 0)
      throw new CheckpointError(`${source}: tensor '${key}' is not named 'callbacks/<callback>/<name>'`);
    const cb = rest.slice(0, slash);
    const name = rest.slice(slash + 1);
    if (cb === '__proto__' || name === '__proto__')
      throw new CheckpointError(
        `${source}: tensor '${key}': a callback or tensor cannot be named '__proto__'`,
      );
    if (!Object.hasOwn(callbackTensors, cb)) callbackTensors[cb] = {};
    callbackTensors[cb][name] = t;
  }
  return {
    model,
    optimizer,
    trainer,
    callbackTensors,
    modelSpec: parts[META.modelSpec],
    config: parts[META.config],
  };
}
