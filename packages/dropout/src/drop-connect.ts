import type { InitSpec } from '@gradkit/init';
import { initializer } from '@gradkit/init';
import type { Parameter, Rng, Tensor } from '@gradkit/tensor';
import { Module, ValueError } from '@gradkit/tensor';
import { maskAndScale } from './dropout.js';
import type { DropoutOptions } from './kernels.js';
import { checkP, checkTensor } from './kernels.js';

/** Options of the {@link DropConnect} module. */
export interface DropConnectOptions {
  /** The generator for the masks and, with a shape, the initial weight (default: the global one). */
  readonly rng?: Rng;
  /**
   * How to create the weight when a shape is given (an `@gradkit/init` spec; default
   * `{ name: 'kaimingUniform', a: Math.sqrt(5) }`, PyTorch's `nn.Linear` default, bound
   * 1/sqrt(fanIn)).
   */
  readonly init?: InitSpec;
}

const LINEAR_DEFAULT: InitSpec = { name: 'kaimingUniform', a: Math.sqrt(5) };

/**
 * DropConnect on a weight tensor (Wan et al. 2013): each weight is kept with probability 1 - p
 * and scaled by 1/(1 - p), else zeroed, `W' = M * W / (1 - p)` with M ~ Bernoulli(1 - p); use W'
 * in place of W for this forward pass. The gradient reaching W is `M * dW' / (1 - p)`. With
 * `training: false` (or p = 0) returns `weight` itself.
 *
 * Conventions: one mask per call, shared by the whole mini-batch (the paper draws one per
 * example); inverted scaling at training time so that inference uses W unchanged (the paper
 * instead approximates the output distribution by a Gaussian at inference).
 *
 * Defaults: p = 0.5, training = true.
 *
 * @throws {ValueError} when p is not in [0, 1).
 * @see L. Wan, M. Zeiler, S. Zhang, Y. LeCun and R. Fergus, "Regularization of neural networks
 *   using DropConnect", ICML 2013.
 * @example
 * ```ts
 * const y = linear(x, dropConnect(w, 0.5, { rng }), b);
 * ```
 */
export function dropConnect(weight: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  return maskAndScale('dropConnect', weight, p, options);
}

/**
 * A module that owns a weight and hands out a DropConnect-masked view of it: `forward()` returns
 * {@link dropConnect}`(weight, p)` in training mode (a fresh mask per call) and the weight itself
 * after `eval()`. The weight is registered as the parameter `weight`, so optimizers, regularizers
 * and state dicts see it under the module's name (`fc.weight`). Give it a tensor, or a shape and
 * an `@gradkit/init` spec (default: PyTorch's `nn.Linear` initialization).
 *
 * @see L. Wan et al., "Regularization of neural networks using DropConnect", ICML 2013.
 * @example
 * ```ts
 * class Layer extends Module {
 *   readonly w = this.registerModule('w', new DropConnect([16, 8], 0.5, { init: { name: 'xavierUniform' } }));
 *   readonly b = this.registerParameter('b', zeros([16]));
 *   forward(x: Tensor): Tensor {
 *     return linear(x, this.w.forward(), this.b); // parameters: 'b', 'w.weight'
 *   }
 * }
 * ```
 */
export class DropConnect extends Module<[], Tensor> {
  /** The drop probability. */
  readonly p: number;
  /** The unmasked weight (a Parameter registered as `weight`). */
  readonly weight: Parameter;
  private readonly rng: Rng | undefined;

  /**
   * @param weight the weight to wrap (a plain tensor is taken over as a Parameter, as
   *   `registerParameter` does), or the shape of a new weight created with `options.init`.
   * @param p drop probability in [0, 1) (default 0.5).
   * @throws {ValueError} when p is not in [0, 1) or the init spec is invalid.
   */
  constructor(weight: Tensor | readonly number[], p = 0.5, options: DropConnectOptions = {}) {
    super();
    const op = 'DropConnect';
    this.p = checkP(op, p);
    let w: Tensor;
    if (Array.isArray(weight)) w = initializer(options.init ?? LINEAR_DEFAULT)(weight, { rng: options.rng });
    else {
      if (options.init !== undefined)
        throw new ValueError(op, 'options.init applies only when a shape is given');
      w = checkTensor(op, weight, 'weight');
    }
    this.weight = this.registerParameter('weight', w);
    this.rng = options.rng;
  }

  /** The weight to use for this forward pass: masked and scaled in training mode, else itself. */
  forward(): Tensor {
    return maskAndScale('DropConnect', this.weight, this.p, { training: this.training, rng: this.rng });
  }
}
