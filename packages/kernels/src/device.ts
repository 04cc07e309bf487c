import type { BackendBuffer, BackendInfo, ElementwiseSpec, KernelBackend, ReduceOp } from './backend.js';
import { INPUT_NAMES } from './codegen.js';
import type { ActivationGradOp, BinaryOp, ScalarOp, UnaryOp } from './elementwise.js';
import { ACTIVATION_GRAD, BINARY, SCALAR, UNARY, WHERE } from './elementwise.js';
import { BackendError, DisposedError, ShapeError, ValueError } from './errors.js';
import type { Rng } from './random.js';
import type { Shape } from './shape.js';
import {
  assertFinite,
  assertPermutation,
  assertValidShape,
  broadcastShapes,
  formatShape,
  inferReshape,
  normalizeAxes,
  reducedShape,
  shapesEqual,
  sizeOf,
} from './shape.js';
import { defineKernel, parsedKernel } from './spec/define.js';
import type { WindowSpec } from './window.js';
import { planWindow } from './window.js';

/** `a == b ? c : 0.0`: dy (c) kept at the tap (a) that the index (b) names. */
const PICK_TAP = defineKernel({ name: 'windowPickTap', arity: 3, params: 0, expr: 'a == b ? c : 0.0' });

/** The output shape without the tap axes `[first, first + count)`, and the number of taps. */
function tapBlock(op: string, outShape: Shape, first: number, count: number): { kept: Shape; taps: number } {
  const R = outShape.length;
  if (
    !Number.isSafeInteger(first) ||
    !Number.isSafeInteger(count) ||
    count < 1 ||
    first < 0 ||
    first + count > R
  ) {
    throw new ValueError(
      op,
      `the taps must be output axes [first, first + count) with count >= 1 inside the window's ${R} axes, got first ${first} and count ${count}`,
    );
  }
  return {
    kept: [...outShape.slice(0, first), ...outShape.slice(first + count)],
    taps: sizeOf(outShape.slice(first, first + count)),
  };
}

/** Device-side storage shared by the arrays that view it (a reshape shares its source's). */
class Storage {
  refs = 1;
  constructor(readonly buf: BackendBuffer) {}
}

/**
 * A float32 array that lives on a {@link Device}: a shape and a device buffer. Values are read
 * back only when asked ({@link DeviceArray.read}). Free it with {@link DeviceArray.dispose}.
 *
 * @example
 * ```ts
 * const x = device.array([1, 2, 3, 4], [2, 2]);
 * x.read(); // Float32Array [1, 2, 3, 4]
 * x.dispose();
 * ```
 */
export class DeviceArray {
  /** The dimensions, row-major. */
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
  /** @internal */
  storage: Storage | null;

  /** @internal */
  constructor(
    /** The device that holds the buffer. */
    readonly device: Device,
    shape: readonly number[],
    storage: Storage,
  ) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.storage = storage;
  }

  /** Rank (number of dimensions). */
  get rank(): number {
    return this.shape.length;
  }

  /** True once {@link DeviceArray.dispose} ran. */
  get disposed(): boolean {
    return this.storage === null;
  }

  /** Synchronous read-back of the values (a copy). */
  read(): Float32Array {
    return this.device.read(this);
  }

  /** Awaitable read-back of the values (a copy). */
  readAsync(): Promise<Float32Array> {
    return this.device.readAsync(this);
  }

  /** Releases the device buffer (when no reshaped view still shares it). Idempotent. */
  dispose(): void {
    this.device.release(this);
  }
}

/** Counters of a device; see {@link Device.memory}. */
export interface DeviceMemory {
  /** Live {@link DeviceArray}s. */
  readonly arrays: number;
  /** Live device buffers (views share one). */
  readonly buffers: number;
  /** Bytes held by live buffers. */
  readonly bytes: number;
  /** Read-backs (device to host copies) so far. */
  readonly readbacks: number;
  /** Uploads (host to device copies) so far. */
  readonly uploads: number;
  /** Kernel launches so far. */
  readonly kernels: number;
  /** Arrays the device caches for itself (one-hot index tables), included in `arrays` and `buffers`. */
  readonly cached: number;
}

/** Options of {@link Device.matmul}. */
export interface MatmulOptions {
  /** Use A^T (A is then stored k x m). Default false. */
  readonly transA?: boolean;
  /** Use B^T (B is then stored n x k). Default false. */
  readonly transB?: boolean;
}

/**
 * The element-wise kernel that {@link Device.matmulMap} applies to each element of the product
 * (an epilogue): `out[i, j] = spec(P[i, j], operands[0] at (i, j), ..., params)`.
 *
 * @example
 * ```ts
 * import { defineKernel } from '@gradkit/kernels';
 * const BIAS_RELU = defineKernel({ name: 'demo.biasRelu', arity: 2, params: 0, expr: 'Math.max(a + b, 0.0)' });
 * const epilogue: MatmulEpilogue = { spec: BIAS_RELU, operands: [bias] }; // bias [n]
 * ```
 */
export interface MatmulEpilogue {
  /**
   * The kernel: input `a` is the product's element, inputs `b`, `c`, ... the operands
   * ({@link MatmulEpilogue.operands}); its arity is `1 + operands.length`.
   */
  readonly spec: ElementwiseSpec;
  /**
   * Arrays that broadcast against the product `[m, n]` (NumPy rules, e.g. a bias `[n]`, a column
   * `[m, 1]`, a full `[m, n]`); they must not broadcast it to a larger shape. Default none.
   */
  readonly operands?: readonly DeviceArray[];
  /** The spec's scalar parameters (`p0`, `p1`, ...). Default none. */
  readonly params?: readonly number[];
}

/**
 * The gradient `dz` of {@link Device.linearGrad} as an element-wise kernel over arrays of one
 * shape `[m, n]`: `dz[i, j] = spec(inputs at (i, j), params)`, e.g. an activation's backward
 * `dy * f'(y)` from the layer's output `y` and its gradient `dy`.
 *
 * @example
 * ```ts
 * import { ACTIVATION_GRAD } from '@gradkit/kernels';
 * const dz: LinearGradKernel = { spec: ACTIVATION_GRAD.reluGrad, inputs: [y, dy] }; // dy where y > 0
 * ```
 */
export interface LinearGradKernel {
  /** The kernel; its arity is `inputs.length`. */
  readonly spec: ElementwiseSpec;
  /** Arrays of one 2-D shape `[m, n]`. */
  readonly inputs: readonly DeviceArray[];
  /** The spec's scalar parameters (`p0`, `p1`, ...). Default none. */
  readonly params?: readonly number[];
}

/** What {@link Device.linearGrad} computes besides `dz`: each part is left out by default. */
export interface LinearGradOptions {
  /** The layer's input `x`, `[m, k]`: with it, `dw = dz^T x` is computed. Default none. */
  readonly x?: DeviceArray | null;
  /** The layer's weight `W`, `[n, k]`: with it, `dx = dz W` is computed. Default none. */
  readonly weight?: DeviceArray | null;
  /** Whether `db`, the sums of `dz` over its rows, is computed. Default false. */
  readonly bias?: boolean;
}

/** The gradients {@link Device.linearGrad} returns; null where not asked for. */
export interface LinearGrads {
  /** `dz W`, `[m, k]` (with {@link LinearGradOptions.weight}). */
  readonly dx: DeviceArray | null;
  /** `dz^T x`, `[n, k]` (with {@link LinearGradOptions.x}). */
  readonly dw: DeviceArray | null;
  /** `sum_i dz[i, :]`, `[n]` (with {@link LinearGradOptions.bias}). */
  readonly db: DeviceArray | null;
}

/**
 * A compute device: owns float32 buffers on one backend (`gl`, `wasm` or `cpu`) and runs named
 * kernels on them. Every op checks its shapes first and throws a {@link ShapeError} naming the op
 * and the shapes, so nothing is launched on bad input. Data stays on the device between ops.
 *
 * Get one with `createDevice()` or the shared default `getDevice()`.
 *
 * @example
 * ```ts
 * import { getDevice } from '@gradkit/kernels';
 * const d = getDevice();
 * const a = d.array([1, 2, 3, 4, 5, 6], [2, 3]);
 * const b = d.array([10, 20, 30], [3]);
 * d.binary('add', a, b).read(); // [11, 22, 33, 14, 25, 36]
 * ```
 */
export class Device {
  private live = 0;
  private buffers = 0;
  private bytes = 0;
  private readbacks = 0;
  private uploads = 0;
  private launches = 0;
  private readonly iotas = new Map<number, DeviceArray>();
  private destroyed = false;

