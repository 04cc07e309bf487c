import * as gpujs from 'gpu.js';
import { describe, expect, it } from 'vitest';
import { MATH_FUNCTIONS } from '../spec/ast.js';
import { defineKernel } from '../spec/define.js';
import { textureSizeFor } from './backend.js';
import { PORTABLE_MATH } from './glsl-math.js';
import {
  epilogueStrides,
  MATMUL_BLOCK,
  mapSameShapeSource,
  matmulBlockedSource,
  matmulPackedSource,
  ONE_UNIFORM,
  PACKED_VERTEX_SOURCE,
  PACKED_VERTEX_SOURCE_300,
  packSource,
  unpackBlockedSource,
  unpackEpilogue,
  unpackSource,
  ZERO_UNIFORM,
} from './packed-sources.js';

// The packed matmul's GLSL sources as text (no GPU; their results are checked on the GPU in
// packed.test.ts), and the texture size the packed passes give their product, which must be the
// one gpu.js gives every other buffer of that length.

describe('textureSizeFor', () => {
  it("equals gpu.js's closestSquareDimensions for every length up to 5000 and near the limits", () => {
    const lengths = [
      ...Array.from({ length: 5000 }, (_, i) => i + 1),
      65_536,
      65_537,
      1_000_003,
      2 ** 23 - 1,
      2 ** 23,
    ];
    for (const n of lengths) {
      const [w, h] = textureSizeFor(n);
      expect([w, h], `n = ${n}`).toEqual(
        Array.from(
          (
            gpujs.utils as unknown as { closestSquareDimensions(n: number): Int32Array }
          ).closestSquareDimensions(n),
        ),
      );
      expect(w * h).toBeGreaterThanOrEqual(n);
    }
  });
});

describe('matmulPackedSource', () => {
  it('loops over ceil(k / 4) texel steps: whole blocks of MATMUL_BLOCK, then the tail', () => {
    // k = 1031: 258 steps = 8 blocks of 32 and a tail of 2
    const src = matmulPackedSource(17, 1031, 11);
    expect(MATMUL_BLOCK).toBe(32);
    expect(src).toContain('for (int ob = 0; ob < 8; ob++)');
    expect(src).toContain('for (int ib = 0; ib < 2; ib++)');
    expect(src).toContain('float(256 + ib)');
    // texture coordinates: A is 258 texels wide, B 4 * 258 = 1032 rows high, C 3 texels wide and 17 rows
    expect(src).toContain(`* ${1 / 258}, av)`);
    expect(src).toContain(`* ${1 / 1032};`);
    expect(src).toContain('gl_FragCoord.x / 3.0');
    expect(src).toContain('gl_FragCoord.y / 17.0');
  });

  it('has no block loop when k fits in one tail, and no tail when k is a multiple of 256', () => {
    expect(matmulPackedSource(2, 9, 2)).not.toContain('int ob');
    expect(matmulPackedSource(2, 9, 2)).toContain('ib < 3;');
    expect(matmulPackedSource(2, 512, 2)).toContain('ob < 4;');
    expect(matmulPackedSource(2, 512, 2)).not.toContain('float(512 + ib)');
  });
});

describe('matmulBlockedSource', () => {
  it('WebGL1: four gl_FragData outputs under GL_EXT_draw_buffers, A rows padded to a multiple of 4', () => {
    const src = matmulBlockedSource(5, 9, 6, false);
    expect(src.startsWith('#extension GL_EXT_draw_buffers : require')).toBe(true);
    expect(src).toContain('gl_FragData[3] = s3;');
    expect(src).toContain('float av3 = (4.0 * ib + 3.5) / 8.0;');
    expect(src).toContain('ii < 3;');
    expect(src).toContain('texture2D(B');
  });

  it('WebGL2: a GLSL ES 3.00 vertex shader to link with (versions must match; Chromium refuses a mix)', () => {
    expect(PACKED_VERTEX_SOURCE_300.startsWith('#version 300 es')).toBe(true);
    expect(PACKED_VERTEX_SOURCE_300).toContain('in vec2 aPos;');
    expect(PACKED_VERTEX_SOURCE).not.toContain('#version');
    expect(PACKED_VERTEX_SOURCE).toContain('attribute vec2 aPos;');
  });

  it('WebGL2: GLSL ES 3.00 with four located outputs and texture()', () => {
    const src = matmulBlockedSource(5, 9, 6, true);
    expect(src.startsWith('#version 300 es')).toBe(true);
    expect(src).toContain('layout(location = 3) out vec4 o3;');
    expect(src).toContain('o0 = s0;');
    expect(src).not.toContain('texture2D');
    expect(src).not.toContain('gl_FragData');
  });

  it('unpackBlockedSource picks output r = row mod 4 at row block floor(row / 4)', () => {
    const src = unpackBlockedSource(5, 6, [6, 5]);
    expect(src).toContain('(q + 0.5) / 2.0, (ib + 0.5) / 2.0');
    expect(src).toContain('if (f < 30.0)');
  });
});

