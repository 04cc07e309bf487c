import type {
  BackendBuffer,
  BackendInfo,
  BackendName,
  ElementwiseSpec,
  KernelBackend,
  ReduceOp,
} from '../backend.js';
import {
  INPUT_NAMES,
  isLeadingSum,
  mapKey,
  offsetTable,
  planBroadcast,
  planReduce,
  reduceBlock,
} from '../codegen.js';
import type { Shape } from '../shape.js';
import { sizeOf } from '../shape.js';
import type { WindowPlan } from '../window.js';
import {
  indexScatter,
  permuteRead,
  windowMaxRead,
  windowPickScatter,
  windowRead,
  windowScatter,
} from './cpu-window.js';

/** A CPU buffer: the values themselves. */
export class CpuBuffer implements BackendBuffer {
  constructor(readonly data: Float32Array) {}
  get size(): number {
    return this.data.length;
  }
}

/** Arrays from this many elements (64 KiB) up are pooled when freed (see `CpuBackend.free`). */
const POOL_MIN_ELEMENTS = 1 << 14;
/** The largest float64 accumulator kept for reuse (see `CpuBackend.accumulator`): 2^22 elements, 32 MiB. */
const SCRATCH_MAX_ELEMENTS = 1 << 22;
/** The most the CPU backend keeps in its pool of freed arrays: 256 MiB. */
const POOL_MAX_BYTES = 256 * 2 ** 20;

type MapFn = (out: Float32Array, inputs: Float32Array[], params: readonly number[]) => void;
type MapMultiFn = (outs: Float32Array[], inputs: Float32Array[], params: readonly number[]) => void;

const data = (b: BackendBuffer): Float32Array => (b as CpuBuffer).data;

/**
 * Generates the nested loops of a broadcast element-wise kernel as JavaScript source: one loop
 * per collapsed dimension, input offsets advanced by their strides. `spec` must be validated
 * (`map` takes its key from `mapKey`, which parses it): its `stmts` and `expr` then hold only
 * kernel-language tokens, which mean the same in JavaScript, and are compiled as they are.
 */
function mapSource(spec: ElementwiseSpec, dims: number[], strides: number[][]): string {
  return loopSource(spec, [spec.expr], ['out'], dims, strides);
}

/**
 * The loops of {@link mapSource} with several results: `stmts` of `spec` once per element, then
 * `outs[k][o] = exprs[k]` for every output.
 */
function loopSource(
  spec: ElementwiseSpec,
  exprs: readonly string[],
  outs: readonly string[],
  dims: number[],
  strides: number[][],
): string {
  const r = dims.length;
  const lines: string[] = [];
  lines.push('let o = 0;');
  for (let k = 0; k < spec.arity; k++) lines.push(`const A${k} = inputs[${k}];`);
  for (let q = 0; q < spec.params; q++) lines.push(`const p${q} = params[${q}];`);
  for (let d = 0; d < r; d++) {
    const offs = strides.map((st, k) => {
      const prev = d === 0 ? '0' : `o${k}_${d - 1}`;
      return st[d] === 0 ? `const o${k}_${d} = ${prev};` : `const o${k}_${d} = ${prev} + i${d} * ${st[d]};`;
    });
    lines.push(`for (let i${d} = 0; i${d} < ${dims[d]}; i${d}++) {`, ...offs);
  }
  for (let k = 0; k < spec.arity; k++) lines.push(`const ${INPUT_NAMES[k]} = A${k}[o${k}_${r - 1}];`);
  if (spec.stmts) lines.push(spec.stmts);
  exprs.forEach((e, k) => {
    lines.push(`${outs[k]}[o] = ${e};`);
  });
  lines.push('o++;');
  for (let d = 0; d < r; d++) lines.push('}');
  return lines.join('\n');
}

/**
 * The always-available backend: plain JavaScript on `Float32Array`. Element-wise kernels are
 * generated from the shared spec table once per (op, broadcast layout) and cached; matmul packs
 * both operands into 4-wide panels and runs a 4 x 4 register-blocked micro-kernel.
 */
