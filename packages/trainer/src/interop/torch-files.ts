import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerSpec, ModelSpec } from '@gradkit/nn';
import type { LoadStateDictResult, Module, StateDict } from '@gradkit/tensor';
import { writeFileAtomic } from '../checkpoint/atomic.js';
import { CheckpointError } from '../checkpoint/checkpoint-error.js';
import type { ExportTorchOptions } from './torch-export.js';
import { exportTorch } from './torch-export.js';
import type { TorchStateDictOptions } from './torch-import.js';
import { readTorchStateDict } from './torch-import.js';

// The file-system side of the PyTorch interop (Node only, `@gradkit/trainer/node`).

/** Options of {@link loadTorchStateDict}. */
export interface LoadTorchStateDictOptions extends TorchStateDictOptions {
  /** Require exactly the model's keys (default true), as `load_state_dict(strict=True)`. */
  readonly strict?: boolean;
}

/** The files {@link writeTorchExport} wrote. */
export interface TorchExportFiles {
  /** Path of `model.py`. */
  readonly source: string;
  /** Path of the weights (`model.safetensors`). */
  readonly weights: string;
}

/**
 * {@link exportTorch} into directory `dir` (created if needed): `model.py` and
 * `model.safetensors` (or `options.weightsFile`), each written atomically (temporary file +
 * rename) after every check passed.
 *
 * @throws as {@link exportTorch}; file-system errors as thrown by Node.
 * @example
 * ```ts
 * writeTorchExport('export/torch', describeModel(model), model.stateDict());
 * // cd export/torch && python -c "import model; print(model.load())"
 * ```
 */
export function writeTorchExport(
  dir: string,
  spec: ModelSpec | readonly LayerSpec[],
  stateDict: StateDict,
  options: ExportTorchOptions = {},
): TorchExportFiles {
  const { source, weights } = exportTorch(spec, stateDict, options);
  mkdirSync(dir, { recursive: true });
  const files = {
    source: join(dir, 'model.py'),
    weights: join(dir, options.weightsFile ?? 'model.safetensors'),
  };
  writeFileAtomic(files.weights, weights);
  writeFileAtomic(files.source, source);
  return files;
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
