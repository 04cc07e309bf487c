import type { Tensor } from '@gradkit/tensor';
import { fromOp, Module } from '@gradkit/tensor';
import type { DropoutModuleOptions, DropoutOptions } from './kernels.js';
import { checkP, checkTensor, checkTraining, keepThreshold, MASK_SCALE, rngOf } from './kernels.js';

/**
 * @internal Inverted dropout of `x` under the name `op`: one uniform draw per element of
 * `noiseShape(x)` (default: x's shape; a shape with size-1 dimensions that broadcasts against x
 * shares one draw along them, as `Dropout2d`'s one draw per channel), on the host from the
 * generator, then one fused kernel `u >= p ? x / (1 - p) : 0`; the backward pass applies the same
 * mask and scale to the incoming gradient. `noiseShape` runs after the checks and may throw.
 */
export function maskAndScale(
  op: string,
  x: Tensor,
  p: number,
  options: DropoutOptions,
  noiseShape?: (x: Tensor) => readonly number[],
): Tensor {
  checkTensor(op, x);
  checkP(op, p);
  const training = checkTraining(op, options.training);
  const shape = noiseShape ? noiseShape(x) : x.shape;
  if (!training || p === 0 || x.size === 0) return x;
  const d = x.device;
  const u = d.randomUniform(shape, rngOf(options.rng));
  const params = [keepThreshold(p), Math.fround(1 / (1 - p))];
  let out: ReturnType<typeof d.map>;
  try {
    out = d.map(MASK_SCALE, [u, x.array], params);
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
      return (dy) => [d.map(MASK_SCALE, [mask, dy], params)];
    },
    [u],
  );
}

/**
 * Inverted dropout (PyTorch's `F.dropout`): at training time each element is kept with
 * probability 1 - p and scaled by 1/(1 - p), else set to 0, so the expectation is unchanged:
 * `y = m * x / (1 - p)` with m ~ Bernoulli(1 - p). The gradient is `m * dy / (1 - p)`: it flows
 * only through kept units. With `training: false`, or p = 0, or an empty tensor, returns `x`
 * itself (no copy, no random draw), as PyTorch does.
 *
 * The mask comes from `options.rng` (default: the global generator): one uniform per element,
 * drawn on the host, so the same seed gives the same mask on every backend. Mask and scale run as
 * one fused kernel, forward and backward.
 *
 * Defaults: p = 0.5, training = true (as PyTorch's functional form; the {@link Dropout} module
 * follows its train/eval mode instead).
 *
 * @throws {ValueError} when p is not in [0, 1) (PyTorch accepts p = 1 and returns zeros; gradkit
 *   rejects it, see the README), or x is not a Tensor.
 * @see N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever and R. Salakhutdinov, "Dropout: a
 *   simple way to prevent neural networks from overfitting", JMLR 15 (2014).
 * @example
 * ```ts
 * const h = dropout(relu(linear(x, w, b)), 0.5, { rng: new Rng(0) });
 * dropout(x, 0.5, { training: false }) === x; // true
 * ```
 */
export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  return maskAndScale('dropout', x, p, options);
}

/**
 * The dropout layer (PyTorch's `nn.Dropout`): {@link dropout} with probability `p` in training
 * mode, the identity (the input itself) after `eval()`. Has no parameters or buffers.
 *
 * @see N. Srivastava et al., "Dropout", JMLR 15 (2014).
 * @example
 * ```ts
 * const drop = new Dropout(0.2);
 * const y = drop.forward(x); // masked and scaled
 * drop.eval();
 * drop.forward(x) === x; // true
 * ```
 */
export class Dropout extends Module {
  /** The drop probability. */
  readonly p: number;
  private readonly rng: DropoutModuleOptions['rng'];

  /**
   * @param p drop probability in [0, 1) (default 0.5).
   * @param options.rng the generator (default: the global one at each forward).
   * @throws {ValueError} when p is not in [0, 1).
   */
  constructor(p = 0.5, options: DropoutModuleOptions = {}) {
    super();
    this.p = checkP('Dropout', p);
    this.rng = options.rng;
  }

  /** The layer's output: the noise in training mode, `x` itself after `eval()`. */
  forward(x: Tensor): Tensor {
    return maskAndScale('Dropout', x, this.p, { training: this.training, rng: this.rng });
  }
}
