import { describe, expect, it } from 'vitest';
import { type LinearScheduleOptions, linearSchedule } from './linear.js';
import { expectMatches, expectValueError, scheduleCases, title } from './testing.js';

describe('linearSchedule (PyTorch LinearLR)', () => {
  const cases = scheduleCases<LinearScheduleOptions>('linear');

  it.each(cases.map((c) => [title(c), c] as const))('matches PyTorch: %s', (_, c) => {
    expectMatches(linearSchedule(c.options), c);
  });

  it('holds its TSDoc example', () => {
    const warmup = linearSchedule({ lr: 0.05, startFactor: 0.5, totalIters: 4 });
    const want = [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05];
    for (const t of [0, 1, 2, 3, 4, 5]) expect(warmup(t)).toBeCloseTo(want[t], 15);
  });

  it('rejects bad arguments, naming them', () => {
    const op = 'linearSchedule';
    expectValueError(() => linearSchedule({ lr: -0.05 }), op, 'lr', '-0.05');
    expectValueError(() => linearSchedule({ lr: 0.05, startFactor: 0 }), op, 'startFactor', '0');
    expectValueError(() => linearSchedule({ lr: 0.05, startFactor: 1.1 }), op, 'startFactor', '1.1');
    expectValueError(() => linearSchedule({ lr: 0.05, endFactor: -0.1 }), op, 'endFactor', '-0.1');
    expectValueError(() => linearSchedule({ lr: 0.05, endFactor: 2 }), op, 'endFactor', '2');
    expectValueError(() => linearSchedule({ lr: 0.05, totalIters: 0 }), op, 'totalIters', '0');
    expectValueError(() => linearSchedule({ lr: 0.05 })(-1), op, 'step', '-1');
  });
});
