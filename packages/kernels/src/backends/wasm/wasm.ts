import type { BackendBuffer, BackendInfo, BackendName, ElementwiseSpec, ReduceOp } from '../../backend.js';
import { isLeadingSum, mapKey, planBroadcast, planReduce, reduceBlock } from '../../codegen.js';
import { BackendError } from '../../errors.js';
import type { Shape } from '../../shape.js';
import { sizeOf } from '../../shape.js';
import type { WindowPlan } from '../../window.js';
import { CpuBackend } from '../cpu.js';
import { permutePlan } from '../cpu-window.js';
import { compileElementwise, compileElementwiseMulti } from './jit.js';
import { GEMM_BLOCKING, WASM_MODULES, type WasmModuleSource } from './module.generated.js';
import type { SkinnyKernels } from './skinny.js';
import { skinnyPlan } from './skinny.js';
import type { ShapeThreadStats, ThreadMode } from './thread-policy.js';
import { ThreadPolicy } from './thread-policy.js';
import { GemmThreads, threadSupport } from './threads.js';
import type { WindowHost, WindowKernels } from './window.js';
import { maxWindows, pickScatter, readWindow, scatterWindow } from './window.js';

const PAGE = 65536;
/** 4 GiB: the most a 32-bit WebAssembly memory can address. */
const MAX_PAGES = 65536;
const ALIGN = 64;
/** Below this many multiply-adds a GEMM stays on one thread (waking a worker costs ~10-50 us). */
const THREAD_MIN_MACS = 1 << 20;

/** A block of at least `bytes`, rounded up to the pool's alignment. */
const blockBytes = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** One module of {@link WASM_MODULES}, compiled in its memory variants. */
interface CompiledModule {
  readonly source: WasmModuleSource;
  readonly plain: WebAssembly.Module;
  /** null when this engine has no shared memory for WebAssembly (threads off). */
  readonly shared: WebAssembly.Module | null;
}

/**
 * Every module the backend runs, compiled once per process: the ordinary ones (which every engine
 * with SIMD128 must accept) and the variants this engine validates (e.g. relaxed SIMD).
 */
interface CompiledModules {
  readonly base: readonly CompiledModule[];
  /** Variants this engine accepts, by the name of the module they replace. */
  readonly variants: ReadonlyMap<string, CompiledModule>;
  /** Whether every ordinary module compiled in its shared-memory variant. */
  readonly shared: boolean;
}

let modules: CompiledModules | null = null;
let probeError: string | null = null;

function compileModule(source: WasmModuleSource, wantShared: boolean): CompiledModule {
  const plain = new WebAssembly.Module(decode(source.plain));
  let shared: WebAssembly.Module | null = null;
  try {
    if (wantShared) shared = new WebAssembly.Module(decode(source.shared));
  } catch {
    shared = null; // threads unsupported: the plain module still runs on one thread
  }
  return { source, plain, shared };
}

function compiled(): CompiledModules {
  if (modules) return modules;
  if (probeError) throw new BackendError('wasm', probeError);
  try {
    if (typeof WebAssembly !== 'object') throw new Error('this JavaScript engine has no WebAssembly');
    const wantShared = typeof SharedArrayBuffer !== 'undefined';
    const base: CompiledModule[] = [];
    const variants = new Map<string, CompiledModule>();
    for (const source of WASM_MODULES) {
      const plainBytes = decode(source.plain);
      if (source.variantOf !== null) {
        // compiled only where the engine has its features (relaxed SIMD: Chrome 114+, Node 21+)
        if (WebAssembly.validate(plainBytes)) {
          try {
            variants.set(source.variantOf, compileModule(source, wantShared));
          } catch {}
        }
        continue;
      }
      if (!WebAssembly.validate(plainBytes))
        throw new Error('this engine cannot run WebAssembly SIMD (128-bit) modules');
      base.push(compileModule(source, wantShared));
    }
    modules = { base, variants, shared: wantShared && base.every((m) => m.shared !== null) };
    return modules;
  } catch (e) {
    probeError = (e as Error).message;
    throw new BackendError('wasm', probeError);
  }
}

/** The answer of {@link probeWasm}. */
export type WasmProbe =
  | {
      /** The backend starts here. */
      ok: true;
    }
  | {
      /** The backend cannot start here. */
      ok: false;
      /** Why not (no WebAssembly, or no 128-bit SIMD). */
      reason: string;
    };

