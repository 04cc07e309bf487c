import { Rng } from '@gradkit/kernels';
import type { TensorOptions } from './creation.js';
import { defaultDevice } from './operands.js';
import { Tensor } from './tensor.js';

const globalRng = new Rng(0);

/**
 * Re-seeds the global generator that {@link rand}, {@link randn} and {@link bernoulli} draw from
 * when no `rng` option is given (PyTorch's `torch.manual_seed`). The default seed is 0, so runs
 * are reproducible even without a call. Same seed, same numbers, on every backend (values are
 * drawn on the host and uploaded).
 *
 * @param seed any integer, taken modulo 2^32 as `Rng` takes it: `-1` seeds as `2^32 - 1` and
 *   `2^32 + 1` as `1` (same numbers); a non-integer (`1.5`, `NaN`) is a `ValueError`. Tools that
 *   want every seed to mean its own stream accept only [0, 2^32) (the gradkit CLI does).
 * @returns the global generator.
 * @example
 * ```ts
 * manualSeed(42);
 * const a = rand([3]).dataSync();
 * manualSeed(42);
 * rand([3]).dataSync(); // equal to a
 * ```
 */
export function manualSeed(seed: number): Rng {
  globalRng.seed(seed);
  return globalRng;
}

/**
 * The global generator (xoshiro128** from `@gradkit/kernels`); save and restore it with
 * `getRng().state()` / `setState()`.
 *
 * @example
 * ```ts
 * const saved = getRng().state();
 * ```
 */
export function getRng(): Rng {
  return globalRng;
}

/** Options of the random creation functions. */
export interface RandomOptions extends TensorOptions {
  /** The generator to draw from (default: the global one, see {@link manualSeed}). */
  readonly rng?: Rng;
}

/**
 * Uniform values in `[low, high)` (default `[0, 1)`, PyTorch's `rand`).
 *
 * @example
 * ```ts
 * rand([2, 3]); // U[0, 1)
 * rand([4], { low: -1, high: 1, rng: new Rng(7) });
 * ```
 */
export function rand(
  shape: readonly number[],
  options: RandomOptions & { readonly low?: number; readonly high?: number } = {},
): Tensor {
  const d = defaultDevice(options.device);
  return new Tensor(d.randomUniform(shape, options.rng ?? globalRng, options.low ?? 0, options.high ?? 1), {
    requiresGrad: options.requiresGrad,
  });
}

/**
 * Normal values N(mean, std^2) (default N(0, 1), PyTorch's `randn`), by the Box–Muller transform.
 *
 * @example
 * ```ts
 * randn([2, 3], { std: 0.1 });
 * ```
 */
export function randn(
  shape: readonly number[],
  options: RandomOptions & { readonly mean?: number; readonly std?: number } = {},
): Tensor {
  const d = defaultDevice(options.device);
  return new Tensor(d.randomNormal(shape, options.rng ?? globalRng, options.mean ?? 0, options.std ?? 1), {
    requiresGrad: options.requiresGrad,
  });
}

/**
 * Bernoulli draws: 1 with probability `p`, else 0 (masks for dropout).
 *
 * @throws {ValueError} when p is outside [0, 1].
 * @example
 * ```ts
 * bernoulli([4, 4], 0.8); // keep-mask with P(1) = 0.8
 * ```
 */
export function bernoulli(shape: readonly number[], p: number, options: RandomOptions = {}): Tensor {
  const d = defaultDevice(options.device);
  return new Tensor(d.randomBernoulli(shape, options.rng ?? globalRng, p), {
    requiresGrad: options.requiresGrad,
  });
}
