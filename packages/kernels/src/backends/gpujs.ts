import type { IGPUKernelSettings, Texture } from 'gpu.js';
import { GPU } from 'gpu.js';
import type {
  BackendBuffer,
  BackendInfo,
  BackendName,
  ElementwiseSpec,
  KernelBackend,
  ReduceOp,
} from '../backend.js';
import { collapse, flt, INPUT_NAMES, indexExpr, offsetExpr, planBroadcast, planReduce } from '../codegen.js';
import { BackendError } from '../errors.js';
import type { Shape } from '../shape.js';
import { formatShape, sizeOf, stridesOf } from '../shape.js';
import type { WasmBackend } from './wasm/wasm.js';

/**
 * The gpu.js modes gradkit runs on: `'headlessgl'` (Node, through the `gl` package), `'webgl2'` and
 * `'webgl'` (browsers) form the `gl` backend. `'webasm'` (gpu.js's WebAssembly mode) is no longer
 * a selectable backend (the `wasm` backend is gradkit's own, see {@link WasmBackend}); it stays
 * constructible as `new GpuJsBackend('webasm')` for comparisons such as `pnpm bench`.
 */
export type GpuJsMode = 'headlessgl' | 'webgl2' | 'webgl' | 'webasm';

/** The answer of {@link probeGpuJs}: the mode works, or a human-readable reason why not. */
export type GpuJsProbe =
  | {
      /** The mode starts here. */
      ok: true;
    }
  | {
      /** The mode cannot start here. */
      ok: false;
      /** Why not, in words (a missing package, no X display, no WebGL, ...). */
      reason: string;
    };

/**
 * Bound on array sizes: index expressions compute `floor((i + 0.5) / s)` in float32, and `i + 0.5`
 * is exact only below 2^23 (see `indexExpr` in codegen.ts).
 */
const FLOAT_EXACT = 2 ** 23;
/** The largest finite float32, used to tell finite values from infinities inside kernels. */
const FLT_MAX = '3.4028234663852886e38';
/**
 * Reductions longer than this are split into stages of about sqrt(length) elements per thread:
 * more parallel work on a GPU, a shorter float32 summation chain, and loops that stay far below
 * llvmpipe's cap of 65535 loop iterations per fragment.
 */
const REDUCE_SINGLE_STAGE = 1024;
/** A matmul whose inner size exceeds this sums over slices of at most this many terms (split-k). */
const MATMUL_MAX_K = 8192;

/** What gradkit calls on a compiled gpu.js kernel (the library's own typings are loose). */
interface GpuKernel {
  (...args: KernelArg[]): unknown;
  destroy(removeCanvasReferences?: boolean): void;
  /** The backend kernel behind the run shortcut (`WebAssemblyKernel`, `HeadlessGLKernel`, ...). */
  readonly kernel?: {
    readonly constructor: { readonly name: string };
    readonly fallbackReason?: string | null;
  };
}

/** A value gradkit passes to a kernel: a texture (GL), a typed array (wasm) or a scalar parameter. */
type KernelArg = Texture | Float32Array | number;

/** Storage of one gpu.js buffer: a texture on GL, a `Float32Array` on webasm, nothing when empty. */
type Storage = Texture | Float32Array | null;

/**
 * A buffer of the gpu.js backends: on GL a single-precision gpu.js texture holding `size` floats
 * (packed by gpu.js into a near-square 2-D texture), on webasm a `Float32Array`; `null` storage
 * for zero-size arrays.
 */
export class GpuJsBuffer implements BackendBuffer {
  /** The texture or array; `null` when `size` is 0. */
  data: Storage;
  /** True once {@link GpuJsBackend.free} released the storage. */
  freed = false;
  constructor(
    readonly size: number,
    data: Storage,
  ) {
    this.data = data;
  }
}

/** Compile statistics of one backend (kernels are compiled on their first call). */
export interface GpuJsStats {
  /** Kernels compiled so far (one per op and shape signature). */
  readonly compiles: number;
  /** Total wall time of first calls (parse, translate, compile, first run), in milliseconds. */
  readonly compileMs: number;
  /** Slowest single first call, in milliseconds. */
  readonly maxCompileMs: number;
  /** Kernels that gpu.js silently moved to its plain-JS `cpu` backend, with the reason. */
  readonly fallbacks: readonly string[];
}

const isGlMode = (mode: GpuJsMode): boolean => mode !== 'webasm';

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The first line of an error message (gpu.js appends whole shader sources to some). */
const firstLine = (e: unknown): string => errorMessage(e).split('\n')[0];

/** Reads `process.env[name]` without assuming Node. */
function envVar(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.[name];
}

/**
 * Why headless-gl cannot start: the `gl` package did not load (not installed, native build failed)
 * or it loaded but could not create a context (no X display, no GLX).
 */
