// The gl backend: gpu.js kernels on WebGL (browsers) or headless-gl (Node). Kernel sources come
// from ./sources.ts, start-up and probing from ./probe.ts; this file holds buffers, the compile
// cache and the multi-stage reductions.
import type { GPU, Texture } from 'gpu.js';
import type {
  BackendBuffer,
  BackendGradInput,
  BackendInfo,
  BackendLinearGrads,
  BackendName,
  ElementwiseSpec,
  KernelBackend,
  ReduceOp,
} from '../backend.js';
import { collapse, planBroadcast, planReduce } from '../codegen.js';
import { BINARY } from '../elementwise.js';
import { BackendError } from '../errors.js';
import type { Shape } from '../shape.js';
import { formatShape, sizeOf, stridesOf } from '../shape.js';
import { defineKernel, parsedKernel } from '../spec/define.js';
import type { WindowPlan } from '../window.js';
import type { GlPackedStats } from './packed.js';
import { noPackedStats, RawGl, type RawTexture } from './packed.js';
import {
  CROSS_ENTROPY_MAX_CLASSES,
  colSumPackedSource,
  crossEntropyGradSource,
  crossEntropyProbsSource,
  crossEntropySource,
  epilogueStrides,
  MAP_MULTI_TARGETS,
  mapMultiSameShapeSource,
  mapSameShapeSource,
  matmulBlockedSource,
  matmulPackedSource,
  ONE_UNIFORM,
  type PackLayout,
  type PackPrologue,
  packLayout,
  packPrologue,
  packSource,
  type UnpackEpilogue,
  unpackBlockedSource,
  unpackEpilogue,
  unpackSource,
  ZERO_UNIFORM,
} from './packed-sources.js';
import type { GpuJsMode, GpuKernel, KernelArg } from './probe.js';
import { compile, destroyGpu, fallbackOf, firstLine, glRenderer, toFloat32, tryStart } from './probe.js';
import type { GlProfile, GlProfileOptions } from './profile.js';
import { GlProfiler } from './profile.js';
import { detectSoftwareRenderer } from './renderer.js';
import type { StageLayout, StageOp } from './sources.js';
import {
  emptyReduceValue,
  FLOAT_EXACT,
  FLT_MAX,
  gatherSource,
  LOGSUMEXP_FINISH_SOURCE,
  MATMUL_MAX_K,
  mapSource,
  matmulSource,
  REDUCE_SINGLE_STAGE,
  scatterAddSource,
  stageSource,
  stageSplit,
  transposeSource,
  UPLOAD_SOURCE,
  windowGatherPlan,
  windowScatterSource,
  windowSource,
} from './sources.js';
import type { MatmulView, TiledRead } from './tiles.js';
import {
  fillSource,
  gatherRead,
  permutationRead,
  placeSource,
  readSplit,
  rowSplit,
  sliceSource,
  TILE_ELEMENTS,
  tiledMapProblem,
  tiledMapSource,
  tiledMapUniforms,
  tiledMatmulSource,
  tiledReadIndexRange,
  tiledReadProblem,
  tiledReadRows,
  tiledReadSource,
  tiledReadUniforms,
  tiledScatterProblem,
  tiledScatterSource,
  tiledScatterUniforms,
  tiledTransposeSource,
  tiledWindowScatterProblem,
  tiledWindowScatterRows,
  tiledWindowScatterSource,
  tiledWindowScatterUniforms,
  tileRanges,
  windowRead,
} from './tiles.js';

/**
 * A buffer of the gl backend: a single-precision gpu.js texture holding `size` floats (packed by
 * gpu.js into a near-square 2-D texture); `null` storage for zero-size arrays. An array above
 * {@link GpuJsBackend.tileAbove} elements is stored in `tiles` instead: buffers of consecutive
 * elements, {@link GpuJsBackend.tileElements} each (the last may be shorter), and `data` is null.
 */
export class GpuJsBuffer implements BackendBuffer {
  /** The texture; `null` when `size` is 0, for a tiled array, or after {@link GpuJsBackend.free}. */
  data: Texture | null;
  /** True once {@link GpuJsBackend.free} released the storage. */
  freed = false;
  /** The tiles of a tiled array, in order; null for an array in one texture. */
  tiles: GpuJsBuffer[] | null;
  /**
   * The packed forms of this buffer's values that the packed matmul made, by layout (see
   * {@link GpuJsBackend.packReuse}); released with the buffer. Null until one is kept.
   * @internal
   */
  packs: Map<string, RawTexture> | null = null;
  constructor(
    readonly size: number,
    data: Texture | null,
    tiles: GpuJsBuffer[] | null = null,
  ) {
    this.data = data;
    this.tiles = tiles;
  }
}

/**
 * How the partial reductions of a tiled array's chunks combine when the first axis is reduced
 * (see `GpuJsBackend.reduceTiled`).
 */
const COMBINE = {
  sum: BINARY.add,
  prod: BINARY.mul,
  max: BINARY.maximum,
  min: BINARY.minimum,
  // logsumexp of two partial results: NaN propagates, an infinite maximum is the result as is
  logsumexp: defineKernel({
    name: 'gl.logsumexp2',
    arity: 2,
    params: 0,
    stmts: 'let t_m = Math.max(a, b);',
    expr: `(t_m != t_m || Math.abs(t_m) > ${FLT_MAX}) ? t_m : t_m + Math.log(Math.exp(a - t_m) + Math.exp(b - t_m))`,
  }),
} as const;

/**
 * How the partial (value, index) results of a tiled array's chunks combine for argmax/argmin along
 * the first axis (see `GpuJsBackend.reduceTiled`): `a`, `b` the value and index so far, `c`, `d`
 * the next chunk's (its index local, `p0` the chunk's first row). The next chunk wins only when
 * the result so far is not NaN and its value is NaN or strictly better: the first NaN, else the
 * first extreme, as the CPU backend.
 */
const ARG_COMBINE = {
  argmax: argCombine('>'),
  argmin: argCombine('<'),
} as const;

function argCombine(better: '>' | '<'): { value: ElementwiseSpec; index: ElementwiseSpec } {
  const stmts = `let t_take = (a == a && (c != c || c ${better} a)) ? 1.0 : 0.0;`;
  return {
    value: defineKernel({
      name: `gl.argCombineValue${better}`,
      arity: 4,
      params: 1,
      stmts,
      expr: 't_take > 0.5 ? c : a',
    }),
    index: defineKernel({
      name: `gl.argCombineIndex${better}`,
      arity: 4,
      params: 1,
      stmts,
      expr: 't_take > 0.5 ? d + p0 : b',
    }),
  };
}

/**
 * For a window plan that reads whole rows along the first axis, shifted (every axis walked in
 * order with step 1, the later axes whole and not offset; reads before or past the first axis
 * give the pad value): output element `f` reads input element `f + shift`; the shift, or null for
 * other plans.
 */
function rowShift(plan: WindowPlan): number | null {
  const { inShape, outShape, axes, steps, offsets } = plan;
  const r = inShape.length;
  if (r === 0 || outShape.length !== r) return null;
  for (let k = 0; k < r; k++) {
    if (axes[k] !== k || (steps[k] !== 1 && outShape[k] > 1)) return null;
    if (k > 0 && (offsets[k] !== 0 || outShape[k] !== inShape[k])) return null;
  }
  return offsets[0] * sizeOf(inShape.slice(1));
}

/** The element-wise epilogue of a packed matmul's unpack pass, with its samplers and uniforms. */
interface PackedEpilogue {
  readonly source: UnpackEpilogue;
  readonly name: string;
  readonly samplers: Readonly<Record<string, WebGLTexture>>;
  readonly floats: Readonly<Record<string, number>>;
}

/** The largest array the gl backend stores in tiles (as the cpu backend's limit). */
const MAX_TILED_ELEMENTS = 2 ** 31 - 1;

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

/** What the backend reads and writes on a gpu.js texture (the library's typings omit these). */
interface GpuJsTextureInternals {
  readonly texture: WebGLTexture;
  readonly size: ArrayLike<number>;
  readonly kernel: unknown;
  readonly internalFormat: number;
  readonly textureFormat: number;
  readonly constructor: new (settings: object) => Texture;
}

/** gpu.js's texture size for `n` values: its `closestSquareDimensions` (near-square, `w * h >= n`). */
export function textureSizeFor(n: number): [number, number] {
  const sqrt = Math.sqrt(n);
  let high = Math.ceil(sqrt);
  let low = Math.floor(sqrt);
  while (high * low < n) {
    high--;
    low = Math.ceil(n / high);
  }
  return [low, Math.ceil(n / low)];
}

/** The identity of a spec for caches (name, arity, params and body). */
const mapKeyOf = (spec: ElementwiseSpec): string => parsedKernel(spec).key;

/** A reduction stage's input: the layout and the buffer it reads. */
interface StageInput extends StageLayout {
  readonly x: GpuJsBuffer;
}

/**
 * The `gl` backend: gpu.js on headless-gl in Node, WebGL2/WebGL in a browser. Every kernel is
 * generated as gpu.js source text (./sources.ts) once per op and shape signature and cached;
 * scalar parameters are kernel arguments, so changing a learning rate never recompiles. Every
 * buffer is a single-precision texture and data stays on the GPU between kernels. Index
 * arithmetic is float32-exact below 2^23 elements (see `indexExpr` in `codegen.ts`), which bounds
 * {@link BackendInfo.maxKernelElements}; larger arrays, up to {@link BackendInfo.maxElements}
 * (2^31 - 1), are held in tiles (see {@link GpuJsBackend.tileAbove}).
 *
 * @example
 * ```ts
 * if (probeGpuJs('headlessgl').ok) {
 *   const b = new GpuJsBackend('headlessgl');
 *   const x = b.upload(new Float32Array([1, 2, 3]));
 *   b.read(b.map(UNARY.square, [x], [[3]], [3], [])); // Float32Array [1, 4, 9]
 *   b.destroy();
 * }
 * ```
 * @see https://github.com/gpujs/gpu.js
 */
