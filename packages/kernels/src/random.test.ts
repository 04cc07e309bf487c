import { describe, expect, it } from 'vitest';
import { Rng } from './random.js';

describe('Rng', () => {
  it('is deterministic from its seed and differs across seeds', () => {
    const a = new Rng(123);
    const b = new Rng(123);
    const c = new Rng(124);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xs);
  });

  it('restores its state exactly', () => {
    const r = new Rng(5);
    r.uniform();
    const s = r.state();
    const first = [r.uniform(), r.normal(), r.nextU32()];
    r.setState(s);
    expect([r.uniform(), r.normal(), r.nextU32()]).toEqual(first);
    expect(() => r.setState([1, 2, 3] as unknown as [number, number, number, number])).toThrow(
      /four unsigned/,
    );
  });

  it('uniform covers [0, 1) with the right moments', () => {
    const r = new Rng(1);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      s += u;
      s2 += u * u;
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(Math.abs(s / n - 0.5)).toBeLessThan(0.002); // sd of the mean: 0.00065
    expect(Math.abs(s2 / n - s ** 2 / n ** 2 - 1 / 12)).toBeLessThan(0.001);
  });

  it('normal has mean 0, variance 1 and the right tail mass', () => {
    const r = new Rng(2);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let tail = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
      if (Math.abs(z) > 1.96) tail++;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.01);
    expect(Math.abs(tail / n - 0.05)).toBeLessThan(0.003);
  });

  it('a saved state after an odd-length normal fill reproduces the next draws', () => {
    const r = new Rng(3);
    r.fillNormal(new Float32Array(3));
    const s = r.state();
    const next = r.fillNormal(new Float32Array(4));
    r.setState(s);
    expect(r.fillNormal(new Float32Array(4))).toEqual(next);
  });

  it('rejects a non-integer seed', () => {
    expect(() => new Rng(0.5)).toThrow(/seed must be an integer/);
  });
});
