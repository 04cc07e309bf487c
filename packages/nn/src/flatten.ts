import type { Tensor } from '@gradkit/tensor';
import { flatten, Module, ValueError } from '@gradkit/tensor';

/**
 * Flattens dimensions `startDim..endDim` into one (defaults 1 and -1, as PyTorch's `nn.Flatten`:
 * the batch dimension is kept). A view: no copy.
 *
 * @example
 * ```ts
 * new Flatten().forward(zeros([32, 28, 28])).shape; // [32, 784]
 * ```
 */
export class Flatten extends Module {
  /**
   * @param startDim the first dimension flattened (default 1; negative counts from the end).
   * @param endDim the last dimension flattened, inclusive (default -1).
   * @throws {ValueError} when a dimension is not an integer.
   */
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
    if (!Number.isInteger(startDim) || !Number.isInteger(endDim)) {
      throw new ValueError('Flatten', `startDim and endDim must be integers, got ${startDim} and ${endDim}`);
    }
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}
