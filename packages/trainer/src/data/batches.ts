import { type Device, getRng, Rng, type Tensor, tensor, ValueError } from '@gradkit/tensor';
import { permutation, type RngState } from './permutation.js';

/**
 * The host arrays a {@link BatchIterator} reads from (a `Dataset` is one): `length` rows of
 * `numFeatures` float32 features, row-major, and one int32 label per row.
 *
 * @example
 * ```ts
 * const source: BatchSource = { features: new Float32Array(6), labels: new Int32Array(3), numFeatures: 2, length: 3 };
 * ```
 */
export interface BatchSource {
  /** `[length, numFeatures]` row-major. */
  readonly features: Float32Array;
  /** `[length]` class indices. */
  readonly labels: Int32Array;
  /** Features per row (D). */
  readonly numFeatures: number;
  /** The shape of one sample, of D values (default `[numFeatures]`); batches are `[B, ...sampleShape]`. */
  readonly sampleShape?: readonly number[];
  /** Rows (N). */
  readonly length: number;
}

/**
 * Options of `Dataset.batches` (PyTorch `DataLoader` defaults: no shuffle, keep the last partial
 * batch).
 *
 * To resume an epoch exactly, either pass the saved `order` (see {@link BatchIterator.order}), or
 * restore the generator to {@link BatchIterator.rngState} and shuffle again; then skip the batches
 * already done with `startBatch`.
 *
 * @example
 * ```ts
 * const options: BatchOptions = { shuffle: true, seed: 42, dropLast: true };
 * ```
 */
export interface BatchOptions {
  /** Visit rows in a random order (default false: rows in index order). */
  readonly shuffle?: boolean;
  /** Shuffle with a new `Rng(seed)` (only with `shuffle: true`; not with `rng`). */
  readonly seed?: number;
  /**
   * Shuffle with this generator, which advances (only with `shuffle: true`; not with `seed`).
   * Default with `shuffle: true` and no `seed`: the global generator of `@gradkit/tensor`
   * (`getRng()`, seeded by `manualSeed`), so successive epochs get different orders.
   */
  readonly rng?: Rng;
  /** Leave out the last batch when it has fewer than `batchSize` rows (default false). */
  readonly dropLast?: boolean;
  /**
   * The visiting order itself: a permutation of `0 .. length-1` (e.g. a saved
   * {@link BatchIterator.order}). Not together with `shuffle`, `seed` or `rng`.
   */
  readonly order?: ArrayLike<number>;
  /** Start at this batch of the epoch (default 0), to resume an interrupted epoch. */
  readonly startBatch?: number;
}

/**
 * One mini-batch, copied out of the dataset into fresh host arrays (safe to keep or modify).
 *
 * @example
 * ```ts
 * for (const { x, y, size, numFeatures } of dataset.batches(32)) {
 *   // x: Float32Array [size * numFeatures], y: Int32Array [size]
 * }
 * ```
 */
export interface Batch {
  /** Features `[size, numFeatures]`, row-major. */
  readonly x: Float32Array;
  /** Class indices `[size]`. */
  readonly y: Int32Array;
  /** The dataset rows in this batch, in batch order. */
  readonly indices: Int32Array;
  /** Rows in this batch (B): `batchSize`, or fewer for the last one. */
  readonly size: number;
  /** Features per row (D). */
  readonly numFeatures: number;
  /** The shape of one sample (`[numFeatures]` for flat rows): the batch's tensor shape is `[size, ...sampleShape]`. */
  readonly sampleShape: readonly number[];
  /** The position of this batch in the epoch (0-based). */
  readonly index: number;
}

/**
 * One epoch of mini-batches over a dataset, in a fixed order computed when it is created (a
 * seeded shuffle or index order). Iterate it (`for ... of`), or fetch batch `i` with
 * {@link BatchIterator.batch}; iterating twice yields the same batches. Without `dropLast`, every
 * row appears in exactly one batch per epoch; with it, the last `length % batchSize` rows of the
 * order are left out.
 *
 * Create it with `Dataset.batches`.
 *
 * @example
 * ```ts
 * const epoch = dataset.batches(64, { shuffle: true, seed: 1 });
 * const checkpoint = { order: Array.from(epoch.order), nextBatch: 0 };
 * for (const batch of epoch) {
 *   // ... train on batch.x / batch.y
 *   checkpoint.nextBatch = batch.index + 1;
 * }
 * // resuming: dataset.batches(64, { order: checkpoint.order, startBatch: checkpoint.nextBatch })
 * ```
 */