  /** True once {@link Device.destroy} has run; every operation then throws. */
  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /**
   * @param backend the backend that runs the kernels.
   * @param reason why this backend was chosen (reported by {@link Device.info}).
   */
  constructor(
    /** The backend that runs the kernels. */
    readonly backend: KernelBackend,
    /** Why this backend was chosen (reported by {@link Device.info}). */
    readonly reason: string,
  ) {}

  /** The backend's name: `'gl'`, `'wasm'` or `'cpu'`. */
  get name(): BackendInfo['name'] {
    return this.backend.name;
  }

  /** Which backend runs, why, its gpu.js mode, renderer, precision and limits. */
  info(): BackendInfo {
    const syncRead =
      this.backend.info.syncRead ?? (typeof this.backend.read === 'function' ? 'stalls' : 'none');
    return { ...this.backend.info, syncRead, reason: this.reason };
  }

  /**
   * Live arrays, buffers and bytes, and the read-back/upload/kernel counters. The counts include
   * the small index tables that {@link Device.oneHot} caches per depth for the device's lifetime
   * (reported separately as `cached`).
   */
  memory(): DeviceMemory {
    return {
      arrays: this.live,
      buffers: this.buffers,
      bytes: this.bytes,
      readbacks: this.readbacks,
      uploads: this.uploads,
      kernels: this.launches,
      cached: this.iotas.size,
    };
  }

  // ---------------------------------------------------------------- creation and transfer

  /**
   * Uploads values as a new array. `shape` defaults to `[values.length]`.
   *
   * @throws {ShapeError} when the shape's size differs from the number of values.
   */
  array(values: ArrayLike<number>, shape?: Shape): DeviceArray {
    const s = shape ?? [values.length];
    assertValidShape('array', s);
    if (sizeOf(s) !== values.length) {
      throw new ShapeError('array', `${values.length} values do not fill shape ${formatShape(s)}`, [s]);
    }
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    this.checkSize('array', data.length);
    this.uploads++;
    return this.wrap(this.backend.upload(data), s);
  }

  /** A new array of `shape` filled with `value` (default 0). */
  full(shape: Shape, value = 0): DeviceArray {
    assertValidShape('full', shape);
    return this.array(new Float32Array(sizeOf(shape)).fill(value), shape);
  }

  /**
   * Synchronous read-back (copy) of `x`'s values. Counted in {@link Device.memory}.
   *
   * @throws {BackendError} on a backend that reads only asynchronously (`info().syncRead` is
   *   `'none'`, as WebGPU): use {@link Device.readAsync}.
   */
  read(x: DeviceArray): Float32Array {
    const st = this.own('read', x);
    const read = this.backend.read;
    if (typeof read !== 'function') {
      throw new BackendError(
        this.backend.name,
        `read: backend '${this.backend.name}' reads only asynchronously: use readAsync() ` +
          '(on tensors: await t.data(); in training: trainer.fitAsync())',
      );
    }
    this.readbacks++;
    return x.size === 0 ? new Float32Array(0) : read.call(this.backend, st.buf);
  }

  /** Awaitable read-back (copy) of `x`'s values. */
  readAsync(x: DeviceArray): Promise<Float32Array> {
    const st = this.own('readAsync', x);
    this.readbacks++;
    return x.size === 0 ? Promise.resolve(new Float32Array(0)) : this.backend.readAsync(st.buf);
  }

  /** A view of `x` with another shape (one dimension may be -1); shares the buffer, no copy. */
  reshape(x: DeviceArray, shape: Shape): DeviceArray {
    const st = this.own('reshape', x);
    const s = inferReshape('reshape', x.size, shape);
    st.refs++;
    this.live++;
    return new DeviceArray(this, s, st);
  }

  /** A copy of `x` in a new buffer. */
  copy(x: DeviceArray): DeviceArray {
    return this.map(UNARY.identity, [x]);
  }

  // ---------------------------------------------------------------- element-wise

  /**
   * Runs an element-wise spec over broadcast inputs: the low-level entry that every element-wise
   * op uses, and the place for fused kernels (bias + activation, optimizer updates).
   *
   * `outShape` (optional) fixes the output shape: the inputs must broadcast to exactly it.
   * `spec` is best made by `defineKernel` (validated where it is defined); any other object is
   * validated the same way on its first call here, then cached by identity.
   *
   * @throws {ShapeError} when the inputs do not broadcast or their count differs from the spec.
   * @throws {ValueError} when the spec is not a valid kernel (`kernel 'name': ... at column n of
   *   expr`, see `defineKernel`) or a parameter is not a number.
   */
  map(
    spec: ElementwiseSpec,
    inputs: readonly DeviceArray[],
    params: readonly number[] = [],
    outShape?: Shape,
  ): DeviceArray {
    const { bufs, shapes, out } = this.mapOperands(spec, inputs, params, outShape);
    return this.launch(out, () => this.backend.map(spec, bufs, shapes, out, params));
  }

  /**
   * Runs several element-wise specs over the same broadcast inputs and parameters, one output
   * per spec: `out_k[i] = specs[k](inputs at i, params)`. Each output equals
   * `map(specs[k], inputs, params, outShape)` bit for bit; the point is speed: `cpu` and `wasm`
   * read the inputs once and write every output in one pass (one launch) when the specs share
   * their `stmts`, so temporaries computed there serve every output. Other backends, and specs
   * whose `stmts` differ, run one `map` per spec. Use it for updates that produce several arrays
   * from the same operands, such as an optimizer's new state and new parameter.
   *
   * To let one output feed another bit-exactly, compute it once in `stmts` as a float32 value
   * (`let t_m = Math.fround(...)`) and use `t_m` in both expressions: a stored output is a float32.
   *
   * @param specs 1 to 8 specs with one arity and one parameter count.
   * @param inputs the arrays every spec reads (`a`, `b`, ...), broadcast together.
   * @param params the scalar parameters every spec reads (`p0`, `p1`, ...).
   * @param outShape optional: the inputs must broadcast to exactly this shape.
   * @returns one new array per spec, in order, all of the broadcast shape.
   * @throws {ValueError} when `specs` is empty or longer than 8, the specs' arity or parameter
   *   count differ, or as {@link Device.map}.
   * @throws {ShapeError} as {@link Device.map}.
   * @example
   * ```ts
   * import { defineKernel, getDevice } from '@gradkit/kernels';
   * // momentum SGD in one pass: m' = mu m + g, p' = p - lr m'
   * const stmts = 'let t_m = Math.fround(p0 * b + a);'; // a = g, b = m, c = p
   * const M = defineKernel({ name: 'demo.m', arity: 3, params: 2, stmts, expr: 't_m' });
   * const P = defineKernel({ name: 'demo.p', arity: 3, params: 2, stmts, expr: 'c - p1 * t_m' });
   * const d = getDevice();
   * const [m, p] = d.mapMulti([M, P], [d.array([1, 2]), d.array([0.5, 0.5]), d.array([3, 3])], [0.9, 0.1]);
   * m.read(); // [1.45, 2.45]
   * p.read(); // [2.855, 2.755]
   * ```
   */
  mapMulti(
    specs: readonly ElementwiseSpec[],
    inputs: readonly DeviceArray[],
    params: readonly number[] = [],
    outShape?: Shape,
  ): DeviceArray[] {
    const op = 'mapMulti';
    if (!Array.isArray(specs) || specs.length < 1 || specs.length > MAP_MULTI_MAX) {
      throw new ValueError(
        op,
        `needs 1 to ${MAP_MULTI_MAX} kernel specs, got ${Array.isArray(specs) ? specs.length : typeof specs}`,
      );
    }
    const first = specs[0];
    // the operands checked once, against the first spec; the others must read the same
    const { bufs, shapes, out } = this.mapOperands(first, inputs, params, outShape);
    for (const spec of specs) {
      if (spec !== first) this.checkSpec(spec, inputs, params);
      if (spec.arity !== first.arity || spec.params !== first.params) {
        throw new ValueError(
          op,
          `every spec must read the same inputs and parameters: '${first.name}' has arity ${first.arity} ` +
            `and ${first.params} parameters, '${spec.name}' has ${spec.arity} and ${spec.params}`,
        );
      }
    }
    const fused = this.backend.mapMulti?.(specs, bufs, shapes, out, params);
    if (fused) {
      this.launches++;
      return fused.map((buf) => this.wrap(buf, out));
    }
    const outs: DeviceArray[] = [];
    try {
      for (const spec of specs)
        outs.push(this.launch(out, () => this.backend.map(spec, bufs, shapes, out, params)));
    } catch (e) {
      for (const o of outs) o.dispose();
      throw e;
    }
    return outs;
  }

