import { memory, noGrad, scope, tensor } from '@gradkit/tensor';
import { expectClose, expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { halfL2Penalty, l2Penalty } from './l2.js';
import { expectPenaltyMatches, expectValueError, penaltyCase, REF } from './testing/check.js';
import { FIXTURE, FixtureModel, fromEncoded } from './testing/fixture.js';

// Values and gradients against PyTorch (fixtures/generate.py, float64) within REF (1e-6 abs +
// 1e-5 rel); gradients also by gradcheck (eps 1e-2, 1e-3 abs + 1e-2 rel).

describe.each(testBackends)('l2Penalty and halfL2Penalty on %s', (backend) => {
  useBackend(backend);

  it('l2Penalty matches PyTorch: lambda * sum w^2 (Keras L2)', () =>
    scope(() => {
      const model = new FixtureModel(FIXTURE.params);
      const c = penaltyCase('l2');
      expectPenaltyMatches(model, l2Penalty(model, c.args.lambda!), c);
      model.dispose();
    }));

  it('halfL2Penalty matches PyTorch: (lambda / 2) * sum w^2', () =>
    scope(() => {
      const model = new FixtureModel(FIXTURE.params);
      const c = penaltyCase('halfL2');
      expectPenaltyMatches(model, halfL2Penalty(model, c.args.lambda!), c);
      model.dispose();
    }));

  it("SGD on loss + halfL2Penalty(wd) takes torch.optim.SGD(weight_decay=wd)'s step", () =>
    scope(() => {
      const { lr, weightDecay, after } = FIXTURE.sgdWeightDecay;
      const model = new FixtureModel(FIXTURE.params);
      halfL2Penalty(model, weightDecay).backward();
      noGrad(() => {
        for (const [name, p] of model.namedParameters()) {
          const g = fromEncoded(FIXTURE.grads[name]);
          const total = p.grad ? g.add(p.grad) : g; // the loss gradient + the penalty's
          p.assign(p.sub(total.mul(lr)));
        }
      });
      for (const [name, p] of model.namedParameters()) expectClose(p, after[name].data, REF, name);
      model.dispose();
    }));

  it('l2Penalty(lambda) = 2 halfL2Penalty(lambda), no read-back', () =>
    scope(() => {
      const w = tensor([0.5, -1, 2, 0.25], [2, 2], { requiresGrad: true });
      const before = memory().readbacks;
      const a = l2Penalty({ w }, 0.3);
      const b = halfL2Penalty({ w }, 0.3);
      expect(memory().readbacks).toBe(before);
      expect(a.item()).toBeCloseTo(0.3 * (0.25 + 1 + 4 + 0.0625), 6);
      expect(b.item()).toBeCloseTo(a.item() / 2, 6);
    }));

  it('frees what it allocates: live arrays flat over repeated penalty + backward steps', () => {
    const model = new FixtureModel(FIXTURE.params);
    const step = () =>
      scope(() => {
        l2Penalty(model, 0.1).add(halfL2Penalty(model, 0.2)).backward();
        model.zeroGrad();
      });
    step();
    const before = memory();
    for (let i = 0; i < 5; i++) step();
    const after = memory();
    expect(after.arrays).toBe(before.arrays);
    expect(after.tensors).toBe(before.tensors);
    model.dispose();
  });

  it('passes gradcheck', () =>
    scope(() => {
      const a = tensor([0.5, -1.2, 0.3, -0.4, 2, -0.7], [2, 3], { requiresGrad: true });
      const b = tensor([-0.25, 0.6, 1.1, -0.9], [4, 1], { requiresGrad: true });
      expectGradcheck((x, y) => l2Penalty({ u: x, v: y }, 0.7), [a, b]);
      expectGradcheck((x, y) => halfL2Penalty({ u: x, v: y }, 0.7), [a, b]);
    }));

  it('rejects a negative lambda, naming the function, the argument and the value', () =>
    scope(() => {
      const w = tensor([[1, 2]]);
      expectValueError(() => l2Penalty({ w }, -1), 'l2Penalty', 'lambda', '-1');
      expectValueError(() => halfL2Penalty({ w }, -2), 'halfL2Penalty', 'lambda', '-2');
    }));
});
