import { afterAll, describe, expect, it } from 'vitest';
import type { ElementwiseSpec } from './backend.js';
import type { DeviceArray } from './device.js';
import { SCALAR, UNARY } from './elementwise.js';
import { DisposedError, ShapeError, ValueError } from './errors.js';
import { GpuJsBackend } from './gl/backend.js';
import { profileGl } from './gl/profile-device.js';
import { backendsToTest, createDevice } from './select.js';
import { defineKernel } from './spec/define.js';
import { float32Bits, lcgValues } from './testing/reference.js';

// Device.matmulMap (issue 16): a matmul with an element-wise epilogue equals matmul then map bit
// for bit on every backend, for every transpose combination, a bias [n], a column [m, 1], a scalar
// [], a full [m, n] operand, no operand, several activations (relu, gelu, sigmoid, leakyRelu with
// a parameter), shapes that are not multiples of 4 and empty ones; bad calls are typed errors that
// launch and allocate nothing. On gl the epilogue runs in the packed matmul's unpack pass: one
// launch (and one profiled draw) less than matmul + map.

/** `f(a + b)` from a one-input spec, as the tensor layer fuses a bias and an activation. */
function biasSpec(base: ElementwiseSpec): ElementwiseSpec {
  const rename = (s: string) => s.replace(/\ba\b/g, 't_z');
  const stmts = `let t_z = a + b; ${base.stmts ? rename(base.stmts) : ''}`.trim();
  return defineKernel({
    name: `test.bias_${base.name}`,
    arity: 2,
    params: base.params,
    stmts,
    expr: rename(base.expr),
  });
}

const BIAS = defineKernel({ name: 'test.bias', arity: 2, params: 0, expr: 'a + b' });
const BIAS_RELU = biasSpec(UNARY.relu);
const BIAS_GELU = biasSpec(UNARY.gelu);
const BIAS_SIGMOID = biasSpec(UNARY.sigmoid);
const BIAS_LEAKY = biasSpec(SCALAR.leakyRelu);
/** Two operands and two parameters: p0 * a * c + b - p1. */
const AXPY = defineKernel({ name: 'test.axpy', arity: 3, params: 2, expr: 'p0 * a * c + b - p1' });

/** Six inputs: the product and five operands. */
const SUM6 = defineKernel({ name: 'test.sum6', arity: 6, params: 0, expr: 'a * b + c - d * e + f' });

const TRANSPOSES = [
  { transA: false, transB: false },
  { transA: true, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: true },
] as const;

