import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { maybeGunzip, pathString, readBytes } from './files.js';
import type { IdxData, IdxInput, ReadIdxOptions } from './idx.js';
import { decodeIdx, encodeIdx } from './idx.js';

/**
 * Reads an IDX file (the format of MNIST, Fashion-MNIST, EMNIST) from a path or from bytes,
 * raw or gzip-compressed (recognized by the gzip magic bytes `1f 8b`, whatever the file name),
 * and decodes it with {@link decodeIdx} (see there for the format and the checks). Node only
 * (`@gradkit/trainer/node`); in a browser, decompress and call `decodeIdx`.
 *
 * @param source a file path (string or `file:` URL), or the file's bytes (a `Buffer` or `Uint8Array`).
 * @throws {DataError} naming the file (or `options.name` for bytes) when the file is missing, is
 * not valid gzip, or is not a valid IDX file (see {@link decodeIdx}).
 * @see http://yann.lecun.com/exdb/mnist/ (LeCun, Cortes & Burges: the MNIST database and the IDX format)
 * @example
 * ```ts
 * const images = readIdx('data/train-images-idx3-ubyte.gz');
 * images.shape; // [60000, 28, 28]
 * images.dtype; // 'uint8'
 * images.data.length; // 47040000
 * ```
 */
export function readIdx(source: string | URL | Uint8Array, options: ReadIdxOptions = {}): IdxData {
  const path = source instanceof Uint8Array ? null : pathString(source);
  const name = path ?? options.name ?? '<idx bytes>';
  const raw = path === null ? (source as Uint8Array) : readBytes(path);
  return decodeIdx(maybeGunzip(raw, name), { ...options, name });
}

/**
 * Options of {@link writeIdx}.
 *
 * @example
 * ```ts
 * writeIdx('labels-idx1-ubyte.gz', input, { gzip: true });
 * ```
 */
export interface EncodeIdxOptions {
  /** Gzip the file (default false). */
  readonly gzip?: boolean;
}

/**
 * Writes values as an IDX file ({@link encodeIdx}); `{ gzip: true }` compresses it (name the
 * file `*.gz` by convention; {@link readIdx} detects gzip by content either way). Node only.
 *
 * @throws as {@link encodeIdx}, and the file system's error when the file cannot be written.
 * @see http://yann.lecun.com/exdb/mnist/
 * @example
 * ```ts
 * writeIdx('labels-idx1-ubyte.gz', { shape: [3], dtype: 'uint8', data: [5, 0, 4] }, { gzip: true });
 * ```
 */
export function writeIdx(path: string | URL, input: IdxInput, options: EncodeIdxOptions = {}): void {
  const bytes = encodeIdx(input);
  writeFileSync(pathString(path), options.gzip ? gzipSync(bytes) : bytes);
}
