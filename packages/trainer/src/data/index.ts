// The browser-safe data layer of @gradkit/trainer: in-memory datasets, batches, parsers of bytes
// and text. The file readers (readIdx, readCsv, loadMnist, ...) are in ../node.ts.
export type { Batch, BatchOptions, BatchSource, BatchTensors } from './batches.js';
export { BatchIterator, batchShape, toTensors } from './batches.js';
export type { CsvLabelType, CsvOptions, CsvTable } from './csv.js';
export { parseCsv } from './csv.js';
export type { DatasetInit, SplitOptions } from './dataset.js';
export { Dataset, validateLabels } from './dataset.js';
export type { DataErrorOptions } from './errors.js';
export { DataError } from './errors.js';
export type { IdxArrayOf, IdxData, IdxDtype, IdxInput, ReadIdxOptions } from './idx.js';
export { decodeIdx, encodeIdx, IDX_TYPE_CODES } from './idx.js';
export { MNIST_MEAN, MNIST_STD } from './mnist-constants.js';
export type { RngState } from './permutation.js';
export { permutation } from './permutation.js';
