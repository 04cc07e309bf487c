import type { Tensor } from '@gradkit/tensor';
import { manualSeed, Parameter, Rng, ShapeError, zeros as tensorZeros, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import type { Nonlinearity } from './gain.js';
import { calculateGain } from './gain.js';
import { kaimingNormal, kaimingNormal_, kaimingUniform, kaimingUniform_ } from './kaiming.js';
import { TRUNCATED_STD_AT_2 } from './normal-cdf.js';
import { distributionOf } from './spec.js';
import { FIXTURE } from './testing/fixture.js';
import { expectMean, expectUniformBounds, expectVariance, MU4, moments } from './testing/stats.js';

// Bounds and standard deviations: equal (===) to the values torch.nn.init.kaiming_*_ passes to
// uniform_ / normal_ (fixtures/init.json: default, a = sqrt 5, fan_out + relu, leaky_relu 0.2,
// fan_out + tanh, selu; six shapes). Samples: n = 65536, within 5 standard errors.

const WIDE = [128, 512] as const; // fanIn 512, fanOut 128: the mode matters
const CONV = [32, 16, 8, 16] as const; // fanIn 2048, fanOut 4096

describe('kaiming: PyTorch reference bounds', () => {
  it.each(FIXTURE.bounds.filter((c) => c.init === 'kaimingUniform'))(
    'kaimingUniform $shape $options: bound $bound',
    (c) => {
      const d = distributionOf({ name: 'kaimingUniform', ...c.options }, c.shape);
      expect(d).toEqual({ kind: 'uniform', low: -c.bound!, high: c.bound! });
    },
  );
  it.each(FIXTURE.bounds.filter((c) => c.init === 'kaimingNormal'))(
    'kaimingNormal $shape $options: std $std',
    (c) => {
      const d = distributionOf({ name: 'kaimingNormal', ...c.options }, c.shape);
      expect(d).toEqual({ kind: 'normal', mean: 0, std: c.std! });
    },
  );
  it("a = sqrt(5) gives PyTorch's nn.Linear default bound 1 / sqrt(fanIn)", () => {
    const d = distributionOf({ name: 'kaimingUniform', a: Math.sqrt(5) }, [10, 64]);
    expect(d.kind === 'uniform' && d.high).toBeCloseTo(1 / 8, 15);
  });
  it("truncated: Keras' he_normal (std sqrt(2 / fanIn) / 0.8796, cut at 2 std)", () => {
    const s = Math.sqrt(2) / Math.sqrt(64) / TRUNCATED_STD_AT_2;
    const d = distributionOf({ name: 'kaimingNormal', nonlinearity: 'relu', truncated: true }, [10, 64]);
    expect(d).toEqual({ kind: 'truncatedNormal', mean: 0, std: s, a: -2 * s, b: 2 * s });
  });
});

describe.each(testBackends)('kaiming on %s', (backend) => {
  useBackend(backend);

  const stats = (t: Tensor) => {
    const m = moments(t.dataSync());
    t.dispose();
    return m;
  };

  it('kaimingUniform: U(-b, b), b = gain sqrt(3 / fan), for both modes and several gains', () => {
    const cases: [readonly number[], 'fanIn' | 'fanOut', Nonlinearity, number, number][] = [
      [WIDE, 'fanIn', 'leakyRelu', 0, 512],
      [WIDE, 'fanOut', 'relu', 0, 128],
      [CONV, 'fanIn', 'leakyRelu', 0.2, 2048],
      [CONV, 'fanOut', 'tanh', 0, 4096],
    ];
    for (const [shape, mode, nonlinearity, a, fan] of cases) {
      const bound = calculateGain(nonlinearity, a) * Math.sqrt(3 / fan);
      const m = stats(kaimingUniform(shape, { mode, nonlinearity, a, rng: new Rng(11) }));
      expectUniformBounds(m, bound);
      expectMean(m, 0, bound / Math.sqrt(3));
      expectVariance(m, bound ** 2 / 3, MU4.uniform(bound), `${mode} ${nonlinearity}`);
    }
  });

  it('kaimingNormal: N(0, gain^2 / fan); truncated (Keras) keeps the variance, cut at 2 std / 0.8796', () => {
    const std = Math.sqrt(2) / Math.sqrt(128);
    const m = stats(kaimingNormal(WIDE, { mode: 'fanOut', nonlinearity: 'relu', rng: new Rng(12) }));
    expectMean(m, 0, std);
    expectVariance(m, std ** 2, MU4.normal(std));
    const mt = stats(
      kaimingNormal(WIDE, { mode: 'fanOut', nonlinearity: 'relu', truncated: true, rng: new Rng(12) }),
    );
    expectMean(mt, 0, std);
    expectVariance(mt, std ** 2);
    expect(mt.max).toBeLessThanOrEqual(Math.fround((2 * std) / TRUNCATED_STD_AT_2));
    expect(mt.min).toBeGreaterThanOrEqual(-Math.fround((2 * std) / TRUNCATED_STD_AT_2));
    // The plain normal reaches beyond the Keras cut (2.27 std) somewhere among 65536 draws.
    expect(m.max).toBeGreaterThan((2 * std) / TRUNCATED_STD_AT_2);
  });

  it('same seed, same weights; manualSeed drives the default generator', () => {
    const a = kaimingNormal([6, 4, 3], { rng: new Rng(1) }).dataSync();
    expect(kaimingNormal([6, 4, 3], { rng: new Rng(1) }).dataSync()).toEqual(a);
    expect(kaimingNormal([6, 4, 3], { rng: new Rng(2) }).dataSync()).not.toEqual(a);
    manualSeed(77);
    const g = kaimingUniform([6, 4, 3]).dataSync();
    manualSeed(77);
    expect(kaimingUniform([6, 4, 3]).dataSync()).toEqual(g);
  });

  it('in place on a Parameter: the same values as a fresh draw; the gradient is kept', () => {
    const p = new Parameter(tensorZeros([6, 4]));
    p.sum().backward();
    const grad = p.grad;
    expect(kaimingUniform_(p, { nonlinearity: 'relu', rng: new Rng(5) })).toBe(p);
    expect(p.dataSync()).toEqual(
      kaimingUniform([6, 4], { nonlinearity: 'relu', rng: new Rng(5) }).dataSync(),
    );
    kaimingNormal_(p, { mode: 'fanOut', rng: new Rng(6) });
    expect(p.dataSync()).toEqual(kaimingNormal([6, 4], { mode: 'fanOut', rng: new Rng(6) }).dataSync());
    expect(p.grad).toBe(grad);
    p.dispose();
  });

  it('errors: rank < 2, unknown mode or nonlinearity, bad slope', () => {
    expect(() => kaimingUniform([8])).toThrow(ShapeError);
    expect(() => kaimingNormal_(tensorZeros([8]))).toThrow(ShapeError);
    expect(FIXTURE.kaimingModeError).toMatch(/Mode fan_avg not supported/);
    expect(() => kaimingUniform([3, 4], { mode: 'fanAvg' as 'fanIn' })).toThrow(
      `kaimingUniform: mode must be 'fanIn' or 'fanOut', got "fanAvg"`,
    );
    expect(() => kaimingNormal([3, 4], { nonlinearity: 'swish' as Nonlinearity })).toThrow(ValueError);
    expect(() => kaimingNormal([3, 4], { nonlinearity: 'swish' as Nonlinearity })).toThrow(
      /unsupported nonlinearity "swish"/,
    );
    expect(() => kaimingUniform([3, 4], { a: Number.POSITIVE_INFINITY })).toThrow(
      'kaimingUniform: a must be a finite number, got Infinity',
    );
  });

  it('a zero-element weight is returned empty without drawing (PyTorch: a no-op)', () => {
    const rng = new Rng(3);
    const s = rng.state();
    expect(kaimingUniform([0, 5], { mode: 'fanOut', rng }).size).toBe(0);
    expect(rng.state()).toEqual(s);
  });
});
