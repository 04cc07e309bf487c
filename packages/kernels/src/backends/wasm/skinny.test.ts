// The wasm backend's skinny products (scripts/wasm-skinny-gen.mjs): which shapes take them, and
// their values against a float64 reference, at the shapes of LeNet-5's convolutions and at edge
// shapes (one row or column, depths below and across the 4-lane and 512-float chunk boundaries).
import { afterAll, describe, expect, it } from 'vitest';
import { createDevice } from '../../select.js';
import { testData } from '../../testing/reference.js';
import { skinnyPlan } from './skinny.js';
import { probeWasm } from './wasm.js';

describe('skinnyPlan', () => {
  it("routes a convolution's weight gradient to 'dot' at any thread count", () => {
    expect(skinnyPlan(6, 100352, 25, false, true, 1)).toBe('dot');
    expect(skinnyPlan(16, 12800, 150, false, true, 2)).toBe('dot');
  });
  it("routes long rows with few rows or a short depth to 'small' on one thread only", () => {
    expect(skinnyPlan(6, 25, 100352, false, false, 1)).toBe('small');
    expect(skinnyPlan(150, 16, 12800, true, false, 1)).toBe('small');
    expect(skinnyPlan(6, 25, 100352, false, false, 2)).toBeNull();
  });
  it('leaves MLP-shaped and square products to the GEMM', () => {
    expect(skinnyPlan(128, 784, 256, false, true, 1)).toBeNull(); // result too large
    expect(skinnyPlan(6, 100, 25, false, true, 1)).toBeNull(); // depth too short
    expect(skinnyPlan(64, 64, 64, false, false, 1)).toBeNull();
    expect(skinnyPlan(6, 100352, 25, true, true, 1)).toBeNull(); // A transposed: not rows
    expect(skinnyPlan(8, 25, 1000, false, false, 1)).toBeNull(); // rows too short
  });
});

const wasmOk = probeWasm().ok;
if (!wasmOk) console.log(`skipping the wasm skinny product tests: ${JSON.stringify(probeWasm())}`);

describe.skipIf(!wasmOk)('wasm skinny products against a float64 reference', () => {
  const d = createDevice({ backend: 'wasm', threads: 1 });
  afterAll(() => d.destroy());

  /**
   * C = op(A) op(B) on wasm; each element within 1e-5 of sum |a b| (+ 1e-30) of the float64
   * product (float32 sums of up to 1e5 terms in chunks: typically 1e-7 of it).
   */
  function check(m: number, k: number, n: number, transA: boolean, transB: boolean, seed: number): void {
    const av = testData(m * k, seed);
    const bv = testData(k * n, seed + 1);
    const A = d.array(av, transA ? [k, m] : [m, k]);
    const B = d.array(bv, transB ? [n, k] : [k, n]);
    const C = d.matmul(A, B, { transA, transB });
    const got = C.read();
    expect([...C.shape]).toEqual([m, n]);
    for (const t of [A, B, C]) t.dispose();
    const a = (i: number, t: number) => av[transA ? t * m + i : i * k + t];
    const b = (t: number, j: number) => bv[transB ? j * k + t : t * n + j];
    let worst = 0;
    // every row and column for small results, else a sample (the long products are 1e7 terms)
    const rows =
      m * n <= 4096 ? Array.from({ length: m }, (_, i) => i) : [0, 1, m - 2, m - 1].filter((i) => i >= 0);
    const cols = m * n <= 4096 ? Array.from({ length: n }, (_, j) => j) : [0, 1, 2, 3, 7, 8, 9, n - 5, n - 1];
    for (const i of rows) {
      for (const j of cols) {
        let s = 0;
        let mag = 0;
        for (let t = 0; t < k; t++) {
          s += a(i, t) * b(t, j);
          mag += Math.abs(a(i, t) * b(t, j));
        }
        const err = Math.abs(got[i * n + j] - s) / (mag + 1e-30);
        worst = Math.max(worst, err);
      }
    }
    expect(worst, `${m}x${k}x${n} transA ${transA} transB ${transB}`).toBeLessThan(1e-5);
  }

  it("'dot': LeNet-5's weight gradients and edge shapes", () => {
    const shapes: [number, number, number][] = [
      [6, 100352, 25],
      [16, 12800, 150],
      [1, 1024, 1],
      [3, 1031, 5], // odd rows and columns, a depth tail of 3 past two full chunks
      [2, 513, 4], // one float past a chunk
      [7, 4096, 9],
    ];
    for (const [m, k, n] of shapes) {
      expect(skinnyPlan(m, k, n, false, true, 1)).toBe('dot');
      check(m, k, n, false, true, m + k + n);
    }
  });

  it("'small': LeNet-5's forward and data-gradient products and edge shapes", () => {
    const shapes: [number, number, number, boolean][] = [
      [6, 25, 100352, false],
      [16, 150, 12800, false],
      [150, 16, 12800, true],
      [1, 1, 1024, false],
      [7, 3, 1029, false], // rows 4 + 2 + 1, columns 8s + 4 + 1
      [5, 33, 1030, true],
    ];
    for (const [m, k, n, transA] of shapes) {
      expect(skinnyPlan(m, k, n, transA, false, 1)).toBe('small');
      check(m, k, n, transA, false, m + k + n);
    }
  });

  it('NaN and infinity propagate as in any product', () => {
    const av = new Float32Array(6 * 300).fill(1);
    av[5] = Number.NaN;
    av[300 + 7] = Number.POSITIVE_INFINITY;
    const A = d.array(av, [6, 300]);
    const B = d.array(new Float32Array(2 * 300).fill(0.5), [2, 300]);
    const C = d.matmul(A, B, { transB: true }).read();
    expect(Array.from(C.slice(0, 4))).toEqual([
      Number.NaN,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
    ]);
    expect(C[4]).toBe(150);
    A.dispose();
    B.dispose();
  });
});
