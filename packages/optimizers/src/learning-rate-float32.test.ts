// Issue 10: a learning rate that is not finite in float32 is a usage error, not a step that
// writes Infinity into every weight (`--lr 1e300`) or a rate that silently never updates (`1e-50`).
import type { Params } from '@gradkit/tensor';
import { Parameter, ValueError } from '@gradkit/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { adadelta } from './adadelta.js';
import { adagrad } from './adagrad.js';
import { adam } from './adam.js';
import { adamax } from './adamax.js';
import { adamw } from './adamw.js';
import { injectHyperparams } from './inject-hyperparams.js';
import { lamb } from './lamb.js';
import { lion } from './lion.js';
import { nadam } from './nadam.js';
import type { Optimizer } from './optimizer.js';
import type { OptimizerParams } from './param-groups.js';
import { radam } from './radam.js';
import { rmsprop } from './rmsprop.js';
import { scaleByLearningRate } from './scale-by-learning-rate.js';
import { constantSchedule } from './schedules/constant.js';
import { cosineAnnealingSchedule } from './schedules/cosine-annealing.js';
import { exponentialSchedule } from './schedules/exponential.js';
import { oneCycleSchedule } from './schedules/one-cycle.js';
import { ReduceLROnPlateau } from './schedules/reduce-lr-on-plateau.js';
import { stepSchedule } from './schedules/step.js';
import { sgd, sgdTransform } from './sgd.js';
import { expectValueError } from './testing/errors.js';
import { disposeAll, givenGrads, givenParams } from './testing/params.js';
import { fromTransformation } from './transformation-optimizer.js';

const F32_MAX = 3.4028234663852886e38;
const OVER = (op: string, name: string, v: string) =>
  `${op}: ${name} ${v} is not finite in float32 (the largest float32 is 3.4028234663852886e+38)`;
const UNDER = (op: string, name: string, v: string) =>
  `${op}: ${name} ${v} rounds to 0 in float32 (the smallest positive float32 is 1.4e-45): give 0 or a larger rate`;

type Factory = (params: OptimizerParams<object>, lr: number) => Optimizer<never>;
const NAMED: readonly [string, Factory][] = [
  ['SGD', (p, lr) => sgd(p, { lr }) as never],
  ['Adagrad', (p, lr) => adagrad(p, { lr }) as never],
  ['RMSprop', (p, lr) => rmsprop(p, { lr }) as never],
  ['Adam', (p, lr) => adam(p, { lr }) as never],
  ['AdamW', (p, lr) => adamw(p, { lr }) as never],
  ['Adamax', (p, lr) => adamax(p, { lr }) as never],
  ['NAdam', (p, lr) => nadam(p, { lr }) as never],
  ['RAdam', (p, lr) => radam(p, { lr }) as never],
  ['Adadelta', (p, lr) => adadelta(p, { lr }) as never],
  ['Lion', (p, lr) => lion(p, { lr }) as never],
  ['LAMB', (p, lr) => lamb(p, { lr }) as never],
];