describe('packSource and unpackSource', () => {
  it('pack reads r * rowStride + c * colStride, one guarded lane per column past the last', () => {
    const src = packSource({ rows: 5, cols: 7, rowStride: 1, colStride: 5, srcSize: [6, 6], outRows: 8 });
    expect(src).toContain('float f = r * 1.0 + c * 5.0;');
    expect(src).toContain('if (c + 3.0 < 7.0) v.w = at(f + 15.0);');
    expect(src).toContain('if (r < 5.0)');
    expect(src).toContain('floor((f + 0.5) / 6.0)');
  });

  it('unpack writes rows * cols values into the gpu.js texture and zero past them', () => {
    const src = unpackSource(3, 5, [4, 4]);
    expect(src).toContain('if (f < 15.0)');
    expect(src).toContain('(q + 0.5) / 2.0, (r + 0.5) / 3.0');
    expect(src).toContain('gl_FragColor = vec4(v, 0.0, 0.0, 0.0);');
  });
});

describe('mapSameShapeSource', () => {
  it('reads every input at the fragment texel, declares parameters and temporaries as floats', () => {
    const spec = defineKernel({
      name: 'test.glAxpy',
      arity: 2,
      params: 1,
      stmts: 'let t_s = p0 * a;',
      expr: 'Math.max(t_s + b, -1.5)',
    });
    const src = mapSameShapeSource(spec, [30, 20])!;
    expect(src).toContain('vec2 uv = gl_FragCoord.xy / vec2(30.0, 20.0);');
    expect(src).toContain('float a = texture2D(x0, uv).r;');
    expect(src).toContain('float b = texture2D(x1, uv).r;');
    expect(src).toContain('uniform float p0;');
    expect(src).toContain('float t_s = (p0 * a);');
    expect(src).toContain('gl_FragColor = vec4(gk_max((t_s + b), (-1.5)), 0.0, 0.0, 0.0);');
  });

  it('computes a quotient of literals at run time (GLSL folds 0.0 / 0.0 to a number)', () => {
    const spec = defineKernel({ name: 'test.glNan', arity: 1, params: 0, expr: 'a > 1.0 ? 0.0 / 0.0 : a' });
    expect(mapSameShapeSource(spec, [2, 2])).toContain(`((0.0 * ${ONE_UNIFORM}) / 0.0)`);
  });

  it('calls the backend GLSL of exp, log, pow, sin, ... and declares gk_zero (issue 16)', () => {
    const spec = defineKernel({
      name: 'test.glPortable',
      arity: 1,
      params: 0,
      expr: 'Math.pow(a, 2.0) + Math.sin(a)',
    });
    const src = mapSameShapeSource(spec, [2, 2]) ?? '';
    expect(src).toContain('(gk_pow(a, 2.0) + gk_sin(a))');
    expect(src).toContain(`uniform float ${ZERO_UNIFORM};`);
    expect(src).toContain('float gk_pow(float x, float y)');
    expect(src).not.toContain('float gk_cos(');
  });

  it('calls the portable GLSL of tanh, log1p and atan2 (gpu.js helpers or GLSL built-ins before)', () => {
    const spec = defineKernel({
      name: 'test.glTanhLog1p',
      arity: 2,
      params: 0,
      expr: 'Math.tanh(a) + Math.log1p(b) + Math.atan2(a, b)',
    });
    const src = mapSameShapeSource(spec, [2, 2]) ?? '';
    expect(src).toContain('((gk_tanh(a) + gk_log1p(b)) + gk_atan2(a, b))');
    expect(src).toContain('float gk_tanh(float x)');
    expect(src).toContain('float gk_logpoly(float m)');
    expect(src.indexOf('float gk_logpoly(')).toBeLessThan(src.indexOf('float gk_log1p('));
  });

  it('calls the backend GLSL of every Math function of the kernel language but fround (the value itself)', () => {
    expect(new Set([...Object.keys(PORTABLE_MATH), 'fround'])).toEqual(new Set(Object.keys(MATH_FUNCTIONS)));
    for (const [fn, arity] of Object.entries(MATH_FUNCTIONS)) {
      const args = ['a', 'b'].slice(0, arity).join(', ');
      const spec = defineKernel({
        name: `test.glAll.${fn}`,
        arity: 2,
        params: 0,
        expr: `Math.${fn}(${args})`,
      });
      const src = mapSameShapeSource(spec, [2, 2]) ?? '';
      const call = fn === 'fround' ? '(a)' : `gk_${fn}(${args})`;
      expect(src, fn).toContain(`gl_FragColor = vec4(${call}, 0.0, 0.0, 0.0);`);
      if (fn !== 'fround') expect(src, fn).toContain(`float gk_${fn}(float `);
      // no GLSL built-in of the same name is called on the spec's values
      expect(src.split('void main()')[1], fn).not.toMatch(new RegExp(`\\b${fn}\\(`));
    }
  });

  it('abs, sign, floor, ceil, trunc, round, max and min are the backend GLSL (GLSL built-ins or gpu.js helpers before)', () => {
    const spec = defineKernel({
      name: 'test.glExact',
      arity: 2,
      params: 0,
      expr: 'Math.max(Math.round(a), Math.abs(b)) - Math.min(Math.trunc(a), Math.sign(b))',
    });
    const src = mapSameShapeSource(spec, [2, 2]) ?? '';
    expect(src).toContain('(gk_max(gk_round(a), gk_abs(b)) - gk_min(gk_trunc(a), gk_sign(b)))');
    for (const fn of ['max', 'min', 'round', 'abs', 'trunc', 'sign'])
      expect(src).toContain(`float gk_${fn}(`);
    expect(src).not.toContain('float gk_floor(');
  });
});

