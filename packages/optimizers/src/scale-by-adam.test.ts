import { tensor } from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { scaleByAdam } from './scale-by-adam.js';
import { disposeState } from './state-tree.js';
import { expectValueError } from './testing/errors.js';

describe.each(testBackends)('scaleByAdam on %s', (backend) => {
  useBackend(backend);

  it('first update is g / (|g| + eps): bias correction makes m̂ = g and v̂ = g^2', () => {
    const g = [2, -0.5, 1e-3, 0];
    const grads = { x: tensor(g) };
    const tx = scaleByAdam({ eps: 1e-3 });
    const state = tx.init(grads);
    const [u, next] = tx.update(grads, state);
    expectClose(
      u.x,
      g.map((v) => v / (Math.abs(v) + 1e-3)),
      { rtol: 1e-5, atol: 1e-7 },
      'u',
    );
    expect(next.count).toBe(1);
    expect(Object.keys(next.slots)).toEqual(['expAvg', 'expAvgSq']);
    u.x.dispose();
    grads.x.dispose();
    disposeState(state);
    disposeState(next);
  });

  it('validates its options', () => {
    expectValueError(
      () => scaleByAdam({ betas: [0.9, 1] }),
      'scaleByAdam: betas[1] must be in [0, 1), got 1',
    );
    expectValueError(() => scaleByAdam({ eps: 0 }), 'scaleByAdam: eps must be > 0, got 0');
    expectValueError(
      () => scaleByAdam({ lr: 1 } as never),
      "scaleByAdam: unknown option 'lr' (known: betas, eps, amsgrad)",
    );
  });
});
