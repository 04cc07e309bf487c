import { describe, expect, it } from 'vitest';
import { planBroadcast } from '../codegen.js';
import { defineKernel } from '../spec/define.js';
import { glslMathSource, PORTABLE_MATH, portableGpuJs, portableKernelText } from './glsl-math.js';
import { mapSource } from './sources.js';

// How the gl backend's own GLSL math reaches gpu.js kernels (issue 16): kernel-language text gets
// the GLSL function of every Math call; the backend's index arithmetic keeps GLSL's floor.

describe('portableKernelText and portableGpuJs', () => {
  it('rewrites every Math call of kernel-language text, whole names only, and leaves constants', () => {
    expect(portableKernelText('Math.floor(a) + Math.expm1(b) * Math.exp (a) - Math.max(a, Math.PI)')).toBe(
      'gk_floor(a) + gk_expm1(b) * gk_exp(a) - gk_max(a, Math.PI)',
    );
  });

  it("keeps Math.floor of the backend's index arithmetic and declares what the spec calls", () => {
    const spec = defineKernel({
      name: 'test.portable.floor',
      arity: 2,
      params: 0,
      expr: 'Math.floor(a) + Math.round(b) + Math.exp(a)',
    });
    const src = mapSource(spec, planBroadcast([[3, 4], [4]], [3, 4]));
    expect(src).toContain('return gk_floor(a) + gk_round(b) + gk_exp(a);');
    const p = portableGpuJs(src);
    expect(p.source).toContain('Math.floor((i + 0.5) / 4.0)');
    expect(p.source).toContain('return gk_floor(a) + gk_round(b) + gk_exp(a);');
    expect(p.nativeFunctions.map((f) => f.name).sort()).toEqual(['gk_exp', 'gk_floor', 'gk_round']);
    expect(p.injectedNative).toContain('float gk_floor(float x)');
    expect(p.injectedNative).toContain('float gk_round(float x)');
    expect(p.injectedNative).toContain('float gk_pow2i(float n)'); // gk_exp's callee
  });

  it("rewrites the other Math calls of the backend's own sources, not floor; none: no extras", () => {
    const p = portableGpuJs('function (x) { return Math.abs(x[0]) + Math.log(Math.floor(x[1] + 0.5)); }');
    expect(p.source).toBe('function (x) { return gk_abs(x[0]) + gk_log(Math.floor(x[1] + 0.5)); }');
    expect(p.nativeFunctions.map((f) => f.name).sort()).toEqual(['gk_abs', 'gk_log']);
    const q = portableGpuJs('function (x) { return Math.floor(x[this.thread.x] + 0.5); }');
    expect(q).toEqual({
      source: 'function (x) { return Math.floor(x[this.thread.x] + 0.5); }',
      injectedNative: null,
      nativeFunctions: [],
    });
  });

  it('defines every GLSL function of PORTABLE_MATH, with the argument count it declares', () => {
    for (const { glsl, arity } of Object.values(PORTABLE_MATH)) {
      const src = glslMathSource([glsl]);
      const m = new RegExp(`float ${glsl}\\(([^)]*)\\)`).exec(src);
      expect(m, glsl).not.toBeNull();
      expect(m![1].split(',').length, glsl).toBe(arity);
    }
  });
});
