import { memory } from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { adamTransform } from './adam.js';
import { addDecayedWeights } from './add-decayed-weights.js';
import { applyUpdates } from './apply-updates.js';
import { chain } from './chain.js';
import { scale } from './scale.js';
import { scaleByAdam } from './scale-by-adam.js';
import { scaleByLearningRate } from './scale-by-learning-rate.js';
import { releaseState, tensorsOf } from './state-tree.js';
import { disposeAll, givenGrads, givenGradValues, givenParams } from './testing/params.js';
import { tolerance } from './testing/replay.js';

describe.each(testBackends)('chain on %s', (backend) => {
  useBackend(backend);

  it('feeds each transformation the updates of the previous one and keeps their states in order', () => {
    const params = givenParams();
    const p = { w: params.w.dataSync(), b: params.b.dataSync() };
    const grads = givenGrads(0);
    const g = givenGradValues(0);
    const tx = chain(scale(2), addDecayedWeights(0.5), scaleByLearningRate(0.1));
    const state = tx.init(params);
    expect(state).toEqual([{}, {}, { count: 0 }]);
    const [u, next] = tx.update(grads, state, params);
    expect(next[2]).toEqual({ count: 1 });
    for (const k of ['w', 'b'] as const) {
      expectClose(
        u[k],
        g[k].map((gi, i) => -0.1 * (2 * gi + 0.5 * p[k][i])),
        { rtol: 1e-6, atol: 1e-7 },
        k,
      );
    }
    disposeAll(u, grads, params);
  });

  it('frees the intermediate updates, never the gradients, the parameters or the states', () => {
    const params = givenParams();
    const grads = givenGrads(0);
    const tx = chain(scaleByAdam(), scale(3), scaleByLearningRate(0.1));
    const state = tx.init(params);
    const before = memory();
    const [u, next] = tx.update(grads, state, params);
    const created = tensorsOf(u).size + [...tensorsOf(next)].filter((t) => !tensorsOf(state).has(t)).length;
    expect(memory().tensors - before.tensors).toBe(created);
    for (const t of [...tensorsOf(grads), ...tensorsOf(params), ...tensorsOf(state)])
      expect(t.isDisposed).toBe(false);
    releaseState(state, next);
    for (const t of tensorsOf(state)) expect(t.isDisposed).toBe(true);
    disposeAll(u, grads, params);
    for (const t of tensorsOf(next)) t.dispose();
    expect(memory().tensors).toBe(before.tensors - 4 - 4); // params, grads and the first state are gone too
  });

  it('with nothing in it, passes the gradients through', () => {
    const params = givenParams();
    const grads = givenGrads(1);
    const tx = chain();
    const [u, s] = tx.update(grads, tx.init(params), params);
    expect(s).toEqual([]);
    expect(u.w).toBe(grads.w);
    disposeAll(grads, params);
  });

  it('chain(addDecayedWeights, scaleByAdam, scaleByLearningRate) equals adamTransform for 16 steps', () => {
    const a = givenParams();
    const b = givenParams();
    const named = adamTransform({ lr: 0.05, weightDecay: 0.1 });
    const composed = chain(addDecayedWeights(0.1), scaleByAdam(), scaleByLearningRate(0.05));
    let sa = named.init(a);
    let sb = composed.init(b);
    for (let step = 0; step < 16; step++) {
      const ga = givenGrads(step);
      const gb = givenGrads(step);
      const [ua, na] = named.update(ga, sa, a);
      const [ub, nb] = composed.update(gb, sb, b);
      applyUpdates(a, ua);
      applyUpdates(b, ub);
      sa = releaseState(sa, na);
      sb = releaseState(sb, nb);
      disposeAll(ua, ub, ga, gb);
      expectClose(b.w, a.w.dataSync(), tolerance(step), `w at step ${step + 1}`);
      expectClose(b.b, a.b.dataSync(), tolerance(step), `b at step ${step + 1}`);
    }
    for (const t of [...tensorsOf(sa), ...tensorsOf(sb)]) t.dispose();
    disposeAll(a, b);
  });
});
