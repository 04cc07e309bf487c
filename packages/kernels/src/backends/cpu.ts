import type { BackendBuffer, ElementwiseSpec, KernelBackend, ReduceOp } from '../backend.js';
import { INPUT_NAMES, offsetTable, planBroadcast, planReduce } from '../codegen.js';
import type { Shape } from '../shape.js';
import { sizeOf, stridesOf } from '../shape.js';

/** A CPU buffer: the values themselves. */
export class CpuBuffer implements BackendBuffer {
  constructor(readonly data: Float32Array) {}
  get size(): number {
    return this.data.length;
  }
}

type MapFn = (out: Float32Array, inputs: Float32Array[], params: readonly number[]) => void;

const data = (b: BackendBuffer): Float32Array => (b as CpuBuffer).data;

/**
 * Generates the nested loops of a broadcast element-wise kernel as JavaScript source: one loop
 * per collapsed dimension, input offsets advanced by their strides.
 */
function mapSource(spec: ElementwiseSpec, dims: number[], strides: number[][]): string {
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
  lines.push(`out[o++] = ${spec.expr};`);
  for (let d = 0; d < r; d++) lines.push('}');
  return lines.join('\n');
}

/**
 * The always-available backend: plain JavaScript on `Float32Array`. Element-wise kernels are
 * generated from the shared spec table once per (op, broadcast layout) and cached; matmul is a
 * register-blocked i-k-j loop (and a dot-product loop for `A * B^T`).
 */
export class CpuBackend implements KernelBackend {
  readonly name = 'cpu' as const;
  readonly info = {
    name: 'cpu' as const,
    gpuMode: 'js',
    renderer: 'JavaScript (Float32Array), single thread',
    precision: 'single' as const,
    maxTextureSize: null,
    maxElements: 2 ** 31 - 1,
    pipeline: true,
  };
  private readonly cache = new Map<string, MapFn>();

  upload(values: Float32Array): BackendBuffer {
    return new CpuBuffer(Float32Array.from(values));
  }

  read(buf: BackendBuffer): Float32Array {
    return Float32Array.from(data(buf));
  }

  readAsync(buf: BackendBuffer): Promise<Float32Array> {
    return Promise.resolve(this.read(buf));
  }

  free(_buf: BackendBuffer): void {
    // Garbage-collected; nothing to release.
  }

  map(
    spec: ElementwiseSpec,
    inputs: readonly BackendBuffer[],
    inputShapes: readonly Shape[],
    outShape: Shape,
    params: readonly number[],
  ): BackendBuffer {
    const plan = planBroadcast(inputShapes, outShape);
    const key = `${spec.name}|${plan.dims.join(',')}|${plan.strides.map((s) => s.join(',')).join(';')}`;
    let fn = this.cache.get(key);
    if (!fn) {
      fn = new Function('out', 'inputs', 'params', mapSource(spec, plan.dims, plan.strides)) as MapFn;
      this.cache.set(key, fn);
    }
    const out = new Float32Array(sizeOf(outShape));
    if (out.length > 0) fn(out, inputs.map(data), params);
    return new CpuBuffer(out);
  }

  reduce(op: ReduceOp, x: BackendBuffer, shape: Shape, axes: readonly number[]): BackendBuffer {
    const xs = data(x);
    const plan = planReduce(shape, axes);
    const base = offsetTable(plan.keptDims, plan.keptStrides);
    const inner = offsetTable(plan.redDims, plan.redStrides);
    const n = plan.outSize;
    const r = plan.reduceSize;
    const out = new Float32Array(n);
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
          let best = Number.NEGATIVE_INFINITY;
          acc = 0;
          for (let t = 0; t < r; t++) {
            const v = xs[b0 + inner[t]];
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
    return new CpuBuffer(out);
  }

  matmul(
    a: BackendBuffer,
    b: BackendBuffer,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
  ) {
    let A = data(a);
    const B = data(b);
    if (transA) A = transpose2d(A, k, m);
    const C = new Float32Array(m * n);
    if (transB) gemmDot(A, B, C, m, k, n);
    else gemmIkj(A, B, C, m, k, n);
    return new CpuBuffer(C);
  }

  transpose(x: BackendBuffer, shape: Shape, perm: readonly number[]): BackendBuffer {
    const xs = data(x);
    const st = stridesOf(shape);
    const outDims = perm.map((p) => shape[p]);
    const table = offsetTable(
      outDims,
      perm.map((p) => st[p]),
    );
    const out = new Float32Array(table.length);
    for (let t = 0; t < table.length; t++) out[t] = xs[table[t]];
    return new CpuBuffer(out);
  }

  gather(x: BackendBuffer, shape: Shape, indices: BackendBuffer, count: number, axis: number): BackendBuffer {
    const xs = data(x);
    const idx = data(indices);
    const pre = sizeOf(shape.slice(0, axis));
    const len = shape[axis];
    const post = sizeOf(shape.slice(axis + 1));
    const out = new Float32Array(pre * count * post);
    let o = 0;
    for (let p = 0; p < pre; p++) {
      for (let j = 0; j < count; j++) {
        const src = (p * len + idx[j]) * post;
        for (let q = 0; q < post; q++) out[o++] = xs[src + q];
      }
    }
    return new CpuBuffer(out);
  }

  destroy(): void {
    this.cache.clear();
  }
}

/** Transposes a row-major `rows x cols` matrix. */
export function transpose2d(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = x[i * cols + j];
    }
  }
  return out;
}

/** C = A B for row-major A (m x k), B (k x n): i-k-j order, four rows of C at a time. */
export function gemmIkj(
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  m: number,
  k: number,
  n: number,
): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const c0 = i * n;
    const c1 = c0 + n;
    const c2 = c1 + n;
    const c3 = c2 + n;
    for (let p = 0; p < k; p++) {
      const a0 = A[i * k + p];
      const a1 = A[(i + 1) * k + p];
      const a2 = A[(i + 2) * k + p];
      const a3 = A[(i + 3) * k + p];
      const bp = p * n;
      for (let j = 0; j < n; j++) {
        const bv = B[bp + j];
        C[c0 + j] += a0 * bv;
        C[c1 + j] += a1 * bv;
        C[c2 + j] += a2 * bv;
        C[c3 + j] += a3 * bv;
      }
    }
  }
  for (; i < m; i++) {
    const c0 = i * n;
    for (let p = 0; p < k; p++) {
      const a0 = A[i * k + p];
      const bp = p * n;
      for (let j = 0; j < n; j++) C[c0 + j] += a0 * B[bp + j];
    }
  }
}

/** C = A B^T for row-major A (m x k), B (n x k): dot products of rows, four columns at a time. */
export function gemmDot(
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  m: number,
  k: number,
  n: number,
): void {
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = j * k;
      const b1 = b0 + k;
      const b2 = b1 + k;
      const b3 = b2 + k;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let p = 0; p < k; p++) {
        const av = A[ai + p];
        s0 += av * B[b0 + p];
        s1 += av * B[b1 + p];
        s2 += av * B[b2 + p];
        s3 += av * B[b3 + p];
      }
      C[i * n + j] = s0;
      C[i * n + j + 1] = s1;
      C[i * n + j + 2] = s2;
      C[i * n + j + 3] = s3;
    }
    for (; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += A[ai + p] * B[bj + p];
      C[i * n + j] = s;
    }
  }
}
