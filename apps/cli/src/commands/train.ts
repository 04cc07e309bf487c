import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BackendName } from '@gradkit/kernels';
import { availableBackends, createDevice, getDevice, setDevice } from '@gradkit/kernels';
import type { ModelSpec } from '@gradkit/nn';
import { buildModel } from '@gradkit/nn';
import { sgd } from '@gradkit/optimizers';
import { manualSeed, Rng, scope, softmaxCrossEntropy, tensor } from '@gradkit/tensor';
import type { Callback, Checkpoint, Dataset, History } from '@gradkit/trainer';
import {
  EarlyStopping,
  loadCheckpoint,
  MetricsLogger,
  ModelCheckpoint,
  ProgressBar,
  registerStandardLayers,
  Trainer,
} from '@gradkit/trainer';
import { modelSpecFor, optimizerFor, tricksFor } from '../build.js';
import type { TrainConfig } from '../config.js';
import { loadData } from '../data.js';
import { resumeDataMeta } from '../data-meta.js';
import { CliError } from '../errors.js';
import { summaryTable, writeCurves } from '../report.js';

/** Picks the device for evaluation and prediction: `auto` (best available) or the named backend. */
export function useBackend(backend: TrainConfig['backend']): void {
  if (backend !== 'auto') setDevice(createDevice({ backend }));
  else getDevice();
}

/**
 * Picks the device of a training run. A named backend (flag or GRADKIT_BACKEND) is used as is.
 * `auto` times a few training steps of this very model on every backend that can start and keeps
 * the fastest: on a machine without a GPU, GL runs on a software rasterizer and the plain-JS CPU
 * backend beats gpu.js' WebAssembly, so "best available" by rank is not the fastest. Returns the
 * timings (ms per step) that decided it.
 */
export function useTrainingBackend(c: TrainConfig, spec: ModelSpec, inputs: number, classes: number): string {
  if (c.backend !== 'auto') {
    setDevice(createDevice({ backend: c.backend }));
    return '';
  }
  if (process.env.GRADKIT_BACKEND && process.env.GRADKIT_BACKEND !== 'auto') {
    getDevice();
    return '';
  }
  const timings: [BackendName, number][] = [];
  for (const b of availableBackends().filter((a) => a.available)) {
    const d = createDevice({ backend: b.name });
    setDevice(d);
    try {
      timings.push([b.name, timeSteps(spec, inputs, classes, Math.min(c.batchSize, 256))]);
    } finally {
      d.destroy();
    }
  }
  timings.sort((a, b) => a[1] - b[1]);
  setDevice(createDevice({ backend: timings[0][0] }));
  return timings.map(([n, ms]) => `${n} ${ms.toFixed(0)} ms/step`).join(', ');
}

/** Median time of a few SGD steps of the model on random data, after one warm-up step (compiles). */
function timeSteps(spec: ModelSpec, inputs: number, classes: number, batch: number): number {
  const rng = new Rng(0);
  const model = buildModel(spec, { rng });
  const optimizer = sgd(model, { lr: 0 });
  const x = rng.fillNormal(new Float32Array(batch * inputs));
  const y = Int32Array.from({ length: batch }, (_, i) => i % classes);
  const step = () =>
    scope(() => {
      const loss = softmaxCrossEntropy(model.forward(tensor(x, [batch, inputs])), y);
      loss.backward();
      optimizer.step();
      optimizer.zeroGrad();
      loss.item();
    });
  try {
    step();
    const ts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      step();
      ts.push(performance.now() - t0);
    }
    return ts.sort((a, b) => a - b)[1];
  } finally {
    model.dispose();
  }
}

function defaultOut(c: TrainConfig): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const name = c.dataset === 'mnist' ? 'mnist' : 'csv';
  return join('runs', `${name}-${stamp}`);
}