describe('matmul epilogues (unpackEpilogue, epilogueStrides)', () => {
  it('gives broadcast strides against the product [rows, cols]', () => {
    expect(epilogueStrides([6], 5, 6)).toEqual([0, 1]); // a bias
    expect(epilogueStrides([1, 6], 5, 6)).toEqual([0, 1]);
    expect(epilogueStrides([5, 1], 5, 6)).toEqual([1, 0]); // a column
    expect(epilogueStrides([5, 6], 5, 6)).toEqual([6, 1]);
    expect(epilogueStrides([], 5, 6)).toEqual([0, 0]);
    expect(epilogueStrides([1], 5, 6)).toEqual([0, 0]);
  });

  it("applies the spec to the unpacked product v in a function of the spec's inputs", () => {
    const spec = defineKernel({
      name: 'test.epi',
      arity: 3,
      params: 1,
      stmts: 'let t_z = a + b;',
      expr: 'p0 * t_z + c',
    });
    const epi = unpackEpilogue(spec, [
      { rowStride: 0, colStride: 1, size: [3, 2] },
      { rowStride: 6, colStride: 1, size: [6, 5] },
    ])!;
    expect(epi.apply).toBe('    v = gk_epi(v, rd_E1(c), rd_E2(r * 6.0 + c));');
    const src = unpackBlockedSource(5, 6, [6, 5], epi);
    expect(src).toContain('uniform sampler2D E1;');
    expect(src).toContain('uniform sampler2D E2;');
    expect(src).toContain('uniform float p0;');
    expect(src).toContain('float gk_epi(float a, float b, float c) {');
    expect(src).toContain('  float t_z = (a + b);');
    expect(src).toContain('  return ((p0 * t_z) + c);');
    expect(src.indexOf(epi.apply)).toBeGreaterThan(src.indexOf('v = l < 0.5'));
    expect(unpackSource(5, 6, [6, 5], epi)).toContain(epi.apply);
    // no epilogue: the plain unpack passes, unchanged
    expect(unpackSource(5, 6, [6, 5])).not.toContain('gk_epi');
  });

  it('is null for a spec of another arity; calls the backend GLSL as the same-shape map does', () => {
    const round = defineKernel({ name: 'test.epiRound', arity: 1, params: 0, expr: 'Math.round(a)' });
    const epi = unpackEpilogue(round, [])!;
    expect(epi.decls.join('\n')).toContain('  return gk_round(a);');
    expect(epi.decls.join('\n')).toContain('float gk_round(float x)');
    const two = defineKernel({ name: 'test.epiTwo', arity: 2, params: 0, expr: 'a + b' });
    expect(unpackEpilogue(two, [])).toBeNull();
    expect(unpackEpilogue(two, [{ rowStride: 0, colStride: 0, size: [1, 1] }])!.apply).toBe(
      '    v = gk_epi(v, rd_E1(0.0));',
    );
  });
});
