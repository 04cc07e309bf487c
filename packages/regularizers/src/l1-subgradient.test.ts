import { memory, scope, tensor } from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { l1Subgradient } from './l1-subgradient.js';
import { expectValueError, REF } from './testing/check.js';
import { FIXTURE, FixtureModel, namedTensors, paramsOf } from './testing/fixture.js';

// Against PyTorch's autograd of lambda * sum |w| (fixtures/generate.py, float64) within REF
// (1e-6 abs + 1e-5 rel).

describe.each(testBackends)('l1Subgradient on %s', (backend) => {
  useBackend(backend);

  it('matches PyTorch: g + lambda sign(w) for the weights, g for the rest, sign(0) = 0', () =>
    scope(() => {
      const { lambda, updates: want } = FIXTURE.l1Subgradient;
      const model = new FixtureModel(FIXTURE.params);
      const params = paramsOf(model);
      const grads = namedTensors(FIXTURE.grads);
      const tx = l1Subgradient(lambda);
      const before = memory().readbacks;
      const [updates, state] = tx.update(grads, tx.init(params), params);
      expect(memory().readbacks).toBe(before);
      expect(state).toEqual({});
      for (const [k, u] of Object.entries(updates)) expectClose(u, want[k].data, REF, k);
      // at the fixture's exact zeros the update is the raw gradient
      const w = FIXTURE.params['fc1.weight'].data;
      const u = updates['fc1.weight'].dataSync();
      const g = FIXTURE.grads['fc1.weight'].data;
      for (let i = 0; i < w.length; i++) if (w[i] === 0) expect(u[i]).toBe(Math.fround(g[i]));
      model.dispose();
    }));

  it('gives a NaN update for a NaN weight', () =>
    scope(() => {
      const w = tensor([[Number.NaN, -2]]);
      const tx = l1Subgradient(0.5);
      const [u] = tx.update({ w: tensor([[1, 1]]) }, {}, { w });
      const got = u.w.dataSync();
      expect(Number.isNaN(got[0])).toBe(true);
      expect(got[1]).toBe(0.5);
    }));

  it('rejects a negative lambda and a missing params argument', () =>
    scope(() => {
      expectValueError(() => l1Subgradient(-3), 'l1Subgradient', 'lambda', '-3');
      const w = tensor([[1, 2]]);
      const tx = l1Subgradient(0.1);
      expectValueError(() => tx.update({ w }, {}), 'l1Subgradient', 'params', 'update(');
    }));
});
