import { describe, expect, it } from 'vitest';
import { type PolynomialScheduleOptions, polynomialSchedule } from './polynomial.js';
import { expectMatches, expectValueError, scheduleCases, title } from './testing.js';

describe('polynomialSchedule (PyTorch PolynomialLR)', () => {
  const cases = scheduleCases<PolynomialScheduleOptions>('polynomial');

  it.each(cases.map((c) => [title(c), c] as const))('matches PyTorch: %s', (_, c) => {
    expectMatches(polynomialSchedule(c.options), c);
  });

  it('holds its TSDoc example', () => {
    const schedule = polynomialSchedule({ lr: 0.001, totalIters: 4, power: 1 });
    const want = [0.001, 0.00075, 0.0005, 0.00025, 0, 0];
    for (const t of [0, 1, 2, 3, 4, 5]) expect(schedule(t)).toBeCloseTo(want[t], 17);
    expect(schedule(4)).toBe(0);
  });

  it('rejects bad arguments, naming them', () => {
    const op = 'polynomialSchedule';
    expectValueError(() => polynomialSchedule({ lr: -0.1 }), op, 'lr', '-0.1');
    expectValueError(() => polynomialSchedule({ lr: 0.1, totalIters: 0 }), op, 'totalIters', '0');
    expectValueError(() => polynomialSchedule({ lr: 0.1, power: 0 }), op, 'power', '0');
    expectValueError(() => polynomialSchedule({ lr: 0.1, power: -1 }), op, 'power', '-1');
    expectValueError(() => polynomialSchedule({ lr: 0.1 })(Number.POSITIVE_INFINITY), op, 'step', 'Infinity');
  });
});
