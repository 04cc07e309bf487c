import { Parameter, scope } from '@gradkit/tensor';
import { expectClose, expectGradcheck, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { decoupledWeightDecay } from './decoupled-weight-decay.js';
import { frobeniusPenalty } from './frobenius.js';
import { l1Penalty } from './l1.js';
import { l1l2Penalty } from './l1l2.js';
import { halfL2Penalty, l2Penalty } from './l2.js';
import { maxNorm } from './max-norm.js';
import { selectParameters } from './select.js';
import { expectPenaltyMatches, REF } from './testing/check.js';
import type { PenaltyCase } from './testing/fixture.js';
import { FIXTURE, FixtureModel, fromEncoded } from './testing/fixture.js';

// Convolution weights [Cout, Cin, KH, KW] (PyTorch's layout) in a small CNN's parameters
// (fixtures/generate.py 'convParams': two conv layers, a BatchNorm2d, a Linear head). The penalties
// treat a conv weight as the whole tensor (||W||_F^2 = the squared Frobenius norm of the matrix
// [Cout, Cin KH KW]), the default selection takes conv weights and skips conv biases and the
// BatchNorm's 1-D weight/bias, and max-norm constrains each output filter (norm over every axis but
// 0, torch.renorm(w, 2, 0, c); its own tests replay that against PyTorch). Values and gradients
// against PyTorch (float64) within REF (1e-6 abs + 1e-5 rel).

const caseOf = (name: PenaltyCase['name']): PenaltyCase => {
  const c = FIXTURE.convPenalties.find((p) => p.name === name);
  if (!c) throw new Error(`no conv penalty case '${name}'`);
  return c;
};

describe.each(testBackends)('regularizers on conv weights on %s', (backend) => {
  useBackend(backend);

  it('the default selection takes conv and linear weights, not conv biases or BatchNorm2d parameters', () => {
    const model = new FixtureModel(FIXTURE.convParams);
    expect(selectParameters(model).map(([n]) => n)).toEqual(FIXTURE.convSelected);
    model.dispose();
  });

  for (const [name, penalty] of [
    ['l1', (m: FixtureModel, c: PenaltyCase) => l1Penalty(m, c.args.lambda!)],
    ['l2', (m: FixtureModel, c: PenaltyCase) => l2Penalty(m, c.args.lambda!)],
    ['halfL2', (m: FixtureModel, c: PenaltyCase) => halfL2Penalty(m, c.args.lambda!)],
    ['l1l2', (m: FixtureModel, c: PenaltyCase) => l1l2Penalty(m, { l1: c.args.l1!, l2: c.args.l2! })],
    ['frobenius', (m: FixtureModel, c: PenaltyCase) => frobeniusPenalty(m, c.args.lambdas!)],
  ] as const) {
    it(`${name} matches PyTorch on [Cout, Cin, KH, KW] weights`, () =>
      scope(() => {
        const model = new FixtureModel(FIXTURE.convParams);
        const c = caseOf(name);
        expectPenaltyMatches(model, penalty(model, c), c);
        model.dispose();
      }));
  }

  it('gradcheck of the penalties on a conv weight [3,2,2,2] (away from 0 for L1)', () =>
    scope(() => {
      const w = fromEncoded(FIXTURE.constraints.inputs['conv.weight'], true);
      expectGradcheck((t) => l2Penalty({ 'conv.weight': t }, 0.3), [w]);
      expectGradcheck((t) => frobeniusPenalty({ 'conv.weight': t }, { conv: 0.2 }, { half: true }), [w]);
      expectGradcheck((t) => l1l2Penalty({ 'conv.weight': t }, { l1: 0.1, l2: 0.2 }), [w]);
    }));

  it('decoupled weight decay shrinks a conv weight and leaves its bias alone', () =>
    scope(() => {
      const weight = new Parameter(fromEncoded(FIXTURE.convParams['conv1.weight']));
      const bias = new Parameter(fromEncoded(FIXTURE.convParams['conv1.bias']));
      const params = { 'conv1.weight': weight, 'conv1.bias': bias };
      const tx = decoupledWeightDecay(0.1, { learningRate: 0.5 });
      const zeros = { 'conv1.weight': weight.mul(0), 'conv1.bias': bias.mul(0) };
      const [updates] = tx.update(zeros, tx.init(params), params);
      const w = weight.dataSync();
      expectClose(
        updates['conv1.weight'],
        Array.from(w, (v) => -0.05 * v),
        REF,
      );
      expectClose(updates['conv1.bias'], [0, 0, 0, 0], { atol: 0, rtol: 0 });
    }));

  it('maxNorm constrains each output filter of a conv weight: norm over (Cin, KH, KW) <= c', () =>
    scope(() => {
      const model = new FixtureModel(FIXTURE.convParams);
      const w = model.namedParameters().find(([n]) => n === 'conv1.weight')![1];
      const before = w.dataSync();
      const unit = w.size / w.shape[0];
      const norms = (v: Float32Array) =>
        Array.from({ length: w.shape[0] }, (_, o) =>
          Math.sqrt(v.subarray(o * unit, (o + 1) * unit).reduce((s, e) => s + e * e, 0)),
        );
      const c = 0.8 * Math.max(...norms(before)); // at least one filter above c
      maxNorm(model, c, { include: ['conv1.weight'] });
      const after = w.dataSync();
      norms(before).forEach((n, o) => {
        const got = norms(after)[o];
        if (n > c) expect(Math.abs(got - c)).toBeLessThan(1e-5 * c);
        else
          expect(Array.from(after.subarray(o * unit, (o + 1) * unit))).toEqual(
            Array.from(before.subarray(o * unit, (o + 1) * unit)),
          );
      });
      expect(norms(before).some((n) => n <= c)).toBe(true);
      model.dispose();
    }));
});
