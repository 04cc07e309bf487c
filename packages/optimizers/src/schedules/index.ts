// Learning-rate schedules of @gradkit/optimizers, matched to PyTorch 1.13's torch.optim.lr_scheduler.

export { constantSchedule } from './constant.js';
export type { ConstantFactorScheduleOptions } from './constant-factor.js';
export { constantFactorSchedule } from './constant-factor.js';
export type { CosineAnnealingScheduleOptions } from './cosine-annealing.js';
export { cosineAnnealingSchedule } from './cosine-annealing.js';
export type { CosineAnnealingWarmRestartsScheduleOptions } from './cosine-annealing-warm-restarts.js';
export { cosineAnnealingWarmRestartsSchedule } from './cosine-annealing-warm-restarts.js';
export type { ExponentialScheduleOptions } from './exponential.js';
export { exponentialSchedule } from './exponential.js';
export { joinSchedules } from './join.js';
export type { LinearScheduleOptions } from './linear.js';
export { linearSchedule } from './linear.js';
export type { MultiStepScheduleOptions } from './multi-step.js';
export { multiStepSchedule } from './multi-step.js';
export type {
  AnnealStrategy,
  OneCycleMomentumScheduleOptions,
  OneCyclePhaseOptions,
  OneCycleScheduleOptions,
} from './one-cycle.js';
export { oneCycleMomentumSchedule, oneCycleSchedule } from './one-cycle.js';
export type { PolynomialScheduleOptions } from './polynomial.js';
export { polynomialSchedule } from './polynomial.js';
export type { ReduceLROnPlateauOptions, ReduceLROnPlateauState } from './reduce-lr-on-plateau.js';
export { ReduceLROnPlateau } from './reduce-lr-on-plateau.js';
export type { StepScheduleOptions } from './step.js';
export { stepSchedule } from './step.js';
