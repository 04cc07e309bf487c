import type { Device } from '@gradkit/kernels';
import { Rng } from '@gradkit/kernels';
import type { Timing } from './stats.js';
import { time } from './stats.js';

/** One matmul measurement. */
export interface MatmulResult {
  readonly contender: string;
  readonly variant: 'A*B' | 'A^T*B' | 'A*B^T';
  readonly n: number;
  readonly timing: Timing;
  readonly gflops: number;
}

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

const flops = (n: number) => 2 * n * n * n;

/** GFLOP/s of the plain-JS triple loop. */
export function benchNaive(n: number, reps: number): MatmulResult {
  const rng = new Rng(1);
  const a = rng.fillUniform(new Float32Array(n * n), -1, 1);
  const b = rng.fillUniform(new Float32Array(n * n), -1, 1);
  const timing = time(() => naiveMatmul(a, b, n), reps);
  return {
    contender: 'plain JS i-j-k loop',
    variant: 'A*B',
    n,
    timing,
    gflops: flops(n) / timing.medianMs / 1e6,
  };
}

/**
 * GFLOP/s of a device's matmul. Each repetition ends by reading back one value (the sum of C),
 * so GPU work is finished inside the timed region without timing a full read-back.
 */
export function benchDevice(
  d: Device,
  n: number,
  variant: MatmulResult['variant'],
  reps: number,
): MatmulResult {
  const rng = new Rng(2);
  const a = d.randomUniform([n, n], rng, -1, 1);
  const b = d.randomUniform([n, n], rng, -1, 1);
  const opts = { transA: variant === 'A^T*B', transB: variant === 'A*B^T' };
  const timing = time(() => {
    const c = d.matmul(a, b, opts);
    const s = d.sum(c);
    s.read();
    c.dispose();
    s.dispose();
  }, reps);
  a.dispose();
  b.dispose();
  return { contender: `gradkit ${d.name}`, variant, n, timing, gflops: flops(n) / timing.medianMs / 1e6 };
}
