import { ValueError } from '@gradkit/tensor';
import { describe, expect, it } from 'vitest';
import type { Nonlinearity, PyTorchNonlinearity } from './gain.js';
import { calculateGain, NONLINEARITIES } from './gain.js';
import { FIXTURE } from './testing/fixture.js';

// Every case of torch.nn.init.calculate_gain in the fixture, by PyTorch's name and by gradkit's
// camelCase name; the values are computed with the same float64 operations, so they are equal.

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

describe('calculateGain (vs torch.nn.init.calculate_gain)', () => {
  it.each(FIXTURE.calculateGain)('$nonlinearity, param $param: $gain', ({ nonlinearity, param, gain }) => {
    const p = param ?? undefined;
    expect(calculateGain(nonlinearity as PyTorchNonlinearity, p)).toBe(gain);
    expect(calculateGain(camel(nonlinearity) as Nonlinearity, p)).toBe(gain);
  });

  it('covers every nonlinearity PyTorch 1.13 knows', () => {
    const torchNames = new Set(FIXTURE.calculateGain.map((c) => c.nonlinearity));
    expect(torchNames.size).toBe(12);
    for (const n of torchNames) expect(NONLINEARITIES).toContain(n);
  });

  it('rejects an unknown nonlinearity, naming it (PyTorch: "Unsupported nonlinearity gelu")', () => {
    expect(FIXTURE.calculateGainErrors[0].message).toBe('Unsupported nonlinearity gelu');
    expect(() => calculateGain('gelu' as Nonlinearity)).toThrow(ValueError);
    expect(() => calculateGain('gelu' as Nonlinearity)).toThrow(
      /calculateGain: unsupported nonlinearity "gelu"/,
    );
  });

  it('rejects a leaky-ReLU slope that is not a finite number (PyTorch rejects True)', () => {
    expect(FIXTURE.calculateGainErrors[1].message).toBe('negative_slope True not a valid number');
    expect(() => calculateGain('leakyRelu', true as unknown as number)).toThrow(
      'calculateGain: negative slope true is not a valid number',
    );
    expect(() => calculateGain('leakyRelu', Number.NaN)).toThrow(ValueError);
  });
});
