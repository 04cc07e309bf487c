import type { Activation, GeluApproximate, Tensor } from '@gradkit/tensor';
import {
  checkKnownKeys,
  checkOneOf,
  checkOptions,
  elu,
  gelu,
  leakyRelu,
  Module,
  relu,
  selu,
  sigmoid,
  softmax,
  softplus,
  tanh,
  ValueError,
} from '@gradkit/tensor';

/**
 * Base of the element-wise activation modules. `activation` names the function so that
 * {@link Sequential} can fuse it with a preceding {@link Linear} (bias + activation in one kernel).
 *
 * @example
 * ```ts
 * const layer: Module = new ReLU();
 * if (layer instanceof ActivationModule) layer.activation; // 'relu'
 * ```
 */
export abstract class ActivationModule extends Module {
  /** The activation as a {@link Activation} name, for fusion and model descriptions. */
  abstract readonly activation: Activation;
  /** Extra parameter (negative slope of LeakyReLU), else undefined. */
  get negativeSlope(): number | undefined {
    return undefined;
  }
}

/**
 * `ReLU(x) = max(x, 0)` as a module.
 *
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.ReLU.html
 * @example
 * ```ts
 * new ReLU().forward(tensor([-1, 2])).toArray(); // [0, 2]
 * ```
 */
export class ReLU extends ActivationModule {
  readonly activation = 'relu' as const;
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/**
 * `LeakyReLU(x) = x > 0 ? x : negativeSlope x` (default slope 0.01, as PyTorch).
 *
 * @example
 * ```ts
 * new LeakyReLU(0.1).forward(tensor([-1, 2])).toArray(); // [-0.1, 2]
 * ```
 */
export class LeakyReLU extends ActivationModule {
  readonly activation = 'leakyRelu' as const;
  private readonly slope: number;
  constructor(negativeSlope = 0.01) {
    super();
    if (typeof negativeSlope !== 'number' || !Number.isFinite(negativeSlope)) {
      throw new ValueError('LeakyReLU', `negativeSlope must be a finite number, got ${negativeSlope}`);
    }
    this.slope = negativeSlope;
  }
  override get negativeSlope(): number {
    return this.slope;
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.slope);
  }
}

/**
 * `Tanh(x) = tanh(x)` as a module.
 *
 * @example
 * ```ts
 * new Tanh().forward(tensor([0])).toArray(); // [0]
 * ```
 */
export class Tanh extends ActivationModule {
  readonly activation = 'tanh' as const;
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/**
 * `Sigmoid(x) = 1 / (1 + e^-x)` as a module.
 *
 * @example
 * ```ts
 * new Sigmoid().forward(tensor([0])).toArray(); // [0.5]
 * ```
 */
export class Sigmoid extends ActivationModule {
  readonly activation = 'sigmoid' as const;
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** Options of {@link GELU}. */
export interface GELUOptions {
  /**
   * `'none'` (default, as PyTorch): exact, `x Φ(x)` with erf; `'tanh'`: PyTorch's tanh
   * approximation `x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
   */
  readonly approximate?: GeluApproximate;
}

/**
 * `GELU(x) = x Φ(x)` as a module, PyTorch's `nn.GELU(approximate=...)`: exact (erf-based) by
 * default, or with `{ approximate: 'tanh' }` the tanh approximation
 * `x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`. Its {@link ActivationModule.activation} is
 * `'gelu'` or `'geluTanh'`, so {@link Sequential} fuses either form with a preceding Linear.
 *
 * @throws {ValueError} naming `GELU` for an `approximate` other than `'none'` or `'tanh'`, or an
 *   unknown option.
 * @see Hendrycks & Gimpel 2016, https://arxiv.org/abs/1606.08415
 * @see https://pytorch.org/docs/stable/generated/torch.nn.GELU.html
 * @example
 * ```ts
 * new GELU().forward(tensor([1])).item(); // 0.8413
 * new GELU({ approximate: 'tanh' }).forward(tensor([1])).item(); // 0.8412
 * ```
 */
export class GELU extends ActivationModule {
  /** `'gelu'` (exact) or `'geluTanh'` (the tanh approximation). */
  readonly activation: 'gelu' | 'geluTanh';
  /** How the Gaussian CDF is evaluated: `'none'` (exact) or `'tanh'`. */
  readonly approximate: GeluApproximate;
  constructor(options: GELUOptions = {}) {
    super();
    const o = checkOptions<GELUOptions>('GELU', options);
    checkKnownKeys('GELU', o, ['approximate']);
    this.approximate = checkOneOf('GELU', 'approximate', o.approximate ?? 'none', ['none', 'tanh'] as const);
    this.activation = this.approximate === 'tanh' ? 'geluTanh' : 'gelu';
  }
  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
  /** `GELU(approximate='tanh')`, as PyTorch prints it (`GELU()` for the default). */
  override toString(): string {
    return this.approximate === 'none' ? 'GELU()' : `GELU(approximate='${this.approximate}')`;
  }
}

/**
 * `SELU(x) = scale (x > 0 ? x : alpha (e^x - 1))` with PyTorch's alpha ≈ 1.6733, scale ≈ 1.0507.
 *
 * @see Klambauer et al. 2017, https://arxiv.org/abs/1706.02515
 * @example
 * ```ts
 * new SELU().forward(tensor([1])).item(); // 1.0507
 * ```
 */
export class SELU extends ActivationModule {
  readonly activation = 'selu' as const;
  forward(x: Tensor): Tensor {
    return selu(x);
  }
}

/**
 * `ELU(x) = x > 0 ? x : e^x - 1` (alpha 1) as a module.
 *
 * @example
 * ```ts
 * new ELU().forward(tensor([-1])).item(); // -0.6321
 * ```
 */
export class ELU extends ActivationModule {
  readonly activation = 'elu' as const;
  forward(x: Tensor): Tensor {
    return elu(x);
  }
}

/**
 * `Softplus(x) = log(1 + e^x)` (beta 1, threshold 20, as PyTorch) as a module.
 *
 * @example
 * ```ts
 * new Softplus().forward(tensor([0])).item(); // 0.6931
 * ```
 */
export class Softplus extends ActivationModule {
  readonly activation = 'softplus' as const;
  forward(x: Tensor): Tensor {
    return softplus(x);
  }
}

/**
 * The identity, as a module (a placeholder in {@link Sequential}).
 *
 * @example
 * ```ts
 * new Identity().forward(x) === x; // true
 * ```
 */
export class Identity extends ActivationModule {
  readonly activation = 'identity' as const;
  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * `Softmax(x)_i = e^{x_i} / sum_j e^{x_j}` along `axis` (default -1), numerically stable.
 * Not an element-wise activation, so never fused.
 *
 * @example
 * ```ts
 * new Softmax().forward(tensor([[0, 0]])).toArray(); // [[0.5, 0.5]]
 * ```
 */
export class Softmax extends Module {
  /**
   * @param axis the axis the probabilities sum to 1 along (default -1, the last).
   * @throws {ValueError} when `axis` is not an integer.
   */
  constructor(readonly axis = -1) {
    super();
    if (!Number.isInteger(axis)) throw new ValueError('Softmax', `axis must be an integer, got ${axis}`);
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.axis);
  }
}
