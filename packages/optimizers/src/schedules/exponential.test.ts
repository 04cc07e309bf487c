import { describe, expect, it } from 'vitest';
import { type ExponentialScheduleOptions, exponentialSchedule } from './exponential.js';
import { expectMatches, expectValueError, scheduleCases, title } from './testing.js';

describe('exponentialSchedule (PyTorch ExponentialLR)', () => {
  const cases = scheduleCases<ExponentialScheduleOptions>('exponential');

  it.each(cases.map((c) => [title(c), c] as const))('matches PyTorch: %s', (_, c) => {
    expectMatches(exponentialSchedule(c.options), c);
  });

  it('holds its TSDoc example', () => {
    const schedule = exponentialSchedule({ lr: 0.1, gamma: 0.9 });
    expect(schedule(0)).toBe(0.1);
    expect(schedule(2)).toBeCloseTo(0.081, 15);
  });

  it('rejects bad arguments, naming them', () => {
    const op = 'exponentialSchedule';
    expectValueError(() => exponentialSchedule({ lr: -0.1, gamma: 0.9 }), op, 'lr', '-0.1');
    expectValueError(() => exponentialSchedule({ lr: 0.1, gamma: 0 }), op, 'gamma', '0');
    expectValueError(() => exponentialSchedule({ lr: 0.1, gamma: -2 }), op, 'gamma', '-2');
    expectValueError(
      () => exponentialSchedule({ lr: 0.1 } as ExponentialScheduleOptions),
      op,
      'gamma',
      'undefined',
    );
  });
});
