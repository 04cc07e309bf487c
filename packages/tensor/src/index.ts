// The kernels types and device selection that tensor users need, re-exported for one import.
export type {
  BackendInfo,
  BackendName,
  Device,
  DeviceArray,
  ElementwiseSpec,
  IntervalEnds,
  MatmulOptions,
  Shape,
  Window2dOptions,
  WindowSpec,
} from '@gradkit/kernels';
// The argument checks every package shares (one message format), and the shape helpers.
export {
  availableBackends,
  backendInfo,
  broadcastShapes,
  checkBoolean,
  checkFinite,
  checkFloat32,
  checkInteger,
  checkInterval,
  checkKnownKeys,
  checkNonNegative,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkPositive,
  checkShape,
  checkUnitInterval,
  createDevice,
  defineKernel,
  describeValue,
  FLOAT32_MAX,
  float32Problem,
  formatShape,
  getDevice,
  invalidArgument,
  Rng,
  setDevice,
  shapesEqual,
  sizeOf,
} from '@gradkit/kernels';
export type { Activation, GeluApproximate, GeluOptions } from './activations.js';
export { elu, gelu, leakyRelu, relu, selu, sigmoid, softplus, tanh } from './activations.js';
export { add, div, maximum, minimum, mul, neg, pow, sub } from './arithmetic.js';
export type { BackwardFn, BackwardOptions, OpContext } from './autograd.js';
export { fromOp } from './autograd.js';
export type { BceWithLogitsOptions } from './bce-with-logits.js';
export { binaryCrossEntropyWithLogits } from './bce-with-logits.js';
export { equal, greater, greaterEqual, less, lessEqual, notEqual, where } from './compare.js';
export { concat } from './concat.js';
export type { Conv2dOptions, Conv2dPadding } from './conv.js';
export { conv2d } from './conv.js';
export type { TensorOptions } from './creation.js';
export { arange, full, ones, onesLike, tensor, zeros, zerosLike } from './creation.js';
export { BackendError, DisposedError, GradkitError, ShapeError, ValueError } from './errors.js';
export type { Indices } from './gather.js';
export { gather, oneHot } from './gather.js';
export { enableGrad, isGradEnabled, noGrad } from './grad-mode.js';
export type { GradcheckInputReport, GradcheckOptions, GradcheckReport } from './gradcheck.js';
export { gradcheck } from './gradcheck.js';
export { flatten, reshape, squeeze, transpose, unsqueeze } from './layout.js';
export type { LinearOptions } from './linear.js';
export { biasActivation, linear } from './linear.js';
export type { Reduction } from './loss-reduction.js';
export { abs, clamp, clone, exp, log, sqrt, square } from './math.js';
export { matmul } from './matmul.js';
export type {
  AnyModule,
  BufferOptions,
  LoadStateDictOptions,
  LoadStateDictResult,
  StateDict,
  StateDtype,
  StateEntry,
} from './module.js';
export { Module, ModuleList } from './module.js';
export type { MseLossOptions } from './mse-loss.js';
export { mseLoss } from './mse-loss.js';
export type { Labels } from './operands.js';
export { checkTensor } from './operands.js';
export type { GradientTransformation, Params, Schedule } from './optimizer-types.js';
export type { ParameterOptions } from './parameter.js';
export { Parameter } from './parameter.js';
export type { AdaptiveSize, AvgPool2dOptions, MaxPool2dOptions } from './pool.js';
export { adaptiveAvgPool2d, avgPool2d, maxPool2d } from './pool.js';
export type { RandomOptions } from './random.js';
export { bernoulli, getRng, manualSeed, rand, randn } from './random.js';
export { argmax, logsumexp, max, mean, min, sum } from './reductions.js';
export type { DeviceMemoryInfo, MemoryInfo } from './scope.js';
export { keep, memory, scope } from './scope.js';
export type { SliceBound } from './slice.js';
export { pad, slice } from './slice.js';
export { logSoftmax, softmax } from './softmax.js';
export type { SoftmaxCrossEntropyOptions } from './softmax-cross-entropy.js';
export { softmaxCrossEntropy } from './softmax-cross-entropy.js';
export type {
  StateDictJson,
  StateDictToJsonOptions,
  StateEntryJson,
  StateValueJson,
} from './state-dict-json.js';
export { stateDictFromJSON, stateDictToJSON } from './state-dict-json.js';
export type { Axes, NestedArray, NestedNumbers, TensorLike } from './tensor.js';
export { Tensor } from './tensor.js';
export type { Im2colOptions } from './window.js';
export { im2col, unfold, window, windows2d } from './window.js';
export { zeroGrad } from './zero-grad.js';