export class GpuJsBackend implements KernelBackend {
  /** The backend's name: `'gl'`. */
  readonly name: BackendName = 'gl';
  readonly info: Omit<BackendInfo, 'reason'>;
  /** The gpu.js mode this backend runs. */
  readonly mode: GpuJsMode;
  private readonly gpu: GPU;
  private readonly kernels = new Map<string, GpuKernel>();
  private compileCount = 0;
  private compileTime = 0;
  private compileMax = 0;
  private readonly fallbackList: string[] = [];
  private destroyed = false;
  /** The running profile, or null (the usual case: then launches pay one null check). */
  private profiler: GlProfiler | null = null;
  /** gradkit's own passes on gpu.js's context (packed matmul), created on first use. */
  private rawGl: RawGl | null = null;
  /**
   * Whether {@link GpuJsBackend.matmul} uses the packed passes (default `true`): both operands
   * packed four values per RGBA texel, four outputs per fragment with vec4 arithmetic, the product
   * unpacked into a buffer like every other (four draws). It applies where the packed textures fit
   * the texture size limit (`m`, `4 ceil(k / 4)` and `ceil(n / 4)` at most
   * {@link BackendInfo.maxTextureSize}); other shapes, or `false`, run one gpu.js kernel with
   * one output per thread.
   *
   * @example
   * ```ts
   * const b = new GpuJsBackend('headlessgl');
   * b.packedMatmul = false; // compare with the one-output kernel
   * ```
   */
  packedMatmul = true;
  /**
   * Whether the packed matmul computes a 4 x 4 block of outputs per fragment into four render
   * targets (default `true`; where the context has them: WebGL2, or WebGL1 with
   * `WEBGL_draw_buffers`), else a 1 x 4 block into one.
   *
   * @example
   * ```ts
   * backend.blockedMatmul = false; // one render target, four outputs per fragment
   * ```
   */
  blockedMatmul = true;
  /**
   * Whether a buffer keeps the packed forms the packed matmul makes of it (default `true`): the
   * next product that packs the same buffer in the same layout (rows, columns, strides, padded
   * rows) reads the kept texture instead of packing again. Buffers are immutable, so the packed
   * form stays valid; it goes back to the texture pool when the buffer is freed. In a training
   * step the input and hidden activations are packed as the left operand of the forward product
   * and again, in the same layout, as the right operand of the weight gradient `dz^T x`.
   * The cost: a packed texture per buffer and layout kept until the buffer is freed, 4 bytes per
   * value plus row padding: a quarter of the buffer's own RGBA texture on WebGL1 (headless-gl), as
   * much as its R32F texture on WebGL2.
   * {@link GlPackedStats.packsHeld} counts them, {@link GlPackedStats.packReuses} the packs saved.
   *
   * @example
   * ```ts
   * backend.packReuse = false; // pack every operand for every product
   * ```
   */
  packReuse = true;
  /**
   * Whether freed textures are kept in a pool (per size and format, at most 16 each) and reused
   * by later kernels instead of gpu.js allocating new ones (default `true`): a training step in
   * steady state then allocates no textures.
   *
   * @example
   * ```ts
   * backend.texturePool = false; // gpu.js allocates and deletes as it does by itself
   * ```
   */
  texturePool = true;
  /**
   * Whether element-wise kernels whose inputs all have the output's length run as the backend's
   * own shader that reads each input at the fragment's own texel, without gpu.js's index
   * arithmetic (default `true`). Specs with broadcasting run gpu.js's kernel either way. Both call
   * the backend's own GLSL for every `Math` function (./glsl-math.ts), so they give the same values.
   *
   * @example
   * ```ts
   * backend.directMap = false; // every map through gpu.js
   * ```
   */
  directMap = true;
  /** How many element-wise kernels ran as the direct same-shape shader (see {@link GpuJsBackend.directMap}). */
  directMapCalls = 0;
  /** How many {@link GpuJsBackend.mapMulti} calls ran as one draw into several render targets. */
  mapMultiCalls = 0;
  /**
   * Whether `Device.softmaxCrossEntropy` and its gradient run as the backend's own fused passes
   * (default `true`; see {@link GpuJsBackend.softmaxCrossEntropy}); `false` leaves them to the
   * device's composed kernels.
   *
   * @example
   * ```ts
   * backend.fusedCrossEntropy = false; // logsumexp, one-hot and element-wise kernels
   * ```
   */
  fusedCrossEntropy = true;
  /**
   * Whether `Device.linearGrad` runs as the backend's own passes (default `true`; see
   * {@link GpuJsBackend.linearGrad}); `false` leaves it to the device's composed kernels.
   *
   * @example
   * ```ts
   * backend.fusedLinearGrad = false; // map, matmul, matmul and reduce('sum')
   * ```
   */
  fusedLinearGrad = true;
  /** How many `Device.linearGrad` calls ran fused (see {@link GpuJsBackend.linearGrad}). */
  linearGradCalls = 0;
  /** How many matmuls took the packed path since construction (see {@link GpuJsBackend.packedMatmul}). */
  packedMatmulCalls = 0;
  /** How many `matmulMap` calls applied their epilogue in the packed matmul's unpack pass (see {@link GpuJsBackend.matmulMap}). */
  matmulMapCalls = 0;
  /**
   * Arrays above this many elements are stored in tiles of {@link GpuJsBackend.tileElements}
   * (default: {@link BackendInfo.maxKernelElements}, the most one kernel handles: its float32
   * index arithmetic is exact below 2^23 and one texture holds `maxTextureSize^2` values).
   * Every op takes and produces tiled arrays, up to {@link BackendInfo.maxElements} (2^31 - 1)
   * elements, within these limits, each refused with a {@link BackendError} naming it: a map's
   * tiled input broadcast to a larger output; a reduction's output above `tileAbove` or a
   * first-axis row longer than a tile (after merging leading axes both reduced or both kept); a matmul output row, or a tiled operand's stored row,
   * longer than a tile; coordinates that would leave float32's exact range (2^23 rows of a piece, an
   * axis near 2^23). `mapMulti` and the fused cross-entropy decline tiled arrays (the device
   * composes them). Lower it (with `tileElements`) to exercise tiling on small arrays.
   *
   * @example
   * ```ts
   * const b = new GpuJsBackend('headlessgl');
   * b.tileAbove = 1000; b.tileElements = 256; // arrays over 1000 elements in tiles of 256
   * const x = b.upload(new Float32Array(3000)); // 12 tiles
   * b.read(b.map(UNARY.neg, [x], [[3000]], [3000], [])).length; // 3000
   * ```
   */
  tileAbove: number;
  /**
   * Elements per tile of a tiled array (see {@link GpuJsBackend.tileAbove}; default 2^22, a 2048 x
   * 2048 texture, or the largest power of two within `maxKernelElements` on a smaller context). At most
   * `tileAbove` and 2^22.
   */
  tileElements: number;

  /**
   * Starts gpu.js in `mode`.
   *
   * @throws {BackendError} when the mode cannot run here (the message gives the reason, as
   * {@link probeGpuJs} reports it).
   */
  constructor(mode: GpuJsMode) {
    this.mode = mode;
    const r = tryStart(mode);
    if ('reason' in r) throw new BackendError(this.name, `gpu.js mode '${mode}' cannot start: ${r.reason}`);
    this.gpu = r.gpu;
    // gpu.js keeps the WebGL context of its first kernel on the GPU instance (typed `any`).
    const ctx = (this.gpu as unknown as { context: WebGLRenderingContext | null }).context;
    if (!ctx) {
      destroyGpu(this.gpu);
      throw new BackendError(this.name, `gpu.js mode '${mode}' started without a WebGL context`);
    }
    const maxTextureSize = Number(ctx.getParameter(ctx.MAX_TEXTURE_SIZE));
    const renderer = glRenderer(ctx);
    this.info = {
      name: this.name,
      gpuMode: mode,
      renderer,
      softwareRenderer: detectSoftwareRenderer(renderer) !== null,
      precision: 'single',
      maxTextureSize,
      // larger arrays are held in tiles (see tileAbove)
      maxElements: MAX_TILED_ELEMENTS,
      // gpu.js packs n floats into a near-square texture (closestSquareDimensions); every n up to
      // T * (T - 1) fits sides of at most T, while some n between that and T^2 would need a side
      // of T + 1. Float32 indices are exact below 2^23 (i + 0.5 must be representable).
      maxKernelElements: Math.min(maxTextureSize * (maxTextureSize - 1), FLOAT_EXACT),
      pipeline: true,
      syncRead: 'stalls',
      // WebGL2 has fences and pixel-pack buffers; WebGL1 (headless-gl too) reads synchronously only
      asyncRead: mode === 'webgl2' ? 'non-blocking' : 'blocking',
    };
    this.tileAbove = this.kernelLimit;
    this.tileElements = Math.min(TILE_ELEMENTS, 2 ** Math.floor(Math.log2(this.kernelLimit)));
  }