/** Runs (or, with `resumeFrom`, continues) a training run; returns the run directory. */
export function runTraining(c: TrainConfig, resumeFrom: Checkpoint | null = null, outDir?: string): string {
  // `data` (class names, feature names and statistics) is run metadata: stored, reused on resume
  const { train, test, meta } = loadData(c, resumeFrom ? resumeDataMeta(resumeFrom.config) : null);
  registerStandardLayers();
  const spec = modelSpecFor(c, train.numFeatures, train.numClasses);
  const timings = useTrainingBackend(c, spec, train.numFeatures, train.numClasses);
  const info = getDevice().info();
  const reason = timings ? `auto: fastest measured for this model (${timings})` : info.reason;
  const out = resolve(outDir ?? c.out ?? defaultOut(c));
  mkdirSync(out, { recursive: true });
  process.stderr.write(`gradkit train: backend ${info.name} (${reason}); output ${out}\n`);

  manualSeed(c.seed);
  const model = buildModel(spec, { rng: new Rng(c.seed) });
  const optimizer = optimizerFor(c, model);
  const trainRows = c.validationSplit > 0 ? Math.round(train.length * (1 - c.validationSplit)) : train.length;
  const stepsPerEpoch = Math.ceil(trainRows / c.batchSize);
  const tricks = tricksFor(c, stepsPerEpoch);
  const trainer = new Trainer({
    model,
    optimizer,
    ...(tricks.penalty ? { penalty: tricks.penalty } : {}),
    gradientHooks: tricks.gradientHooks,
    constraints: tricks.constraints,
    modelSpec: spec as never,
    config: { ...c, data: meta } as never,
  });
  if (!resumeFrom) {
    writeFileSync(
      join(out, 'config.json'),
      `${JSON.stringify({ ...c, out, backend: c.backend, data: meta, device: { ...info, reason }, gradkit: versions() }, null, 2)}\n`,
    );
  } else {
    trainer.restore(resumeFrom);
  }
  const callbacks: Callback[] = [
    ...tricks.callbacks,
    new ProgressBar(),
    new MetricsLogger({ path: join(out, 'metrics.jsonl'), append: resumeFrom !== null }),
  ];
  let early: EarlyStopping | null = null;
  if (c.patience > 0) {
    early = new EarlyStopping({ patience: c.patience, restoreBestWeights: true });
    callbacks.push(early);
  }
  callbacks.push(new ModelCheckpoint({ dir: join(out, 'checkpoints') }));
  const t0 = performance.now();
  let history: History;
  try {
    history = trainer.fit(train, {
      epochs: c.epochs,
      batchSize: c.batchSize,
      seed: c.seed,
      ...(c.validationSplit > 0 ? { validationSplit: c.validationSplit } : {}),
      callbacks,
    });
  } finally {
    if (trainer.history.length)
      writeCurves(join(out, 'curves.svg'), `gradkit: ${describe(c)}`, trainer.history);
  }
  const seconds = (performance.now() - t0) / 1000;
  const testResult = test ? trainer.evaluate(test) : null;
  writeCurves(join(out, 'curves.svg'), `gradkit: ${describe(c)}`, history.epochs, testResult?.accuracy);
  const last = history.epochs[history.epochs.length - 1];
  const monitor = history.epochs.some((r) => r.logs.val_loss !== undefined) ? 'val_loss' : 'loss';
  const best = history.epochs.reduce((a, b) => (b.logs[monitor] < a.logs[monitor] ? b : a));
  const summary = {
    epochs: history.epochs.length,
    stopReason: history.stopReason,
    bestEpoch: best.epoch,
    bestMonitor: monitor,
    best: best.logs,
    last: last.logs,
    test: testResult,
    seconds,
    trainSamplesPerSecond: (trainRows * (history.epochs.length - (resumeFrom?.trainer.epoch ?? 0))) / seconds,
    backend: info.name,
  };
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const rows: [string, string][] = [
    ['model', describe(c)],
    ['backend', `${info.name} (${info.gpuMode})${timings ? `: fastest of ${timings}` : ''}`],
    ['epochs', `${history.epochs.length} (${history.stopReason})`],
    [`best epoch (${monitor})`, `${best.epoch}: ${monitor} ${best.logs[monitor].toFixed(4)}`],
    ['final train loss / acc', `${last.logs.loss.toFixed(4)} / ${(100 * last.logs.accuracy).toFixed(2)}%`],
  ];
  if (last.logs.val_accuracy !== undefined)
    rows.push(['final val acc', `${(100 * last.logs.val_accuracy).toFixed(2)}%`]);
  if (early?.restoreBestWeights && early.bestEpoch)
    rows.push(['weights', `restored from epoch ${early.bestEpoch}`]);
  if (testResult) {
    rows.push(['test loss', testResult.loss.toFixed(4)]);
    rows.push([
      'test accuracy',
      `${(100 * testResult.accuracy).toFixed(2)}% (error ${(100 * (1 - testResult.accuracy)).toFixed(2)}%)`,
    ]);
  }
  rows.push([
    'time',
    `${seconds.toFixed(1)} s (${Math.round(summary.trainSamplesPerSecond)} train samples/s)`,
  ]);
  rows.push(['output', out]);
  process.stdout.write(`${summaryTable(rows)}\n`);
  return out;
}

/** One-line description of a config's model and optimizer. */
export function describe(c: TrainConfig): string {
  const parts = [
    `MLP ${[c.dataset === 'mnist' ? 784 : 'in', ...c.hidden, c.dataset === 'mnist' ? 10 : 'out'].join('-')} ${c.activation}`,
  ];
  if (c.norm !== 'none') parts.push(`${c.norm} norm`);
  if (c.dropout > 0 || c.inputDropout > 0) parts.push(`dropout ${c.inputDropout}/${c.dropout}`);
  parts.push(`${c.optimizer} lr ${c.lr}`);
  if (c.schedule !== 'constant') parts.push(`${c.schedule} schedule`);
  return parts.join(', ');
}

/** Continues the run in `dir` from its last checkpoint (optionally up to more epochs). */
export function resumeRun(dir: string, epochs: number | null): string {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath))
    throw new CliError(`resume: ${dir} is not a gradkit run directory (no config.json)`);
  const ckptDir = join(dir, 'checkpoints', 'last');
  if (!existsSync(ckptDir))
    throw new CliError(`resume: ${dir} has no checkpoint to resume from (${ckptDir})`);
  const ckpt = loadCheckpoint(ckptDir);
  const cfg = { ...(ckpt.config as unknown as TrainConfig) };
  const saved = JSON.parse(readFileSync(cfgPath, 'utf8')) as { device?: { name?: TrainConfig['backend'] } };
  // continue on the backend the run used, so the resumed run computes exactly as the original
  if (saved.device?.name) cfg.backend = saved.device.name;
  if (epochs !== null) cfg.epochs = epochs;
  if (ckpt.trainer.epoch >= cfg.epochs) {
    throw new CliError(
      `resume: the run already has ${ckpt.trainer.epoch} of ${cfg.epochs} epochs; pass --epochs N with N > ${ckpt.trainer.epoch}`,
    );
  }
  return runTraining(cfg, ckpt, dir);
}

/** Package versions, for config.json and `gradkit info`. */
export function versions(): Record<string, string> {
  return { node: process.version };
}

export type { Dataset };
