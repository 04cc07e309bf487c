import { memory } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { adam, sgd } from './index.js';
import { Affine, backwardLsq, lsqData } from './testing/models.js';

describe.each(testBackends)('step() after the model was disposed, on %s', (backend) => {
  useBackend(backend);

  it('is a ValueError naming the parameter, raised before anything changes', () => {
    const live = memory().tensors;
    for (const make of [
      (m: Affine) => adam(m, { lr: 0.1 }),
      (m: Affine) => sgd(m, { lr: 0.1, momentum: 0.9 }),
    ]) {
      const model = new Affine();
      const opt = make(model);
      const { x, y } = lsqData();
      backwardLsq(model, x, y);
      opt.step();
      const before = opt.stateDict();
      backwardLsq(model, x, y);
      model.dispose(); // frees the weights and their gradients
      // the old step saw grad === null for every parameter and returned having done nothing
      expect(() => opt.step()).toThrow(/\.step: parameter 'w' was disposed \(was the model disposed\?\)/);
      expect(opt.stateDict()).toEqual(before);
      opt.dispose();
      x.dispose();
      y.dispose();
    }
    expect(memory().tensors).toBe(live);
  });

  it('a closure is not called either', () => {
    const model = new Affine();
    const opt = adam(model);
    model.dispose();
    let called = false;
    expect(() =>
      opt.step(() => {
        called = true;
      }),
    ).toThrow(/parameter 'w' was disposed/);
    expect(called).toBe(false);
    opt.dispose();
  });
});