  /**
   * Statistics of the backend's own WebGL passes (the packed matmul): programs linked, textures
   * created, and textures taken from its pool instead (steady-state training creates none).
   *
   * @example
   * ```ts
   * const { textureAllocations, textureReuses } = backend.packedStats;
   * ```
   */
  get packedStats(): GlPackedStats {
    return this.rawGl?.stats ?? noPackedStats();
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

  /**
   * Starts recording a profile: per-kernel launches and times, program links and switches, texture
   * allocations and reuses, uploads and read-backs (see {@link GlProfile}). Off by default, and
   * free when off. While it runs, every launch is waited for (a 1-pixel read by default, see
   * {@link GlProfileSync}) so that its time is its own: a profiled step runs slower than an
   * unprofiled one. {@link GpuJsBackend.stopProfile} ends it. Or use {@link profileGl} with a device.
   *
   * @throws {BackendError} when a profile is already running or the backend was destroyed.
   * @example
   * ```ts
   * const b = new GpuJsBackend('headlessgl');
   * b.startProfile();
   * const x = b.upload(new Float32Array([1, 2, 3]));
   * b.read(b.map(UNARY.square, [x], [[3]], [3], []));
   * const p = b.stopProfile(); // p.launches === 2, p.uploads === 1, p.reads === 1
   * ```
   */
  startProfile(options: GlProfileOptions = {}): void {
    if (this.destroyed) throw new BackendError(this.name, 'startProfile: the backend was destroyed');
    if (this.profiler !== null)
      throw new BackendError(this.name, 'startProfile: a profile is already running');
    const sync = options.sync ?? 'read';
    if (sync !== 'read' && sync !== 'finish' && sync !== 'none') {
      throw new BackendError(
        this.name,
        `startProfile: sync must be 'read', 'finish' or 'none', got '${String(sync)}'`,
      );
    }
    const ctx = (this.gpu as unknown as { context: WebGLRenderingContext }).context;
    this.profiler = new GlProfiler(ctx, sync);
  }

  /**
   * Ends the profile that {@link GpuJsBackend.startProfile} began and returns what it recorded.
   *
   * @throws {BackendError} when no profile is running.
   */
  stopProfile(): GlProfile {
    const p = this.profiler;
    if (p === null) throw new BackendError(this.name, 'stopProfile: no profile is running');
    this.profiler = null;
    return p.stop();
  }

  /** True while a profile is being recorded. */
  get profiling(): boolean {
    return this.profiler !== null;
  }

  upload(values: Float32Array): BackendBuffer {
    const n = values.length;
    if (n > this.tiling('upload')) {
      this.checkTiled('upload', n);
      return this.tiled(n, (s, e) => this.upload(values.slice(s, e)) as GpuJsBuffer);
    }
    this.checkSize('upload', n);
    this.profiler?.noteUpload(n);
    if (n === 0) return new GpuJsBuffer(0, null);
    // An identity kernel per size turns the array into a texture like every kernel output, so a
    // kernel's argument types never change between calls (a change would make gpu.js recompile).
    return this.run('upload', UPLOAD_SOURCE, n, [n], [values], 0);
  }

  read(buf: BackendBuffer): Float32Array {
    const b = this.own('read', buf);
    if (b.tiles !== null) {
      const out = new Float32Array(b.size);
      let at = 0;
      for (const t of b.tiles) {
        out.set(this.read(t), at);
        at += t.size;
      }
      return out;
    }
    this.profiler?.noteRead(b.size);
    if (b.size === 0 || b.data === null) return new Float32Array(0);
    return toFloat32(b.data.toArray(), b.size);
  }

  /**
   * Reads a buffer back without blocking where the context allows it (WebGL2, see
   * {@link BackendInfo.asyncRead}): the texture is copied into a pixel-pack buffer behind a fence,
   * the fence is polled from timers, and the values are fetched once it has signalled, so a page
   * keeps running while the GPU finishes. On WebGL1 and headless-gl it is {@link GpuJsBackend.read}
   * wrapped in a Promise. The values are those of the buffer when `readAsync` was called, even if
   * it is freed before the Promise settles.
   *
   * @example
   * ```ts
   * const values = await backend.readAsync(buf); // Float32Array
   * ```
   */
  readAsync(buf: BackendBuffer): Promise<Float32Array> {
    try {
      const b = this.own('readAsync', buf);
      if (b.tiles !== null) {
        const { size, tiles } = b;
        return Promise.all(tiles.map((t) => this.readAsync(t))).then((parts) => {
          const out = new Float32Array(size);
          let at = 0;
          for (const p of parts) {
            out.set(p, at);
            at += p.length;
          }
          return out;
        });
      }
      if (this.info.asyncRead !== 'non-blocking' || b.size === 0 || b.data === null)
        return Promise.resolve(this.read(buf));
      this.profiler?.noteRead(b.size);
      const t = b.data as unknown as GpuJsTextureInternals;
      return this.raw().readAsync(t.texture, t.size[0], t.size[1], b.size);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  free(buf: BackendBuffer): void {
    const b = buf as GpuJsBuffer;
    if (b.freed) return;
    b.freed = true;
    if (b.packs !== null) {
      const packs = b.packs;
      b.packs = null;
      if (!this.destroyed) for (const t of packs.values()) this.raw().unhold(t);
    }
    if (b.tiles !== null) {
      for (const t of b.tiles) this.free(t);
      b.tiles = null;
      return;
    }
    const d = b.data;
    b.data = null;
    if (d === null || this.destroyed) return;
    const t = d as unknown as GpuJsTextureInternals & { _deleted: boolean };
    const tex = t.texture as { _refs?: number };
    // a texture nothing else references (no kernel renders into it, no other clone) goes to the
    // pool that kernel runs and the packed passes take their outputs from
    if (this.texturePool && tex._refs === 1 && !t._deleted) {
      t._deleted = true;
      tex._refs = 0;
      this.raw().recycle(t.texture, t.size[0], t.size[1], t.internalFormat, t.textureFormat);
    } else d.delete();
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
    if (ins.length !== spec.arity)
      throw new BackendError(this.name, `${op}: expected ${spec.arity} inputs, got ${ins.length}`);
    if (params.length !== spec.params) {
      throw new BackendError(this.name, `${op}: expected ${spec.params} parameters, got ${params.length}`);
    }
    if (n > this.tiling(op)) return this.mapTiled(op, spec, ins, inputShapes, outShape, params);
    this.checkSize(op, n, ...ins.map((b) => b.size));
    if (n === 0) return new GpuJsBuffer(0, null);
    if (this.directMap) {
      const out = this.mapSameShape(op, spec, ins, n, params);
      if (out !== null) return out;
    }
    const src = mapSource(spec, planBroadcast(inputShapes, outShape));
    return this.run(
      op,
      src,
      n,
      ins.map((b) => b.size),
      [...ins.map((b) => this.storage(b)), ...params],
      0,
    );
  }

  /**
   * Several element-wise specs over the same inputs in one draw (the fused form of
   * `Device.mapMulti`, e.g. an optimizer's new state and parameter): the backend's own shader (see
   * {@link GpuJsBackend.directMap}) reads every input once, runs the specs' shared statements once
   * and writes spec `k`'s value into render target `k`. It applies to 2 to 4 specs that share
   * their statements, over inputs all of the output's length (no
   * broadcasting, not tiled), on contexts with four render targets (WebGL2, or WebGL1 with
   * `WEBGL_draw_buffers`); otherwise it returns null and the device runs one map per spec. Each
   * output equals that spec's own map (the same GLSL expressions).
   *
   * @example
   * ```ts
   * const d = createDevice({ backend: 'gl' });
   * const [m, p] = d.mapMulti([M, P], [g, m0, p0], [0.9, 0.1]); // one draw, two outputs
   * ```
   */
  mapMulti(
    specs: readonly ElementwiseSpec[],
    inputs: readonly BackendBuffer[],
    _inputShapes: readonly Shape[],
    outShape: Shape,
    params: readonly number[],
  ): BackendBuffer[] | null {
    const op = `mapMulti(${specs.map((s) => s.name).join(', ')})`;
    const ins = inputs.map((b) => this.own(op, b));
    const n = sizeOf(outShape);
    if (!this.directMap || specs.length < 2 || specs.length > MAP_MULTI_TARGETS || ins.length === 0)
      return null;
    if (n === 0 || n > this.tiling(op) || !this.raw().multipleTargets) return null;
    const [w, h] = textureSizeFor(n);
    const texs: GpuJsTextureInternals[] = [];
    for (const b of ins) {
      if (b.size !== n || b.data === null) return null;
      const t = b.data as unknown as GpuJsTextureInternals;
      if (t.size[0] !== w || t.size[1] !== h) return null;
      texs.push(t);
    }
    const key = `${specs.map(mapKeyOf).join(';')}|${w}x${h}`;
    let src = this.mapMultiSources.get(key);
    if (src === undefined) {
      src = mapMultiSameShapeSource(specs, [w, h], this.mode === 'webgl2');
      this.mapMultiSources.set(key, src);
    }
    if (src === null) return null;
    const raw = this.raw();
    const first = texs[0];
    const outTexs = specs.map(() => raw.outputTexture(w, h, first.internalFormat, first.textureFormat));
    const outs: GpuJsBuffer[] = [];
    try {
      const samplers: Record<string, WebGLTexture> = {};
      texs.forEach((t, k) => {
        samplers[`x${k}`] = t.texture;
      });
      const floats: Record<string, number> = { [ONE_UNIFORM]: 1, [ZERO_UNIFORM]: 0 };
      params.forEach((p, q) => {
        floats[`p${q}`] = p;
      });
      const prof = this.profiler;
      if (prof !== null) prof.begin(op, !raw.hasProgram(src));
      raw.draw(src, samplers, outTexs, w, h, floats);
      if (prof !== null) prof.end();
      for (const t of outTexs) outs.push(new GpuJsBuffer(n, this.wrapTexture(first, t, w, h, n)));
    } catch (e) {
      for (const o of outs) this.free(o);
      for (const t of outTexs.slice(outs.length))
        raw.recycle(t, w, h, first.internalFormat, first.textureFormat);
      throw e;
    }
    this.mapMultiCalls++;
    return outs;
  }

  /**
   * Softmax cross-entropy of `x` `[rows, classes]` against `labels` `[rows]` in one draw (one
   * fragment per row, writing the loss and the lse into two render targets) and, when `probs` is
   * asked for, a second draw for `exp(x - lse)`: the composed path's launches (logsumexp's three
   * stages, the lse guard, one-hot, the terms, their sum, the probabilities) become one or two.
   * Same definitions as the device's composed kernels: `lse` NaN for a row holding a NaN or whose
   * maximum or lse is not finite, `loss = sum q (lse - x)` over the classes where the float32
   * target `q` is not 0; the sums run in class order (the composed sum of exponentials is staged
   * above 1024 classes). Null (the device composes it) with {@link GpuJsBackend.fusedCrossEntropy}
   * off, without four render targets, for tiled arrays, or above 16384 classes.
   *
   * @example
   * ```ts
   * const [loss, lse, probs] = device.softmaxCrossEntropy(logits, labels, 0, true); // 2 draws on gl
   * ```
   */
  softmaxCrossEntropy(
    x: BackendBuffer,
    labels: BackendBuffer,
    rows: number,
    classes: number,
    smoothing: number,
    probs: boolean,
  ): [BackendBuffer, BackendBuffer, BackendBuffer | null] | null {
    const op = 'softmaxCrossEntropy';
    const xb = this.own(op, x);
    const lb = this.own(op, labels);
    if (!this.fusedCrossEntropy || classes > CROSS_ENTROPY_MAX_CLASSES || rows * classes > this.tiling(op))
      return null;
    if (xb.data === null || lb.data === null || !this.raw().multipleTargets) return null;
    const xt = xb.data as unknown as GpuJsTextureInternals;
    const lt = lb.data as unknown as GpuJsTextureInternals;
    const f = Math.fround;
    const [q0, q1] =
      smoothing > 0 ? [f(smoothing / classes), f(f(1 - smoothing) + f(smoothing / classes))] : [0, 1];
    const raw = this.raw();
    const glsl3 = this.mode === 'webgl2';
    const size = (t: GpuJsTextureInternals): [number, number] => [t.size[0], t.size[1]];
    const [w, h] = textureSizeFor(rows);
    const outs = [0, 1].map(() => raw.outputTexture(w, h, xt.internalFormat, xt.textureFormat));
    const made: GpuJsBuffer[] = [];
    try {
      const src = crossEntropySource(classes, size(xt), size(lt), [w, h], glsl3);
      const prof = this.profiler;
      if (prof !== null) prof.begin(op, !raw.hasProgram(src));
      raw.draw(src, { X: xt.texture, L: lt.texture }, outs, w, h, { q0, q1, [ZERO_UNIFORM]: 0 });
      if (prof !== null) prof.end();
      for (const t of outs.splice(0)) made.push(new GpuJsBuffer(rows, this.wrapTexture(xt, t, w, h, rows)));
      let p: GpuJsBuffer | null = null;
      if (probs) {
        const n = rows * classes;
        const [pw, ph] = textureSizeFor(n);
        const pt = raw.outputTexture(pw, ph, xt.internalFormat, xt.textureFormat);
        const lse = made[1].data as unknown as GpuJsTextureInternals;
        try {
          const psrc = crossEntropyProbsSource(classes, size(xt), [w, h], [pw, ph], glsl3);
          if (prof !== null) prof.begin(`${op} probs`, !raw.hasProgram(psrc));
          raw.draw(psrc, { X: xt.texture, S: lse.texture }, pt, pw, ph, { [ZERO_UNIFORM]: 0 });
          if (prof !== null) prof.end();
          p = new GpuJsBuffer(n, this.wrapTexture(xt, pt, pw, ph, n));
        } finally {
          if (p === null) raw.recycle(pt, pw, ph, xt.internalFormat, xt.textureFormat);
        }
      }
      return [made[0], made[1], p];
    } catch (e) {
      for (const b of made) this.free(b);
      for (const t of outs) raw.recycle(t, w, h, xt.internalFormat, xt.textureFormat);
      throw e;
    }
  }

  /**
   * The gradient of {@link GpuJsBackend.softmaxCrossEntropy}, `(scale dy_row) (probs - q)`, in one
   * draw (the composed path: one-hot and an element-wise kernel). Null where the forward pass is.
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
  ): BackendBuffer | null {
    const op = 'softmaxCrossEntropyGrad';
    const pb = this.own(op, probs);
    const lb = this.own(op, labels);
    const db = this.own(op, dy);
    const n = rows * classes;
    if (!this.fusedCrossEntropy || n > this.tiling(op)) return null;
    if (pb.data === null || lb.data === null || db.data === null) return null;
    const pt = pb.data as unknown as GpuJsTextureInternals;
    const lt = lb.data as unknown as GpuJsTextureInternals;
    const dt = db.data as unknown as GpuJsTextureInternals;
    const size = (t: GpuJsTextureInternals): [number, number] => [t.size[0], t.size[1]];
    const raw = this.raw();
    const [w, h] = textureSizeFor(n);
    const out = raw.outputTexture(w, h, pt.internalFormat, pt.textureFormat);
    let result: GpuJsBuffer | null = null;
    try {
      const src = crossEntropyGradSource(
        classes,
        size(pt),
        size(lt),
        size(dt),
        dyPerRow,
        [w, h],
        this.mode === 'webgl2',
      );
      const prof = this.profiler;
      if (prof !== null) prof.begin(op, !raw.hasProgram(src));
      raw.draw(src, { P: pt.texture, L: lt.texture, D: dt.texture }, out, w, h, {
        scale,
        q0,
        q1,
        [ZERO_UNIFORM]: 0,
      });
      if (prof !== null) prof.end();
      result = new GpuJsBuffer(n, this.wrapTexture(pt, out, w, h, n));
      return result;
    } finally {
      if (result === null) raw.recycle(out, w, h, pt.internalFormat, pt.textureFormat);
    }
  }

  reduce(op: ReduceOp, x: BackendBuffer, shape: Shape, axes: readonly number[]): BackendBuffer {
    const name = `reduce(${op})`;
    const xb = this.own(name, x);
    if (xb.tiles !== null) return this.reduceTiled(name, op, xb, shape, axes);
    const plan = planReduce(shape, axes);
    const n = plan.outSize;
    const r = plan.reduceSize;
    this.checkSize(name, n, xb.size, sizeOf(shape));
    if (n === 0) return new GpuJsBuffer(0, null);
    // Reducing an empty axis: the identity of the op (as the CPU backend returns it).
    if (r === 0) return this.upload(new Float32Array(n).fill(emptyReduceValue(op)));
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
    const above = this.tiling(op);
    if (mn > above || ab.tiles !== null || bb.tiles !== null) {
      if (mn === 0) return new GpuJsBuffer(0, null);
      return this.matmulTiled(op, ab, bb, m, k, n, transA, transB);
    }
    this.checkSize(op, mn, ab.size, bb.size);
    if (mn === 0) return new GpuJsBuffer(0, null);
    if (k === 0) return this.upload(new Float32Array(mn));
    if (this.packedMatmul && this.packedFits(m, k, n))
      return this.matmulPacked(op, ab, bb, m, k, n, transA, transB);
    const { source, slices, steps } = matmulSource(m, k, n, transA, transB);
    if (slices > 1) this.checkSize(op, slices * mn);
    const out = this.run(
      op,
      source,
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

  /**
   * A matmul with an element-wise epilogue (the fused form of `Device.matmulMap`, e.g. a layer's
   * bias and activation): the packed matmul's unpack pass, which writes the product back to
   * gpu.js's layout, applies the spec to each element on the way, reading the other operands at
   * their broadcast positions: four draws instead of the four of the matmul and one of the map.
   * The spec's GLSL is the direct same-shape map's (see {@link GpuJsBackend.directMap}), so the
   * values equal `matmul` then `map`. Null (the device runs `matmul` and `map`) where the packed
   * path does not run (`packedMatmul` off, textures too large, tiled operands or output),
   * or with `directMap` off.
   *
   * @example
   * ```ts
   * const d = createDevice({ backend: 'gl' });
   * d.matmulMap(x, w, { spec: BIAS_RELU, operands: [bias] }, { transB: true }); // 4 draws, not 5
   * ```
   */
  matmulMap(
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
  ): BackendBuffer | null {
    const op = `matmul(${m}x${k}x${n}${transA ? ', transA' : ''}${transB ? ', transB' : ''})`;
    const ab = this.own(op, a);
    const bb = this.own(op, b);
    const ins = operands.map((o) => this.own(op, o));
    const mn = m * n;
    if (!this.packedMatmul || !this.directMap || mn === 0 || k === 0 || !this.packedFits(m, k, n))
      return null;
    if (mn > this.tiling(op) || ab.tiles !== null || bb.tiles !== null) return null;
    // at most 4 operands: with the blocked matmul's 4 products, the 8 texture units WebGL1 guarantees
    if (ins.length > 4 || ins.some((o) => o.tiles !== null || o.data === null)) return null;
    this.checkSize(op, mn, ab.size, bb.size, ...ins.map((o) => o.size));
    const layouts = ins.map((o, i) => {
      const t = this.storage(o) as unknown as GpuJsTextureInternals;
      const [rowStride, colStride] = epilogueStrides(operandShapes[i], m, n);
      return { rowStride, colStride, size: [t.size[0], t.size[1]] as [number, number] };
    });
    const key = `${mapKeyOf(spec)}|${layouts.map((l) => `${l.rowStride},${l.colStride},${l.size[0]}x${l.size[1]}`).join(';')}`;
    let epilogue = this.epilogues.get(key);
    if (epilogue === undefined) {
      epilogue = unpackEpilogue(spec, layouts);
      this.epilogues.set(key, epilogue);
    }
    if (epilogue === null) return null;
    const samplers: Record<string, WebGLTexture> = {};
    ins.forEach((o, i) => {
      samplers[`E${i + 1}`] = (this.storage(o) as unknown as GpuJsTextureInternals).texture;
    });
    const floats: Record<string, number> = { [ONE_UNIFORM]: 1, [ZERO_UNIFORM]: 0 };
    params.forEach((p, q) => {
      floats[`p${q}`] = p;
    });
    const out = this.matmulPacked(op, ab, bb, m, k, n, transA, transB, {
      source: epilogue,
      name: spec.name,
      samplers,
      floats,
    });
    this.matmulMapCalls++;
    return out;
  }

  /**
   * The backward pass of a dense layer (the fused form of `Device.linearGrad`): `dz` is packed
   * twice, as the left operand of `dx = dz W` and, transposed, of `dw = dz^T x`; when `dz` is a
   * kernel (an activation's backward `dy f'(y)`), those pack passes compute it from its inputs
   * (a prologue with the direct map's GLSL, see {@link GpuJsBackend.directMap}), so no
   * element-wise launch runs and no `dz` is stored. `db` sums the columns of the packed `dz^T`
   * (four rows per texture read; of the packed `dz` when `dw` is not asked for) in row order, as
   * `reduce('sum')` does. `x` packed as the right operand of `dz^T x` is the layout of the forward
   * product's left operand, so with {@link GpuJsBackend.packReuse} it is not packed again. Values
   * equal `map`, `matmul` and `reduce` bit for bit. Null (the device composes those) with
   * `fusedLinearGrad`, `packedMatmul` or `directMap` off, for tiled arrays, textures that do not
   * fit, more than 1024 rows (the reduction would run in stages), or without `x` and `weight`.
   *
   * @example
   * ```ts
   * const d = createDevice({ backend: 'gl' });
   * d.linearGrad({ spec: ACTIVATION_GRAD.reluGrad, inputs: [y, dy] }, { x, weight: w, bias: true });
   * ```
   */
  linearGrad(
    grad: BackendGradInput,
    m: number,
    n: number,
    k: number,
    x: BackendBuffer | null,
    weight: BackendBuffer | null,
    bias: boolean,
  ): BackendLinearGrads | null {
    const op = 'linearGrad';
    const ins = grad.inputs.map((b) => this.own(op, b));
    const xb = x === null ? null : this.own(op, x);
    const wb = weight === null ? null : this.own(op, weight);
    if (!this.fusedLinearGrad || !this.packedMatmul || !this.directMap) return null;
    if ((xb === null && wb === null) || m * n === 0 || k === 0 || m > REDUCE_SINGLE_STAGE) return null;
    const above = this.tiling(op);
    if (m * n > above || m * k > above || n * k > above) return null;
    const all = [...ins, ...(xb ? [xb] : []), ...(wb ? [wb] : [])];
    if (all.some((b) => b.tiles !== null || b.data === null)) return null;
    if ((wb !== null && !this.packedFits(m, n, k)) || (xb !== null && !this.packedFits(n, m, k))) return null;
    // the inputs of dz: one length, one texture size (the direct map's condition)
    const mn = m * n;
    const [sw, sh] = textureSizeFor(mn);
    const texs = ins.map((b) => b.data as unknown as GpuJsTextureInternals);
    if (ins.some((b, i) => b.size !== mn || texs[i].size[0] !== sw || texs[i].size[1] !== sh)) return null;
    let prologue: PackPrologue | null = null;
    const spec = grad.spec;
    if (spec !== null) {
      if (ins.length !== spec.arity || grad.params.length !== spec.params) return null;
      const key = mapKeyOf(spec);
      let p = this.prologues.get(key);
      if (p === undefined) {
        p = packPrologue(spec);
        this.prologues.set(key, p);
      }
      if (p === null) return null;
      prologue = p;
    } else if (ins.length !== 1) return null;
    this.checkSize(op, mn, m * k, n * k, ...all.map((b) => b.size));
    const raw = this.raw();
    const blocked = raw.multipleTargets && this.blockedMatmul;
    const pad = (r: number) => (blocked ? 4 * Math.ceil(r / 4) : r);
    const like = texs[0];
    const samplers: Record<string, WebGLTexture> = {};
    texs.forEach((t, i) => {
      samplers[`x${i}`] = t.texture;
    });
    const floats: Record<string, number> = { [ONE_UNIFORM]: 1, [ZERO_UNIFORM]: 0 };
    grad.params.forEach((p, q) => {
      floats[`p${q}`] = p;
    });
    const made: RawTexture[] = [];
    const outs: GpuJsBuffer[] = [];
    /** dz (or dz^T) packed: by the prologue, or dz's own (kept) packed form. */
    const packDz = (transposed: boolean): RawTexture => {
      const layout = transposed
        ? packLayout(n, m, true, [sw, sh], pad(n))
        : packLayout(m, n, false, [sw, sh], pad(m));
      const name = `pack(${layout.rows}x${layout.cols}${transposed ? ', trans' : ''}${spec ? `, ${spec.name}` : ''})`;
      if (prologue === null) return this.packedOperand(name, ins[0], layout, made);
      const t = raw.texture(Math.ceil(layout.cols / 4), layout.outRows);
      made.push(t);
      this.pass(name, packSource(layout, prologue), samplers, t.texture, t.width, t.height, floats);
      return t;
    };
    try {
      let dx: GpuJsBuffer | null = null;
      let dw: GpuJsBuffer | null = null;
      let db: GpuJsBuffer | null = null;
      let colsFrom: { tex: RawTexture; transposed: boolean } | null = null;
      if (wb !== null) {
        const pz = packDz(false);
        colsFrom = { tex: pz, transposed: false };
        const wt = wb.data as unknown as GpuJsTextureInternals;
        const pw = this.packedOperand(
          `pack(${n}x${k})`,
          wb,
          packLayout(n, k, false, [wt.size[0], wt.size[1]], 4 * Math.ceil(n / 4)),
          made,
        );
        dx = this.multiplyPacked(`matmul(${m}x${n}x${k})`, pz, pw, m, n, k, like, null);
        outs.push(dx);
      }
      if (xb !== null) {
        const pzt = packDz(true);
        colsFrom = { tex: pzt, transposed: true };
        const xt = xb.data as unknown as GpuJsTextureInternals;
        const px = this.packedOperand(
          `pack(${m}x${k})`,
          xb,
          packLayout(m, k, false, [xt.size[0], xt.size[1]], 4 * Math.ceil(m / 4)),
          made,
        );
        dw = this.multiplyPacked(`matmul(${n}x${m}x${k}, transA)`, pzt, px, n, m, k, like, null);
        outs.push(dw);
      }
      if (bias && colsFrom !== null) {
        const [w, h] = textureSizeFor(n);
        const outTex = raw.outputTexture(w, h, like.internalFormat, like.textureFormat);
        let out: Texture | null = null;
        try {
          this.pass(
            `reduce(sum, packed${spec ? `, ${spec.name}` : ''})`,
            colSumPackedSource(m, n, colsFrom.transposed, colsFrom.tex.height, [w, h]),
            { P: colsFrom.tex.texture },
            outTex,
            w,
            h,
          );
          out = this.wrapTexture(like, outTex, w, h, n);
        } finally {
          if (out === null) raw.recycle(outTex, w, h, like.internalFormat, like.textureFormat);
        }
        db = new GpuJsBuffer(n, out);
        outs.push(db);
      }
      this.linearGradCalls++;
      return { dx, dw, db };
    } catch (e) {
      for (const b of outs) this.free(b);
      throw e;
    } finally {
      for (const t of made) raw.release(t);
    }
  }

  transpose(x: BackendBuffer, shape: Shape, perm: readonly number[]): BackendBuffer {
    const op = `transpose(${formatShape(shape)}, [${perm.join(',')}])`;
    const xb = this.own(op, x);
    const n = sizeOf(shape);
    if (xb.tiles !== null) {
      // the permutation as a walk of the input: a copy (one axis of stride 1) or a 2-D transpose
      const st = stridesOf(shape);
      const [dims, strides] = collapse(
        perm.map((p) => shape[p]),
        perm.map((p) => st[p]),
      );
      if (dims.length === 1 && strides[0] === 1) return this.shiftCopy(op, xb, n, 0, 0);
      const tile = this.tileElements;
      if (
        dims.length === 2 &&
        strides[0] === 1 &&
        strides[1] === dims[0] &&
        dims[0] <= tile &&
        dims[1] <= tile
      )
        return this.transposeTiled(op, xb, dims[1], dims[0]);
      // any other permutation: passes over pieces of whole input rows
      return this.readTiled(op, xb, null, permutationRead(shape, perm), 0, Math.max(...shape));
    }
    this.checkSize(op, n, xb.size);
    if (n === 0) return new GpuJsBuffer(0, null);
    const src = transposeSource(shape, perm);
    return this.run(op, src, n, [xb.size], [this.storage(xb)], 0);
  }

  gather(x: BackendBuffer, shape: Shape, indices: BackendBuffer, count: number, axis: number): BackendBuffer {
    const op = `gather(${formatShape(shape)}, axis ${axis}, ${count} indices)`;
    const xb = this.own(op, x);
    const ib = this.own(op, indices);
    const n = sizeOf(shape.slice(0, axis)) * count * sizeOf(shape.slice(axis + 1));
    if ((xb.tiles !== null || ib.tiles !== null || n > this.tiling(op)) && n > 0) {
      // a tiled table, tiled indices or an output above tileAbove: passes over pieces of whole
      // table rows and tiles of the indices
      return this.readTiled(op, xb, ib, gatherRead(shape, count, axis), 0, Math.max(...shape, count));
    }
    this.checkSize(op, n, xb.size, ib.size, sizeOf(shape), count);
    if (n === 0) return new GpuJsBuffer(0, null);
    const src = gatherSource(shape, count, axis);
    return this.run(op, src, n, [xb.size, ib.size], [this.storage(xb), this.storage(ib)], 0);
  }

  window(x: BackendBuffer, plan: WindowPlan): BackendBuffer {
    const op = `window(${formatShape(plan.inShape)} -> ${formatShape(plan.outShape)})`;
    const xb = this.own(op, x);
    const n = sizeOf(plan.outShape);
    if ((xb.tiles !== null || n > this.tiling(op)) && n > 0) {
      // whole rows along the first axis, shifted (a batch sliced from a large array, a part placed
      // into a concatenation) are one range of elements; other windows are not tiled
      const shift = rowShift(plan);
      if (shift !== null) return this.shiftCopy(op, xb, n, shift, plan.padValue);
      // any other window: passes over pieces of whole input rows
      this.checkCoords(op, plan);
      const bound = Math.max(
        ...plan.bounds.map(([lo, hi]) => Math.max(Math.abs(lo), Math.abs(hi))),
        ...plan.inShape,
      );
      return this.readTiled(op, xb, null, windowRead(plan), plan.padValue, bound);
    }
    this.checkSize(op, n, xb.size);
    this.checkCoords(op, plan);
    if (n === 0) return new GpuJsBuffer(0, null);
    if (xb.size === 0) return this.upload(new Float32Array(n).fill(plan.padValue));
    return this.run(op, windowSource(plan), n, [xb.size], [this.storage(xb), plan.padValue], 0);
  }

  windowScatterAdd(dy: BackendBuffer, plan: WindowPlan): BackendBuffer {
    const op = `windowScatterAdd(${formatShape(plan.outShape)} -> ${formatShape(plan.inShape)})`;
    const db = this.own(op, dy);
    const n = sizeOf(plan.inShape);
    if ((db.tiles !== null || n > this.tiling(op)) && n > 0) {
      // the adjoint of a shift of whole first-axis rows: the opposite shift, zero elsewhere
      const shift = rowShift(plan);
      if (shift !== null) return this.shiftCopy(op, db, n, -shift, 0);
      // any other window: passes over output tiles, loop ranges and pieces of whole rows of dy
      this.checkCoords(op, plan);
      return this.windowScatterTiled(op, db, plan);
    }
    this.checkSize(op, n, db.size);
    this.checkCoords(op, plan);
    if (n === 0) return new GpuJsBuffer(0, null);
    if (db.size === 0) return this.upload(new Float32Array(n));
    const gp = windowGatherPlan(plan);
    const { chunks, chunk } = stageSplit(gp.loop);
    return this.chunked(op, windowScatterSource(plan, gp, chunks, chunk), n, chunks, chunk, [db]);
  }

  scatterAdd(
    updates: BackendBuffer,
    shape: Shape,
    indices: BackendBuffer,
    count: number,
    axis: number,
  ): BackendBuffer {
    const op = `scatterAdd(${formatShape(shape)}, axis ${axis}, ${count} indices)`;
    const ub = this.own(op, updates);
    const ib = this.own(op, indices);
    const n = sizeOf(shape);
    if ((ub.tiles !== null || ib.tiles !== null || n > this.tiling(op)) && n > 0) {
      // a tiled table, tiled updates or indices: passes over output tiles and index ranges
      return this.scatterAddTiled(op, ub, shape, ib, count, axis);
    }
    this.checkSize(op, n, ub.size, ib.size, count);
    if (n === 0) return new GpuJsBuffer(0, null);
    if (count === 0 || ub.size === 0) return this.upload(new Float32Array(n));
    const { chunks, chunk } = stageSplit(count);
    return this.chunked(op, scatterAddSource(shape, count, axis, chunks, chunk), n, chunks, chunk, [ub, ib]);
  }

  destroy(): void {
    if (this.destroyed) return;
    if (this.profiler !== null) this.stopProfile();
    this.destroyed = true;
    this.rawGl?.destroy();
    this.rawGl = null;
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

  /**
   * Whether the packed matmul's textures fit: `op(A)` packed `ceil(k/4) x 4 ceil(m/4)`, `B`
   * `ceil(n/4) x 4 ceil(k/4)`.
   */
  private packedFits(m: number, k: number, n: number): boolean {
    const t = this.info.maxTextureSize ?? 0;
    return 4 * Math.ceil(m / 4) <= t && 4 * Math.ceil(k / 4) <= t && Math.ceil(n / 4) <= t;
  }

  private raw(): RawGl {
    if (this.rawGl === null) {
      const ctx = (this.gpu as unknown as { context: WebGLRenderingContext }).context;
      this.rawGl = new RawGl(ctx, this.mode === 'webgl2');
    }
    return this.rawGl;
  }

  /** Texture source of same-shape maps by spec identity and size (null: the spec needs gpu.js). */
  private readonly mapSources = new Map<string, string | null>();
  /** Source of fused multi-output maps by the specs' identities and size (null: not fusable). */
  private readonly mapMultiSources = new Map<string, string | null>();
  /** Pack prologues of `linearGrad` by spec identity (null: the spec needs gpu.js). */
  private readonly prologues = new Map<string, PackPrologue | null>();
  /** Matmul epilogues by spec identity and operand layouts (null: the spec needs gpu.js). */
  private readonly epilogues = new Map<string, UnpackEpilogue | null>();

  /**
   * `spec` over inputs of the output's length `n` as one draw of the backend's own shader into a
   * pooled texture in gpu.js's layout; null when the shapes or the spec need gpu.js's kernel.
   */
  private mapSameShape(
    op: string,
    spec: ElementwiseSpec,
    ins: readonly GpuJsBuffer[],
    n: number,
    params: readonly number[],
  ): GpuJsBuffer | null {
    if (ins.length === 0) return null;
    const [w, h] = textureSizeFor(n);
    const texs: GpuJsTextureInternals[] = [];
    for (const b of ins) {
      if (b.size !== n || b.data === null) return null;
      const t = b.data as unknown as GpuJsTextureInternals;
      if (t.size[0] !== w || t.size[1] !== h) return null;
      texs.push(t);
    }
    const key = `${mapKeyOf(spec)}|${w}x${h}`;
    let src = this.mapSources.get(key);
    if (src === undefined) {
      src = mapSameShapeSource(spec, [w, h]);
      this.mapSources.set(key, src);
    }
    if (src === null) return null;
    const first = texs[0];
    const raw = this.raw();
    const outTex = raw.outputTexture(w, h, first.internalFormat, first.textureFormat);
    let out: Texture | null = null;
    try {
      const inputs: Record<string, WebGLTexture> = {};
      texs.forEach((t, k) => {
        inputs[`x${k}`] = t.texture;
      });
      const floats: Record<string, number> = { [ONE_UNIFORM]: 1, [ZERO_UNIFORM]: 0 };
      params.forEach((p, q) => {
        floats[`p${q}`] = p;
      });
      const prof = this.profiler;
      if (prof !== null) prof.begin(op, !raw.hasProgram(src));
      raw.draw(src, inputs, outTex, w, h, floats);
      if (prof !== null) prof.end();
      out = this.wrapTexture(first, outTex, w, h, n);
    } finally {
      if (out === null) raw.recycle(outTex, w, h, first.internalFormat, first.textureFormat);
    }
    this.directMapCalls++;
    return new GpuJsBuffer(n, out);
  }

  /** A gpu.js texture object (the class of `like`) for a texture in gpu.js's layout holding `n` values. */
  private wrapTexture(
    like: GpuJsTextureInternals,
    tex: WebGLTexture,
    w: number,
    h: number,
    n: number,
  ): Texture {
    const ctx = (this.gpu as unknown as { context: WebGLRenderingContext }).context;
    return new like.constructor({
      texture: tex,
      size: new Int32Array([w, h]),
      dimensions: [n, 1, 1],
      output: [n],
      context: ctx,
      kernel: like.kernel,
      internalFormat: like.internalFormat,
      textureFormat: like.textureFormat,
    });
  }

  /** One of gradkit's own passes, timed as a launch named `op` when a profile runs. */
  private pass(
    op: string,
    source: string,
    inputs: Readonly<Record<string, WebGLTexture>>,
    out: WebGLTexture | readonly WebGLTexture[],
    w: number,
    h: number,
    floats: Readonly<Record<string, number>> = {},
  ): void {
    const prof = this.profiler;
    if (prof !== null) prof.begin(op, !this.raw().hasProgram(source));
    this.raw().draw(source, inputs, out, w, h, floats);
    if (prof !== null) prof.end();
  }

  /**
   * The packed matmul: packs `op(A)` (m x k) and `B` (k x n, transposed by strides) into RGBA
   * textures of four values per texel, multiplies them four outputs per fragment, and unpacks the
   * product into a gpu.js texture (see ./packed-sources.ts), applying `epilogue` there when given.
   */
  private matmulPacked(
    op: string,
    ab: GpuJsBuffer,
    bb: GpuJsBuffer,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
    epilogue: PackedEpilogue | null = null,
  ): GpuJsBuffer {
    const raw = this.raw();
    const at = this.storage(ab) as unknown as GpuJsTextureInternals;
    const bt = this.storage(bb) as unknown as GpuJsTextureInternals;
    const k4 = Math.ceil(k / 4);
    const blocked = raw.multipleTargets && this.blockedMatmul;
    const aRows = blocked ? 4 * Math.ceil(m / 4) : m;
    const made: RawTexture[] = [];
    try {
      const pa = this.packedOperand(
        `pack(${m}x${k}${transA ? ', trans' : ''})`,
        ab,
        packLayout(m, k, transA, [at.size[0], at.size[1]], aRows),
        made,
      );
      const pb = this.packedOperand(
        `pack(${k}x${n}${transB ? ', trans' : ''})`,
        bb,
        packLayout(k, n, transB, [bt.size[0], bt.size[1]], 4 * k4),
        made,
      );
      return this.multiplyPacked(op, pa, pb, m, k, n, at, epilogue);
    } finally {
      for (const t of made) raw.release(t);
    }
  }

  /**
   * The packed product of packed `pa` (`m x k`, as {@link matmulPacked} packs `op(A)`) and `pb`
   * (`k x n`), unpacked into a new buffer of gpu.js's layout (a texture of `like`'s class and
   * format), applying `epilogue` there when given.
   */
  private multiplyPacked(
    op: string,
    pa: RawTexture,
    pb: RawTexture,
    m: number,
    k: number,
    n: number,
    like: GpuJsTextureInternals,
    epilogue: PackedEpilogue | null,
  ): GpuJsBuffer {
    const raw = this.raw();
    const nq = Math.ceil(n / 4);
    const blocked = raw.multipleTargets && this.blockedMatmul;
    const mq = Math.ceil(m / 4);
    const pc: RawTexture[] = [];
    try {
      if (blocked) for (let r = 0; r < 4; r++) pc.push(raw.texture(nq, mq));
      else pc.push(raw.texture(nq, m));
      if (blocked) {
        const src = matmulBlockedSource(m, k, n, this.mode === 'webgl2');
        this.pass(
          op,
          src,
          { A: pa.texture, B: pb.texture },
          pc.map((t) => t.texture),
          nq,
          mq,
        );
      } else
        this.pass(op, matmulPackedSource(m, k, n), { A: pa.texture, B: pb.texture }, pc[0].texture, nq, m);
      const mn = m * n;
      const [w, h] = textureSizeFor(mn);
      const outTex = raw.outputTexture(w, h, like.internalFormat, like.textureFormat);
      let out: Texture | null = null;
      try {
        const name = epilogue ? `unpack(${m}x${n}, ${epilogue.name})` : `unpack(${m}x${n})`;
        const epi = epilogue?.source ?? null;
        if (blocked) {
          const ins = {
            C0: pc[0].texture,
            C1: pc[1].texture,
            C2: pc[2].texture,
            C3: pc[3].texture,
            ...epilogue?.samplers,
          };
          this.pass(name, unpackBlockedSource(m, n, [w, h], epi), ins, outTex, w, h, epilogue?.floats);
        } else {
          const ins = { src: pc[0].texture, ...epilogue?.samplers };
          this.pass(name, unpackSource(m, n, [w, h], epi), ins, outTex, w, h, epilogue?.floats);
        }
        out = this.wrapTexture(like, outTex, w, h, mn);
      } finally {
        if (out === null) raw.recycle(outTex, w, h, like.internalFormat, like.textureFormat);
      }
      this.packedMatmulCalls++;
      return new GpuJsBuffer(mn, out);
    } finally {
      for (const t of pc) raw.release(t);
    }
  }

  /**
   * The packed form of `b` in `layout` (see {@link packSource}): the one `b` holds (with
   * {@link GpuJsBackend.packReuse}), or a new pack pass, whose texture `b` then holds, or, with
   * `packReuse` off, which is pushed on `made` for the caller to release.
   */
  private packedOperand(op: string, b: GpuJsBuffer, layout: PackLayout, made: RawTexture[]): RawTexture {
    const raw = this.raw();
    const key = `${layout.rows}x${layout.cols}|${layout.rowStride},${layout.colStride}|${layout.outRows}`;
    const kept = this.packReuse ? b.packs?.get(key) : undefined;
    if (kept !== undefined) {
      raw.noteReuse();
      return kept;
    }
    const t = raw.texture(Math.ceil(layout.cols / 4), layout.outRows);
    try {
      this.pass(
        op,
        packSource(layout),
        { src: (this.storage(b) as unknown as GpuJsTextureInternals).texture },
        t.texture,
        t.width,
        t.height,
      );
    } catch (e) {
      raw.release(t);
      throw e;
    }
    if (this.packReuse) {
      if (b.packs === null) b.packs = new Map();
      b.packs.set(key, t);
      raw.hold(t);
    } else made.push(t);
    return t;
  }

  private own(op: string, buf: BackendBuffer): GpuJsBuffer {
    if (this.destroyed) throw new BackendError(this.name, `${op}: the backend was destroyed`);
    if (!(buf instanceof GpuJsBuffer)) throw new BackendError(this.name, `${op}: not a gpu.js buffer`);
    if (buf.freed) throw new BackendError(this.name, `${op}: the buffer was freed`);
    return buf;
  }

  private storage(b: GpuJsBuffer): Texture {
    if (b.data === null) throw new BackendError(this.name, 'internal: an empty buffer reached a kernel');
    return b.data;
  }

  /** Window coordinates must stay float32-exact (below 2^23 in magnitude) inside GL kernels. */
  private checkCoords(op: string, plan: WindowPlan): void {
    for (const [lo, hi] of plan.bounds) {
      if (Math.max(Math.abs(lo), Math.abs(hi)) >= FLOAT_EXACT) {
        throw new BackendError(
          this.name,
          `${op}: window coordinates ${lo}..${hi} exceed the float32-exact range 2^23`,
        );
      }
    }
  }

  /**
   * Runs a gather-form scatter kernel over `n` outputs in `chunks` chunks of `chunk` loop
   * positions, then (when `chunks > 1`) sums the chunks in order with the reduction stages.
   */
  private chunked(
    op: string,
    source: string,
    n: number,
    chunks: number,
    chunk: number,
    inputs: readonly GpuJsBuffer[],
  ): GpuJsBuffer {
    this.checkSize(op, n * chunks);
    const out = this.run(
      op,
      source,
      n * chunks,
      inputs.map((b) => b.size),
      inputs.map((b) => this.storage(b)),
      chunk,
    );
    if (chunks === 1) return out;
    try {
      return this.reduceStages(
        'sum',
        { x: out, keptDims: [n], keptStrides: [chunks], redDims: [chunks], redStrides: [1] },
        n,
        chunks,
      );
    } finally {
      this.free(out);
    }
  }

  /**
   * {@link GpuJsBackend.tileAbove}, after checking it and {@link GpuJsBackend.tileElements}
   * (integers, `1 <= tileElements <= min(tileAbove, 2^22)`, `tileAbove <= maxKernelElements`).
   */
  private tiling(op: string): number {
    const above = this.tileAbove;
    const tile = this.tileElements;
    const max = this.kernelLimit;
    if (!Number.isInteger(above) || above < 1 || above > max)
      throw new BackendError(this.name, `${op}: tileAbove must be an integer in [1, ${max}], got ${above}`);
    if (!Number.isInteger(tile) || tile < 1 || tile > Math.min(above, TILE_ELEMENTS)) {
      throw new BackendError(
        this.name,
        `${op}: tileElements must be an integer in [1, min(tileAbove, 2^22) = ${Math.min(above, TILE_ELEMENTS)}], got ${tile}`,
      );
    }
    return above;
  }

  /** Throws a {@link BackendError} for a tiled array above 2^31 - 1 elements. */
  private checkTiled(op: string, n: number): void {
    if (n > MAX_TILED_ELEMENTS) {
      throw new BackendError(
        this.name,
        `${op}: ${n} elements exceed the largest tiled array on gl (2^31 - 1 elements)`,
      );
    }
  }

  /** A tiled buffer of `n` elements whose tile `[s, e)` is `make(s, e)`; frees what it made on error. */
  private tiled(n: number, make: (s: number, e: number) => GpuJsBuffer): GpuJsBuffer {
    const tiles: GpuJsBuffer[] = [];
    try {
      for (const [s, e] of tileRanges(n, this.tileElements)) tiles.push(make(s, e));
    } catch (e) {
      for (const t of tiles) this.free(t);
      throw e;
    }
    return new GpuJsBuffer(n, null, tiles);
  }

  /**
   * `len` consecutive elements of `b` from `start` in one texture: tiled arrays copied from the
   * (at most two) tiles they lie in; `len` at most `tileElements`. An untiled buffer is returned
   * as is when the range is all of it (the caller must not free it then: see `owned`).
   */
  private sliceOf(
    op: string,
    b: GpuJsBuffer,
    start: number,
    len: number,
  ): { buf: GpuJsBuffer; owned: boolean } {
    if (b.tiles === null) {
      if (start === 0 && len === b.size) return { buf: b, owned: false };
      const src = sliceSource(false);
      return { buf: this.run(`${op} slice`, src, len, [b.size], [this.storage(b), start], 0), owned: true };
    }
    const tile = b.tiles[0].size;
    // a copy spans at most two tiles: never more than one tile's elements
    if (len > tile) {
      throw new BackendError(
        this.name,
        `${op}: a piece of ${len} elements of an array tiled by ${tile} elements (tileElements is now ${this.tileElements}: it changed since the array was made)`,
      );
    }
    const t0 = Math.floor(start / tile);
    const s0 = start - t0 * tile;
    const first = b.tiles[t0];
    if (s0 + len <= first.size) {
      const src = sliceSource(false);
      return {
        buf: this.run(`${op} slice`, src, len, [first.size], [this.storage(first), s0], 0),
        owned: true,
      };
    }
    const second = b.tiles[t0 + 1];
    const split = first.size - s0;
    const src = sliceSource(true);
    return {
      buf: this.run(
        `${op} slice`,
        src,
        len,
        [first.size, second.size],
        [this.storage(first), this.storage(second), s0, split],
        0,
      ),
      owned: true,
    };
  }

  /**
   * Runs passes that each build on the result of the one before: `body` calls `step(pass)` once
   * per pass, and `pass(prev)` returns the next result from the result so far (`null` before the
   * first pass). A replaced result is freed as soon as the next exists; on an error the result so
   * far is freed too. Returns the last result, or null when no pass ran.
   */
  private passes(
    body: (step: (pass: (prev: GpuJsBuffer | null) => GpuJsBuffer) => void) => void,
  ): GpuJsBuffer | null {
    const held: { acc: GpuJsBuffer | null } = { acc: null };
    try {
      body((pass) => {
        const next = pass(held.acc);
        if (held.acc) this.free(held.acc);
        held.acc = next;
      });
      const out = held.acc;
      held.acc = null;
      return out;
    } finally {
      if (held.acc) this.free(held.acc);
    }
  }

  /** `next` appended to `prev` in one new texture (`next` freed), or `next` itself when `prev` is null. */
  private appended(op: string, prev: GpuJsBuffer | null, next: GpuJsBuffer): GpuJsBuffer {
    if (prev === null) return next;
    try {
      return this.run(
        `${op} concat`,
        sliceSource(true),
        prev.size + next.size,
        [prev.size, next.size],
        [this.storage(prev), this.storage(next), 0, prev.size],
        0,
      );
    } finally {
      this.free(next);
    }
  }

  /**
   * `n` elements `out[f] = x[f + shift]` where `0 <= f + shift < x.size`, else `pad`: tiled when
   * `n` is above {@link GpuJsBackend.tileAbove}, else one texture. Every piece of at most a tile
   * is copied from the at most two tiles of `x` it reads (see `sliceOf`), filled with `pad`, or
   * both (the copied part placed, the rest `pad`); a single texture concatenates its pieces.
   */
  private shiftCopy(op: string, x: GpuJsBuffer, n: number, shift: number, pad: number): GpuJsBuffer {
    const tile = this.tileElements;
    const piece = (s: number, e: number): GpuJsBuffer => {
      const a = Math.max(s + shift, 0);
      const b = Math.min(e + shift, x.size);
      if (b <= a) return this.run(`${op} fill`, fillSource(pad), e - s, [], [pad], 0);
      const sub = this.sliceOf(op, x, a, b - a);
      if (a === s + shift && b === e + shift) {
        if (sub.owned) return sub.buf;
        return this.run(`${op} slice`, sliceSource(false), e - s, [x.size], [this.storage(x), a], 0);
      }
      try {
        const lo = a - (s + shift);
        return this.run(
          `${op} place`,
          placeSource(pad),
          e - s,
          [sub.buf.size],
          [this.storage(sub.buf), lo, lo + (b - a), pad],
          0,
        );
      } finally {
        if (sub.owned) this.free(sub.buf);
      }
    };
    if (n > this.tiling(op)) {
      this.checkTiled(op, n);
      return this.tiled(n, piece);
    }
    const out = this.passes((step) => {
      for (let p0 = 0; p0 < n; p0 += tile)
        step((prev) => this.appended(op, prev, piece(p0, Math.min(n, p0 + tile))));
    });
    return out!;
  }

  /**
   * A map whose output is above {@link GpuJsBackend.tileAbove}: one kernel per output tile
   * (./tiles.ts); inputs of the output's length that are tiled are read from their own tile,
   * every other input through its broadcast plan from one texture.
   */
  private mapTiled(
    op: string,
    spec: ElementwiseSpec,
    ins: readonly GpuJsBuffer[],
    inputShapes: readonly Shape[],
    outShape: Shape,
    params: readonly number[],
  ): GpuJsBuffer {
    const n = sizeOf(outShape);
    this.checkTiled(op, n);
    const tile = this.tileElements;
    const aligned = ins.map((b) => b.tiles !== null && b.size === n);
    ins.forEach((b, k) => {
      if (!aligned[k] && b.tiles !== null) {
        throw new BackendError(
          this.name,
          `${op}: input ${k} of ${b.size} elements is tiled but broadcast to ${n} elements; on ` +
            `${this.mode} a broadcast input must fit one kernel (tileAbove = ${this.tileAbove} elements)`,
        );
      }
      if (aligned[k] && b.tiles![0].size !== tile) {
        throw new BackendError(
          this.name,
          `${op}: input ${k} was tiled by ${b.tiles![0].size} elements, now ${tile}: tileElements changed`,
        );
      }
    });
    const plan = planBroadcast(inputShapes, outShape);
    const problem = tiledMapProblem(plan, aligned, tile);
    if (problem !== null) throw new BackendError(this.name, `${op}: cannot run in tiles: ${problem}`);
    const src = tiledMapSource(spec, plan, aligned, tile);
    return this.tiled(n, (s, e) => {
      const t = s / tile;
      const args: KernelArg[] = ins.map((b, k) => this.storage(aligned[k] ? b.tiles![t] : b));
      const sizes = ins.map((b, k) => (aligned[k] ? b.tiles![t].size : b.size));
      return this.run(
        op,
        src,
        e - s,
        sizes,
        [...args, ...params, ...tiledMapUniforms(plan, aligned, s, tile)],
        0,
      );
    });
  }

  /**
   * A reduction of a tiled array: along its first axis it is cut into chunks of whole rows of at
   * most `tileElements` (copied into one texture each, see `sliceOf`), each chunk is reduced as
   * an untiled array, and the partial results are combined: element-wise (sum: add, prod: mul,
   * max/min: NaN-propagating maximum/minimum, logsumexp: the logsumexp of two) when the first axis
   * is reduced, else placed one after the other; argmax/argmin along the first axis combine
   * (extreme, index) pairs (see `argTiled`). Sums add up per chunk first, so they differ from
   * the untiled order by float32 rounding.
   */
  private reduceTiled(
    name: string,
    op: ReduceOp,
    xb: GpuJsBuffer,
    fullShape: Shape,
    fullAxes: readonly number[],
  ): GpuJsBuffer {
    const tile = this.tileElements;
    const limit = this.tiling(name);
    // while a first-axis row is longer than a tile, merge the first two axes when both are reduced
    // or both kept (the same reduction, the same output order): a full sum runs on rows of one
    let shape: Shape = fullShape;
    let axes: readonly number[] = fullAxes;
    while (shape.length > 1 && sizeOf(shape.slice(1)) > tile && axes.includes(0) === axes.includes(1)) {
      shape = [shape[0] * shape[1], ...shape.slice(2)];
      axes = axes.filter((a) => a !== 1).map((a) => (a > 1 ? a - 1 : a));
    }
    const n = planReduce(shape, axes).outSize;
    const refuse = (why: string): never => {
      throw new BackendError(
        this.name,
        `${name} of ${formatShape(fullShape)} over axes [${fullAxes.join(',')}], stored in ${xb.tiles!.length} tiles: ${why}`,
      );
    };
    if (n > limit)
      refuse(`its output of ${n} elements exceeds tileAbove = ${limit}: not tiled on ${this.mode}`);
    const rowSize = sizeOf(shape.slice(1));
    if (rowSize > tile) refuse(`a row of axis 0 holds ${rowSize} elements, more than tileElements = ${tile}`);
    const first = axes.includes(0);
    if (first && (op === 'argmax' || op === 'argmin')) return this.argTiled(name, op, xb, shape);
    const per = Math.max(1, Math.floor(tile / rowSize));
    const rows = shape[0];
    const out = this.passes((step) => {
      for (let r0 = 0; r0 < rows; r0 += per) {
        const r1 = Math.min(rows, r0 + per);
        step((prev) => {
          const sub = this.sliceOf(name, xb, r0 * rowSize, (r1 - r0) * rowSize);
          let part: GpuJsBuffer;
          try {
            part = this.reduce(op, sub.buf, [r1 - r0, ...shape.slice(1)], axes) as GpuJsBuffer;
          } finally {
            if (sub.owned) this.free(sub.buf);
          }
          if (prev === null || !first) return this.appended(name, prev, part);
          try {
            return this.map(
              COMBINE[op as keyof typeof COMBINE],
              [prev, part],
              [[n], [n]],
              [n],
              [],
            ) as GpuJsBuffer;
          } finally {
            this.free(part);
          }
        });
      }
    });
    return out!;
  }

  /**
   * argmax/argmin along the first axis of a tiled array: per chunk of whole rows (a power of two
   * of them, so that a chunk's first row and every index are float32-exact where the CPU
   * backend's float32 result is), its extreme and local index; the chunks' pairs combined in
   * order (see {@link ARG_COMBINE}), so ties and NaN resolve as on the CPU backend.
   */
  private argTiled(name: string, op: 'argmax' | 'argmin', xb: GpuJsBuffer, shape: Shape): GpuJsBuffer {
    const rowSize = sizeOf(shape.slice(1));
    const tile = Math.min(this.tileElements, xb.tiles![0].size);
    const per = 2 ** Math.floor(Math.log2(Math.max(1, Math.floor(tile / rowSize))));
    const rows = shape[0];
    const n = rowSize;
    const spec = ARG_COMBINE[op];
    let val: GpuJsBuffer | null = null;
    let idx: GpuJsBuffer | null = null;
    const held: GpuJsBuffer[] = [];
    try {
      for (let r0 = 0; r0 < rows; r0 += per) {
        const r1 = Math.min(rows, r0 + per);
        const sub = this.sliceOf(name, xb, r0 * rowSize, (r1 - r0) * rowSize);
        let v: GpuJsBuffer;
        let i: GpuJsBuffer;
        try {
          const chunk = [r1 - r0, ...shape.slice(1)];
          v = this.reduce(op === 'argmax' ? 'max' : 'min', sub.buf, chunk, [0]) as GpuJsBuffer;
          held.push(v);
          i = this.reduce(op, sub.buf, chunk, [0]) as GpuJsBuffer;
          held.push(i);
        } finally {
          if (sub.owned) this.free(sub.buf);
        }
        if (val === null || idx === null) {
          val = v;
          idx = i;
          held.length = 0;
          continue;
        }
        const ins = [val, idx, v, i];
        const shapes = ins.map(() => [n]);
        const nv = this.map(spec.value, ins, shapes, [n], [r0]) as GpuJsBuffer;
        held.push(nv);
        const ni = this.map(spec.index, ins, shapes, [n], [r0]) as GpuJsBuffer;
        for (const b of [val, idx, v, i]) this.free(b);
        held.length = 0;
        val = nv;
        idx = ni;
      }
      const out = idx!;
      idx = null;
      return out;
    } finally {
      for (const b of held) this.free(b);
      if (val) this.free(val);
      if (idx) this.free(idx);
    }
  }

  /**
   * A scatter-add into an output above {@link GpuJsBackend.tileAbove}, or of tiled updates: every
   * output tile (or the whole output) is one pass per range of at most `chunk` indices (as the
   * untiled kernel's chunks, cut where a piece of the updates ends), each adding its range's
   * updates for the tile's elements to the previous pass's sums (./tiles.ts). Tiled updates
   * (`[pre, count, post]`) are cut into pieces of whole rows of `post` elements, and a pass runs
   * for every piece holding rows the output piece can read; tiled indices are read tile by tile.
   */
  private scatterAddTiled(
    op: string,
    ub: GpuJsBuffer,
    shape: Shape,
    ib: GpuJsBuffer,
    count: number,
    axis: number,
  ): GpuJsBuffer {
    const n = sizeOf(shape);
    this.checkTiled(op, n);
    const outTiled = n > this.tiling(op);
    const maxLen = outTiled ? this.tileElements : n;
    const dims: [number, number, number] = [
      sizeOf(shape.slice(0, axis)),
      shape[axis],
      sizeOf(shape.slice(axis + 1)),
    ];
    const [pre, , post] = dims;
    const refuse = (why: string): never => {
      throw new BackendError(this.name, `${op}: cannot run in tiles on ${this.mode}: ${why}`);
    };
    const problem = tiledScatterProblem(dims, maxLen);
    if (problem !== null) refuse(problem);
    if (count === 0 || ub.size === 0) {
      const zeros = (s: number, e: number) => this.run(`${op} fill`, fillSource(0), e - s, [], [0], 0);
      return outTiled ? this.tiled(n, zeros) : zeros(0, n);
    }
    // pieces of the updates: rows [r0, r1) of [pre count, post] in one texture
    const rowsAll = pre * count;
    const pieces: { r0: number; r1: number; buf: GpuJsBuffer; owned: boolean }[] = [];
    try {
      if (ub.tiles === null) pieces.push({ r0: 0, r1: rowsAll, buf: ub, owned: false });
      else {
        const tile = ub.tiles[0].size;
        if (post > tile) refuse(`an update row of ${post} elements exceeds the tiles of ${tile} elements`);
        const per = Math.floor(tile / post);
        for (let r0 = 0; r0 < rowsAll; r0 += per) {
          const r1 = Math.min(rowsAll, r0 + per);
          const s = this.sliceOf(op, ub, r0 * post, (r1 - r0) * post);
          pieces.push({ r0, r1, buf: s.buf, owned: s.owned });
        }
      }
      // index ranges: the untiled kernel's chunks, cut where a tile of the indices ends
      const { chunk } = stageSplit(count);
      const ixTile = ib.tiles === null ? count : ib.tiles[0].size;
      const ranges: [number, number][] = [];
      for (let c0 = 0; c0 < count; c0 += chunk) {
        const c1 = Math.min(count, c0 + chunk);
        for (let j0 = c0; j0 < c1; j0 = Math.min(c1, (Math.floor(j0 / ixTile) + 1) * ixTile))
          ranges.push([j0, Math.min(c1, (Math.floor(j0 / ixTile) + 1) * ixTile)]);
      }
      const block = dims[1] * post;
      const runPiece = (s: number, e: number): GpuJsBuffer => {
        const uniforms = tiledScatterUniforms(dims, s, maxLen);
        // the update rows this output piece can read: k0 in [ka, kb]
        const ka = Math.floor(s / block);
        const kb = Math.floor((e - 1) / block);
        const out = this.passes((step) => {
          for (const [j0, j1] of ranges) {
            const t = Math.floor(j0 / ixTile);
            const ix = ib.tiles === null ? ib : ib.tiles[t];
            for (const p of pieces) {
              if (p.r1 <= ka * count + j0 || p.r0 > kb * count + j1 - 1) continue;
              step((prev) => {
                const src = tiledScatterSource(dims, count, chunk, maxLen, prev !== null);
                const K0 = Math.floor(p.r0 / count);
                const args: KernelArg[] = [
                  ...(prev ? [this.storage(prev)] : []),
                  this.storage(p.buf),
                  this.storage(ix),
                  j0,
                  j0 - t * ixTile,
                  j1 - j0,
                  K0,
                  p.r0 - K0 * count,
                  p.r1 - p.r0,
                  ...uniforms,
                ];
                const sizes = [...(prev ? [prev.size] : []), p.buf.size, ix.size];
                return this.run(op, src, e - s, sizes, args, chunk);
              });
            }
          }
        });
        return out ?? this.run(`${op} fill`, fillSource(0), e - s, [], [0], 0);
      };
      return outTiled ? this.tiled(n, runPiece) : runPiece(0, n);
    } finally {
      for (const p of pieces) if (p.owned) this.free(p.buf);
    }
  }

  /**
   * The 2-D transpose `[cols, rows]` of a tiled `[rows, cols]` array: the input cut into pieces of
   * whole rows of at most `tileElements` (copied into one texture each), and every output tile
   * one pass per piece, each selecting its rows' values over the previous pass's result.
   */
  private transposeTiled(op: string, xb: GpuJsBuffer, rows: number, cols: number): GpuJsBuffer {
    const tile = this.tileElements;
    const n = rows * cols;
    if (rows > tile || cols > tile) {
      throw new BackendError(
        this.name,
        `${op}: a tiled [${rows}, ${cols}] transpose needs both sides at most tileElements = ${tile}: not tiled on ${this.mode}`,
      );
    }
    const per = Math.floor(tile / cols);
    const pieces: { lo: number; hi: number; buf: GpuJsBuffer; owned: boolean }[] = [];
    try {
      for (let lo = 0; lo < rows; lo += per) {
        const hi = Math.min(rows, lo + per);
        pieces.push({ lo, hi, ...this.sliceOf(op, xb, lo * cols, (hi - lo) * cols) });
      }
      const runTile = (s: number, e: number): GpuJsBuffer => {
        const q = Math.floor(s / rows);
        const r = s - q * rows;
        const out = this.passes((step) => {
          for (const p of pieces) {
            step((prev) => {
              const src = tiledTransposeSource(rows, cols, prev !== null);
              const args: KernelArg[] = [
                ...(prev ? [this.storage(prev)] : []),
                this.storage(p.buf),
                q,
                r,
                p.lo,
                p.hi,
              ];
              const sizes = [...(prev ? [prev.size] : []), p.buf.size];
              return this.run(op, src, e - s, sizes, args, 0);
            });
          }
        });
        return out!;
      };
      return n > this.tiling(op) ? this.tiled(n, runTile) : runTile(0, n);
    } finally {
      for (const p of pieces) if (p.owned) this.free(p.buf);
    }
  }

  /**
   * The pieces of whole rows `[lo, hi)` of `src` (`rows` rows of `rowLen` elements) that a tiled
   * read walks: as many rows as one tile of `tile` elements holds when `src` is tiled, else one
   * row each. `pieceBuf` makes a piece's buffer on first use (the tile itself when the piece is
   * exactly one, else a slice); `release` frees the slices it made.
   */
  private rowPieces(
    op: string,
    src: GpuJsBuffer,
    rows: number,
    rowLen: number,
    tile: number,
  ): {
    pieces: { lo: number; hi: number; buf: GpuJsBuffer | null; owned: boolean }[];
    pieceBuf: (p: { lo: number; hi: number; buf: GpuJsBuffer | null; owned: boolean }) => GpuJsBuffer;
    release: () => void;
  } {
    const per = src.tiles !== null ? Math.floor(tile / rowLen) : 1;
    const pieces: { lo: number; hi: number; buf: GpuJsBuffer | null; owned: boolean }[] = [];
    for (let lo = 0; lo < rows; lo += per)
      pieces.push({ lo, hi: Math.min(rows, lo + per), buf: null, owned: false });
    const pieceBuf = (p: (typeof pieces)[number]): GpuJsBuffer => {
      if (p.buf !== null) return p.buf;
      const start = p.lo * rowLen;
      const len = (p.hi - p.lo) * rowLen;
      const t = start / tile;
      if (src.tiles !== null && Number.isInteger(t) && src.tiles[t].size === len) p.buf = src.tiles[t];
      else {
        const s = this.sliceOf(op, src, start, len);
        p.buf = s.buf;
        p.owned = s.owned;
      }
      return p.buf;
    };
    const release = (): void => {
      for (const p of pieces) if (p.owned && p.buf) this.free(p.buf);
    };
    return { pieces, pieceBuf, release };
  }

  /**
   * A read by coordinates (a permutation, a window, a gather; see {@link TiledRead}) from a tiled
   * input or into an output above {@link GpuJsBackend.tileAbove}: the input is cut into pieces of
   * whole rows over its leading axes (a tile itself where a piece is one, else copied into one
   * texture, see `sliceOf`; an untiled input is one piece), and every output tile (or the whole
   * output) is one pass per piece it can read, each selecting its values over the previous pass's
   * result (./tiles.ts). `coordBound` bounds the magnitude of every input coordinate.
   */
  private readTiled(
    op: string,
    xb: GpuJsBuffer,
    ixb: GpuJsBuffer | null,
    read: TiledRead,
    pad: number,
    coordBound: number,
  ): GpuJsBuffer {
    const n = sizeOf(read.outDims);
    this.checkTiled(op, n);
    const outTiled = n > this.tiling(op);
    const maxLen = outTiled ? this.tileElements : n;
    const tile = xb.tiles !== null ? xb.tiles[0].size : this.tileElements;
    const sp = readSplit(read, xb.tiles !== null, tile);
    // the index array's tiles (or the whole of it): [lo, lo + buf.size)
    const ixParts: { lo: number; buf: GpuJsBuffer }[] = [];
    if (ixb !== null && ixb.tiles !== null) {
      let at = 0;
      for (const t of ixb.tiles) {
        ixParts.push({ lo: at, buf: t });
        at += t.size;
      }
    } else if (ixb !== null) ixParts.push({ lo: 0, buf: ixb });
    const problem = tiledReadProblem(read, sp, maxLen, coordBound);
    if (problem !== null)
      throw new BackendError(this.name, `${op}: cannot run in tiles on ${this.mode}: ${problem}`);
    const { pieces, pieceBuf, release } = this.rowPieces(op, xb, sp.rows, sp.rowLen, tile);
    try {
      const runPiece = (s: number, e: number): GpuJsBuffer => {
        const rows = tiledReadRows(read, sp.split, s, e);
        const uniforms = tiledReadUniforms(read, s, maxLen);
        // the tiles of the index array this output piece reads (one null for other reads)
        const [j0, j1] = ixb !== null ? tiledReadIndexRange(read, s, e) : [0, 0];
        const ixs = ixb === null ? [null] : ixParts.filter((q) => q.lo <= j1 && q.lo + q.buf.size > j0);
        const out = this.passes((step) => {
          for (const ix of ixs) {
            for (const p of pieces) {
              if (rows === null || p.hi <= rows[0] || p.lo > rows[1]) continue;
              step((prev) => {
                const x = pieceBuf(p);
                const src = tiledReadSource(read, sp.split, maxLen, prev !== null, pad);
                const args: KernelArg[] = [
                  ...(prev ? [this.storage(prev)] : []),
                  this.storage(x),
                  ...(ix ? [this.storage(ix.buf), ix.lo, ix.buf.size] : []),
                  p.lo,
                  p.hi,
                  pad,
                  ...uniforms,
                ];
                const sizes = [...(prev ? [prev.size] : []), x.size, ...(ix ? [ix.buf.size] : [])];
                return this.run(op, src, e - s, sizes, args, 0);
              });
            }
          }
        });
        return out ?? this.run(`${op} fill`, fillSource(pad), e - s, [], [pad], 0);
      };
      return outTiled ? this.tiled(n, runPiece) : runPiece(0, n);
    } finally {
      release();
    }
  }

  /**
   * The scatter-add of a window (its adjoint) from a tiled `dy` or into a result above
   * {@link GpuJsBackend.tileAbove}: `dy` is cut into pieces of whole rows over its leading axes (a
   * tile itself where a piece is one, else copied; untiled, one piece), and every result tile (or
   * the whole result) is one pass per chunk of window positions (as the untiled kernel's chunks)
   * and piece it can read, each adding to the previous pass's sums (./tiles.ts).
   */
  private windowScatterTiled(op: string, db: GpuJsBuffer, plan: WindowPlan): GpuJsBuffer {
    const n = sizeOf(plan.inShape);
    this.checkTiled(op, n);
    const outTiled = n > this.tiling(op);
    const maxLen = outTiled ? this.tileElements : n;
    const tile = db.tiles !== null ? db.tiles[0].size : this.tileElements;
    const sp = rowSplit(plan.outShape, db.tiles !== null, tile);
    const gp = windowGatherPlan(plan);
    const problem = tiledWindowScatterProblem(plan, gp, sp, maxLen);
    if (problem !== null)
      throw new BackendError(this.name, `${op}: cannot run in tiles on ${this.mode}: ${problem}`);
    const { chunks, chunk } = stageSplit(gp.loop);
    const { pieces, pieceBuf, release } = this.rowPieces(op, db, sp.rows, sp.rowLen, tile);
    try {
      const runPiece = (s: number, e: number): GpuJsBuffer => {
        const rows = tiledWindowScatterRows(plan, gp, sp.split, s, e);
        const uniforms = tiledWindowScatterUniforms(plan, s, maxLen);
        const out = this.passes((step) => {
          for (let c = 0; c < chunks; c++) {
            const t0 = c * chunk;
            const len = Math.min(chunk, gp.loop - t0);
            for (const p of pieces) {
              if (rows === null || p.hi <= rows[0] || p.lo > rows[1]) continue;
              step((prev) => {
                const dy = pieceBuf(p);
                const src = tiledWindowScatterSource(plan, gp, sp.split, chunk, maxLen, prev !== null);
                const args: KernelArg[] = [
                  ...(prev ? [this.storage(prev)] : []),
                  this.storage(dy),
                  t0,
                  len,
                  p.lo,
                  p.hi,
                  ...uniforms,
                ];
                const sizes = [...(prev ? [prev.size] : []), dy.size];
                return this.run(op, src, e - s, sizes, args, gp.loop === 1 ? 0 : chunk);
              });
            }
          }
        });
        return out ?? this.run(`${op} fill`, fillSource(0), e - s, [], [0], 0);
      };
      return outTiled ? this.tiled(n, runPiece) : runPiece(0, n);
    } finally {
      release();
    }
  }

  /**
   * A matmul with a tiled operand or an output above {@link GpuJsBackend.tileAbove}: each operand
   * is cut into pieces of whole stored rows (a tiled operand's rows copied into one texture per
   * piece of at most `tileElements`; an untiled operand is one piece), and every output tile sums
   * one pass per pair of pieces and inner range of at most `MATMUL_MAX_K` (./tiles.ts).
   */
  private matmulTiled(
    op: string,
    ab: GpuJsBuffer,
    bb: GpuJsBuffer,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
  ): GpuJsBuffer {
    const mn = m * n;
    this.checkTiled(op, mn);
    const above = this.tileAbove;
    const tile = this.tileElements;
    if (k === 0) return this.upload(new Float32Array(mn)) as GpuJsBuffer;
    // the kernels form row indices up to m in float32
    if (m >= FLOAT_EXACT) {
      throw new BackendError(
        this.name,
        `${op}: ${m} output rows exceed the float32-exact range 2^23: not tiled on ${this.mode}`,
      );
    }
    const outTiled = mn > above;
    if (outTiled && n > tile) {
      throw new BackendError(
        this.name,
        `${op}: an output row of ${n} elements exceeds tileElements = ${tile}: not tiled on ${this.mode}`,
      );
    }
    // pieces: [lo, hi) of the operand's stored rows, and the texture holding them
    interface Piece {
      lo: number;
      hi: number;
      buf: GpuJsBuffer;
      owned: boolean;
    }
    const pieces: Piece[] = [];
    const cut = (b: GpuJsBuffer, rows: number, rowLen: number, what: string): Piece[] => {
      if (b.tiles === null) return [{ lo: 0, hi: rows, buf: b, owned: false }];
      if (rowLen > tile) {
        throw new BackendError(
          this.name,
          `${op}: ${what} is tiled and one of its stored rows has ${rowLen} elements, more than ` +
            `tileElements = ${tile}: not tiled on ${this.mode}`,
        );
      }
      const per = Math.floor(tile / rowLen);
      const out: Piece[] = [];
      for (let lo = 0; lo < rows; lo += per) {
        const hi = Math.min(rows, lo + per);
        const s = this.sliceOf(op, b, lo * rowLen, (hi - lo) * rowLen);
        const p = { lo, hi, buf: s.buf, owned: s.owned };
        out.push(p);
        pieces.push(p);
      }
      return out;
    };
    try {
      // A stored m x k (rows are output rows i) or k x m (rows are inner positions p);
      // B stored k x n (rows are p) or n x k (rows are output columns j)
      const aPieces = transA ? cut(ab, k, m, 'A') : cut(ab, m, k, 'A');
      const bPieces = transB ? cut(bb, n, k, 'B') : cut(bb, k, n, 'B');
      const aView: MatmulView = transA ? { outer: 1, inner: m } : { outer: k, inner: 1 };
      const bView: MatmulView = transB ? { outer: k, inner: 1 } : { outer: 1, inner: n };
      interface Pass {
        a: GpuJsBuffer;
        b: GpuJsBuffer;
        i0: number;
        i1: number;
        j0: number;
        j1: number;
        p0: number;
        len: number;
        aBase: number;
        bBase: number;
      }
      const passes: Pass[] = [];
      for (const pa of aPieces) {
        for (const pb of bPieces) {
          const [pLoA, pHiA] = transA ? [pa.lo, pa.hi] : [0, k];
          const [pLoB, pHiB] = transB ? [0, k] : [pb.lo, pb.hi];
          const pLo = Math.max(pLoA, pLoB);
          const pHi = Math.min(pHiA, pHiB);
          const [i0, i1] = transA ? [0, m] : [pa.lo, pa.hi];
          const [j0, j1] = transB ? [pb.lo, pb.hi] : [0, n];
          for (let p0 = pLo; p0 < pHi; p0 += MATMUL_MAX_K) {
            const len = Math.min(MATMUL_MAX_K, pHi - p0);
            passes.push({
              a: pa.buf,
              b: pb.buf,
              i0,
              i1,
              j0,
              j1,
              p0,
              len,
              aBase: (p0 - pLoA) * aView.inner,
              bBase: (p0 - pLoB) * bView.inner,
            });
          }
        }
      }
      const runTile = (s: number, e: number): GpuJsBuffer => {
        const q = Math.floor(s / n);
        const r = s - q * n;
        const rowLo = q;
        const rowHi = Math.floor((e - 1) / n) + 1;
        const out = this.passes((step) => {
          for (const p of passes) {
            if (p.i1 <= rowLo || p.i0 >= rowHi) continue;
            step((prev) => {
              const src = tiledMatmulSource(n, p.len, aView, bView, prev !== null);
              const sizes = [...(prev ? [prev.size] : []), p.a.size, p.b.size];
              const args: KernelArg[] = [
                ...(prev ? [this.storage(prev)] : []),
                this.storage(p.a),
                this.storage(p.b),
                q,
                r,
                p.i0,
                p.i1,
                p.j0,
                p.j1,
                p.aBase,
                p.bBase,
              ];
              return this.run(op, src, e - s, sizes, args, Math.floor(p.len / 4));
            });
          }
        });
        if (out === null)
          throw new BackendError(this.name, `internal: ${op}: no pass covers output ${s}..${e}`);
        return out;
      };
      return outTiled ? this.tiled(mn, runTile) : runTile(0, mn);
    } finally {
      for (const p of pieces) if (p.owned) this.free(p.buf);
    }
  }

  /** The most elements one kernel takes ({@link BackendInfo.maxKernelElements}). */
  private get kernelLimit(): number {
    return this.info.maxKernelElements ?? this.info.maxElements;
  }

  /** Throws a {@link BackendError} when an input or output exceeds {@link BackendInfo.maxKernelElements}. */
  private checkSize(op: string, out: number, ...inputs: number[]): void {
    const max = this.kernelLimit;
    for (const [what, n] of [['output', out] as const, ...inputs.map((s) => ['input', s] as const)]) {
      if (n > max) {
        throw new BackendError(
          this.name,
          `${op}: ${what} of ${n} elements exceeds the ${this.mode} limit of maxKernelElements = ${max} ` +
            '(float32 index arithmetic is exact below 2^23, textures hold maxTextureSize^2)',
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
    if (!first && this.texturePool) this.reuseOutput(k);
    // gpu.js skips uploading a scalar argument that === the value it uploaded last, and -0 === 0:
    // with a zero among the arguments, forget those values so the sign of the zero is uploaded
    if (!first && args.some((a) => a === 0)) {
      const inner = k.kernel as unknown as { uniform1fCache?: Record<string, number> } | undefined;
      if (inner?.uniform1fCache) inner.uniform1fCache = {};
    }
    const prof = this.profiler;
    if (prof !== null) prof.begin(op, first);
    let out: unknown;
    try {
      out = k(...args);
      if (prof !== null) prof.end();
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
    if (out instanceof Float32Array || out === null || typeof out !== 'object') {
      throw new BackendError(this.name, `${op}: gpu.js returned ${typeof out} instead of a texture`);
    }
    return new GpuJsBuffer(n, out as Texture);
  }

  /**
   * When kernel `k`'s output texture is still referenced by an earlier result (gpu.js would
   * allocate a new one for this run), gives it a pooled texture of the same size and format instead.
   */
  private reuseOutput(k: GpuKernel): void {
    const inner = k.kernel as unknown as
      | {
          texture?: GpuJsTextureInternals & { texture: WebGLTexture & { _refs?: number } };
          _textureSwitched?: boolean;
        }
      | undefined;
    const out = inner?.texture;
    if (!out || (out.texture._refs ?? 0) <= 1) return;
    const t = this.raw().pooledOutput(out.size[0], out.size[1], out.internalFormat, out.textureFormat);
    if (t === null) return;
    out.texture._refs = (out.texture._refs ?? 1) - 1;
    (t as { _refs?: number })._refs = 1;
    (out as unknown as { texture: WebGLTexture }).texture = t;
    inner!._textureSwitched = true;
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
        const { chunks, chunk } = stageSplit(count);
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

  /** Runs one reduction stage (see {@link stageSource}) on `input`, with candidate indices `idx`. */
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
    this.checkSize(name, n * chunks);
    const src = stageSource(op, input, idx !== null, count, chunks, chunk, last);
    const values: KernelArg[] = [this.storage(input.x)];
    const sizes = [input.x.size];
    for (const b of [idx, op === 'sumexp' ? extra! : null]) {
      if (!b) continue;
      values.push(this.storage(b));
      sizes.push(b.size);
    }
    return this.run(name, src, n * chunks, sizes, values, chunk);
  }

  /** logsumexp = m + log(sum exp(x - m)) with m the max (returned as is when not finite). */
  private logsumexp(input: StageInput, n: number, r: number): GpuJsBuffer {
    const m = this.reduceStages('max', input, n, r);
    let partial: GpuJsBuffer | null = null;
    try {
      const { chunks, chunk } = stageSplit(r);
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
      return this.run(
        'reduce(logsumexp)',
        LOGSUMEXP_FINISH_SOURCE,
        n,
        [n, n],
        [this.storage(m), this.storage(partial)],
        0,
      );
    } finally {
      this.free(m);
      if (partial) this.free(partial);
    }
  }
}
