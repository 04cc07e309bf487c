import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { identity } from './identity.js';
import { disposeAll, givenGrads } from './testing/params.js';

describe.each(testBackends)('identity on %s', (backend) => {
  useBackend(backend);

  it('passes the gradients through unchanged, with an empty state', () => {
    const grads = givenGrads(0);
    const tx = identity();
    const state = tx.init(grads);
    const [u, next] = tx.update(grads, state);
    expect(state).toEqual({});
    expect(next).toBe(state);
    expect(u).toEqual(grads);
    expect(u.w).toBe(grads.w);
    disposeAll(grads);
  });
});