  /** Validates a map's spec and that it takes as many inputs and parameters as it is given. */
  /**
   * Checks a spec (arity, kernel text) against its inputs and parameters, and that every parameter
   * is a number: else a {@link ValueError} from `op` (default the spec's name) reading
   * `${label}parameter p is not a number`.
   */
  private checkSpec(
    spec: ElementwiseSpec,
    inputs: readonly DeviceArray[],
    params: readonly number[],
    op: string = spec.name,
    label = '',
  ): void {
    if (!Number.isInteger(spec.arity) || spec.arity < 1 || spec.arity > INPUT_NAMES.length) {
      throw new ValueError(
        spec.name,
        `arity must be an integer from 1 to ${INPUT_NAMES.length}, got ${spec.arity}`,
      );
    }
    parsedKernel(spec); // a lookup for a defined spec; parses and validates any other once
    if (inputs.length !== spec.arity) {
      throw new ShapeError(spec.name, `expects ${spec.arity} inputs, got ${inputs.length}`);
    }
    if (params.length !== spec.params) {
      throw new ValueError(spec.name, `expects ${spec.params} scalar parameters, got ${params.length}`);
    }
    for (const p of params) {
      if (typeof p !== 'number' || Number.isNaN(p))
        throw new ValueError(op, `${label}parameter ${p} is not a number`);
    }
  }

  /** Validates a map's spec, inputs and parameters; returns the buffers, shapes and output shape. */
  private mapOperands(
    spec: ElementwiseSpec,
    inputs: readonly DeviceArray[],
    params: readonly number[],
    outShape: Shape | undefined,
  ): { bufs: BackendBuffer[]; shapes: Shape[]; out: Shape } {
    this.checkSpec(spec, inputs, params);
    const bufs = inputs.map((x) => this.own(spec.name, x).buf);
    const shapes = inputs.map((x) => x.shape);
    const out = broadcastShapes(spec.name, ...shapes, ...(outShape ? [outShape] : []));
    if (outShape && !shapesEqual(out, outShape)) {
      throw new ShapeError(
        spec.name,
        `inputs ${shapes.map(formatShape).join(', ')} do not broadcast to ${formatShape(outShape)}`,
        [...shapes, outShape],
      );
    }
    this.checkSize(spec.name, sizeOf(out));
    return { bufs, shapes, out };
  }

  /**
   * Broadcasts `x` to `shape` (NumPy rules) into a new array.
   *
   * @throws {ShapeError} when `x` does not broadcast to `shape`.
   * @example
   * ```ts
   * d.broadcastTo(d.array([1, 2, 3]), [2, 3]).read(); // [1, 2, 3, 1, 2, 3]
   * ```
   */
  broadcastTo(x: DeviceArray, shape: Shape): DeviceArray {
    assertValidShape('broadcastTo', shape);
    return this.map(BROADCAST_TO, [x], [], shape);
  }

  /** A one-input op from {@link UNARY} (neg, exp, log, relu, sigmoid, tanh, gelu, ...). */
  unary(op: UnaryOp, x: DeviceArray): DeviceArray {
    const spec = UNARY[op];
    if (!spec) throw new ValueError('unary', `unknown op '${op}'`);
    return this.map(spec, [x]);
  }

  /** A one-input op with scalar parameters from {@link SCALAR} (addScalar, mulScalar, powScalar, clamp, leakyRelu, affine). */
  scalar(op: ScalarOp, x: DeviceArray, ...params: number[]): DeviceArray {
    const spec = SCALAR[op];
    if (!spec) throw new ValueError('scalar', `unknown op '${op}'`);
    return this.map(spec, [x], params);
  }

  /** A two-input op from {@link BINARY} with NumPy broadcasting (add, sub, mul, div, pow, comparisons, ...). */
  binary(op: BinaryOp, a: DeviceArray, b: DeviceArray): DeviceArray {
    const spec = BINARY[op];
    if (!spec) throw new ValueError('binary', `unknown op '${op}'`);
    return this.map(spec, [a, b]);
  }

  /** dy * f'(x) for an activation f, fused (see {@link ACTIVATION_GRAD}). */
  activationGrad(op: ActivationGradOp, x: DeviceArray, dy: DeviceArray, ...params: number[]): DeviceArray {
    const spec = ACTIVATION_GRAD[op];
    if (!spec) throw new ValueError('activationGrad', `unknown op '${op}'`);
    return this.map(spec, [x, dy], params);
  }

  /** `cond != 0 ? x : y`, broadcast over the three. */
  where(cond: DeviceArray, x: DeviceArray, y: DeviceArray): DeviceArray {
    return this.map(WHERE, [cond, x, y]);
  }

  // ---------------------------------------------------------------- reductions

  /**
   * Reduces `axes` (default: all; negative count from the end) with `op`; `mean` divides the sum
   * by the number of reduced elements. argmax/argmin take one axis (or a rank-1 array) and return
   * the first index of the extreme value, as a float.
   *
   * NaN, as in PyTorch: max, min, prod, sum and logsumexp of a slice holding a NaN are NaN, and
   * argmax/argmin return the index of its first NaN (a NaN is never skipped).
   *
   * @throws {ShapeError} for an axis out of range, or max/min/argmax/argmin over zero elements.
   */
  reduce(
    op: ReduceOp | 'mean',
    x: DeviceArray,
    axes?: number | readonly number[],
    keepDims = false,
  ): DeviceArray {
    const st = this.own(op, x);
    const ax = normalizeAxes(op, axes, x.rank);
    const outShape = reducedShape(x.shape, ax, keepDims);
    const count = ax.reduce((p, a) => p * x.shape[a], 1);
    if ((op === 'argmax' || op === 'argmin') && ax.length !== 1) {
      throw new ShapeError(
        op,
        `takes exactly one axis, got [${ax.join(',')}] for shape ${formatShape(x.shape)}`,
        [x.shape],
      );
    }
    if (
      count === 0 &&
      op !== 'sum' &&
      op !== 'mean' &&
      op !== 'prod' &&
      x.size === 0 &&
      sizeOf(outShape) > 0
    ) {
      throw new ShapeError(op, `cannot reduce zero elements (shape ${formatShape(x.shape)})`, [x.shape]);
    }
    if (ax.length === 0) return this.copy(x);
    const backendOp: ReduceOp = op === 'mean' ? 'sum' : op;
    const flat = reducedShape(x.shape, ax, false);
    const summed = this.launch(flat, () => this.backend.reduce(backendOp, st.buf, x.shape, ax));
    let res = summed;
    if (op === 'mean') {
      res = this.scalar('mulScalar', summed, 1 / count);
      summed.dispose();
    }
    if (keepDims) {
      const kept = this.reshape(res, outShape);
      res.dispose();
      return kept;
    }
    return res;
  }

  /** Sum over `axes` (default all). */
  sum(x: DeviceArray, axes?: number | readonly number[], keepDims = false): DeviceArray {
    return this.reduce('sum', x, axes, keepDims);
  }

  /** Mean over `axes` (default all). */
  mean(x: DeviceArray, axes?: number | readonly number[], keepDims = false): DeviceArray {
    return this.reduce('mean', x, axes, keepDims);
  }

  /** Maximum over `axes` (default all). */
  max(x: DeviceArray, axes?: number | readonly number[], keepDims = false): DeviceArray {
    return this.reduce('max', x, axes, keepDims);
  }

  /** Minimum over `axes` (default all). */
  min(x: DeviceArray, axes?: number | readonly number[], keepDims = false): DeviceArray {
    return this.reduce('min', x, axes, keepDims);
  }

  /** Index of the maximum along `axis` (default the last); the first NaN's index where there is one. */
  argmax(x: DeviceArray, axis = -1, keepDims = false): DeviceArray {
    return this.reduce('argmax', x, axis, keepDims);
  }

  /** Index of the minimum along `axis` (default the last); the first NaN's index where there is one. */
  argmin(x: DeviceArray, axis = -1, keepDims = false): DeviceArray {
    return this.reduce('argmin', x, axis, keepDims);
  }

  /** log(sum(exp(x))) over `axes`, computed as m + log(sum(exp(x - m))) with m the maximum. */
  logsumexp(x: DeviceArray, axes?: number | readonly number[], keepDims = false): DeviceArray {
    return this.reduce('logsumexp', x, axes, keepDims);
  }

  /**
   * softmax along `axis` (default -1): e / sum(e) with e = exp(x - max(x)), as PyTorch computes it
   * (no precision lost to a large logsumexp).
   */
  softmax(x: DeviceArray, axis = -1): DeviceArray {
    const m = this.max(x, axis, true);
    const e = this.map(EXP_SUB, [x, m]);
    const s = this.sum(e, axis, true);
    try {
      return this.binary('div', e, s);
    } finally {
      for (const t of [m, e, s]) t.dispose();
    }
  }

