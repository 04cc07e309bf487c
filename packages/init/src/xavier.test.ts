import { manualSeed, Parameter, Rng, ShapeError, zeros as tensorZeros, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { computeFans } from './fans.js';
import { calculateGain } from './gain.js';
import { TRUNCATED_STD_AT_2 } from './normal-cdf.js';
import { distributionOf } from './spec.js';
import { FIXTURE } from './testing/fixture.js';
import { expectMean, expectUniformBounds, expectVariance, MU4, moments } from './testing/stats.js';
import { xavierNormal, xavierNormal_, xavierUniform, xavierUniform_ } from './xavier.js';

// Bounds and standard deviations: equal (===) to the values torch.nn.init.xavier_*_ passes to
// uniform_ / normal_ (fixtures/init.json). Samples: n = 65536 draws, mean and variance within 5
// standard errors (see testing/stats.ts).

const N = [256, 256] as const; // fanIn + fanOut = 512
const CONV = [32, 16, 8, 16] as const; // 65536 elements, fanIn = 2048, fanOut = 4096

describe('xavier: PyTorch reference bounds', () => {
  it.each(FIXTURE.bounds.filter((c) => c.init === 'xavierUniform'))(
    'xavierUniform $shape $options: bound $bound',
    (c) => {
      const d = distributionOf({ name: 'xavierUniform', ...c.options }, c.shape);
      expect(d).toEqual({ kind: 'uniform', low: -c.bound!, high: c.bound! });
    },
  );
  it.each(FIXTURE.bounds.filter((c) => c.init === 'xavierNormal'))(
    'xavierNormal $shape $options: std $std',
    (c) => {
      const d = distributionOf({ name: 'xavierNormal', ...c.options }, c.shape);
      expect(d).toEqual({ kind: 'normal', mean: 0, std: c.std! });
    },
  );
  it("truncated: Keras' glorot_normal (std / 0.8796, cut at 2 std)", () => {
    const std = Math.sqrt(2 / 8);
    const d = distributionOf({ name: 'xavierNormal', truncated: true }, [3, 5]);
    const s = std / TRUNCATED_STD_AT_2;
    expect(d).toEqual({ kind: 'truncatedNormal', mean: 0, std: s, a: -2 * s, b: 2 * s });
  });
});

describe.each(testBackends)('xavier on %s', (backend) => {
  useBackend(backend);

  it('xavierUniform: U(-b, b), b = gain sqrt(6 / (fanIn + fanOut)); mean 0, variance b^2 / 3', () => {
    for (const [shape, gain] of [
      [N, 1],
      [CONV, calculateGain('relu')],
    ] as const) {
      const { fanIn, fanOut } = computeFans(shape);
      const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
      const w = xavierUniform(shape, { gain, rng: new Rng(1) });
      expect(w.shape).toEqual(shape);
      const m = moments(w.dataSync());
      expectUniformBounds(m, bound);
      expectMean(m, 0, bound / Math.sqrt(3));
      expectVariance(m, bound ** 2 / 3, MU4.uniform(bound));
      w.dispose();
    }
  });

  it('xavierNormal: N(0, gain^2 2 / (fanIn + fanOut)); truncated keeps the variance within 2 std', () => {
    const std = (5 / 3) * Math.sqrt(2 / 512);
    const w = xavierNormal(N, { gain: 5 / 3, rng: new Rng(2) });
    const m = moments(w.dataSync());
    expectMean(m, 0, std);
    expectVariance(m, std ** 2, MU4.normal(std));
    const t = xavierNormal(N, { gain: 5 / 3, truncated: true, rng: new Rng(2) });
    const mt = moments(t.dataSync());
    expectMean(mt, 0, std);
    expectVariance(mt, std ** 2);
    const cut = (2 * std) / TRUNCATED_STD_AT_2;
    expect(mt.max).toBeLessThanOrEqual(Math.fround(cut));
    expect(mt.min).toBeGreaterThanOrEqual(-Math.fround(cut));
    w.dispose();
    t.dispose();
  });

  it('same seed, same weights; the global generator by default (manualSeed)', () => {
    const a = xavierUniform([7, 9], { rng: new Rng(42) }).dataSync();
    const b = xavierUniform([7, 9], { rng: new Rng(42) }).dataSync();
    const c = xavierUniform([7, 9], { rng: new Rng(43) }).dataSync();
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    manualSeed(5);
    const g1 = xavierNormal([7, 9]).dataSync();
    manualSeed(5);
    expect(xavierNormal([7, 9]).dataSync()).toEqual(g1);
  });

  it('in place: fills a Parameter with the values a fresh call draws, keeping it a Parameter', () => {
    const p = new Parameter(tensorZeros([7, 9]));
    const same = xavierUniform_(p, { gain: 2, rng: new Rng(3) });
    expect(same).toBe(p);
    expect(p.requiresGrad).toBe(true);
    expect(p.dataSync()).toEqual(xavierUniform([7, 9], { gain: 2, rng: new Rng(3) }).dataSync());
    xavierNormal_(p, { rng: new Rng(4) });
    expect(p.dataSync()).toEqual(xavierNormal([7, 9], { rng: new Rng(4) }).dataSync());
    p.dispose();
  });

  it('errors: rank < 2, negative gain', () => {
    expect(() => xavierUniform([5])).toThrow(ShapeError);
    expect(() => xavierUniform([5])).toThrow(
      /computeFans: fan in and fan out can not be computed .* got shape \[5\]/,
    );
    expect(() => xavierNormal([])).toThrow(ShapeError);
    expect(() => xavierUniform([3, 4], { gain: -1 })).toThrow(ValueError);
    expect(() => xavierUniform([3, 4], { gain: -1 })).toThrow('xavierUniform: gain must be >= 0, got -1');
    expect(() => xavierNormal([3, 4], { gain: Number.NaN })).toThrow(
      'xavierNormal: gain must be a finite number, got NaN',
    );
  });

  it('a zero-element weight is returned empty without drawing', () => {
    const rng = new Rng(9);
    const before = rng.state();
    expect(xavierUniform([0, 4], { rng }).shape).toEqual([0, 4]);
    expect(rng.state()).toEqual(before);
  });
});
