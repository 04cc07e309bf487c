import type { Shape } from './shape.js';
import type { WindowPlan } from './window.js';

/** The backends gradkit ships, best first: `gl` (registered by `@gradkit/kernels/gl`), `wasm`, `cpu`. */
export type BuiltinBackendName = 'gl' | 'wasm' | 'cpu';

/**
 * A backend's name: one of gradkit's own ({@link BuiltinBackendName}) or one added with
 * `registerBackend`.
 */
export type BackendName = BuiltinBackendName | (string & {});

/**
 * gradkit's own backends, best first. Automatic selection goes by the registry's priorities
 * (`registeredBackends()`), which rank these three in this order.
 */
export const BACKEND_ORDER: readonly BuiltinBackendName[] = ['gl', 'wasm', 'cpu'];

/** What a backend reports about itself (see {@link Device.info}). */
export interface BackendInfo {
  /** `'gl'`, `'wasm'`, `'cpu'`, or the name of a registered backend. */
  readonly name: BackendName;
  /** Why this backend runs: `'auto: best available (gl unavailable: ...)'`, `'GRADKIT_BACKEND=cpu'`, ... */
  readonly reason: string;
  /**
   * What runs the kernels: the gpu.js mode of the `gl` backend (`'headlessgl'`, `'webgl2'`,
   * `'webgl'`), `'wasm-simd'` for gradkit's WebAssembly backend, `'js'` for the plain-JS CPU backend.
   */
  readonly gpuMode: string;
  /** The GL renderer string, or a description of the CPU path. */
  readonly renderer: string;
  /**
   * Whether a GPU backend runs on a software rasterizer (SwiftShader, llvmpipe, softpipe,
   * "Microsoft Basic Render Driver", ...; recognised from {@link BackendInfo.renderer}): `true` or
   * `false` on `gl`, absent on backends without a renderer. Automatic selection ranks such a
   * backend below `wasm`, and `reason` says so.
   */
  readonly softwareRenderer?: boolean;
  /** Float precision of stored values: `'single'` (IEEE float32) everywhere gradkit runs. */
  readonly precision: 'single';
  /** Largest texture side in texels (GL), or `null` where there are no textures. */
  readonly maxTextureSize: number | null;
  /** Largest number of elements one array may hold on this backend. */
  readonly maxElements: number;
  /**
   * Largest array every kernel of the backend takes, where that is less than
   * {@link BackendInfo.maxElements}: the `gl` backend holds larger arrays in tiles, which uploads,
   * reads, element-wise maps and matmuls take and the other ops refuse with a `BackendError`
   * (2^23 on `gl`: float32 index arithmetic). Absent where every op takes every array: then it is
   * `maxElements`. Code that splits work to fit (as `conv2d` splits its batch) splits by this.
   */
  readonly maxKernelElements?: number;
  /** Whether buffers stay on the device between kernels (no read-back unless asked). */
  readonly pipeline: boolean;
  /**
   * What a synchronous read costs here: `'cheap'` (the values are in host memory: cpu, wasm),
   * `'stalls'` (it waits for the device's queue to drain: gl), `'none'` (only `readAsync` works,
   * as on WebGPU). Training loops read less often where it is not cheap (see the trainer's
   * `lossReadInterval`). A backend that leaves it out is taken as `'stalls'` when it has a
   * synchronous `read`, else `'none'`; {@link Device.info} always reports it.
   */
  readonly syncRead?: SyncRead;
  /**
   * Whether `readAsync` lets other work run while the device finishes: `'non-blocking'` (the gl
   * backend on WebGL2: a fence and a pixel-pack buffer, polled), `'blocking'` (a synchronous read
   * wrapped in a Promise: the gl backend on WebGL1 and headless-gl). Absent where reads are in host
   * memory (cpu, wasm).
   */
  readonly asyncRead?: 'non-blocking' | 'blocking';
}

/**
 * The cost of a synchronous read-back on a backend (see {@link BackendInfo.syncRead}).
 *
 * @example
 * ```ts
 * const cost: SyncRead = createDevice().info().syncRead!; // 'cheap' on cpu and wasm
 * ```
 */
export type SyncRead = 'cheap' | 'stalls' | 'none';

/** An opaque storage handle owned by one backend. */
export interface BackendBuffer {
  /** Number of float32 elements. */
  readonly size: number;
}

/**
 * An element-wise kernel described once, compiled by every backend: optional statements and an
 * expression in gradkit's kernel language (a subset of JavaScript that gpu.js, the wasm JIT and
 * the JS backend compile alike; described at `defineKernel`). Inputs are named `a` to `f`
 * (already broadcast and loaded), scalar parameters `p0`, `p1`, ...; temporaries declared in
 * `stmts` with `let t_...`; float literals have a decimal point (`1.0`).
 *
 * Make specs with `defineKernel`, which validates them where they are defined and keeps their
 * parse; a plain object of this shape is validated on its first use (by `Device.map` or a
 * backend) with the same errors.
 *
 * @example
 * ```ts
 * const HALF: ElementwiseSpec = defineKernel({ name: 'mypkg.half', arity: 1, params: 0, expr: 'a * 0.5' });
 * ```
 */
