// What a model needs to interpret its inputs, saved with every run (config.json) and every
// checkpoint (trainer.json's config) under the key `data`: the class names in their order, the
// feature names, and the feature statistics used to normalize them.
import { Rng } from '@gradkit/tensor';
import type { CsvTable } from '@gradkit/trainer';
import { DataError, MNIST_MEAN, MNIST_STD, permutation } from '@gradkit/trainer';
import { readCsv } from '@gradkit/trainer/node';
import { CliError } from './errors.js';

/** How features are scaled: `standard` (z-scores), `unit` (min-max to [0, 1]) or `none`. */
export type Normalize = 'standard' | 'unit' | 'none';

/** How a CSV label column is read: `auto` (with the regression-target checks), `integer`, `categorical`. */
export type LabelType = 'auto' | 'integer' | 'categorical';

/**
 * The description of CSV training data stored under `data` in a run's config.
 *
 * - `classNames[k]` is the label text of output `k` (categorical labels); integer labels store
 *   `classNames: null` and `numClasses` (the largest training label + 1), output `k` is label `k`.
 * - `featureNames` are the training columns in the model's input order (header names, or
 *   `column <k>` without a header; `header` says which).
 * - `normalize: 'standard'`: `x' = (x - featureMean[j]) / featureStd[j]` with the population
 *   standard deviation; a constant column (std 0) uses 1, so it becomes 0.
 *   `normalize: 'unit'`: `x' = (x - featureMin[j]) / (featureMax[j] - featureMin[j])`; a constant
 *   column uses a range of 1. `none`: features as read. The statistics come from the rows the
 *   model trains on (`statsRows` of them): after `--limit`, without the validation rows.
 */
export interface CsvDataMeta {
  readonly kind: 'csv';
  readonly labelName: string;
  readonly labelType: 'integer' | 'categorical';
  readonly classNames: string[] | null;
  readonly numClasses: number;
  readonly featureNames: string[];
  readonly header: boolean;
  readonly normalize: Normalize;
  readonly featureMean?: number[];
  readonly featureStd?: number[];
  readonly featureMin?: number[];
  readonly featureMax?: number[];
  readonly statsRows: number;
}

/**
 * MNIST data: 784 pixels, digits 0..9, pixels scaled as `normalize` says (see loadMnist).
 * `sampleShape` is the shape the model reads one sample in: `[1, 28, 28]` (channels, height,
 * width) for a convolutional model; absent for an MLP (flat rows `[784]`, as runs made before it
 * was stored).
 */
export interface MnistDataMeta {
  readonly kind: 'mnist';
  readonly normalize: Normalize;
  readonly numClasses: 10;
  readonly numFeatures: 784;
  readonly sampleShape?: readonly [1, 28, 28];
}

/** The sample shape of MNIST images for a convolutional model. */
export const MNIST_IMAGE_SHAPE: readonly [1, 28, 28] = [1, 28, 28];

/** The `data` entry of a run config. */
export type DataMeta = CsvDataMeta | MnistDataMeta;

/** More classes than this in an `auto` label column looks like a numeric target or an id column. */
export const MAX_AUTO_CLASSES = 1000;

/** `--label` text as readCsv wants it: an integer (negative counts from the end) is an index. */
export function parseLabel(label: string): string | number {
  return /^-?\d+$/.test(label.trim()) ? Number(label) : label;
}

/** The MNIST description for a normalization; `image` for a model that reads 1x28x28 images. */
export function mnistMeta(normalize: Normalize, image = false): MnistDataMeta {
  return {
    kind: 'mnist',
    normalize,
    numClasses: 10,
    numFeatures: 784,
    ...(image ? { sampleShape: MNIST_IMAGE_SHAPE } : {}),
  };
}

/** The display name of output `k`. */
export function className(meta: DataMeta | null, k: number): string {
  return meta?.kind === 'csv' && meta.classNames ? meta.classNames[k] : String(k);
}

/**
 * Refuses a label column that does not look like classes, before it silently becomes hundreds of
 * classes (checked only with `--label-type auto`):
 * 1. every label is a number and some are not integers (`0.37`): a continuous (regression) target;
 * 2. more than {@link MAX_AUTO_CLASSES} classes (labels up to 2e9 would make a 2e9-way output);
 * 3. at least 20 distinct labels and more than one per two rows: an id column or a numeric target.
 */
