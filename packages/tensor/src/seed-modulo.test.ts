import { describe, expect, it } from 'vitest';
import { manualSeed, Rng } from './index.js';

// What the documentation of manualSeed and Rng promises about seeds outside [0, 2^32).
describe('seeds are integers taken modulo 2^32', () => {
  const draws = (seed: number) => {
    const r = new Rng(seed);
    return [r.uniform(), r.uniform(), r.uniform()];
  };

  it('-1 is 2^32 - 1, 2^32 + 1 is 1, 2^40 is 0; different seeds below 2^32 differ', () => {
    expect(draws(-1)).toEqual(draws(2 ** 32 - 1));
    expect(draws(2 ** 32 + 1)).toEqual(draws(1));
    expect(draws(2 ** 40)).toEqual(draws(0));
    expect(draws(1)).not.toEqual(draws(2));
    expect(draws(2 ** 32 - 1)).not.toEqual(draws(0));
    manualSeed(-1);
    const a = manualSeed(-1).uniform();
    expect(a).toBe(new Rng(2 ** 32 - 1).uniform());
    manualSeed(0);
  });

  it('a non-integer seed is a ValueError naming it', () => {
    expect(() => new Rng(1.5)).toThrow(/Rng: seed must be an integer, got 1.5/);
    expect(() => manualSeed(Number.NaN)).toThrow(/seed must be an integer, got NaN/);
  });
});
