import { memory, tensor } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { adamTransform } from './adam.js';
import { chain } from './chain.js';
import { clipByGlobalNorm } from './clip-by-global-norm.js';
import { injectHyperparams } from './inject-hyperparams.js';
import { scaleByAdam } from './scale-by-adam.js';
import { scaleByLearningRate } from './scale-by-learning-rate.js';
import { expectValueError } from './testing/errors.js';
import { Affine, backwardLsq, lsqData } from './testing/models.js';
import { fromTransformation } from './transformation-optimizer.js';

const make = (model: Affine) =>
  fromTransformation(
    model,
    chain(clipByGlobalNorm(0.5), injectHyperparams(adamTransform)({ lr: 0.05, amsgrad: true })),
  );

describe.each(testBackends)('fromTransformation on %s', (backend) => {
  const device = useBackend(backend);

  it('steps a chain on the parameters: memory flat, no read-back, lr settable', () => {
    const model = new Affine();
    const { x, y, dispose } = lsqData();
    const opt = make(model);
    const loss0 = lossOf(model, x, y);
    const live = () => ({ tensors: memory().tensors, buffers: memory().buffers, bytes: memory().bytes });
    let at5 = live();
    for (let i = 0; i < 60; i++) {
      backwardLsq(model, x, y);
      const before = device().memory().readbacks;
      opt.step();
      expect(device().memory().readbacks).toBe(before);
      opt.zeroGrad();
      if (i === 4) at5 = live();
      if (i === 30) opt.setLr(0.01);
    }
    expect(live()).toEqual(at5);
    expect(opt.getLr()).toBe(0.01);
    expect(lossOf(model, x, y)).toBeLessThan(loss0 / 10);
    opt.dispose();
    dispose();
    model.dispose();
  });

  it('stateDict -> JSON -> loadStateDict resumes bit for bit', () => {
    const { x, y, dispose } = lsqData();
    const a = new Affine();
    const opt = make(a);
    const train = (m: Affine, o: ReturnType<typeof make>, n: number) => {
      for (let i = 0; i < n; i++) {
        backwardLsq(m, x, y);
        o.step();
        o.zeroGrad();
      }
    };
    train(a, opt, 4);
    opt.setLr(0.03);
    const json = JSON.stringify(opt.stateDict());
    const w = a.w.dataSync();
    const bias = a.b.dataSync();
    train(a, opt, 5);
    const b = new Affine();
    b.w.assign(tensor(w, [2, 3]));
    b.b.assign(tensor(bias, [2]));
    const opt2 = make(b);
    opt2.loadStateDict(JSON.parse(json));
    expect(opt2.getLr()).toBe(0.03);
    train(b, opt2, 5);
    expect(b.w.dataSync()).toEqual(a.w.dataSync());
    expect(b.b.dataSync()).toEqual(a.b.dataSync());
    expectValueError(
      () => opt2.loadStateDict({ optimizer: 'Adam' } as never),
      'TransformationOptimizer.loadStateDict: expected a GradientTransformation state dict',
    );
    for (const o of [opt, opt2]) o.dispose();
    for (const m of [a, b]) m.dispose();
    dispose();
  });

  it('setLr needs an injectable learning rate', () => {
    const model = new Affine();
    const opt = fromTransformation(model, chain(scaleByAdam(), scaleByLearningRate(0.1)));
    expectValueError(
      () => opt.setLr(0.2),
      'TransformationOptimizer.setLr: the transformation has no injectable lr: build it with injectHyperparams(...)({ lr, ... })',
    );
    opt.dispose();
    model.dispose();
  });
});

function lossOf(model: Affine, x: Parameters<Affine['forward']>[0], y: typeof x): number {
  const d = model.forward(x).sub(y);
  const l = d.square().mean();
  const v = l.item();
  for (const t of [d, l]) t.dispose();
  return v;
}