/** The module's reductions over the last axis of contiguous `[rows, n]` arrays (scripts/wasm-gen.mjs). */
interface RowKernels {
  /** max (`arg` 0) or argmax (`arg` 1) of each row, as the JavaScript path gives them. */
  row_max(x: number, out: number, rows: number, n: number, arg: number): void;
  /** min (`arg` 0) or argmin (`arg` 1) of each row, as the JavaScript path gives them. */
  row_min(x: number, out: number, rows: number, n: number, arg: number): void;
  /** float64 sum of each row, bit-identical to the JavaScript path's sum in order. */
  row_sum(x: number, out: number, rows: number, n: number): void;
  /** Each row's max m into `out` and sum(exp(x - m)) in float64 into `acc` (1 if m is not finite). */
  row_lse_parts(x: number, out: number, rows: number, n: number, acc: number): void;
}

/** What {@link WasmBackend.memoryStats} reports. */
export interface WasmMemoryStats {
  /** Bytes held by live buffers (rounded up to 64-byte blocks). */
  readonly liveBytes: number;
  /** Size of the WebAssembly memory, pooled blocks and headroom included. */
  readonly heapBytes: number;
  /**
   * Bytes of the memory ever handed out: live buffers, pooled free blocks and scratch. It grows
   * only when no pooled block fits, so it stays constant over repeated steady-state work.
   */
  readonly usedBytes: number;
}

/** What {@link WasmBackend.jitStats} reports. */
export interface WasmJitStats {
  /** Element-wise kernels (per spec and layout) compiled to WebAssembly SIMD. */
  readonly wasm: number;
  /** Element-wise kernels running as generated JavaScript (unsupported spec or layout). */
  readonly javascript: number;
}

/**
 * Whether gradkit's WebAssembly backend can start here (WebAssembly with 128-bit SIMD), and why not.
 *
 * @example
 * ```ts
 * probeWasm(); // { ok: true }  (Node >= 16.4, current browsers)
 * ```
 */
export function probeWasm(): WasmProbe {
  try {
    compiled();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: probeError ?? (e as Error).message };
  }
}

/** Options of {@link WasmBackend}. */
export interface WasmBackendOptions {
  /**
   * Threads for large matrix products, the calling thread included (default: the
   * `GRADKIT_THREADS` environment variable, else the number of logical CPUs, at most 8). `1`
   * disables workers. Threads need shared memory: Node, or a cross-origin isolated page.
   */
  readonly threads?: number;
  /**
   * Use the GEMM built with relaxed SIMD's `f32x4.relaxed_madd` (a fused multiply-add where the
   * hardware has FMA) when the engine validates relaxed SIMD (Chrome 114+, Node 21+, Node 20 with
   * `--experimental-wasm-relaxed-simd`); default true. Its products differ from the SIMD128
   * GEMM's by at most the float32 accumulation error (one rounding fewer per step) and are
   * deterministic for a given engine, machine and thread count. `false` keeps the SIMD128 GEMM.
   */
  readonly relaxedSimd?: boolean;
  /**
   * How a large product (at least 2^20 multiply-adds) decides whether to split across the worker
   * threads: `'measured'` (default) times the first calls of each product shape on one thread and
   * split, then uses the faster, rechecking now and then, so no shape runs slower than on one
   * thread (see {@link WasmBackend.threadStats}); `'always'` splits every large product. Results
   * are the same bits either way.
   */
  readonly split?: 'measured' | 'always';
}

/** Which GEMM micro-kernel a {@link WasmBackend} runs. */
export type WasmGemmKernel =
  /** f32x4 multiply, then add (WebAssembly SIMD128). */
  | 'simd128'
  /** f32x4.relaxed_madd (relaxed SIMD): fused where the hardware has FMA. */
  | 'relaxed-simd';

const hostCpus = (): number => {
  const g = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    process?: { getBuiltinModule?: (id: string) => { availableParallelism?: () => number } | undefined };
  };
  const os = g.process?.getBuiltinModule?.('node:os');
  const n = os?.availableParallelism?.() ?? g.navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.floor(n));
};

function envThreads(): number | undefined {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.GRADKIT_THREADS;
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new BackendError('wasm', `GRADKIT_THREADS must be a positive integer, got '${v}'`);
  return n;
}

/**
 * A buffer in the backend's WebAssembly memory: a byte address and a length. `data` is a fresh
 * view of the current memory (views of an unshared memory are detached when it grows).
 */
export class WasmBuffer implements BackendBuffer {
  constructor(
    private readonly owner: WasmBackend,
    /** Byte address in the WebAssembly memory (0 for empty buffers). */
    public ptr: number,
    readonly size: number,
  ) {}
  /** A view of the values (valid until the memory grows). */
  get data(): Float32Array {
    return this.owner.view(this.ptr, this.size);
  }
}

