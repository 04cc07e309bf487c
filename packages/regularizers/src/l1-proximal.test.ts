import { memory, scope, tensor } from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { l1Proximal } from './l1-proximal.js';
import { expectValueError, REF } from './testing/check.js';
import { FIXTURE, FixtureModel, namedTensors, paramsOf } from './testing/fixture.js';
import { applyUpdates, chain, scale } from './testing/local-optim.js';

// Against PyTorch's softshrink of the SGD step (fixtures/generate.py, float64) within REF (1e-6
// abs + 1e-5 rel); zeros must be exact.

describe.each(testBackends)('l1Proximal on %s', (backend) => {
  useBackend(backend);

  it("after an SGD step matches PyTorch's softshrink(w - lr g, lr lambda), with exact zeros", () =>
    scope(() => {
      const { lr, lambda, after, zeros } = FIXTURE.proximal;
      const model = new FixtureModel(FIXTURE.params);
      const params = paramsOf(model);
      const opt = chain(scale(-lr), l1Proximal(lambda, { learningRate: lr }));
      const before = memory().readbacks;
      const [updates] = opt.update(namedTensors(FIXTURE.grads), opt.init(params), params);
      applyUpdates(params, updates);
      expect(memory().readbacks).toBe(before);
      let exactZeros = 0;
      for (const [k, p] of Object.entries(params)) {
        expectClose(p, after[k].data, REF, k);
        const got = p.dataSync();
        after[k].data.forEach((v, i) => {
          if (v === 0) {
            expect(got[i], `${k}[${i}]`).toBe(0);
            exactZeros++;
          }
        });
      }
      expect(exactZeros).toBe(zeros);
      model.dispose();
    }));

  it('follows a learning-rate schedule (threshold lr_t lambda) and counts updates', () =>
    scope(() => {
      const w = tensor([0.3, -0.3, 0.05, 1], [2, 2]);
      const tx = l1Proximal(1, { learningRate: (t) => [0.1, 0.4][t] });
      const zero = tensor([0, 0, 0, 0], [2, 2]);
      const [u0, s0] = tx.update({ w: zero }, tx.init({ w }), { w });
      expect(s0).toEqual({ count: 1 });
      expectClose(w.add(u0.w), [0.2, -0.2, 0, 0.9], REF);
      const [u1, s1] = tx.update({ w: zero }, s0, { w });
      expect(s1).toEqual({ count: 2 });
      const next = w.add(u1.w).dataSync();
      expect(Array.from(next.subarray(0, 3))).toEqual([0, 0, 0]);
      expectClose(next.subarray(3), [0.6], REF);
    }));

  it('gives a NaN update for a NaN weight or update (no silent zero)', () =>
    scope(() => {
      const w = tensor([[Number.NaN, 0.01]]);
      const tx = l1Proximal(1, { learningRate: 0.1 });
      const [u] = tx.update({ w: tensor([[0, Number.NaN]]) }, tx.init({ w }), { w });
      const got = u.w.dataSync();
      expect(Number.isNaN(got[0])).toBe(true);
      expect(Number.isNaN(got[1])).toBe(true);
    }));

  it('rejects bad arguments, naming them', () =>
    scope(() => {
      expectValueError(() => l1Proximal(-1, { learningRate: 0.1 }), 'l1Proximal', 'lambda', '-1');
      expectValueError(
        () => l1Proximal(1, { learningRate: Number.NaN }),
        'l1Proximal',
        'learningRate',
        'NaN',
      );
      expectValueError(() => l1Proximal(1, undefined as never), 'l1Proximal', 'learningRate', 'undefined');
      const w = tensor([[1, 2]]);
      const tx = l1Proximal(1, { learningRate: 0.1 });
      expectValueError(() => tx.update({ w }, tx.init({ w })), 'l1Proximal', 'params', 'update(');
    }));
});
