import { Rng, ShapeError, ValueError } from '@gradkit/tensor';
import { describe, expect, it } from 'vitest';
import { batchShape } from './batches.js';
import { Dataset, validateLabels } from './dataset.js';
import { DataError } from './errors.js';

/** N rows of D features where row i is [i*10, i*10+1, ...]; label i % C. */
function numbered(n: number, d = 3, c = 4, name?: string): Dataset {
  const features = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) features[i * d + j] = i * 10 + j;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % c;
  return new Dataset({ features, labels, numFeatures: d, numClasses: c, name });
}

/** The row numbers stored in each row's first feature (see `numbered`). */
const rowIds = (ds: Dataset): number[] =>
  Array.from({ length: ds.length }, (_, i) => ds.features[i * ds.numFeatures] / 10);

describe('Dataset', () => {
  it('holds features [N, D] and labels [N], keeps typed arrays, converts plain ones', () => {
    const features = new Float32Array([1, 2, 3, 4, 5, 6]);
    const labels = new Int32Array([2, 0, 1]);
    const ds = new Dataset({ features, labels, numFeatures: 2 });
    expect(ds.length).toBe(3);
    expect(ds.numFeatures).toBe(2);
    expect(ds.numClasses).toBe(3); // max label + 1
    expect(ds.features).toBe(features);
    expect(ds.labels).toBe(labels);
    expect(ds.name).toBe('dataset');
    const plain = new Dataset({ features: [1, 2], labels: [1], numFeatures: 2, numClasses: 5 });
    expect(plain.features).toBeInstanceOf(Float32Array);
    expect(plain.labels).toBeInstanceOf(Int32Array);
    expect(plain.numClasses).toBe(5);
    expect(new Dataset({ features: [], labels: [], numFeatures: 4 }).numClasses).toBe(0);
  });

  it('get(i) and classCounts()', () => {
    const ds = numbered(10, 3, 4);
    const { x, y } = ds.get(7);
    expect(Array.from(x)).toEqual([70, 71, 72]);
    expect(y).toBe(3);
    expect(Array.from(ds.classCounts())).toEqual([3, 3, 2, 2]);
    expect(() => ds.get(10)).toThrow('get: dataset: row index must be an integer in [0, 10), got 10');
  });

  it('rejects sizes that do not fit, bad counts and bad labels', () => {
    expect(
      () => new Dataset({ features: new Float32Array(5), labels: new Int32Array(2), numFeatures: 2 }),
    ).toThrow(ShapeError);
    expect(
      () =>
        new Dataset({ features: new Float32Array(5), labels: new Int32Array(2), numFeatures: 2, name: 'd' }),
    ).toThrow('Dataset: d: 5 feature values do not fill [2,2] (2 labels, 2 features each)');
    expect(() => new Dataset({ features: [], labels: [], numFeatures: 0 })).toThrow(ValueError);
    expect(() => new Dataset({ features: [1], labels: [0], numFeatures: 1, numClasses: 1.5 })).toThrow(
      ValueError,
    );
    const e = (() => {
      try {
        new Dataset({
          features: [1, 2, 3, 4],
          labels: [0, 1, 2, 10],
          numFeatures: 1,
          numClasses: 10,
          name: 'train',
        });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(DataError);
    expect((e as Error).message).toBe('train: label at index 3 is 10, outside [0, 10)');
    expect(() => new Dataset({ features: [1, 2], labels: [0, -1], numFeatures: 1 })).toThrow(
      'dataset: label at index 1 is -1, outside [0, 1)',
    );
    expect(() => new Dataset({ features: [1, 2], labels: [0, 1.5], numFeatures: 1 })).toThrow(
      'dataset: label at index 1 is 1.5, not an integer',
    );
    expect(() => new Dataset({ features: [1], labels: [2 ** 40], numFeatures: 1 })).toThrow(
      `dataset: label at index 0 is ${2 ** 40}, outside [0, 2147483647)`,
    );
  });

  it('validateLabels names the first bad index and value', () => {
    expect(() => validateLabels(new Int32Array([0, 2, 1]), 3)).not.toThrow();
    expect(() => validateLabels([0, 1, 3, 5], 3, 'train')).toThrow(DataError);
    expect(() => validateLabels([0, 1, 3, 5], 3, 'train')).toThrow(
      'train: label at index 2 is 3, outside [0, 3)',
    );
    expect(() => validateLabels([Number.NaN], 3)).toThrow('labels: label at index 0 is NaN, outside [0, 3)');
    const ds = numbered(5, 2, 3);
    ds.labels[4] = 12;
    expect(() => ds.validateLabels()).toThrow('dataset: label at index 4 is 12, outside [0, 3)');
  });

  it('subset copies the given rows in order (repeats allowed), keeping numClasses', () => {
    const ds = numbered(6, 2, 5, 'six');
    const sub = ds.subset([4, 0, 4]);
    expect(rowIds(sub)).toEqual([4, 0, 4]);
    expect(Array.from(sub.labels)).toEqual([4, 0, 4]);
    expect(sub.numClasses).toBe(5);
    expect(sub.name).toBe('six[subset]');
    sub.features[0] = -1;
    expect(ds.features[8]).toBe(40);
    expect(ds.subset([]).length).toBe(0);
    expect(() => ds.subset([1, 6])).toThrow('subset: six: indices[1] = 6 is not a row index in [0, 6)');
    expect(() => ds.subset([0.5])).toThrow(ValueError);
  });

  it('split: sizes round(fraction * N), disjoint parts covering every row', () => {
    const ds = numbered(101);
    const [a, b] = ds.split(0.8, { seed: 3 });
    expect(a.length).toBe(81);
    expect(b.length).toBe(20);
    const all = [...rowIds(a), ...rowIds(b)].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 101 }, (_, i) => i));
    for (const part of [a, b]) {
      for (let i = 0; i < part.length; i++) expect(part.labels[i]).toBe(rowIds(part)[i] % 4);
    }
    expect(a.numClasses).toBe(4);
    const [none, every] = ds.split(0);
    expect([none.length, every.length]).toEqual([0, 101]);
  });

  it('split is deterministic from the seed (default 0) and shuffles', () => {
    const ds = numbered(50);
    const [a1] = ds.split(0.5, { seed: 7 });
    const [a2] = ds.split(0.5, { seed: 7 });
    const [a3] = ds.split(0.5, { seed: 8 });
    expect(rowIds(a1)).toEqual(rowIds(a2));
    expect(rowIds(a1)).not.toEqual(rowIds(a3));
    expect(rowIds(a1)).not.toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(rowIds(ds.split(0.5)[0])).toEqual(rowIds(ds.split(0.5, { seed: 0 })[0]));
    expect(rowIds(ds.split(0.5, { rng: new Rng(7) })[0])).toEqual(rowIds(a1));
    const [head, tail] = ds.split(0.1, { shuffle: false });
    expect(rowIds(head)).toEqual([0, 1, 2, 3, 4]);
    expect(rowIds(tail)[0]).toBe(5);
  });

  it('split rejects a fraction outside [0, 1] and seed with rng', () => {
    const ds = numbered(4);
    expect(() => ds.split(1.5)).toThrow('split: fraction must be in [0, 1], got 1.5');
    expect(() => ds.split(Number.NaN)).toThrow(ValueError);
    expect(() => ds.split(0.5, { seed: 1, rng: new Rng(1) })).toThrow('split: pass seed or rng, not both');
  });
});