/**
 * gradkit's own CPU backend close to the hardware: buffers live in one WebAssembly memory
 * (pooled by size, so a training step allocates nothing new in steady state), matrix products run
 * a 128-bit SIMD GEMM (packed panels, 4 x 8 register block, cache-blocked over depth and rows;
 * the transposed variants only change how panels are packed) split over worker threads on
 * shared memory, element-wise kernels are compiled to SIMD at run time, sums over leading axes and
 * max, min, argmax, argmin, sum and logsumexp over the last axis run as SIMD loops (bit-identical
 * to the JavaScript path, logsumexp within float32 rounding of it), and other reductions run as
 * the CPU backend's JavaScript on the WebAssembly memory directly.
 *
 * @example
 * ```ts
 * const d = createDevice({ backend: 'wasm' });
 * d.info().renderer; // 'WebAssembly SIMD128 GEMM (4x8 micro-kernel, multiply then add: ...), 2 threads ...'
 * ```
 */
export class WasmBackend extends CpuBackend {
  /** The backend's name, `'wasm'`. */
  override readonly name: BackendName = 'wasm';
  override readonly info: Omit<BackendInfo, 'reason'>;
  private readonly memory: WebAssembly.Memory;
  private readonly gemmFn: (...args: number[]) => void;
  private readonly workspaceFn: (n: number) => number;
  private readonly sumLeadFn: (x: number, out: number, rows: number, n: number, acc: number) => void;
  private readonly rowFns: RowKernels;
  /**
   * Which GEMM micro-kernel runs: `'relaxed-simd'` (f32x4.relaxed_madd) where the engine validates
   * relaxed SIMD and {@link WasmBackendOptions.relaxedSimd} is not false, else `'simd128'`. Chosen
   * once, when the backend starts; `info.renderer` says it too.
   *
   * @example
   * ```ts
   * new WasmBackend({ threads: 1 }).gemmKernel; // 'simd128' on Node 20, 'relaxed-simd' on Node 21+
   * ```
   */
  readonly gemmKernel: WasmGemmKernel;
  /**
   * @internal The functions every WebAssembly module of the backend exports (scripts/wasm-modules.mjs),
   * by name, all instantiated on the backend's memory.
   */
  readonly exports: Readonly<Record<string, unknown>>;
  private readonly threads: GemmThreads | null;
  /** Per product shape, whether splitting across threads pays (null: split every large product). */
  private readonly policy: ThreadPolicy | null;
  private readonly shared: boolean;
  /** Compiled element-wise kernels per (spec, layout); `null` = runs as JavaScript. */
  private readonly jit = new Map<string, ((...args: number[]) => void) | null>();
  private jitCompiled = 0;
  private readonly pool: Map<number, number[]> = new Map();
  private readonly registry: FinalizationRegistry<{ ptr: number; bytes: number }>;
  private top = ALIGN;
  private heap: ArrayBuffer | SharedArrayBuffer;
  private reserved = 0;
  private destroyed = false;