export class CpuBackend implements KernelBackend {
  /** The backend's name, `'cpu'`. */
  readonly name: BackendName = 'cpu';
  readonly info: Omit<BackendInfo, 'reason'> = {
    name: 'cpu',
    gpuMode: 'js',
    renderer: 'JavaScript (Float32Array), single thread',
    precision: 'single',
    maxTextureSize: null,
    maxElements: 2 ** 31 - 1,
    pipeline: true,
    syncRead: 'cheap',
  };
  private readonly cache = new Map<string, MapFn>();
  private readonly multiCache = new Map<string, MapMultiFn>();
  /** Freed arrays of at least 16384 elements, by length, for reuse. */
  private readonly recycled = new Map<number, Float32Array[]>();
  private recycledBytes = 0;
  private scratch: Float64Array | null = null;

  /**
   * A new buffer of `n` elements and a view of its storage. Every kernel writes all `n` outputs,
   * so the storage may be recycled (not zeroed): a large array freed earlier with the same length
   * is reused, which spares the zero-filled allocation and page faults of a fresh one (about
   * 80 ms for 29 MB here, more than the kernel that fills it).
   */
  protected alloc(n: number): [BackendBuffer, Float32Array] {
    let out = n >= POOL_MIN_ELEMENTS ? this.recycled.get(n)?.pop() : undefined;
    if (out) this.recycledBytes -= 4 * n;
    else out = new Float32Array(n);
    return [new CpuBuffer(out), out];
  }

  upload(values: Float32Array): BackendBuffer {
    const [buf, out] = this.alloc(values.length);
    out.set(values);
    return buf;
  }

  read(buf: BackendBuffer): Float32Array {
    return Float32Array.from(data(buf));
  }

  readAsync(buf: BackendBuffer): Promise<Float32Array> {
    return Promise.resolve(this.read(buf));
  }

  /**
   * Releases a buffer the device no longer references: one of at least 16384 elements (64 KiB) is
   * kept for reuse by the next allocation of the same length while the pool holds at most
   * 256 MiB; the rest is left to the garbage collector.
   */
  free(buf: BackendBuffer): void {
    const a = data(buf);
    const n = a.length;
    if (n < POOL_MIN_ELEMENTS || this.recycledBytes + 4 * n > POOL_MAX_BYTES) return;
    let list = this.recycled.get(n);
    if (!list) {
      list = [];
      this.recycled.set(n, list);
    }
    list.push(a);
    this.recycledBytes += 4 * n;
  }

  map(
    spec: ElementwiseSpec,
    inputs: readonly BackendBuffer[],
    inputShapes: readonly Shape[],
    outShape: Shape,
    params: readonly number[],
  ): BackendBuffer {
    const plan = planBroadcast(inputShapes, outShape);
    const key = mapKey(spec, plan); // validates a spec not made by defineKernel, before any codegen
    let fn = this.cache.get(key);
    if (!fn) {
      fn = new Function('out', 'inputs', 'params', mapSource(spec, plan.dims, plan.strides)) as MapFn;
      this.cache.set(key, fn);
    }
    const [buf, out] = this.alloc(sizeOf(outShape));
    if (out.length > 0) fn(out, inputs.map(data), params);
    return buf;
  }

  /**
   * Several specs in one pass (see `Device.mapMulti`) when they share their `stmts`: one loop
   * computes the temporaries once per element and stores every result; otherwise null (the
   * device runs one `map` each). Values equal `map`'s: the same float64 expressions, rounded once
   * on store.
   */
  mapMulti(
    specs: readonly ElementwiseSpec[],
    inputs: readonly BackendBuffer[],
    inputShapes: readonly Shape[],
    outShape: Shape,
    params: readonly number[],
  ): BackendBuffer[] | null {
    const first = specs[0];
    if (!specs.every((s) => s.stmts === first.stmts)) return null;
    const plan = planBroadcast(inputShapes, outShape);
    const key = specs.map((s) => mapKey(s, plan)).join('\n');
    let fn = this.multiCache.get(key);
    if (!fn) {
      const outs = specs.map((_, k) => `outs${k}`);
      fn = new Function(
        'outs',
        'inputs',
        'params',
        `const [${outs.join(', ')}] = outs;\n` +
          loopSource(
            first,
            specs.map((s) => s.expr),
            outs,
            plan.dims,
            plan.strides,
          ),
      ) as MapMultiFn;
      this.multiCache.set(key, fn);
    }
    const n = sizeOf(outShape);
    const bufs: BackendBuffer[] = [];
    const views: Float32Array[] = [];
    for (let k = 0; k < specs.length; k++) {
      const [buf, view] = this.alloc(n);
      bufs.push(buf);
      views.push(view);
    }
    if (n > 0) fn(views, inputs.map(data), params);
    return bufs;
  }

