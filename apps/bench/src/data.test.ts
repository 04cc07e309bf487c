import { describe, expect, it } from 'vitest';
import { checksum, initialWeights, permutation, trainOrder, transposed } from './data.js';

describe('data order', () => {
  it('permutation is a seeded permutation of 0..n-1', () => {
    const p = permutation(1000, 42);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(permutation(1000, 42))).toEqual(Array.from(p));
    expect(Array.from(permutation(1000, 43))).not.toEqual(Array.from(p));
  });

  it('trainOrder is a prefix of the full permutation', () => {
    expect(Array.from(trainOrder(10, 42, 100))).toEqual(Array.from(permutation(100, 42).subarray(0, 10)));
  });

  it('checksum depends on values and order', () => {
    const x = [0.5, 0.25, 1];
    expect(checksum(x, [1, 2])).toBe(checksum(Float32Array.from(x), Int32Array.from([1, 2])));
    expect(checksum(x, [1, 2])).not.toBe(checksum([0.25, 0.5, 1], [1, 2]));
    expect(checksum(x, [1, 2])).not.toBe(checksum(x, [2, 1]));
  });
});

describe('initialWeights', () => {
  it('draws Glorot-uniform kernels within the limit, zero biases, reproducibly', () => {
    const a = initialWeights([784, 256, 10], 42);
    const b = initialWeights([784, 256, 10], 42);
    expect(a.map((l) => [l.in, l.out, l.w.length, l.b.length])).toEqual([
      [784, 256, 784 * 256, 256],
      [256, 10, 2560, 10],
    ]);
    for (const [l, lw] of a.entries()) {
      const limit = Math.sqrt(6 / (lw.in + lw.out));
      let sq = 0;
      for (const v of lw.w) {
        expect(Math.abs(v)).toBeLessThanOrEqual(limit);
        sq += v * v;
      }
      // variance of U(-L, L) is L^2 / 3; 5 standard errors
      const n = lw.w.length;
      expect(Math.abs(sq / n - (limit * limit) / 3)).toBeLessThan(
        (5 * (limit * limit) * Math.sqrt(4 / 45)) / Math.sqrt(n),
      );
      expect(Array.from(lw.b).every((v) => v === 0)).toBe(true);
      expect(Array.from(lw.w)).toEqual(Array.from(b[l].w));
    }
    expect(Array.from(initialWeights([4, 3], 1)[0].w)).not.toEqual(
      Array.from(initialWeights([4, 3], 2)[0].w),
    );
  });

  it('transposed gives the [in, out] kernel TF.js expects', () => {
    const lw = { in: 2, out: 3, w: Float32Array.from([1, 2, 3, 4, 5, 6]), b: new Float32Array(3) };
    expect(Array.from(transposed(lw))).toEqual([1, 3, 5, 2, 4, 6]);
  });
});