  constructor(options: WasmBackendOptions = {}) {
    super();
    const mods = compiled();
    const wanted = options.threads ?? envThreads() ?? Math.min(hostCpus(), 8);
    if (!Number.isInteger(wanted) || wanted < 1)
      throw new BackendError('wasm', `threads must be a positive integer, got ${wanted}`);
    const split = options.split ?? 'measured';
    if (split !== 'measured' && split !== 'always')
      throw new BackendError('wasm', `split must be 'measured' or 'always', got ${JSON.stringify(split)}`);
    const support = threadSupport();
    const threaded = wanted > 1 && support.ok && mods.shared;
    this.memory = new WebAssembly.Memory({ initial: 64, maximum: MAX_PAGES, shared: threaded });
    // Every module on the one memory; their exports in one object.
    const exports: Record<string, unknown> = {};
    let gemmModule: WebAssembly.Module | null = null;
    let relaxedNote = 'no relaxed SIMD in this engine';
    let gemmKernel: WasmGemmKernel = 'simd128';
    for (const base of mods.base) {
      // a variant (relaxed SIMD) replaces its module where the engine accepts it and it is wanted
      const variant = mods.variants.get(base.source.name);
      let m = base;
      if (variant && (!threaded || variant.shared)) {
        if (options.relaxedSimd === false) relaxedNote = 'relaxed SIMD off by option';
        else m = variant;
      }
      const mod = threaded ? m.shared! : m.plain;
      Object.assign(exports, new WebAssembly.Instance(mod, { env: { memory: this.memory } }).exports);
      if (m.source.exports.includes('gemm')) {
        gemmModule = mod;
        if (m !== base) gemmKernel = 'relaxed-simd';
      }
    }
    this.gemmKernel = gemmKernel;
    this.exports = exports;
    const k = exports as unknown as {
      gemm: (...args: number[]) => void;
      gemm_workspace: (n: number) => number;
      sum_lead: (x: number, out: number, rows: number, n: number, acc: number) => void;
    } & RowKernels;
    this.sumLeadFn = k.sum_lead;
    this.rowFns = k;
    this.gemmFn = k.gemm;
    this.workspaceFn = k.gemm_workspace;
    this.heap = this.memory.buffer;
    this.shared = threaded;
    this.threads = threaded
      ? new GemmThreads(gemmModule!, this.memory, wanted - 1, (support as { kind: 'node' | 'browser' }).kind)
      : null;
    this.policy = this.threads && split === 'measured' ? new ThreadPolicy(THREAD_MIN_MACS) : null;
    this.registry = new FinalizationRegistry(({ ptr, bytes }) => this.reclaim(ptr, bytes));
    const why = threaded
      ? ''
      : wanted === 1
        ? ' (1 requested)'
        : ` (${support.ok ? 'no shared-memory module' : support.reason})`;
    this.info = {
      name: 'wasm',
      gpuMode: 'wasm-simd',
      renderer:
        `WebAssembly SIMD128 GEMM (${GEMM_BLOCKING.MR}x${GEMM_BLOCKING.NR} micro-kernel, ` +
        `${gemmKernel === 'relaxed-simd' ? 'fused multiply-add by relaxed SIMD f32x4.relaxed_madd' : `multiply then add: ${relaxedNote}`}), ` +
        `${threaded ? `${wanted} threads (${wanted - 1} workers on shared memory)` : `1 thread${why}`}; ` +
        'element-wise kernels compiled to WebAssembly SIMD (JavaScript for sin, pow and the like)',
      precision: 'single',
      maxTextureSize: null,
      maxElements: 2 ** 28,
      pipeline: true,
      syncRead: 'cheap',
    };
  }

  /**
   * Per product shape that could split across threads: the mode it runs in now and the median
   * recent times on one thread and split (see {@link WasmBackendOptions.split}); empty with
   * `split: 'always'` or one thread.
   *
   * @example
   * ```ts
   * const be = new WasmBackend({ threads: 2 });
   * // ... train ...
   * console.table(be.threadStats()); // shape '128,784,256,NT', mode 'split', singleMs 1.21, splitMs 0.70
   * ```
   */
  threadStats(): ShapeThreadStats[] {
    return this.policy?.stats() ?? [];
  }

  /** Threads a large product may use right now (the calling thread plus ready workers). */
  activeThreads(): number {
    return 1 + (this.threads?.ready().length ?? 0);
  }

  /** Blocks until every worker has started (for tests and benchmarks); false on timeout. */
  waitForWorkers(timeoutMs = 10_000): boolean {
    if (!this.threads) return true;
    for (let w = 1; w <= this.threads.workers; w++) if (!this.threads.waitReady(w, timeoutMs)) return false;
    return true;
  }

  /** Bytes of WebAssembly memory held by live buffers, and the memory's size. */
  memoryStats(): WasmMemoryStats {
    return { liveBytes: this.reserved, heapBytes: this.memory.buffer.byteLength, usedBytes: this.top };
  }

  /** @internal A view of `size` floats at byte address `ptr`. */
  view(ptr: number, size: number): Float32Array {
    if (this.heap.byteLength !== this.memory.buffer.byteLength || this.heap !== this.memory.buffer)
      this.heap = this.memory.buffer;
    return new Float32Array(this.heap, ptr, size);
  }

