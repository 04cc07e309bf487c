import { GradkitError } from '@gradkit/tensor';

/**
 * Where in a text file a {@link DataError} was found (1-based), and its cause.
 *
 * @example
 * ```ts
 * throw new DataError('iris.csv', 'line 3, column 2 (b): "x" is not a number', { line: 3, column: 2 });
 * ```
 */
export interface DataErrorOptions {
  /** The 1-based line of a text file (CSV) where the problem is. */
  readonly line?: number;
  /** The 1-based column (field) of that line. */
  readonly column?: number;
  /** The underlying error (a file-system or zlib error). */
  readonly cause?: unknown;
}

/**
 * Data that cannot be read or does not make sense: a missing file, a truncated or corrupt IDX
 * file, a CSV cell that is not a number, a ragged CSV row, a label outside `[0, numClasses)`.
 * The message starts with the source (a file path, a dataset name, or the reader for in-memory
 * bytes) and says what was expected and what was found; `line` and `column` locate CSV problems.
 *
 * Bad arguments (a batch size of 0, a split fraction of 2) are `ValueError`s instead, and data
 * whose sizes disagree with the shape passed by the caller are `ShapeError`s, as everywhere in
 * gradkit. All three extend `GradkitError`.
 *
 * @example
 * ```ts
 * try {
 *   readIdx('data/train-images-idx3-ubyte');
 * } catch (e) {
 *   if (e instanceof DataError) console.error(e.message);
 *   // data/train-images-idx3-ubyte: truncated IDX file: expected 47040000 bytes of data for shape [60000,28,28] (uint8, 1 byte each), got 47039216
 * }
 * ```
 */
export class DataError extends GradkitError {
  /** `'DataError'`: the class name, shown in messages and stack traces. */
  override name = 'DataError';
  /** The file path, dataset name or reader the problem was found in. */
  readonly source: string;
  /** The 1-based line (CSV), when the problem is on one line. */
  readonly line: number | undefined;
  /** The 1-based column (CSV), when the problem is in one cell. */
  readonly column: number | undefined;
  constructor(source: string, message: string, options: DataErrorOptions = {}) {
    super(`${source}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.source = source;
    this.line = options.line;
    this.column = options.column;
  }
}
