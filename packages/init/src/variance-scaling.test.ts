import { Parameter, Rng, ShapeError, zeros as tensorZeros, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { TRUNCATED_STD_AT_2 } from './normal-cdf.js';
import { distributionOf } from './spec.js';
import { expectMean, expectUniformBounds, expectVariance, MU4, moments } from './testing/stats.js';
import { varianceScaling, varianceScaling_ } from './variance-scaling.js';
import { xavierUniform } from './xavier.js';

// Keras' VarianceScaling: variance scale / fan. Formulas from the Keras source
// (keras/initializers/initializers_v2.py): uniform limit sqrt(3 scale / fan); truncated normal
// stddev sqrt(scale / fan) / .87962566103423978 cut at 2 stddev.

describe('varianceScaling: the distributions of Keras', () => {
  it('he_normal, glorot_uniform, lecun_uniform, fanOut normal', () => {
    const s = Math.sqrt(2 / 64) / TRUNCATED_STD_AT_2;
    expect(distributionOf({ name: 'varianceScaling', scale: 2 }, [10, 64])).toEqual({
      kind: 'truncatedNormal',
      mean: 0,
      std: s,
      a: -2 * s,
      b: 2 * s,
    });
    const limit = Math.sqrt(3 / ((64 + 10) / 2));
    expect(
      distributionOf({ name: 'varianceScaling', mode: 'fanAvg', distribution: 'uniform' }, [10, 64]),
    ).toEqual({
      kind: 'uniform',
      low: -limit,
      high: limit,
    });
    const d = distributionOf({ name: 'xavierUniform' }, [10, 64]);
    expect(d.kind === 'uniform' && Math.abs(d.high - limit) / limit).toBeLessThan(1e-15);
    expect(
      distributionOf({ name: 'varianceScaling', mode: 'fanOut', distribution: 'normal' }, [10, 64]),
    ).toEqual({
      kind: 'normal',
      mean: 0,
      std: Math.sqrt(1 / 10),
    });
  });
});

describe.each(testBackends)('varianceScaling on %s', (backend) => {
  useBackend(backend);

  it('truncated normal (default): variance scale / fan, values within 2 std / 0.8796', () => {
    const std = Math.sqrt(2 / 256);
    const m = moments(varianceScaling([256, 256], { scale: 2, rng: new Rng(71) }).dataSync());
    expectMean(m, 0, std);
    expectVariance(m, std * std);
    expect(Math.max(m.max, -m.min)).toBeLessThanOrEqual(Math.fround((2 * std) / TRUNCATED_STD_AT_2));
  });

  it('uniform with fanAvg draws what xavierUniform draws (within rounding of the bound)', () => {
    const a = varianceScaling([32, 48], {
      mode: 'fanAvg',
      distribution: 'uniform',
      rng: new Rng(2),
    }).dataSync();
    const b = xavierUniform([32, 48], { rng: new Rng(2) }).dataSync();
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-7);
    const m = moments(varianceScaling([256, 256], { distribution: 'uniform', rng: new Rng(3) }).dataSync());
    const bound = Math.sqrt(3 / 256);
    expectUniformBounds(m, bound);
    expectVariance(m, 1 / 256, MU4.uniform(bound));
  });

  it('in place; errors', () => {
    const p = new Parameter(tensorZeros([4, 4]));
    varianceScaling_(p, { rng: new Rng(1) });
    expect(p.dataSync()).toEqual(varianceScaling([4, 4], { rng: new Rng(1) }).dataSync());
    p.dispose();
    expect(() => varianceScaling([4])).toThrow(ShapeError);
    expect(() => varianceScaling([4, 4], { scale: 0 })).toThrow('varianceScaling: scale must be > 0, got 0');
    expect(() => varianceScaling([4, 4], { mode: 'fan_avg' as 'fanAvg' })).toThrow(ValueError);
    expect(() => varianceScaling([4, 4], { distribution: 'untruncated_normal' as 'normal' })).toThrow(
      /distribution must be 'truncatedNormal', 'normal' or 'uniform'/,
    );
  });
});
