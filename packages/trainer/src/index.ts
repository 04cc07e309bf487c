export type { Callback, Json, MonitorMode, TrainerOptimizer, TrainingContext } from './callbacks/callback.js';
export type { EarlyStoppingOptions } from './callbacks/early-stopping.js';
export { EarlyStopping } from './callbacks/early-stopping.js';
export type {
  LearningRateSchedulerOptions,
  PlateauScheduler,
  ReduceLROnPlateauCallbackOptions,
} from './callbacks/lr-scheduler.js';
export { LearningRateScheduler, ReduceLROnPlateauCallback } from './callbacks/lr-scheduler.js';
export type { MetricsLoggerOptions } from './callbacks/metrics-logger.js';
export { MetricsLogger } from './callbacks/metrics-logger.js';
export type { ModelCheckpointOptions } from './callbacks/model-checkpoint.js';
export { ModelCheckpoint } from './callbacks/model-checkpoint.js';
export type { ProgressBarOptions, ProgressStream } from './callbacks/progress.js';
export { formatLogs, ProgressBar } from './callbacks/progress.js';
export { writeFileAtomic } from './checkpoint/atomic.js';
export type { Checkpoint, LoadCheckpointOptions } from './checkpoint/checkpoint.js';
export {
  CHECKPOINT_FILES,
  CHECKPOINT_VERSION,
  CheckpointError,
  loadCheckpoint,
  saveCheckpoint,
} from './checkpoint/checkpoint.js';
export { migrateStateDict } from './checkpoint/migrate.js';
export type { NamedTensor, SafetensorsContents } from './checkpoint/safetensors.js';
export { decodeSafetensors, encodeSafetensors, SafetensorsError } from './checkpoint/safetensors.js';
export * from './data/index.js';
export type { ExportTorchOptions, TorchExport, TorchExportFiles } from './interop/torch-export.js';
export { exportTorch, torchModelSource, writeTorchExport } from './interop/torch-export.js';
export type { LoadTorchStateDictOptions, TorchStateDictOptions } from './interop/torch-import.js';
export { loadTorchStateDict, readTorchStateDict } from './interop/torch-import.js';
export { torchLayerTypes } from './interop/torch-layers.js';
export { registerStandardLayers } from './layers.js';
export type { BatchInfo, BatchLoss, EpochLogs, EpochRecord, History } from './logs.js';
export type { ExportOnnxOptions } from './onnx/export-onnx.js';
export { exportOnnx, ONNX_IR_VERSION, ONNX_OPSET } from './onnx/export-onnx.js';
export type {
  CheckpointOptions,
  EvalResult,
  FitOptions,
  LossFn,
  Metric,
  TrainerOptions,
  TrainerState,
} from './trainer.js';
export { NonFiniteError, Trainer } from './trainer.js';
