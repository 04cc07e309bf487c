import type { Device, DeviceArray, MatmulOptions } from '@gradkit/kernels';
import {
  BackendError,
  DisposedError,
  formatShape,
  ShapeError,
  shapesEqual,
  ValueError,
} from '@gradkit/kernels';
import type { Activation, GeluOptions } from './activations.js';
import { elu, gelu, leakyRelu, relu, selu, sigmoid, softplus, tanh } from './activations.js';
import { add, div, maximum, minimum, mul, neg, pow, sub } from './arithmetic.js';
import type { BackwardOptions, GradNode } from './autograd.js';
import { runBackward } from './autograd.js';
import { equal, greater, greaterEqual, less, lessEqual, notEqual } from './compare.js';
import type { Indices } from './gather.js';
import { gather, oneHot } from './gather.js';
import { flatten, reshape, squeeze, transpose, unsqueeze } from './layout.js';
import { biasActivation } from './linear.js';
import { abs, clamp, clone, exp, log, sqrt, square } from './math.js';
import { matmul } from './matmul.js';
import { argmax, logsumexp, max, mean, min, sum } from './reductions.js';
import type { ScopeFrame } from './scope.js';
import { registerTensor, unregisterTensor } from './scope.js';
import type { SliceBound } from './slice.js';
import { pad, slice } from './slice.js';
import { logSoftmax, softmax } from './softmax.js';
import { view } from './util.js';
import { unfold } from './window.js';

/** Nested arrays of numbers as accepted by {@link tensor}, e.g. `[[1, 2], [3, 4]]`. */
export type NestedArray = number | readonly NestedArray[];

/** Nested arrays of numbers as returned by {@link Tensor.toArray} (a number for a scalar). */
export type NestedNumbers = number | NestedNumbers[];

/** Values a tensor can be created from: a number, nested arrays, or a flat array / typed array. */
export type TensorLike = NestedArray | ArrayLike<number>;

/** Axes of a reduction: one axis, several, or `undefined` for all. Negative axes count from the end. */
export type Axes = number | readonly number[];

/** @internal */
interface InternalInit {
  node?: GradNode | null;
  track?: boolean;
}

let nextId = 1;

/**
 * An n-dimensional float32 array on a device, with reverse-mode automatic differentiation.
 *
 * A tensor owns one `DeviceArray` of `@gradkit/kernels` (`shape`, float32 values on a `gl`, `wasm`
 * or `cpu` device). Ops are synchronous to call and keep the data on the device; values are read
 * back only by {@link Tensor.dataSync}, {@link Tensor.data}, {@link Tensor.toArray} and
 * {@link Tensor.item}. Every op exists as a function (`add(a, b)`) and as a method (`a.add(b)`).
 *
 * Autograd: a tensor with `requiresGrad` records the ops computed from it; `backward()` on a
 * result fills `.grad` of the leaf tensors (accumulating across calls, as in PyTorch).
 *
 * Memory: free a tensor with {@link Tensor.dispose}, or let a {@link scope} do it.
 *
 * The constructor wraps an existing `DeviceArray` and takes ownership of it (the bridge for
 * packages that compute with `@gradkit/kernels` directly); use {@link tensor}, {@link zeros}, ...
 * to create tensors from values.
 *
 * @example
 * ```ts
 * const w = tensor([[1, 2], [3, 4]], undefined, { requiresGrad: true });
 * const loss = w.mul(w).sum(); // sum of squares
 * loss.backward();
 * w.grad!.toArray(); // [[2, 4], [6, 8]]
 * ```
 */
export class Tensor {
  /** A process-unique id (for debugging and maps). */
  readonly id: number;
  /** The dimensions, row-major; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** Number of elements (product of the shape; 1 for a scalar). */
  readonly size: number;
  /** The device that holds the values. */
  readonly device: Device;
  /** @internal */
  _array: DeviceArray | null;
  /** @internal */
  _node: GradNode | null;
  /** @internal */
  _requiresGrad: boolean;
  /** @internal */
  _grad: Tensor | null = null;
  /** @internal */
  _retainGrad = false;
  /** @internal */
  _scope: ScopeFrame | null = null;
  /** @internal */
  _kept = false;
  /** @internal Hidden intermediates of a composite op, disposed with this tensor. */
  _owned: Tensor[] | null = null;

