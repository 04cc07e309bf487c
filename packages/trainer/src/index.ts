// @gradkit/trainer: the browser-safe core (nothing here imports a Node module; a test bundles
// this entry for the browser). Everything that reads or writes files is in ./node.ts
// (`@gradkit/trainer/node`).
export type { Callback, Json, MonitorMode, TrainerOptimizer, TrainingContext } from './callbacks/callback.js';
export type { EarlyStoppingOptions } from './callbacks/early-stopping.js';
export { EarlyStopping } from './callbacks/early-stopping.js';
export type {
  LearningRateSchedulerOptions,
  PlateauScheduler,
  ReduceLROnPlateauCallbackOptions,
} from './callbacks/lr-scheduler.js';
export { LearningRateScheduler, ReduceLROnPlateauCallback } from './callbacks/lr-scheduler.js';
export type { ProgressBarOptions, ProgressStream } from './callbacks/progress.js';
export { formatLogs, ProgressBar } from './callbacks/progress.js';
export {
  decodeCheckpoint,
  encodeCheckpoint,
  stateDictFromSafetensors,
  stateDictToSafetensors,
} from './checkpoint/bytes.js';
export { CheckpointError } from './checkpoint/checkpoint-error.js';
export { migrateStateDict } from './checkpoint/migrate.js';
export type { NamedTensor, SafetensorsContents } from './checkpoint/safetensors.js';
export { decodeSafetensors, encodeSafetensors, SafetensorsError } from './checkpoint/safetensors.js';
export type { Checkpoint } from './checkpoint/types.js';
export { CHECKPOINT_VERSION } from './checkpoint/types.js';
export * from './data/index.js';
export { TORCH_DDP_SCRIPT } from './interop/torch-ddp.js';
export type { ExportTorchOptions, TorchExport } from './interop/torch-export.js';
export { exportTorch, torchModelSource } from './interop/torch-export.js';
export type { TorchStateDictOptions } from './interop/torch-import.js';
export { readTorchStateDict } from './interop/torch-import.js';
export { torchLayerTypes } from './interop/torch-layers.js';
export type {
  TorchHyperparam,
  TorchOptimizerFiles,
  TorchOptimizerJson,
  TorchOptimizerName,
  TorchOptimizerState,
  TorchParamGroup,
} from './interop/torch-optim.js';
export {
  decodeTorchOptimizer,
  encodeTorchOptimizer,
  fromTorchOptimizerState,
  TORCH_OPTIMIZERS,
  TorchOptimizerMappingError,
  toTorchOptimizerState,
} from './interop/torch-optim.js';
export { registerStandardLayers } from './layers.js';
export type { BatchInfo, BatchLoss, EpochLogs, EpochRecord, History } from './logs.js';
export type { ExportOnnxOptions } from './onnx/export-onnx.js';
export { exportOnnx, ONNX_IR_VERSION, ONNX_OPSET } from './onnx/export-onnx.js';
export type {
  CheckpointOptions,
  EvalResult,
  EvaluateOptions,
  FitOptions,
  LossFn,
  Metric,
  TrainerOptions,
  TrainerState,
} from './trainer.js';
export { NonFiniteError, Trainer } from './trainer.js';