describe('Dataset with a sample shape (image-shaped rows)', () => {
  /** `numbered` rows seen as [2, 1, 3] samples (D = 6). */
  const images = (n: number) => numbered(n, 6, 4, 'imgs').withSampleShape([2, 1, 3]);

  it('defaults to [numFeatures]; sampleShape alone gives numFeatures; batches carry it', () => {
    expect(numbered(4).sampleShape).toEqual([3]);
    const ds = new Dataset({ features: new Float32Array(12), labels: [0, 1], sampleShape: [1, 2, 3] });
    expect(ds.numFeatures).toBe(6);
    expect(ds.sampleShape).toEqual([1, 2, 3]);
    expect(Object.isFrozen(ds.sampleShape)).toBe(true);
    const b = ds.batches(2).batch(0);
    expect(b.sampleShape).toEqual([1, 2, 3]);
    expect(batchShape(b)).toEqual([2, 1, 2, 3]);
    expect(batchShape(numbered(5).batches(2).batch(2))).toEqual([1, 3]);
    expect(batchShape({ size: 7, numFeatures: 4 })).toEqual([7, 4]); // a batch without a sample shape
  });

  it('withSampleShape shares the arrays; shuffles, splits and subsets match the flat dataset row for row', () => {
    const flat = numbered(23, 6);
    const img = flat.withSampleShape([2, 1, 3]);
    expect(img.features).toBe(flat.features);
    expect(img.labels).toBe(flat.labels);
    expect([img.name, img.numClasses, img.length]).toEqual([flat.name, flat.numClasses, flat.length]);
    expect(img.withSampleShape([6]).sampleShape).toEqual([6]);
    const a = [...flat.batches(5, { shuffle: true, seed: 9 })];
    const b = [...img.batches(5, { shuffle: true, seed: 9, dropLast: false })];
    expect(b.map((x) => Array.from(x.indices))).toEqual(a.map((x) => Array.from(x.indices)));
    expect(b.map((x) => Array.from(x.x))).toEqual(a.map((x) => Array.from(x.x)));
    expect(b.every((x) => x.sampleShape.join() === '2,1,3')).toBe(true);
    for (const x of img.batches(5, { shuffle: true, seed: 9 }).reusing())
      expect(x.sampleShape).toEqual([2, 1, 3]);
    const [t1, v1] = flat.split(0.7, { seed: 4 });
    const [t2, v2] = img.split(0.7, { seed: 4 });
    expect([t2.sampleShape, v2.sampleShape]).toEqual([
      [2, 1, 3],
      [2, 1, 3],
    ]);
    expect(rowIds(t2)).toEqual(rowIds(t1));
    expect(rowIds(v2)).toEqual(rowIds(v1));
    expect(images(6).subset([5, 0]).sampleShape).toEqual([2, 1, 3]);
    expect(rowIds(images(6).subset([5, 0]))).toEqual([5, 0]);
  });

  it('bad sample shapes are errors naming the dataset and the shapes', () => {
    expect(() => numbered(3, 6, 4, 'imgs').withSampleShape([2, 2, 2])).toThrow(ShapeError);
    expect(() => numbered(3, 6, 4, 'imgs').withSampleShape([2, 2, 2])).toThrow(
      'withSampleShape: imgs: sampleShape [2,2,2] holds 8 values, not numFeatures = 6',
    );
    expect(
      () =>
        new Dataset({
          features: new Float32Array(8),
          labels: [0, 1],
          numFeatures: 4,
          sampleShape: [1, 2, 3],
        }),
    ).toThrow('Dataset: dataset: sampleShape [1,2,3] holds 6 values, not numFeatures = 4');
    expect(
      () => new Dataset({ features: new Float32Array(8), labels: [0, 1], sampleShape: [1, 0, 4] }),
    ).toThrow('Dataset: sampleShape must be a list of positive integers, got [1,0,4]');
    expect(() => new Dataset({ features: new Float32Array(8), labels: [0, 1], sampleShape: [] })).toThrow(
      ValueError,
    );
    expect(() => new Dataset({ features: new Float32Array(8), labels: [0, 1] } as never)).toThrow(
      'Dataset: give numFeatures or sampleShape',
    );
    // rows that do not fill the sample shape: the size check names the dataset
    expect(
      () => new Dataset({ features: new Float32Array(7), labels: [0, 1], sampleShape: [1, 2, 2] }),
    ).toThrow(ShapeError);
  });
});
