import { Parameter, ShapeError, zeros as tensorZeros, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { dirac, dirac_ } from './dirac.js';
import { FIXTURE } from './testing/fixture.js';

describe.each(testBackends)('dirac on %s', (backend) => {
  useBackend(backend);

  it.each(FIXTURE.dirac)(
    'shape $shape, groups $groups equals torch.nn.init.dirac_',
    ({ shape, groups, result }) => {
      expect(dirac(shape, { groups }).dataSync()).toEqual(Float32Array.from(result));
      const p = new Parameter(tensorZeros(shape));
      expect(dirac_(p, { groups }).dataSync()).toEqual(Float32Array.from(result));
      p.dispose();
    },
  );

  it('errors: rank outside 3..5, groups not dividing dim 0 (as PyTorch)', () => {
    expect(FIXTURE.diracErrors).toEqual([
      'Only tensors with 3, 4, or 5 dimensions are supported',
      'dim 0 must be divisible by groups',
    ]);
    expect(() => dirac([3, 3])).toThrow(ShapeError);
    expect(() => dirac([3, 3])).toThrow(
      'dirac: only tensors with 3, 4, or 5 dimensions are supported, got shape [3,3]',
    );
    expect(() => dirac([5, 2, 3], { groups: 2 })).toThrow(ValueError);
    expect(() => dirac([5, 2, 3], { groups: 2 })).toThrow('dirac: dim 0 (5) must be divisible by groups (2)');
    expect(() => dirac([4, 2, 3], { groups: 0 })).toThrow('dirac: groups must be a positive integer, got 0');
    expect(dirac([4, 2, 0]).size).toBe(0);
  });
});
