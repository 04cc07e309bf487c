import { memory, noGrad, scope, tensor } from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { softThreshold } from './soft-threshold.js';
import { expectValueError, REF } from './testing/check.js';
import { FIXTURE, FixtureModel, fromEncoded } from './testing/fixture.js';

// Against PyTorch's softshrink (fixtures/generate.py, float64) within REF (1e-6 abs + 1e-5 rel).

describe.each(testBackends)('softThreshold on %s', (backend) => {
  useBackend(backend);

  it("after an SGD step matches PyTorch's softshrink(w - lr g, lr lambda), exact zeros, no read-back", () =>
    scope(() => {
      const { lr, lambda, after } = FIXTURE.proximal;
      const model = new FixtureModel(FIXTURE.params);
      noGrad(() => {
        for (const [k, p] of model.namedParameters()) p.assign(p.sub(fromEncoded(FIXTURE.grads[k]).mul(lr)));
      });
      const before = memory();
      softThreshold(model, lr * lambda);
      const mid = memory();
      expect(mid.readbacks).toBe(before.readbacks);
      expect(mid.arrays).toBe(before.arrays);
      for (const [k, p] of model.namedParameters()) {
        expectClose(p, after[k].data, REF, k);
        const got = p.dataSync();
        after[k].data.forEach((v, i) => {
          if (v === 0) expect(got[i], `${k}[${i}]`).toBe(0);
        });
      }
      model.dispose();
    }));

  it('keeps NaN, and threshold 0 changes nothing', () =>
    scope(() => {
      const w = tensor([Number.NaN, 0.5, -0.05, -2], [2, 2]);
      softThreshold({ w }, 0.1);
      const got = w.dataSync();
      expect(Number.isNaN(got[0])).toBe(true);
      expectClose(got.subarray(1), [0.4, 0, -1.9], REF);
      softThreshold({ w }, 0);
      expectClose(w.dataSync().subarray(1), [0.4, 0, -1.9], REF);
    }));

  it('rejects a negative threshold', () =>
    scope(() => {
      expectValueError(() => softThreshold({ w: tensor([[1]]) }, -0.5), 'softThreshold', 'threshold', '-0.5');
    }));
});