  /** log-softmax along `axis` (default -1): (x - max(x)) - log(sum(exp(x - max(x)))). */
  logSoftmax(x: DeviceArray, axis = -1): DeviceArray {
    const m = this.max(x, axis, true);
    const e = this.map(EXP_SUB, [x, m]);
    const s = this.sum(e, axis, true);
    try {
      return this.map(LOG_SOFTMAX, [x, m, s]);
    } finally {
      for (const t of [m, e, s]) t.dispose();
    }
  }

  /**
   * Softmax cross-entropy of each row of `x` `[N, C]` against class indices `labels` `[N]`
   * (integers stored as floats) with label smoothing `smoothing` = eps in [0, 1] (default 0), as
   * PyTorch's `F.cross_entropy(x, y, reduction='none', label_smoothing=eps)`:
   *
   * `loss_n = (1 - eps) (lse_n - x_{n,y_n}) + eps (lse_n - mean_c x_{n,c})` with
   * `lse_n = log sum_c exp(x_{n,c})` (computed as {@link Device.logsumexp}), NaN for a row holding
   * +Infinity (as PyTorch's log_softmax there: the row's loss and gradient are NaN).
   *
   * That is `sum_c q_{n,c} (lse_n - x_{n,c})` with `q = (1 - eps) onehot(y_n) + eps / C`, summing
   * only the terms whose `q` is nonzero (so with eps = 0 a -Infinity logit off the label gives a
   * finite loss, as in PyTorch). A label that is not an integer in `[0, C)` matches no class (its
   * first term vanishes). Returns `[loss [N], lse [N, 1], probs]`, where `probs` (`[N, C]`, only
   * when `withProbs` is true, else null) is `softmax(x)`, what {@link Device.softmaxCrossEntropyGrad}
   * needs.
   *
   * `wasm` fuses it (one SIMD pass per row for lse and the probabilities, the label's logit and
   * the row sum picked per row); other backends compose logsumexp, oneHot, element-wise maps and a
   * row sum, and `probs = exp(x - lse)`.
   *
   * @throws {ShapeError} when `x` is not `[N, C]` with C >= 1 or `labels` is not `[N]`.
   * @throws {ValueError} when `smoothing` is not in [0, 1].
   * @see https://pytorch.org/docs/stable/generated/torch.nn.functional.cross_entropy.html
   * @example
   * ```ts
   * const [loss, lse] = d.softmaxCrossEntropy(d.array([2, 0, 0, 0, 3, 0], [2, 3]), d.array([0, 1]));
   * loss.read(); // [0.2395447, 0.0948677]
   * ```
   */
  softmaxCrossEntropy(
    x: DeviceArray,
    labels: DeviceArray,
    smoothing = 0,
    withProbs = false,
  ): [DeviceArray, DeviceArray, DeviceArray | null] {
    const op = 'softmaxCrossEntropy';
    const sx = this.own(op, x);
    const sl = this.own(op, labels);
    const [n, c] = checkCrossEntropyShapes(op, x, labels);
    checkSmoothing(op, smoothing);
    if (n > 0) {
      const fused = this.backend.softmaxCrossEntropy?.(sx.buf, sl.buf, n, c, smoothing, withProbs);
      if (fused) {
        const [l, s, p] = fused;
        return [
          this.launch([n], () => l),
          this.launch([n, 1], () => s),
          p === null ? null : this.launch([n, c], () => p),
        ];
      }
    }
    const m = this.logsumexp(x, 1, true);
    let lse: DeviceArray;
    try {
      lse = this.map(CE_LSE, [m]);
    } finally {
      m.dispose();
    }
    const made: DeviceArray[] = [];
    let loss: DeviceArray | null = null;
    try {
      const q = this.crossEntropyTargets(labels, c, smoothing, made);
      const terms = this.map(CE_TERMS, [x, lse, q]);
      made.push(terms);
      loss = this.sum(terms, 1);
      return [loss, lse, withProbs ? this.map(EXP_SUB, [x, lse]) : null];
    } catch (e) {
      lse.dispose();
      loss?.dispose();
      throw e;
    } finally {
      for (const t of made) t.dispose();
    }
  }

  /**
   * The gradient of {@link Device.softmaxCrossEntropy} with respect to `x`, from its `probs`
   * (`softmax(x)`, `[N, C]`), times `scale` and the output gradient `dy` (`[N]`, or one value for
   * every row, shape `[]` or `[1]`):
   *
   * `dx_{n,c} = (scale dy_n) (probs_{n,c} - q_{n,c})`, `q = (1 - eps) onehot(y_n) + eps / C`,
   *
   * each step rounded to float32 (the product `scale dy_n` first). `scale` is 1/N for a mean loss.
   * `wasm` runs it as one SIMD pass per row; other backends compose oneHot and an element-wise map;
   * on `wasm` both give the same values bit for bit.
   *
   * @throws {ShapeError} when the shapes do not fit `probs` `[N, C]`.
   * @throws {ValueError} when `smoothing` is not in [0, 1] or `scale` is not a number.
   * @example
   * ```ts
   * const [loss, lse, probs] = d.softmaxCrossEntropy(x, labels, 0, true);
   * const dx = d.softmaxCrossEntropyGrad(probs!, labels, d.array([1]), 0, 1 / x.shape[0]); // mean
   * ```
   */
  softmaxCrossEntropyGrad(
    probs: DeviceArray,
    labels: DeviceArray,
    dy: DeviceArray,
    smoothing: number,
    scale: number,
  ): DeviceArray {
    const op = 'softmaxCrossEntropyGrad';
    const sp = this.own(op, probs);
    const sl = this.own(op, labels);
    const sd = this.own(op, dy);
    const [n, c] = checkCrossEntropyShapes(op, probs, labels, 'probs');
    checkSmoothing(op, smoothing);
    if (typeof scale !== 'number') throw new ValueError(op, `scale must be a number, got ${String(scale)}`);
    const perRow =
      dy.size === n &&
      dy.rank >= 1 &&
      dy.shape[0] === n &&
      dy.rank <= 2 &&
      (dy.rank === 1 || dy.shape[1] === 1);
    if (!perRow && !(dy.size === 1 && dy.rank <= 1))
      throw new ShapeError(
        op,
        `dy ${formatShape(dy.shape)} must be ${formatShape([n])} or one value ([] or [1])`,
        [dy.shape],
      );
    if (n > 0) {
      // q as the composed path computes it: affine(onehot, 1 - eps, eps / C) with float32 parameters
      const f = Math.fround;
      const [q0, q1] = smoothing > 0 ? [f(smoothing / c), f(f(1 - smoothing) + f(smoothing / c))] : [0, 1];
      const fused = this.backend.softmaxCrossEntropyGrad?.(
        sp.buf,
        sl.buf,
        sd.buf,
        perRow,
        n,
        c,
        scale,
        q0,
        q1,
      );
      if (fused) return this.launch([n, c], () => fused);
    }
    const made: DeviceArray[] = [];
    try {
      const q = this.crossEntropyTargets(labels, c, smoothing, made);
      const dcol = this.reshape(dy, perRow ? [n, 1] : []);
      made.push(dcol);
      return this.map(CE_GRAD, [probs, q, dcol], [scale]);
    } finally {
      for (const t of made) t.dispose();
    }
  }

  /** q = (1 - eps) onehot(labels) + eps / C, the arrays it makes pushed to `made`. */
  private crossEntropyTargets(
    labels: DeviceArray,
    c: number,
    smoothing: number,
    made: DeviceArray[],
  ): DeviceArray {
    let q = this.oneHot(labels, c);
    made.push(q);
    if (smoothing > 0) {
      q = this.scalar('affine', q, 1 - smoothing, smoothing / c);
      made.push(q);
    }
    return q;
  }

  // ---------------------------------------------------------------- linear algebra and layout

  /**
   * Matrix product op(A) op(B) of two 2-D arrays; op transposes when `transA` / `transB` is set
   * (read in place: no transposed copy is made by the caller).
   *
   * @throws {ShapeError} when an operand is not 2-D or the inner sizes differ.
   * @example
   * ```ts
   * d.matmul(x, w, { transB: true }); // x w^T, as a Linear layer with weight [out, in]
   * ```
   */
  matmul(a: DeviceArray, b: DeviceArray, opts: MatmulOptions = {}): DeviceArray {
    const sa = this.own('matmul', a);
    const sb = this.own('matmul', b);
    const { transA = false, transB = false } = opts;
    const [m, k, n] = matmulSizes('matmul', a, b, transA, transB);
    this.checkSize('matmul', m * n);
    if (m * n === 0 || k === 0) return this.full([m, n], 0);
    return this.launch([m, n], () => this.backend.matmul(sa.buf, sb.buf, m, k, n, transA, transB));
  }

