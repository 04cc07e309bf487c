import type { Tensor } from '@gradkit/tensor';
import { formatShape, Module, ShapeError } from '@gradkit/tensor';
import { maskAndScale } from './dropout.js';
import type { DropoutModuleOptions, DropoutOptions } from './kernels.js';
import { checkP } from './kernels.js';

/**
 * @internal The noise shape of channel dropout under the name `op`: `[N, C, 1, 1]` for an input
 * `[N, C, H, W]`, `[C, 1, 1]` for an unbatched `[C, H, W]`.
 */
function channelNoiseShape(op: string): (x: Tensor) => readonly number[] {
  return (x) => {
    if (x.rank === 4) return [x.shape[0], x.shape[1], 1, 1];
    if (x.rank === 3) return [x.shape[0], 1, 1];
    throw new ShapeError(
      op,
      `expects an input [N, C, H, W] or [C, H, W] (one mask value per channel), got shape ${formatShape(x.shape)}`,
      [x.shape],
    );
  };
}

/**
 * Spatial (channel-wise) inverted dropout, PyTorch's `F.dropout2d`: at training time each whole
 * channel of each sample is kept with probability 1 - p and scaled by 1/(1 - p), else zeroed:
 *
 * `y[n, c, h, w] = m[n, c] * x[n, c, h, w] / (1 - p)`, with m[n, c] ~ Bernoulli(1 - p)
 *
 * one draw per (n, c), shared by every (h, w). The gradient is `m[n, c] * dy / (1 - p)`. Neighbouring
 * pixels of a feature map are strongly correlated, so element-wise dropout barely regularizes a
 * convolutional layer; dropping whole maps does (Tompson et al. 2015).
 *
 * Input `[N, C, H, W]`, or an unbatched `[C, H, W]` (one draw per channel), as PyTorch 2's
 * `nn.Dropout2d` documents. PyTorch 1.13 instead reads a 3-D input as `[N, C, L]` (with a
 * deprecation warning announcing today's meaning); for that, reshape to `[N, C, L, 1]`. Other ranks
 * are a ShapeError here (PyTorch 1.13 warns and falls back to element-wise dropout).
 *
 * With `training: false`, or p = 0, or an empty tensor, returns `x` itself (no copy, no random
 * draw). The mask comes from `options.rng` (default: the global generator): N * C uniforms drawn
 * on the host in (n, c) order, so a seed gives the same mask on every backend; channel
 * (n, c) is kept when its uniform u >= p. Mask and scale run as one fused, broadcasting kernel,
 * forward and backward.
 *
 * Defaults: p = 0.5, training = true (the {@link Dropout2d} module follows its train/eval mode).
 *
 * @throws {ShapeError} naming `dropout2d` and the shape for an input that is not 3-D or 4-D.
 * @throws {ValueError} when p is not in [0, 1), or x is not a Tensor.
 * @see J. Tompson, R. Goroshin, A. Jain, Y. LeCun, C. Bregler, "Efficient Object Localization
 *   Using Convolutional Networks", CVPR 2015 (spatial dropout).
 * @see https://pytorch.org/docs/stable/generated/torch.nn.Dropout2d.html
 * @example
 * ```ts
 * const x = randn([8, 16, 12, 12]); // a batch of 16-channel feature maps
 * const y = dropout2d(x, 0.25, { rng: new Rng(0) }); // about 4 of 16 maps per sample zeroed, the rest * 4/3
 * dropout2d(x, 0.25, { training: false }) === x; // true
 * ```
 */
export function dropout2d(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  return maskAndScale('dropout2d', x, p, options, channelNoiseShape('dropout2d'));
}

/**
 * The spatial dropout layer (PyTorch's `nn.Dropout2d`): {@link dropout2d} with probability `p` in
 * training mode (whole channels of `[N, C, H, W]` or `[C, H, W]` zeroed, the rest scaled by
 * 1/(1 - p)), the identity (the input itself) after `eval()`. Has no parameters or buffers.
 *
 * Defaults: p = 0.5; the global generator at each forward unless `rng` is given.
 *
 * @see J. Tompson et al., "Efficient Object Localization Using Convolutional Networks", CVPR 2015.
 * @see https://pytorch.org/docs/stable/generated/torch.nn.Dropout2d.html
 * @example
 * ```ts
 * const drop = new Dropout2d(0.2);
 * const y = drop.forward(randn([4, 8, 5, 5])); // channels masked and scaled
 * drop.eval();
 * drop.forward(y) === y; // true
 * ```
 */
export class Dropout2d extends Module {
  /** The probability of dropping a channel. */
  readonly p: number;
  private readonly rng: DropoutModuleOptions['rng'];

  /**
   * @param p drop probability in [0, 1) (default 0.5).
   * @param options.rng the generator (default: the global one at each forward).
   * @throws {ValueError} when p is not in [0, 1).
   */
  constructor(p = 0.5, options: DropoutModuleOptions = {}) {
    super();
    this.p = checkP('Dropout2d', p);
    this.rng = options.rng;
  }

  /** Whole channels dropped in training mode, `x` itself after `eval()`. */
  forward(x: Tensor): Tensor {
    return maskAndScale(
      'Dropout2d',
      x,
      this.p,
      { training: this.training, rng: this.rng },
      channelNoiseShape('Dropout2d'),
    );
  }

  /** `Dropout2d(p=0.5)`. */
  override toString(): string {
    return `Dropout2d(p=${this.p})`;
  }
}
