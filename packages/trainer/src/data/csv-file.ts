import type { CsvOptions, CsvTable } from './csv.js';
import { parseCsvText } from './csv.js';
import { maybeGunzip, pathString, readBytes } from './files.js';

/**
 * Reads a CSV file of numbers with one label column (see {@link parseCsv} for the rules). Node
 * only (`@gradkit/trainer/node`; in a browser, `parseCsv(await file.text(), ...)`). A
 * gzip-compressed file (`1f 8b` magic bytes) is decompressed first. The text must be UTF-8.
 *
 * @throws {DataError} naming the file (and line and column) for a missing file, a ragged row, a
 * cell that is not a number, or a bad label; {@link parseCsv} lists them.
 * @throws {ValueError} for bad options.
 * @see https://www.rfc-editor.org/rfc/rfc4180 (CSV)
 * @example
 * ```ts
 * const iris = new Dataset(readCsv('iris.csv', { label: 'species' }));
 * const mnist = new Dataset(readCsv('mnist_train.csv', { label: 0 })); // label first, 784 pixels
 * ```
 */
export function readCsv(path: string | URL, options: CsvOptions): CsvTable {
  const p = pathString(path);
  const bytes = maybeGunzip(readBytes(p), p);
  return parseCsvText(new TextDecoder('utf-8').decode(bytes), options, p);
}