  /**
   * A matrix product with an element-wise epilogue fused into it:
   *
   * `out[i, j] = spec(P[i, j], operands at (i, j), params)`, `P = op(A) op(B)`,
   *
   * equal bit for bit to `map(spec, [matmul(a, b, options), ...operands], params, [m, n])` on
   * every backend; the point is one launch less, and no product array written and read again.
   * The `gl` backend applies the spec in the packed matmul's last pass (where the product is
   * written back to the flat layout), when the packed path runs (`packedMatmul` and `directMap`
   * on, not tiled, the packed textures fit); elsewhere, and on `cpu` and `wasm`, it runs that
   * matmul and that map. Use it for a layer's bias and activation (`act(x W^T + b)`).
   *
   * @param a A, `m x k` (`k x m` with `transA`).
   * @param b B, `k x n` (`n x k` with `transB`).
   * @param epilogue the spec (input `a` is the product), its other operands (default none) and
   *   parameters (default none).
   * @param options the transposes, as {@link Device.matmul} (default none).
   * @returns a new `[m, n]` array.
   * @throws {ShapeError} naming `matmulMap` when an operand of the product is not 2-D, the inner
   *   sizes differ, the number of operands is not the spec's arity - 1, or an operand does not
   *   broadcast to `[m, n]`.
   * @throws {ValueError} when the spec is not a valid kernel, or a parameter is missing or not a
   *   number. Nothing is launched when a check fails.
   * @example
   * ```ts
   * import { SCALAR, defineKernel, getDevice } from '@gradkit/kernels';
   * const d = getDevice();
   * const x = d.array([1, 2, 3, 4], [2, 2]); // [N, in]
   * const w = d.array([1, 0, 0, -1, 1, 1], [3, 2]); // [out, in]
   * const BIAS_RELU = defineKernel({ name: 'demo.biasRelu', arity: 2, params: 0, expr: 'Math.max(a + b, 0.0)' });
   * const y = d.matmulMap(x, w, { spec: BIAS_RELU, operands: [d.array([0.5, 0, -1])] }, { transB: true });
   * y.read(); // relu(x w^T + b) = [1.5, 0, 2, 3.5, 0, 6]
   * d.matmulMap(x, w, { spec: SCALAR.leakyRelu, params: [0.1] }, { transB: true }); // no operand
   * ```
   */
  matmulMap(
    a: DeviceArray,
    b: DeviceArray,
    epilogue: MatmulEpilogue,
    options: MatmulOptions = {},
  ): DeviceArray {
    const op = 'matmulMap';
    const sa = this.own(op, a);
    const sb = this.own(op, b);
    const { transA = false, transB = false } = options;
    const [m, k, n] = matmulSizes(op, a, b, transA, transB);
    if (epilogue === null || typeof epilogue !== 'object')
      throw new ValueError(
        op,
        `the epilogue must be an object { spec, operands?, params? }, got ${String(epilogue)}`,
      );
    const { spec, operands = [], params = [] } = epilogue;
    if (spec === null || typeof spec !== 'object')
      throw new ValueError(op, `the epilogue's spec must be a kernel spec, got ${String(spec)}`);
    if (!Array.isArray(operands) || !Array.isArray(params))
      throw new ValueError(op, `the epilogue's operands and params must be arrays`);
    const ops = operands.map((x) => this.own(op, x));
    if (Number.isInteger(spec.arity) && spec.arity !== 1 + operands.length) {
      throw new ShapeError(
        op,
        `epilogue '${spec.name}' takes the product and ${spec.arity - 1} operands, got ${operands.length}`,
        operands.map((x) => x.shape),
      );
    }
    this.checkSpec(spec, [a, ...operands], params, op, `epilogue '${spec.name}': `);
    const out: Shape = [m, n];
    const shapes = operands.map((x) => x.shape);
    const full = broadcastShapes(op, out, ...shapes);
    if (!shapesEqual(full, out)) {
      throw new ShapeError(
        op,
        `epilogue operands ${shapes.map(formatShape).join(', ')} do not broadcast to the product ${formatShape(out)}`,
        [out, ...shapes],
      );
    }
    this.checkSize(op, m * n);
    if (m * n === 0) return this.full(out, 0);
    if (k > 0) {
      const fused = this.backend.matmulMap?.(
        sa.buf,
        sb.buf,
        m,
        k,
        n,
        transA,
        transB,
        spec,
        ops.map((st) => st.buf),
        shapes,
        params,
      );
      if (fused) return this.launch(out, () => fused);
    }
    const product = this.matmul(a, b, { transA, transB });
    try {
      return this.map(spec, [product, ...operands], params, out);
    } finally {
      product.dispose();
    }
  }

  /**
   * The backward pass of a dense layer `y = f(x W^T + b)` (as {@link Device.matmulMap} with
   * `transB` computes it), from the gradient `dz` of the pre-activation:
   *
   * `dx = dz W` (`[m, k]`), `dw = dz^T x` (`[n, k]`), `db[j] = sum_i dz[i, j]` (`[n]`),
   *
   * with `dz` `[m, n]` given as an array, or as an element-wise kernel over arrays of that shape
   * ({@link LinearGradKernel}, e.g. `dy * f'(y)`), which is then never stored. Each result equals
   * bit for bit what `map(spec, inputs, params)` followed by `matmul(dz, weight)`,
   * `matmul(dz, x, { transA: true })` and `sum(dz, 0)` give on the same backend; those are what
   * `cpu` and `wasm` run. The `gl` backend computes `dz` inside the passes that pack it for its two
   * products (no element-wise launch, no `dz` array) and sums its columns from the packed form,
   * where its packed matmul runs (`packedMatmul` and `directMap` on, not tiled, the textures fit,
   * at most 1024 rows); elsewhere it composes as above.
   *
   * @param dz `dz` `[m, n]`, or the kernel that computes it.
   * @param options what to compute: `x` (for `dw`), `weight` (for `dx`), `bias` (for `db`); all
   *   left out by default.
   * @returns `{ dx, dw, db }`, new arrays, null where not asked for.
   * @throws {ShapeError} naming `linearGrad` when `dz` or a kernel input is not 2-D, the kernel's
   *   inputs differ in shape or their count is not its arity, `x` is not `[m, k]` or `weight` not
   *   `[n, k]` (one `k` for both).
   * @throws {ValueError} when the kernel is not a valid spec, or a parameter is missing or not a
   *   number. Nothing is launched when a check fails.
   * @example
   * ```ts
   * import { ACTIVATION_GRAD, getDevice } from '@gradkit/kernels';
   * const d = getDevice();
   * const x = d.array([1, 2, 3, 4], [2, 2]); // [N, in]
   * const w = d.array([1, 0, 0, -1, 1, 1], [3, 2]); // [out, in]
   * const y = d.array([1, 0, 3, 3, 0, 7], [2, 3]); // relu(x w^T + b)
   * const dy = d.array([1, 1, 1, 2, 2, 2], [2, 3]);
   * const { dx, dw, db } = d.linearGrad(
   *   { spec: ACTIVATION_GRAD.reluGrad, inputs: [y, dy] }, // dz = [[1, 0, 1], [2, 0, 2]]
   *   { x, weight: w, bias: true },
   * );
   * dx!.read(); // dz w = [2, 1, 4, 2]
   * dw!.read(); // dz^T x = [7, 10, 0, 0, 7, 10]
   * db!.read(); // [3, 0, 3]
   * ```
   */
  linearGrad(dz: DeviceArray | LinearGradKernel, options: LinearGradOptions = {}): LinearGrads {
    const op = 'linearGrad';
    if (options === null || typeof options !== 'object')
      throw new ValueError(op, `options must be an object { x?, weight?, bias? }, got ${String(options)}`);
    const { x = null, weight = null, bias = false } = options;
    if (typeof bias !== 'boolean')
      throw new ValueError(op, `bias must be true or false, got ${String(bias)}`);
    let spec: ElementwiseSpec | null = null;
    let inputs: readonly DeviceArray[];
    let params: readonly number[] = [];
    if (dz instanceof DeviceArray) inputs = [dz];
    else {
      if (dz === null || typeof dz !== 'object' || dz.spec === null || typeof dz.spec !== 'object')
        throw new ValueError(
          op,
          `dz must be a DeviceArray or a kernel { spec, inputs, params? }, got ${String(dz)}`,
        );
      spec = dz.spec;
      inputs = dz.inputs;
      params = dz.params ?? [];
      if (!Array.isArray(inputs) || !Array.isArray(params))
        throw new ValueError(op, "the kernel's inputs and params must be arrays");
    }
    const sts = inputs.map((a) => this.own(op, a));
    if (spec !== null) this.checkSpec(spec, inputs, params, op, `kernel '${spec.name}': `);
    const dzShape = inputs[0].shape;
    if (dzShape.length !== 2 || inputs.some((a) => !shapesEqual(a.shape, dzShape))) {
      throw new ShapeError(
        op,
        `dz must be 2-D [m, n]${spec ? `, every input of '${spec.name}' of that shape` : ''}, got ${inputs.map((a) => formatShape(a.shape)).join(', ')}`,
        inputs.map((a) => a.shape),
      );
    }
    const [m, n] = dzShape;
    const sx = x === null ? null : this.own(op, x);
    const sw = weight === null ? null : this.own(op, weight);
    const k = x !== null ? x.shape[1] : weight !== null ? weight.shape[1] : 0;
    if (x !== null && (x.rank !== 2 || x.shape[0] !== m || x.shape[1] !== k)) {
      throw new ShapeError(
        op,
        `x must be [${m}, k] for dz ${formatShape(dzShape)}, got ${formatShape(x.shape)}`,
        [dzShape, x.shape],
      );
    }
    if (weight !== null && (weight.rank !== 2 || weight.shape[0] !== n || weight.shape[1] !== k)) {
      const want = x !== null ? `[${n}, ${k}] (x is ${formatShape(x.shape)})` : `[${n}, k]`;
      throw new ShapeError(
        op,
        `weight must be ${want} for dz ${formatShape(dzShape)}, got ${formatShape(weight.shape)}`,
        [dzShape, weight.shape, ...(x !== null ? [x.shape] : [])],
      );
    }
    if (x === null && weight === null && !bias) return { dx: null, dw: null, db: null };
    this.checkSize(op, Math.max(m * k, n * k, m * n));
    if (m * n > 0 && k > 0) {
      const fused = this.backend.linearGrad?.(
        { spec, inputs: sts.map((st) => st.buf), params },
        m,
        n,
        k,
        sx?.buf ?? null,
        sw?.buf ?? null,
        bias,
      );
      if (fused) {
        const wrap = (buf: BackendBuffer | null, shape: Shape): DeviceArray | null => {
          if (buf === null) return null;
          this.launches++;
          return this.wrap(buf, shape);
        };
        return {
          dx: wrap(fused.dx, [m, k]),
          dw: wrap(fused.dw, [n, k]),
          db: wrap(fused.db, [n]),
        };
      }
    }
    const g = spec === null ? inputs[0] : this.map(spec, inputs, params, [m, n]);
    const made: DeviceArray[] = [];
    try {
      const db = bias ? this.reduce('sum', g, [0]) : null;
      if (db) made.push(db);
      const dx = weight !== null ? this.matmul(g, weight) : null;
      if (dx) made.push(dx);
      const dw = x !== null ? this.matmul(g, x, { transA: true }) : null;
      return { dx, dw, db };
    } catch (e) {
      for (const a of made) a.dispose();
      throw e;
    } finally {
      if (g !== inputs[0]) g.dispose();
    }
  }

