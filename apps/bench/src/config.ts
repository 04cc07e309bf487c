import type { ConvCase, Sizes } from './types.js';

/** The MLP of the MNIST workload and its training hyperparameters (the issue's). */
const MLP = { batch: 128, layers: [784, 256, 256, 10], lr: 1e-3 } as const;

const conv = (
  name: string,
  batch: number,
  channels: number,
  hw: number,
  outChannels: number,
  kernel: number,
  padding: number,
  groups: number,
): ConvCase => ({
  name,
  kind: 'conv2d',
  batch,
  channels,
  height: hw,
  width: hw,
  outChannels,
  kernel,
  stride: 1,
  padding,
  groups,
});
const maxPool = (name: string, batch: number, channels: number, hw: number, k: number): ConvCase => ({
  name,
  kind: 'maxpool2d',
  batch,
  channels,
  height: hw,
  width: hw,
  outChannels: channels,
  kernel: k,
  stride: k,
  padding: 0,
  groups: 1,
});

/**
 * The conv workload of the issue: batch 64 of 32x28x28 -> 64 channels 3x3 (padding 1), a depthwise
 * 3x3 at the resulting 64x28x28, the first layer of a small MNIST CNN (1 -> 32 channels 5x5, the
 * GEMM-unfriendly K = 25), and a 2x2 max-pool of 64x28x28.
 */
export const FULL_CONV: readonly ConvCase[] = [
  conv('conv3x3', 64, 32, 28, 64, 3, 1, 1),
  conv('depthwise3x3', 64, 64, 28, 64, 3, 1, 64),
  conv('conv5x5-c1', 64, 1, 28, 32, 5, 2, 1),
  maxPool('maxpool2x2', 64, 64, 28, 2),
];

/** Quick mode: the same four cases at tiny sizes (every code path, a few milliseconds each). */
export const QUICK_CONV: readonly ConvCase[] = [
  conv('conv3x3', 2, 4, 8, 8, 3, 1, 1),
  conv('depthwise3x3', 2, 8, 8, 8, 3, 1, 8),
  conv('conv5x5-c1', 2, 1, 8, 4, 5, 2, 1),
  maxPool('maxpool2x2', 2, 8, 8, 2),
];

/**
 * Conv: a contender whose first forward + backward run takes at least this long (TF.js cpu's
 * weight gradient runs at about 0.01 GFLOP/s: minutes per call at batch 64) is timed by that one
 * run instead of repetitions.
 */
export const CONV_SINGLE_RUN_MS = 15_000;

/** Full mode: the sizes the issues name (about 35-40 minutes with every contender on 2 cores). */
export const FULL: Sizes = {
  matmulNs: [256, 512, 1024],
  matmul: { warmup: 1, warmupMs: 300, minReps: 3, maxReps: 15, budgetMs: 1500 },
  biasAct: [1024, 1024],
  softmaxCe: [1024, 1000],
  batchNorm: [1024, 1024],
  adam: 1 << 20,
  micro: { warmup: 3, warmupMs: 200, minReps: 5, maxReps: 50, budgetMs: 1000 },
  convCases: FULL_CONV,
  conv: { warmup: 1, warmupMs: 300, minReps: 3, maxReps: 10, budgetMs: 2000 },
  convSingleRunMs: CONV_SINGLE_RUN_MS,
  mnistTrain: 60000,
  mnistTest: 10000,
  // 7: past gradkit wasm's thread-policy probes (each product shape 3 times on one thread, 3 split)
  mnistWarmupSteps: 7,
  ...MLP,
  // LeNet-5 (the CLI's --model lenet5): the real epoch, batch 128 as `gradkit train`
  cnnTrain: 60000,
  cnnTest: 10000,
  cnnBatch: 128,
  cnnWarmupSteps: 7,
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
  convCases: QUICK_CONV,
  conv: { warmup: 1, warmupMs: 0, minReps: 2, maxReps: 3, budgetMs: 10 },
  convSingleRunMs: CONV_SINGLE_RUN_MS,
  mnistTrain: 512,
  mnistTest: 1000,
  mnistWarmupSteps: 1,
  ...MLP,
  // batch 32: TF.js cpu needs about 2 s per LeNet-5 step of 32 images (its weight gradient)
  cnnTrain: 256,
  cnnTest: 256,
  cnnBatch: 32,
  cnnWarmupSteps: 1,
};

/** Seed of the shared MNIST data order. */
export const SEED = 42;

/** Default time limit of one MNIST epoch per contender (seconds); the epoch is cut and flagged beyond it. */
export const DEFAULT_TIME_LIMIT_S = { full: 120, quick: 20 } as const;

/**
 * Default time limit of one cnn (LeNet-5) epoch per contender (seconds). Full: long enough for
 * gradkit's CPU backends and PyTorch to finish the epoch on 2 cores; TF.js cpu (several seconds per
 * step) and gl on a software renderer are cut. Quick: the slice is a few batches; TF.js cpu is cut
 * after a few of its steps so that CI stays short.
 */
export const DEFAULT_CNN_TIME_LIMIT_S = { full: 240, quick: 4 } as const;

/** The Xvfb server arguments the GL backend needs on a headless machine. */
export const XVFB_ARGS = ['-a', '-s', '-screen 0 1280x1024x24 +extension GLX'] as const;

/** The Python interpreter tried for the PyTorch contender. */
export const DEFAULT_PYTHON = '/usr/bin/python3';
