import { tensor, zeros } from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { globalNorm } from './global-norm.js';
import { scaleByTrustRatio } from './scale-by-trust-ratio.js';
import { expectValueError } from './testing/errors.js';
import { disposeAll, givenGrads, givenParams } from './testing/params.js';

describe.each(testBackends)('scaleByTrustRatio on %s', (backend) => {
  useBackend(backend);

  it('rescales each update to the norm of its parameter (trust ratio ||p|| / ||u||)', () => {
    const params = givenParams();
    const grads = givenGrads(4);
    const [u] = scaleByTrustRatio().update(grads, {}, params);
    for (const k of ['w', 'b'] as const) {
      const nu = globalNorm([u[k]]);
      const np = globalNorm([params[k]]);
      expect(nu.item()).toBeCloseTo(np.item(), 5);
      // same direction: u = c g with c > 0
      const ratio = np.item() / globalNorm([grads[k]]).item();
      expectClose(
        u[k],
        Array.from(grads[k].dataSync(), (g) => g * ratio),
        { rtol: 1e-5, atol: 1e-7 },
        k,
      );
      nu.dispose();
      np.dispose();
    }
    disposeAll(u, grads, params);
  });

  it('leaves the update unchanged when the parameter or the update is zero', () => {
    const params = { p: zeros([3]), q: tensor([1, 2, 3]) };
    const grads = { p: tensor([1, -2, 3]), q: zeros([3]) };
    const [u] = scaleByTrustRatio().update(grads, {}, params);
    expect(Array.from(u.p.dataSync())).toEqual([1, -2, 3]);
    expect(Array.from(u.q.dataSync())).toEqual([0, 0, 0]);
    disposeAll(u, grads, params);
  });

  it('needs the parameters', () => {
    const grads = givenGrads(0);
    expectValueError(
      () => scaleByTrustRatio().update(grads, {}),
      "scaleByTrustRatio: needs the parameters (update(grads, state, params)); 'w' is missing",
    );
    expectValueError(() => scaleByTrustRatio({ eps: -1 }), 'scaleByTrustRatio: eps must be >= 0, got -1');
    disposeAll(grads);
  });
});
