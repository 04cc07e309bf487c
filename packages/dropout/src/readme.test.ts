import { kaimingUniform, zeros } from '@gradkit/init';
import type { Tensor } from '@gradkit/tensor';
import { getRng, linear, Module, manualSeed, Rng, randn } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { Dropout, dropout, dropout2d } from './index.js';

// The README's example, run as written (the package imported from source).

class Mlp extends Module {
  readonly w1 = this.registerParameter('w1', kaimingUniform([64, 784], { nonlinearity: 'relu' }));
  readonly b1 = this.registerParameter('b1', zeros([64]));
  readonly w2 = this.registerParameter('w2', kaimingUniform([10, 64], { a: Math.sqrt(5) }));
  readonly b2 = this.registerParameter('b2', zeros([10]));
  readonly drop = this.registerModule('drop', new Dropout(0.5));
  forward(x: Tensor): Tensor {
    const h = linear(x, this.w1, this.b1, { activation: 'relu' });
    return linear(this.drop.forward(h), this.w2, this.b2);
  }
}

describe.each(testBackends)('README example on %s', (backend) => {
  useBackend(backend);

  it('trains with masks, evaluates without, and is reproducible from the seed', () => {
    manualSeed(0);
    const model = new Mlp();
    const x = randn([32, 784]);
    const train = model.forward(x).dataSync();
    model.eval();
    const state = getRng().state();
    const test = model.forward(x).dataSync();
    expect(getRng().state()).toEqual(state);
    expect(test).not.toEqual(train);
    const y = dropout(x, 0.2, { rng: new Rng(7) });
    expect(y.shape).toEqual([32, 784]);
    expect(dropout(x, 0.2, { training: false })).toBe(x);

    manualSeed(0);
    const again = new Mlp();
    expect(again.forward(randn([32, 784])).dataSync()).toEqual(train);
    model.dispose();
    again.dispose();
  });

  it('spatial dropout: the per-channel sums are 0 exactly where a channel was dropped', () => {
    const maps = dropout2d(randn([2, 8, 4, 4]), 0.5, { rng: new Rng(1) });
    const perChannel = maps.abs().sum([2, 3]);
    expect(perChannel.shape).toEqual([2, 8]);
    const kept = perChannel.notEqual(0).sum(1).toArray() as number[];
    const u = Array.from(
      { length: 16 },
      (
        (r) => () =>
          r.uniform()
      )(new Rng(1)),
    );
    expect(kept).toEqual([0, 1].map((n) => u.slice(n * 8, n * 8 + 8).filter((v) => v >= 0.5).length));
  });
});
