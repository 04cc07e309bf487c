import { memory, Parameter, Rng, tensor, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { constant, constant_, ones, ones_, zeros, zeros_ } from './constant.js';

describe.each(testBackends)('zeros / ones / constant on %s', (backend) => {
  useBackend(backend);

  it('fill exact values, draw nothing, honour requiresGrad', () => {
    const rng = new Rng(0);
    const s = rng.state();
    expect(zeros([2, 3], { rng }).dataSync()).toEqual(new Float32Array(6));
    expect(ones([4], { rng }).dataSync()).toEqual(new Float32Array(4).fill(1));
    expect(constant([2, 2], 0.1, { rng }).dataSync()).toEqual(new Float32Array(4).fill(Math.fround(0.1)));
    expect(rng.state()).toEqual(s);
    expect(zeros([3], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(zeros([]).shape).toEqual([]);
  });

  it('in place: same tensor, new values, no leak', () => {
    const p = new Parameter(tensor([1, 2, 3]));
    const before = memory().tensors;
    expect(zeros_(p)).toBe(p);
    expect(p.dataSync()).toEqual(new Float32Array(3));
    ones_(p);
    expect(p.dataSync()).toEqual(new Float32Array([1, 1, 1]));
    constant_(p, -2.5);
    expect(p.dataSync()).toEqual(new Float32Array([-2.5, -2.5, -2.5]));
    expect(memory().tensors).toBe(before);
    p.dispose();
  });

  it('errors: non-finite value, bad shape, disposed target', () => {
    expect(() => constant([2], Number.NaN)).toThrow(ValueError);
    expect(() => constant([2], Number.NaN)).toThrow('constant: value must be a finite number, got NaN');
    expect(() => zeros([2, -1])).toThrow(/sample: shape \[2,-1\] has a dimension/);
    const t = tensor([1, 2]);
    t.dispose();
    expect(() => ones_(t)).toThrow('ones_: the tensor to fill was disposed');
    expect(() => zeros_(null as unknown as Parameter)).toThrow(
      'zeros_: expected a Tensor or Parameter to fill, got null',
    );
  });
});