  /** Permutes axes: output axis i is input axis `perm[i]` (default: reversed). */
  transpose(x: DeviceArray, perm?: readonly number[]): DeviceArray {
    const st = this.own('transpose', x);
    const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
    assertPermutation('transpose', p, x.rank);
    const out = p.map((i) => x.shape[i]);
    if (x.size === 0) return this.full(out, 0);
    return this.launch(out, () => this.backend.transpose(st.buf, x.shape, p));
  }

  /**
   * Selects entries along `axis`: output shape is x.shape with dimension `axis` replaced by
   * indices.shape. Indices are integer-valued floats, checked on the host when given as an array.
   *
   * @example
   * ```ts
   * d.gather(table, [2, 0], 0); // rows 2 and 0 of table
   * ```
   */
  gather(x: DeviceArray, indices: DeviceArray | readonly number[], axis = 0): DeviceArray {
    const st = this.own('gather', x);
    const [ax] = normalizeAxes('gather', axis, x.rank);
    let idx: DeviceArray;
    if (indices instanceof DeviceArray) idx = indices;
    else {
      for (const i of indices) {
        if (!Number.isInteger(i) || i < 0 || i >= x.shape[ax]) {
          throw new ValueError('gather', `index ${i} is out of range [0, ${x.shape[ax]}) on axis ${ax}`);
        }
      }
      idx = this.array(indices);
    }
    try {
      const si = this.own('gather', idx);
      const out = [...x.shape.slice(0, ax), ...idx.shape, ...x.shape.slice(ax + 1)];
      if (sizeOf(out) === 0) return this.full(out, 0);
      return this.launch(out, () => this.backend.gather(st.buf, x.shape, si.buf, idx.size, ax));
    } finally {
      if (idx !== indices) idx.dispose();
    }
  }

  /**
   * Scatter-add along `axis`, the adjoint of {@link Device.gather}: a zero array of `shape` into
   * which `out[..., indices[j], ...] += updates[..., j, ...]`; `updates` has `shape` with
   * dimension `axis` replaced by `indices.shape`. Repeated indices add up; indices outside
   * `[0, shape[axis])` (possible only in a device array: host ones are checked) contribute nothing.
   *
   * Order and precision: each element sums its updates in ascending `j`; `cpu` and `wasm` add in
   * float64 and round once, `gl` adds in float32 (in chunks of about sqrt(count) positions whose
   * partial sums are then added in chunk order, when `count` exceeds 1024).
   *
   * @throws {ShapeError} when `updates` does not have that shape, or `axis` is out of range.
   * @throws {ValueError} for host indices that are not integers in `[0, shape[axis])`.
   * @example
   * ```ts
   * d.scatterAdd(d.array([1, 2, 3]), [2, 0, 2], 0, [3]).read(); // [2, 0, 4]
   * ```
   */
  scatterAdd(
    updates: DeviceArray,
    indices: DeviceArray | readonly number[],
    axis: number,
    shape: Shape,
  ): DeviceArray {
    const op = 'scatterAdd';
    const su = this.own(op, updates);
    assertValidShape(op, shape);
    const [ax] = normalizeAxes(op, axis, shape.length);
    let idx: DeviceArray;
    if (indices instanceof DeviceArray) idx = indices;
    else {
      if (!Array.isArray(indices))
        throw new ValueError(op, 'indices must be a DeviceArray or an array of integers');
      for (const i of indices) {
        if (!Number.isInteger(i) || i < 0 || i >= shape[ax]) {
          throw new ValueError(op, `index ${i} is out of range [0, ${shape[ax]}) on axis ${ax}`);
        }
      }
      idx = this.array(indices);
    }
    try {
      const si = this.own(op, idx);
      const want = [...shape.slice(0, ax), ...idx.shape, ...shape.slice(ax + 1)];
      if (!shapesEqual(updates.shape, want)) {
        throw new ShapeError(
          op,
          `updates ${formatShape(updates.shape)} do not match ${formatShape(want)} (shape ${formatShape(shape)} with axis ${ax} replaced by the indices' shape ${formatShape(idx.shape)})`,
          [updates.shape, idx.shape, shape],
        );
      }
      this.checkSize(op, sizeOf(shape));
      if (updates.size === 0 || sizeOf(shape) === 0) return this.full(shape, 0);
      return this.launch(shape, () => this.backend.scatterAdd(su.buf, shape, si.buf, idx.size, ax));
    } finally {
      if (idx !== indices) idx.dispose();
    }
  }

  /**
   * A strided window read of `x` (see {@link WindowSpec}): output element `o` is `x` at input
   * coordinates `c_a(o) = offsets[a] + sum_{k: axes[k] = a} steps[k] * o_k`, or `padValue` where
   * a coordinate falls outside `x`. Slices (with steps, reversed), pads, broadcasts, index
   * selections and im2col-style sliding windows are all this one kernel.
   *
   * @throws {ShapeError} / {@link ValueError} for a spec that does not fit `x` (see `planWindow`),
   * naming `window`, the shapes and the axis.
   * @example
   * ```ts
   * const x = d.array([1, 2, 3, 4, 5, 6], [2, 3]);
   * d.window(x, { outShape: [2, 2], axes: [0, 1], steps: [1, -1], offsets: [0, 2] }).read(); // [3, 2, 6, 5]
   * ```
   */
  window(x: DeviceArray, spec: WindowSpec): DeviceArray {
    const st = this.own('window', x);
    const plan = planWindow('window', x.shape, spec);
    const n = sizeOf(plan.outShape);
    this.checkSize('window', n);
    if (n === 0 || x.size === 0) return this.full(plan.outShape, plan.padValue);
    return this.launch(plan.outShape, () => this.backend.window(st.buf, plan));
  }

