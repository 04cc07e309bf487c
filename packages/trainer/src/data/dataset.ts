import { formatShape, Rng, ShapeError, ValueError } from '@gradkit/tensor';
import { BatchIterator, type BatchOptions, type BatchSource } from './batches.js';
import { DataError } from './errors.js';
import { permutation } from './permutation.js';

/**
 * Checks that every label is an integer in `[0, numClasses)`.
 *
 * @param source names the labels in the error (default `'labels'`).
 * @throws {DataError} naming the first bad index and its value.
 * @example
 * ```ts
 * validateLabels(new Int32Array([0, 2, 1]), 3); // ok
 * validateLabels([0, 3], 3, 'train'); // DataError: train: label at index 1 is 3, outside [0, 3)
 * ```
 */
export function validateLabels(labels: ArrayLike<number>, numClasses: number, source = 'labels'): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!(v >= 0 && v < numClasses)) {
      throw new DataError(source, `label at index ${i} is ${v}, outside [0, ${numClasses})`);
    }
    if (!Number.isInteger(v)) throw new DataError(source, `label at index ${i} is ${v}, not an integer`);
  }
}

/**
 * @internal Checks a sample shape (positive integers; its product equal to `numFeatures` when
 * both are given) and returns a frozen copy, or undefined when none is given.
 */
function checkSampleShape(
  op: string,
  name: string,
  sampleShape: readonly number[] | undefined,
  numFeatures: number | undefined,
): readonly number[] | undefined {
  if (sampleShape === undefined) {
    if (numFeatures === undefined) throw new ValueError(op, 'give numFeatures or sampleShape');
    return undefined;
  }
  if (!Array.isArray(sampleShape) || sampleShape.length === 0) {
    throw new ValueError(
      op,
      `sampleShape must be a non-empty list of positive integers, got ${JSON.stringify(sampleShape)}`,
    );
  }
  for (const dim of sampleShape) {
    if (!Number.isInteger(dim) || dim < 1) {
      throw new ValueError(
        op,
        `sampleShape must be a list of positive integers, got ${JSON.stringify(sampleShape)}`,
      );
    }
  }
  const size = sampleShape.reduce((a, b) => a * b, 1);
  if (numFeatures !== undefined && size !== numFeatures) {
    throw new ShapeError(
      op,
      `${name}: sampleShape ${formatShape(sampleShape)} holds ${size} values, not numFeatures = ${numFeatures}`,
      [sampleShape, [numFeatures]],
    );
  }
  return Object.freeze([...sampleShape]);
}

/**
 * What a {@link Dataset} is made of. A `CsvTable` from `readCsv` is one.
 *
 * @example
 * ```ts
 * const init: DatasetInit = { features: new Float32Array(6), labels: new Int32Array([0, 1, 1]), numFeatures: 2 };
 * ```
 */
export interface DatasetInit {
  /**
   * `[N, numFeatures]` values, row-major. A `Float32Array` is kept as it is (not copied); other
   * arrays are converted to one.
   */
  readonly features: Float32Array | ArrayLike<number>;
  /** `[N]` class indices. An `Int32Array` is kept as it is; other arrays are checked and converted. */
  readonly labels: Int32Array | ArrayLike<number>;
  /**
   * Features per row (D), a positive integer. May be left out when `sampleShape` is given (it is
   * then the product of `sampleShape`); given with it, the two must agree.
   */
  readonly numFeatures?: number;
  /**
   * The shape of one sample, e.g. `[1, 28, 28]` (channels, height, width) for a grey image: each
   * row of D = prod(sampleShape) values is that tensor in row-major order, and batches come out as
   * `[B, ...sampleShape]`. Default `[numFeatures]` (flat rows, batches `[B, D]`).
   */
  readonly sampleShape?: readonly number[];
  /** Number of classes (default: the largest label + 1, or 0 without rows). */
  readonly numClasses?: number;
  /** A name for error messages (default `'dataset'`). */
  readonly name?: string;
}

/**
 * Options of {@link Dataset.split}.
 *
 * @example
 * ```ts
 * const options: SplitOptions = { seed: 42 };
 * ```
 */
export interface SplitOptions {
  /**
   * Shuffle with a new `Rng(seed)` (default 0 when no `rng` is given, so a split does not depend
   * on how much other code drew from the global generator).
   */
  readonly seed?: number;
  /** Shuffle with this generator instead (it advances); not together with `seed`. */
  readonly rng?: Rng;
  /** Shuffle before splitting (default true); false keeps the first rows in the first part. */
  readonly shuffle?: boolean;
}