export function checkClassificationTarget(table: CsvTable, path: string): void {
  const hint =
    'gradkit train classifies; if these really are class labels pass --label-type categorical (or integer)';
  const names = table.classNames;
  if (names?.every((s) => s.trim() !== '' && Number.isFinite(Number(s)))) {
    const frac = names.find((s) => !Number.isInteger(Number(s)));
    if (frac !== undefined) {
      throw new CliError(
        `${path}: label column '${table.labelName}' holds non-integer numbers (e.g. ${frac}; ${names.length} distinct values): it looks like a continuous (regression) target; ${hint}`,
      );
    }
  }
  if (table.numClasses > MAX_AUTO_CLASSES) {
    throw new CliError(
      `${path}: label column '${table.labelName}' would make ${table.numClasses} classes (more than ${MAX_AUTO_CLASSES}): it looks like a numeric target or an id column; ${hint}`,
    );
  }
  const distinct = names ? names.length : new Set(table.labels).size;
  if (distinct >= 20 && distinct > table.length / 2) {
    throw new CliError(
      `${path}: label column '${table.labelName}' has ${distinct} distinct values in ${table.length} rows (fewer than 2 rows per class): it looks like a numeric target or an id column; ${hint}`,
    );
  }
}

/**
 * The rows the Trainer will train on: with a validation split `f`, `fit` holds out
 * `train.split(1 - f, { seed })`'s second part, so these are the first `round((1 - f) * n)` rows
 * of the same seeded permutation. Feature statistics come from these rows only.
 */
export function trainingRows(n: number, validationSplit: number, seed: number): Int32Array {
  if (!(validationSplit > 0)) return Int32Array.from({ length: n }, (_, i) => i);
  return permutation(n, new Rng(seed)).slice(0, Math.round((1 - validationSplit) * n));
}

/** Per-feature statistics of `rows` of `features` `[N, d]`, in float64 (two passes). */
export function featureStats(
  features: Float32Array,
  d: number,
  rows: ArrayLike<number>,
): { mean: number[]; std: number[]; min: number[]; max: number[] } {
  const m = rows.length;
  const mean = new Array<number>(d).fill(0);
  const min = new Array<number>(d).fill(Number.POSITIVE_INFINITY);
  const max = new Array<number>(d).fill(Number.NEGATIVE_INFINITY);
  for (let r = 0; r < m; r++) {
    const o = rows[r] * d;
    for (let j = 0; j < d; j++) {
      const v = features[o + j];
      mean[j] += v;
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
    }
  }
  for (let j = 0; j < d; j++) mean[j] /= m;
  const std = new Array<number>(d).fill(0);
  for (let r = 0; r < m; r++) {
    const o = rows[r] * d;
    for (let j = 0; j < d; j++) {
      const e = features[o + j] - mean[j];
      std[j] += e * e;
    }
  }
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j] / m);
  return { mean, std, min, max };
}

/** The statistics part of a {@link CsvDataMeta} for `normalize`, from `rows` of `features`. */
export function fitNormalization(
  normalize: Normalize,
  features: Float32Array,
  d: number,
  rows: ArrayLike<number>,
): Pick<CsvDataMeta, 'featureMean' | 'featureStd' | 'featureMin' | 'featureMax'> {
  if (normalize === 'none') return {};
  const s = featureStats(features, d, rows);
  return normalize === 'standard'
    ? { featureMean: s.mean, featureStd: s.std }
    : { featureMin: s.min, featureMax: s.max };
}

/**
 * Normalizes `features` `[N, d]` in place as `meta` says (see {@link CsvDataMeta}). A result that
 * is not finite in float32 (a value far outside the training range of a nearly constant column)
 * is a DataError naming the row and the column.
 */
