// Internal: the fused element-wise kernels of the dropout family (defineKernel specs for
// Device.map) and the checks they share. Random numbers are drawn on the host from the seeded Rng
// and uploaded, so a seed gives the same mask on every backend.
import type { ElementwiseSpec, Rng } from '@gradkit/tensor';
import { checkBoolean, checkUnitInterval, defineKernel, getRng, ValueError } from '@gradkit/tensor';

/**
 * `x * (u >= t ? scale : 0)` with u the uniform draw (input a), x the value (input b), t = p0,
 * scale = p1: the inverted-dropout forward pass, and its backward pass with dy for x (the same
 * mask, the same scale). A dropped NaN or infinity stays NaN (x * 0), as in PyTorch, which
 * multiplies by the mask: dropout never hides a non-finite value.
 */
export const MASK_SCALE: ElementwiseSpec = defineKernel({
  name: 'dropout.maskScale',
  arity: 2,
  params: 2,
  expr: 'b * (a >= p0 ? p1 : 0.0)',
});

/**
 * `u >= t ? x * scaleA + shiftB : dropped` (alpha dropout forward; p0..p3 = t, a, b, dropped),
 * except that a dropped NaN or infinity gives NaN, as PyTorch's `x * mask` does. The test is
 * spelled out: GLSL compilers fold `x * 0.0` to 0.
 */
export const ALPHA_AFFINE: ElementwiseSpec = defineKernel({
  name: 'dropout.alphaAffine',
  arity: 2,
  params: 4,
  expr: 'a >= p0 ? b * p1 + p2 : ((b == b && Math.abs(b) <= 3.4028234663852886e38) ? p3 : 0.0 / 0.0)',
});

/** `x * (1 + sigma n)` with n ~ N(0, 1) (input a), x (input b), sigma = p0: Gaussian dropout both ways. */
export const GAUSSIAN_NOISE: ElementwiseSpec = defineKernel({
  name: 'dropout.gaussianNoise',
  arity: 2,
  params: 1,
  expr: 'b * (1.0 + p0 * a)',
});

/**
 * The keep threshold for drop probability p: ceil(p 2^24) / 2^24. The generator's uniforms are
 * multiples of 2^-24, so `u >= threshold` holds exactly when `u >= p`, and the threshold is a
 * float32 value every backend compares exactly (the mask is the same on gl, wasm and cpu).
 */
export function keepThreshold(p: number): number {
  return Math.ceil(p * 2 ** 24) / 2 ** 24;
}

/**
 * Checks a drop probability: a number in [0, 1) (the shared check of `@gradkit/tensor`). p = 1 is
 * rejected with an explanation.
 */
export function checkP(op: string, p: unknown): number {
  if (p === 1) {
    throw new ValueError(
      op,
      'p must be in [0, 1), got 1 (PyTorch accepts p = 1 and returns zeros with zero gradients; gradkit rejects it: no unit would be kept and the 1/(1-p) scale is infinite)',
    );
  }
  return checkUnitInterval(op, 'p', p);
}

/** Checks the `training` flag (default true). */
export function checkTraining(op: string, training: unknown): boolean {
  return training === undefined ? true : checkBoolean(op, 'training', training);
}

/** Checks that x is a live Tensor (`checkTensor` of `@gradkit/tensor`). */
export { checkTensor } from '@gradkit/tensor';

/** The generator of the options, else tensor's global one (read at call time). */
export function rngOf(rng: Rng | undefined): Rng {
  return rng ?? getRng();
}

/** Options of the functional forms (`dropout(x, p, options)` and its variants). */
export interface DropoutOptions {
  /**
   * Apply the noise (default true, as PyTorch's `F.dropout`); false returns the input itself (no
   * copy, no random draw). Modules pass their `training` flag.
   */
  readonly training?: boolean;
  /** The generator to draw from (default: the global one of `@gradkit/tensor`, see `manualSeed`). */
  readonly rng?: Rng;
}

/** Options of the dropout modules. */
export interface DropoutModuleOptions {
  /** The generator to draw from (default: the global one of `@gradkit/tensor` at each forward). */
  readonly rng?: Rng;
}
