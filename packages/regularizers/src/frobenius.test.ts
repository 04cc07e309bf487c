import { scope, tensor } from '@gradkit/tensor';
import { expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { frobeniusPenalty } from './frobenius.js';
import { l2Penalty } from './l2.js';
import { expectPenaltyMatches, expectValueError, penaltyCase } from './testing/check.js';
import { FIXTURE, FixtureModel } from './testing/fixture.js';

// Values and gradients against PyTorch's torch.linalg.matrix_norm (fixtures/generate.py, float64)
// within REF (1e-6 abs + 1e-5 rel); gradients also by gradcheck (eps 1e-2, 1e-3 abs + 1e-2 rel).

describe.each(testBackends)('frobeniusPenalty on %s', (backend) => {
  useBackend(backend);

  it('matches PyTorch with a lambda per layer (a layer prefix and a parameter name as keys)', () =>
    scope(() => {
      for (const name of ['frobenius', 'frobeniusHalf'] as const) {
        const model = new FixtureModel(FIXTURE.params);
        const c = penaltyCase(name);
        expectPenaltyMatches(model, frobeniusPenalty(model, c.args.lambdas!, { half: c.args.half }), c);
        model.dispose();
      }
    }));

  it('one lambda for every layer equals l2Penalty; the longest matching key wins', () =>
    scope(() => {
      const model = new FixtureModel(FIXTURE.params);
      expect(frobeniusPenalty(model, 0.3).item()).toBeCloseTo(l2Penalty(model, 0.3).item(), 6);
      const fc1 = l2Penalty(model, 0.5, { include: 'fc1' }).item();
      expect(frobeniusPenalty(model, { fc1: 0.1, 'fc1.weight': 0.5 }).item()).toBeCloseTo(fc1, 6);
      model.dispose();
    }));

  it('passes gradcheck', () =>
    scope(() => {
      const a = tensor([0.5, -1.2, 0.3, -0.4, 2, -0.7], [2, 3], { requiresGrad: true });
      const b = tensor([-0.25, 0.6, 1.1, -0.9], [4, 1], { requiresGrad: true });
      expectGradcheck((x, y) => frobeniusPenalty({ 'l0.w': x, 'l1.w': y }, { l0: 0.2, l1: 0.9 }), [a, b]);
    }));

  it('rejects a negative lambda and a key that matches no selected parameter', () =>
    scope(() => {
      const model = new FixtureModel(FIXTURE.params);
      expectValueError(() => frobeniusPenalty(model, -1), 'frobeniusPenalty', 'lambda', '-1');
      expectValueError(
        () => frobeniusPenalty(model, { fc1: -0.5 }),
        'frobeniusPenalty',
        "lambdas['fc1']",
        '-0.5',
      );
      expectValueError(() => frobeniusPenalty(model, { fc3: 0.1 }), 'frobeniusPenalty', 'fc3', 'no selected');
      // a bias is excluded by default, so a key for it is an error rather than a silent no-op
      expectValueError(
        () => frobeniusPenalty(model, { 'fc1.bias': 0.1 }),
        'frobeniusPenalty',
        'fc1.bias',
        'no selected',
      );
      model.dispose();
    }));
});