export function applyNormalization(meta: CsvDataMeta, features: Float32Array, source: string): void {
  if (meta.normalize === 'none') return;
  const d = meta.featureNames.length;
  const shift = (meta.normalize === 'standard' ? meta.featureMean : meta.featureMin) as number[];
  const scale =
    meta.normalize === 'standard'
      ? (meta.featureStd as number[]).map((s) => (s > 0 ? s : 1))
      : (meta.featureMax as number[]).map((mx, j) => (mx - shift[j] > 0 ? mx - shift[j] : 1));
  const n = features.length / d;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = (features[i * d + j] - shift[j]) / scale[j];
      if (!Number.isFinite(Math.fround(v))) {
        throw new DataError(
          source,
          `row ${i + 1}, feature '${meta.featureNames[j]}': ${features[i * d + j]} normalized with the training statistics is ${v}, not finite in float32`,
        );
      }
      features[i * d + j] = v;
    }
  }
}

/** Scales MNIST-style pixels given in [0, 255] (a CSV of pixels) as the model was trained. */
export function scaleMnistBytes(features: Float32Array, normalize: Normalize, source: string): void {
  for (let i = 0; i < features.length; i++) {
    const p = features[i];
    if (!(p >= 0 && p <= 255)) {
      throw new DataError(
        source,
        `row ${Math.floor(i / 784) + 1}, pixel ${(i % 784) + 1}: ${p} is outside [0, 255] (an MNIST model reads pixel CSVs in 0..255)`,
      );
    }
    features[i] =
      normalize === 'none' ? p : normalize === 'unit' ? p / 255 : (p / 255 - MNIST_MEAN) / MNIST_STD;
  }
}

/** Scales pixels given in [0, 1] (pictures, IDX images) as an MNIST model was trained. */
export function scaleMnistUnit(features: Float32Array, normalize: Normalize): void {
  for (let i = 0; i < features.length; i++) {
    const p = features[i];
    features[i] = normalize === 'none' ? p * 255 : normalize === 'unit' ? p : (p - MNIST_MEAN) / MNIST_STD;
  }
}

/** Options of {@link readCsvForModel}. */
export interface ReadForModelOptions {
  /** The label column (default: the training label: by name when training had a header). */
  readonly label?: string | number;
  /** Read a file without the label column as unlabeled (predict) instead of failing. */
  readonly optionalLabel?: boolean;
}

/**
 * Reads a CSV file (test, eval or predict data) the way the model's training data was read: the
 * training feature columns (by name when the file has a header), the training classes in their
 * order (an unseen label is a DataError naming the file, the line and the label), and the training
 * feature statistics applied. Returns the normalized table.
 */
export function readCsvForModel(
  path: string,
  meta: CsvDataMeta,
  trainLabel: string,
  options: ReadForModelOptions = {},
): CsvTable {
  const label = options.label ?? (meta.header ? meta.labelName : parseLabel(trainLabel));
  const table = readCsv(path, {
    label,
    featureNames: meta.featureNames,
    optionalLabel: options.optionalLabel ?? false,
    ...(meta.labelType === 'categorical' && meta.classNames
      ? { classNames: meta.classNames }
      : { labelType: 'integer' as const, numClasses: meta.numClasses }),
  });
  applyNormalization(meta, table.features as Float32Array, path);
  return table;
}

const isNumArray = (v: unknown, n: number): v is number[] =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * The data description of a checkpoint's config (its `data` key), checked. Checkpoints written
 * before gradkit stored it: an MNIST run gets `{ kind: 'mnist', normalize }` from its config; a
 * CSV run gets null (its class names are unknown: callers read labels as integers only).
 *
 * @throws {CliError} (exit 1) naming `where` when `data` is present but malformed.
 */
