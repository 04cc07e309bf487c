import type { Tensor } from '@gradkit/tensor';
import { linear, Module, manualSeed, Rng, randn } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import * as init from './index.js';

// The README's example, run as written (with the package imported from source).

class Mlp extends Module {
  readonly w1 = this.registerParameter('w1', init.kaimingUniform([64, 784], { nonlinearity: 'relu' }));
  readonly b1 = this.registerParameter('b1', init.zeros([64]));
  readonly w2 = this.registerParameter('w2', init.xavierUniform([10, 64]));
  readonly b2 = this.registerParameter('b2', init.zeros([10]));
  forward(x: Tensor): Tensor {
    return linear(linear(x, this.w1, this.b1, { activation: 'relu' }), this.w2, this.b2);
  }
}

describe.each(testBackends)('README example on %s', (backend) => {
  useBackend(backend);

  it('builds, re-initializes and describes a model deterministically', () => {
    manualSeed(0);
    const model = new Mlp();
    init.orthogonal_(model.w2, { rng: new Rng(1) });
    const names = init.initializeParameters(
      model,
      { w1: { name: 'kaimingNormal', mode: 'fanOut', nonlinearity: 'relu' }, b1: { name: 'zeros' } },
      { rng: new Rng(2) },
    );
    expect(names).toEqual(['w1', 'b1']);
    const d = init.distributionOf({ name: 'kaimingUniform', nonlinearity: 'relu' }, [64, 784]);
    expect(d).toEqual({ kind: 'uniform', low: -Math.sqrt(6 / 784), high: Math.sqrt(6 / 784) });
    const y = model.forward(randn([2, 784], { rng: new Rng(3) }));
    expect(y.shape).toEqual([2, 10]);
    manualSeed(0);
    const again = new Mlp();
    expect(again.w1.dataSync()).not.toEqual(model.w1.dataSync()); // model.w1 was re-initialized
    init.initializeParameters(
      again,
      { w1: { name: 'kaimingNormal', mode: 'fanOut', nonlinearity: 'relu' } },
      { rng: new Rng(2) },
    );
    expect(again.w1.dataSync()).toEqual(model.w1.dataSync());
    model.dispose();
    again.dispose();
  });
});