  /**
   * The adjoint (transpose) of {@link Device.window}: a zero array of `inShape` into which every
   * output position `o` of the window adds `dy[o]` at the input element it reads; positions that
   * read padding contribute nothing. This is the gradient of a window read: of a slice, a pad, a
   * broadcast (a sum over the broadcast axes) or im2col (overlapping windows add up).
   *
   * Order and precision: `cpu` and `wasm` visit `o` in ascending row-major order, add in float64
   * and round once; `gl` computes each input element as a sum over the window positions that
   * read it (no atomics), in float32, in the order of its loop over the output axes it does not
   * solve for (chunked as reductions are beyond 1024 positions). The same backend always gives
   * the same bits.
   *
   * @throws {ShapeError} when `dy` does not have `spec.outShape`, or the spec does not fit `inShape`.
   * @example
   * ```ts
   * // the gradient of x[::2] for x of shape [4]
   * d.windowScatterAdd(d.array([1, 1]), { outShape: [2], axes: [0], steps: [2], offsets: [0] }, [4]).read(); // [1, 0, 1, 0]
   * ```
   */
  windowScatterAdd(dy: DeviceArray, spec: WindowSpec, inShape: Shape): DeviceArray {
    const op = 'windowScatterAdd';
    const st = this.own(op, dy);
    assertValidShape(op, inShape);
    const plan = planWindow(op, inShape, spec);
    if (!shapesEqual(dy.shape, plan.outShape)) {
      throw new ShapeError(
        op,
        `dy ${formatShape(dy.shape)} does not have the window's output shape ${formatShape(plan.outShape)}`,
        [dy.shape, plan.outShape],
      );
    }
    this.checkSize(op, sizeOf(inShape));
    if (dy.size === 0 || sizeOf(inShape) === 0) return this.full(inShape, 0);
    return this.launch(inShape, () => this.backend.windowScatterAdd(st.buf, plan));
  }

  /**
   * The maximum over a block of a window read's output axes, with the tap that holds it: for the
   * window read `w = window(x, spec)` and its output axes `[first, first + count)` (the taps),
   * `max[o] = max_t w[o, t]` and `index[o]` = the first `t` (row-major over the taps) where
   * `w[o, t]` is the maximum, or the first NaN (which the maximum then is: NaN propagates).
   * Both have `spec.outShape` without the tap axes. Max pooling is this with `spec` the pooling
   * windows; its gradient is {@link Device.windowScatterAt}.
   *
   * `cpu` and `wasm` run one fused pass when no read falls outside `x` (no padding), without
   * materializing the window; otherwise, and on `gl`, it is {@link Device.window} followed by
   * `max` and `argmax` over the taps. The results are the same either way.
   *
   * @throws {ShapeError} / {@link ValueError} for a spec that does not fit `x`, or a tap block
   * outside the output axes or of zero taps, naming `windowMax`.
   * @example
   * ```ts
   * // 2x2 max pooling of a [1, 1, 2, 4] image: taps [KH, KW] before the output positions [OH, OW]
   * const x = d.array([1, 5, 2, 0, 3, 4, 8, 7], [1, 1, 2, 4]);
   * const spec = { outShape: [1, 1, 2, 2, 1, 2], axes: [0, 1, 2, 3, 2, 3], steps: [1, 1, 1, 1, 2, 2], offsets: [0, 0, 0, 0] };
   * const [max, index] = d.windowMax(x, spec, 2, 2);
   * max.read(); // [5, 8]   (shape [1, 1, 1, 2])
   * index.read(); // [1, 2] (tap (0, 1) and tap (1, 0))
   * ```
   */
  windowMax(x: DeviceArray, spec: WindowSpec, first: number, count: number): [DeviceArray, DeviceArray] {
    const op = 'windowMax';
    const st = this.own(op, x);
    const plan = planWindow(op, x.shape, spec);
    const { kept, taps } = tapBlock(op, plan.outShape, first, count);
    if (taps === 0)
      throw new ShapeError(op, `the tap block of ${formatShape(plan.outShape)} is empty`, [plan.outShape]);
    this.checkSize(op, sizeOf(plan.outShape));
    if (sizeOf(kept) > 0 && x.size > 0) {
      const fused = this.backend.windowMax?.(st.buf, plan, first, count);
      if (fused) return [this.launch(kept, () => fused[0]), this.launch(kept, () => fused[1])];
    }
    const merged = [...plan.outShape.slice(0, first), taps, ...plan.outShape.slice(first + count)];
    const w = this.window(x, spec);
    const wm = this.reshape(w, merged);
    w.dispose();
    try {
      const max = this.max(wm, first);
      try {
        return [max, this.argmax(wm, first)];
      } catch (e) {
        max.dispose();
        throw e;
      }
    } finally {
      wm.dispose();
    }
  }

  /**
   * The gradient of {@link Device.windowMax}'s maximum: a zero array of `inShape` into which each
   * output position `o` adds `dy[o]` at the input element its tap `index[o]` reads (the adjoint of
   * "read the tap `index[o]` of window `o`"). Taps that read padding, and indices that are not an
   * integer in `[0, taps)`, contribute nothing. `dy` and `index` have `spec.outShape` without the
   * tap axes `[first, first + count)`.
   *
   * Order and precision as {@link Device.windowScatterAdd} (`cpu`/`wasm`: float64 sums in
   * ascending `o`, fused when nothing reads padding; otherwise composed: the picked taps spread
   * into a zero window, then `windowScatterAdd`).
   *
   * @throws {ShapeError} when `dy` or `index` does not have the window's shape without the taps, or
   * the spec does not fit `inShape`.
   * @example
   * ```ts
   * const dx = d.windowScatterAt(d.array([1, 1], [1, 1, 1, 2]), index, spec, 2, 2, [1, 1, 2, 4]);
   * dx.read(); // [0, 1, 0, 0, 0, 0, 1, 0]
   * ```
   */
  windowScatterAt(
    dy: DeviceArray,
    index: DeviceArray,
    spec: WindowSpec,
    first: number,
    count: number,
    inShape: Shape,
  ): DeviceArray {
    const op = 'windowScatterAt';
    const sd = this.own(op, dy);
    const si = this.own(op, index);
    assertValidShape(op, inShape);
    const plan = planWindow(op, inShape, spec);
    const { kept, taps } = tapBlock(op, plan.outShape, first, count);
    for (const [name, a] of [
      ['dy', dy],
      ['index', index],
    ] as const) {
      if (!shapesEqual(a.shape, kept)) {
        throw new ShapeError(
          op,
          `${name} ${formatShape(a.shape)} does not have the window's shape without its taps ${formatShape(kept)}`,
          [a.shape, kept],
        );
      }
    }
    this.checkSize(op, sizeOf(inShape));
    if (dy.size === 0 || taps === 0 || sizeOf(inShape) === 0) return this.full(inShape, 0);
    const fused = this.backend.windowScatterAt?.(sd.buf, si.buf, plan, first, count);
    if (fused) return this.launch(inShape, () => fused);
    // composed: spread dy over the taps where the tap is index[o], then the window's adjoint
    const tail = plan.outShape.length - first - count;
    const at = [...kept.slice(0, first), 1, ...kept.slice(first)];
    const tapIds = this.array(
      Float32Array.from({ length: taps }, (_, t) => t),
      [taps, ...new Array<number>(tail).fill(1)],
    );
    const tmp: DeviceArray[] = [tapIds];
    try {
      const dyv = this.reshape(dy, at);
      tmp.push(dyv);
      const iv = this.reshape(index, at);
      tmp.push(iv);
      const spread = this.map(PICK_TAP, [tapIds, iv, dyv]);
      tmp.push(spread);
      const full = this.reshape(spread, plan.outShape);
      tmp.push(full);
      return this.windowScatterAdd(full, spec, inShape);
    } finally {
      for (const a of tmp) a.dispose();
    }
  }

  /**
   * Concatenates arrays along `axis` (negative counts from the end): they must have the same
   * rank and agree on every other dimension; zero-size arrays are allowed. Composed of window
   * reads (each array padded to the output's shape with -0, which leaves every value, -0
   * included, unchanged under addition) and element-wise adds: `k` arrays cost `2k - 1` kernels.
   *
   * @throws {ShapeError} for an empty list, different ranks or dimensions, or an axis out of range.
   * @example
   * ```ts
   * d.concat([d.array([1, 2], [1, 2]), d.array([3, 4, 5, 6], [2, 2])], 0).read(); // [1, 2, 3, 4, 5, 6], shape [3, 2]
   * ```
   */
  concat(xs: readonly DeviceArray[], axis = 0): DeviceArray {
    const op = 'concat';
    if (!Array.isArray(xs as unknown) || xs.length === 0)
      throw new ShapeError(op, 'expects at least one array');
    for (const x of xs) this.own(op, x);
    const shape0 = xs[0].shape;
    if (shape0.length === 0) throw new ShapeError(op, 'cannot concatenate scalars (rank 0)', [shape0]);
    const [ax] = normalizeAxes(op, axis, shape0.length);
    for (const x of xs) {
      if (x.rank !== shape0.length || x.shape.some((s, i) => i !== ax && s !== shape0[i])) {
        throw new ShapeError(
          op,
          `shapes ${xs.map((y) => formatShape(y.shape)).join(', ')} differ outside axis ${ax}`,
          xs.map((y) => y.shape),
        );
      }
    }
    const total = xs.reduce((p, x) => p + x.shape[ax], 0);
    const outShape = shape0.map((s, i) => (i === ax ? total : s));
    this.checkSize(op, sizeOf(outShape));
    if (sizeOf(outShape) === 0) return this.full(outShape, 0);
    const parts = xs.filter((x) => x.size > 0);
    if (parts.length === 1) return this.copy(parts[0]);
    let acc: DeviceArray | null = null;
    let at = 0;
    try {
      for (const x of xs) {
        const before = at;
        at += x.shape[ax];
        if (x.size === 0) continue;
        const placed = this.window(x, {
          outShape,
          axes: outShape.map((_, i) => i),
          steps: outShape.map(() => 1),
          offsets: outShape.map((_, i) => (i === ax ? -before : 0)),
          padValue: -0,
        });
        if (acc === null) acc = placed;
        else {
          const sum: DeviceArray = this.binary('add', acc, placed);
          acc.dispose();
          placed.dispose();
          acc = sum;
        }
      }
      const out = acc!;
      acc = null;
      return out;
    } finally {
      acc?.dispose();
    }
  }