  /**
   * Wraps `array` (ownership passes to the tensor). The tensor belongs to the innermost open
   * {@link scope}, if any.
   *
   * @param options.requiresGrad make it a leaf that collects gradients (default false).
   * @param internal for gradkit's own use (autograd and scopes); leave it out.
   * @throws {ValueError} when `array` is not a `DeviceArray`; {@link DisposedError} when it was disposed.
   */
  constructor(
    array: DeviceArray,
    options: { readonly requiresGrad?: boolean } = {},
    internal: InternalInit = {},
  ) {
    if (array === null || typeof array !== 'object' || typeof array.read !== 'function') {
      throw new ValueError('Tensor', 'expected a DeviceArray of @gradkit/kernels');
    }
    if (array.disposed) throw new DisposedError('Tensor');
    this.id = nextId++;
    this.shape = array.shape;
    this.size = array.size;
    this.device = array.device;
    this._array = array;
    this._node = internal.node ?? null;
    this._requiresGrad = this._node !== null || options.requiresGrad === true;
    registerTensor(this, internal.track !== false);
  }

  /** @internal A recorded op's output. */
  static _fromNode(array: DeviceArray, node: GradNode): Tensor {
    return new Tensor(array, {}, { node });
  }

  /** @internal A tensor that no scope owns (gradients, parameters). */
  static _untracked(array: DeviceArray, requiresGrad = false): Tensor {
    return new Tensor(array, { requiresGrad }, { track: false });
  }

  // ------------------------------------------------------------------ properties

  /** Rank: the number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** True once {@link Tensor.dispose} ran. */
  get isDisposed(): boolean {
    return this._array === null;
  }

  /**
   * The underlying `DeviceArray` (not a copy), for computing with `@gradkit/kernels` directly.
   *
   * @throws {DisposedError} when the tensor was disposed.
   */
  get array(): DeviceArray {
    return this._arrayFor('array');
  }

  /** @internal The array, or a DisposedError naming `op`. */
  _arrayFor(op: string): DeviceArray {
    if (!this._array) throw new DisposedError(op);
    return this._array;
  }

  /**
   * Whether gradients flow to this tensor. Settable on leaf tensors only (a computed tensor
   * requires grad exactly when one of its inputs does).
   */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  /**
   * Makes a leaf tensor collect gradients (true) or not (false).
   *
   * @throws {ValueError} on a tensor computed by a recorded op (use `detach()`).
   */
  set requiresGrad(value: boolean) {
    if (this._node !== null) {
      throw new ValueError(
        'requiresGrad',
        `can only be changed on a leaf tensor; this one is the output of '${this._node.op}' (use detach())`,
      );
    }
    this._requiresGrad = value === true;
  }

  /** Sets {@link Tensor.requiresGrad} (leaf tensors only) and returns the tensor. */
  setRequiresGrad(value = true): this {
    this.requiresGrad = value;
    return this;
  }

  /** True for a tensor not computed by a recorded op (created from values, or under noGrad). */
  get isLeaf(): boolean {
    return this._node === null;
  }

  /** The name of the recorded op that computed this tensor (`'add'`, `'matmul'`, ...), or null for a leaf. */
  get gradFn(): string | null {
    return this._node ? this._node.op : null;
  }

  /**
   * The accumulated gradient of a leaf (or of a tensor that called {@link Tensor.retainGrad})
   * after `backward()`, else null. It belongs to this tensor: no scope disposes it, and it is
   * disposed with the tensor. Assigning a tensor hands it over; assigning null disposes the old one.
   */
  get grad(): Tensor | null {
    return this._grad;
  }

  /**
   * Replaces the gradient: a tensor of this tensor's shape (handed over to this tensor), or null
   * (the old gradient is disposed).
   *
   * @throws {ValueError} for a value that is neither a Tensor nor null; {@link ShapeError} for a
   *   gradient of another shape.
   */
  set grad(value: Tensor | null) {
    if (value === this._grad) return;
    if (value !== null) {
      if (!(value instanceof Tensor)) throw new ValueError('grad', 'must be a Tensor or null');
      value._arrayFor('grad');
      if (!shapesEqual(value.shape, this.shape)) {
        throw new ShapeError(
          'grad',
          `gradient shape ${formatShape(value.shape)} differs from the tensor's ${formatShape(this.shape)}`,
          [value.shape, this.shape],
        );
      }
      if (value.device !== this.device)
        throw new BackendError(this.device.name, 'grad: the gradient is on another device');
      value._untrack();
    }
    this._grad?.dispose();
    this._grad = value;
  }

  // ------------------------------------------------------------------ autograd

