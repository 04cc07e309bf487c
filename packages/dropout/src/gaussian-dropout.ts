import type { Tensor } from '@gradkit/tensor';
import { fromOp, Module } from '@gradkit/tensor';
import type { DropoutModuleOptions, DropoutOptions } from './kernels.js';
import { checkP, checkTensor, checkTraining, GAUSSIAN_NOISE, rngOf } from './kernels.js';

function gaussian(op: string, x: Tensor, p: number, options: DropoutOptions): Tensor {
  checkTensor(op, x);
  checkP(op, p);
  if (!checkTraining(op, options.training) || p === 0 || x.size === 0) return x;
  const d = x.device;
  const sigma = Math.sqrt(p / (1 - p));
  const n = d.randomNormal(x.shape, rngOf(options.rng));
  let out: ReturnType<typeof d.map>;
  try {
    out = d.map(GAUSSIAN_NOISE, [n, x.array], [sigma]);
  } catch (e) {
    n.dispose();
    throw e;
  }
  return fromOp(
    op,
    out,
    [x],
    (ctx) => {
      const noise = ctx.own(n);
      return (dy) => [d.map(GAUSSIAN_NOISE, [noise, dy], [sigma])];
    },
    [n],
  );
}

/**
 * Gaussian dropout (Srivastava et al. 2014, section 10; Keras' `GaussianDropout(rate)`):
 * multiplicative noise with mean 1 and the variance Bernoulli dropout of rate p has,
 * `y = x * r`, r ~ N(1, sigma^2), `sigma^2 = p / (1 - p)`. No rescaling is needed (E[r] = 1), and
 * the gradient is `r * dy`. With `training: false`, p = 0 or an empty tensor, returns `x` itself.
 * One normal draw per element from the generator (Box–Muller), one fused kernel each way.
 *
 * Defaults: p = 0.5 (sigma = 1), training = true.
 *
 * @throws {ValueError} when p is not in [0, 1).
 * @see N. Srivastava et al., "Dropout: a simple way to prevent neural networks from overfitting",
 *   JMLR 15 (2014), section 10 "Multiplicative Gaussian Noise".
 * @example
 * ```ts
 * const h = gaussianDropout(relu(linear(x, w, b)), 0.2); // r ~ N(1, 0.25)
 * ```
 */
export function gaussianDropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  return gaussian('gaussianDropout', x, p, options);
}

/**
 * The Gaussian dropout layer: {@link gaussianDropout} in training mode, the identity after
 * `eval()`.
 *
 * @see N. Srivastava et al., JMLR 15 (2014), section 10.
 * @example
 * ```ts
 * const drop = new GaussianDropout(0.2);
 * ```
 */
export class GaussianDropout extends Module {
  /** The drop probability whose Bernoulli variance the noise matches. */
  readonly p: number;
  private readonly rng: DropoutModuleOptions['rng'];

  /**
   * @param p rate in [0, 1) (default 0.5); the noise's standard deviation is sqrt(p / (1 - p)).
   * @throws {ValueError} when p is not in [0, 1).
   */
  constructor(p = 0.5, options: DropoutModuleOptions = {}) {
    super();
    this.p = checkP('GaussianDropout', p);
    this.rng = options.rng;
  }

  /** The layer's output: the noise in training mode, `x` itself after `eval()`. */
  forward(x: Tensor): Tensor {
    return gaussian('GaussianDropout', x, this.p, { training: this.training, rng: this.rng });
  }
}
