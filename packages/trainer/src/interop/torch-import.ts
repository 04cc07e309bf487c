import type { StateDict } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import { CheckpointError } from '../checkpoint/checkpoint-error.js';
import { decodeSafetensors } from '../checkpoint/safetensors.js';

/** Options of {@link readTorchStateDict} (and `loadTorchStateDict` of `@gradkit/trainer/node`). */
export interface TorchStateDictOptions {
  /**
   * A prefix every key must have and that is removed, for a state dict saved from a wrapper:
   * `'module.'` for `DistributedDataParallel`/`DataParallel`, `'net.'` for a model held as
   * `self.net`. Default `''` (keys as they are).
   */
  readonly stripPrefix?: string;
}

/**
 * A PyTorch state dict saved as safetensors (`safetensors.torch.save_file(model.state_dict(),
 * path)`, or `save()` of an exported `model.py`) as a gradkit {@link StateDict}: F32 tensors as
 * they are, `I64` ones (`num_batches_tracked`) as `'int64'` entries, F64/F16/BF16 and other
 * integers converted to float32 (as `load_state_dict` copies into float32 parameters).
 * `source` names the data in error messages.
 *
 * @throws {SafetensorsError} (a {@link CheckpointError}) for a malformed file;
 *   {@link CheckpointError} when a key lacks `stripPrefix` or a tensor holds NaN or ±Infinity
 *   (as `exportTorch` refuses them on the way out).
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
  // weights with NaN or ±Infinity would go on into a checkpoint (which never holds one)
  for (const [k, v] of Object.entries(tensors)) {
    const bad = v.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0)
      throw new CheckpointError(
        `${source}: tensor '${k}' holds a non-finite value (${v.data[bad]} at index ${bad})`,
      );
  }
  if (prefix === '') return tensors;
  const out: StateDict = {};
  for (const [k, v] of Object.entries(tensors)) {
    if (!k.startsWith(prefix))
      throw new CheckpointError(`${source}: tensor '${k}' does not start with the prefix '${prefix}'`);
    out[k.slice(prefix.length)] = v;
  }
  return out;
}
