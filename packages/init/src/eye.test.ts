import { Parameter, ShapeError, zeros as tensorZeros } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { eye, eye_ } from './eye.js';
import { FIXTURE } from './testing/fixture.js';

describe.each(testBackends)('eye on %s', (backend) => {
  useBackend(backend);

  it.each(FIXTURE.eye)('shape $shape equals torch.nn.init.eye_', ({ shape, result }) => {
    expect(eye(shape).dataSync()).toEqual(Float32Array.from(result));
    const p = new Parameter(tensorZeros(shape));
    expect(eye_(p).dataSync()).toEqual(Float32Array.from(result));
    p.dispose();
  });

  it('only 2-D shapes (as PyTorch)', () => {
    expect(FIXTURE.eyeError).toBe('Only tensors with 2 dimensions are supported');
    expect(() => eye([2, 2, 2])).toThrow(ShapeError);
    expect(() => eye([2, 2, 2])).toThrow(
      'eye: only tensors with 2 dimensions are supported, got shape [2,2,2]',
    );
  });
});
