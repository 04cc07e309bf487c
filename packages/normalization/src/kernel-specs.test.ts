import { defineKernel } from '@gradkit/tensor';
import { describe, expect, it } from 'vitest';
import { S } from './specs.js';

// Every fused kernel of the normalization layers is made by defineKernel (parsed and validated
// when the module loads): defining a defined spec returns the very same frozen object.

describe('normalization kernel specs', () => {
  it.each(Object.entries(S))('%s is a defined kernel', (key, spec) => {
    expect(defineKernel(spec)).toBe(spec);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(spec.name).toBe(`normalization_${key}`);
  });
});