describe('learning rates must be finite in float32', () => {
  const w = new Parameter([1, 2, 3]);
  afterAll(() => w.dispose());

  it.each(NAMED)('%s: 1e300, 3.5e38, 1e-50, Infinity and NaN are errors naming the value', (name, make) => {
    expectValueError(() => make([w], 1e300), OVER(name, 'lr', '1e+300'));
    expectValueError(() => make([w], 3.5e38), OVER(name, 'lr', '3.5e+38'));
    expectValueError(() => make([w], 1e-50), UNDER(name, 'lr', '1e-50'));
    expectValueError(() => make([w], 1e-46), UNDER(name, 'lr', '1e-46'));
    expectValueError(
      () => make([w], Number.POSITIVE_INFINITY),
      `${name}: lr must be a finite number, got Infinity`,
    );
    expectValueError(() => make([w], Number.NaN), `${name}: lr must be a finite number, got NaN`);
  });

  it.each(NAMED)('%s: the float32 range is accepted up to both ends, and 0', (_name, make) => {
    for (const lr of [0, 1.4e-45, 1e-40, 1e-3, F32_MAX]) {
      const opt = make([w], lr);
      expect(opt.getLr()).toBe(lr);
      opt.dispose();
    }
  });

  it('setLr refuses a rate that is not finite in float32 and keeps the old one', () => {
    const opt = sgd([w], { lr: 0.1 });
    expectValueError(() => opt.setLr(1e300), OVER('SGD', 'lr', '1e+300'));
    expectValueError(
      () => opt.setLr(Number.POSITIVE_INFINITY),
      'SGD: lr must be a finite number, got Infinity',
    );
    expectValueError(() => opt.setLr(Number.NaN), 'SGD: lr must be a finite number, got NaN');
    expectValueError(() => opt.setLr(-1), 'SGD: lr must be >= 0, got -1');
    expect(opt.getLr()).toBe(0.1);
    const adamOpt = adam([w], { lr: 0.1 });
    expectValueError(() => adamOpt.setLr(1e39), OVER('Adam', 'lr', '1e+39'));
    expect(adamOpt.getLr()).toBe(0.1);
    // a decaying schedule may go below the smallest float32: that is the rate 0, not an error
    opt.setLr(1e-50);
    expect(opt.getLr()).toBe(0);
    opt.setLr(1.4e-45);
    expect(opt.getLr()).toBe(1.4e-45);
    opt.dispose();
    adamOpt.dispose();
  });

  it('a schedule that takes lr refuses it too (construction), for every kind checked', () => {
    expectValueError(() => constantSchedule(1e300), OVER('constantSchedule', 'lr', '1e+300'));
    expectValueError(
      () => exponentialSchedule({ lr: 1e300, gamma: 0.9 }),
      OVER('exponentialSchedule', 'lr', '1e+300'),
    );
    expectValueError(
      () => exponentialSchedule({ lr: 1e-50, gamma: 0.9 }),
      UNDER('exponentialSchedule', 'lr', '1e-50'),
    );
    expectValueError(
      () => cosineAnnealingSchedule({ lr: 1e300, tMax: 10 }),
      OVER('cosineAnnealingSchedule', 'lr', '1e+300'),
    );
    expectValueError(() => stepSchedule({ lr: 1e-50, stepSize: 2 }), UNDER('stepSchedule', 'lr', '1e-50'));
    expectValueError(
      () => oneCycleSchedule({ maxLr: 1e300, totalSteps: 10 }),
      OVER('oneCycleSchedule', 'maxLr', '1e+300'),
    );
    expectValueError(() => new ReduceLROnPlateau({ lr: 1e300 }), OVER('ReduceLROnPlateau', 'lr', '1e+300'));
    expectValueError(() => new ReduceLROnPlateau({ lr: 1e-50 }), UNDER('ReduceLROnPlateau', 'lr', '1e-50'));
    expectValueError(
      () => new ReduceLROnPlateau({ lr: Number.POSITIVE_INFINITY }),
      'ReduceLROnPlateau: lr must be a finite number, got Infinity',
    );
    expect(exponentialSchedule({ lr: 0.1, gamma: 0.5 })(3)).toBeCloseTo(0.0125, 12);
  });

  it("transformations: a number lr is checked at once, a schedule's value at each step", () => {
    expectValueError(() => scaleByLearningRate(1e300), OVER('scaleByLearningRate', 'lr', '1e+300'));
    expectValueError(() => scaleByLearningRate(1e-50), UNDER('scaleByLearningRate', 'lr', '1e-50'));
    expectValueError(() => sgdTransform({ lr: 1e300 }), OVER('SGD', 'lr', '1e+300'));
    const params = givenParams();
    const grads = givenGrads(0);
    try {
      const blowUp = sgdTransform({ lr: (step) => (step < 1 ? 0.1 : 1e300) });
      const s0 = blowUp.init(params);
      const [u0, s1] = blowUp.update(grads, s0, params) as [Params, unknown];
      disposeAll(u0);
      expectValueError(() => blowUp.update(grads, s1 as never, params), OVER('SGD', 'lr(1)', '1e+300'));
      const scaled = scaleByLearningRate(() => Number.NaN);
      expectValueError(
        () => scaled.update(grads, scaled.init(params), params),
        'scaleByLearningRate: lr(0) must be a finite number, got NaN',
      );
      // a schedule's value below the smallest float32 is the rate 0: zero updates
      const tiny = scaleByLearningRate(() => 1e-50);
      const [updates] = tiny.update(grads, tiny.init(params), params) as [Params, unknown];
      for (const u of Object.values(updates)) {
        for (const v of u.dataSync()) expect(Math.abs(v)).toBe(0);
      }
      disposeAll(updates);
      const tx = fromTransformation(params, injectHyperparams(sgdTransform)({ lr: 0.1 }));
      expectValueError(() => tx.setLr(1e300), OVER('TransformationOptimizer.setLr', 'lr', '1e+300'));
      expect(tx.getLr()).toBe(0.1);
      tx.setLr(1e-50);
      expect(tx.getLr()).toBe(0);
    } finally {
      disposeAll(params, grads);
    }
  });

  it('errors are ValueErrors', () => {
    expect(() => sgd([w], { lr: 1e300 })).toThrow(ValueError);
  });
});

describe('ReduceLROnPlateau never counts NaN as an improvement', () => {
  it('[1, NaN, 0.5] (min, patience 0): the NaN is a bad step, best stays 1, then 0.5 improves', () => {
    const p = new ReduceLROnPlateau({ lr: 0.1, patience: 0, factor: 0.5 });
    const trace = [1, Number.NaN, 0.5].map((m) => [p.step(m), p.best, p.numBadEpochs]);
    expect(trace).toEqual([
      [0.1, 1, 0],
      [0.05, 1, 0],
      [0.05, 0.5, 0],
    ]);
  });

  it('[NaN, NaN, 2] (min, patience 1): no best until a number comes, and NaN never becomes best', () => {
    const p = new ReduceLROnPlateau({ lr: 0.1, patience: 1, factor: 0.5 });
    expect(p.step(Number.NaN)).toBe(0.1);
    expect(p.best).toBe(Number.POSITIVE_INFINITY);
    expect(p.numBadEpochs).toBe(1);
    expect(p.step(Number.NaN)).toBe(0.05); // the second bad step in a row exceeds patience 1
    expect(p.best).toBe(Number.POSITIVE_INFINITY);
    expect(p.step(2)).toBe(0.05);
    expect(p.best).toBe(2);
    expect(p.stateDict().best).toBe(2);
  });

  it('[0.5, NaN, 0.9] (max): NaN is bad, best stays 0.5, 0.9 improves', () => {
    const p = new ReduceLROnPlateau({ lr: 0.1, mode: 'max', patience: 5 });
    const bests = [0.5, Number.NaN, 0.9].map((m) => {
      p.step(m);
      return p.best;
    });
    expect(bests).toEqual([0.5, 0.5, 0.9]);
    expect(p.numBadEpochs).toBe(0);
  });
});
