// The browser page's kernel part (imported by main.js; bundled by scripts/browser-test.mjs): every
// Device op on the page's gl device (WebGL2 on SwiftShader in the browser test) against the cpu
// backend in the same page, on the same float32 inputs (issue 16: the Node tests run headless-gl,
// which is WebGL1; the WebGL2 paths, R32F storage, RGBA32F packed passes, drawBuffers and the
// fenced async read, are only reached in a browser).
//
// Each case computes one or more arrays on both devices and compares them element by element:
//   - exact cases (copies, gathers, windows, comparisons, max/min, argmax) must agree bit for bit
//     up to the sign of zero;
//   - arithmetic is held to |gl - cpu| <= atol + rtol |cpu|, with NaN where cpu has NaN and the
//     same infinities;
//   - sums and products are held to a bound from the inputs' magnitudes: for a dot product or a
//     sum, TOL_SUM x sum of |terms| (computed on the cpu device), the float32 error of any
//     summation order, so a wrong term (off by a whole term) cannot pass.
// The same cases run a second time on a gl backend whose arrays above TILE_ABOVE elements are
// stored in tiles of TILE_ELEMENTS (the code path of arrays above 2^23 elements, exercised on small
// ones); an op that does not take tiled arrays must refuse with a BackendError that says so, never
// return a wrong value.
//
// Resolves with { ok, device, tiled, groups: { [group]: { cases, failures: [...] } }, refused }.
import {
  ACTIVATION_GRAD,
  BackendError,
  BINARY,
  createDevice,
  Device,
  defineKernel,
  getDevice,
  padWindow,
  SCALAR,
  sliceWindow,
  UNARY,
  unfoldWindow,
  windowSpec2d,
} from '@gradkit/kernels';
import { GpuJsBackend } from '@gradkit/kernels/gl';

/** Arrays above this many elements are tiled on the second gl device. */
export const TILE_ABOVE = 600;
/** Elements per tile on the second gl device. */
export const TILE_ELEMENTS = 256;
/** Element-wise tolerance of arithmetic: |gl - cpu| <= ATOL + RTOL |cpu|. */
const ATOL = 1e-5;
const RTOL = 2e-5;
/** Sums and dot products: |gl - cpu| <= TOL_SUM * sum |terms| + ATOL. */
const TOL_SUM = 1e-5;