export class BatchIterator implements Iterable<Batch> {
  /** Rows per batch. */
  readonly batchSize: number;
  /** Whether a last partial batch is left out. */
  readonly dropLast: boolean;
  /** The epoch's visiting order: a permutation of `0 .. length-1` (identity without shuffle). */
  readonly order: Int32Array;
  /**
   * The state of the generator just before it shuffled (null without shuffle): restoring it and
   * calling `batches` with the same options reproduces {@link BatchIterator.order}.
   */
  readonly rngState: RngState | null;
  /** Batches in the whole epoch: `ceil(length / batchSize)`, or `floor` with `dropLast`. */
  readonly numBatches: number;
  /** The first batch iteration yields. */
  readonly startBatch: number;
  private readonly source: BatchSource;
  private readonly sampleShape: readonly number[];

  /** Use `Dataset.batches` (this checks the same arguments). */
  constructor(source: BatchSource, batchSize: number, options: BatchOptions = {}) {
    const op = 'batches';
    const n = source.length;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ValueError(op, `batchSize must be a positive integer, got ${batchSize}`);
    }
    const { shuffle = false, seed, rng, dropLast = false, order, startBatch = 0 } = options;
    if (seed !== undefined && rng !== undefined) throw new ValueError(op, 'pass seed or rng, not both');
    if (order !== undefined) {
      if (shuffle || seed !== undefined || rng !== undefined) {
        throw new ValueError(op, 'pass either order or shuffle (with seed / rng), not both');
      }
      this.order = checkedOrder(op, order, n);
      this.rngState = null;
    } else if (shuffle) {
      const gen = rng ?? (seed !== undefined ? new Rng(seed) : getRng());
      this.rngState = gen.state();
      this.order = permutation(n, gen);
    } else {
      if (seed !== undefined || rng !== undefined) {
        throw new ValueError(op, 'seed / rng given without shuffle: true (rows would not be shuffled)');
      }
      this.rngState = null;
      this.order = new Int32Array(n);
      for (let i = 0; i < n; i++) this.order[i] = i;
    }
    this.batchSize = batchSize;
    this.dropLast = dropLast;
    this.numBatches = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
    if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > this.numBatches) {
      throw new ValueError(op, `startBatch must be an integer in [0, ${this.numBatches}], got ${startBatch}`);
    }
    this.startBatch = startBatch;
    this.source = source;
    this.sampleShape = source.sampleShape ?? Object.freeze([source.numFeatures]);
  }

  /**
   * Batch `i` of the epoch (`0 <= i < numBatches`), regardless of `startBatch`.
   *
   * @throws {ValueError} when `i` is out of range.
   * @example
   * ```ts
   * const last = epoch.batch(epoch.numBatches - 1);
   * ```
   */
  batch(i: number): Batch {
    const start = this.checkIndex(i);
    const size = Math.min(this.batchSize, this.order.length - start);
    return this.fill(i, new Float32Array(size * this.source.numFeatures), new Int32Array(size), true);
  }

  /**
   * Iterates like `for ... of`, but writes every batch into one pair of arrays allocated once, so
   * an epoch allocates nothing per batch (what `Trainer.fit` uses). A yielded batch's `x`, `y` and
   * `indices` are views that the next batch overwrites: copy them to keep them.
   *
   * @example
   * ```ts
   * for (const b of dataset.batches(128).reusing()) model.forward(tensor(b.x, [b.size, b.numFeatures]));
   * ```
   */
  *reusing(): Generator<Batch> {
    const x = new Float32Array(this.batchSize * this.source.numFeatures);
    const y = new Int32Array(this.batchSize);
    for (let i = this.startBatch; i < this.numBatches; i++) {
      const size = Math.min(this.batchSize, this.order.length - this.checkIndex(i));
      yield this.fill(i, x.subarray(0, size * this.source.numFeatures), y.subarray(0, size), false);
    }
  }

  private checkIndex(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.numBatches) {
      throw new ValueError('batch', `batch index must be an integer in [0, ${this.numBatches}), got ${i}`);
    }
    return i * this.batchSize;
  }

  /** Copies batch `i` into `x` and `y` (sized for it); `copyIndices` gives it its own index array. */
  private fill(i: number, x: Float32Array, y: Int32Array, copyIndices: boolean): Batch {
    const { features, labels, numFeatures: d } = this.source;
    const start = i * this.batchSize;
    const end = start + y.length;
    const indices = copyIndices ? this.order.slice(start, end) : this.order.subarray(start, end);
    const size = indices.length;
    for (let r = 0; r < size; r++) {
      const row = indices[r];
      x.set(features.subarray(row * d, row * d + d), r * d);
      y[r] = labels[row];
    }
    return { x, y, indices, size, numFeatures: d, sampleShape: this.sampleShape, index: i };
  }

  /** Yields batches `startBatch .. numBatches-1`. */
  *[Symbol.iterator](): Iterator<Batch> {
    for (let i = this.startBatch; i < this.numBatches; i++) yield this.batch(i);
  }
}