  reduce(op: ReduceOp, x: BackendBuffer, shape: Shape, axes: readonly number[]): BackendBuffer {
    const plan = planReduce(shape, axes);
    const base = offsetTable(plan.keptDims, plan.keptStrides);
    const inner = offsetTable(plan.redDims, plan.redStrides);
    const n = plan.outSize;
    const r = plan.reduceSize;
    // Allocate before taking input views: a subclass's allocation may move its memory.
    const [buf, out] = this.alloc(n);
    const xs = data(x);
    if (isLeadingSum(op, plan)) {
      // Leading axes summed (a bias gradient, batch statistics): walk rows contiguously, adding
      // in the same order and float64 precision as the general loop below.
      const acc = new Float64Array(n);
      for (let t = 0, row = 0; t < r; t++, row += n) for (let o = 0; o < n; o++) acc[o] += xs[row + o];
      out.set(acc);
      return buf;
    }
    const block = reduceBlock(plan);
    if (block !== null && blockReduce(op, xs, out, block)) return buf;
    for (let o = 0; o < n; o++) {
      const b0 = base[o];
      let acc: number;
      switch (op) {
        case 'sum':
          acc = 0;
          for (let t = 0; t < r; t++) acc += xs[b0 + inner[t]];
          break;
        case 'prod':
          acc = 1;
          for (let t = 0; t < r; t++) acc *= xs[b0 + inner[t]];
          break;
        case 'max':
          acc = Number.NEGATIVE_INFINITY;
          for (let t = 0; t < r; t++) {
            const v = xs[b0 + inner[t]];
            if (v > acc || Number.isNaN(v)) acc = v;
            if (Number.isNaN(acc)) break;
          }
          break;
        case 'min':
          acc = Number.POSITIVE_INFINITY;
          for (let t = 0; t < r; t++) {
            const v = xs[b0 + inner[t]];
            if (v < acc || Number.isNaN(v)) acc = v;
            if (Number.isNaN(acc)) break;
          }
          break;
        case 'argmax': {
          // The first NaN wins, as in PyTorch (NaN propagates through max, so argmax points at it).
          let best = Number.NEGATIVE_INFINITY;
          acc = 0;
          for (let t = 0; t < r; t++) {
            const v = xs[b0 + inner[t]];
            if (Number.isNaN(v)) {
              acc = t;
              break;
            }
            if (v > best) {
              best = v;
              acc = t;
            }
          }
          break;
        }
        case 'argmin': {
          let best = Number.POSITIVE_INFINITY;
          acc = 0;
          for (let t = 0; t < r; t++) {
            const v = xs[b0 + inner[t]];
            if (Number.isNaN(v)) {
              acc = t;
              break;
            }
            if (v < best) {
              best = v;
              acc = t;
            }
          }
          break;
        }
        case 'logsumexp': {
          let m = Number.NEGATIVE_INFINITY;
          for (let t = 0; t < r; t++) m = Math.max(m, xs[b0 + inner[t]]);
          if (!Number.isFinite(m)) {
            acc = m;
            break;
          }
          let s = 0;
          for (let t = 0; t < r; t++) s += Math.exp(xs[b0 + inner[t]] - m);
          acc = m + Math.log(s);
          break;
        }
      }
      out[o] = acc;
    }
    return buf;
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
    return new CpuBuffer(gemm(data(a), data(b), m, k, n, transA, transB));
  }

  transpose(x: BackendBuffer, shape: Shape, perm: readonly number[]): BackendBuffer {
    const [buf, out] = this.alloc(sizeOf(shape));
    permuteRead(data(x), out, shape, perm);
    return buf;
  }

