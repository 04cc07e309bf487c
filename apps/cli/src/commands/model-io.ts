import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Sequential } from '@gradkit/nn';
import { buildModel } from '@gradkit/nn';
import type { Checkpoint } from '@gradkit/trainer';
import { loadCheckpoint, registerStandardLayers, Trainer } from '@gradkit/trainer';
import type { TrainConfig } from '../config.js';
import { CliError } from '../errors.js';

/**
 * Resolves `--checkpoint`: a checkpoint directory, or a run directory (then its best checkpoint,
 * else its last), and rebuilds the model it describes with its weights.
 */
export function loadModel(path: string): {
  model: Sequential;
  ckpt: Checkpoint;
  dir: string;
  config: TrainConfig | null;
} {
  if (!existsSync(path)) throw new CliError(`--checkpoint: no such directory: ${path}`);
  let dir = path;
  if (!existsSync(join(dir, 'trainer.json'))) {
    const best = join(path, 'checkpoints', 'best');
    const last = join(path, 'checkpoints', 'last');
    if (existsSync(join(best, 'trainer.json'))) dir = best;
    else if (existsSync(join(last, 'trainer.json'))) dir = last;
    else throw new CliError(`--checkpoint: ${path} holds no gradkit checkpoint (trainer.json)`);
  }
  const ckpt = loadCheckpoint(dir);
  if (!ckpt.modelSpec)
    throw new CliError(`--checkpoint: ${dir} has no model description to rebuild the model from`);
  registerStandardLayers();
  const model = buildModel(ckpt.modelSpec as never);
  model.loadStateDict(ckpt.model);
  model.eval();
  return { model, ckpt, dir, config: (ckpt.config as unknown as TrainConfig) ?? null };
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
