import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerSpec, ModelSpec } from '@gradkit/nn';
import type { OptimizerStateDict } from '@gradkit/optimizers';
import type { LoadStateDictResult, Module, StateDict } from '@gradkit/tensor';
import { writeFileAtomic } from '../checkpoint/atomic.js';
import { CheckpointError } from '../checkpoint/checkpoint-error.js';
import type { ExportTorchOptions } from './torch-export.js';
import { exportTorch } from './torch-export.js';
import type { TorchStateDictOptions } from './torch-import.js';
import { readTorchStateDict } from './torch-import.js';
import { decodeTorchOptimizer, encodeTorchOptimizer } from './torch-optim.js';

// The file-system side of the PyTorch interop (Node only, `@gradkit/trainer/node`).

/** Options of {@link loadTorchStateDict}. */
export interface LoadTorchStateDictOptions extends TorchStateDictOptions {
  /** Require exactly the model's keys (default true), as `load_state_dict(strict=True)`. */
  readonly strict?: boolean;
}

/** Options of {@link writeTorchExport}: those of `exportTorch` and the optimizer state. */
export interface WriteTorchExportOptions extends ExportTorchOptions {
  /**
   * An optimizer state to write beside the model in PyTorch's format (`optimizer.json` and
   * `optimizer.safetensors`, see `encodeTorchOptimizer`; SGD, Adam and AdamW only), which
   * `model.load_optimizer(net)` reads. Default: none.
   */
  readonly optimizer?: OptimizerStateDict;
}

/** The files {@link writeTorchExport} wrote. */
export interface TorchExportFiles {
  /** Path of `model.py`. */
  readonly source: string;
  /** Path of the weights (`model.safetensors`). */
  readonly weights: string;
  /** Paths of the optimizer state, when `options.optimizer` was given. */
  readonly optimizer?: { readonly json: string; readonly tensors: string };
}

/**
 * {@link exportTorch} into directory `dir` (created if needed): `model.py` and
 * `model.safetensors` (or `options.weightsFile`), and with `options.optimizer` the optimizer
 * state as `optimizer.json` + `optimizer.safetensors` (PyTorch's `optimizer.state_dict()` format,
 * see `encodeTorchOptimizer`), each written atomically (temporary file + rename) after every
 * check passed.
 *
 * @throws as {@link exportTorch}; `TorchOptimizerMappingError` for an optimizer state with no
 *   PyTorch equivalent (nothing written); file-system errors as thrown by Node.
 * @example
 * ```ts
 * writeTorchExport('export/torch', describeModel(model), model.stateDict(), { optimizer: opt.stateDict() });
 * // cd export/torch && python -c "import model; net = model.load(); print(model.load_optimizer(net))"
 * ```
 */
export function writeTorchExport(
  dir: string,
  spec: ModelSpec | readonly LayerSpec[],
  stateDict: StateDict,
  options: WriteTorchExportOptions = {},
): TorchExportFiles {
  const { optimizer, ...exportOptions } = options;
  const { source, weights } = exportTorch(spec, stateDict, exportOptions);
  const opt = optimizer === undefined ? null : encodeTorchOptimizer(optimizer);
  mkdirSync(dir, { recursive: true });
  const files = {
    source: join(dir, 'model.py'),
    weights: join(dir, options.weightsFile ?? 'model.safetensors'),
  };
  writeFileAtomic(files.weights, weights);
  let optimizerFiles: TorchExportFiles['optimizer'];
  if (opt) {
    optimizerFiles = { json: join(dir, 'optimizer.json'), tensors: join(dir, 'optimizer.safetensors') };
    writeFileAtomic(optimizerFiles.tensors, opt.tensors);
    writeFileAtomic(optimizerFiles.json, opt.json);
  }
  writeFileAtomic(files.source, source);
  return optimizerFiles ? { ...files, optimizer: optimizerFiles } : files;
}

/**
 * Reads an optimizer state in PyTorch's format from `stem.json` + `stem.safetensors` (as
 * `save_optimizer(opt, net, stem)` of an exported `model.py` writes it, or an export's
 * `optimizer`) as a gradkit optimizer state dict, for `optimizer.loadStateDict` of the same
 * gradkit optimizer over the same model (see `decodeTorchOptimizer`).
 *
 * @throws {CheckpointError} for a missing or malformed file; `TorchOptimizerMappingError` for a
 *   PyTorch optimizer or option gradkit does not map.
 * @example
 * ```ts
 * const opt = adam(model);
 * opt.loadStateDict(loadTorchOptimizer('from-torch/trained-optimizer'));
 * ```
 */
export function loadTorchOptimizer(stem: string): OptimizerStateDict {
  const read = (path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new CheckpointError(
        `${path}: cannot read the optimizer state (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  };
  const json = read(`${stem}.json`).toString('utf8');
  return decodeTorchOptimizer(json, read(`${stem}.safetensors`), `${stem}.safetensors`);
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