/**
 * A classification dataset held on the host: features as a `Float32Array` `[N, D]` (row-major)
 * and integer labels as an `Int32Array` `[N]` in `[0, numClasses)`. Each row is one sample of
 * shape {@link Dataset.sampleShape} (default `[D]`; e.g. `[1, 28, 28]` for grey images, which
 * batches then upload as `[B, 1, 28, 28]`); shuffling, splits and subsets move whole rows, so
 * they do not depend on the sample shape. Batches are copied out of it
 * and uploaded per step (see {@link Dataset.batches} and `toTensors`), so the whole set never has
 * to fit on the device.
 *
 * The constructor checks the sizes and the labels; the arrays are then owned by the dataset
 * (mutating them afterwards is on you: call {@link Dataset.validateLabels} again).
 *
 * @throws {ShapeError} when `features.length !== labels.length * numFeatures`.
 * @throws {ValueError} when `numFeatures` or `numClasses` is not a valid count.
 * @throws {DataError} for a label that is not an integer in `[0, numClasses)`.
 * @example
 * ```ts
 * const ds = new Dataset({ features: [0, 0, 0, 1, 1, 0, 1, 1], labels: [0, 1, 1, 0], numFeatures: 2 });
 * ds.length; // 4
 * ds.numClasses; // 2
 * const [train, val] = ds.split(0.75, { seed: 1 }); // 3 and 1 rows
 * for (const batch of train.batches(2, { shuffle: true, seed: 7 })) batch.x; // Float32Array [B * 2]
 *
 * // image-shaped samples: 2 grey 2x2 images, batches upload as [B, 1, 2, 2]
 * const images = new Dataset({ features: new Float32Array(8), labels: [0, 1], sampleShape: [1, 2, 2] });
 * toTensors(images.batches(2).batch(0)).x.shape; // [2, 1, 2, 2]
 * ```
 */
export class Dataset implements BatchSource {
  /** `[length, numFeatures]` row-major. */
  readonly features: Float32Array;
  /** `[length]` class indices in `[0, numClasses)`. */
  readonly labels: Int32Array;
  /** Features per row (D): the product of {@link Dataset.sampleShape}. */
  readonly numFeatures: number;
  /**
   * The shape of one sample (frozen): `[numFeatures]` for flat rows, e.g. `[1, 28, 28]` for
   * images; batches are uploaded as `[B, ...sampleShape]`.
   */
  readonly sampleShape: readonly number[];
  /** Number of classes (C). */
  readonly numClasses: number;
  /** Rows (N). */
  readonly length: number;
  /** The name used in error messages. */
  readonly name: string;

  constructor(init: DatasetInit) {
    const op = 'Dataset';
    const name = init.name ?? 'dataset';
    const sampleShape = checkSampleShape(op, name, init.sampleShape, init.numFeatures);
    const d = init.numFeatures ?? (sampleShape as readonly number[]).reduce((a, b) => a * b, 1);
    if (!Number.isInteger(d) || d < 1) {
      throw new ValueError(op, `numFeatures must be a positive integer, got ${d}`);
    }
    const n = init.labels.length;
    if (init.features.length !== n * d) {
      throw new ShapeError(
        op,
        `${name}: ${init.features.length} feature values do not fill [${n},${d}] (${n} labels, ${d} features each)`,
        [[init.features.length], [n, d]],
      );
    }
    let numClasses = init.numClasses;
    if (numClasses === undefined) {
      let max = -1;
      for (let i = 0; i < n; i++) if (init.labels[i] > max) max = init.labels[i];
      numClasses = Math.min(2 ** 31 - 1, Math.max(0, Math.floor(max) + 1)); // labels >= 2^31-1 fail below
    } else if (!Number.isInteger(numClasses) || numClasses < 0 || numClasses > 2 ** 31 - 1) {
      throw new ValueError(op, `numClasses must be a non-negative integer, got ${numClasses}`);
    }
    validateLabels(init.labels, numClasses, name);
    this.features = init.features instanceof Float32Array ? init.features : Float32Array.from(init.features);
    this.labels = init.labels instanceof Int32Array ? init.labels : Int32Array.from(init.labels);
    this.numFeatures = d;
    this.sampleShape = sampleShape ?? Object.freeze([d]);
    this.numClasses = numClasses;
    this.length = n;
    this.name = name;
  }

