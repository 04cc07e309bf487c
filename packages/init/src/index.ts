export { constant, constant_, ones, ones_, zeros, zeros_ } from './constant.js';
export type { DiracOptions } from './dirac.js';
export { dirac, dirac_ } from './dirac.js';
export type { Distribution } from './distribution.js';
export { sample } from './distribution.js';
export { eye, eye_ } from './eye.js';
export type { FanMode, Fans } from './fans.js';
export { computeFans, fanOf } from './fans.js';
export type { Nonlinearity, PyTorchNonlinearity } from './gain.js';
export { calculateGain, NONLINEARITIES } from './gain.js';
export type { KaimingNormalOptions, KaimingOptions } from './kaiming.js';
export { kaimingNormal, kaimingNormal_, kaimingUniform, kaimingUniform_ } from './kaiming.js';
export type { LecunNormalOptions } from './lecun.js';
export { lecunNormal, lecunNormal_, lecunUniform, lecunUniform_ } from './lecun.js';
export type { NormalOptions } from './normal.js';
export { normal, normal_ } from './normal.js';
export type { FillOptions, InitOptions } from './options.js';
export type { OrthogonalOptions } from './orthogonal.js';
export { orthogonal, orthogonal_ } from './orthogonal.js';
export type {
  ElementwiseInitSpec,
  HasNamedParameters,
  Initializer,
  InitName,
  InitRules,
  InitSpec,
} from './spec.js';
export {
  checkInitSpec,
  distributionOf,
  INIT_NAMES,
  initialize,
  initializeParameters,
  initializer,
} from './spec.js';
export type { TruncatedNormalOptions } from './truncated-normal.js';
export { truncatedNormal, truncatedNormal_ } from './truncated-normal.js';
export type { UniformOptions } from './uniform.js';
export { uniform, uniform_ } from './uniform.js';
export type { VarianceScalingOptions } from './variance-scaling.js';
export { varianceScaling, varianceScaling_ } from './variance-scaling.js';
export type { XavierNormalOptions, XavierOptions } from './xavier.js';
export { xavierNormal, xavierNormal_, xavierUniform, xavierUniform_ } from './xavier.js';