export interface ElementwiseSpec {
  /**
   * The kernel's name, shown in errors. Compiled code is cached by name and body together (two
   * specs with one name and different bodies never share code); prefix it with your package.
   */
  readonly name: string;
  /** Number of array inputs (1 to 6). */
  readonly arity: number;
  /** Number of scalar parameters. */
  readonly params: number;
  /** Optional statements run before `expr` (declare temporaries with `let t_...`). */
  readonly stmts?: string;
  /** The value of one output element. */
  readonly expr: string;
}

/**
 * The gradient `dz` that {@link KernelBackend.linearGrad} starts from: an element-wise spec over
 * inputs of one shape `[m, n]`, or (`spec` null) the one input itself.
 */
export interface BackendGradInput {
  /** The kernel computing `dz`, or null when `inputs[0]` is `dz`. */
  readonly spec: ElementwiseSpec | null;
  /** The spec's inputs (`spec.arity` of them), or `[dz]`. */
  readonly inputs: readonly BackendBuffer[];
  /** The spec's scalar parameters. */
  readonly params: readonly number[];
}

/** The results of {@link KernelBackend.linearGrad}: null where not asked for. */
export interface BackendLinearGrads {
  /** `dz W`, `[m, k]`. */
  readonly dx: BackendBuffer | null;
  /** `dz^T x`, `[n, k]`. */
  readonly dw: BackendBuffer | null;
  /** The sums of `dz` over its rows, `[n]`. */
  readonly db: BackendBuffer | null;
}

/** Reductions a backend implements along sorted, unique axes. */
export type ReduceOp = 'sum' | 'max' | 'min' | 'prod' | 'argmax' | 'argmin' | 'logsumexp';

/**
 * What a backend implements. Shapes are checked by {@link Device} before a backend sees them;
 * backends may assume valid, broadcast-compatible inputs. Every method returns a new buffer and
 * never writes into its inputs.
 */
