import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { adamw } from './adamw.js';
import { addDecayedWeights } from './add-decayed-weights.js';
import { applyUpdates } from './apply-updates.js';
import { chain } from './chain.js';
import { masked } from './masked.js';
import { scale } from './scale.js';
import { scaleByAdam } from './scale-by-adam.js';
import { scaleByLearningRate } from './scale-by-learning-rate.js';
import { releaseState, tensorsOf } from './state-tree.js';
import { expectValueError } from './testing/errors.js';
import { disposeAll, givenGrads, givenGradValues, givenParams } from './testing/params.js';
import { tolerance } from './testing/replay.js';

describe.each(testBackends)('masked on %s', (backend) => {
  useBackend(backend);

  it.each([
    ['a list of names', ['w']],
    ['a RegExp', /^w$/],
    ['a record of booleans', { w: true, b: false }],
    ['a predicate on the parameter', (_: string, p: { rank: number }) => p.rank > 1],
  ] as const)('selects parameters by %s; the others pass through untouched', (_what, mask) => {
    const params = givenParams();
    const grads = givenGrads(0);
    const tx = masked(scale(10), mask as never);
    const state = tx.init(params);
    expect(state.names).toEqual(['w']);
    const [u] = tx.update(grads, state, params);
    expect(u.b).toBe(grads.b);
    expectClose(
      u.w,
      givenGradValues(0).w.map((g) => 10 * g),
      { rtol: 1e-6, atol: 0 },
      'w',
    );
    u.w.dispose();
    disposeAll(grads, params);
  });

  it('gives the inner transformation the selected parameters only', () => {
    const params = givenParams();
    const tx = masked(scaleByAdam(), ['b']);
    const state = tx.init(params);
    expect(Object.keys(state.inner.slots.expAvg)).toEqual(['b']);
    for (const t of tensorsOf(state)) t.dispose();
    disposeAll(params);
  });

  it('decoupled decay on matrices only equals AdamW with a no-decay group for biases (16 steps)', () => {
    const a = givenParams();
    const b = givenParams();
    const opt = adamw(
      [{ params: [['w', a.w] as const] }, { params: [['b', a.b] as const], weightDecay: 0 }],
      {
        lr: 0.05,
        weightDecay: 0.3,
      },
    );
    const tx = chain(
      scaleByAdam(),
      masked(addDecayedWeights(0.3), (_, p) => p.rank > 1),
      scaleByLearningRate(0.05),
    );
    let state = tx.init(b);
    for (let step = 0; step < 16; step++) {
      const ga = givenGrads(step);
      a.w.grad = ga.w;
      a.b.grad = ga.b;
      opt.step();
      opt.zeroGrad();
      const gb = givenGrads(step);
      const [u, next] = tx.update(gb, state, b);
      applyUpdates(b, u);
      state = releaseState(state, next);
      disposeAll(u, gb);
      expectClose(b.w, a.w.dataSync(), tolerance(step), `w at step ${step + 1}`);
      expectClose(b.b, a.b.dataSync(), tolerance(step), `b at step ${step + 1}`);
    }
    for (const t of tensorsOf(state)) t.dispose();
    opt.dispose();
    disposeAll(a, b);
  });

  it('rejects a mask that is not names, a RegExp, a record or a predicate', () => {
    expectValueError(
      () => masked(scale(1), 3 as never),
      'masked: mask must be names, a RegExp, a record of booleans or a predicate',
    );
  });
});
