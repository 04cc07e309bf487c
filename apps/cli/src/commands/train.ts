import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BackendName } from '@gradkit/kernels';
import { availableBackends, createDevice, getDevice, setDevice } from '@gradkit/kernels';
import type { ModelSpec } from '@gradkit/nn';
import { buildModel } from '@gradkit/nn';
import { sgd } from '@gradkit/optimizers';
import { manualSeed, Rng, scope, softmaxCrossEntropy, tensor } from '@gradkit/tensor';
import type { Callback, Checkpoint, Dataset, History } from '@gradkit/trainer';
import { EarlyStopping, ProgressBar, registerStandardLayers, Trainer } from '@gradkit/trainer';
import { loadCheckpoint, MetricsLogger, ModelCheckpoint, writeFileAtomic } from '@gradkit/trainer/node';
import { modelSpecFor, optimizerFor, tricksFor } from '../build.js';
import type { TrainConfig } from '../config.js';
import { CHOICES_OF_BACKEND, configFromRun, isCnn, storedConfig } from '../config.js';
import { loadData } from '../data.js';
import { resumeDataMeta } from '../data-meta.js';
import { CliError } from '../errors.js';
import { summaryTable, writeCurves } from '../report.js';
import type { RunDirMode } from '../run-dir.js';
import {
  checkRunDirectory,
  clearRunFiles,
  createRunDirectory,
  keepRunDirectory,
  unusedPath,
} from '../run-dir.js';
import type { DataShape } from '../tensor-limits.js';
import { checkCnnFits, checkModelFits } from '../tensor-limits.js';

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
 *
 * Before anything is allocated on a device, the model and its batches are checked against the
 * device's per-kernel limit (`maxKernelElements`, else `maxElements`; see `checkModelFits`: the
 * gl backend holds larger arrays in tiles, which not every op takes): a named backend that cannot
 * hold them is an
 * error naming the flag and the limit; `auto` leaves out the backends that cannot (and fails with
 * the first one's reason when none can).
 */
export function useTrainingBackend(
  c: TrainConfig,
  spec: ModelSpec,
  inputs: number,
  classes: number,
  rows = Math.max(c.batchSize, 256),
  sampleShape: readonly number[] = [inputs],
): string {
  const shape: DataShape = { inputs, classes, rows };
  const fits = (d: ReturnType<typeof getDevice>) => {
    const info = d.info();
    const limit = { backend: info.name, maxElements: info.maxKernelElements ?? info.maxElements };
    if (isCnn(c)) checkCnnFits(c, spec as never, sampleShape, rows, limit);
    else checkModelFits(c, shape, limit);
  };
  if (c.backend !== 'auto') {
    const d = createDevice({ backend: c.backend });
    try {
      fits(d);
    } catch (e) {
      d.destroy();
      throw e;
    }
    setDevice(d);
    return '';
  }
  if (process.env.GRADKIT_BACKEND && process.env.GRADKIT_BACKEND !== 'auto') {
    fits(getDevice());
    return '';
  }
  const timings: [BackendName, number][] = [];
  let refusal: unknown = null;
  for (const b of availableBackends().filter((a) => a.available)) {
    const d = createDevice({ backend: b.name });
    try {
      fits(d);
    } catch (e) {
      refusal ??= e;
      d.destroy();
      continue;
    }
    setDevice(d);
    try {
      timings.push([b.name, timeSteps(spec, sampleShape, classes, Math.min(c.batchSize, 256))]);
    } finally {
      d.destroy();
    }
  }
  if (timings.length === 0) throw refusal ?? new CliError('no backend can start here (see gradkit info)', 1);
  timings.sort((a, b) => a[1] - b[1]);
  setDevice(createDevice({ backend: timings[0][0] }));
  return timings.map(([n, ms]) => `${n} ${ms.toFixed(0)} ms/step`).join(', ');
}

/** Median time of a few SGD steps of the model on random data, after one warm-up step (compiles). */
function timeSteps(spec: ModelSpec, sampleShape: readonly number[], classes: number, batch: number): number {
  const rng = new Rng(0);
  const model = buildModel(spec, { rng });
  const optimizer = sgd(model, { lr: 0 });
  const x = rng.fillNormal(new Float32Array(batch * sampleShape.reduce((a, b) => a * b, 1)));
  const y = Int32Array.from({ length: batch }, (_, i) => i % classes);
  const step = () =>
    scope(() => {
      const loss = softmaxCrossEntropy(model.forward(tensor(x, [batch, ...sampleShape])), y);
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
  return unusedPath(join('runs', `${name}-${stamp}`)); // two runs in one second get two directories
}

/** Options of {@link runTraining}. */
export interface RunOptions {
  /** `--overwrite`: a non-empty output directory is reused, its run files replaced. */
  readonly overwrite?: boolean;
}

/**
 * Runs (or, with `resumeFrom`, continues) a training run; returns the run directory.
 *
 * Order matters for "nothing half-written": the output directory is checked first (a new run
 * needs a new or empty one, or `--overwrite`; a resumed one must hold no symbolic links where
 * gradkit writes), then the data is read and the model checked against the backend's limits,
 * and only then is the directory created. Every file in it is written atomically (temporary file
 * + rename, which replaces a link instead of following it); if the run fails before its first
 * checkpoint, the directory this invocation created is removed again (see `abandonRunDirectory`).
 */
export function runTraining(
  c: TrainConfig,
  resumeFrom: Checkpoint | null = null,
  outDir?: string,
  options: RunOptions = {},
): string {
  const out = resolve(outDir ?? c.out ?? defaultOut(c));
  const mode: RunDirMode = resumeFrom ? 'resume' : options.overwrite ? 'overwrite' : 'new';
  checkRunDirectory(out, mode);
  // `data` (class names, feature names and statistics) is run metadata: stored, reused on resume
  const { train, test, meta } = loadData(c, resumeFrom ? resumeDataMeta(resumeFrom.config) : null);
  registerStandardLayers();
  const spec = modelSpecFor(c, train.numFeatures, train.numClasses, train.sampleShape);
  const largest = Math.max(train.length, test?.length ?? 0);
  const timings = useTrainingBackend(
    c,
    spec,
    train.numFeatures,
    train.numClasses,
    largest,
    train.sampleShape,
  );
  const info = getDevice().info();
  const reason = timings ? `auto: fastest measured for this model (${timings})` : info.reason;
  if (mode === 'overwrite' && existsSync(out)) clearRunFiles(out);
  createRunDirectory(out);
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
    config: { ...storedConfig(c), data: meta } as never,
  });
  if (!resumeFrom) {
    writeFileAtomic(
      join(out, 'config.json'),
      `${JSON.stringify({ ...storedConfig(c), out, backend: c.backend, data: meta, device: { ...info, reason }, gradkit: versions() }, null, 2)}\n`,
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
      // a batch larger than the data is the whole data (as PyTorch's DataLoader): never allocated larger
      batchSize: Math.min(c.batchSize, Math.max(train.length, 1)),
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
  if (testResult && !Number.isFinite(testResult.loss)) {
    // never a non-finite result with exit 0: the weights were finite (fit checked them) but
    // the model overflows on the test data
    throw new CliError(
      `test loss is ${testResult.loss} on ${c.test === 'default' ? 'the test set' : c.test}: the model overflows on ` +
        'the test data (or that data holds non-finite values); the checkpoints are kept, no summary written',
      1,
    );
  }
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
  writeFileAtomic(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  keepRunDirectory();
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
  const parts =
    c.model === 'lenet5'
      ? [`LeNet-5 (${c.activation}, max-pool) 1x28x28-6c5-p2-16c5-p2-120-84-10`]
      : c.model === 'cnn'
        ? [`CNN (${c.activation}, max-pool) 1x28x28-8c3-p2-16c3-p2-32c3-p2-128-10`]
        : [
            `MLP ${[c.dataset === 'mnist' ? 784 : 'in', ...c.hidden, c.dataset === 'mnist' ? 10 : 'out'].join('-')} ${c.activation}`,
          ];
  if (c.norm !== 'none') parts.push(`${c.norm} norm`);
  if (c.dropout > 0 || c.inputDropout > 0) parts.push(`dropout ${c.inputDropout}/${c.dropout}`);
  parts.push(`${c.optimizer} lr ${c.lr}`);
  if (c.schedule !== 'constant') parts.push(`${c.schedule} schedule`);
  return parts.join(', ');
}

/**
 * Continues the run in `dir` from its last checkpoint (optionally up to more epochs), with the
 * run's own config (from the checkpoint, checked as flags are) on the backend it used (from
 * config.json). A checkpoint a kill left half-replaced is recovered by `loadCheckpoint`;
 * metrics.jsonl is trimmed to the checkpoint's epoch by the MetricsLogger.
 */
export function resumeRun(dir: string, epochs: number | null): string {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath))
    throw new CliError(`resume: ${dir} is not a gradkit run directory (no config.json)`);
  checkRunDirectory(dir, 'resume');
  if (!statSync(cfgPath).isFile() || statSync(cfgPath).size > 1 << 20)
    throw new CliError(`resume: ${cfgPath} is not a gradkit run config`, 1);
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(cfgPath, 'utf8'));
  } catch (e) {
    throw new CliError(`resume: ${cfgPath}: not valid JSON (${(e as Error).message})`, 1);
  }
  if (typeof saved !== 'object' || saved === null || Array.isArray(saved))
    throw new CliError(`resume: ${cfgPath}: expected a JSON object`, 1);
  configFromRun(saved, `resume: ${cfgPath}`); // a corrupt config.json is reported, not half-used
  const device = (saved as { device?: unknown }).device;
  const deviceName =
    typeof device === 'object' && device !== null ? (device as { name?: unknown }).name : undefined;
  if (
    deviceName !== undefined &&
    !(typeof deviceName === 'string' && CHOICES_OF_BACKEND.includes(deviceName))
  )
    throw new CliError(
      `resume: ${cfgPath}: "device.name" must be one of gl, wasm, cpu, got ${JSON.stringify(deviceName)}`,
      1,
    );
  const ckptDir = join(dir, 'checkpoints', 'last');
  let ckpt: Checkpoint;
  try {
    ckpt = loadCheckpoint(ckptDir);
  } catch (e) {
    if (e instanceof Error && /no such checkpoint directory/.test(e.message))
      throw new CliError(`resume: ${dir} has no checkpoint to resume from (${ckptDir})`);
    throw e;
  }
  const cfg = configFromRun(ckpt.config, `resume: ${join(ckptDir, 'trainer.json')} config`);
  // continue on the backend the run used, so the resumed run computes exactly as the original
  if (typeof deviceName === 'string') cfg.backend = deviceName as TrainConfig['backend'];
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
