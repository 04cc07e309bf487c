import type { Device, Rng } from '@gradkit/tensor';

/**
 * Options every initializer that creates a tensor takes.
 *
 * - `rng`: the generator to draw from (default: `@gradkit/tensor`'s global generator, seeded by
 *   `manualSeed`, so `manualSeed(s)` makes every initializer reproducible).
 * - `device`: where to create the tensor (default: the kernels' default device).
 * - `requiresGrad`: make the new tensor a leaf that collects gradients (default false; wrap it in a
 *   `Parameter` or pass it to `Module.registerParameter` for training).
 *
 * Values are drawn on the host from `rng` and uploaded once, so the same seed gives the same
 * weights on every backend.
 */
export interface InitOptions {
  /** The generator to draw from (default: the global one of `@gradkit/tensor`). */
  readonly rng?: Rng;
  /** The device to create the tensor on (default: the default device). */
  readonly device?: Device;
  /** Make the tensor a leaf that collects gradients (default false). */
  readonly requiresGrad?: boolean;
}

/**
 * Options of the in-place variants (`kaimingUniform_(w)`, `initialize(w, spec)`): the tensor
 * keeps its device, shape and `requiresGrad`; only `rng` can be chosen.
 */
export interface FillOptions {
  /** The generator to draw from (default: the global one of `@gradkit/tensor`). */
  readonly rng?: Rng;
}