  gather(x: BackendBuffer, shape: Shape, indices: BackendBuffer, count: number, axis: number): BackendBuffer {
    const pre = sizeOf(shape.slice(0, axis));
    const len = shape[axis];
    const post = sizeOf(shape.slice(axis + 1));
    const [buf, out] = this.alloc(pre * count * post);
    const xs = data(x);
    const idx = data(indices);
    let o = 0;
    for (let p = 0; p < pre; p++) {
      for (let j = 0; j < count; j++) {
        const src = (p * len + idx[j]) * post;
        for (let q = 0; q < post; q++) out[o++] = xs[src + q];
      }
    }
    return buf;
  }

  window(x: BackendBuffer, plan: WindowPlan): BackendBuffer {
    // Allocate before taking input views: a subclass's allocation may move its memory.
    const [buf, out] = this.alloc(sizeOf(plan.outShape));
    windowRead(data(x), out, plan);
    return buf;
  }

  windowScatterAdd(dy: BackendBuffer, plan: WindowPlan): BackendBuffer {
    const acc = this.accumulator(sizeOf(plan.inShape));
    windowScatter(data(dy), acc, plan);
    const [buf, out] = this.alloc(acc.length);
    out.set(acc);
    return buf;
  }

  windowMax(
    x: BackendBuffer,
    plan: WindowPlan,
    first: number,
    count: number,
  ): [BackendBuffer, BackendBuffer] | null {
    if (plan.padded) return null;
    const n = sizeOf(plan.outShape.slice(0, first)) * sizeOf(plan.outShape.slice(first + count));
    const [mb] = this.alloc(n);
    const [ib] = this.alloc(n);
    this.maxRead(x, mb, ib, plan, first, count);
    return [mb, ib];
  }

  /**
   * The fused window max of {@link CpuBackend.windowMax} into the allocated `mb` (maxima) and
   * `ib` (first tap holding each), for a plan that reads no padding: a JavaScript loop here, a
   * WebAssembly kernel in the wasm backend.
   */
  protected maxRead(
    x: BackendBuffer,
    mb: BackendBuffer,
    ib: BackendBuffer,
    plan: WindowPlan,
    first: number,
    count: number,
  ): void {
    // views after both allocations: a subclass's allocation may move its memory
    windowMaxRead(data(x), data(mb), data(ib), plan, first, count);
  }

  windowScatterAt(
    dy: BackendBuffer,
    index: BackendBuffer,
    plan: WindowPlan,
    first: number,
    count: number,
  ): BackendBuffer | null {
    if (plan.padded) return null;
    const acc = this.accumulator(sizeOf(plan.inShape));
    windowPickScatter(data(dy), data(index), acc, plan, first, count);
    const [buf, out] = this.alloc(acc.length);
    out.set(acc);
    return buf;
  }

  scatterAdd(
    updates: BackendBuffer,
    shape: Shape,
    indices: BackendBuffer,
    count: number,
    axis: number,
  ): BackendBuffer {
    const len = shape[axis];
    const acc = this.accumulator(sizeOf(shape));
    const pre = sizeOf(shape.slice(0, axis));
    const post = sizeOf(shape.slice(axis + 1));
    indexScatter(data(updates), data(indices), acc, pre, count, len, post);
    const [buf, out] = this.alloc(acc.length);
    out.set(acc);
    return buf;
  }

  /**
   * A zeroed float64 accumulator of `n` elements for the scatter kernels (their sums are float64,
   * rounded once). Up to 2^22 elements it is a view of one scratch array the backend keeps and
   * grows: a fresh 5 MB array costs more (zeroed pages, then garbage) than the scatter that fills
   * it. Kernels run one at a time, so one scratch array serves them all.
   */
  protected accumulator(n: number): Float64Array {
    if (n > SCRATCH_MAX_ELEMENTS) return new Float64Array(n);
    if (this.scratch === null || this.scratch.length < n) this.scratch = new Float64Array(n);
    const acc = this.scratch.subarray(0, n);
    acc.fill(0);
    return acc;
  }

  destroy(): void {
    this.cache.clear();
    this.recycled.clear();
    this.recycledBytes = 0;
    this.scratch = null;
  }
}

