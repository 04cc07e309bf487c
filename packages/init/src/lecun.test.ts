import { Parameter, Rng, ShapeError, zeros as tensorZeros } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { kaimingNormal, kaimingUniform } from './kaiming.js';
import { lecunNormal, lecunNormal_, lecunUniform, lecunUniform_ } from './lecun.js';
import { TRUNCATED_STD_AT_2 } from './normal-cdf.js';
import { distributionOf } from './spec.js';
import { FIXTURE } from './testing/fixture.js';
import { expectMean, expectUniformBounds, expectVariance, MU4, moments } from './testing/stats.js';

// PyTorch has no LeCun initializer; its recipe (kaiming_*_ with nonlinearity='linear', mode='fan_in')
// is the reference: bounds equal (===) those torch passes to uniform_ / normal_.

describe('lecun: PyTorch reference bounds (kaiming with gain 1, fan in)', () => {
  it.each(FIXTURE.bounds.filter((c) => c.init === 'lecunUniform'))(
    'lecunUniform $shape: bound $bound',
    (c) => {
      expect(distributionOf({ name: 'lecunUniform' }, c.shape)).toEqual({
        kind: 'uniform',
        low: -c.bound!,
        high: c.bound!,
      });
    },
  );
  it.each(FIXTURE.bounds.filter((c) => c.init === 'lecunNormal'))('lecunNormal $shape: std $std', (c) => {
    expect(distributionOf({ name: 'lecunNormal' }, c.shape)).toEqual({
      kind: 'normal',
      mean: 0,
      std: c.std!,
    });
  });
  it("truncated: Keras' lecun_normal", () => {
    const s = 1 / Math.sqrt(30) / TRUNCATED_STD_AT_2;
    expect(distributionOf({ name: 'lecunNormal', truncated: true }, [4, 5, 6])).toEqual({
      kind: 'truncatedNormal',
      mean: 0,
      std: s,
      a: -2 * s,
      b: 2 * s,
    });
  });
});

describe.each(testBackends)('lecun on %s', (backend) => {
  useBackend(backend);

  it('lecunUniform: U(-sqrt(3 / fanIn), sqrt(3 / fanIn)); lecunNormal: N(0, 1 / fanIn)', () => {
    const shape = [64, 1024];
    const bound = Math.sqrt(3 / 1024);
    const u = lecunUniform(shape, { rng: new Rng(21) });
    const mu = moments(u.dataSync());
    expectUniformBounds(mu, bound);
    expectMean(mu, 0, bound / Math.sqrt(3));
    expectVariance(mu, 1 / 1024, MU4.uniform(bound));
    const n = lecunNormal(shape, { rng: new Rng(22) });
    const mn = moments(n.dataSync());
    expectMean(mn, 0, 1 / 32);
    expectVariance(mn, 1 / 1024, MU4.normal(1 / 32));
    u.dispose();
    n.dispose();
  });

  it('draws exactly what kaiming with nonlinearity linear draws; in place alike', () => {
    const shape = [5, 3, 2];
    const want = kaimingUniform(shape, { nonlinearity: 'linear', rng: new Rng(8) }).dataSync();
    expect(lecunUniform(shape, { rng: new Rng(8) }).dataSync()).toEqual(want);
    expect(lecunNormal(shape, { rng: new Rng(8) }).dataSync()).toEqual(
      kaimingNormal(shape, { nonlinearity: 'linear', rng: new Rng(8) }).dataSync(),
    );
    const p = new Parameter(tensorZeros(shape));
    expect(lecunUniform_(p, { rng: new Rng(8) }).dataSync()).toEqual(want);
    lecunNormal_(p, { truncated: true, rng: new Rng(9) });
    expect(p.dataSync()).toEqual(lecunNormal(shape, { truncated: true, rng: new Rng(9) }).dataSync());
    p.dispose();
  });

  it('errors: rank < 2; truncated must be a boolean', () => {
    expect(() => lecunUniform([3])).toThrow(ShapeError);
    expect(() => lecunNormal([3, 3], { truncated: 'yes' as unknown as boolean })).toThrow(
      'lecunNormal: truncated must be a boolean, got yes',
    );
  });
});
