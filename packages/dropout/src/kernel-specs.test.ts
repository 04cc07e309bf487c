import { defineKernel } from '@gradkit/tensor';
import { describe, expect, it } from 'vitest';
import { ALPHA_AFFINE, GAUSSIAN_NOISE, MASK_SCALE } from './kernels.js';

// The dropout family's fused kernels are made by defineKernel (parsed and validated when the
// module loads): defining a defined spec returns the very same frozen object.

describe('dropout kernel specs', () => {
  it.each([MASK_SCALE, ALPHA_AFFINE, GAUSSIAN_NOISE])('$name is a defined kernel', (spec) => {
    expect(defineKernel(spec)).toBe(spec);
    expect(Object.isFrozen(spec)).toBe(true);
  });
});
