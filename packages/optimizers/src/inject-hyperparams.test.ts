import type { Params } from '@gradkit/tensor';
import { Parameter } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { adamTransform } from './adam.js';
import { applyUpdates } from './apply-updates.js';
import { injectHyperparams } from './inject-hyperparams.js';
import { sgdTransform } from './sgd.js';
import { deserializeState, disposeState, releaseState, serializeState, tensorsOf } from './state-tree.js';
import { expectValueError } from './testing/errors.js';
import { disposeAll, givenGrads, givenParams } from './testing/params.js';

type Tx = ReturnType<ReturnType<typeof injectHyperparams<object, unknown>>>;

function run(
  tx: Tx,
  params: Params,
  steps: number,
  between?: (step: number, state: { hyperparams: Record<string, number> }) => void,
) {
  let state = tx.init(params);
  for (let step = 0; step < steps; step++) {
    between?.(step, state);
    const grads = givenGrads(step);
    const [u, next] = tx.update(grads, state, params);
    applyUpdates(params, u);
    state = releaseState(state, next);
    disposeAll(u, grads);
  }
  return state;
}

describe.each(testBackends)('injectHyperparams on %s', (backend) => {
  useBackend(backend);

  it('keeps the numeric hyperparameters in the state, changeable between steps', () => {
    const lrs = [0.1, 0.1, 0.05, 0.05, 0.01, 0.2];
    const a = givenParams();
    const b = givenParams();
    const sa = run(
      injectHyperparams(adamTransform)({ lr: 0.1, weightDecay: 0.01, amsgrad: true }) as Tx,
      a,
      6,
      (step, state) => {
        expect(state.hyperparams).toEqual({ lr: step === 0 ? 0.1 : lrs[step - 1], weightDecay: 0.01 });
        state.hyperparams.lr = lrs[step];
      },
    );
    // the same learning rates as a schedule of the named transformation: identical bits
    const sb = run(
      adamTransform({ lr: (t) => lrs[t], weightDecay: 0.01, amsgrad: true }) as unknown as Tx,
      b,
      6,
    );
    expect(a.w.dataSync()).toEqual(b.w.dataSync());
    expect(a.b.dataSync()).toEqual(b.b.dataSync());
    for (const t of [...tensorsOf(sa), ...tensorsOf(sb)]) t.dispose();
    disposeAll(a, b);
  });

  it('evaluates scheduled hyperparameters at each step and records them', () => {
    const params = givenParams();
    const tx = injectHyperparams(sgdTransform)({ lr: (t: number) => 0.1 / (t + 1), momentum: 0.9 }) as Tx;
    const seen: number[] = [];
    const state = run(tx, params, 3, (_step, s) => {
      seen.push(s.hyperparams.lr);
    });
    expect(seen).toEqual([0.1, 0.1, 0.05]); // init records lr(0); update t records lr(t)
    expect(state.hyperparams.lr).toBeCloseTo(0.1 / 3, 12);
    for (const t of tensorsOf(state)) t.dispose();
    disposeAll(params);
  });

  it('validates a changed hyperparameter at the next step', () => {
    const params = givenParams();
    const grads = givenGrads(0);
    const tx = injectHyperparams(adamTransform)({ lr: 0.1 });
    const state = tx.init(params);
    state.hyperparams.lr = -1;
    expectValueError(() => tx.update(grads, state, params), 'Adam: lr must be >= 0, got -1');
    for (const t of tensorsOf(state)) t.dispose();
    disposeAll(grads, params);
  });

  it('serializes with its state: a resumed run continues bit for bit', () => {
    type State = ReturnType<Tx['init']>;
    const make = () => injectHyperparams(adamTransform)({ lr: 0.05 }) as Tx;
    const stepOnce = (tx: Tx, params: Params, s: State, i: number): State => {
      const grads = givenGrads(i);
      const [u, next] = tx.update(grads, s, params);
      applyUpdates(params, u);
      disposeAll(u, grads);
      return releaseState(s, next);
    };
    const a = givenParams();
    const tx = make();
    let state = run(tx, a, 4, (step, s) => {
      if (step === 3) s.hyperparams.lr = 0.02;
    });
    const json = JSON.stringify(serializeState(state));
    const saved = { w: a.w.dataSync(), b: a.b.dataSync() };
    for (let i = 4; i < 8; i++) state = stepOnce(tx, a, state, i);

    const b = { w: new Parameter(saved.w, { shape: [2, 3] }), b: new Parameter(saved.b) };
    const tx2 = make();
    const fresh = tx2.init(b);
    let resumed = deserializeState(JSON.parse(json), fresh);
    disposeState(fresh);
    expect(resumed.hyperparams.lr).toBe(0.02);
    for (let i = 4; i < 8; i++) resumed = stepOnce(tx2, b, resumed, i);
    expect(b.w.dataSync()).toEqual(a.w.dataSync());
    expect(b.b.dataSync()).toEqual(a.b.dataSync());
    disposeState(state);
    disposeState(resumed);
    disposeAll(a, b);
  });
});
