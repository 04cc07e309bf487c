export type {
  BackendBuffer,
  BackendGradInput,
  BackendInfo,
  BackendLinearGrads,
  BackendName,
  BuiltinBackendName,
  ElementwiseSpec,
  KernelBackend,
  ReduceOp,
  SyncRead,
} from './backend.js';
export { BACKEND_ORDER } from './backend.js';
export { CpuBackend } from './backends/cpu.js';
export type { ShapeThreadStats, ThreadMode } from './backends/wasm/thread-policy.js';
export type {
  WasmBackendOptions,
  WasmGemmKernel,
  WasmJitStats,
  WasmMemoryStats,
  WasmProbe,
} from './backends/wasm/wasm.js';
export { probeWasm, WasmBackend, WasmBuffer } from './backends/wasm/wasm.js';
export type {
  DeviceMemory,
  LinearGradKernel,
  LinearGradOptions,
  LinearGrads,
  MatmulEpilogue,
  MatmulOptions,
} from './device.js';
export { Device, DeviceArray } from './device.js';
export type { ActivationGradOp, BinaryOp, ScalarOp, UnaryOp } from './elementwise.js';
export { ACTIVATION_GRAD, BINARY, SCALAR, UNARY, WHERE } from './elementwise.js';
export { BackendError, DisposedError, GradkitError, ShapeError, ValueError } from './errors.js';
export type { RngState } from './random.js';
export { Rng } from './random.js';
export type { BackendCreateOptions, BackendFactory, BackendProbe } from './registry.js';
export { registerBackend, registeredBackends, unregisterBackend } from './registry.js';
export type { BackendAvailability, DeviceOptions } from './select.js';
export {
  availableBackends,
  backendInfo,
  backendsToTest,
  createDevice,
  getDevice,
  setDevice,
} from './select.js';
export type { Shape } from './shape.js';
export {
  broadcastShapes,
  formatShape,
  inferReshape,
  normalizeAxes,
  reducedShape,
  shapesEqual,
  sizeOf,
  stridesOf,
} from './shape.js';
export { defineKernel, isDefinedKernel } from './spec/define.js';
export type { IntervalEnds } from './validate.js';
export {
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
  describeValue,
  FLOAT32_MAX,
  float32Problem,
  invalidArgument,
} from './validate.js';
export type { SliceRange, Window2dGeometry, Window2dOptions, WindowPlan, WindowSpec } from './window.js';
export {
  padWindow,
  planWindow,
  sliceIndices,
  sliceWindow,
  unfoldWindow,
  WINDOW_MAX_COORD,
  windowGeometry2d,
  windowSpec2d,
} from './window.js';
