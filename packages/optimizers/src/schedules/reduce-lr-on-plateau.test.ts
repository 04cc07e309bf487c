import { ValueError } from '@gradkit/tensor';
import { describe, expect, it } from 'vitest';
import {
  ReduceLROnPlateau,
  type ReduceLROnPlateauOptions,
  type ReduceLROnPlateauState,
} from './reduce-lr-on-plateau.js';
import { expectValueError, readFixture } from './testing.js';

type Encoded = number | 'NaN' | 'Infinity' | '-Infinity';

interface PlateauCase {
  options: ReduceLROnPlateauOptions;
  metrics: Encoded[];
  lr: number[];
  best: Encoded[];
  numBadEpochs: number[];
  cooldownCounter: number[];
}

const decode = (x: Encoded): number =>
  x === 'NaN'
    ? Number.NaN
    : x === 'Infinity'
      ? Number.POSITIVE_INFINITY
      : x === '-Infinity'
        ? Number.NEGATIVE_INFINITY
        : x;

const { cases } = readFixture<{ cases: PlateauCase[] }>('schedules_plateau.json');

/** Steps `plateau` through metrics[from, to) and expects PyTorch's lr and state after each step. */
function replay(plateau: ReduceLROnPlateau, c: PlateauCase, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const metric = decode(c.metrics[i]);
    const lr = plateau.step(metric);
    const where = `${JSON.stringify(c.options)} step ${i + 1} (metric ${metric})`;
    // The same float operations as PyTorch (lr * factor, max with minLr): equal, not just close.
    expect(lr, where).toBe(c.lr[i]);
    expect(plateau.lr, where).toBe(c.lr[i]);
    expect(plateau.best, where).toBe(decode(c.best[i]));
    expect(plateau.numBadEpochs, where).toBe(c.numBadEpochs[i]);
    expect(plateau.cooldownCounter, where).toBe(c.cooldownCounter[i]);
    expect(plateau.lastEpoch, where).toBe(i + 1);
  }
}

