import { scope, tensor } from '@gradkit/tensor';
import { expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { l1Penalty } from './l1.js';
import { l1l2Penalty } from './l1l2.js';
import { l2Penalty } from './l2.js';
import { expectPenaltyMatches, expectValueError, penaltyCase } from './testing/check.js';
import { FIXTURE, FixtureModel } from './testing/fixture.js';

// Values and gradients against PyTorch (fixtures/generate.py, float64) within REF (1e-6 abs +
// 1e-5 rel); gradients also by gradcheck (eps 1e-2, 1e-3 abs + 1e-2 rel), inputs >= 0.1 from 0.

describe.each(testBackends)('l1l2Penalty on %s', (backend) => {
  useBackend(backend);

  it('matches PyTorch: l1 * sum |w| + l2 * sum w^2 (Keras L1L2)', () =>
    scope(() => {
      const model = new FixtureModel(FIXTURE.params);
      const c = penaltyCase('l1l2');
      expectPenaltyMatches(model, l1l2Penalty(model, { l1: c.args.l1, l2: c.args.l2 }), c);
      model.dispose();
    }));

  it('is l1Penalty + l2Penalty; strengths default to 0', () =>
    scope(() => {
      const w = tensor([0.5, -1, 2, 0], [2, 2]);
      const both = l1l2Penalty({ w }, { l1: 0.1, l2: 0.2 }).item();
      expect(both).toBeCloseTo(l1Penalty({ w }, 0.1).item() + l2Penalty({ w }, 0.2).item(), 6);
      expect(l1l2Penalty({ w }, { l1: 0.1 }).item()).toBeCloseTo(l1Penalty({ w }, 0.1).item(), 6);
      expect(l1l2Penalty({ w }, {}).item()).toBe(0);
    }));

  it('passes gradcheck', () =>
    scope(() => {
      const a = tensor([0.5, -1.2, 0.3, -0.4, 2, -0.7], [2, 3], { requiresGrad: true });
      expectGradcheck((x) => l1l2Penalty({ w: x }, { l1: 0.3, l2: 0.4 }), [a]);
    }));

  it('rejects negative strengths and a non-object, naming them', () =>
    scope(() => {
      const w = tensor([[1, 2]]);
      expectValueError(() => l1l2Penalty({ w }, { l1: -1 }), 'l1l2Penalty', 'l1', '-1');
      expectValueError(() => l1l2Penalty({ w }, { l2: -0.5 }), 'l1l2Penalty', 'l2', '-0.5');
      expectValueError(
        () => l1l2Penalty({ w }, 0.1 as unknown as { l1: number }),
        'l1l2Penalty',
        'strengths',
        '0.1',
      );
    }));
});
