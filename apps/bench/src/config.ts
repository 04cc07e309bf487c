import type { Sizes } from './types.js';

/** The MLP of the MNIST workload and its training hyperparameters (the issue's). */
const MLP = { batch: 128, layers: [784, 256, 256, 10], lr: 1e-3 } as const;

/** Full mode: the sizes the issue names (about 10-15 minutes with every contender). */
export const FULL: Sizes = {
  matmulNs: [256, 512, 1024],
  matmul: { warmup: 1, warmupMs: 300, minReps: 3, maxReps: 15, budgetMs: 1500 },
  biasAct: [1024, 1024],
  softmaxCe: [1024, 1000],
  batchNorm: [1024, 1024],
  adam: 1 << 20,
  micro: { warmup: 3, warmupMs: 200, minReps: 5, maxReps: 50, budgetMs: 1000 },
  mnistTrain: 60000,
  mnistTest: 10000,
  mnistWarmupSteps: 3,
  ...MLP,
};

/** Quick mode (CI): tiny sizes, every contender still exercised. */
export const QUICK: Sizes = {
  matmulNs: [64, 128],
  matmul: { warmup: 1, warmupMs: 20, minReps: 3, maxReps: 5, budgetMs: 60 },
  biasAct: [128, 256],
  softmaxCe: [128, 10],
  batchNorm: [128, 256],
  adam: 1 << 16,
  micro: { warmup: 1, warmupMs: 10, minReps: 3, maxReps: 10, budgetMs: 40 },
  mnistTrain: 512,
  mnistTest: 1000,
  mnistWarmupSteps: 1,
  ...MLP,
};

/** Seed of the shared MNIST data order. */
export const SEED = 42;

/** Default time limit of one MNIST epoch per contender (seconds); the epoch is cut and flagged beyond it. */
export const DEFAULT_TIME_LIMIT_S = { full: 120, quick: 20 } as const;

/** The Xvfb server arguments the GL backend needs on a headless machine. */
export const XVFB_ARGS = ['-a', '-s', '-screen 0 1280x1024x24 +extension GLX'] as const;

/** The Python interpreter tried for the PyTorch contender. */
export const DEFAULT_PYTHON = '/usr/bin/python3';