/** A seeded float32 generator (mulberry32), so every page computes the same inputs. */
function generator(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sizeOf = (shape) => shape.reduce((a, b) => a * b, 1);

/** `n` float32 values uniform in [lo, hi), seeded. */
function values(n, seed, lo = -3, hi = 3) {
  const r = generator(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** Special float32 values every element-wise op must handle as cpu does (no subnormals: GPUs flush them). */
const SPECIAL = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  2,
  -2,
  10,
  -10,
  50,
  -50,
  100,
  -100,
  1e-3,
  -1e-3,
  1e30,
  -1e30,
  3.4e38,
  -3.4e38,
  Infinity,
  -Infinity,
  NaN,
];

/** Values for an element-wise op: `n` random ones with the special values spread over the front. */
function withSpecials(n, seed, lo, hi) {
  const v = values(n, seed, lo, hi);
  for (let i = 0; i < SPECIAL.length && i * 3 < n; i++) v[i * 3] = SPECIAL[i];
  return v;
}

/**
 * Values where rounding and sign functions go wrong: halves, the float32 neighbours of halves and
 * integers, 2^23 and above (integers already), and values whose integer part is a signed zero.
 */
const ROUNDING = [
  0.49999997, -0.49999997, 0.50000006, -0.50000006, 1.5, -1.5, 2.5, -2.5, 8388607.5, -8388607.5, 4194304.5,
  -4194304.5, 8388609, -8388609, 16777218, 1e20, -1e20, -0.4, 0.4, -0.7, 0.7, 0.99999994, -0.99999994,
  1.0000001, -1.0000001, 2.9999998, -2.9999998, 1e-30, -1e-30,
];

/** {@link withSpecials}, then {@link ROUNDING} spread over the positions after the special values. */
function withRounding(n, seed, lo, hi) {
  const v = withSpecials(n, seed, lo, hi);
  const at = SPECIAL.length * 3;
  for (let i = 0; i < ROUNDING.length && at + i * 3 < n; i++) v[at + i * 3] = ROUNDING[i];
  return v;
}

/**
 * Compares two read-backs; returns a description of the first disagreement or null. `tol` is
 * EXACT, SIGNED (exact and the same sign of zero), CLOSE (optionally with its own `rtol`, for
 * results of several transcendental steps) or `{ kind: 'sum', bound }`.
 */
function compare(got, want, tol) {
  if (got.length !== want.length) return `length ${got.length}, cpu ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) return `[${i}]: gl ${g}, cpu ${w}`;
      continue;
    }
    if (tol.signedZeros && !Object.is(g, w))
      return `[${i}]: gl ${Object.is(g, -0) ? '-0' : g}, cpu ${Object.is(w, -0) ? '-0' : w}`;
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (g !== w) return `[${i}]: gl ${g}, cpu ${w}`;
      continue;
    }
    const bound =
      tol.kind === 'exact'
        ? 0
        : tol.kind === 'sum'
          ? tol.bound[i] * TOL_SUM + ATOL
          : ATOL + (tol.rtol ?? RTOL) * Math.abs(w);
    if (!(Math.abs(g - w) <= bound)) return `[${i}]: gl ${g}, cpu ${w} (allowed ${bound.toExponential(2)})`;
  }
  return null;
}

const EXACT = { kind: 'exact' };
const SIGNED = { kind: 'exact', signedZeros: true };
const CLOSE = { kind: 'close' };

/**
 * The cases: [group, name, run(d, up) => arrays, tolerance(cpu, up) => tol per output]. `up(values,
 * shape)` uploads host values to the device the case runs on.
 */
function cases() {
  const list = [];
  const add = (group, name, run, tol = () => CLOSE) => list.push({ group, name, run, tol });
  const shape = [23, 31];
  const n = sizeOf(shape);

  // upload / read round trip, including -0, infinities and NaN
  add(
    'transfer',
    'upload + read of special values',
    (d, up) => [d.copy(up(withSpecials(n, 1), shape))],
    () => EXACT,
  );
  add(
    'transfer',
    'reshape + broadcastTo',
    (d, up) => [d.broadcastTo(d.reshape(up(values(31, 2), [31]), [1, 31]), [5, 31])],
    () => EXACT,
  );
  add(
    'transfer',
    'full',
    (d) => [d.full([7, 9], -2.5)],
    () => EXACT,
  );

  for (const op of Object.keys(UNARY)) {
    // wide inputs with every special value; exp-like ops also see moderate values
    add(
      'unary',
      op,
      (d, up) => [d.unary(op, up(withSpecials(n, 10, -6, 6), shape))],
      () => CLOSE,
    );
  }
  for (const op of Object.keys(SCALAR)) {
    const params = [0.7, -1.3, 2.5].slice(0, SCALAR[op].params);
    add('scalar', `${op}(${params.join(', ')})`, (d, up) => [
      d.scalar(op, up(withSpecials(n, 11, -4, 4), shape), ...params),
    ]);
  }
  const layouts = [
    [shape, shape],
    [
      [23, 1],
      [1, 31],
    ],
    [[31], [5, 23, 31]],
  ];
  for (const op of Object.keys(BINARY)) {
    layouts.forEach(([sa, sb], j) => {
      add('binary', `${op} ${JSON.stringify(sa)} x ${JSON.stringify(sb)}`, (d, up) => [
        d.binary(
          op,
          up(withSpecials(sizeOf(sa), 20 + j, -4, 4), sa),
          up(withSpecials(sizeOf(sb), 30 + j, -4, 4), sb),
        ),
      ]);
    });
  }
  for (const op of Object.keys(ACTIVATION_GRAD)) {
    const params = [0.2].slice(0, ACTIVATION_GRAD[op].params);
    add('activationGrad', op, (d, up) => [
      d.activationGrad(op, up(withSpecials(n, 40, -5, 5), shape), up(values(n, 41), shape), ...params),
    ]);
  }
  add(
    'where',
    'where with broadcasting',
    (d, up) => {
      const c = d.binary('greater', up(values(n, 50), shape), up(new Float32Array([0]), [1]));
      return [d.where(c, up(values(n, 51), shape), up(values(31, 52), [31]))];
    },
    () => EXACT,
  );
  const SPEC2 = [
    defineKernel({
      name: 'conformance.axpy',
      arity: 2,
      params: 1,
      stmts: 'let t_s = a * p0;',
      expr: 't_s + b',
    }),
    defineKernel({
      name: 'conformance.mix',
      arity: 2,
      params: 1,
      stmts: 'let t_s = a * p0;',
      expr: 'Math.exp(-Math.abs(t_s)) * b',
    }),
    defineKernel({
      name: 'conformance.hyp',
      arity: 2,
      params: 1,
      stmts: 'let t_s = a * p0;',
      expr: 'Math.sqrt(t_s * t_s + b * b)',
    }),
  ];
  add('map', 'map of a user kernel, broadcast', (d, up) => [
    d.map(SPEC2[0], [up(values(n, 60), shape), up(values(31, 61), [31])], [1.5]),
  ]);
  add('map', 'mapMulti of three kernels with shared stmts', (d, up) =>
    d.mapMulti(SPEC2, [up(values(n, 62), shape), up(values(n, 63), shape)], [0.75]),
  );
  // the Math functions the gl backend computes with its own GLSL (src/gl/glsl-math.ts) in a user
  // kernel, on every special value (with ±1: log1p(-1) = -inf, atanh(±1) = ±inf, acosh(1) = 0)
  // and a range that crosses the domain's edges where there is one
  const MATH_RANGES = {
    log10: [0, 1e4],
    expm1: [-20, 20],
    log1p: [-1.5, 4],
    sinh: [-90, 90],
    cosh: [-90, 90],
    tanh: [-50, 50],
    asinh: [-1e4, 1e4],
    acosh: [0, 20],
    atanh: [-1.2, 1.2],
    cbrt: [-1e4, 1e4],
    asin: [-1.2, 1.2],
    acos: [-1.2, 1.2],
    atan: [-20, 20],
  };
  Object.entries(MATH_RANGES).forEach(([fn, [lo, hi]], i) => {
    const spec = defineKernel({ name: `conformance.math.${fn}`, arity: 1, params: 0, expr: `Math.${fn}(a)` });
    add('map', `user kernel Math.${fn}`, (d, up) => [
      d.map(spec, [up(withSpecials(n, 64 + i, lo, hi), shape)]),
    ]);
  });
  const atan2 = defineKernel({
    name: 'conformance.math.atan2',
    arity: 2,
    params: 0,
    expr: 'Math.atan2(a, b)',
  });
  add('map', 'user kernel Math.atan2, broadcast', (d, up) => [
    d.map(atan2, [up(withSpecials(n, 80, -5, 5), shape), up(withSpecials(31, 81, -5, 5), [31])]),
  ]);
  // the exact Math functions (gl: its own GLSL, as JavaScript gives them: NaN through max/min,
  // signed zeros, round's halves and values from 2^23 up), bit for bit with the sign of zero, in
  // the backend's own shader (same shapes) and in a gpu.js kernel (broadcast)
  const zeros31 = new Float32Array(31);
  ['abs', 'sign', 'floor', 'ceil', 'round', 'trunc', 'fround'].forEach((fn, i) => {
    const same = defineKernel({ name: `conformance.math.${fn}`, arity: 1, params: 0, expr: `Math.${fn}(a)` });
    const bcast = defineKernel({
      name: `conformance.math.${fn}.broadcast`,
      arity: 2,
      params: 0,
      expr: `b == 0.0 ? Math.${fn}(a) : 0.0`,
    });
    add(
      'map',
      `user kernel Math.${fn}`,
      (d, up) => [d.map(same, [up(withRounding(n, 82 + i, -4, 4), shape)])],
      () => SIGNED,
    );
    add(
      'map',
      `user kernel Math.${fn}, broadcast`,
      (d, up) => [d.map(bcast, [up(withRounding(n, 82 + i, -4, 4), shape), up(zeros31, [31])])],
      () => SIGNED,
    );
  });
  // max and min: every pair of the values below (row k of a holds PAIRS[k], b's first entries
  // PAIRS), then random pairs; same shapes, and b broadcast along the rows
  const PAIRS = [NaN, 0, -0, Infinity, -Infinity, 3.4e38, -3.4e38, 1, -1, 0.5];
  const pairA = values(n, 90, -2, 2);
  PAIRS.forEach((v, k) => {
    pairA.fill(v, k * 31, k * 31 + 31);
  });
  const pairB = values(n, 91, -2, 2);
  for (let r = 0; r < shape[0]; r++) pairB.set(PAIRS, r * 31);
  for (const fn of ['max', 'min']) {
    const spec = defineKernel({
      name: `conformance.math.${fn}`,
      arity: 2,
      params: 0,
      expr: `Math.${fn}(a, b)`,
    });
    add(
      'map',
      `user kernel Math.${fn}`,
      (d, up) => [d.map(spec, [up(pairA, shape), up(pairB, shape)])],
      () => SIGNED,
    );
    add(
      'map',
      `user kernel Math.${fn}, broadcast`,
      (d, up) => [d.map(spec, [up(pairA, shape), up(pairB.subarray(0, 31), [31])])],
      () => SIGNED,
    );
  }

  // reductions: a bound from sum |x| for sums, exact for max/min/arg*
  const rs = [7, 129, 33];
  const rv = values(sizeOf(rs), 70);
  for (const axes of [undefined, 0, 1, 2, [0, 2]]) {
    const label = axes === undefined ? 'all' : JSON.stringify(axes);
    add(
      'reduce',
      `sum ${label}`,
      (d, up) => [d.sum(up(rv, rs), axes)],
      (cpu, up) => sumBound(cpu, up(rv, rs), axes, 1),
    );
    add(
      'reduce',
      `mean ${label}`,
      (d, up) => [d.mean(up(rv, rs), axes, true)],
      (cpu, up) => {
        const x = up(rv, rs);
        const count = x.size / cpu.sum(x, axes, true).size;
        return sumBound(cpu, x, axes, 1 / count, true);
      },
    );
    add(
      'reduce',
      `max ${label}`,
      (d, up) => [d.max(up(rv, rs), axes)],
      () => EXACT,
    );
    add(
      'reduce',
      `min ${label}`,
      (d, up) => [d.min(up(rv, rs), axes)],
      () => EXACT,
    );
    add(
      'reduce',
      `logsumexp ${label}`,
      (d, up) => [d.logsumexp(up(rv, rs), axes)],
      () => ({ kind: 'close', rtol: 1e-4 }),
    );
  }
  // ties: integers in [-2, 2], the first index wins
  const ties = Float32Array.from(values(sizeOf(rs), 71), (v) => Math.round(v / 1.5));
  for (const axis of [0, 1, 2]) {
    add(
      'reduce',
      `argmax axis ${axis} (ties)`,
      (d, up) => [d.argmax(up(ties, rs), axis)],
      () => EXACT,
    );
    add(
      'reduce',
      `argmin axis ${axis} (ties)`,
      (d, up) => [d.argmin(up(ties, rs), axis)],
      () => EXACT,
    );
  }
  for (const axis of [-1, 0]) {
    add('reduce', `softmax axis ${axis}`, (d, up) => [d.softmax(up(rv, rs), axis)]);
    add(
      'reduce',
      `logSoftmax axis ${axis}`,
      (d, up) => [d.logSoftmax(up(rv, rs), axis)],
      () => ({ kind: 'close', rtol: 1e-4 }),
    );
  }

  // matmul: odd shapes, every transpose, an inner range above the packed block; bound from |A||B|
  const products = [
    [1, 1, 1],
    [5, 7, 3],
    [33, 65, 17],
    [128, 784, 256],
    [64, 256, 10],
    [3, 9000, 5],
  ];
  for (const [m, k, nn] of products) {
    for (const [transA, transB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const sa = transA ? [k, m] : [m, k];
      const sb = transB ? [nn, k] : [k, nn];
      const av = values(m * k, 80 + m);
      const bv = values(k * nn, 90 + nn);
      add(
        'matmul',
        `${m}x${k}x${nn}${transA ? ' transA' : ''}${transB ? ' transB' : ''}`,
        (d, up) => [d.matmul(up(av, sa), up(bv, sb), { transA, transB })],
        (cpu, up) => {
          const a = cpu.unary('abs', up(av, sa));
          const b = cpu.unary('abs', up(bv, sb));
          return { kind: 'sum', bound: cpu.matmul(a, b, { transA, transB }).read() };
        },
      );
    }
  }

  // Device.linearGrad, a dense layer's backward (dz = f'(y) dy or an array, dz W, dz^T x, the
  // column sums of dz): each output against cpu with a bound from |dz| |W|, |dz|^T |x|, sum |dz|;
  // and on the device itself, fused minus composed (map, matmul, matmul, sum) must be 0 exactly
  // (on gl the fused passes compute dz in the WebGL2 pack passes and sum the packed columns)
  const layerGrads = [
    ['reluGrad', []],
    ['sigmoidGrad', []],
    ['leakyReluGrad', [0.1]],
    [null, []],
  ];
  for (const [m, nn, k] of [
    [5, 7, 3],
    [37, 23, 29],
    [128, 40, 30],
  ]) {
    const xv = values(m * k, 140 + m);
    const wv = values(nn * k, 141 + nn);
    const yv = values(m * nn, 142 + k, -1, 1);
    const dyv = values(m * nn, 143 + k);
    for (const [grad, params] of layerGrads) {
      const label = `${m}x${nn}x${k} ${grad ?? 'dz array'}`;
      const dzOf = (up) =>
        grad === null
          ? up(dyv, [m, nn])
          : { spec: ACTIVATION_GRAD[grad], inputs: [up(yv, [m, nn]), up(dyv, [m, nn])], params };
      const dzArray = (d, up) => {
        const dz = dzOf(up);
        return grad === null ? dz : d.map(dz.spec, dz.inputs, dz.params);
      };
      const outputs = [
        ['dx', (cpu, up, dz) => cpu.matmul(dz, cpu.unary('abs', up(wv, [nn, k])))],
        ['dw', (cpu, up, dz) => cpu.matmul(dz, cpu.unary('abs', up(xv, [m, k])), { transA: true })],
        ['db', (cpu, _up, dz) => cpu.sum(dz, 0)],
      ];
      for (const [part, bound] of outputs) {
        add(
          'linearGrad',
          `${label} ${part}`,
          (d, up) => {
            const r = d.linearGrad(dzOf(up), { x: up(xv, [m, k]), weight: up(wv, [nn, k]), bias: true });
            for (const [q] of outputs) if (q !== part) r[q].dispose();
            return [r[part]];
          },
          (cpu, up) => ({ kind: 'sum', bound: bound(cpu, up, cpu.unary('abs', dzArray(cpu, up))).read() }),
        );
      }
      add(
        'linearGrad',
        `${label}: fused equals composed bit for bit`,
        (d, up) => {
          const x = up(xv, [m, k]);
          const w = up(wv, [nn, k]);
          const r = d.linearGrad(dzOf(up), { x, weight: w, bias: true });
          const dz = dzArray(d, up);
          const want = [d.matmul(dz, w), d.matmul(dz, x, { transA: true }), d.sum(dz, 0)];
          const got = [r.dx, r.dw, r.db];
          const diffs = got.map((g, i) => d.binary('sub', g, want[i]));
          for (const a of [...got, ...want, dz]) a.dispose();
          return diffs;
        },
        () => EXACT,
      );
    }
  }

  // layout: transposes, gathers, scatters, concatenations
  for (const [s, perm] of [
    [
      [37, 21],
      [1, 0],
    ],
    [
      [3, 4, 5],
      [2, 0, 1],
    ],
    [
      [3, 4, 5],
      [1, 0, 2],
    ],
    [
      [2, 3, 4, 5],
      [3, 1, 0, 2],
    ],
  ]) {
    add(
      'layout',
      `transpose ${JSON.stringify(s)} ${JSON.stringify(perm)}`,
      (d, up) => [d.transpose(up(values(sizeOf(s), 100), s), perm)],
      () => EXACT,
    );
  }
  const table = values(50 * 7, 101);
  add(
    'layout',
    'gather axis 0 (repeated indices)',
    (d, up) => [d.gather(up(table, [50, 7]), [3, 0, 49, 3, 10], 0)],
    () => EXACT,
  );
  add(
    'layout',
    'gather axis 1',
    (d, up) => [d.gather(up(table, [50, 7]), [6, 0, 6], 1)],
    () => EXACT,
  );
  add('layout', 'scatterAdd axis 0 (repeated indices)', (d, up) => [
    d.scatterAdd(up(values(5 * 7, 102), [5, 7]), [3, 0, 49, 3, 10], 0, [50, 7]),
  ]);
  add(
    'layout',
    'oneHot',
    (d, up) => [d.oneHot(up(new Float32Array([0, 3, 9, 3]), [4]), 10)],
    () => EXACT,
  );
  add(
    'layout',
    'concat axis 0',
    (d, up) => [d.concat([up(values(12, 103), [3, 4]), up(values(20, 104), [5, 4])], 0)],
    () => EXACT,
  );
  add(
    'layout',
    'concat axis 1',
    (d, up) => [d.concat([up(values(12, 105), [3, 4]), up(values(6, 106), [3, 2])], 1)],
    () => EXACT,
  );

  // windows: slices with steps, padding, unfold, conv windows, their gradients, max pooling
  const img = [2, 3, 9, 9];
  const iv = values(sizeOf(img), 110);
  const windows = [
    ['slice with steps', sliceWindow(img, [0, 1, 1, 0], [2, 3, 9, 9], [1, 1, 2, 3])],
    ['first-axis row slice', sliceWindow(img, [1], [2])],
    [
      'pad',
      padWindow(
        img,
        [
          [0, 0],
          [0, 0],
          [1, 2],
          [2, 1],
        ],
        -1,
      ),
    ],
    ['unfold', unfoldWindow(img, 3, 4, 2)],
    ['conv windows 3x3 pad 1 stride 2', windowSpec2d(img, 3, { padding: 1, stride: 2 })],
    ['conv rows 3x3 dilation 2', windowSpec2d(img, 3, { dilation: 2, layout: 'rows' })],
  ];
  for (const [name, spec] of windows) {
    add(
      'window',
      name,
      (d, up) => [d.window(up(iv, img), spec)],
      () => EXACT,
    );
    add('window', `${name}: scatter-add (gradient)`, (d, up) => [
      d.windowScatterAdd(up(values(sizeOf(spec.outShape), 111), spec.outShape), spec, img),
    ]);
  }
  const pool = windowSpec2d([2, 3, 8, 8], 2, { stride: 2 });
  add(
    'window',
    'max pooling 2x2 (values and indices)',
    (d, up) => d.windowMax(up(values(2 * 3 * 64, 112), [2, 3, 8, 8]), pool, 4, 2),
    () => EXACT,
  );

  // the fused softmax cross-entropy and its gradient
  const logits = values(37 * 10, 120);
  const labels = Float32Array.from(values(37, 121, 0, 10), Math.floor);
  for (const smoothing of [0, 0.1]) {
    add(
      'crossEntropy',
      `softmaxCrossEntropy smoothing ${smoothing}`,
      (d, up) => {
        const [loss, lse, probs] = d.softmaxCrossEntropy(
          up(logits, [37, 10]),
          up(labels, [37]),
          smoothing,
          true,
        );
        return [loss, lse, probs];
      },
      () => ({ kind: 'close', rtol: 1e-4 }),
    );
    add('crossEntropy', `softmaxCrossEntropyGrad smoothing ${smoothing}`, (d, up) => {
      const [loss, lse, probs] = d.softmaxCrossEntropy(
        up(logits, [37, 10]),
        up(labels, [37]),
        smoothing,
        true,
      );
      loss.dispose();
      lse.dispose();
      return [
        d.softmaxCrossEntropyGrad(probs, up(labels, [37]), up(new Float32Array([1]), [1]), smoothing, 1 / 37),
      ];
    });
  }
  return list;
}

/** The sum bound of a reduction: TOL_SUM-scaled sum of |x| over the reduced axes (times `scale`). */
function sumBound(cpu, x, axes, scale, keepDims = false) {
  const b = cpu.sum(cpu.unary('abs', x), axes, keepDims).read();
  return { kind: 'sum', bound: Float32Array.from(b, (v) => v * scale) };
}

/**
 * Runs every case on `d` and on `cpu`; returns `{ groups, refused }`. With `mayRefuse`, a
 * BackendError that names tiling counts as a refusal (listed), not a failure.
 */
async function runOn(d, cpu, mayRefuse) {
  const groups = {};
  const refused = [];
  for (const c of cases()) {
    groups[c.group] ??= { cases: 0, failures: [] };
    const g = groups[c.group];
    g.cases++;
    const made = [];
    const upOn = (dev) => (v, s) => {
      const a = dev.array(v, s);
      made.push(a);
      return a;
    };
    try {
      const want = c.run(cpu, upOn(cpu));
      made.push(...want);
      const wantValues = want.map((a) => a.read());
      const wantShapes = want.map((a) => a.shape.join('x'));
      let got;
      try {
        got = c.run(d, upOn(d));
      } catch (e) {
        if (mayRefuse && e instanceof BackendError && /tile|tiling|tiled/i.test(e.message)) {
          refused.push(`${c.group} ${c.name}: ${e.message.split('\n')[0]}`);
          continue;
        }
        throw e;
      }
      made.push(...got);
      const tol = c.tol(cpu, upOn(cpu));
      for (let i = 0; i < want.length; i++) {
        if (got[i].shape.join('x') !== wantShapes[i]) {
          g.failures.push(`${c.name}: output ${i} shape ${got[i].shape.join('x')}, cpu ${wantShapes[i]}`);
          break;
        }
        // the first output of a gl case is read asynchronously (the fenced read on WebGL2)
        const values = i === 0 ? await got[i].readAsync() : got[i].read();
        const problem = compare(values, wantValues[i], tol);
        if (problem) {
          g.failures.push(`${c.name}: output ${i} ${problem}`);
          break;
        }
      }
    } catch (e) {
      g.failures.push(
        `${c.name}: threw ${e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e)}`,
      );
    } finally {
      for (const a of made) if (!a.disposed) a.dispose();
    }
  }
  return { groups, refused };
}

/**
 * Runs the cases on the page's device (gl) and on a tiled gl device, each against cpu.
 * Resolves with `{ ok: true, device, tiled }` (each `{ groups, refused }`) or `{ ok: false, error }`.
 */
export async function runKernelConformance() {
  const d = getDevice();
  const info = d.info();
  if (info.name !== 'gl') return { ok: false, error: `the page's device is ${info.name}, not gl` };
  const cpu = createDevice('cpu');
  try {
    const device = await runOn(d, cpu, false);
    const backend = new GpuJsBackend(info.gpuMode);
    backend.tileAbove = TILE_ABOVE;
    backend.tileElements = TILE_ELEMENTS;
    const tiledDevice = new Device(backend, `tiled above ${TILE_ABOVE} elements, tiles of ${TILE_ELEMENTS}`);
    let tiled;
    try {
      tiled = await runOn(tiledDevice, cpu, true);
    } finally {
      tiledDevice.destroy();
    }
    return {
      ok: true,
      gpuMode: info.gpuMode,
      asyncRead: info.asyncRead ?? null,
      tileAbove: TILE_ABOVE,
      tileElements: TILE_ELEMENTS,
      device,
      tiled,
    };
  } finally {
    cpu.destroy();
  }
}
