import { defineKernel, isDefinedKernel } from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';
import { BIAS_ACT, fusedBiasSpec, S } from './specs.js';

// Every element-wise spec of the tensor layer is made by defineKernel: parsed and validated when
// the module loads (a mistake fails the import, not a later kernel call on some backend).

describe('tensor kernel specs', () => {
  const all = [...Object.values(S), ...Object.values(BIAS_ACT)];

  it('are all defined kernels (validated, frozen, parse kept)', () => {
    expect(all.length).toBe(Object.keys(S).length + Object.keys(BIAS_ACT).length);
    for (const s of all) {
      expect(isDefinedKernel(s), s.name).toBe(true);
      expect(Object.isFrozen(s), s.name).toBe(true);
      expect(s.name.startsWith('tensor_'), s.name).toBe(true);
    }
  });

  it('fusedBiasSpec renames the base input to t_z = a + b and stays valid', () => {
    const base = defineKernel({
      name: 'k',
      arity: 1,
      params: 1,
      stmts: 'let t_x = Math.abs(a);',
      expr: 'a * p0 + t_x',
    });
    const f = fusedBiasSpec('k', base);
    expect(f).toEqual({
      name: 'tensor_bias_k',
      arity: 2,
      params: 1,
      stmts: 'let t_z = a + b; let t_x = Math.abs(t_z);',
      expr: 't_z * p0 + t_x',
    });
    expect(isDefinedKernel(f)).toBe(true);
  });
});