function headlessGlReason(): string {
  // `gl` is an optional dependency of gpu.js, resolved from gpu.js's own location (pnpm keeps it
  // out of our node_modules). Without a synchronous require (old Node ESM) the load is not checked.
  const req = nodeRequire();
  let gpuJsPath: string | null = null;
  try {
    gpuJsPath = req ? req.resolve('gpu.js') : null;
  } catch {
    gpuJsPath = null; // cannot locate gpu.js from here: do not guess about gl
  }
  if (req && gpuJsPath) {
    try {
      req(req.resolve('gl', { paths: [gpuJsPath] }));
    } catch (e) {
      return (
        "headless-gl (the optional 'gl' package of gpu.js) could not be loaded: not installed or its native " +
        `build failed (${firstLine(e)})`
      );
    }
  }
  const display = envVar('DISPLAY');
  const platform = (globalThis as { process?: { platform?: string } }).process?.platform;
  if (platform === 'linux' && !display) {
    return (
      'headless-gl could not create a WebGL context: no X display (DISPLAY is unset); run under ' +
      `xvfb-run -a -s "-screen 0 1280x1024x24 +extension GLX", or use the wasm or cpu backend`
    );
  }
  return `headless-gl could not create a WebGL context (DISPLAY=${display ?? 'unset'}): is the X server up and does it have GLX?`;
}

/**
 * Node's `require` anchored at this module (so `gpu.js` resolves from here, not from the process's
 * working directory): `module.createRequire(import.meta.url)` in the ESM build, the module's own
 * `require` in the CJS build; null outside Node.
 */
function nodeRequire(): NodeJS.Require | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  // process.getBuiltinModule exists from Node 20.16 / 22.3; a synchronous way to reach createRequire.
  const mod = proc?.getBuiltinModule?.('module') as
    | { createRequire?: (p: string) => NodeJS.Require }
    | undefined;
  const url: unknown = import.meta.url;
  if (mod?.createRequire && typeof url === 'string' && url !== '') {
    try {
      return mod.createRequire(url);
    } catch {
      // fall through to the CJS require
    }
  }
  // In the CJS build `import.meta.url` is empty and `require` is the module's own. (A global
  // `require`, as under `node -e`, resolves from the working directory: not used before the above.)
  if (typeof require === 'function' && typeof require.resolve === 'function') return require;
  return null;
}

/** Why gpu.js cannot run `mode` here, before trying it; null when it claims support. */
function staticReason(mode: GpuJsMode): string | null {
  switch (mode) {
    case 'headlessgl':
      return GPU.isHeadlessGLSupported ? null : headlessGlReason();
    case 'webgl2':
      return GPU.isWebGL2Supported ? null : 'WebGL2 is not available (not a browser, or WebGL2 is disabled)';
    case 'webgl':
      return GPU.isWebGLSupported ? null : 'WebGL is not available (not a browser, or WebGL is disabled)';
    case 'webasm':
      return GPU.isWebAssemblySupported
        ? null
        : 'WebAssembly is missing or disabled in this JavaScript engine (typeof WebAssembly is ' +
            `${typeof (globalThis as { WebAssembly?: unknown }).WebAssembly})`;
  }
}

const KERNEL_SETTINGS = {
  pipeline: true,
  immutable: true,
  precision: 'single' as const,
  tactic: 'precision' as const,
};

/** Creates a gpu.js kernel from source text. */
function compile(gpu: GPU, source: string, output: number, loopMaxIterations: number): GpuKernel {
  // gpu.js types a string-source kernel as its generic run shortcut; gradkit calls it with
  // textures, typed arrays and numbers only, which is what GpuKernel describes.
  // `loopMaxIterations` is a documented kernel setting missing from gpu.js's IGPUKernelSettings.
  const settings: IGPUKernelSettings & { loopMaxIterations: number } = {
    ...KERNEL_SETTINGS,
    output: [output],
    loopMaxIterations: Math.max(1000, loopMaxIterations + 1),
  };
  return gpu.createKernel(source, settings) as unknown as GpuKernel;
}

/** The backend gpu.js actually runs a kernel on, when it degraded it to its `cpu` fallback. */
function fallbackOf(k: GpuKernel): string | null {
  const inner = k.kernel;
  if (!inner) return null;
  const name = inner.constructor.name;
  if (name === 'CPUKernel') return inner.fallbackReason ?? 'gpu.js moved the kernel to its cpu backend';
  return null;
}

