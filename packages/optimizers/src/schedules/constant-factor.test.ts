import { describe, expect, it } from 'vitest';
import { type ConstantFactorScheduleOptions, constantFactorSchedule } from './constant-factor.js';
import { expectMatches, expectValueError, scheduleCases, title } from './testing.js';

describe('constantFactorSchedule (PyTorch ConstantLR)', () => {
  const cases = scheduleCases<ConstantFactorScheduleOptions>('constantFactor');

  it.each(cases.map((c) => [title(c), c] as const))('matches PyTorch: %s', (_, c) => {
    expectMatches(constantFactorSchedule(c.options), c);
  });

  it('holds its TSDoc example', () => {
    const schedule = constantFactorSchedule({ lr: 0.05, factor: 0.5, totalIters: 4 });
    expect([0, 1, 2, 3, 4, 5].map(schedule)).toEqual([0.025, 0.025, 0.025, 0.025, 0.05, 0.05]);
  });

  it('uses PyTorch defaults factor 1/3, totalIters 5', () => {
    const schedule = constantFactorSchedule({ lr: 0.3 });
    expect(schedule(4)).toBe(0.3 * (1 / 3));
    expect(schedule(5)).toBe(0.3);
  });

  it('rejects bad arguments, naming them', () => {
    const op = 'constantFactorSchedule';
    expectValueError(() => constantFactorSchedule({ lr: -1 }), op, 'lr', '-1');
    expectValueError(() => constantFactorSchedule({ lr: 0.1, factor: 0 }), op, 'factor', '0');
    expectValueError(() => constantFactorSchedule({ lr: 0.1, factor: 1.5 }), op, 'factor', '1.5');
    expectValueError(() => constantFactorSchedule({ lr: 0.1, totalIters: 0 }), op, 'totalIters', '0');
    expectValueError(() => constantFactorSchedule({ lr: 0.1, totalIters: 2.5 }), op, 'totalIters', '2.5');
    expectValueError(() => constantFactorSchedule({ lr: 0.1 })(-1), op, 'step', '-1');
  });
});
