import { DataError, Dataset, parseCsv } from '@gradkit/trainer';
import { describe, expect, it } from 'vitest';
import type { CsvDataMeta } from './data-meta.js';
import {
  applyNormalization,
  checkClassificationTarget,
  className,
  dataMetaOf,
  featureStats,
  fitNormalization,
  inputShapeOf,
  mnistMeta,
  modelShape,
  parseLabel,
  resumeDataMeta,
  trainingRows,
} from './data-meta.js';
import { CliError } from './errors.js';

const csv = (rows: string[], label = 'y') => parseCsv(`a,b,${label}\n${rows.join('\n')}\n`, { label });

describe('trainingRows', () => {
  it('are exactly the rows Trainer.fit trains on (Dataset.split(1 - f, { seed }) first part)', () => {
    for (const [n, f, seed] of [
      [100, 0.1, 0],
      [37, 0.25, 7],
      [5, 0.5, 123],
    ] as const) {
      const ds = new Dataset({
        features: Float32Array.from({ length: n }, (_, i) => i),
        labels: new Int32Array(n),
        numFeatures: 1,
        numClasses: 1,
      });
      const [train] = ds.split(1 - f, { seed });
      expect(Array.from(trainingRows(n, f, seed))).toEqual(Array.from(train.features));
    }
    expect(Array.from(trainingRows(4, 0, 9))).toEqual([0, 1, 2, 3]);
  });
});

describe('feature statistics', () => {
  it('mean and population std per column, over the given rows only', () => {
    const x = Float32Array.from([1, 10, 3, 10, 5, 10, 1000, -1]);
    const s = featureStats(x, 2, [0, 1, 2]);
    expect(s.mean).toEqual([3, 10]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(s.std[1]).toBe(0);
    expect(s.min).toEqual([1, 10]);
    expect(s.max).toEqual([5, 10]);
  });

  it("a constant column becomes 0, never NaN ('standard' uses std 1, 'unit' a range of 1)", () => {
    const x = Float32Array.from([1, 7, 3, 7, 5, 7]);
    for (const normalize of ['standard', 'unit'] as const) {
      const meta: CsvDataMeta = {
        kind: 'csv',
        labelName: 'y',
        labelType: 'integer',
        classNames: null,
        numClasses: 2,
        featureNames: ['a', 'b'],
        header: true,
        normalize,
        ...fitNormalization(normalize, x, 2, [0, 1, 2]),
        statsRows: 3,
      };
      const y = x.slice();
      applyNormalization(meta, y, 't');
      expect(Array.from(y).every(Number.isFinite)).toBe(true);
      expect([y[1], y[3], y[5]]).toEqual([0, 0, 0]);
      if (normalize === 'standard') expect(y[0]).toBeCloseTo(-Math.sqrt(1.5), 6);
      else expect([y[0], y[2], y[4]]).toEqual([0, 0.5, 1]);
      // a value far outside a nearly constant column is an error, not Inf
      const far: CsvDataMeta = {
        ...meta,
        featureStd: [1e-40, 1],
        featureMin: [0, 7],
        featureMax: [1e-40, 7],
      };
      expect(() => applyNormalization(far, Float32Array.from([3e38, 7]), 'p.csv')).toThrow(
        /p.csv: row 1, feature 'a': .* not finite in float32/,
      );
    }
  });

  it('scaling the features by 1e4 gives the same standardized values', () => {
    const x = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i) * 3 + (i % 2));
    const big = x.map((v) => v * 1e4);
    const norm = (f: Float32Array) => {
      const meta = {
        kind: 'csv',
        normalize: 'standard',
        featureNames: ['a', 'b'],
        ...fitNormalization('standard', f, 2, trainingRows(20, 0.1, 0)),
      } as CsvDataMeta;
      const y = f.slice();
      applyNormalization(meta, y, 't');
      return y;
    };
    const a = norm(x);
    const b = norm(big);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
  });
});

describe('checkClassificationTarget', () => {
  const rows = (n: number, label: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => `${i},${i * 2},${label(i)}`);

  it('refuses a continuous target, naming an example value', () => {
    const t = csv(rows(50, (i) => (i * 0.37).toFixed(2)));
    expect(() => checkClassificationTarget(t, 'r.csv')).toThrow(CliError);
    expect(() => checkClassificationTarget(t, 'r.csv')).toThrow(
      /r.csv: label column 'y' holds non-integer numbers \(e\.g\. 0\.37; 50 distinct values\): it looks like a continuous \(regression\) target; .*--label-type categorical/,
    );
  });

  it('refuses more than 1000 classes and one class per row', () => {
    expect(() => checkClassificationTarget(csv(rows(4, (i) => String(i * 1000))), 'h.csv')).toThrow(
      /would make 3001 classes \(more than 1000\)/,
    );
    expect(() => checkClassificationTarget(csv(rows(40, (i) => `id${i}`)), 'i.csv')).toThrow(
      /has 40 distinct values in 40 rows \(fewer than 2 rows per class\)/,
    );
  });

  it('accepts classes: text, integers, signed integers, 10 digits in 100 rows', () => {
    checkClassificationTarget(csv(rows(100, (i) => String(i % 10))), 'ok');
    checkClassificationTarget(csv(rows(100, (i) => (i % 2 ? 'cat' : 'dog'))), 'ok');
    checkClassificationTarget(csv(rows(100, (i) => (i % 2 ? '-1' : '1'))), 'ok');
    checkClassificationTarget(csv(rows(10, (i) => String(i))), 'ok'); // few rows, few classes
  });
});