describe('ReduceLROnPlateau', () => {
  it.each(cases.map((c) => [`${JSON.stringify(c.options)}, ${c.metrics.length} metrics`, c] as const))(
    'makes PyTorch decisions: %s',
    (_, c) => {
      const plateau = new ReduceLROnPlateau(c.options);
      replay(plateau, c, 0, c.metrics.length);
      // every case reduces the rate at least once
      expect(plateau.lr).toBeLessThan(c.options.lr);
    },
  );

  it.each(cases.map((c) => [JSON.stringify(c.options), c] as const))(
    'resumes from a JSON state dict exactly: %s',
    (_, c) => {
      const half = Math.floor(c.metrics.length / 2);
      const first = new ReduceLROnPlateau(c.options);
      replay(first, c, 0, half);
      const saved = JSON.parse(JSON.stringify(first.stateDict())) as ReduceLROnPlateauState;
      const resumed = new ReduceLROnPlateau(c.options);
      resumed.loadStateDict(saved);
      replay(resumed, c, half, c.metrics.length);
    },
  );

  it('writes a JSON-safe state: non-finite best as strings', () => {
    const min = new ReduceLROnPlateau({ lr: 0.1 });
    expect(min.stateDict()).toEqual({
      lr: 0.1,
      best: 'Infinity',
      numBadEpochs: 0,
      cooldownCounter: 0,
      lastEpoch: 0,
    });
    const max = new ReduceLROnPlateau({ lr: 0.1, mode: 'max' });
    expect(max.stateDict().best).toBe('-Infinity');
    max.step(Number.POSITIVE_INFINITY); // better than -Infinity in max mode, as in PyTorch
    expect(max.best).toBe(Number.POSITIVE_INFINITY);
    const restored = new ReduceLROnPlateau({ lr: 0.1, mode: 'max' });
    restored.loadStateDict(JSON.parse(JSON.stringify(max.stateDict())));
    expect(restored.best).toBe(Number.POSITIVE_INFINITY);
    expect(restored.stateDict()).toEqual(max.stateDict());
  });

  it('holds its TSDoc example', () => {
    const plateau = new ReduceLROnPlateau({ lr: 0.1, patience: 2, factor: 0.5 });
    const lrs = [1.0, 0.9, 0.9, 0.9, 0.9].map((loss) => plateau.step(loss));
    expect(lrs).toEqual([0.1, 0.1, 0.1, 0.1, 0.05]);
    expect(new ReduceLROnPlateau({ lr: 0.1 }).isBetter(0.99, 1)).toBe(true);
  });

  it('uses PyTorch defaults', () => {
    const p = new ReduceLROnPlateau({ lr: 1 });
    expect([p.mode, p.factor, p.patience, p.threshold, p.thresholdMode, p.cooldown, p.minLr, p.eps]).toEqual([
      'min',
      0.1,
      10,
      1e-4,
      'rel',
      0,
      0,
      1e-8,
    ]);
    for (let i = 0; i < 11; i++) p.step(5); // first improves on Infinity, then 10 bad: patience not exceeded
    expect(p.lr).toBe(1);
    p.step(5); // 11th bad step
    expect(p.lr).toBe(0.1);
  });

  it('rejects bad options, naming them', () => {
    const op = 'ReduceLROnPlateau';
    expectValueError(() => new ReduceLROnPlateau({ lr: -0.1 }), op, 'lr', '-0.1');
    expectValueError(() => new ReduceLROnPlateau({ lr: 0.1, factor: 1 }), op, 'factor', '1');
    expectValueError(() => new ReduceLROnPlateau({ lr: 0.1, factor: 1.5 }), op, 'factor', '1.5');
    expectValueError(() => new ReduceLROnPlateau({ lr: 0.1, factor: 0 }), op, 'factor', '0');
    expectValueError(() => new ReduceLROnPlateau({ lr: 0.1, factor: Number.NaN }), op, 'factor', 'NaN');
    expectValueError(() => new ReduceLROnPlateau({ lr: 0.1, patience: -1 }), op, 'patience', '-1');
    expectValueError(() => new ReduceLROnPlateau({ lr: 0.1, patience: 1.5 }), op, 'patience', '1.5');
    expectValueError(() => new ReduceLROnPlateau({ lr: 0.1, cooldown: -2 }), op, 'cooldown', '-2');
    expectValueError(() => new ReduceLROnPlateau({ lr: 0.1, threshold: -1e-4 }), op, 'threshold', '-0.0001');
    expectValueError(() => new ReduceLROnPlateau({ lr: 0.1, minLr: -1 }), op, 'minLr', '-1');
    expectValueError(() => new ReduceLROnPlateau({ lr: 0.1, eps: -1 }), op, 'eps', '-1');
    expectValueError(() => new ReduceLROnPlateau({ lr: 0.1, mode: 'up' as 'min' }), op, 'mode', '"up"');
    expectValueError(
      () => new ReduceLROnPlateau({ lr: 0.1, thresholdMode: 'relative' as 'rel' }),
      op,
      'thresholdMode',
      '"relative"',
    );
    const plateau = new ReduceLROnPlateau({ lr: 0.1 });
    expectValueError(
      () => plateau.step('0.5' as unknown as number),
      'ReduceLROnPlateau.step',
      'metric',
      '"0.5"',
    );
  });

  it('rejects a bad state dict without changing anything', () => {
    const op = 'ReduceLROnPlateau.loadStateDict';
    const plateau = new ReduceLROnPlateau({ lr: 0.1 });
    plateau.step(1);
    const before = plateau.stateDict();
    const good = plateau.stateDict();
    expectValueError(() => plateau.loadStateDict({ ...good, lr: -1 }), op, 'lr', '-1');
    expectValueError(() => plateau.loadStateDict({ ...good, best: Number.NaN }), op, 'best', 'NaN');
    expectValueError(
      () => plateau.loadStateDict({ ...good, best: 'inf' as 'Infinity' }),
      op,
      'best',
      '"inf"',
    );
    expectValueError(() => plateau.loadStateDict({ ...good, numBadEpochs: 1.5 }), op, 'numBadEpochs', '1.5');
    expectValueError(
      () => plateau.loadStateDict({ ...good, cooldownCounter: -1 }),
      op,
      'cooldownCounter',
      '-1',
    );
    expectValueError(
      () => plateau.loadStateDict({ ...good, lastEpoch: undefined as unknown as number }),
      op,
      'lastEpoch',
      'undefined',
    );
    expect(() => plateau.loadStateDict(null as unknown as ReduceLROnPlateauState)).toThrow(ValueError);
    expect(plateau.stateDict()).toEqual(before);
  });
});