/**
 * Packs op(X) (rows x depth, row-major X or its transpose) into panels of four rows, interleaved
 * by depth: `out[panel * 4 * depth + 4 * p + r] = op(X)[4 * panel + r, p]`, zero-padded past `rows`.
 * Packing makes every operand layout (plain or transposed) feed the same micro-kernel.
 */
function packPanels(x: Float32Array, rows: number, depth: number, transposed: boolean): Float32Array {
  const panels = Math.ceil(rows / 4);
  const out = new Float32Array(panels * 4 * depth);
  for (let pan = 0; pan < panels; pan++) {
    const base = pan * 4 * depth;
    for (let r = 0; r < 4; r++) {
      const row = pan * 4 + r;
      if (row >= rows) break;
      if (transposed) {
        // op(X)[row, p] = X[p, row], X stored depth x rows
        for (let p = 0; p < depth; p++) out[base + 4 * p + r] = x[p * rows + row];
      } else {
        const src = row * depth;
        for (let p = 0; p < depth; p++) out[base + 4 * p + r] = x[src + p];
      }
    }
  }
  return out;
}

/**
 * C = op(A) op(B) with op(A) m x k and op(B) k x n: both operands are packed into 4-wide panels
 * (so the transposed variants run exactly as fast as the plain one), then a 4 x 4 register-blocked
 * micro-kernel accumulates each block of C over k in float64 registers.
 */
export function gemm(
  A: Float32Array,
  B: Float32Array,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
): Float32Array {
  const ap = packPanels(A, m, k, transA);
  // op(B) columns are the rows of op(B)^T: B^T is stored as B when transB, else as the transpose.
  const bp = packPanels(B, n, k, !transB);
  const C = new Float32Array(m * n);
  const k4 = 4 * k;
  for (let jp = 0; jp * 4 < n; jp++) {
    const bb = jp * k4;
    const j = jp * 4;
    const nj = Math.min(4, n - j);
    for (let ip = 0; ip * 4 < m; ip++) {
      const ab = ip * k4;
      let c00 = 0,
        c01 = 0,
        c02 = 0,
        c03 = 0,
        c10 = 0,
        c11 = 0,
        c12 = 0,
        c13 = 0;
      let c20 = 0,
        c21 = 0,
        c22 = 0,
        c23 = 0,
        c30 = 0,
        c31 = 0,
        c32 = 0,
        c33 = 0;
      for (let q = 0; q < k4; q += 4) {
        const b0 = bp[bb + q];
        const b1 = bp[bb + q + 1];
        const b2 = bp[bb + q + 2];
        const b3 = bp[bb + q + 3];
        const a0 = ap[ab + q];
        const a1 = ap[ab + q + 1];
        const a2 = ap[ab + q + 2];
        const a3 = ap[ab + q + 3];
        c00 += a0 * b0;
        c01 += a0 * b1;
        c02 += a0 * b2;
        c03 += a0 * b3;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c12 += a1 * b2;
        c13 += a1 * b3;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c22 += a2 * b2;
        c23 += a2 * b3;
        c30 += a3 * b0;
        c31 += a3 * b1;
        c32 += a3 * b2;
        c33 += a3 * b3;
      }
      const i = ip * 4;
      const mi = Math.min(4, m - i);
      const rows = [
        [c00, c01, c02, c03],
        [c10, c11, c12, c13],
        [c20, c21, c22, c23],
        [c30, c31, c32, c33],
      ];
      if (mi === 4 && nj === 4) {
        let o = i * n + j;
        for (let r = 0; r < 4; r++, o += n) {
          const row = rows[r];
          C[o] = row[0];
          C[o + 1] = row[1];
          C[o + 2] = row[2];
          C[o + 3] = row[3];
        }
      } else {
        for (let r = 0; r < mi; r++) for (let c = 0; c < nj; c++) C[(i + r) * n + j + c] = rows[r][c];
      }
    }
  }
  return C;
}

