import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError } from '@gradkit/trainer';
import { readCsv, readIdx } from '@gradkit/trainer/node';
import { parseCommand } from '../args.js';
import { coerce } from '../config.js';
import type { DataMeta, Normalize } from '../data-meta.js';
import {
  className,
  dataMetaOf,
  inputShapeOf,
  parseLabel,
  readCsvForModel,
  scaleMnistBytes,
  scaleMnistUnit,
} from '../data-meta.js';
import { CliError } from '../errors.js';
import { readImage, toMnist } from '../image.js';
import { inferenceTrainer, loadModel } from './model-io.js';
import { useBackend } from './train.js';

/** Softmax of one row of logits, in float64 (`exp(z - max) / sum`). */
function softmax(row: Float32Array): number[] {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of row) if (v > m) m = v;
  const e = Array.from(row, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** A CSV field, quoted when it holds a delimiter, a quote or a line break (RFC 4180). */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The rows to predict: features `[n, numFeatures]` as the model was trained, and labels if the input has them. */
interface Inputs {
  features: Float32Array;
  numFeatures: number;
  labels: Int32Array | null;
}

/**
 * `gradkit predict --checkpoint DIR --input FILE [--limit N] [--label COL] [--output FILE.csv|FILE.json] [--backend B]`
 *
 * Prints the first `--limit` rows (default 10): the predicted class name, its probability and
 * the top 3 classes (and the true label when the input has one). `--output` writes every row
 * (row index, predicted class, its probability, the label if any, every class's probability) as
 * CSV or JSON, atomically (a temporary file renamed into place).
 *
 * Inputs: a CSV (with or without the label column; features matched to the training columns by
 * name when the file has a header, else by count; normalized with the stored training
 * statistics), IDX images, or a PNG/PGM picture (MNIST models).
 */
export function predictCommand(argv: readonly string[]): void {
  const allowed = ['--checkpoint', '--input', '--limit', '--label', '--output', '--backend'];
  const { flags, positionals } = parseCommand('predict', argv, allowed);
  if (positionals.length) throw new CliError(`predict: unexpected argument '${positionals[0]}'`);
  const path = flags.get('--checkpoint');
  const input = flags.get('--input');
  if (!path) throw new CliError('predict: --checkpoint DIR is required');
  if (!input) throw new CliError('predict: --input FILE is required (IDX images, CSV, or a PNG/PGM picture)');
  if (!existsSync(input)) throw new CliError(`predict: --input: no such file: ${input}`);
  const limit = flags.has('--limit')
    ? (coerce('limit', flags.get('--limit'), '--limit') as number | null)
    : 10;
  if (limit === null || limit < 1)
    throw new CliError(
      `predict: --limit: must be a positive integer, got ${JSON.stringify(flags.get('--limit'))}`,
    );
  const output = flags.get('--output');
  if (output !== undefined) {
    if (!/\.(csv|json)$/i.test(output))
      throw new CliError(
        `predict: --output: expected a file name ending in .csv or .json, got ${JSON.stringify(output)}`,
      );
    const parent = dirname(output);
    if (!existsSync(parent) || !statSync(parent).isDirectory())
      throw new CliError(`predict: --output: no such directory: ${parent}`);
  }
  const labelFlag = flags.get('--label');
  if (labelFlag !== undefined && labelFlag.trim() === '')
    throw new CliError('predict: --label: empty column');
  useBackend(coerce('backend', flags.get('--backend') ?? 'auto', '--backend') as 'auto');
  const { model, ckpt, dir, config } = loadModel(path);
  const meta = dataMetaOf(ckpt.config, `--checkpoint ${dir}`);
  // the shape of one input sample: [1, 28, 28] for a convolutional model, [D] for an MLP
  const sampleShape = inputShapeOf(meta, ckpt.modelSpec);
  const inputs = sampleShape ? sampleShape.reduce((a, b) => a * b, 1) : undefined;
  const isMnist = meta ? meta.kind === 'mnist' : !config || config.dataset === 'mnist';
  const normalize: Normalize = meta?.normalize ?? (config?.normalize as Normalize | undefined) ?? 'unit';
  // with --output every row is predicted; otherwise only the printed ones
  const rowsWanted = output === undefined ? limit : Number.POSITIVE_INFINITY;

  let x: Inputs;
  if (/\.(png|pgm)$/i.test(input)) {
    if (!isMnist)
      throw new CliError(
        `predict: ${input}: this model was trained on CSV features, not on images; pass a CSV file`,
      );
    const features = toMnist(readImage(input));
    scaleMnistUnit(features, normalize);
    x = { features, numFeatures: 784, labels: null };
  } else if (/\.csv(\.gz)?$/i.test(input)) {
    x = readCsvInput(input, meta, isMnist, normalize, config?.label ?? 'label', labelFlag, inputs);
  } else {
    if (!isMnist)
      throw new CliError(`predict: ${input}: this model was trained on CSV features; pass a CSV file`);
    const idx = readIdx(input);
    if (idx.shape.length < 2)
      throw new CliError(
        `predict: ${input}: expected an IDX file of images (rank >= 2), got shape [${idx.shape.join(',')}]`,
      );
    const numFeatures = idx.shape.slice(1).reduce((p, d) => p * d, 1);
    const scale = idx.dtype === 'uint8' ? 1 / 255 : 1;
    const n = Math.min(idx.shape[0], rowsWanted);
    const features = Float32Array.from(idx.data.subarray(0, n * numFeatures), (v) => Number(v) * scale);
    scaleMnistUnit(features, normalize);
    x = { features, numFeatures, labels: null };
  }
  if (inputs !== undefined && x.numFeatures !== inputs)
    throw new DataError(
      input,
      `rows have ${x.numFeatures} features, the model takes ${inputs}${sampleShape && sampleShape.length > 1 ? ` (${sampleShape.join('x')} images)` : ''}`,
    );
  const total = x.features.length / x.numFeatures;
  if (total === 0) throw new CliError(`predict: ${input} has no rows`, 1);
  const n = Math.min(total, rowsWanted);
  const logits = inferenceTrainer(model).predict({
    features: x.features.subarray(0, n * x.numFeatures),
    numFeatures: x.numFeatures,
    ...(sampleShape && sampleShape.length > 1 ? { sampleShape } : {}),
  });
  const classes = logits.length / n;
  const probs: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    const bad = row.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new CliError(
        `predict: the model's output for row ${i} is ${row[bad]} (class ${className(meta, bad)}): its weights or this input hold non-finite values`,
        1,
      );
    probs.push(softmax(row));
  }
  const best = (p: number[]) => p.reduce((b, v, k) => (v > p[b] ? k : b), 0);
  const name = (k: number) => className(meta, k);
  for (let i = 0; i < Math.min(n, limit); i++) {
    const p = probs[i];
    const top = p
      .map((v, k) => [k, v] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${name(k)}: ${(100 * v).toFixed(1)}%`)
      .join(', ');
    const truth = x.labels ? `  (label ${name(x.labels[i])})` : '';
    process.stdout.write(`${i}: predicted ${name(best(p))}  [${top}]${truth}\n`);
  }
  if (output !== undefined) {
    const names = Array.from({ length: classes }, (_, k) => name(k));
    let text: string;
    if (/\.json$/i.test(output)) {
      const rows = probs.map((p, i) => ({
        row: i,
        predicted: names[best(p)],
        probability: p[best(p)],
        ...(x.labels ? { label: names[x.labels[i]] } : {}),
        probabilities: p,
      }));
      // one row per line: readable, and still one JSON document
      const head = JSON.stringify({ checkpoint: dir, input, classes: names }).slice(0, -1);
      text = `${head},"rows":[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]}\n`;
    } else {
      const head = [
        'row',
        'predicted',
        'probability',
        ...(x.labels ? ['label'] : []),
        ...names.map((c) => `p_${c}`),
      ];
      const lines = [head.map(csvField).join(',')];
      probs.forEach((p, i) => {
        const cells = [String(i), names[best(p)], String(p[best(p)])];
        if (x.labels) cells.push(names[x.labels[i]]);
        for (const v of p) cells.push(String(v));
        lines.push(cells.map(csvField).join(','));
      });
      text = `${lines.join('\n')}\n`;
    }
    writeAtomically(output, text);
    process.stderr.write(`gradkit predict: wrote ${n} rows to ${output}\n`);
  }
}

/** Writes `text` to a temporary file beside `path`, then renames it into place. */
function writeAtomically(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  try {
    writeFileSync(tmp, text, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CliError(`predict: --output ${path}: ${(e as Error).message}`, 1);
  }
}

/**
 * A CSV input. A CSV model: read as its training data (see `readCsvForModel`), the label column
 * optional. An MNIST model: 784 pixel columns in 0..255, plus the label column named by `--label`.
 * A CSV checkpoint from before gradkit stored its data description: features by count, as read.
 */
function readCsvInput(
  input: string,
  meta: DataMeta | null,
  isMnist: boolean,
  normalize: Normalize,
  trainLabel: string,
  labelFlag: string | undefined,
  inputs: number | undefined,
): Inputs {
  if (meta?.kind === 'csv') {
    const t = readCsvForModel(input, meta, trainLabel, {
      optionalLabel: true,
      ...(labelFlag === undefined ? {} : { label: parseLabel(labelFlag) }),
    });
    return { features: t.features, numFeatures: t.numFeatures, labels: t.labeled ? t.labels : null };
  }
  const outputs = isMnist ? 10 : undefined;
  const t =
    labelFlag === undefined
      ? readCsv(input, { label: null })
      : readCsv(input, {
          label: parseLabel(labelFlag),
          labelType: 'integer',
          ...(outputs ? { numClasses: outputs } : {}),
        });
  if (labelFlag === undefined && inputs !== undefined && t.numFeatures === inputs + 1)
    throw new CliError(
      `predict: ${input} has ${inputs + 1} columns and the model takes ${inputs} features: pass --label COL for the label column`,
    );
  if (isMnist && t.numFeatures === 784) scaleMnistBytes(t.features, normalize, input);
  return { features: t.features, numFeatures: t.numFeatures, labels: t.labeled ? t.labels : null };
}
