export type { GELUOptions } from './activations.js';
export {
  ActivationModule,
  ELU,
  GELU,
  Identity,
  LeakyReLU,
  ReLU,
  SELU,
  Sigmoid,
  Softmax,
  Softplus,
  Tanh,
} from './activations.js';
export type { Conv2dLayerOptions } from './conv2d.js';
export { Conv2d } from './conv2d.js';
export { Flatten } from './flatten.js';
export type { Initializer, LinearOptions } from './linear.js';
export { Linear, pytorchLinearInit } from './linear.js';
export type { CrossEntropyLossOptions } from './losses.js';
export { BCEWithLogitsLoss, CrossEntropyLoss, MSELoss } from './losses.js';
export type {
  BuildContext,
  BuildModelOptions,
  JsonValue,
  LayerFactory,
  LayerSpec,
  ModelSpec,
} from './model-spec.js';
export {
  buildModel,
  describeModel,
  layerTypes,
  registerLayer,
  resolveInitSpec,
  specNumber,
} from './model-spec.js';
export type { AvgPool2dLayerOptions, MaxPool2dLayerOptions } from './pooling.js';
export { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from './pooling.js';
export type { Layer } from './sequential.js';
export { Sequential } from './sequential.js';
export type { Size2 } from './spatial-checks.js';
