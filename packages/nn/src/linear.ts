import type { Activation, Device, Rng, Tensor } from '@gradkit/tensor';
import { getRng, linear, Module, type Parameter, rand, ValueError } from '@gradkit/tensor';

/**
 * A weight initializer as {@link Linear} calls it: a new tensor of `shape` (`[out, in]` for the
 * weight, `[out]` for the bias), drawn from `rng`. The fans are those of the weight.
 */
export type Initializer = (
  shape: readonly number[],
  context: { readonly fanIn: number; readonly fanOut: number; readonly rng: Rng; readonly device?: Device },
) => Tensor;

/**
 * PyTorch's default for `nn.Linear` weights and biases: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (for the
 * weight this is `kaiming_uniform_(a = sqrt(5))`).
 *
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.Linear.html
 * @example
 * ```ts
 * const w = pytorchLinearInit([10, 4], { fanIn: 4, fanOut: 10, rng: new Rng(0) }); // U(-0.5, 0.5)
 * ```
 */
export const pytorchLinearInit: Initializer = (shape, { fanIn, rng, device }) => {
  const bound = 1 / Math.sqrt(fanIn);
  return rand(shape, { low: -bound, high: bound, rng, ...(device ? { device } : {}) });
};

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  readonly bias?: boolean;
  /** Weight initializer (default {@link pytorchLinearInit}). */
  readonly weightInit?: Initializer;
  /** Bias initializer (default {@link pytorchLinearInit}; a zero initializer is common too). */
  readonly biasInit?: Initializer;
  /** Generator for the initial values (default: the global generator of `manualSeed`). */
  readonly rng?: Rng;
  /** Device of the parameters (default: the default device). */
  readonly device?: Device;
}

/**
 * A fully connected layer, PyTorch's `nn.Linear`: `y = x W^T + b` with weight `[out, in]` and
 * bias `[out]`, initialized as PyTorch does unless `weightInit` / `biasInit` say otherwise. The
 * product reads W transposed in place (no copy). In a {@link Sequential}, a following element-wise
 * activation module is fused with the bias into one kernel.
 *
 * @throws {ValueError} for non-positive or non-integer feature counts.
 * @example
 * ```ts
 * const fc = new Linear(784, 256);
 * fc.forward(x).shape; // [N, 256] for x [N, 784]
 * fc.namedParameters().map(([n]) => n); // ['weight', 'bias']
 * ```
 */
export class Linear extends Module {
  /** The weight `W`, shape `[outFeatures, inFeatures]`. */
  readonly weight: Parameter;
  /** The bias `b`, shape `[outFeatures]`, or `null` with `bias: false`. */
  readonly bias: Parameter | null;

  /**
   * @param inFeatures the size of each input row.
   * @param outFeatures the size of each output row.
   * @param options bias, initializers, generator and device (all optional).
   */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    for (const [name, v] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0)
        throw new ValueError('Linear', `${name} must be a positive integer, got ${v}`);
    }
    const rng = options.rng ?? getRng();
    const context = {
      fanIn: inFeatures,
      fanOut: outFeatures,
      rng,
      ...(options.device ? { device: options.device } : {}),
    };
    this.weight = this.registerParameter(
      'weight',
      (options.weightInit ?? pytorchLinearInit)([outFeatures, inFeatures], context),
    );
    this.bias =
      options.bias === false
        ? null
        : this.registerParameter('bias', (options.biasInit ?? pytorchLinearInit)([outFeatures], context));
  }

  /** `x W^T + b` for x `[N, in]`. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  /** `activation(x W^T + b)` with the bias and the activation fused into one kernel. */
  forwardFused(x: Tensor, activation: Activation, negativeSlope?: number): Tensor {
    return linear(x, this.weight, this.bias, {
      activation,
      ...(negativeSlope !== undefined ? { negativeSlope } : {}),
    });
  }
}
