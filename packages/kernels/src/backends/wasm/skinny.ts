// Which matrix products skip the packed GEMM for the skinny kernels of
// scripts/wasm-skinny-gen.mjs (the shapes of convolution layers), and their signatures.

/** The skinny modules' exports (see scripts/wasm-skinny-gen.mjs for each one's contract). */
export interface SkinnyKernels {
  /** `C = A B^T`, A `[m, k]` and B `[n, k]` row-major, C `[m, n]` zero on entry. */
  dot_nt(a: number, b: number, c: number, m: number, n: number, k: number): void;
  /** `C = A B`, A `[m, k]` read with strides `rsA`, `csA`, B `[k, n]` and C `[m, n]` row-major. */
  gemm_small(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    rsA: number,
    csA: number,
  ): void;
}

/**
 * The kernel a product `[m, k] x [k, n]` (with the stated transposes) runs on the wasm backend:
 * - `'dot'`: `A B^T` with a long depth and a small result (`m n <= 4096`, `k >= 256` and
 *   `k >= 4 max(m, n)`: a convolution's weight gradient, `dY` times the patches transposed).
 *   Dot products of rows straight from memory, no packing: 6x100352x25 took 1.1-1.2 ms against
 *   3.9 ms for the GEMM, which spends its time packing the transposed panel; faster than the
 *   GEMM on two threads too, so it runs whatever the thread count.
 * - `'small'`: `A B` (A either way round) with long rows (`n >= 1024`) and few rows or a short
 *   depth (`m <= 32` or `k <= 32`), on one thread only: a convolution's forward and data
 *   gradient. Blocks of 4 rows by 8 columns read B where it lies: 6x25x100352 1.8 ms against
 *   2.1 ms, 16x150x12800 1.9-2.0 against 2.1-2.2 (one thread); the threaded GEMM wins when it
 *   has workers.
 * - `null`: the packed GEMM.
 *
 * @example
 * ```ts
 * skinnyPlan(6, 100352, 25, false, true, 2); // 'dot'
 * skinnyPlan(128, 784, 256, false, true, 1); // null
 * ```
 */
export function skinnyPlan(
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  threads: number,
): 'dot' | 'small' | null {
  if (!transA && transB && m * n <= 4096 && k >= 256 && k >= 4 * Math.max(m, n)) return 'dot';
  if (!transB && threads <= 1 && n >= 1024 && (m <= 32 || k <= 32)) return 'small';
  return null;
}