describe.each(backendsToTest())('Device.matmulMap on %s', (name) => {
  const d = createDevice({ backend: name, threads: 1 });
  afterAll(() => d.destroy());
  const gl = d.backend instanceof GpuJsBackend ? d.backend : null;

  /** A and B stored for `opts` so that op(A) is m x k and op(B) is k x n. */
  const operands = (m: number, k: number, n: number, opts: (typeof TRANSPOSES)[number], seed: number) => ({
    a: d.array(lcgValues(m * k, seed), opts.transA ? [k, m] : [m, k]),
    b: d.array(lcgValues(k * n, seed + 1), opts.transB ? [n, k] : [k, n]),
  });

  /** matmulMap against matmul + map, bit for bit; returns the launches the fused call took. */
  const expectSame = (
    a: DeviceArray,
    b: DeviceArray,
    spec: ElementwiseSpec,
    others: readonly DeviceArray[],
    params: readonly number[],
    opts: (typeof TRANSPOSES)[number],
  ): number => {
    const product = d.matmul(a, b, opts);
    const ref = d.map(spec, [product, ...others], params, product.shape);
    const before = d.memory().kernels;
    const got = d.matmulMap(a, b, { spec, operands: others, params }, opts);
    const launches = d.memory().kernels - before;
    expect(got.shape).toEqual(product.shape);
    expect(float32Bits(got.read())).toEqual(float32Bits(ref.read()));
    for (const t of [product, ref, got]) t.dispose();
    return launches;
  };

  it('equals matmul then map bit for bit: every transpose, bias [n], odd shapes, four activations', () => {
    const cases: [ElementwiseSpec, number[]][] = [
      [BIAS, []],
      [BIAS_RELU, []],
      [BIAS_GELU, []],
      [BIAS_SIGMOID, []],
      [BIAS_LEAKY, [0.1]],
    ];
    const arrays = d.memory().arrays;
    for (const [m, k, n] of [
      [1, 1, 1],
      [5, 7, 3],
      [6, 9, 10],
      [33, 17, 5],
      [64, 130, 20],
    ]) {
      for (const opts of TRANSPOSES) {
        const { a, b } = operands(m, k, n, opts, m + 3 * k + 7 * n);
        const bias = d.array(lcgValues(n, n + 11, 2), [n]);
        for (const [spec, params] of cases) {
          const launches = expectSame(a, b, spec, [bias], params, opts);
          // gl fuses (one launch instead of two) where the packed matmul runs: every shape here
          expect(launches).toBe(gl ? 1 : 2);
        }
        for (const t of [a, b, bias]) t.dispose();
      }
    }
    expect(d.memory().arrays).toBe(arrays);
  });

  it('broadcasts the operands: a full [m, n], a column [m, 1], a scalar [], [1, n], none', () => {
    const [m, k, n] = [7, 11, 6];
    for (const opts of TRANSPOSES) {
      const { a, b } = operands(m, k, n, opts, 5);
      const full = d.array(lcgValues(m * n, 21), [m, n]);
      const col = d.array(lcgValues(m, 22), [m, 1]);
      const scalar = d.array([0.25], []);
      const row = d.array(lcgValues(n, 23), [1, n]);
      expectSame(a, b, AXPY, [full, col], [1.5, 0.125], opts);
      expectSame(a, b, AXPY, [col, full], [-2, 3], opts);
      expectSame(a, b, AXPY, [scalar, row], [0.5, 0], opts);
      expectSame(a, b, BIAS_RELU, [full], [], opts);
      expectSame(a, b, BIAS_LEAKY, [row], [0.2], opts);
      expectSame(a, b, UNARY.relu, [], [], opts);
      expectSame(a, b, SCALAR.leakyRelu, [], [0.01], opts);
      expectSame(a, b, UNARY.gelu, [], [], opts);
      // five operands (arity 6): more than gl's unpack pass binds, so matmul and map there
      expectSame(a, b, SUM6, [full, col, scalar, row, full], [], opts);
      for (const t of [a, b, full, col, scalar, row]) t.dispose();
    }
  });

  it('handles empty sizes: m or n = 0 gives an empty product, k = 0 maps the zero product', () => {
    for (const [m, k, n] of [
      [0, 3, 4],
      [3, 4, 0],
      [0, 0, 0],
      [3, 0, 4],
    ]) {
      for (const opts of TRANSPOSES) {
        const { a, b } = operands(m, k, n, opts, 9);
        const bias = d.array(lcgValues(n, 10), [n]);
        expectSame(a, b, BIAS_SIGMOID, [bias], [], opts);
        expectSame(a, b, BIAS_LEAKY, [bias], [0.3], opts);
        for (const t of [a, b, bias]) t.dispose();
      }
    }
    const y = d.matmulMap(d.full([2, 0]), d.full([0, 3]), { spec: BIAS, operands: [d.array([1, 2, 3])] });
    expect([...y.read()]).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('propagates NaN and infinities as the map does', () => {
    const a = d.array([Number.NaN, 1, Number.POSITIVE_INFINITY, 2, -1, 0.5], [3, 2]);
    const b = d.array([1, -1, 0, 2, 3, 1], [2, 3]);
    const bias = d.array([0, Number.NEGATIVE_INFINITY, 1], [3]);
    for (const spec of [BIAS, BIAS_RELU, BIAS_SIGMOID, BIAS_GELU])
      expectSame(a, b, spec, [bias], [], TRANSPOSES[0]);
  });

  it('rejects bad calls with typed errors naming matmulMap, launching and allocating nothing', () => {
    const a = d.array(lcgValues(6, 1), [2, 3]);
    const b = d.array(lcgValues(12, 2), [3, 4]);
    const bias = d.array(lcgValues(4, 3), [4]);
    const gone = d.array([1, 2, 3, 4], [4]);
    gone.dispose();
    const flat = d.reshape(a, [6]);
    const [short, tall, deep] = [d.array([1, 2, 3]), d.full([3, 4]), d.full([2, 2, 4])];
    const { arrays, kernels } = d.memory();
    const bad: [() => unknown, unknown, RegExp][] = [
      [() => d.matmulMap(flat, b, { spec: BIAS, operands: [bias] }), ShapeError, /matmulMap.*2-D/],
      [
        () => d.matmulMap(a, b, { spec: BIAS, operands: [bias] }, { transA: true }),
        ShapeError,
        /matmulMap.*inner sizes/,
      ],
      [() => d.matmulMap(a, b, { spec: BIAS, operands: [] }), ShapeError, /matmulMap.*1 operands, got 0/],
      [() => d.matmulMap(a, b, { spec: BIAS, operands: [bias, bias] }), ShapeError, /matmulMap.*got 2/],
      [() => d.matmulMap(a, b, { spec: BIAS, operands: [short] }), ShapeError, /matmulMap/],
      [() => d.matmulMap(a, b, { spec: BIAS, operands: [tall] }), ShapeError, /matmulMap/],
      [
        () => d.matmulMap(a, b, { spec: BIAS, operands: [deep] }),
        ShapeError,
        /do not broadcast to the product \[2, ?4\]/,
      ],
      [
        () => d.matmulMap(a, b, { spec: BIAS_LEAKY, operands: [bias] }),
        ValueError,
        /expects 1 scalar parameters, got 0/,
      ],
      [
        () => d.matmulMap(a, b, { spec: BIAS_LEAKY, operands: [bias], params: [Number.NaN] }),
        ValueError,
        /not a number/,
      ],
      [() => d.matmulMap(a, b, { spec: BIAS, operands: [gone] }), DisposedError, /matmulMap/],
      [
        () =>
          d.matmulMap(a, b, {
            spec: { name: 'test.bad', arity: 2, params: 0, expr: 'a +' },
            operands: [bias],
          }),
        ValueError,
        /test\.bad/,
      ],
      [() => d.matmulMap(a, b, null as never), ValueError, /matmulMap.*epilogue/],
    ];
    for (const [call, type, msg] of bad) {
      expect(call).toThrow(type as never);
      expect(call).toThrow(msg);
    }
    expect(d.memory().arrays).toBe(arrays);
    expect(d.memory().kernels).toBe(kernels);
    for (const t of [a, b, bias, flat, short, tall, deep]) t.dispose();
  });

  it.runIf(gl !== null)(
    'gl: the epilogue runs in the unpack pass (one draw less than matmul + map), else falls back',
    () => {
      const be = gl!;
      const x = d.array(lcgValues(128 * 30, 1), [128, 30]);
      const w = d.array(lcgValues(20 * 30, 2), [20, 30]);
      const bias = d.array(lcgValues(20, 3), [20]);
      const opts = { transB: true };
      // Linear + relu forward: matmul + map before, the fused op now
      const warm = [d.matmul(x, w, opts), d.matmulMap(x, w, { spec: BIAS_RELU, operands: [bias] }, opts)];
      const prev = d.matmul(x, w, opts);
      warm.push(prev, d.map(BIAS_RELU, [prev, bias]));
      for (const t of warm) t.dispose();
      // every operand packed for each product (x and w would hold their packed forms otherwise)
      be.packReuse = false;
      const composed = profileGl(d, () => {
        const z = d.matmul(x, w, opts);
        const y = d.map(BIAS_RELU, [z, bias]);
        z.dispose();
        return y;
      });
      const calls = be.matmulMapCalls;
      const fused = profileGl(d, () => d.matmulMap(x, w, { spec: BIAS_RELU, operands: [bias] }, opts));
      be.packReuse = true;
      expect(be.matmulMapCalls).toBe(calls + 1);
      expect(composed.profile.launches).toBe(5); // pack A, pack B, matmul, unpack, map
      expect(fused.profile.launches).toBe(4); // pack A, pack B, matmul, unpack with the epilogue
      expect(fused.profile.kernels.map((k) => k.name)).toContain('unpack(128x20, test.bias_relu)');
      expect(float32Bits(fused.result.read())).toEqual(float32Bits(composed.result.read()));
      // not fused where the packed path or the direct map is off (matmul and map); fused with one render target
      for (const flag of ['packedMatmul', 'directMap', 'blockedMatmul'] as const) {
        be[flag] = false;
        try {
          const before = be.matmulMapCalls;
          const y = d.matmulMap(x, w, { spec: BIAS_RELU, operands: [bias] }, opts);
          expect(be.matmulMapCalls).toBe(flag === 'blockedMatmul' ? before + 1 : before);
          const z = d.matmul(x, w, opts); // the product as this setting computes it
          const ref = d.map(BIAS_RELU, [z, bias]);
          expect(float32Bits(y.read())).toEqual(float32Bits(ref.read()));
          for (const t of [y, z, ref]) t.dispose();
        } finally {
          be[flag] = true;
        }
      }
      // tiled arrays (an output above tileAbove): the tiled matmul and map, the same values
      const [above, tile] = [be.tileAbove, be.tileElements];
      be.tileElements = 512;
      be.tileAbove = 512;
      try {
        const before = be.matmulMapCalls;
        const y = d.matmulMap(x, w, { spec: BIAS_RELU, operands: [bias] }, opts);
        expect(be.matmulMapCalls).toBe(before);
        const z = d.matmul(x, w, opts);
        const ref = d.map(BIAS_RELU, [z, bias]);
        expect(float32Bits(y.read())).toEqual(float32Bits(ref.read()));
        for (const t of [y, z, ref]) t.dispose();
      } finally {
        be.tileAbove = above;
        be.tileElements = tile;
      }
      for (const t of [x, w, bias, composed.result, fused.result]) t.dispose();
    },
  );
});