  /**
   * One-hot encoding: `out[..., j] = labels[...] == j ? 1 : 0`, shape `[...labels.shape, depth]`.
   * Labels outside [0, depth) give an all-zero row.
   */
  oneHot(labels: DeviceArray, depth: number): DeviceArray {
    this.own('oneHot', labels);
    if (!Number.isInteger(depth) || depth <= 0)
      throw new ValueError('oneHot', `depth must be a positive integer, got ${depth}`);
    let iota = this.iotas.get(depth);
    if (!iota) {
      iota = this.array(Float32Array.from({ length: depth }, (_, i) => i));
      this.iotas.set(depth, iota);
    }
    const col = this.reshape(labels, [...labels.shape, 1]);
    try {
      return this.binary('equal', col, iota);
    } finally {
      col.dispose();
    }
  }

  // ---------------------------------------------------------------- random (drawn on the host from a seeded Rng)

  /** U[low, high) values from `rng`. */
  randomUniform(shape: Shape, rng: Rng, low = 0, high = 1): DeviceArray {
    assertValidShape('randomUniform', shape);
    assertFinite('randomUniform', 'low', low);
    assertFinite('randomUniform', 'high', high);
    if (!(high > low))
      throw new ValueError('randomUniform', `high must be greater than low, got [${low}, ${high})`);
    return this.array(rng.fillUniform(new Float32Array(sizeOf(shape)), low, high), shape);
  }

  /** N(mean, std^2) values from `rng`. */
  randomNormal(shape: Shape, rng: Rng, mean = 0, std = 1): DeviceArray {
    assertValidShape('randomNormal', shape);
    assertFinite('randomNormal', 'mean', mean);
    assertFinite('randomNormal', 'std', std);
    if (std < 0) throw new ValueError('randomNormal', `std must be >= 0, got ${std}`);
    return this.array(rng.fillNormal(new Float32Array(sizeOf(shape)), mean, std), shape);
  }

  /** Bernoulli(p) values (1 with probability p) from `rng`. */
  randomBernoulli(shape: Shape, rng: Rng, p: number): DeviceArray {
    assertValidShape('randomBernoulli', shape);
    if (typeof p !== 'number' || !(p >= 0 && p <= 1))
      throw new ValueError('randomBernoulli', `p must be in [0, 1], got ${p}`);
    return this.array(rng.fillBernoulli(new Float32Array(sizeOf(shape)), p), shape);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Releases every cached array and the backend's resources; the device is unusable after. */
  destroy(): void {
    for (const a of this.iotas.values()) a.dispose();
    this.iotas.clear();
    this.backend.destroy();
    this.destroyed = true;
  }

  /** @internal Frees an array's share of its storage. */
  release(x: DeviceArray): void {
    const st = x.storage;
    if (!st) return;
    x.storage = null;
    this.live--;
    st.refs--;
    if (st.refs === 0) {
      this.buffers--;
      this.bytes -= st.buf.size * 4;
      if (!this.destroyed) this.backend.free(st.buf);
    }
  }

  private own(op: string, x: DeviceArray): Storage {
    if (!(x instanceof DeviceArray)) throw new ValueError(op, 'expected a DeviceArray');
    if (x.device !== this)
      throw new BackendError(this.name, `${op}: the array belongs to another device (${x.device.name})`);
    if (!x.storage) throw new DisposedError(op);
    if (this.destroyed) throw new BackendError(this.name, `${op}: the device was destroyed`);
    return x.storage;
  }

  private checkSize(op: string, n: number): void {
    const max = this.backend.info.maxElements;
    if (n > max) {
      throw new BackendError(
        this.name,
        `${op}: ${n} elements exceed this backend's limit of ${max} elements per array`,
      );
    }
  }

  private launch(shape: Shape, run: () => BackendBuffer): DeviceArray {
    const buf = run();
    this.launches++;
    return this.wrap(buf, shape);
  }

  private wrap(buf: BackendBuffer, shape: Shape): DeviceArray {
    this.live++;
    this.buffers++;
    this.bytes += buf.size * 4;
    return new DeviceArray(this, shape, new Storage(buf));
  }
}

/** The most outputs {@link Device.mapMulti} takes. */
const MAP_MULTI_MAX = 8;

const EXP_SUB = defineKernel({ name: 'expSub', arity: 2, params: 0, expr: 'Math.exp(a - b)' });
const LOG_SOFTMAX = defineKernel({
  name: 'logSoftmax',
  arity: 3,
  params: 0,
  expr: '(a - b) - Math.log(c)',
});
/**
 * lse for cross-entropy: NaN where it is not finite (a +Infinity logit), as PyTorch's log_softmax
 * gives. Spelled as a comparison with the largest float32: GLSL compilers may fold `a - a` to 0,
 * which kept +Infinity on gl.
 */
const CE_LSE = defineKernel({
  name: 'crossEntropyLse',
  arity: 1,
  params: 0,
  expr: '(a == a && Math.abs(a) <= 3.4028234663852886e38) ? a : 0.0 / 0.0',
});
/** Cross-entropy terms, inputs (x, lse, q): q (lse - x), 0 where q is 0 (as PyTorch sums only those). */
const CE_TERMS = defineKernel({
  name: 'crossEntropyTerms',
  arity: 3,
  params: 0,
  expr: 'c == 0.0 ? 0.0 : c * (b - a)',
});
/** Cross-entropy gradient, inputs (probs, q, dy), p0 = scale: p0 dy (probs - q). */
const CE_GRAD = defineKernel({ name: 'crossEntropyGrad', arity: 3, params: 1, expr: 'p0 * c * (a - b)' });

/** `[m, k, n]` of `op(A) op(B)`. @throws {ShapeError} naming `op` when an operand is not 2-D or the inner sizes differ. */
function matmulSizes(
  op: string,
  a: DeviceArray,
  b: DeviceArray,
  transA: boolean,
  transB: boolean,
): [number, number, number] {
  if (a.rank !== 2 || b.rank !== 2) {
    throw new ShapeError(
      op,
      `expects 2-D operands, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
      [a.shape, b.shape],
    );
  }
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [k2, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (k !== k2) {
    const ta = transA ? '^T' : '';
    const tb = transB ? '^T' : '';
    throw new ShapeError(
      op,
      `inner sizes differ: A${ta} ${formatShape(a.shape)} and B${tb} ${formatShape(b.shape)} (${k} vs ${k2})`,
      [a.shape, b.shape],
    );
  }
  return [m, k, n];
}

function checkCrossEntropyShapes(
  op: string,
  x: DeviceArray,
  labels: DeviceArray,
  name = 'x',
): [number, number] {
  if (x.rank !== 2 || x.shape[1] === 0)
    throw new ShapeError(op, `${name} must be [N, C] with C >= 1, got ${formatShape(x.shape)}`, [x.shape]);
  const [n, c] = x.shape;
  if (labels.rank !== 1 || labels.shape[0] !== n)
    throw new ShapeError(
      op,
      `labels ${formatShape(labels.shape)} must be ${formatShape([n])} for ${name} ${formatShape(x.shape)}`,
      [labels.shape, x.shape],
    );
  return [n, c];
}

function checkSmoothing(op: string, smoothing: number): void {
  if (typeof smoothing !== 'number' || !(smoothing >= 0 && smoothing <= 1))
    throw new ValueError(op, `smoothing must be in [0, 1], got ${String(smoothing)}`);
}

const BROADCAST_TO = defineKernel({ name: 'broadcastTo', arity: 1, params: 0, expr: 'a' });
