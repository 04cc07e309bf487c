import { describe, expect, it } from 'vitest';
import {
  fmt,
  isSingleRun,
  measure,
  measureAfterFirst,
  median,
  ratio,
  repsFor,
  summarize,
  table,
} from './stats.js';

describe('stats', () => {
  it('median of odd and even counts, NaN when empty', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('summarize: median, min, max, reps', () => {
    expect(summarize([5, 1, 9, 3], 2)).toEqual({ medianMs: 4, minMs: 1, maxMs: 9, reps: 4, warmup: 2 });
  });

  it('measureAfterFirst: a slow first run is the only sample, a fast one is followed by repetitions', () => {
    let calls = 0;
    const fn = () => {
      calls++;
    };
    const o = { warmup: 1, minReps: 3, maxReps: 3, budgetMs: 10 };
    const slow = measureAfterFirst(20_000, fn, o, 15_000);
    expect(slow).toEqual({ medianMs: 20_000, minMs: 20_000, maxMs: 20_000, reps: 1, warmup: 0 });
    expect(isSingleRun(slow)).toBe(true);
    expect(calls).toBe(0);
    const fast = measureAfterFirst(1, fn, o, 15_000);
    expect(fast.reps).toBe(3);
    expect(isSingleRun(fast)).toBe(false);
    expect(calls).toBeGreaterThanOrEqual(4); // warm-up + 3 timed
  });

  it('repsFor fits the budget between the bounds', () => {
    const o = { warmup: 1, minReps: 3, maxReps: 10, budgetMs: 100 };
    expect(repsFor(1, o)).toBe(10);
    expect(repsFor(20, o)).toBe(5);
    expect(repsFor(1000, o)).toBe(3);
    expect(repsFor(0, o)).toBe(10);
  });

  it('measure keeps warming up until warmupMs have passed', () => {
    let calls = 0;
    const t0 = performance.now();
    const t = measure(
      () => {
        calls++;
        const end = performance.now() + 0.5;
        while (performance.now() < end) {
          // busy: each call takes at least 0.5 ms, so the warm-up ends by time, not by its cap
        }
      },
      { warmup: 1, warmupMs: 5, minReps: 1, maxReps: 1, budgetMs: 1 },
    );
    expect(performance.now() - t0).toBeGreaterThanOrEqual(5);
    expect(t.warmup).toBe(calls - 1);
  });

  it('measure runs the warm-up untimed, then the timed repetitions', () => {
    let calls = 0;
    const t = measure(
      () => {
        calls++;
      },
      { warmup: 2, minReps: 4, maxReps: 4, budgetMs: 1 },
    );
    expect(calls).toBe(6);
    expect(t.reps).toBe(4);
    expect(t.warmup).toBe(2);
    expect(t.minMs).toBeLessThanOrEqual(t.medianMs);
    expect(t.medianMs).toBeLessThanOrEqual(t.maxMs);
  });

  it('table aligns columns (first left, others right)', () => {
    const t = table(
      ['a', 'bb'],
      [
        ['x', 1],
        ['long', 100],
      ],
    );
    expect(t.split('\n')).toEqual(['a      bb', '----  ---', 'x       1', 'long  100']);
  });

  it('fmt keeps about three significant digits; ratio formats or dashes', () => {
    expect(fmt(1234.56)).toBe('1235');
    expect(fmt(12.345)).toBe('12.3');
    expect(fmt(0.012345)).toBe('0.0123');
    expect(fmt(0)).toBe('0');
    expect(fmt(Number.NaN)).toBe('-');
    expect(ratio(6, 3)).toBe('2.00x');
    expect(ratio(1, 0)).toBe('-');
    expect(ratio(undefined, 2)).toBe('-');
  });
});