/** Tries a mode: creates the GPU and runs one tiny kernel whose exact float32 result is known. */
function tryStart(mode: GpuJsMode): { gpu: GPU } | { reason: string } {
  const pre = staticReason(mode);
  if (pre !== null) return { reason: pre };
  let gpu: GPU;
  try {
    gpu = new GPU({ mode });
  } catch (e) {
    return { reason: `gpu.js could not start mode '${mode}': ${firstLine(e)}` };
  }
  try {
    const values = new Float32Array([1.5, -2.25, 3.0e-7, 12345.678, -1e20, 0]);
    const k = compile(
      gpu,
      'function (x, p0) { return x[this.thread.x] * p0 + this.thread.x; }',
      values.length,
      0,
    );
    const out = k(values, 3);
    const got = toFloat32(isGlMode(mode) ? (out as Texture).toArray() : out, values.length);
    const fb = fallbackOf(k);
    if (fb !== null) throw new Error(`gpu.js degraded the test kernel to its cpu backend: ${fb}`);
    if (isGlMode(mode)) (out as Texture).delete();
    for (let i = 0; i < values.length; i++) {
      const want = Math.fround(Math.fround(values[i] * 3) + i);
      if (got[i] !== want) {
        throw new Error(
          `a test kernel computed ${got[i]} instead of ${want} at [${i}]: single-precision float textures do not work`,
        );
      }
    }
    return { gpu };
  } catch (e) {
    destroyGpu(gpu);
    return { reason: `mode '${mode}' started but a test kernel failed: ${firstLine(e)}` };
  }
}

function destroyGpu(gpu: GPU): void {
  try {
    gpu.destroy().catch(() => undefined);
  } catch {
    // already gone
  }
}

/**
 * Checks whether gpu.js can run `mode` here: creates the GPU, compiles and runs a tiny kernel and
 * compares its result with float32 arithmetic, then releases everything.
 *
 * @returns `{ ok: true }`, or `{ ok: false, reason }` with a human-readable reason: headless-gl not
 * installed or not built, no X display or GLX, WebGL missing outside a browser, WebAssembly
 * missing, float textures unsupported.
 * @example
 * ```ts
 * probeGpuJs('headlessgl');
 * // { ok: false, reason: 'headless-gl could not create a WebGL context: no X display (DISPLAY is unset); ...' }
 * ```
 */
export function probeGpuJs(mode: GpuJsMode): GpuJsProbe {
  const r = tryStart(mode);
  if ('reason' in r) return { ok: false, reason: r.reason };
  destroyGpu(r.gpu);
  return { ok: true };
}

/** Copies a gpu.js result (1-D) into a new Float32Array of exactly `size` elements. */
function toFloat32(values: unknown, size: number): Float32Array {
  const out = new Float32Array(size);
  if (values instanceof Float32Array) out.set(values.length === size ? values : values.subarray(0, size));
  else if (Array.isArray(values)) for (let i = 0; i < size; i++) out[i] = Number(values[i]);
  else throw new Error(`unexpected kernel result ${Object.prototype.toString.call(values)}`);
  return out;
}

/** `floor(v / d)` for a float variable holding a non-negative integer, exact in float32. */
const fdiv = (v: string, d: number): string => (d === 1 ? v : `Math.floor((${v} + 0.5) / ${flt(d)})`);

/** The reduction a kernel stage performs. */
type StageOp = 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin' | 'sumexp';

/**
 * How a reduction stage finds its data: `x` is read at `base(o) + elem(t)` for output `o` and
 * reduced position `t` (kept and reduced dimensions collapsed, with their strides in `x`). An
 * argmax/argmin stage after the first also reads candidate positions from an index array laid out
 * `[o][count]`.
 */
interface StageInput {
  readonly x: GpuJsBuffer;
  readonly keptDims: readonly number[];
  readonly keptStrides: readonly number[];
  readonly redDims: readonly number[];
  readonly redStrides: readonly number[];
}

/**
 * The gpu.js backends: `gl` (headless-gl in Node, WebGL2/WebGL in a browser) and `wasm`
 * (WebAssembly with SIMD). Every kernel is generated as gpu.js source text once per op and shape
 * signature and cached; scalar parameters are kernel arguments, so changing a learning rate never
 * recompiles. On GL every buffer is a single-precision texture and data stays on the GPU between
 * kernels; on webasm buffers are `Float32Array`s. Index arithmetic is float32-exact below 2^23
 * elements (see `indexExpr` in `codegen.ts`), which bounds {@link BackendInfo.maxElements}.
 *
 * @example
 * ```ts
 * if (probeGpuJs('webasm').ok) {
 *   const b = new GpuJsBackend('webasm');
 *   const x = b.upload(new Float32Array([1, 2, 3]));
 *   b.read(b.map(UNARY.square, [x], [[3]], [3], [])); // Float32Array [1, 4, 9]
 *   b.destroy();
 * }
 * ```
 * @see https://github.com/gpujs/gpu.js
 */
export class GpuJsBackend implements KernelBackend {
  /** The backend's name: `'gl'` for the GL modes, `'wasm'` for `'webasm'`. */
  readonly name: BackendName;
  readonly info: Omit<BackendInfo, 'reason'>;
  /** The gpu.js mode this backend runs. */
  readonly mode: GpuJsMode;
  private readonly gpu: GPU;
  private readonly gl: boolean;
  private readonly kernels = new Map<string, GpuKernel>();
  private compileCount = 0;
  private compileTime = 0;
  private compileMax = 0;
  private readonly fallbackList: string[] = [];
  private destroyed = false;

