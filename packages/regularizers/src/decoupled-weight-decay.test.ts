import type { Params } from '@gradkit/tensor';
import { memory, scope, tensor, ValueError } from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { decoupledWeightDecay } from './decoupled-weight-decay.js';
import { expectParams, expectValueError, REF } from './testing/check.js';
import { FIXTURE, FixtureModel, namedTensors, paramsOf } from './testing/fixture.js';
import { applyUpdates, chain, scale, scaleByAdam } from './testing/local-optim.js';

// Against a float64 hand computation and PyTorch's torch.optim.AdamW (fixtures/generate.py),
// within REF (1e-6 abs + 1e-5 rel).

describe.each(testBackends)('decoupledWeightDecay on %s', (backend) => {
  useBackend(backend);

  it('after a plain SGD step: w <- w - lr_t g - lr_t wd w (hand computation, scheduled lr, biases not decayed)', () =>
    scope(() => {
      const model = new FixtureModel(FIXTURE.params);
      const params = paramsOf(model);
      const wd = 0.1;
      const lr = (t: number) => 0.1 * 0.5 ** t;
      const opt = chain(scale(1), decoupledWeightDecay(wd, { learningRate: lr }));
      let state = opt.init(params);
      // float64 reference
      const ref: Record<string, number[]> = Object.fromEntries(
        Object.entries(FIXTURE.params).map(([k, e]) => [k, [...e.data]]),
      );
      for (let t = 0; t < 3; t++) {
        const grads = namedTensors(FIXTURE.adamw.grads[t]);
        const sgd: Params = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.mul(-lr(t))]));
        const [updates, next] = opt.update(sgd, state, params);
        state = next;
        applyUpdates(params, updates);
        for (const [k, w] of Object.entries(ref)) {
          const g = FIXTURE.adamw.grads[t][k].data;
          const decay = FIXTURE.selected.includes(k) ? wd : 0;
          ref[k] = w.map((x, i) => x - lr(t) * g[i] - lr(t) * decay * x);
        }
        for (const [k, p] of Object.entries(params)) expectClose(p, ref[k], REF, `step ${t} ${k}`);
      }
      expect((state as { count: number }[])[1]).toEqual({ count: 3 });
      model.dispose();
    }));

  it('matches torch.optim.AdamW over 3 steps: chain(adam, scale(-lr), decoupledWeightDecay(wd, { learningRate: lr }))', () =>
    scope(() => {
      const { lr, weightDecay, betas, eps, grads, trajectory } = FIXTURE.adamw;
      const model = new FixtureModel(FIXTURE.params);
      const params = paramsOf(model);
      const opt = chain(
        scaleByAdam(betas[0], betas[1], eps),
        scale(-lr),
        decoupledWeightDecay(weightDecay, { learningRate: lr }),
      );
      let state = opt.init(params);
      for (let t = 0; t < grads.length; t++) {
        const [updates, next] = opt.update(namedTensors(grads[t]), state, params);
        state = next;
        applyUpdates(params, updates);
        expectParams(model, trajectory[t], REF, `AdamW step ${t}`);
      }
      model.dispose();
    }));

  it("gives AdamW's decay term p <- p (1 - lr wd) per step (zero gradients, as torch.optim.AdamW)", () =>
    scope(() => {
      const { lr, weightDecay, decayOnly } = FIXTURE.adamw;
      const model = new FixtureModel(FIXTURE.params);
      const params = paramsOf(model);
      const opt = chain(scale(-lr), decoupledWeightDecay(weightDecay, { learningRate: lr }));
      let state = opt.init(params);
      for (let t = 0; t < decayOnly.length; t++) {
        const zeros = Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.mul(0)]));
        const [updates, next] = opt.update(zeros, state, params);
        state = next;
        applyUpdates(params, updates);
        expectParams(model, decayOnly[t], REF, `decay step ${t}`);
      }
      model.dispose();
    }));

  it('returns new tensors, leaves its inputs alive, reads nothing back and keeps memory flat', () =>
    scope(() => {
      const model = new FixtureModel(FIXTURE.params);
      const params = paramsOf(model);
      const tx = decoupledWeightDecay(0.01, { learningRate: 0.1 });
      let state = tx.init(params);
      const step = () =>
        scope(() => {
          const grads = Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.mul(0.1)]));
          const [updates, next] = tx.update(grads, state, params);
          state = next;
          for (const [k, u] of Object.entries(updates)) {
            expect(u).not.toBe(grads[k]);
            expect(grads[k].isDisposed).toBe(false);
          }
          applyUpdates(params, updates);
        });
      step();
      const before = memory();
      for (let i = 0; i < 5; i++) step();
      const after = memory();
      expect(after.arrays).toBe(before.arrays);
      expect(after.tensors).toBe(before.tensors);
      expect(after.readbacks).toBe(before.readbacks);
      model.dispose();
    }));

  it('rejects bad arguments, naming the function, the argument and the value', () =>
    scope(() => {
      const w = tensor([[1, 2]]);
      expectValueError(
        () => decoupledWeightDecay(-0.01, { learningRate: 1 }),
        'decoupledWeightDecay',
        'weightDecay',
        '-0.01',
      );
      expectValueError(
        () => decoupledWeightDecay(0.01, { learningRate: -1 }),
        'decoupledWeightDecay',
        'learningRate',
        '-1',
      );
      expectValueError(
        () => decoupledWeightDecay(0.01, {} as never),
        'decoupledWeightDecay',
        'learningRate',
        'undefined',
      );
      const scheduled = decoupledWeightDecay(0.01, { learningRate: (t) => 0.1 - t });
      const s1 = scheduled.update({ w }, scheduled.init({ w }), { w })[1];
      expectValueError(
        () => scheduled.update({ w }, s1, { w }),
        'decoupledWeightDecay',
        'learningRate(1)',
        '-0.9',
      );
      const tx = decoupledWeightDecay(0.01, { learningRate: 1 });
      expectValueError(() => tx.update({ w }, tx.init({ w })), 'decoupledWeightDecay', 'params', 'update(');
      expect(() => tx.update({ w }, tx.init({ w }), { v: w })).toThrow(/no parameter named 'w'/);
      expect(() => tx.update({ w }, tx.init({ w }), { w: tensor([1, 2]) })).toThrow(
        /shape \[1,2\], its parameter \[2\]/,
      );
      expect(() => tx.update({ w }, { count: -1 }, { w })).toThrow(ValueError);
    }));
});