describe('stored data descriptions', () => {
  const meta: CsvDataMeta = {
    kind: 'csv',
    labelName: 'animal',
    labelType: 'categorical',
    classNames: ['cat', 'dog'],
    numClasses: 2,
    featureNames: ['x1', 'x2'],
    header: true,
    normalize: 'standard',
    featureMean: [0, 1],
    featureStd: [2, 3],
    statsRows: 10,
  };

  it('round-trip through JSON and are checked', () => {
    expect(dataMetaOf(JSON.parse(JSON.stringify({ dataset: 'x.csv', data: meta })), 'ck')).toEqual(meta);
    const broken = { dataset: 'x.csv', data: { ...meta, classNames: ['cat'] } };
    expect(() => dataMetaOf(broken, 'ck')).toThrow(
      /ck: the stored data description is malformed: classNames/,
    );
    expect(() => dataMetaOf({ data: { ...meta, featureStd: [1] } }, 'ck')).toThrow(/featureMean\/featureStd/);
    expect(() => dataMetaOf({ data: 'x' }, 'ck')).toThrow(/not an object/);
  });

  it('checkpoints without one: MNIST from its config, CSV unknown (resume refused)', () => {
    expect(dataMetaOf({ dataset: 'mnist', normalize: 'standard' }, 'ck')).toEqual(mnistMeta('standard'));
    expect(dataMetaOf({ dataset: 'old.csv', normalize: 'standard' }, 'ck')).toBeNull();
    expect(dataMetaOf(null, 'ck')).toBeNull();
    expect(() => resumeDataMeta({ dataset: 'old.csv' })).toThrow(
      /made before gradkit stored its class names/,
    );
  });

  it('class names, labels and model shapes', () => {
    expect(className(meta, 1)).toBe('dog');
    expect(className(mnistMeta('unit'), 7)).toBe('7');
    expect(className(null, 3)).toBe('3');
    expect(parseLabel('-1')).toBe(-1);
    expect(parseLabel('3')).toBe(3);
    expect(parseLabel('species')).toBe('species');
    expect(
      modelShape({
        layers: [{ type: 'linear', in: 5, out: 8 }, { type: 'relu' }, { type: 'linear', in: 8, out: 3 }],
      }),
    ).toEqual({ inputs: 5, outputs: 3, spatial: false });
    expect(modelShape(null)).toBeNull();
  });

  it('the sample shape of a CNN: stored, checked, and decided by the model description', () => {
    const image = mnistMeta('standard', true);
    expect(image.sampleShape).toEqual([1, 28, 28]);
    expect(mnistMeta('standard')).not.toHaveProperty('sampleShape');
    expect(dataMetaOf(JSON.parse(JSON.stringify({ data: image })), 'ck')).toEqual(image);
    expect(dataMetaOf({ data: { ...mnistMeta('unit'), sampleShape: [784] } }, 'ck')).toEqual(
      mnistMeta('unit'),
    );
    expect(() => dataMetaOf({ data: { ...image, sampleShape: [3, 28, 28] } }, 'ck')).toThrow(
      'ck: the stored data description is malformed: sampleShape [3,28,28] (expected [784] or [1, 28, 28])',
    );
    // a CNN checkpoint from a config without `data`
    expect(dataMetaOf({ dataset: 'mnist', normalize: 'unit', model: 'lenet5' }, 'ck')).toEqual(
      mnistMeta('unit', true),
    );
    const cnn = {
      layers: [
        { type: 'conv2d', in: 1, out: 6, kernelSize: 5 },
        { type: 'flatten' },
        { type: 'linear', in: 3456, out: 10 },
      ],
    };
    const mlp = { layers: [{ type: 'linear', in: 784, out: 10 }] };
    expect(modelShape(cnn)).toEqual({ inputs: 3456, outputs: 10, spatial: true });
    expect(inputShapeOf(image, cnn)).toEqual([1, 28, 28]);
    expect(inputShapeOf(mnistMeta('unit'), cnn)).toEqual([1, 28, 28]); // no stored shape: MNIST images
    expect(inputShapeOf(image, mlp)).toEqual([784]); // the model decides
    expect(inputShapeOf(null, mlp)).toEqual([784]);
    expect(inputShapeOf(null, null)).toBeNull();
  });

  it('DataError is what applyNormalization throws', () => {
    expect(() =>
      applyNormalization({ ...meta, featureStd: [1e-44, 1] }, Float32Array.from([1e38, 0]), 'f'),
    ).toThrow(DataError);
  });
});
