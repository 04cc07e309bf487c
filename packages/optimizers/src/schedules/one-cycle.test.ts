import { describe, expect, it } from 'vitest';
import { type OneCycleScheduleOptions, oneCycleMomentumSchedule, oneCycleSchedule } from './one-cycle.js';
import { expectMatches, expectValueError, scheduleCases, title } from './testing.js';

type Options = OneCycleScheduleOptions & { baseMomentum?: number; maxMomentum?: number };

describe('oneCycleSchedule and oneCycleMomentumSchedule (PyTorch OneCycleLR)', () => {
  const cases = scheduleCases<Options>('oneCycle');

  it.each(cases.map((c) => [title(c), c] as const))('matches PyTorch lr: %s', (_, c) => {
    expectMatches(oneCycleSchedule(c.options), c);
  });

  it.each(cases.map((c) => [title(c), c] as const))('matches PyTorch momentum: %s', (_, c) => {
    expectMatches(oneCycleMomentumSchedule(c.options), c, c.momentum);
  });

  it('reaches the minimum at totalSteps - 1, extrapolates at totalSteps and throws after, as PyTorch', () => {
    const lr = oneCycleSchedule({ maxLr: 0.1, totalSteps: 100 });
    expect(lr(99)).toBeCloseTo(0.1 / 25 / 1e4, 18);
    expect(lr(100)).toBeGreaterThan(lr(99)); // cos: rising again past the end
    const linear = oneCycleSchedule({ maxLr: 0.1, totalSteps: 100, annealStrategy: 'linear' });
    expect(linear(100)).toBeLessThan(0); // linear: below the minimum, negative
    expectValueError(() => lr(101), 'oneCycleSchedule', 'step', '101');
    const momentum = oneCycleMomentumSchedule({ totalSteps: 100 });
    expectValueError(() => momentum(101), 'oneCycleMomentumSchedule', 'step', '101');
  });

  it('holds its TSDoc examples', () => {
    const cycle = { totalSteps: 1000, pctStart: 0.3 };
    const lr = oneCycleSchedule({ ...cycle, maxLr: 0.1 });
    const momentum = oneCycleMomentumSchedule(cycle);
    expect(lr(0)).toBeCloseTo(0.004, 15);
    expect(momentum(0)).toBeCloseTo(0.95, 15);
    expect(lr(299)).toBeCloseTo(0.1, 15);
    expect(momentum(299)).toBeCloseTo(0.85, 15);
    expect(lr(999)).toBeCloseTo(4e-7, 18);
    expect(momentum(999)).toBeCloseTo(0.95, 15);
    const m = oneCycleMomentumSchedule({ totalSteps: 100 });
    expect(m(0)).toBeCloseTo(0.95, 15);
    expect(m(29)).toBeCloseTo(0.85, 15);
    expect(m(99)).toBeCloseTo(0.95, 15);
  });

  it('rejects bad arguments, naming them', () => {
    const op = 'oneCycleSchedule';
    expectValueError(() => oneCycleSchedule({ maxLr: -0.1, totalSteps: 10 }), op, 'maxLr', '-0.1');
    expectValueError(() => oneCycleSchedule({ maxLr: 0.1, totalSteps: 0 }), op, 'totalSteps', '0');
    expectValueError(() => oneCycleSchedule({ maxLr: 0.1, totalSteps: 10.5 }), op, 'totalSteps', '10.5');
    expectValueError(
      () => oneCycleSchedule({ maxLr: 0.1, totalSteps: 10, pctStart: 0 }),
      op,
      'pctStart',
      '0',
    );
    expectValueError(
      () => oneCycleSchedule({ maxLr: 0.1, totalSteps: 10, pctStart: 1 }),
      op,
      'pctStart',
      '1',
    );
    expectValueError(
      () => oneCycleSchedule({ maxLr: 0.1, totalSteps: 10, pctStart: -0.3 }),
      op,
      'pctStart',
      '-0.3',
    );
    expectValueError(
      () => oneCycleSchedule({ maxLr: 0.1, totalSteps: 10, annealStrategy: 'exp' as 'cos' }),
      op,
      'annealStrategy',
      '"exp"',
    );
    expectValueError(
      () => oneCycleSchedule({ maxLr: 0.1, totalSteps: 10, divFactor: 0 }),
      op,
      'divFactor',
      '0',
    );
    expectValueError(
      () => oneCycleSchedule({ maxLr: 0.1, totalSteps: 10, finalDivFactor: -1 }),
      op,
      'finalDivFactor',
      '-1',
    );
    expectValueError(
      () => oneCycleSchedule({ maxLr: 0.1, totalSteps: 10, threePhase: 'yes' as unknown as boolean }),
      op,
      'threePhase',
      '"yes"',
    );
    expectValueError(
      () => oneCycleMomentumSchedule({ totalSteps: 10, baseMomentum: -0.85 }),
      'oneCycleMomentumSchedule',
      'baseMomentum',
      '-0.85',
    );
    expectValueError(
      () => oneCycleMomentumSchedule({ totalSteps: 10, maxMomentum: Number.NaN }),
      'oneCycleMomentumSchedule',
      'maxMomentum',
      'NaN',
    );
  });

  it('rejects a phase of zero length, where PyTorch divides by zero', () => {
    // pctStart * totalSteps = 1: the warm-up phase ends at step 0 (PyTorch: ZeroDivisionError at step 0)
    expect(() => oneCycleSchedule({ maxLr: 0.1, totalSteps: 10, pctStart: 0.1 })).toThrow(/zero length/);
    expect(() => oneCycleSchedule({ maxLr: 0.1, totalSteps: 10, pctStart: 0.1, threePhase: true })).toThrow(
      /oneCycleSchedule: pctStart 0.1 with totalSteps 10 gives a phase of zero length/,
    );
    expect(() => oneCycleMomentumSchedule({ totalSteps: 20, pctStart: 0.05 })).toThrow(/zero length/);
  });
});
