// The data layer of @gradkit/trainer: file readers (IDX, CSV, MNIST) and the host-side Dataset.
export type { Batch, BatchOptions, BatchSource, BatchTensors } from './batches.js';
export { BatchIterator, batchShape, toTensors } from './batches.js';
export type { CsvLabelType, CsvOptions, CsvTable } from './csv.js';
export { parseCsv, readCsv } from './csv.js';
export type { DatasetInit, SplitOptions } from './dataset.js';
export { Dataset, validateLabels } from './dataset.js';
export type { DataErrorOptions } from './errors.js';
export { DataError } from './errors.js';
export type { EncodeIdxOptions, IdxArrayOf, IdxData, IdxDtype, IdxInput, ReadIdxOptions } from './idx.js';
export { encodeIdx, IDX_TYPE_CODES, readIdx, writeIdx } from './idx.js';
export type { MnistNormalization, MnistOptions, MnistShape, MnistSplit } from './mnist.js';
export { loadMnist, MNIST_MEAN, MNIST_STD, mnistDataDir } from './mnist.js';
export type { RngState } from './permutation.js';
export { permutation } from './permutation.js';