export interface KernelBackend {
  /** Which backend this is. */
  readonly name: BackendName;
  /** Static facts (the `reason` is filled in by the device). */
  readonly info: Omit<BackendInfo, 'reason'>;
  /** Copies host values into a new device buffer. */
  upload(values: Float32Array): BackendBuffer;
  /**
   * Copies a buffer back to the host synchronously (a read-back). Optional: a backend that can
   * only read asynchronously (WebGPU) leaves it out, and `Device.read` then throws a
   * `BackendError` that points to `readAsync`.
   */
  read?(buf: BackendBuffer): Float32Array;
  /** Awaitable read-back: the read every backend must have. */
  readAsync(buf: BackendBuffer): Promise<Float32Array>;
  /** Releases a buffer's storage. */
  free(buf: BackendBuffer): void;
  /** `out[i] = spec(inputs broadcast to outShape at i, params)`. */
  map(
    spec: ElementwiseSpec,
    inputs: readonly BackendBuffer[],
    inputShapes: readonly Shape[],
    outShape: Shape,
    params: readonly number[],
  ): BackendBuffer;
  /**
   * Optional fused form of `Device.mapMulti`: `out_k[i] = specs[k](inputs broadcast to outShape at
   * i, params)` for every spec, in one pass over the inputs. The specs share their arity and
   * parameter count (the device checks). Return null to let the device run one `map` per spec
   * (e.g. when the specs' `stmts` differ and the backend only fuses shared temporaries).
   */
  mapMulti?(
    specs: readonly ElementwiseSpec[],
    inputs: readonly BackendBuffer[],
    inputShapes: readonly Shape[],
    outShape: Shape,
    params: readonly number[],
  ): BackendBuffer[] | null;
  /** Reduces `axes` (sorted, unique, non-empty) of `x`; the output drops those axes. argmax/argmin take one axis. */
  reduce(op: ReduceOp, x: BackendBuffer, shape: Shape, axes: readonly number[]): BackendBuffer;
  /** `op(A) * op(B)` for row-major `A` (`m x k`, or `k x m` if `transA`) and `B` (`k x n`, or `n x k` if `transB`). */
  matmul(
    a: BackendBuffer,
    b: BackendBuffer,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
  ): BackendBuffer;
  /**
   * Optional fused form of `Device.matmulMap`: `out[i, j] = spec(P[i, j], operands broadcast to
   * [m, n] at (i, j), params)` with `P = op(A) op(B)` as {@link KernelBackend.matmul} computes it,
   * equal bit for bit to `matmul` followed by `map`. The device has checked the spec (arity
   * `1 + operands.length`), the parameters and that the operands broadcast to `[m, n]`; it calls
   * this only for `m n > 0` and `k > 0`. Return null to let the device run `matmul` and `map`.
   */
  matmulMap?(
    a: BackendBuffer,
    b: BackendBuffer,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
    spec: ElementwiseSpec,
    operands: readonly BackendBuffer[],
    operandShapes: readonly Shape[],
    params: readonly number[],
  ): BackendBuffer | null;
  /**
   * Optional fused form of `Device.linearGrad`: with `dz[i, j] = grad.spec(grad.inputs at (i, j),
   * grad.params)` (or `dz = grad.inputs[0]` when `grad.spec` is null), `dx = dz W` (`[m, k]`, when
   * `weight` `[n, k]` is given), `dw = dz^T x` (`[n, k]`, when `x` `[m, k]` is given) and `db` the
   * sums of `dz` over its rows (`[n]`, when `bias`), each equal bit for bit to what `map`,
   * `matmul` and `reduce('sum')` give. The device has checked the spec, the parameters and the
   * shapes (every input `[m, n]`); it calls this only for `m n k > 0` with `x` or `weight`. Return
   * null to let the device compose it.
   */
  linearGrad?(
    grad: BackendGradInput,
    m: number,
    n: number,
    k: number,
    x: BackendBuffer | null,
    weight: BackendBuffer | null,
    bias: boolean,
  ): BackendLinearGrads | null;
  /** Permutes the axes of `x`: output axis `i` is input axis `perm[i]`. */
  transpose(x: BackendBuffer, shape: Shape, perm: readonly number[]): BackendBuffer;
  /**
   * Selects along `axis`: `out[pre, j, post] = x[pre, indices[j], post]` for `indices` of `count`
   * elements (integers stored as floats, already range-checked or clamped).
   */
  gather(x: BackendBuffer, shape: Shape, indices: BackendBuffer, count: number, axis: number): BackendBuffer;
  /**
   * A strided window read (see {@link WindowPlan}, checked by the device): output element `o` is
   * `x[c(o)]` where every input coordinate is inside `plan.inShape`, else `plan.padValue`.
   */
  window(x: BackendBuffer, plan: WindowPlan): BackendBuffer;
  /**
   * The adjoint of {@link KernelBackend.window}: a zero-initialised buffer of `plan.inShape`'s
   * size into which every in-range output position `o` adds `dy[o]` at `c(o)`. The order of the
   * additions per element is fixed per backend (documented on `Device.windowScatterAdd`).
   */
  windowScatterAdd(dy: BackendBuffer, plan: WindowPlan): BackendBuffer;
  /**
   * Optional fused form of `Device.windowMax`: the maximum over the output axes
   * `[first, first + count)` of the window read `plan` and the first tap holding it (NaN first),
   * as two buffers of the output shape without those axes. Return null to let the device compose
   * it from `window`, `reduce('max')` and `reduce('argmax')` (the backend's choice per plan).
   */
  windowMax?(
    x: BackendBuffer,
    plan: WindowPlan,
    first: number,
    count: number,
  ): [BackendBuffer, BackendBuffer] | null;
  /**
   * Optional fused form of `Device.windowScatterAt`: a zero-initialised buffer of `plan.inShape`'s
   * size receiving `dy[o]` at the input element read by tap `index[o]` of window `o` (in-range
   * integer taps that read inside the input only), summed as `windowScatterAdd` sums. Return null
   * to let the device compose it.
   */
  windowScatterAt?(
    dy: BackendBuffer,
    index: BackendBuffer,
    plan: WindowPlan,
    first: number,
    count: number,
  ): BackendBuffer | null;
  /**
   * Optional fused form of `Device.softmaxCrossEntropy` for `x` `[rows, classes]` and `labels`
   * `[rows]` (class indices as floats; others match no class): `[loss [rows], lse [rows], probs]`
   * with `probs` the softmax `[rows, classes]` when asked for, else null. Return null to let the
   * device compose it.
   */
  softmaxCrossEntropy?(
    x: BackendBuffer,
    labels: BackendBuffer,
    rows: number,
    classes: number,
    smoothing: number,
    probs: boolean,
  ): [BackendBuffer, BackendBuffer, BackendBuffer | null] | null;
  /**
   * Optional fused form of `Device.softmaxCrossEntropyGrad`: `out[i, j] = (scale dy_i) (probs[i, j]
   * - q)` with `q = q1` at the row's label and `q0` elsewhere, `dy_i = dy[dyPerRow ? i : 0]`,
   * rounded to float32 as the composed kernels round. Return null to let the device compose it.
   */
  softmaxCrossEntropyGrad?(
    probs: BackendBuffer,
    labels: BackendBuffer,
    dy: BackendBuffer,
    dyPerRow: boolean,
    rows: number,
    classes: number,
    scale: number,
    q0: number,
    q1: number,
  ): BackendBuffer | null;
  /**
   * The adjoint of {@link KernelBackend.gather}: `out` of `shape` (zero-initialised) receives
   * `out[pre, indices[j], post] += updates[pre, j, post]` for `updates` of shape
   * `[pre, count, post]`; indices outside `[0, shape[axis])` contribute nothing.
   */
  scatterAdd(
    updates: BackendBuffer,
    shape: Shape,
    indices: BackendBuffer,
    count: number,
    axis: number,
  ): BackendBuffer;
  /** Releases every resource (GL context, workers). */
  destroy(): void;
}
