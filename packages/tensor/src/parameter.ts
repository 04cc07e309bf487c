import type { Device } from '@gradkit/kernels';
import { BackendError, DisposedError } from '@gradkit/kernels';
import { tensor } from './creation.js';
import { noGrad } from './grad-mode.js';
import type { TensorLike } from './tensor.js';
import { Tensor } from './tensor.js';
import { view } from './util.js';

/** Options of the {@link Parameter} constructor. */
export interface ParameterOptions {
  /** Default true. */
  readonly requiresGrad?: boolean;
  /** Where to create it from values (default: the default device). */
  readonly device?: Device;
  /** Shape for flat values (as {@link tensor}). */
  readonly shape?: readonly number[];
}

/**
 * A trainable tensor: a leaf with `requiresGrad = true` (by default) that no {@link scope}
 * disposes, so it survives training steps; dispose it (or its {@link Module}) by hand. Built from
 * values, or from a tensor whose device buffer it shares (no copy; the tensor may be disposed
 * afterwards). Update it with `assign` inside {@link noGrad}.
 *
 * @example
 * ```ts
 * const w = new Parameter(randn([3, 4], { std: 0.1 }));
 * const b = new Parameter([0, 0, 0]);
 * noGrad(() => w.assign(w.sub(w.grad!.mul(0.1))));
 * ```
 */
export class Parameter extends Tensor {
  constructor(value: Tensor | TensorLike, options: ParameterOptions = {}) {
    super(Parameter.source(value, options), { requiresGrad: options.requiresGrad ?? true }, { track: false });
    this._kept = true;
  }

  private static source(value: Tensor | TensorLike, options: ParameterOptions) {
    if (value instanceof Tensor) {
      if (value.isDisposed) throw new DisposedError('Parameter');
      if (options.device && options.device !== value.device) {
        throw new BackendError(
          options.device.name,
          'Parameter: the tensor is on another device than options.device',
        );
      }
      return view(value.array);
    }
    return noGrad(() => {
      const t = tensor(value, options.shape, { device: options.device });
      const v = view(t.array);
      t.dispose();
      return v;
    });
  }

  /** `Parameter([2,3], requiresGrad)`, without reading values. */
  override toString(): string {
    return super.toString().replace(/^Tensor/, 'Parameter');
  }
}
