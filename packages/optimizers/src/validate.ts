import {
  checkFloat32,
  checkNonNegative,
  checkUnitInterval,
  describeValue,
  float32Problem,
  ValueError,
} from '@gradkit/tensor';

// Argument checks of the transformations and optimizers: the shared checks of @gradkit/tensor (one
// message format in every package, naming the optimizer or transformation, the argument and the
// value: `Adam: betas[1] must be in [0, 1), got 1`) under the names used here, plus the checks
// only optimizers have (beta pairs, learning rates usable by the float32 kernels).

export {
  checkBoolean as bool,
  checkFinite as finiteNumber,
  checkKnownKeys as knownKeys,
  checkNonNegative as nonNegative,
  checkOneOf as oneOf,
  checkPositive as positive,
  checkUnitInterval as unitInterval,
} from '@gradkit/tensor';

/**
 * Why a finite, non-negative learning rate `x` cannot be used by float32 kernels, or null when it
 * can: `Math.fround(x)` is Infinity (`x` above the largest float32, about 3.4e38), or, unless
 * `allowUnderflow`, `x > 0` rounds to 0 (below about 1.4e-45: a rate that silently never updates).
 *
 * @internal
 */
export function float32RateProblem(x: number, allowUnderflow = false): string | null {
  return float32Problem(x, allowUnderflow);
}

/**
 * A learning rate given as an option: finite, `>= 0`, and usable by the float32 kernels:
 * `Math.fround(v)` finite (`1e300` is an error, not a step that writes Infinity into every
 * weight) and a positive rate that does not round to 0 (`1e-50` is an error, not a rate that
 * silently never updates).
 *
 * @internal
 * @throws {ValueError} naming `op`, `name` and the value.
 */
export function learningRate(op: string, name: string, v: unknown): number {
  return checkFloat32(op, name, checkNonNegative(op, name, v));
}

/**
 * A learning rate set while training (`setLr`, a schedule's value): finite, `>= 0` and finite in
 * float32, as {@link learningRate}; a positive rate below the smallest float32 is returned as 0,
 * the rate float32 kernels compute with (a decaying schedule may legitimately get there).
 *
 * @internal
 * @throws {ValueError} naming `op`, `name` and the value.
 */
export function runtimeLearningRate(op: string, name: string, v: unknown): number {
  const x = checkFloat32(op, name, checkNonNegative(op, name, v), true);
  return Math.fround(x) === 0 ? 0 : x;
}

/**
 * A pair `[beta1, beta2]` with both in [0, 1).
 *
 * @internal
 * @throws {ValueError} naming `op`, the index and the value.
 */
export function betaPair(op: string, v: unknown): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) {
    throw new ValueError(op, `betas must be a pair [beta1, beta2], got ${describeValue(v)}`);
  }
  return [checkUnitInterval(op, 'betas[0]', v[0]), checkUnitInterval(op, 'betas[1]', v[1])];
}
