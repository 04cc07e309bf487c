import type { AnyModule, Tensor } from '@gradkit/tensor';
import { Module, ValueError } from '@gradkit/tensor';
import { ActivationModule } from './activations.js';
import { Linear } from './linear.js';

/** A module that maps one tensor to one tensor: what {@link Sequential} chains. */
export type Layer = Module<[Tensor], Tensor>;

/**
 * Layers applied in order, PyTorch's `nn.Sequential`; children are named `0`, `1`, ... so
 * parameters are `0.weight`, `2.bias`, as in PyTorch's state dicts. A {@link Linear} followed by
 * an element-wise activation module runs as one fused kernel (same values, one kernel less).
 *
 * @example
 * ```ts
 * const mlp = new Sequential(new Flatten(), new Linear(784, 256), new ReLU(), new Linear(256, 10));
 * const logits = mlp.forward(images); // [N, 10]
 * ```
 */
export class Sequential extends Module {
  private readonly layers: Layer[] = [];

  constructor(...layers: Layer[]) {
    super();
    for (const l of layers) this.append(l);
  }

  /** Adds a layer at the end. */
  append(layer: Layer): this {
    if (!(layer instanceof Module)) throw new ValueError('Sequential', 'every layer must be a Module');
    this.registerModule(String(this.layers.length), layer as unknown as AnyModule);
    this.layers.push(layer);
    return this;
  }

  /** The layers, in order. */
  get children(): readonly Layer[] {
    return this.layers;
  }

  /** Number of layers. */
  get length(): number {
    return this.layers.length;
  }

  /** Applies every layer in order (fusing Linear + activation pairs). */
  forward(x: Tensor): Tensor {
    let h = x;
    const n = this.layers.length;
    for (let i = 0; i < n; i++) {
      const layer = this.layers[i];
      const next = this.layers[i + 1];
      if (layer instanceof Linear && next instanceof ActivationModule && next.activation !== 'identity') {
        h = layer.forwardFused(h, next.activation, next.negativeSlope);
        i++;
      } else {
        h = layer.forward(h);
      }
    }
    return h;
  }

  /**
   * Applies the layers one by one without fusion and calls `visit` with each layer's name
   * (`'0'`, `'1'`, ...), the layer and its output: for diagnostics such as finding the first
   * layer whose output is not finite.
   */
  forwardEach(x: Tensor, visit: (name: string, layer: Layer, output: Tensor) => void): Tensor {
    let h = x;
    this.layers.forEach((layer, i) => {
      h = layer.forward(h);
      visit(String(i), layer, h);
    });
    return h;
  }
}