  /**
   * Starts gpu.js in `mode`.
   *
   * @throws {BackendError} when the mode cannot run here (the message gives the reason, as
   * {@link probeGpuJs} reports it).
   */
  constructor(mode: GpuJsMode) {
    this.mode = mode;
    this.gl = isGlMode(mode);
    this.name = this.gl ? 'gl' : 'wasm';
    const r = tryStart(mode);
    if ('reason' in r) throw new BackendError(this.name, `gpu.js mode '${mode}' cannot start: ${r.reason}`);
    this.gpu = r.gpu;
    let renderer: string;
    let maxTextureSize: number | null = null;
    let maxElements = FLOAT_EXACT;
    if (this.gl) {
      // gpu.js keeps the WebGL context of its first kernel on the GPU instance (typed `any`).
      const ctx = (this.gpu as unknown as { context: WebGLRenderingContext | null }).context;
      if (!ctx) {
        destroyGpu(this.gpu);
        throw new BackendError(this.name, `gpu.js mode '${mode}' started without a WebGL context`);
      }
      maxTextureSize = Number(ctx.getParameter(ctx.MAX_TEXTURE_SIZE));
      // gpu.js packs n floats into a near-square texture (closestSquareDimensions); every n up to
      // T * (T - 1) fits sides of at most T, while some n between that and T^2 would need a side of
      // T + 1. Float32 indices are exact below 2^23 (i + 0.5 must be representable). (The two only differ for T <= 4096.)
      maxElements = Math.min(maxTextureSize * (maxTextureSize - 1), FLOAT_EXACT);
      renderer = glRenderer(ctx);
    } else {
      const simd = (this.gpu.Kernel as unknown as { isSIMDSupported?: boolean }).isSIMDSupported === true;
      renderer = `WebAssembly${simd ? ' (f32x4 SIMD)' : ' (scalar, no SIMD)'}, synchronous single-thread calls`;
    }
    this.info = {
      name: this.name,
      gpuMode: mode,
      renderer,
      precision: 'single',
      maxTextureSize,
      maxElements,
      pipeline: true,
    };
  }

  /** Kernel compile statistics since construction. */
  get stats(): GpuJsStats {
    return {
      compiles: this.compileCount,
      compileMs: this.compileTime,
      maxCompileMs: this.compileMax,
      fallbacks: [...this.fallbackList],
    };
  }

  upload(values: Float32Array): BackendBuffer {
    const n = values.length;
    this.checkSize('upload', n);
    if (n === 0) return new GpuJsBuffer(0, null);
    if (!this.gl) return new GpuJsBuffer(n, Float32Array.from(values));
    // An identity kernel per size turns the array into a texture like every kernel output, so a
    // kernel's argument types never change between calls (a change would make gpu.js recompile).
    return this.run('upload', 'function (x) { return x[this.thread.x]; }', n, [n], [values], 0);
  }

  read(buf: BackendBuffer): Float32Array {
    const b = this.own('read', buf);
    if (b.size === 0 || b.data === null) return new Float32Array(0);
    if (b.data instanceof Float32Array) return Float32Array.from(b.data);
    return toFloat32(b.data.toArray(), b.size);
  }

