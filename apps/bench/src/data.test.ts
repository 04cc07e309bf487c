import { describe, expect, it } from 'vitest';
import { checksum, permutation, trainOrder } from './data.js';

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
