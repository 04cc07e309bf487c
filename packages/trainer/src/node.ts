// @gradkit/trainer/node: everything of the trainer that touches the file system or Node's
// modules (fs, path, zlib, module). The browser-safe core is the main entry, ./index.ts.
export type { MetricsLoggerOptions } from './callbacks/metrics-logger.js';
export { MetricsLogger } from './callbacks/metrics-logger.js';
export type { ModelCheckpointOptions } from './callbacks/model-checkpoint.js';
export { ModelCheckpoint } from './callbacks/model-checkpoint.js';
export { writeFileAtomic } from './checkpoint/atomic.js';
export type { LoadCheckpointOptions } from './checkpoint/checkpoint.js';
export { CHECKPOINT_FILES, loadCheckpoint, saveCheckpoint } from './checkpoint/checkpoint.js';
export { readCsv } from './data/csv-file.js';
export type { EncodeIdxOptions } from './data/idx-file.js';
export { readIdx, writeIdx } from './data/idx-file.js';
export type { MnistNormalization, MnistOptions, MnistShape, MnistSplit } from './data/mnist.js';
export { loadMnist, mnistDataDir } from './data/mnist.js';
export type {
  LoadTorchStateDictOptions,
  TorchExportFiles,
  WriteTorchExportOptions,
} from './interop/torch-files.js';
export { loadTorchOptimizer, loadTorchStateDict, writeTorchExport } from './interop/torch-files.js';
