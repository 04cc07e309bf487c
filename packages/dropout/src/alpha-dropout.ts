import type { Tensor } from '@gradkit/tensor';
import { fromOp, Module } from '@gradkit/tensor';
import type { DropoutModuleOptions, DropoutOptions } from './kernels.js';
import {
  ALPHA_AFFINE,
  checkP,
  checkTensor,
  checkTraining,
  keepThreshold,
  MASK_SCALE,
  rngOf,
} from './kernels.js';

/** -SELU scale * SELU alpha = 1.0507009873554805 * 1.6732632423543772: SELU's negative saturation. */
const ALPHA_PRIME = 1.7580993408473766;

/**
 * The affine correction of alpha dropout for drop probability p (PyTorch's constants):
 * `a = ((1 - p)(1 + p alpha'^2))^(-1/2)`, kept units map to `a x + b` with `b = a alpha' p`, and
 * dropped units to `-a alpha' (1 - p)`, where alpha' = 1.7580993408473766.
 *
 * @see G. Klambauer et al., "Self-normalizing neural networks", NeurIPS 2017, section "New Dropout
 *   Technique".
 * @example
 * ```ts
 * alphaDropoutCoefficients(0.2); // { a: 0.8789..., b: 0.3090..., dropped: -1.2361... }
 * ```
 */
export function alphaDropoutCoefficients(p: number): {
  /** The scale applied to every kept unit: `((1 - p)(1 + p alpha'^2))^(-1/2)`. */
  a: number;
  /** The shift added to every kept unit: `a alpha' p`. */
  b: number;
  /** The value of every dropped unit: `-a alpha' (1 - p)`. */
  dropped: number;
} {
  checkP('alphaDropoutCoefficients', p);
  const a = 1 / Math.sqrt((ALPHA_PRIME * ALPHA_PRIME * p + 1) * (1 - p));
  return { a, b: ALPHA_PRIME * a * p, dropped: -ALPHA_PRIME * a * (1 - p) };
}

function alpha(op: string, x: Tensor, p: number, options: DropoutOptions): Tensor {
  checkTensor(op, x);
  checkP(op, p);
  if (!checkTraining(op, options.training) || p === 0 || x.size === 0) return x;
  const d = x.device;
  const { a, b, dropped } = alphaDropoutCoefficients(p);
  const t = keepThreshold(p);
  const u = d.randomUniform(x.shape, rngOf(options.rng));
  let out: ReturnType<typeof d.map>;
  try {
    out = d.map(ALPHA_AFFINE, [u, x.array], [t, a, b, dropped]);
  } catch (e) {
    u.dispose();
    throw e;
  }
  return fromOp(
    op,
    out,
    [x],
    (ctx) => {
      const mask = ctx.own(u);
      return (dy) => [d.map(MASK_SCALE, [mask, dy], [t, a])];
    },
    [u],
  );
}

/**
 * Alpha dropout for self-normalizing (SELU) networks (PyTorch's `F.alpha_dropout`): dropped units
 * are set to SELU's negative saturation -alpha' instead of 0, and an affine correction keeps zero
 * mean and unit variance of inputs that have them:
 * `y = a (m x + (1 - m)(-alpha')) + b` with m ~ Bernoulli(1 - p), alpha' = 1.7580993408473766,
 * `a = ((1 - p)(1 + p alpha'^2))^(-1/2)`, `b = a alpha' p` (see {@link alphaDropoutCoefficients}).
 * The gradient is `a m dy`. With `training: false`, p = 0 or an empty tensor, returns `x` itself.
 * One uniform per element from the generator, one fused kernel each way.
 *
 * Defaults: p = 0.5, training = true.
 *
 * @throws {ValueError} when p is not in [0, 1).
 * @see G. Klambauer, T. Unterthiner, A. Mayr and S. Hochreiter, "Self-normalizing neural
 *   networks", NeurIPS 2017.
 * @example
 * ```ts
 * const h = alphaDropout(selu(linear(x, w, b)), 0.1, { rng: new Rng(0) });
 * ```
 */
export function alphaDropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  return alpha('alphaDropout', x, p, options);
}

/**
 * The alpha dropout layer (PyTorch's `nn.AlphaDropout`): {@link alphaDropout} in training mode,
 * the identity after `eval()`.
 *
 * @see G. Klambauer et al., "Self-normalizing neural networks", NeurIPS 2017.
 * @example
 * ```ts
 * const drop = new AlphaDropout(0.1);
 * const y = drop.forward(selu(h));
 * ```
 */
export class AlphaDropout extends Module {
  /** The drop probability. */
  readonly p: number;
  private readonly rng: DropoutModuleOptions['rng'];

  /**
   * @param p drop probability in [0, 1) (default 0.5).
   * @throws {ValueError} when p is not in [0, 1).
   */
  constructor(p = 0.5, options: DropoutModuleOptions = {}) {
    super();
    this.p = checkP('AlphaDropout', p);
    this.rng = options.rng;
  }

  /** The layer's output: the noise in training mode, `x` itself after `eval()`. */
  forward(x: Tensor): Tensor {
    return alpha('AlphaDropout', x, this.p, { training: this.training, rng: this.rng });
  }
}