  readAsync(buf: BackendBuffer): Promise<Float32Array> {
    try {
      return Promise.resolve(this.read(buf));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  free(buf: BackendBuffer): void {
    const b = buf as GpuJsBuffer;
    if (b.freed) return;
    b.freed = true;
    const d = b.data;
    b.data = null;
    if (d !== null && !(d instanceof Float32Array) && !this.destroyed) d.delete();
  }

  map(
    spec: ElementwiseSpec,
    inputs: readonly BackendBuffer[],
    inputShapes: readonly Shape[],
    outShape: Shape,
    params: readonly number[],
  ): BackendBuffer {
    const op = `map(${spec.name})`;
    const n = sizeOf(outShape);
    const ins = inputs.map((b) => this.own(op, b));
    this.checkSize(op, n, ...ins.map((b) => b.size));
    if (ins.length !== spec.arity)
      throw new BackendError(this.name, `${op}: expected ${spec.arity} inputs, got ${ins.length}`);
    if (params.length !== spec.params) {
      throw new BackendError(this.name, `${op}: expected ${spec.params} parameters, got ${params.length}`);
    }
    if (n === 0) return new GpuJsBuffer(0, null);
    const plan = planBroadcast(inputShapes, outShape);
    const args = ins.map((_, k) => `x${k}`);
    for (let q = 0; q < spec.params; q++) args.push(`p${q}`);
    const body = [`let i = this.thread.x + 0.0;`];
    for (let k = 0; k < ins.length; k++)
      body.push(`let ${INPUT_NAMES[k]} = x${k}[${indexExpr(plan, k, 'i')}];`);
    if (spec.stmts) body.push(spec.stmts);
    body.push(`return ${spec.expr};`);
    const src = `function (${args.join(', ')}) {\n${body.join('\n')}\n}`;
    return this.run(
      op,
      src,
      n,
      ins.map((b) => b.size),
      [...ins.map((b) => this.storage(b)), ...params],
      0,
    );
  }

  reduce(op: ReduceOp, x: BackendBuffer, shape: Shape, axes: readonly number[]): BackendBuffer {
    const name = `reduce(${op})`;
    const xb = this.own(name, x);
    const plan = planReduce(shape, axes);
    const n = plan.outSize;
    const r = plan.reduceSize;
    this.checkSize(name, n, xb.size, sizeOf(shape));
    if (n === 0) return new GpuJsBuffer(0, null);
    if (r === 0) {
      // Reducing an empty axis: the identity of the op (as the CPU backend returns it).
      const fill =
        op === 'sum'
          ? 0
          : op === 'prod'
            ? 1
            : op === 'max' || op === 'logsumexp'
              ? -Infinity
              : op === 'min'
                ? Infinity
                : 0;
      return this.upload(new Float32Array(n).fill(fill));
    }
    const input: StageInput = {
      x: xb,
      keptDims: plan.keptDims,
      keptStrides: plan.keptStrides,
      redDims: plan.redDims,
      redStrides: plan.redStrides,
    };
    if (op === 'logsumexp') return this.logsumexp(input, n, r);
    return this.reduceStages(op, input, n, r);
  }

  matmul(
    a: BackendBuffer,
    b: BackendBuffer,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
  ): BackendBuffer {
    const op = `matmul(${m}x${k}x${n}${transA ? ', transA' : ''}${transB ? ', transB' : ''})`;
    const ab = this.own(op, a);
    const bb = this.own(op, b);
    const mn = m * n;
    this.checkSize(op, mn, ab.size, bb.size);
    if (mn === 0) return new GpuJsBuffer(0, null);
    if (k === 0) return this.upload(new Float32Array(mn));
    const slices = Math.ceil(k / MATMUL_MAX_K);
    const ks = Math.ceil(k / slices);
    if (slices > 1) this.checkSize(op, slices * mn);
    // op(A)[i, p] = A[aBase + p * aStep], op(B)[p, j] = B[bBase + p * bStep].
    const aBase = transA ? 'i' : `i * ${flt(k)}`;
    const aStep = transA ? m : 1;
    const bBase = transB ? `j * ${flt(k)}` : 'j';
    const bStep = transB ? 1 : n;
    const body: string[] = ['let pos = this.thread.x + 0.0;'];
    if (slices > 1) {
      body.push(`let s = ${fdiv('pos', mn)};`, `let o = pos - ${flt(mn)} * s;`, `let k0 = s * ${flt(ks)};`);
    } else body.push('let o = pos;', 'let k0 = 0.0;');
    body.push(n === 1 ? 'let i = o;' : `let i = ${fdiv('o', n)};`);
    body.push(n === 1 ? 'let j = 0.0;' : `let j = o - ${flt(n)} * i;`);
    body.push(`let pa = ${aBase} + k0 * ${flt(aStep)};`, `let pb = ${bBase} + k0 * ${flt(bStep)};`);
    body.push('let s0 = 0.0;', 'let s1 = 0.0;', 'let s2 = 0.0;', 'let s3 = 0.0;');
    const as = (u: number) => (u === 0 ? 'pa' : `pa + ${flt(u * aStep)}`);
    const bs = (u: number) => (u === 0 ? 'pb' : `pb + ${flt(u * bStep)}`);
    const steps = Math.floor(ks / 4);
    const rest = ks - 4 * steps;
    // In split-k the last slice may be shorter: terms at p >= k are selected away, never read
    // as NaN-producing garbage (a texture read past the end clamps to the edge).
    const term = (u: number, acc: string) =>
      slices > 1
        ? `if (k0 + q4 * 4.0 + ${flt(u)} < ${flt(k)}) { ${acc} += a[${as(u)}] * b[${bs(u)}]; }`
        : `${acc} += a[${as(u)}] * b[${bs(u)}];`;
    if (steps > 0) {
      body.push(`for (let q = 0; q < ${steps}; q++) {`);
      if (slices > 1) body.push('let q4 = q + 0.0;');
      for (let u = 0; u < 4; u++) body.push(term(u, `s${u}`));
      body.push(`pa += ${flt(4 * aStep)};`, `pb += ${flt(4 * bStep)};`, '}');
    }
    if (rest > 0) {
      if (slices > 1) body.push(`let q4 = ${flt(steps)};`);
      for (let u = 0; u < rest; u++) body.push(term(u, `s${u}`));
    }
    body.push('return (s0 + s1) + (s2 + s3);');
    const src = `function (a, b) {\n${body.join('\n')}\n}`;
    const out = this.run(
      op,
      src,
      slices * mn,
      [ab.size, bb.size],
      [this.storage(ab), this.storage(bb)],
      steps,
    );
    if (slices === 1) return out;
    try {
      return this.reduceStages(
        'sum',
        { x: out, keptDims: [mn], keptStrides: [1], redDims: [slices], redStrides: [mn] },
        mn,
        slices,
      );
    } finally {
      this.free(out);
    }
  }

  transpose(x: BackendBuffer, shape: Shape, perm: readonly number[]): BackendBuffer {
    const op = `transpose(${formatShape(shape)}, [${perm.join(',')}])`;
    const xb = this.own(op, x);
    const n = sizeOf(shape);
    this.checkSize(op, n, xb.size);
    if (n === 0) return new GpuJsBuffer(0, null);
    const st = stridesOf(shape);
    const [dims, strides] = collapse(
      perm.map((p) => shape[p]),
      perm.map((p) => st[p]),
    );
    const idx = dims.length === 0 ? '0.0' : offsetExpr(dims, strides, 'i');
    const src = `function (x) {\nlet i = this.thread.x + 0.0;\nreturn x[${idx}];\n}`;
    return this.run(op, src, n, [xb.size], [this.storage(xb)], 0);
  }

  gather(x: BackendBuffer, shape: Shape, indices: BackendBuffer, count: number, axis: number): BackendBuffer {
    const op = `gather(${formatShape(shape)}, axis ${axis}, ${count} indices)`;
    const xb = this.own(op, x);
    const ib = this.own(op, indices);
    const pre = sizeOf(shape.slice(0, axis));
    const len = shape[axis];
    const post = sizeOf(shape.slice(axis + 1));
    const n = pre * count * post;
    this.checkSize(op, n, xb.size, ib.size, sizeOf(shape), count);
    if (n === 0) return new GpuJsBuffer(0, null);
    const body = ['let o = this.thread.x + 0.0;'];
    body.push(post === 1 ? 'let r = o;' : `let r = ${fdiv('o', post)};`);
    body.push(post === 1 ? 'let q = 0.0;' : `let q = o - ${flt(post)} * r;`);
    body.push(pre === 1 ? 'let p = 0.0;' : `let p = ${fdiv('r', count)};`);
    body.push(pre === 1 ? 'let j = r;' : `let j = r - ${flt(count)} * p;`);
    // Indices are integers stored as floats; rounding guards against a value like 2.9999999.
    body.push('let t = Math.floor(ix[j] + 0.5);');
    body.push(`return x[(p * ${flt(len)} + t) * ${flt(post)} + q];`);
    const src = `function (x, ix) {\n${body.join('\n')}\n}`;
    return this.run(op, src, n, [xb.size, ib.size], [this.storage(xb), this.storage(ib)], 0);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const k of this.kernels.values()) {
      try {
        k.destroy(true);
      } catch {
        // keep releasing the rest
      }
    }
    this.kernels.clear();
    destroyGpu(this.gpu);
  }

  // ---------------------------------------------------------------------------------------------

  private own(op: string, buf: BackendBuffer): GpuJsBuffer {
    if (this.destroyed) throw new BackendError(this.name, `${op}: the backend was destroyed`);
    if (!(buf instanceof GpuJsBuffer)) throw new BackendError(this.name, `${op}: not a gpu.js buffer`);
    if (buf.freed) throw new BackendError(this.name, `${op}: the buffer was freed`);
    return buf;
  }

  private storage(b: GpuJsBuffer): Texture | Float32Array {
    if (b.data === null) throw new BackendError(this.name, 'internal: an empty buffer reached a kernel');
    return b.data;
  }

  /** Throws a {@link BackendError} when an input or output exceeds {@link BackendInfo.maxElements}. */
  private checkSize(op: string, out: number, ...inputs: number[]): void {
    const max = this.info.maxElements;
    for (const [what, n] of [['output', out] as const, ...inputs.map((s) => ['input', s] as const)]) {
      if (n > max) {
        throw new BackendError(
          this.name,
          `${op}: ${what} of ${n} elements exceeds the ${this.mode} limit of maxElements = ${max} ` +
            `(float32 index arithmetic is exact below 2^23${this.gl ? ', textures hold maxTextureSize^2' : ''})`,
        );
      }
    }
  }

  /**
   * Runs `source` with output size `n`, compiling it on first use. The cache key is the source
   * (which spells every shape as literals), the output size and the input sizes (gpu.js bakes
   * texture sizes into the shader).
   */
  private run(
    op: string,
    source: string,
    n: number,
    inputSizes: readonly number[],
    args: readonly KernelArg[],
    loopIterations: number,
  ): GpuJsBuffer {
    this.checkSize(op, n);
    const key = `${n}|${inputSizes.join(',')}|${source}`;
    let k = this.kernels.get(key);
    const first = !k;
    if (!k) {
      try {
        k = compile(this.gpu, source, n, loopIterations);
      } catch (e) {
        throw new BackendError(this.name, `${op}: gpu.js rejected the kernel: ${firstLine(e)}\n${source}`);
      }
      this.kernels.set(key, k);
    }
    const t0 = first ? performance.now() : 0;
    let out: unknown;
    try {
      out = k(...args);
    } catch (e) {
      if (first) {
        this.kernels.delete(key);
        try {
          k.destroy();
        } catch {
          // ignore
        }
      }
      throw new BackendError(
        this.name,
        `${op}: gpu.js could not ${first ? 'compile or ' : ''}run the kernel: ${firstLine(e)}\n${source}`,
      );
    }
    if (first) {
      const dt = performance.now() - t0;
      this.compileCount++;
      this.compileTime += dt;
      this.compileMax = Math.max(this.compileMax, dt);
      const fb = fallbackOf(k);
      if (fb !== null) this.fallbackList.push(`${op}: ${fb}`);
    }
    if (this.gl) {
      if (out instanceof Float32Array || out === null || typeof out !== 'object') {
        throw new BackendError(this.name, `${op}: gpu.js returned ${typeof out} instead of a texture`);
      }
      return new GpuJsBuffer(n, out as Texture);
    }
    if (out instanceof Float32Array) return new GpuJsBuffer(n, out.length === n ? out : out.slice(0, n));
    return new GpuJsBuffer(n, toFloat32(out, n));
  }

  /**
   * Reduces with `op` (not logsumexp) in as many stages as needed: each thread of a stage reduces
   * a contiguous chunk of about sqrt(r) positions; later stages reduce the partial results.
   */
  private reduceStages(
    op: Exclude<ReduceOp, 'logsumexp'>,
    input: StageInput,
    n: number,
    r: number,
  ): GpuJsBuffer {
    const isArg = op === 'argmax' || op === 'argmin';
    let partial: GpuJsBuffer | null = null;
    let count = r;
    let first = true;
    try {
      for (;;) {
        const chunks = count > REDUCE_SINGLE_STAGE ? Math.ceil(count / Math.ceil(Math.sqrt(count))) : 1;
        const chunk = Math.ceil(count / chunks);
        const last = chunks === 1;
        let next: GpuJsBuffer;
        if (first) next = this.stage(op, input, null, n, count, chunks, chunk, last);
        else if (isArg) next = this.stage(op, input, partial, n, count, chunks, chunk, last);
        else {
          const p = partial!;
          const pin: StageInput = {
            x: p,
            keptDims: [n],
            keptStrides: [count],
            redDims: [count],
            redStrides: [1],
          };
          next = this.stage(op, pin, null, n, count, chunks, chunk, last);
        }
        if (partial) this.free(partial);
        partial = next;
        first = false;
        if (last) {
          const out = partial;
          partial = null;
          return out;
        }
        count = chunks;
      }
    } finally {
      if (partial) this.free(partial);
    }
  }

  /**
   * One reduction stage: output `n * chunks` values, `[o][c]`, each reducing positions
   * `[c * chunk, min((c + 1) * chunk, count))` of output `o`. With `idx` (argmax/argmin after the
   * first stage) the positions are read from `idx` and the values from `input.x`. An arg stage
   * that is not `last` writes -1 where its chunk has no candidate (only -inf for argmax, only +inf
   * for argmin); the last stage writes 0 there, as the CPU backend does. A NaN is always a
   * candidate, and the first one wins.
   */
  private stage(
    op: StageOp,
    input: StageInput,
    idx: GpuJsBuffer | null,
    n: number,
    count: number,
    chunks: number,
    chunk: number,
    last: boolean,
    extra?: GpuJsBuffer,
  ): GpuJsBuffer {
    const name = `reduce(${op})`;
    const out = n * chunks;
    this.checkSize(name, out);
    const guard = chunks * chunk !== count;
    const body: string[] = ['let pos = this.thread.x + 0.0;'];
    body.push(chunks === 1 ? 'let o = pos;' : `let o = ${fdiv('pos', chunks)};`);
    body.push(chunks === 1 ? 'let c0 = 0.0;' : `let c0 = (pos - ${flt(chunks)} * o) * ${flt(chunk)};`);
    const base = input.keptDims.length === 0 ? '0.0' : offsetExpr(input.keptDims, input.keptStrides, 'o');
    body.push(`let base = ${base};`);
    const elem = (t: string) =>
      input.redDims.length === 0 ? '0.0' : offsetExpr(input.redDims, input.redStrides, t);
    const isArg = op === 'argmax' || op === 'argmin';
    // Loop: positions t = c0 + u for u < chunk (and t < count when the last chunk is short).
    const open = [`for (let u = 0; u < ${chunk}; u++) {`, 'let t = c0 + u;'];
    if (guard) open.push(`if (t < ${flt(count)}) {`);
    const close = guard ? ['}', '}'] : ['}'];
    const args = ['x'];
    const values: KernelArg[] = [this.storage(input.x)];
    const sizes = [input.x.size];
    if (isArg) {
      const better = op === 'argmax' ? '>' : '<';
      const valid = op === 'argmax' ? `v >= -${FLT_MAX}` : `v <= ${FLT_MAX}`;
      // The first NaN wins (PyTorch): once found (nan = 1), later positions are skipped. Chunks
      // and candidates are visited in position order, so a later stage keeps the first one.
      body.push('let best = 0.0;', 'let bi = -1.0;', 'let nan = 0.0;');
      body.push(...open);
      if (idx) {
        args.push('ix');
        values.push(this.storage(idx));
        sizes.push(idx.size);
        body.push(`let cand = ix[o * ${flt(count)} + t];`);
        body.push('if (cand >= 0.0 && nan == 0.0) {', `let v = x[base + ${elem('cand')}];`);
        body.push(
          'if (v != v) {',
          'nan = 1.0;',
          'bi = cand;',
          `} else if (bi < 0.0 || v ${better} best) {`,
          'best = v;',
          'bi = cand;',
          '}',
          '}',
        );
      } else {
        body.push('if (nan == 0.0) {', `let v = x[base + ${elem('t')}];`);
        body.push(
          'if (v != v) {',
          'nan = 1.0;',
          'bi = t;',
          `} else if ((bi < 0.0 && ${valid}) || (bi >= 0.0 && v ${better} best)) {`,
          'best = v;',
          'bi = t;',
          '}',
          '}',
        );
      }
      body.push(...close);
      body.push(last ? 'return bi < 0.0 ? 0.0 : bi;' : 'return bi;');
    } else if (op === 'max' || op === 'min') {
      // Start from the chunk's first element; a NaN anywhere makes the result NaN.
      const better = op === 'max' ? '>' : '<';
      body.push(`let acc = x[base + ${elem('c0')}];`);
      body.push(
        ...open,
        `let v = x[base + ${elem('t')}];`,
        `if (v ${better} acc || v != v) {`,
        'acc = v;',
        '}',
        ...close,
      );
      body.push('return acc;');
    } else if (op === 'sumexp') {
      args.push('mx');
      values.push(this.storage(extra!));
      sizes.push(extra!.size);
      body.push(
        'let m = mx[o];',
        `let mm = (m == m && Math.abs(m) <= ${FLT_MAX}) ? m : 0.0;`,
        'let acc = 0.0;',
      );
      body.push(...open, `acc += Math.exp(x[base + ${elem('t')}] - mm);`, ...close);
      body.push('return acc;');
    } else {
      body.push(op === 'prod' ? 'let acc = 1.0;' : 'let acc = 0.0;');
      body.push(...open, `acc ${op === 'prod' ? '*=' : '+='} x[base + ${elem('t')}];`, ...close);
      body.push('return acc;');
    }
    const src = `function (${args.join(', ')}) {\n${body.join('\n')}\n}`;
    return this.run(name, src, out, sizes, values, chunk);
  }

  /** logsumexp = m + log(sum exp(x - m)) with m the max (returned as is when not finite). */
  private logsumexp(input: StageInput, n: number, r: number): GpuJsBuffer {
    const m = this.reduceStages('max', input, n, r);
    let partial: GpuJsBuffer | null = null;
    try {
      const chunks = r > REDUCE_SINGLE_STAGE ? Math.ceil(r / Math.ceil(Math.sqrt(r))) : 1;
      const chunk = Math.ceil(r / chunks);
      partial = this.stage('sumexp', input, null, n, r, chunks, chunk, chunks === 1, m);
      if (chunks > 1) {
        const s: GpuJsBuffer = this.reduceStages(
          'sum',
          { x: partial, keptDims: [n], keptStrides: [chunks], redDims: [chunks], redStrides: [1] },
          n,
          chunks,
        );
        this.free(partial);
        partial = s;
      }
      const src =
        'function (mx, sx) {\nlet m = mx[this.thread.x];\nlet s = sx[this.thread.x];\n' +
        `return (m == m && Math.abs(m) <= ${FLT_MAX}) ? m + Math.log(s) : m;\n}`;
      return this.run('reduce(logsumexp)', src, n, [n, n], [this.storage(m), this.storage(partial)], 0);
    } finally {
      this.free(m);
      if (partial) this.free(partial);
    }
  }
}

/** The GL renderer: the unmasked renderer where the browser exposes it, else `RENDERER` and `VERSION`. */
function glRenderer(gl: WebGLRenderingContext): string {
  try {
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    if (ext) {
      const unmasked = gl.getParameter(ext.UNMASKED_RENDERER_WEBGL);
      if (typeof unmasked === 'string' && unmasked !== '') return unmasked;
    }
  } catch {
    // fall through to the masked renderer
  }
  const renderer = String(gl.getParameter(gl.RENDERER));
  const version = gl.getParameter(gl.VERSION);
  return typeof version === 'string' && version !== '' ? `${renderer} (${version})` : renderer;
}
