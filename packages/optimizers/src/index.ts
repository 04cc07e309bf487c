// @gradkit/optimizers: composable gradient transformations (the optax pattern), named optimizers
// matched to PyTorch 1.13 with a stateful step() face, gradient clipping, and learning-rate schedules.

export type { GradientTransformation, Params, Schedule } from '@gradkit/tensor';
export type { AdadeltaHyperparams, AdadeltaOptions } from './adadelta.js';
export { adadelta, adadeltaTransform } from './adadelta.js';
export type { AdagradHyperparams, AdagradOptions } from './adagrad.js';
export { adagrad, adagradTransform } from './adagrad.js';
export type { AdamHyperparams, AdamOptions } from './adam.js';
export { adam, adamTransform } from './adam.js';
export type { AdamaxHyperparams, AdamaxOptions } from './adamax.js';
export { adamax, adamaxTransform } from './adamax.js';
export type { AdamWOptions } from './adamw.js';
export { adamw, adamwTransform } from './adamw.js';
export { addDecayedWeights } from './add-decayed-weights.js';
export { applyUpdates, gradsOf } from './apply-updates.js';
export type { ChainState } from './chain.js';
export { chain } from './chain.js';
export type { ClipByGlobalNormOptions } from './clip-by-global-norm.js';
export { clipByGlobalNorm } from './clip-by-global-norm.js';
export { clipByValue } from './clip-by-value.js';
export { clipGradNorm, clipGradValue } from './clip-grad.js';
export type { CountState, EmptyState } from './empty-state.js';
export { globalNorm } from './global-norm.js';
export { identity } from './identity.js';
export type { InjectableOptions, InjectHyperparamsState } from './inject-hyperparams.js';
export { injectHyperparams } from './inject-hyperparams.js';
export type { LambHyperparams, LambOptions } from './lamb.js';
export { lamb, lambTransform } from './lamb.js';
export type { LeakCheckOptions } from './leak-check.js';
export { configureLeakCheck } from './leak-check.js';
export type { LionHyperparams, LionOptions } from './lion.js';
export { lion, lionTransform } from './lion.js';
export type { Mask, MaskedState } from './masked.js';
export { masked } from './masked.js';
export type { NadamHyperparams, NadamOptions } from './nadam.js';
export { nadam, nadamTransform } from './nadam.js';
export type { TransformOptions } from './named.js';
export type {
  HyperparamValue,
  OptimizerStateDict,
  ParamGroup,
  ParamGroupState,
  ParamState,
  ParamStateEntry,
} from './optimizer.js';
export { Optimizer } from './optimizer.js';
export type { OptimizerParams, ParamGroupInput, ParamsInput } from './param-groups.js';
export type { RadamHyperparams, RadamOptions } from './radam.js';
export { radam, radamTransform } from './radam.js';
export type { RmspropHyperparams, RmspropOptions } from './rmsprop.js';
export { rmsprop, rmspropTransform } from './rmsprop.js';
export { scale } from './scale.js';
export type { ScaleByAdadeltaOptions } from './scale-by-adadelta.js';
export { scaleByAdadelta } from './scale-by-adadelta.js';
export type { ScaleByAdagradOptions } from './scale-by-adagrad.js';
export { scaleByAdagrad } from './scale-by-adagrad.js';
export type { Convention, ScaleByAdamOptions } from './scale-by-adam.js';
export { scaleByAdam } from './scale-by-adam.js';
export type { ScaleByAdamaxOptions } from './scale-by-adamax.js';
export { scaleByAdamax } from './scale-by-adamax.js';
export type { ScaleByLearningRateOptions } from './scale-by-learning-rate.js';
export { scaleByLearningRate } from './scale-by-learning-rate.js';
export type { ScaleByLionOptions } from './scale-by-lion.js';
export { scaleByLion } from './scale-by-lion.js';
export type { ScaleByNadamOptions } from './scale-by-nadam.js';
export { scaleByNadam } from './scale-by-nadam.js';
export type { ScaleByRadamOptions } from './scale-by-radam.js';
export { scaleByRadam } from './scale-by-radam.js';
export type { ScaleByRmsOptions } from './scale-by-rms.js';
export { scaleByRms } from './scale-by-rms.js';
export { scaleBySchedule } from './scale-by-schedule.js';
export type { ScaleByTrustRatioOptions } from './scale-by-trust-ratio.js';
export { scaleByTrustRatio } from './scale-by-trust-ratio.js';
export * from './schedules/index.js';
export type { SgdHyperparams, SgdOptions } from './sgd.js';
export { sgd, sgdTransform } from './sgd.js';
export type { JsonValue, SerializedTensor } from './state-tree.js';
export { deserializeState, disposeState, releaseState, serializeState, tensorsOf } from './state-tree.js';
export type { TraceOptions } from './trace.js';
export { trace } from './trace.js';
export type { TransformationStateDict } from './transformation-optimizer.js';
export { fromTransformation, TransformationOptimizer } from './transformation-optimizer.js';
export type { RuleHyperparams, RuleState } from './update-rule.js';
