import { tensor, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { fused } from './kernel.js';

// fused(): the optimizers' `$name` templates become defineKernel specs, once per variant.

describe.each(testBackends)('fused kernels on %s', (backend) => {
  useBackend(backend);

  it('computes the template with inputs and parameters by name', () => {
    const m = tensor([1, 2, 3]);
    const g = tensor([10, 20, 30]);
    const out = fused('test.ema', '$b1 * $m + $c1 * $g', { m, g }, { b1: 0.5, c1: 0.25 });
    expect(Array.from(out.dataSync())).toEqual([3, 6, 9]);
    // an input left out (undefined) is another variant of the same template
    const out2 = fused('test.ema', '$m * 2.0', { m, g: undefined }, {});
    expect(Array.from(out2.dataSync())).toEqual([2, 4, 6]);
  });

  it('a template outside the kernel language is a ValueError naming the kernel, not a silent value', () => {
    const g = tensor([1, 2]);
    // `2` without a decimal point is outside the language: the old path compiled it unchecked
    expect(() => fused('test.bad', '$g * 2', { g })).toThrow(ValueError);
    expect(() => fused('test.bad', '$g * 2', { g })).toThrow(
      "kernel 'optimizers.test.bad': number 2 at column 5 of expr needs a decimal point",
    );
    expect(() => fused('test.bad2', '$g % 2.0', { g })).toThrow(
      /kernel 'optimizers\.test\.bad2': operator '%'/,
    );
  });
});