  /**
   * Computes the gradient of this tensor with respect to every leaf that requires grad, by
   * reverse-mode differentiation, and adds it to their `.grad` (PyTorch semantics: gradients
   * accumulate until {@link zeroGrad}). The implied gradient is 1 for a one-element tensor; other
   * shapes need `gradient` (same shape): the vector of the vector-Jacobian product.
   * Intermediate arrays of the pass are freed; the graph is freed afterwards unless `retainGraph`.
   * Higher-order gradients are not supported (the pass is not itself recorded).
   *
   * @throws {ValueError} for a non-scalar without `gradient`, a tensor that does not require grad,
   *   or a graph already freed by an earlier backward.
   * @throws {DisposedError} when the graph passes through a disposed tensor.
   * @example
   * ```ts
   * const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
   * x.square().sum().backward();
   * x.grad!.dataSync(); // [2, 4, 6]
   * ```
   */
  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    runBackward(this, gradient, options);
  }

  /** Makes `backward()` also store this (non-leaf) tensor's gradient in `.grad`. Returns the tensor. */
  retainGrad(): this {
    this._retainGrad = true;
    return this;
  }

  /**
   * A tensor with the same values (sharing the device buffer, no copy) that is cut from the
   * graph: `requiresGrad` false, no history.
   *
   * @example
   * ```ts
   * const target = prediction.detach(); // a constant for the loss
   * ```
   */
  detach(): Tensor {
    return new Tensor(view(this._arrayFor('detach')));
  }

  /** @internal Adds a gradient (owned) to `.grad`. */
  _accumulateGrad(g: DeviceArray): void {
    const prev = this._grad;
    if (prev && !prev.isDisposed) {
      const sum = this.device.binary('add', prev._arrayFor('backward'), g);
      g.dispose();
      prev._replaceArray(sum);
    } else {
      this._grad = Tensor._untracked(g);
    }
  }

  // ------------------------------------------------------------------ values

  /**
   * Replaces this tensor's values with `value`'s (same shape and device), sharing its buffer: no
   * copy, and `value` may be disposed afterwards. Not recorded by autograd; the graphs that
   * already used this tensor keep the old values. The way to update parameters and running
   * statistics.
   *
   * @throws {ShapeError} when the shapes differ.
   * @example
   * ```ts
   * noGrad(() => w.assign(w.sub(w.grad!.mul(lr))));
   * ```
   */
  assign(value: Tensor): this {
    const op = 'assign';
    this._arrayFor(op);
    if (!(value instanceof Tensor)) throw new ValueError(op, 'value must be a Tensor');
    const src = value._arrayFor(op);
    if (!shapesEqual(value.shape, this.shape)) {
      throw new ShapeError(
        op,
        `cannot assign shape ${formatShape(value.shape)} to shape ${formatShape(this.shape)}`,
        [this.shape, value.shape],
      );
    }
    if (value.device !== this.device)
      throw new BackendError(this.device.name, `${op}: the value is on another device`);
    if (value === this) return this;
    this._replaceArray(view(src));
    return this;
  }

  /** @internal Swaps in a new array of the same shape, disposing the old one. */
  _replaceArray(array: DeviceArray): void {
    const old = this._array;
    this._array = array;
    old?.dispose();
  }

  /** @internal Takes ownership of a composite op's intermediate: no scope disposes it, this tensor does. */
  _adopt(t: Tensor): void {
    t._untrack();
    t._kept = true;
    if (!this._owned) this._owned = [];
    this._owned.push(t);
  }

  /** @internal Removes the tensor from its scope. */
  _untrack(): void {
    if (this._scope) {
      this._scope.tensors.delete(this);
      this._scope = null;
    }
  }

  /**
   * Synchronous read-back of the values (a float32 copy, row-major). One read-back.
   *
   * @example
   * ```ts
   * tensor([[1, 2], [3, 4]]).dataSync(); // Float32Array [1, 2, 3, 4]
   * ```
   */
  dataSync(): Float32Array {
    return this._arrayFor('dataSync').read();
  }

  /** Awaitable read-back of the values (a float32 copy, row-major). */
  data(): Promise<Float32Array> {
    try {
      return this._arrayFor('data').readAsync();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The values as nested arrays (a number for a scalar). One read-back.
   *
   * @example
   * ```ts
   * tensor([1, 2, 3, 4], [2, 2]).toArray(); // [[1, 2], [3, 4]]
   * ```
   */
  toArray(): NestedNumbers {
    const flat = this._arrayFor('toArray').read();
    if (this.rank === 0) return flat[0];
    const build = (dim: number, offset: number, stride: number): NestedNumbers[] => {
      const n = this.shape[dim];
      const inner = stride / (n || 1);
      const out: NestedNumbers[] = [];
      for (let i = 0; i < n; i++) {
        out.push(dim === this.rank - 1 ? flat[offset + i] : build(dim + 1, offset + i * inner, inner));
      }
      return out;
    };
    return build(0, 0, this.size);
  }

  /**
   * The value of a one-element tensor as a number. One read-back.
   *
   * @throws {ValueError} when the tensor has more or fewer than one element.
   * @example
   * ```ts
   * tensor([1, 2, 3]).sum().item(); // 6
   * ```
   */
  item(): number {
    const a = this._arrayFor('item');
    if (this.size !== 1) {
      throw new ValueError('item', `needs a tensor with one element, got shape ${formatShape(this.shape)}`);
    }
    return a.read()[0];
  }

  /**
   * Frees the device buffer (unless a view still shares it), the recorded graph node and `.grad`.
   * Idempotent. Using the tensor afterwards throws a {@link DisposedError}.
   */
  dispose(): void {
    const a = this._array;
    if (!a) return;
    this._array = null;
    a.dispose();
    this._node?.release();
    this._grad?.dispose();
    this._grad = null;
    if (this._owned) for (const t of this._owned) t.dispose();
    this._owned = null;
    unregisterTensor(this);
  }

  /** A short description, without reading values: `Tensor([2,3], requiresGrad, gradFn=add)`. */
  toString(): string {
    const parts = [formatShape(this.shape)];
    if (this._requiresGrad) parts.push('requiresGrad');
    if (this._node) parts.push(`gradFn=${this._node.op}`);
    if (!this._array) parts.push('disposed');
    return `Tensor(${parts.join(', ')})`;
  }

  // ------------------------------------------------------------------ op methods (see the functions)

  /** `this + other`, broadcast. See {@link add}. */
  add(other: Tensor | number): Tensor {
    return add(this, other);
  }
  /** `this - other`, broadcast. See {@link sub}. */
  sub(other: Tensor | number): Tensor {
    return sub(this, other);
  }
  /** `this * other`, broadcast. See {@link mul}. */
  mul(other: Tensor | number): Tensor {
    return mul(this, other);
  }
  /** `this / other`, broadcast. See {@link div}. */
  div(other: Tensor | number): Tensor {
    return div(this, other);
  }
  /** `-this`. See {@link neg}. */
  neg(): Tensor {
    return neg(this);
  }
  /** `this ** exponent`. See {@link pow}. */
  pow(exponent: Tensor | number): Tensor {
    return pow(this, exponent);
  }
  /** Element-wise maximum. See {@link maximum}. */
  maximum(other: Tensor | number): Tensor {
    return maximum(this, other);
  }
  /** Element-wise minimum. See {@link minimum}. */
  minimum(other: Tensor | number): Tensor {
    return minimum(this, other);
  }
  /** `e^this`. See {@link exp}. */
  exp(): Tensor {
    return exp(this);
  }
  /** Natural logarithm. See {@link log}. */
  log(): Tensor {
    return log(this);
  }
  /** Square root. See {@link sqrt}. */
  sqrt(): Tensor {
    return sqrt(this);
  }
  /** Absolute value. See {@link abs}. */
  abs(): Tensor {
    return abs(this);
  }
  /** `this^2`. See {@link square}. */
  square(): Tensor {
    return square(this);
  }
  /** Limits values to [min, max]. See {@link clamp}. */
  clamp(minValue?: number | null, maxValue?: number | null): Tensor {
    return clamp(this, minValue, maxValue);
  }
  /** A differentiable copy in a new buffer. See {@link clone}. */
  clone(): Tensor {
    return clone(this);
  }
  /** Matrix product. See {@link matmul}. */
  matmul(other: Tensor, options?: MatmulOptions): Tensor {
    return matmul(this, other, options);
  }
  /** Sum over axes. See {@link sum}. */
  sum(axes?: Axes, keepDims = false): Tensor {
    return sum(this, axes, keepDims);
  }
  /** Mean over axes. See {@link mean}. */
  mean(axes?: Axes, keepDims = false): Tensor {
    return mean(this, axes, keepDims);
  }
  /** Maximum over axes. See {@link max}. */
  max(axes?: Axes, keepDims = false): Tensor {
    return max(this, axes, keepDims);
  }
  /** Minimum over axes. See {@link min}. */
  min(axes?: Axes, keepDims = false): Tensor {
    return min(this, axes, keepDims);
  }
  /** Index of the maximum along an axis (no gradient). See {@link argmax}. */
  argmax(axis = -1, keepDims = false): Tensor {
    return argmax(this, axis, keepDims);
  }
  /** `log(sum(exp(this)))` over axes. See {@link logsumexp}. */
  logsumexp(axes?: Axes, keepDims = false): Tensor {
    return logsumexp(this, axes, keepDims);
  }
  /** Softmax along an axis. See {@link softmax}. */
  softmax(axis = -1): Tensor {
    return softmax(this, axis);
  }
  /** Log-softmax along an axis. See {@link logSoftmax}. */
  logSoftmax(axis = -1): Tensor {
    return logSoftmax(this, axis);
  }
  /** Same values, another shape (one dimension may be -1). See {@link reshape}. */
  reshape(shape: readonly number[]): Tensor {
    return reshape(this, shape);
  }
  /** Merges dimensions `startDim..endDim`. See {@link flatten}. */
  flatten(startDim = 0, endDim = -1): Tensor {
    return flatten(this, startDim, endDim);
  }
  /** Permutes axes (default: reversed). See {@link transpose}. */
  transpose(perm?: readonly number[]): Tensor {
    return transpose(this, perm);
  }
  /** Removes size-1 dimensions. See {@link squeeze}. */
  squeeze(axes?: Axes): Tensor {
    return squeeze(this, axes);
  }
  /** Inserts a size-1 dimension. See {@link unsqueeze}. */
  unsqueeze(axis: number): Tensor {
    return unsqueeze(this, axis);
  }
  /** 1 where `this == other`, else 0 (no gradient). See {@link equal}. */
  equal(other: Tensor | number): Tensor {
    return equal(this, other);
  }
  /** 1 where `this != other`, else 0 (no gradient). See {@link notEqual}. */
  notEqual(other: Tensor | number): Tensor {
    return notEqual(this, other);
  }
  /** 1 where `this < other`, else 0 (no gradient). See {@link less}. */
  less(other: Tensor | number): Tensor {
    return less(this, other);
  }
  /** 1 where `this <= other`, else 0 (no gradient). See {@link lessEqual}. */
  lessEqual(other: Tensor | number): Tensor {
    return lessEqual(this, other);
  }
  /** 1 where `this > other`, else 0 (no gradient). See {@link greater}. */
  greater(other: Tensor | number): Tensor {
    return greater(this, other);
  }
  /** 1 where `this >= other`, else 0 (no gradient). See {@link greaterEqual}. */
  greaterEqual(other: Tensor | number): Tensor {
    return greaterEqual(this, other);
  }
  /** Python/NumPy basic slicing `x[start:end:step, ...]` (negative steps included). See {@link slice}. */
  slice(
    starts: readonly SliceBound[],
    ends: readonly SliceBound[],
    steps: readonly SliceBound[] = [],
  ): Tensor {
    return slice(this, starts, ends, steps);
  }

  /** Constant padding, one `[before, after]` pair per axis (negative crops). See {@link pad}. */
  pad(pads: readonly (readonly [number, number])[], value = 0): Tensor {
    return pad(this, pads, value);
  }

  /** Slices of length `size` along `dim`, `step` apart (PyTorch's `Tensor.unfold`). See {@link unfold}. */
  unfold(dim: number, size: number, step: number): Tensor {
    return unfold(this, dim, size, step);
  }

  /** Selects entries along an axis. See {@link gather}. */
  gather(indices: Indices, axis = 0): Tensor {
    return gather(this, indices, axis);
  }
  /** One-hot encoding of these labels. See {@link oneHot}. */
  oneHot(depth: number): Tensor {
    return oneHot(this, depth);
  }
  /** `max(this, 0)`. See {@link relu}. */
  relu(): Tensor {
    return relu(this);
  }
  /** `this > 0 ? this : slope * this`. See {@link leakyRelu}. */
  leakyRelu(negativeSlope = 0.01): Tensor {
    return leakyRelu(this, negativeSlope);
  }
  /** `1 / (1 + e^-this)`. See {@link sigmoid}. */
  sigmoid(): Tensor {
    return sigmoid(this);
  }
  /** Hyperbolic tangent. See {@link tanh}. */
  tanh(): Tensor {
    return tanh(this);
  }
  /** GELU, exact by default or `{ approximate: 'tanh' }`. See {@link gelu}. */
  gelu(options?: GeluOptions): Tensor {
    return gelu(this, options);
  }
  /** SELU. See {@link selu}. */
  selu(): Tensor {
    return selu(this);
  }
  /** `log(1 + e^this)`. See {@link softplus}. */
  softplus(): Tensor {
    return softplus(this);
  }
  /** ELU with alpha 1. See {@link elu}. */
  elu(): Tensor {
    return elu(this);
  }
  /** `activation(this + bias)`, fused. See {@link biasActivation}. */
  biasActivation(bias: Tensor, activation: Activation = 'identity', negativeSlope = 0.01): Tensor {
    return biasActivation(this, bias, activation, negativeSlope);
  }
}
