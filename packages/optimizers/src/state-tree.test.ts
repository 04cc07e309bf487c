import { memory, Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { chain } from './chain.js';
import { clipByGlobalNorm } from './clip-by-global-norm.js';
import { masked } from './masked.js';
import { scaleByAdam } from './scale-by-adam.js';
import { scaleByLearningRate } from './scale-by-learning-rate.js';
import { deserializeState, disposeState, releaseState, serializeState, tensorsOf } from './state-tree.js';
import { expectValueError } from './testing/errors.js';
import { disposeAll, givenGrads, givenParams } from './testing/params.js';

describe.each(testBackends)('state trees on %s', (backend) => {
  useBackend(backend);

  it('serialize -> JSON -> deserialize restores every number and tensor exactly, as new tensors', () => {
    const params = givenParams();
    const tx = chain(clipByGlobalNorm(1), masked(scaleByAdam(), ['w']), scaleByLearningRate(0.1));
    let state = tx.init(params);
    for (let i = 0; i < 3; i++) {
      const grads = givenGrads(i);
      const [u, next] = tx.update(grads, state, params);
      state = releaseState(state, next);
      disposeAll(u, grads);
    }
    const json = JSON.parse(JSON.stringify(serializeState(state)));
    expect(json[2]).toEqual({ count: 3 });
    expect(json[1].names).toEqual(['w']);
    const template = tx.init(params);
    const restored = deserializeState(json, template);
    expect(restored[1].inner.count).toBe(3);
    const m0 = state[1].inner.slots.expAvg.w;
    const m1 = restored[1].inner.slots.expAvg.w;
    expect(m1).not.toBe(m0);
    expect(m1.dataSync()).toEqual(m0.dataSync());
    for (const s of [state, template, restored]) disposeState(s);
    disposeAll(params);
  });

  it('rejects JSON of another structure or shape, creating nothing', () => {
    const params = givenParams();
    const tx = scaleByAdam();
    const state = tx.init(params);
    const json = JSON.parse(JSON.stringify(serializeState(state)));
    const before = memory().tensors;
    expectValueError(
      () => deserializeState({ ...json, count: 'x' }, state),
      'deserializeState: state.count: expected a number, got "x"',
    );
    json.slots.expAvg.b.shape = [3];
    expectValueError(
      () => deserializeState(json, state),
      'deserializeState: state.slots.expAvg.b: expected a tensor of shape [2]',
    );
    expect(memory().tensors).toBe(before);
    disposeState(state);
    disposeAll(params);
  });

  it('releaseState frees the old tensors the new state does not reuse', () => {
    const a = new Parameter([1]);
    const b = new Parameter([2]);
    const c = new Parameter([3]);
    releaseState({ x: a, y: [b] }, { y: [b], z: c });
    expect([a.isDisposed, b.isDisposed, c.isDisposed]).toEqual([true, false, false]);
    expect(tensorsOf({ y: [b], z: { c } }).size).toBe(2);
    disposeAll({ b, c });
  });
});
