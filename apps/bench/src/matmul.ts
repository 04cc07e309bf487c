import type { MeasureOptions } from './stats.js';
import { measure } from './stats.js';
import type { MatmulRow, Variant } from './types.js';

/** FLOPs of an n x n x n matrix product (one multiply and one add per term). */
export const matmulFlops = (n: number): number => 2 * n * n * n;

/** GFLOP/s of an n x n x n product that took `ms` milliseconds. */
export const gflops = (n: number, ms: number): number => matmulFlops(n) / ms / 1e6;

/** The baseline: the textbook i-j-k triple loop over Float32Array, no blocking. */
export function naiveMatmul(a: Float32Array, b: Float32Array, n: number): Float32Array {
  const c = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Uniform values in [-1, 1) from a small seeded generator (xorshift32). */
export function uniformArray(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** GFLOP/s of the plain-JS triple loop (A*B only: it is the baseline). */
export function benchNaive(n: number, o: MeasureOptions): MatmulRow {
  const a = uniformArray(n * n, 1);
  const b = uniformArray(n * n, 2);
  let sink = 0;
  const timing = measure(() => {
    sink += naiveMatmul(a, b, n)[0];
  }, o);
  if (Number.isNaN(sink)) throw new Error('unreachable');
  process.stderr.write(`progress: matmul A*B n=${n}: ${gflops(n, timing.medianMs).toFixed(2)} GFLOP/s\n`);
  return { contender: 'js-loop', variant: 'A*B', n, timing, gflops: gflops(n, timing.medianMs) };
}

/** The plain-JS loop over every size (the `js-loop` contender's ops job). */
export function runNaive(ns: readonly number[], o: MeasureOptions): MatmulRow[] {
  return ns.map((n) => benchNaive(n, o));
}

/** Which operands a variant reads transposed. */
export function transposes(v: Variant): { transA: boolean; transB: boolean } {
  return { transA: v === 'A^T*B', transB: v === 'A*B^T' };
}
