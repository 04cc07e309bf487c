// The wasm backend's window kernels: the odometer of cpu-window.ts in JavaScript, each block of
// rows (or each table of pooling windows) in WebAssembly SIMD (scripts/wasm-window-gen.mjs).
// Every function gives the JavaScript path's values bit for bit.
import type { WindowPlan } from '../../window.js';
import type { RowBlock } from '../cpu-window.js';
import { forEachBlock, tapWalk } from '../cpu-window.js';

/** A pooling walk's tables as the kernels take them (see `withTables`). */
type PoolTables = [rows: number, nrows: number, row: number, step: number, taps: number, K: number];

/** The window module's exports (see scripts/wasm-window-gen.mjs for each one's contract). */
export interface WindowKernels {
  win_read(...a: [src: number, dst: number, ...RowBlock, pad: number, m3: number, d3: number]): void;
  win_scatter(...a: [dy: number, acc: number, ...RowBlock, m3: number, d3: number]): void;
  f64_to_f32(acc: number, out: number, n: number): void;
  win_max(...a: [x: number, mx: number, ix: number, ...PoolTables]): void;
  win_pick(...a: [dy: number, ix: number, acc: number, ...PoolTables]): void;
}

/** What the window kernels need of the backend: byte addresses and scratch memory. */
export interface WindowHost {
  readonly kernels: WindowKernels;
  /** A scratch block of at least `bytes` bytes (byte address), returned with `release`. */
  scratch(bytes: number): number;
  /** Returns a scratch block. */
  release(ptr: number, bytes: number): void;
  /** A view of `n` int32 at byte address `ptr` (valid until the memory grows). */
  int32(ptr: number, n: number): Int32Array;
}

/** The plan fields a block walk reads (a window plan, or a permutation as one). */
type BlockPlan = Parameters<typeof forEachBlock>[0];

/**
 * `out = window(x)`: every block of the walk copied by `win_read` (byte addresses `x`, `out`).
 * Addresses are computed exactly in JavaScript and wrap to i32 at the call, as WebAssembly's own
 * address arithmetic does, so a block base outside the input (padding) is harmless.
 */
export function readWindow(k: WindowKernels, x: number, out: number, plan: BlockPlan, pad: number): void {
  forEachBlock(plan, (o, base, m, n, d2, d, lo, hi, jlo, jhi, m3, d3) =>
    k.win_read(x + 4 * base, out + 4 * o, m, n, d2, d, lo, hi, jlo, jhi, pad, m3, d3),
  );
}

/**
 * `acc[c(o)] += dy[o]` in float64 over the blocks of the walk in row-major output order, as
 * `windowScatter` in cpu-window.ts (`acc` the byte address of float64 sums, zero on entry).
 */
export function scatterWindow(k: WindowKernels, dy: number, acc: number, plan: BlockPlan): void {
  forEachBlock(plan, (o, base, m, n, d2, d, lo, hi, jlo, jhi, m3, d3) =>
    k.win_scatter(dy + 4 * o, acc + 8 * base, m, n, d2, d, lo, hi, jlo, jhi, m3, d3),
  );
}

/**
 * Runs `kernel(rows, nrows, row, step, taps, K)` on the tap and row tables of a pooling walk,
 * written to scratch memory for the call (see `tapWalk` in cpu-window.ts): false, without calling
 * it, for a plan that may read padding (the caller composes).
 */
function withTables(
  host: WindowHost,
  plan: WindowPlan,
  first: number,
  count: number,
  kernel: (...tables: PoolTables) => void,
): boolean {
  const walk = tapWalk(plan, first, count);
  if (walk === null || walk.taps.length === 0) return false;
  const K = walk.taps.length;
  const nrows = walk.rowBase.length;
  const bytes = 4 * (K + nrows);
  const ptr = host.scratch(bytes);
  try {
    const t = host.int32(ptr, K + nrows);
    t.set(walk.taps);
    for (let i = 0; i < nrows; i++) t[K + i] = walk.rowBase[i];
    kernel(ptr + 4 * K, nrows, walk.row, walk.rowStep, ptr, K);
  } finally {
    host.release(ptr, bytes);
  }
  return true;
}

/**
 * The fused window max (see `windowMaxRead` in cpu-window.ts) by `win_max`: false for a plan that
 * may read padding (the caller composes).
 */
export function maxWindows(
  host: WindowHost,
  x: number,
  mx: number,
  ix: number,
  plan: WindowPlan,
  first: number,
  count: number,
): boolean {
  return withTables(host, plan, first, count, (rows, nrows, row, step, taps, K) =>
    host.kernels.win_max(x, mx, ix, rows, nrows, row, step, taps, K),
  );
}

/**
 * The fused pick scatter (see `windowPickScatter` in cpu-window.ts) by `win_pick` into float64
 * sums at `acc` (zero on entry): false for a plan that may read padding.
 */
export function pickScatter(
  host: WindowHost,
  dy: number,
  ix: number,
  acc: number,
  plan: WindowPlan,
  first: number,
  count: number,
): boolean {
  return withTables(host, plan, first, count, (rows, nrows, row, step, taps, K) =>
    host.kernels.win_pick(dy, ix, acc, rows, nrows, row, step, taps, K),
  );
}
