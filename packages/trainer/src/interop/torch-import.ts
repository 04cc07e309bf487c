import { readFileSync } from 'node:fs';
import type { LoadStateDictResult, Module, StateDict } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import { CheckpointError } from '../checkpoint/checkpoint-error.js';
import { decodeSafetensors } from '../checkpoint/safetensors.js';

/** Options of {@link readTorchStateDict} and {@link loadTorchStateDict}. */
export interface TorchStateDictOptions {
  /**
   * A prefix every key must have and that is removed, for a state dict saved from a wrapper:
   * `'module.'` for `DistributedDataParallel`/`DataParallel`, `'net.'` for a model held as
   * `self.net`. Default `''` (keys as they are).
   */
  readonly stripPrefix?: string;
}

/** Options of {@link loadTorchStateDict}. */
export interface LoadTorchStateDictOptions extends TorchStateDictOptions {
  /** Require exactly the model's keys (default true), as `load_state_dict(strict=True)`. */
  readonly strict?: boolean;
}

/**
 * A PyTorch state dict saved as safetensors (`safetensors.torch.save_file(model.state_dict(),
 * path)`, or `save()` of an exported `model.py`) as a gradkit {@link StateDict}: F32 tensors as
 * they are, `I64` ones (`num_batches_tracked`) as `'int64'` entries, F64/F16/BF16 and other
 * integers converted to float32 (as `load_state_dict` copies into float32 parameters).
 * `source` names the data in error messages.
 *
 * @throws {SafetensorsError} (a {@link CheckpointError}) for a malformed file;
 *   {@link CheckpointError} when a key lacks `stripPrefix`.
 * @see https://huggingface.co/docs/safetensors/api/torch
 * @example
 * ```ts
 * const sd = readTorchStateDict(readFileSync('trained.safetensors'), 'trained.safetensors');
 * model.loadStateDict(sd); // strict: every key of the model, none other
 * ```
 */
export function readTorchStateDict(
  bytes: Uint8Array,
  source = 'safetensors data',
  options: TorchStateDictOptions = {},
): StateDict {
  const prefix = options.stripPrefix ?? '';
  if (typeof prefix !== 'string')
    throw new ValueError('readTorchStateDict', `stripPrefix must be a string, got ${JSON.stringify(prefix)}`);
  const { tensors } = decodeSafetensors(bytes, source);
  if (prefix === '') return tensors;
  const out: StateDict = {};
  for (const [k, v] of Object.entries(tensors)) {
    if (!k.startsWith(prefix))
      throw new CheckpointError(`${source}: tensor '${k}' does not start with the prefix '${prefix}'`);
    out[k.slice(prefix.length)] = v;
  }
  return out;
}

/**
 * Loads a PyTorch state dict saved as safetensors into a gradkit model (usually built from the
 * same model description the PyTorch model was exported from): {@link readTorchStateDict} on the
 * file, then {@link Module.loadStateDict}, strict by default, which checks every key and shape
 * before anything is written.
 *
 * @param model the gradkit model (`buildModel(spec)`), whose state dict keys are PyTorch's.
 * @param path the `.safetensors` file.
 * @throws {CheckpointError} for a missing or malformed file; `ValueError` for missing or
 *   unexpected keys (strict); `ShapeError` naming a key whose shape differs.
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.Module.html#torch.nn.Module.load_state_dict
 * @example
 * ```ts
 * // python: model.save(net, "trained.safetensors")   (or safetensors.torch.save_file(net.state_dict(), ...))
 * const model = buildModel(spec);
 * loadTorchStateDict(model, 'trained.safetensors');
 * model.eval();
 * ```
 */
export function loadTorchStateDict(
  model: Module<never, unknown>,
  path: string,
  options: LoadTorchStateDictOptions = {},
): LoadStateDictResult {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(
      `${path}: cannot read the state dict (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const sd = readTorchStateDict(bytes, path, options);
  return model.loadStateDict(sd, { strict: options.strict ?? true });
}
