import type { StateDict, StateEntry } from '@gradkit/tensor';
import { CheckpointError } from './checkpoint-error.js';

/** BatchNorm's buffer names before gradkit used PyTorch's, and PyTorch's. */
const RENAMES: readonly (readonly [string, string])[] = [
  ['runningMean', 'running_mean'],
  ['runningVar', 'running_var'],
  ['numBatchesTracked', 'num_batches_tracked'],
];

/**
 * Renames the BatchNorm buffers of a state dict written before gradkit used PyTorch's names
 * (checkpoint format version 1) to PyTorch's: `<prefix>runningMean` -> `<prefix>running_mean`,
 * `<prefix>runningVar` -> `<prefix>running_var`, and the float32 `<prefix>numBatchesTracked` ->
 * `<prefix>num_batches_tracked` marked `dtype: 'int64'`. A prefix is renamed only when all three
 * old keys are there (what every BatchNorm with running statistics wrote), so a custom module's
 * buffer that happens to be called `runningMean` keeps its name. Keys keep their order; every
 * other entry is returned as it is. `loadCheckpoint` (`@gradkit/trainer/node`) applies it to version-1 checkpoints
 * (the model and the callbacks' tensors), so old runs still load with `strict` key matching.
 *
 * @throws {CheckpointError} when a renamed key already exists under its new name, or an old
 *   `numBatchesTracked` is not a non-negative integer (`where` names the file).
 * @example
 * ```ts
 * const { tensors } = decodeSafetensors(readFileSync('old/model.safetensors'));
 * model.loadStateDict(migrateStateDict(tensors)); // '1.runningMean' is now '1.running_mean'
 * ```
 */
export function migrateStateDict(dict: StateDict, where = 'state dict'): StateDict {
  const renamed = new Map<string, string>();
  for (const key of Object.keys(dict)) {
    if (!key.endsWith(RENAMES[0][0])) continue;
    const prefix = key.slice(0, key.length - RENAMES[0][0].length);
    if (prefix !== '' && !prefix.endsWith('.')) continue;
    if (!RENAMES.every(([old]) => Object.hasOwn(dict, prefix + old))) continue;
    for (const [old, now] of RENAMES) {
      if (Object.hasOwn(dict, prefix + now)) {
        throw new CheckpointError(
          `${where}: both '${prefix + old}' and '${prefix + now}' are present; cannot rename the old key`,
        );
      }
      renamed.set(prefix + old, prefix + now);
    }
  }
  if (renamed.size === 0) return dict;
  const out: StateDict = {};
  for (const [key, entry] of Object.entries(dict)) {
    const now = renamed.get(key);
    if (now === undefined) {
      out[key] = entry;
    } else if (now.endsWith('num_batches_tracked')) {
      const bad = Array.from(entry.data).find((v) => !Number.isInteger(v) || v < 0);
      if (bad !== undefined) {
        throw new CheckpointError(`${where}: '${key}' must hold a non-negative integer count, got ${bad}`);
      }
      out[now] = { shape: entry.shape, data: entry.data, dtype: 'int64' } satisfies StateEntry;
    } else {
      out[now] = entry;
    }
  }
  return out;
}
