import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Sequential } from '@gradkit/nn';
import { buildModel } from '@gradkit/nn';
import { GradkitError } from '@gradkit/tensor';
import type { Checkpoint } from '@gradkit/trainer';
import { registerStandardLayers, Trainer } from '@gradkit/trainer';
import { loadCheckpoint } from '@gradkit/trainer/node';
import type { TrainConfig } from '../config.js';
import { configFromRun } from '../config.js';
import { CliError } from '../errors.js';

/**
 * Resolves `--checkpoint`: a checkpoint directory, or a run directory (then its best checkpoint,
 * else its last), and rebuilds the model it describes with its weights. Only `trainer.json` and
 * `model.safetensors` are read (`loadCheckpoint(dir, { training: false })`): the optimizer state
 * does not matter for evaluation and prediction. The run's config stored in the checkpoint gets
 * the checks flags get (`configFromRun`); a bad one, or a model description that does not build,
 * is a one-line error with exit code 1.
 */
export function loadModel(path: string): {
  model: Sequential;
  ckpt: Checkpoint;
  dir: string;
  config: TrainConfig | null;
} {
  if (!existsSync(path)) throw new CliError(`--checkpoint: no such directory: ${path}`);
  if (!statSync(path).isDirectory()) throw new CliError(`--checkpoint: not a directory: ${path}`);
  let dir = path;
  if (!existsSync(join(dir, 'trainer.json'))) {
    const best = join(path, 'checkpoints', 'best');
    const last = join(path, 'checkpoints', 'last');
    if (existsSync(join(best, 'trainer.json'))) dir = best;
    else if (existsSync(join(last, 'trainer.json')) || existsSync(join(path, 'checkpoints'))) dir = last;
    else throw new CliError(`--checkpoint: ${path} holds no gradkit checkpoint (trainer.json)`);
  }
  let ckpt: Checkpoint;
  try {
    ckpt = loadCheckpoint(dir, { training: false });
  } catch (e) {
    if (dir !== path && e instanceof Error && /no such checkpoint directory/.test(e.message))
      throw new CliError(`--checkpoint: ${path} holds no gradkit checkpoint (trainer.json)`);
    throw e;
  }
  if (!ckpt.modelSpec)
    throw new CliError(`--checkpoint: ${dir} has no model description to rebuild the model from`, 1);
  const config =
    ckpt.config === null
      ? null
      : configFromRun(ckpt.config, `--checkpoint ${join(dir, 'trainer.json')} config`);
  registerStandardLayers();
  let model: Sequential;
  try {
    model = buildModel(ckpt.modelSpec as never);
  } catch (e) {
    if (e instanceof GradkitError) throw e;
    throw new CliError(
      `--checkpoint ${join(dir, 'trainer.json')}: the model description does not build (${(e as Error).message})`,
      1,
    );
  }
  model.loadStateDict(ckpt.model);
  model.eval();
  return { model, ckpt, dir, config };
}

/** A trainer for inference only (evaluate / predict): its optimizer does nothing. */
export function inferenceTrainer(model: Sequential): Trainer {
  const optimizer = {
    step() {},
    zeroGrad() {},
    getLr: () => 0,
    setLr() {},
    stateDict: () => ({}),
    loadStateDict() {},
  };
  return new Trainer({ model, optimizer });
}