/**
 * A reduction over the middle axis of `x` viewed as `[pre, r, post]` (see `reduceBlock`), walking
 * the `post` columns contiguously for each `t` (or, for the last axis, `post = 1`, each row): the same results as the per-output loop of
 * `CpuBackend.reduce` (float64 sums and products in ascending `t`, NaN propagating through max
 * and min, the first NaN or the first extreme winning argmax and argmin). Returns false for an
 * op it does not cover (logsumexp), which then takes the general loop.
 */
function blockReduce(
  op: ReduceOp,
  xs: Float32Array,
  out: Float32Array,
  { pre, r, post }: { pre: number; r: number; post: number },
): boolean {
  if (op === 'logsumexp') return false;
  if (post === 1) {
    // the last axis: one contiguous row per output
    for (let p = 0, row = 0; p < pre; p++, row += r) out[p] = reduceRow(op, xs, row, r);
    return true;
  }
  const acc = new Float64Array(post);
  const idx = op === 'argmax' || op === 'argmin' ? new Float64Array(post) : null;
  const start = op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' || op === 'argmax' ? -Infinity : Infinity;
  for (let p = 0; p < pre; p++) {
    acc.fill(start);
    idx?.fill(0);
    const row0 = p * r * post;
    for (let t = 0; t < r; t++) {
      const row = row0 + t * post;
      switch (op) {
        case 'sum':
          for (let q = 0; q < post; q++) acc[q] += xs[row + q];
          break;
        case 'prod':
          for (let q = 0; q < post; q++) acc[q] *= xs[row + q];
          break;
        case 'max':
          for (let q = 0; q < post; q++) {
            const v = xs[row + q];
            if (v > acc[q] || Number.isNaN(v)) acc[q] = v;
          }
          break;
        case 'min':
          for (let q = 0; q < post; q++) {
            const v = xs[row + q];
            if (v < acc[q] || Number.isNaN(v)) acc[q] = v;
          }
          break;
        case 'argmax':
          for (let q = 0; q < post; q++) {
            const v = xs[row + q];
            const b = acc[q];
            // once a NaN is found it stays the answer (the first NaN wins)
            if (!Number.isNaN(b) && (v > b || Number.isNaN(v))) {
              acc[q] = v;
              (idx as Float64Array)[q] = t;
            }
          }
          break;
        case 'argmin':
          for (let q = 0; q < post; q++) {
            const v = xs[row + q];
            const b = acc[q];
            if (!Number.isNaN(b) && (v < b || Number.isNaN(v))) {
              acc[q] = v;
              (idx as Float64Array)[q] = t;
            }
          }
          break;
      }
    }
    out.set(idx ?? acc, p * post);
  }
  return true;
}

/** One contiguous row `xs[row, row + r)` reduced as the general loop reduces it. */
function reduceRow(op: Exclude<ReduceOp, 'logsumexp'>, xs: Float32Array, row: number, r: number): number {
  const end = row + r;
  switch (op) {
    case 'sum': {
      let a = 0;
      for (let i = row; i < end; i++) a += xs[i];
      return a;
    }
    case 'prod': {
      let a = 1;
      for (let i = row; i < end; i++) a *= xs[i];
      return a;
    }
    case 'max': {
      let a = Number.NEGATIVE_INFINITY;
      for (let i = row; i < end; i++) {
        const v = xs[i];
        if (v > a) a = v;
        else if (Number.isNaN(v)) return v;
      }
      return a;
    }
    case 'min': {
      let a = Number.POSITIVE_INFINITY;
      for (let i = row; i < end; i++) {
        const v = xs[i];
        if (v < a) a = v;
        else if (Number.isNaN(v)) return v;
      }
      return a;
    }
    case 'argmax': {
      let a = Number.NEGATIVE_INFINITY;
      let at = 0;
      for (let i = row; i < end; i++) {
        const v = xs[i];
        if (v > a) {
          a = v;
          at = i - row;
        } else if (Number.isNaN(v)) return i - row;
      }
      return at;
    }
    case 'argmin': {
      let a = Number.POSITIVE_INFINITY;
      let at = 0;
      for (let i = row; i < end; i++) {
        const v = xs[i];
        if (v < a) {
          a = v;
          at = i - row;
        } else if (Number.isNaN(v)) return i - row;
      }
      return at;
    }
  }
}
