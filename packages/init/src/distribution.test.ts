import { Rng, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { sample } from './distribution.js';
import { kaimingUniform } from './kaiming.js';
import { distributionOf } from './spec.js';

describe.each(testBackends)('sample on %s', (backend) => {
  const device = useBackend(backend);

  it('sampling distributionOf(spec) draws the same numbers as the initializer', () => {
    const d = distributionOf({ name: 'kaimingUniform', mode: 'fanOut' }, [8, 5]);
    expect(sample(d, [8, 5], { rng: new Rng(1) }).dataSync()).toEqual(
      kaimingUniform([8, 5], { mode: 'fanOut', rng: new Rng(1) }).dataSync(),
    );
  });

  it('creates on the given device with requiresGrad; a zero-width uniform is constant', () => {
    const t = sample({ kind: 'uniform', low: 0, high: 0 }, [3], { device: device(), requiresGrad: true });
    expect(t.device).toBe(device());
    expect(t.requiresGrad).toBe(true);
    expect(t.dataSync()).toEqual(new Float32Array(3));
  });

  it('rejects unknown kinds and invalid parameters', () => {
    expect(() => sample({ kind: 'cauchy' } as never, [2])).toThrow(ValueError);
    expect(() => sample({ kind: 'uniform', low: 1, high: 0 }, [2])).toThrow(
      'sample: low must be <= high, got [1, 0)',
    );
    expect(() => sample({ kind: 'normal', mean: 0, std: -1 }, [2])).toThrow(
      'sample: std must be >= 0, got -1',
    );
  });
});