  /**
   * Row `i`: its features (a view into {@link Dataset.features}, not a copy) and its label.
   *
   * @throws {ValueError} when `i` is not an index in `[0, length)`.
   * @example
   * ```ts
   * const { x, y } = ds.get(0);
   * ```
   */
  get(i: number): {
    /** The row's features (a view, not a copy). */
    readonly x: Float32Array;
    /** The row's label. */
    readonly y: number;
  } {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new ValueError(
        'get',
        `${this.name}: row index must be an integer in [0, ${this.length}), got ${i}`,
      );
    }
    const d = this.numFeatures;
    return { x: this.features.subarray(i * d, i * d + d), y: this.labels[i] };
  }

  /**
   * Checks the labels again (the constructor already did): every label in `[0, numClasses)`.
   *
   * @throws {DataError} naming the first bad index and its value.
   * @example
   * ```ts
   * ds.labels[3] = 12;
   * ds.validateLabels(); // DataError: dataset: label at index 3 is 12, outside [0, 10)
   * ```
   */
  validateLabels(): void {
    validateLabels(this.labels, this.numClasses, this.name);
  }

  /**
   * How many rows each class has: `counts[c]` for `c` in `[0, numClasses)`.
   *
   * @example
   * ```ts
   * loadMnist({ split: 'test' }).classCounts()[0]; // 980
   * ```
   */
  classCounts(): Int32Array {
    const counts = new Int32Array(this.numClasses);
    for (let i = 0; i < this.length; i++) counts[this.labels[i]]++;
    return counts;
  }

  /**
   * A new dataset of the given rows, in the given order (repeats allowed), copied out of this
   * one; it keeps `numFeatures` and `numClasses`.
   *
   * @param name the new dataset's name (default `'<name>[subset]'`).
   * @throws {ValueError} for an index that is not an integer in `[0, length)` (names its position).
   * @example
   * ```ts
   * const firstThousand = ds.subset(Array.from({ length: 1000 }, (_, i) => i));
   * ```
   */
  subset(indices: ArrayLike<number>, name = `${this.name}[subset]`): Dataset {
    const d = this.numFeatures;
    const m = indices.length;
    const features = new Float32Array(m * d);
    const labels = new Int32Array(m);
    for (let r = 0; r < m; r++) {
      const row = indices[r];
      if (!Number.isInteger(row) || row < 0 || row >= this.length) {
        throw new ValueError(
          'subset',
          `${this.name}: indices[${r}] = ${row} is not a row index in [0, ${this.length})`,
        );
      }
      features.set(this.features.subarray(row * d, row * d + d), r * d);
      labels[r] = this.labels[row];
    }
    return new Dataset({
      features,
      labels,
      numFeatures: d,
      sampleShape: this.sampleShape,
      numClasses: this.numClasses,
      name,
    });
  }

  /**
   * The same rows and labels seen with another sample shape, e.g. flat MNIST rows as
   * `[1, 28, 28]` images: a new Dataset over the same arrays (no copy; a view, as
   * `Tensor.reshape`). The product of `sampleShape` must be {@link Dataset.numFeatures}.
   *
   * @throws {ShapeError} naming the dataset and both shapes when the sizes differ.
   * @throws {ValueError} when an entry of `sampleShape` is not a positive integer.
   * @example
   * ```ts
   * const images = loadMnist().withSampleShape([1, 28, 28]); // batches [B, 1, 28, 28]
   * images.withSampleShape([784]); // flat rows again
   * ```
   */
  withSampleShape(sampleShape: readonly number[]): Dataset {
    const shape = checkSampleShape('withSampleShape', this.name, sampleShape, this.numFeatures);
    return new Dataset({
      features: this.features,
      labels: this.labels,
      sampleShape: shape,
      numClasses: this.numClasses,
      name: this.name,
    });
  }

  /**
   * Splits the rows in two, e.g. into training and validation sets: the first part gets
   * `round(fraction * length)` rows, the second the rest. The rows are shuffled first (a
   * Fisher–Yates permutation from `Rng(seed)`, seed 0 by default), so the same seed always gives
   * the same split; each part lists its rows in that shuffled order. Both parts are copies.
   *
   * @param fraction of rows in the first part, in `[0, 1]`.
   * @throws {ValueError} for a fraction outside `[0, 1]`, or both `seed` and `rng`.
   * @example
   * ```ts
   * const [train, validation] = loadMnist().split(5 / 6, { seed: 42 }); // 50000 / 10000
   * ```
   */
  split(fraction: number, options: SplitOptions = {}): [Dataset, Dataset] {
    if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) {
      throw new ValueError('split', `fraction must be in [0, 1], got ${fraction}`);
    }
    const { seed, rng, shuffle = true } = options;
    if (seed !== undefined && rng !== undefined) throw new ValueError('split', 'pass seed or rng, not both');
    const n = this.length;
    let order: Int32Array;
    if (shuffle) {
      order = permutation(n, rng ?? new Rng(seed ?? 0));
    } else {
      order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
    }
    const k = Math.round(fraction * n);
    return [
      this.subset(order.subarray(0, k), `${this.name}[split 1/2]`),
      this.subset(order.subarray(k), `${this.name}[split 2/2]`),
    ];
  }

  /**
   * One epoch of mini-batches of `batchSize` rows (the last one smaller unless `dropLast`), in
   * index order or, with `shuffle: true`, in a seeded random order that the returned iterator
   * exposes (`order`, `rngState`) for exact resumes. Defaults as PyTorch's `DataLoader`: no
   * shuffle, keep the last partial batch. Call it once per epoch.
   *
   * @throws {ValueError} for a batch size that is not a positive integer, `seed` with `rng`,
   * `seed`/`rng` without `shuffle: true`, an `order` that is not a permutation of the rows, or a
   * `startBatch` outside `[0, numBatches]`.
   * @see https://pytorch.org/docs/stable/data.html#torch.utils.data.DataLoader
   * @example
   * ```ts
   * const rng = new Rng(0);
   * for (let epoch = 0; epoch < 10; epoch++) {
   *   for (const batch of train.batches(128, { shuffle: true, rng })) {
   *     const { x, y } = toTensors(batch);
   *     // ... forward, loss, backward, step; then x.dispose(); y.dispose();
   *   }
   * }
   * ```
   */
  batches(batchSize: number, options: BatchOptions = {}): BatchIterator {
    return new BatchIterator(this, batchSize, options);
  }
}
