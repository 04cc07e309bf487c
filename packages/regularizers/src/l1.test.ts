import { memory, scope, tensor } from '@gradkit/tensor';
import { expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { l1Penalty } from './l1.js';
import { expectPenaltyMatches, expectValueError, penaltyCase } from './testing/check.js';
import { FIXTURE, FixtureModel } from './testing/fixture.js';

// Values and gradients against PyTorch (fixtures/generate.py, float64) within REF (1e-6 abs +
// 1e-5 rel); gradients also by gradcheck (eps 1e-2, 1e-3 abs + 1e-2 rel), inputs >= 0.1 from 0.

describe.each(testBackends)('l1Penalty on %s', (backend) => {
  useBackend(backend);

  it('matches PyTorch: lambda * sum |w| over the weights, biases and 1-D norm weights excluded', () =>
    scope(() => {
      const model = new FixtureModel(FIXTURE.params);
      const c = penaltyCase('l1');
      expectPenaltyMatches(model, l1Penalty(model, c.args.lambda!), c);
      model.dispose();
    }));

  it('has gradient lambda * sign(w) with sign(0) = 0, computed without read-back', () =>
    scope(() => {
      const w = tensor([-2, 0, 3, 0], [2, 2], { requiresGrad: true });
      const before = memory().readbacks;
      l1Penalty({ w }, 0.5).backward();
      expect(memory().readbacks).toBe(before);
      expect(Array.from(w.grad!.dataSync())).toEqual([-0.5, 0, 0.5, 0]);
    }));

  it('keeps a NaN weight visible: NaN penalty and NaN gradient', () =>
    scope(() => {
      const w = tensor([[Number.NaN, 1]], undefined, { requiresGrad: true });
      const p = l1Penalty({ w }, 0.5);
      expect(Number.isNaN(p.item())).toBe(true);
      p.backward();
      const g = w.grad!.dataSync();
      expect(Number.isNaN(g[0])).toBe(true);
      expect(g[1]).toBe(0.5);
    }));

  it('passes gradcheck', () =>
    scope(() => {
      const a = tensor([0.5, -1.2, 0.3, -0.4, 2, -0.7], [2, 3], { requiresGrad: true });
      const b = tensor([-0.25, 0.6, 1.1, -0.9], [4, 1], { requiresGrad: true });
      expectGradcheck((x, y) => l1Penalty({ 'fc1.weight': x, 'fc2.weight': y }, 0.7), [a, b]);
    }));

  it('is a constant 0 when nothing is selected or lambda is 0', () =>
    scope(() => {
      const bias = tensor([1, -2], undefined, { requiresGrad: true });
      const p = l1Penalty({ bias }, 0.1);
      expect(p.item()).toBe(0);
      expect(p.requiresGrad).toBe(false);
      expect(l1Penalty({ w: tensor([[1, -2]], undefined, { requiresGrad: true }) }, 0).item()).toBe(0);
    }));

  it('rejects a negative or non-finite lambda, naming it', () =>
    scope(() => {
      const w = tensor([[1, 2]]);
      expectValueError(() => l1Penalty({ w }, -0.1), 'l1Penalty', 'lambda', '-0.1');
      expectValueError(() => l1Penalty({ w }, Number.NaN), 'l1Penalty', 'lambda', 'NaN');
      expectValueError(() => l1Penalty({ w }, Number.POSITIVE_INFINITY), 'l1Penalty', 'lambda', 'Infinity');
    }));
});