export function dataMetaOf(config: unknown, where: string): DataMeta | null {
  if (typeof config !== 'object' || config === null) return null;
  const c = config as Record<string, unknown>;
  const data = Object.hasOwn(c, 'data') ? c.data : undefined;
  const normalizes = ['standard', 'unit', 'none'];
  if (data === undefined || data === null) {
    if (c.dataset !== 'mnist') return null;
    return mnistMeta(
      normalizes.includes(c.normalize as string) ? (c.normalize as Normalize) : 'unit',
      c.model === 'lenet5' || c.model === 'cnn',
    );
  }
  const bad = (what: string) =>
    new CliError(`${where}: the stored data description is malformed: ${what}`, 1);
  if (typeof data !== 'object' || Array.isArray(data)) throw bad('not an object');
  const m = data as Record<string, unknown>;
  if (!normalizes.includes(m.normalize as string)) throw bad(`normalize ${JSON.stringify(m.normalize)}`);
  if (m.kind === 'mnist') {
    const shape = m.sampleShape;
    const image =
      Array.isArray(shape) && shape.length === 3 && shape.every((v, i) => v === MNIST_IMAGE_SHAPE[i]);
    if (!(shape === undefined || image || (Array.isArray(shape) && shape.length === 1 && shape[0] === 784)))
      throw bad(`sampleShape ${JSON.stringify(shape)} (expected [784] or [1, 28, 28])`);
    return mnistMeta(m.normalize as Normalize, image);
  }
  if (m.kind !== 'csv') throw bad(`kind ${JSON.stringify(m.kind)}`);
  const d = Array.isArray(m.featureNames) ? m.featureNames.length : 0;
  if (!isStrArray(m.featureNames) || d === 0) throw bad('featureNames');
  if (typeof m.labelName !== 'string') throw bad('labelName');
  if (typeof m.header !== 'boolean') throw bad('header');
  if (!Number.isInteger(m.numClasses) || (m.numClasses as number) < 1) throw bad('numClasses');
  if (m.labelType === 'categorical') {
    if (!isStrArray(m.classNames) || m.classNames.length !== m.numClasses) throw bad('classNames');
  } else if (m.labelType !== 'integer' || m.classNames !== null) throw bad('labelType/classNames');
  if (m.normalize === 'standard' && !(isNumArray(m.featureMean, d) && isNumArray(m.featureStd, d)))
    throw bad('featureMean/featureStd');
  if (m.normalize === 'unit' && !(isNumArray(m.featureMin, d) && isNumArray(m.featureMax, d)))
    throw bad('featureMin/featureMax');
  return m as unknown as CsvDataMeta;
}

/**
 * The data description a resumed run must read its data with. A CSV run from before gradkit
 * stored it trained on unnormalized features with classes numbered per file: it cannot be
 * continued the same way, so it is refused instead of silently changing its data.
 */
export function resumeDataMeta(config: unknown): DataMeta {
  const meta = dataMetaOf(config, 'resume');
  if (meta) return meta;
  throw new CliError(
    'resume: this CSV run was made before gradkit stored its class names and feature statistics; it cannot be continued with the same data: train it again',
  );
}

/**
 * The input and output sizes of a stored model description (its first and last linear layers).
 * `spatial` is true when a convolution comes before the first linear layer: the model then reads
 * images and `inputs` is the width of its flattened features, not of its input (see
 * {@link inputShapeOf}).
 */
export function modelShape(spec: unknown): { inputs: number; outputs: number; spatial: boolean } | null {
  const layers = (spec as { layers?: unknown } | null)?.layers;
  if (!Array.isArray(layers)) return null;
  const typeOf = (l: unknown) =>
    typeof l === 'object' && l !== null ? (l as { type?: unknown }).type : undefined;
  const linear = layers.filter((l): l is { in: number; out: number } => typeOf(l) === 'linear');
  if (!linear.length) return null;
  const firstLinear = layers.findIndex((l) => typeOf(l) === 'linear');
  const spatial = layers.slice(0, firstLinear).some((l) => typeOf(l) === 'conv2d');
  return { inputs: linear[0].in, outputs: linear[linear.length - 1].out, spatial };
}

/**
 * The shape of one input sample of a checkpoint's model, decided by its description: a model
 * that starts with convolutions reads images (the stored `sampleShape` of its data, else MNIST's
 * `[1, 28, 28]`), any other flat rows of its first linear layer's width (so a data description
 * that disagrees with the model cannot feed it the wrong shape); null when the description says
 * nothing.
 */
export function inputShapeOf(meta: DataMeta | null, spec: unknown): readonly number[] | null {
  const shape = modelShape(spec);
  if (!shape) return meta?.kind === 'mnist' && meta.sampleShape ? meta.sampleShape : null;
  if (!shape.spatial) return [shape.inputs];
  return meta?.kind === 'mnist' && meta.sampleShape ? meta.sampleShape : MNIST_IMAGE_SHAPE;
}
