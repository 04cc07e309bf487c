import { kaimingUniform } from '@gradkit/init';
import type { Tensor } from '@gradkit/tensor';
import { linear, Module, Rng, randn, ValueError, zeros } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { DropConnect, dropConnect } from './drop-connect.js';
import { hostUniforms } from './testing/stats.js';

const W = [4, 5];

class Layer extends Module {
  readonly fc = this.registerModule('fc', new DropConnect(W, 0.5, { rng: new Rng(40) }));
  readonly b = this.registerParameter('b', zeros([4]));
  forward(x: Tensor): Tensor {
    return linear(x, this.fc.forward(), this.b);
  }
}

describe.each(testBackends)('DropConnect on %s', (backend) => {
  useBackend(backend);

  it('masks weights (not activations): gradients reach only the kept weights, scaled by 1/(1-p)', () => {
    const p = 0.5;
    const w = randn(W, { rng: new Rng(41), requiresGrad: true });
    const x = randn([3, 5], { rng: new Rng(42) });
    const y = linear(x, dropConnect(w, p, { rng: new Rng(43) }));
    y.sum().backward();
    const u = hostUniforms(new Rng(43), 20);
    const xs = x.dataSync();
    const grad = w.grad!.dataSync();
    for (let o = 0; o < 4; o++) {
      for (let i = 0; i < 5; i++) {
        const colSum = xs[i] + xs[5 + i] + xs[10 + i]; // d(sum y)/dW'[o, i]
        const want = u[o * 5 + i] >= p ? colSum * 2 : 0;
        expect(Math.abs(grad[o * 5 + i] - want)).toBeLessThan(1e-5);
      }
    }
  });

  it('the module owns the weight (PyTorch Linear init by default), masks per call, is the weight in eval', () => {
    const layer = new Layer();
    expect(layer.namedParameters().map(([n]) => n)).toEqual(['b', 'fc.weight']); // own parameters first
    expect(layer.fc.weight.dataSync()).toEqual(
      kaimingUniform(W, { a: Math.sqrt(5), rng: new Rng(40) }).dataSync(),
    );
    const a = layer.fc.forward().dataSync();
    const b = layer.fc.forward().dataSync();
    expect(a).not.toEqual(b); // a fresh mask per call
    expect(a.filter((v) => v === 0).length).toBeGreaterThan(0);
    layer.eval();
    expect(layer.fc.forward()).toBe(layer.fc.weight);
    const x = randn([2, 5], { rng: new Rng(44) });
    expect(layer.forward(x).dataSync()).toEqual(linear(x, layer.fc.weight, layer.b).dataSync());
    layer.dispose();
  });

  it('wraps a given tensor or a shape with an init spec; errors', () => {
    const m = new DropConnect(zeros([2, 2]), 0.1);
    expect(m.weight.shape).toEqual([2, 2]);
    const x = new DropConnect([3, 6], 0.1, { init: { name: 'xavierUniform' }, rng: new Rng(1) });
    expect(x.weight.dataSync().every((v) => Math.abs(v) <= Math.sqrt(6 / 9))).toBe(true);
    expect(() => new DropConnect([2, 2], 1)).toThrow('DropConnect: p must be in [0, 1), got 1');
    expect(() => new DropConnect(zeros([2]), 0.5, { init: { name: 'zeros' } })).toThrow(ValueError);
    expect(() => new DropConnect([2, 2], 0.5, { init: { name: 'he' } as never })).toThrow(
      /unknown initializer "he"/,
    );
    expect(() => dropConnect(zeros([2]), -0.1)).toThrow('dropConnect: p must be in [0, 1), got -0.1');
    expect(dropConnect(m.weight, 0.5, { training: false })).toBe(m.weight);
    m.dispose();
    x.dispose();
  });
});
