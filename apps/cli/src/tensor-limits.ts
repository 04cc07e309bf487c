// Size checks made before a model or a batch is allocated: every array must fit the backend's
// `maxElements` (BackendInfo), or the run would die inside a kernel or a typed-array constructor.
import type { TrainConfig } from './config.js';
import { CliError } from './errors.js';

/** The largest array a backend allows (from `device.info()`). */
export interface SizeLimit {
  /** The backend's name, for messages. */
  readonly backend: string;
  /** Largest number of float32 elements in one array. */
  readonly maxElements: number;
}

/** What the data says about the model: its input width, its classes, and the rows it trains on. */
export interface DataShape {
  readonly inputs: number;
  readonly classes: number;
  /** The most rows one batch can have (the training rows; validation and test rows when larger). */
  readonly rows: number;
}

/** Rows of the evaluation batches the trainer uses at least (`Trainer.evaluate`'s default batch). */
const EVAL_BATCH = 256;

/**
 * The largest batch a run makes: training batches are `min(batchSize, rows)`, validation and
 * test batches `min(max(batchSize, 256), rows)`.
 */
export function largestBatch(batchSize: number, rows: number): number {
  return Math.max(1, Math.min(Math.max(batchSize, EVAL_BATCH), rows));
}

/**
 * Checks that the MLP `inputs - hidden... - classes` and its batches fit `limit`, before anything
 * is allocated: every weight matrix (`in x out` elements) and every activation (`batch x width`
 * elements, with the {@link largestBatch}) must hold at most `limit.maxElements` elements.
 *
 * @throws {CliError} naming the flag and the limit: exit 2 for a layer size or batch size that
 *   is too large, exit 1 when the data's number of classes makes the output layer too large.
 * @example
 * ```ts
 * checkModelFits({ hidden: [1e9], batchSize: 128 }, { inputs: 784, classes: 10, rows: 60000 }, { backend: 'wasm', maxElements: 2 ** 28 });
 * // CliError: --hidden 1000000000: layer 1's weight matrix 784 x 1000000000 = 784000000000 elements exceeds ...
 * ```
 */
export function checkModelFits(
  c: Pick<TrainConfig, 'hidden' | 'batchSize'>,
  data: DataShape,
  limit: SizeLimit,
): void {
  const max = limit.maxElements;
  const over = `exceeds the ${limit.backend} backend's limit of ${max} elements per array`;
  const widths = [data.inputs, ...c.hidden, data.classes];
  for (let i = 0; i + 1 < widths.length; i++) {
    const n = widths[i] * widths[i + 1];
    if (n <= max && widths[i + 1] <= max) continue;
    if (i + 1 === widths.length - 1) {
      throw new CliError(
        `the data has ${data.classes} classes: the output layer's weight matrix ${widths[i]} x ${data.classes} = ${n} elements ${over} ` +
          '(check the label column; a smaller last --hidden size helps only if it is the larger factor)',
        1,
      );
    }
    throw new CliError(
      `--hidden ${c.hidden.join(',')}: layer ${i + 1}'s weight matrix ${widths[i]} x ${widths[i + 1]} = ${n} elements ${over}`,
    );
  }
  const batch = largestBatch(c.batchSize, data.rows);
  for (let i = 0; i < widths.length; i++) {
    const n = batch * widths[i];
    if (n <= max) continue;
    const what =
      i === 0
        ? `${widths[i]} inputs`
        : i === widths.length - 1
          ? `${widths[i]} classes`
          : `${widths[i]} units`;
    const flag =
      batch > c.batchSize
        ? `evaluation batches of ${batch} rows (at least ${EVAL_BATCH}, or --batch-size)`
        : `--batch-size ${c.batchSize}: a batch of ${batch} rows`;
    const hint =
      batch > c.batchSize
        ? 'lower --hidden'
        : `lower --batch-size${i > 0 && i < widths.length - 1 ? ' or --hidden' : ''}`;
    throw new CliError(`${flag} x ${what} = ${n} elements ${over}; ${hint}`);
  }
}

/**
 * The size check of {@link checkModelFits} for a convolutional model described by `spec` on
 * samples of `sampleShape` (`[C, H, W]`): every weight, and every activation of the
 * {@link largestBatch} (`batch x C x H x W` after each layer), must fit `limit.maxElements`.
 * (A convolution's own intermediates are split into batch chunks by `conv2d` itself.)
 *
 * @throws {CliError} (exit 2) naming `--batch-size` and the limit.
 * @example
 * ```ts
 * checkCnnFits({ batchSize: 1e6 }, spec, [1, 28, 28], 60000, { backend: 'gl', maxElements: 2 ** 23 });
 * // CliError: --batch-size 1000000: a batch of 60000 rows x 6x28x28 activations = ... exceeds ...
 * ```
 */
export function checkCnnFits(
  c: Pick<TrainConfig, 'batchSize'>,
  spec: { readonly layers: readonly Record<string, unknown>[] },
  sampleShape: readonly number[],
  rows: number,
  limit: SizeLimit,
): void {
  const max = limit.maxElements;
  const over = `exceeds the ${limit.backend} backend's limit of ${max} elements per array`;
  const batch = largestBatch(c.batchSize, rows);
  let shape = [...sampleShape];
  const check = () => {
    const per = shape.reduce((a, b) => a * b, 1);
    if (batch * per <= max) return;
    const flag =
      batch > c.batchSize
        ? `evaluation batches of ${batch} rows (at least ${EVAL_BATCH}, or --batch-size)`
        : `--batch-size ${c.batchSize}: a batch of ${batch} rows`;
    throw new CliError(
      `${flag} x ${shape.join('x')} activations = ${batch * per} elements ${over}; lower --batch-size`,
    );
  };
  check();
  for (const l of spec.layers) {
    const num = (k: string) => Number(l[k] ?? 0);
    if (l.type === 'conv2d') {
      const k = num('kernelSize');
      const p = num('padding');
      shape = [num('out'), shape[1] + 2 * p - k + 1, shape[2] + 2 * p - k + 1];
    } else if (l.type === 'maxPool2d') {
      const k = num('kernelSize');
      shape = [shape[0], Math.floor(shape[1] / k), Math.floor(shape[2] / k)];
    } else if (l.type === 'flatten') {
      shape = [shape.reduce((a, b) => a * b, 1)];
    } else if (l.type === 'linear') {
      shape = [num('out')];
      if (num('in') * num('out') > max)
        throw new CliError(`a weight matrix ${num('in')} x ${num('out')} ${over}`, 1);
    }
    check();
  }
}