  private malloc(bytes: number): number {
    const list = this.pool.get(bytes);
    if (list && list.length > 0) return list.pop()!;
    const ptr = this.top;
    const end = ptr + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const need = Math.ceil((end - have) / PAGE);
      const pages = have / PAGE;
      const grow = Math.min(Math.max(need, Math.ceil(pages / 4)), MAX_PAGES - pages);
      if (grow < need)
        throw new BackendError(
          'wasm',
          `out of WebAssembly memory: ${bytes} more bytes needed with ${have} in use of the 4 GiB a 32-bit memory ` +
            'can address; dispose arrays that are no longer needed (scope(), dispose())',
        );
      this.memory.grow(grow);
    }
    this.top = end;
    return ptr;
  }

  /** Returns a block to the pool of its size. */
  private release(ptr: number, bytes: number): void {
    let list = this.pool.get(bytes);
    if (!list) {
      list = [];
      this.pool.set(bytes, list);
    }
    list.push(ptr);
  }

  private reclaim(ptr: number, bytes: number): void {
    this.release(ptr, bytes);
    this.reserved -= bytes;
  }

  protected override alloc(n: number): [BackendBuffer, Float32Array] {
    if (this.destroyed) throw new BackendError('wasm', 'the backend was destroyed');
    if (n === 0) {
      const buf = new WasmBuffer(this, 0, 0);
      return [buf, new Float32Array(0)];
    }
    const bytes = blockBytes(4 * n);
    const ptr = this.malloc(bytes);
    this.reserved += bytes;
    const buf = new WasmBuffer(this, ptr, n);
    this.registry.register(buf, { ptr, bytes }, buf);
    return [buf, this.view(ptr, n)];
  }

  override free(buf: BackendBuffer): void {
    const b = buf as WasmBuffer;
    if (b.ptr === 0 || b.size === 0) return;
    this.registry.unregister(b);
    this.reclaim(b.ptr, blockBytes(4 * b.size));
    b.ptr = 0;
  }

  /** The exported function of a JIT module, or null (no module, or the engine rejects it). */
  private instantiateJit(bytes: Uint8Array<ArrayBuffer> | null): ((...a: number[]) => void) | null {
    if (!bytes) return null;
    try {
      const mod = new WebAssembly.Module(bytes);
      const fn = (
        new WebAssembly.Instance(mod, { env: { memory: this.memory } }).exports as {
          k: (...a: number[]) => void;
        }
      ).k;
      this.jitCompiled++;
      return fn;
    } catch {
      return null; // an engine that rejects the module still gets the right values, from JavaScript
    }
  }

  /** How many element-wise kernels were compiled to WebAssembly, and how many run as JavaScript. */
  jitStats(): WasmJitStats {
    return { wasm: this.jitCompiled, javascript: this.jit.size - this.jitCompiled };
  }

  override map(
    spec: ElementwiseSpec,
    inputs: readonly BackendBuffer[],
    inputShapes: readonly Shape[],
    outShape: Shape,
    params: readonly number[],
  ): BackendBuffer {
    const plan = planBroadcast(inputShapes, outShape);
    const key = mapKey(spec, plan);
    let fn = this.jit.get(key);
    if (fn === undefined) {
      fn = this.instantiateJit(compileElementwise(spec, plan, this.shared));
      this.jit.set(key, fn);
    }
    if (fn === null) return super.map(spec, inputs, inputShapes, outShape, params);
    const [out] = this.alloc(sizeOf(outShape));
    if (out.size === 0) return out;
    fn((out as WasmBuffer).ptr, ...inputs.map((b) => (b as WasmBuffer).ptr), ...params);
    return out;
  }

  /**
   * Several specs in one pass (see `Device.mapMulti`) as one WebAssembly SIMD function when they
   * share their `stmts` and the JIT compiles them; otherwise the JavaScript loop of the cpu
   * backend (null when the `stmts` differ).
   */
  override mapMulti(
    specs: readonly ElementwiseSpec[],
    inputs: readonly BackendBuffer[],
    inputShapes: readonly Shape[],
    outShape: Shape,
    params: readonly number[],
  ): BackendBuffer[] | null {
    if (!specs.every((s) => s.stmts === specs[0].stmts)) return null;
    const plan = planBroadcast(inputShapes, outShape);
    const key = specs.map((s) => mapKey(s, plan)).join('\n');
    let fn = this.jit.get(key);
    if (fn === undefined) {
      fn = this.instantiateJit(compileElementwiseMulti(specs, plan, this.shared));
      this.jit.set(key, fn);
    }
    if (fn === null) return super.mapMulti(specs, inputs, inputShapes, outShape, params);
    const n = sizeOf(outShape);
    const outs = specs.map(() => this.alloc(n)[0] as WasmBuffer);
    if (n === 0) return outs;
    fn(...outs.map((b) => b.ptr), ...inputs.map((b) => (b as WasmBuffer).ptr), ...params);
    return outs;
  }

  override reduce(op: ReduceOp, x: BackendBuffer, shape: Shape, axes: readonly number[]): BackendBuffer {
    const plan = planReduce(shape, axes);
    const n = plan.outSize;
    const rows = plan.reduceSize;
    if (n === 0 || rows === 0 || op === 'prod') return super.reduce(op, x, shape, axes);
    const block = isLeadingSum(op, plan) ? null : reduceBlock(plan);
    if (block !== null && block.post === 1) return this.reduceRows(op, x as WasmBuffer, block.pre, block.r);
    if (!isLeadingSum(op, plan)) return super.reduce(op, x, shape, axes);
    // Leading axes summed (bias gradients, batch statistics): SIMD over columns, float64 sums in
    // row order, the same result as the JavaScript path.
    const [out] = this.alloc(n);
    const bytes = blockBytes(8 * n);
    const acc = this.malloc(bytes);
    try {
      this.sumLeadFn((x as WasmBuffer).ptr, (out as WasmBuffer).ptr, rows, n, acc);
    } finally {
      this.release(acc, bytes);
    }
    return out;
  }

  /**
   * `op` over each contiguous row of `x` viewed as `[rows, n]` (the last axis), in WebAssembly
   * SIMD: max, min, argmax, argmin and sum give the JavaScript path's results bit for bit (see
   * `rowKernels` in scripts/wasm-gen.mjs); logsumexp is m + log(sum(exp(x - m))) with exp in
   * float32 (the JIT's), the sum in float64 and the log in JavaScript.
   */
  private reduceRows(op: Exclude<ReduceOp, 'prod'>, x: WasmBuffer, rows: number, n: number): BackendBuffer {
    const [out] = this.alloc(rows);
    const po = (out as WasmBuffer).ptr;
    const f = this.rowFns;
    switch (op) {
      case 'max':
      case 'argmax':
        f.row_max(x.ptr, po, rows, n, op === 'argmax' ? 1 : 0);
        return out;
      case 'min':
      case 'argmin':
        f.row_min(x.ptr, po, rows, n, op === 'argmin' ? 1 : 0);
        return out;
      case 'sum':
        f.row_sum(x.ptr, po, rows, n);
        return out;
      case 'logsumexp': {
        const bytes = blockBytes(8 * rows);
        const acc = this.malloc(bytes);
        try {
          f.row_lse_parts(x.ptr, po, rows, n, acc);
          const m = this.view(po, rows);
          const s = new Float64Array(this.memory.buffer, acc, rows);
          for (let i = 0; i < rows; i++) m[i] += Math.log(s[i]);
        } finally {
          this.release(acc, bytes);
        }
        return out;
      }
    }
  }

  /**
   * Fused softmax cross-entropy forward (see `Device.softmaxCrossEntropy`): lse as
   * {@link WasmBackend.reduce}'s logsumexp gives it (the same SIMD pass per row and float64 sum,
   * the log in JavaScript; with `probs` the pass also writes the probabilities, `sce_probs` in
   * scripts/wasm-gen.mjs), then per row in float64 `(1 - eps) (lse - x[label]) + eps (lse -
   * rowSum / C)` (the row sum the SIMD row sum, only when eps > 0; the first term only for a label
   * that is an integer in [0, C)); lse is NaN for a row holding +Infinity, as PyTorch's log_softmax.
   *
   * @example
   * ```ts
   * const d = createDevice({ backend: 'wasm' });
   * const [loss, lse] = d.softmaxCrossEntropy(d.array([2, 0, 0], [1, 3]), d.array([0])); // runs this
   * loss.read(); // [0.2395447]
   * ```
   */
  softmaxCrossEntropy(
    x: BackendBuffer,
    labels: BackendBuffer,
    rows: number,
    classes: number,
    smoothing: number,
    probs: boolean,
  ): [BackendBuffer, BackendBuffer, BackendBuffer | null] {
    const px = (x as WasmBuffer).ptr;
    let lse: BackendBuffer;
    let p: BackendBuffer | null = null;
    if (probs) {
      [lse] = this.alloc(rows);
      [p] = this.alloc(rows * classes);
      const bytes = blockBytes(8 * rows);
      const acc = this.malloc(bytes);
      try {
        const f = this.exports.sce_probs as (...args: number[]) => void;
        f(px, (lse as WasmBuffer).ptr, rows, classes, (p as WasmBuffer).ptr, acc);
        const m = this.view((lse as WasmBuffer).ptr, rows);
        const s = new Float64Array(this.memory.buffer, acc, rows);
        for (let i = 0; i < rows; i++) m[i] += Math.log(s[i]);
      } finally {
        this.release(acc, bytes);
      }
    } else lse = this.reduceRows('logsumexp', x as WasmBuffer, rows, classes);
    const [loss] = this.alloc(rows);
    if (smoothing > 0) this.rowFns.row_sum(px, (loss as WasmBuffer).ptr, rows, classes);
    const xs = this.view(px, rows * classes);
    const l = this.view((lse as WasmBuffer).ptr, rows);
    const y = this.view((labels as WasmBuffer).ptr, rows);
    const out = this.view((loss as WasmBuffer).ptr, rows);
    for (let i = 0; i < rows; i++) {
      if (l[i] === Number.POSITIVE_INFINITY) l[i] = Number.NaN; // a +Infinity logit: NaN, as PyTorch
      const yi = y[i];
      let v = 0;
      if (Number.isInteger(yi) && yi >= 0 && yi < classes)
        v = (1 - smoothing) * (l[i] - xs[i * classes + yi]);
      if (smoothing > 0) v += smoothing * (l[i] - out[i] / classes);
      out[i] = v;
    }
    return [loss, lse, p];
  }

  /**
   * Fused softmax cross-entropy gradient (see `Device.softmaxCrossEntropyGrad`): one SIMD pass per
   * row (`sce_grad` in scripts/wasm-gen.mjs), `(scale dy_i) (p - q)` with `q1` at the row's label
   * and `q0` elsewhere, each step rounded to float32 as the composed kernels round.
   *
   * @example
   * ```ts
   * const [loss, lse, p] = d.softmaxCrossEntropy(x, labels, 0, true);
   * const dx = d.softmaxCrossEntropyGrad(p!, labels, d.array([1]), 0, 1 / x.shape[0]); // runs this
   * ```
   */
  softmaxCrossEntropyGrad(
    probs: BackendBuffer,
    labels: BackendBuffer,
    dy: BackendBuffer,
    dyPerRow: boolean,
    rows: number,
    classes: number,
    scale: number,
    q0: number,
    q1: number,
  ): BackendBuffer {
    const [out] = this.alloc(rows * classes);
    const p = (b: BackendBuffer) => (b as WasmBuffer).ptr;
    (this.exports.sce_grad as (...args: number[]) => void)(
      p(probs),
      p(labels),
      p(dy),
      p(out),
      rows,
      classes,
      dyPerRow ? 1 : 0,
      scale,
      q0,
      q1,
    );
    return out;
  }

  override matmul(
    a: BackendBuffer,
    b: BackendBuffer,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
  ): BackendBuffer {
    const [out, view] = this.alloc(m * n);
    if (m === 0 || n === 0) return out;
    if (k === 0) {
      view.fill(0);
      return out;
    }
    const pa = (a as WasmBuffer).ptr;
    const pb = (b as WasmBuffer).ptr;
    const pc = (out as WasmBuffer).ptr;
    // convolution shapes: the skinny kernels, no packing (see skinnyPlan)
    const workers = this.threads?.ready() ?? [];
    const skinny = skinnyPlan(m, k, n, transA, transB, 1 + workers.length);
    if (skinny !== null) {
      const sk = this.exports as unknown as SkinnyKernels;
      if (skinny === 'dot') {
        view.fill(0);
        sk.dot_nt(pa, pb, pc, m, n, k);
      } else sk.gemm_small(pa, pb, pc, m, n, k, transA ? 1 : k, transA ? m : 1);
      return out;
    }
    const rsA = transA ? 1 : k;
    const csA = transA ? m : 1;
    const rsB = transB ? 1 : n;
    const csB = transB ? k : 1;
    const macs = m * n * k;
    // large enough to split, and workers to split across: the policy (if any) decides and times it
    const splittable = macs >= THREAD_MIN_MACS && workers.length > 0;
    const measured = splittable && this.policy !== null;
    const shape = measured ? `${m},${k},${n},${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}` : '';
    const mode: ThreadMode = !splittable ? 'single' : measured ? this.policy!.choose(shape, macs) : 'split';
    const ready = mode === 'split' ? workers : [];
    const t0 = measured ? performance.now() : -1;
    // Slabs: rows of C in multiples of MR, or columns in multiples of NR, whichever is longer.
    const parts = 1 + ready.length;
    const byRows = m >= n;
    const unit = byRows ? GEMM_BLOCKING.MR : GEMM_BLOCKING.NR;
    const len = byRows ? m : n;
    const chunk = Math.ceil(len / parts / unit) * unit;
    const slabs: number[][] = [];
    const workspaces: [number, number][] = []; // [address, bytes] per slab, released after the product
    for (let s0 = 0; s0 < len; s0 += chunk) {
      const s1 = Math.min(len, s0 + chunk);
      const sm = byRows ? s1 - s0 : m;
      const sn = byRows ? n : s1 - s0;
      const wsBytes = blockBytes(this.workspaceFn(sn));
      const ws = this.malloc(wsBytes);
      workspaces.push([ws, wsBytes]);
      slabs.push([
        byRows ? pa + 4 * s0 * rsA : pa,
        byRows ? pb : pb + 4 * s0 * csB,
        pc + 4 * (byRows ? s0 * n : s0),
        sm,
        sn,
        k,
        rsA,
        csA,
        rsB,
        csB,
        n,
        ws,
      ]);
    }
    try {
      const tickets = slabs.slice(1).map((args, i) => this.threads!.post(ready[i], args));
      this.gemmFn(...slabs[0]);
      let ok = true;
      tickets.forEach((t, i) => {
        // a worker that has not started its slab (not scheduled yet): run the slab here
        if (this.threads!.reclaim(ready[i], t)) this.gemmFn(...slabs[i + 1]);
        else ok = this.threads!.wait(ready[i], t) && ok;
      });
      if (!ok) throw new BackendError('wasm', 'a worker thread failed inside the WebAssembly GEMM');
      if (t0 >= 0) this.policy?.record(shape, mode, performance.now() - t0);
    } finally {
      for (const [ws, bytes] of workspaces) this.release(ws, bytes);
    }
    return out;
  }

  /** The window kernels (scripts/wasm-window-gen.mjs) with this backend's scratch memory. */
  private get windows(): WindowHost {
    if (this.windowHost) return this.windowHost;
    this.windowHost = {
      kernels: this.exports as unknown as WindowKernels,
      scratch: (bytes) => this.malloc(blockBytes(bytes)),
      release: (ptr, bytes) => this.release(ptr, blockBytes(bytes)),
      int32: (ptr, n) => new Int32Array(this.memory.buffer, ptr, n),
    };
    return this.windowHost;
  }
  private windowHost: WindowHost | null = null;

  /**
   * `f(acc)` on zeroed float64 sums of `n` elements in scratch memory, then the sums rounded to a
   * new float32 buffer (one rounding per element, as the JavaScript path).
   */
  private withSums(n: number, f: (acc: number) => void): BackendBuffer {
    const [out] = this.alloc(n);
    if (n === 0) return out;
    const bytes = blockBytes(8 * n);
    const acc = this.malloc(bytes);
    try {
      new Uint8Array(this.memory.buffer, acc, 8 * n).fill(0);
      f(acc);
      this.windows.kernels.f64_to_f32(acc, (out as WasmBuffer).ptr, n);
    } finally {
      this.release(acc, bytes);
    }
    return out;
  }

  override window(x: BackendBuffer, plan: WindowPlan): BackendBuffer {
    const [out] = this.alloc(sizeOf(plan.outShape));
    if (out.size > 0)
      readWindow(this.windows.kernels, (x as WasmBuffer).ptr, (out as WasmBuffer).ptr, plan, plan.padValue);
    return out;
  }

  override transpose(x: BackendBuffer, shape: Shape, perm: readonly number[]): BackendBuffer {
    const [out] = this.alloc(sizeOf(shape));
    if (out.size === 0) return out;
    readWindow(
      this.windows.kernels,
      (x as WasmBuffer).ptr,
      (out as WasmBuffer).ptr,
      permutePlan(shape, perm),
      0,
    );
    return out;
  }

  override windowScatterAdd(dy: BackendBuffer, plan: WindowPlan): BackendBuffer {
    return this.withSums(sizeOf(plan.inShape), (acc) =>
      scatterWindow(this.windows.kernels, (dy as WasmBuffer).ptr, acc, plan),
    );
  }

  protected override maxRead(
    x: BackendBuffer,
    mb: BackendBuffer,
    ib: BackendBuffer,
    plan: WindowPlan,
    first: number,
    count: number,
  ): void {
    const ptr = (b: BackendBuffer) => (b as WasmBuffer).ptr;
    maxWindows(this.windows, ptr(x), ptr(mb), ptr(ib), plan, first, count);
  }

  override windowScatterAt(
    dy: BackendBuffer,
    index: BackendBuffer,
    plan: WindowPlan,
    first: number,
    count: number,
  ): BackendBuffer | null {
    if (plan.padded) return null;
    return this.withSums(sizeOf(plan.inShape), (acc) =>
      pickScatter(this.windows, (dy as WasmBuffer).ptr, (index as WasmBuffer).ptr, acc, plan, first, count),
    );
  }

  override destroy(): void {
    super.destroy();
    this.jit.clear();
    this.threads?.close();
    this.destroyed = true;
  }
}
