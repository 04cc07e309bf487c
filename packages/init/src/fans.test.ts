import { ShapeError, ValueError } from '@gradkit/tensor';
import { describe, expect, it } from 'vitest';
import { computeFans, fanOf } from './fans.js';
import { FIXTURE } from './testing/fixture.js';

describe('computeFans (vs torch.nn.init._calculate_fan_in_and_fan_out)', () => {
  it.each(FIXTURE.fans)('shape $shape: fanIn $fanIn, fanOut $fanOut', ({ shape, fanIn, fanOut }) => {
    expect(computeFans(shape)).toEqual({ fanIn, fanOut });
    expect(fanOf(shape, 'fanIn')).toBe(fanIn);
    expect(fanOf(shape, 'fanOut')).toBe(fanOut);
  });

  it.each(FIXTURE.fanErrors)('rank < 2 ($shape) is a ShapeError, as PyTorch raises', ({ shape, message }) => {
    expect(message).toMatch(/fewer than 2 dimensions/);
    expect(() => computeFans(shape)).toThrow(ShapeError);
    expect(() => computeFans(shape)).toThrow(
      `computeFans: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions, got shape [${shape.join(',')}]`,
    );
  });

  it('rejects malformed shapes and modes', () => {
    expect(() => computeFans([2, 1.5])).toThrow(ShapeError);
    expect(() => computeFans([2, -1])).toThrow(ShapeError);
    expect(() => fanOf([2, 3], 'fan_in' as 'fanIn')).toThrow(ValueError);
    expect(() => fanOf([2, 3], 'fan_in' as 'fanIn')).toThrow(
      `fanOf: mode must be 'fanIn' or 'fanOut', got "fan_in"`,
    );
  });
});