function checkedOrder(op: string, order: ArrayLike<number>, n: number): Int32Array {
  if (order.length !== n) {
    throw new ValueError(op, `order must be a permutation of 0..${n - 1}, got ${order.length} indices`);
  }
  const seen = new Uint8Array(n);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = order[i];
    const bad = !Number.isInteger(v) || v < 0 || v >= n ? 'not an index' : seen[v] ? 'a repeat' : null;
    if (bad)
      throw new ValueError(op, `order must be a permutation of 0..${n - 1}: order[${i}] = ${v} is ${bad}`);
    seen[v] = 1;
    out[i] = v;
  }
  return out;
}

/**
 * The tensor shape of a batch's features: `[size, ...sampleShape]`, or `[size, numFeatures]` when
 * the batch has no sample shape.
 *
 * @example
 * ```ts
 * batchShape({ size: 32, numFeatures: 784, sampleShape: [1, 28, 28] }); // [32, 1, 28, 28]
 * ```
 */
export function batchShape(
  batch: Pick<Batch, 'size' | 'numFeatures'> & { readonly sampleShape?: readonly number[] },
): number[] {
  return [batch.size, ...(batch.sampleShape ?? [batch.numFeatures])];
}

/**
 * A batch's arrays uploaded as tensors; dispose both after the step (or create them inside a
 * `scope`).
 *
 * @example
 * ```ts
 * const { x, y }: BatchTensors = toTensors(batch);
 * x.dispose();
 * y.dispose();
 * ```
 */
export interface BatchTensors {
  /** Features `[B, ...sampleShape]` (`[B, D]` for flat rows). */
  readonly x: Tensor;
  /** Class indices `[B]` as float32 values (exact up to 2^24). */
  readonly y: Tensor;
}

/**
 * Uploads a batch to a device: features as a `[B, ...sampleShape]` tensor (`[B, D]` for flat
 * rows, `[B, 1, 28, 28]` for MNIST images) and labels as a `[B]` tensor of
 * integer-valued floats (what `gather`, `oneHot` and `equal` take). `softmaxCrossEntropy` also
 * accepts the host labels `batch.y` (an `Int32Array`) directly, which it range-checks on the
 * host; the tensor form is not checked.
 *
 * @param device the device (default: `getDevice()`, the auto-selected one).
 * @example
 * ```ts
 * for (const batch of train.batches(64, { shuffle: true, seed: 0 })) {
 *   scope(() => {
 *     const { x } = toTensors(batch);
 *     const loss = softmaxCrossEntropy(model.forward(x), batch.y);
 *     loss.backward();
 *   });
 * }
 * ```
 */
export function toTensors(
  batch: Pick<Batch, 'x' | 'y' | 'size' | 'numFeatures'> & { readonly sampleShape?: readonly number[] },
  device?: Device,
): BatchTensors {
  const x = tensor(batch.x, batchShape(batch), { device });
  try {
    return { x, y: tensor(batch.y, [batch.size], { device }) };
  } catch (e) {
    x.dispose();
    throw e;
  }
}
