import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendBuffer } from '../backend.js';
import { CpuBackend } from '../backends/cpu.js';
import { Device } from '../device.js';
import { ACTIVATION_GRAD, BINARY, SCALAR, UNARY } from '../elementwise.js';
import { defineKernel } from '../spec/define.js';
import { closeTo, float32Bits, matmul64, testData } from '../testing/reference.js';
import { GpuJsBackend } from './backend.js';
import { probeGpuJs } from './probe.js';

// The gl backend's packed matmul (RGBA textures of four values per texel, four outputs per
// fragment; ./packed.ts, ./packed-sources.ts) against float64 and the CPU backend, and against the
// one-output gpu.js kernel it replaces (packedMatmul = false). Tolerance as for every matmul of
// the gl backend: |C - C64| <= 1e-6 + 1e-5 * sum_p |A_ip B_pj|. Needs an X server:
// xvfb-run -a -s "-screen 0 1280x1024x24 +extension GLX" npx vitest run src/gl/packed.test.ts

const ATOL = 1e-6;
const RTOL = 1e-5;
const probe = probeGpuJs('headlessgl');
const active = probe.ok ? (['headlessgl'] as const) : [];
if (!probe.ok) {
  // a file without a suite fails the run: say why these tests do not run here (backend.test.ts
  // fails instead when GRADKIT_REQUIRE_BACKENDS names gl)
  describe('packed gl kernels', () => {
    it.skip(`need headless-gl, which cannot start here: ${probe.reason}`, () => {});
  });
}

function expectWithin(
  got: ArrayLike<number>,
  want: readonly number[],
  scale: readonly number[],
  what: string,
) {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = ATOL + RTOL * scale[i];
    if (!(Math.abs(got[i] - want[i]) <= tol)) {
      expect.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]} (tolerance ${tol})`);
    }
  }
}

describe.each(active)('packed matmul on GpuJsBackend(%s)', (mode) => {
  let be: GpuJsBackend;
  const cpu = new CpuBackend();
  const up = (x: Float32Array): BackendBuffer => be.upload(x);

  beforeAll(() => {
    be = new GpuJsBackend(mode);
  });
  afterAll(() => {
    be.destroy();
  });

  /** The product on the gl backend with the packed path on or off, and the float64 reference. */
  function product(
    a: Float32Array,
    b: Float32Array,
    shape: [number, number, number],
    tA: boolean,
    tB: boolean,
    packed = true,
    blocked = true,
  ) {
    const [m, k, n] = shape;
    be.packedMatmul = packed;
    be.blockedMatmul = blocked;
    try {
      const ab = up(a);
      const bb = up(b);
      const c = be.matmul(ab, bb, m, k, n, tA, tB);
      const got = be.read(c);
      for (const x of [ab, bb, c]) be.free(x);
      return got;
    } finally {
      be.packedMatmul = true;
      be.blockedMatmul = true;
    }
  }

  // shapes with every size not a multiple of 4, ones, and k long enough for several blocks of 64
  // texel steps (256 values) plus a tail
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 3, 1],
    [5, 7, 9],
    [3, 4, 4],
    [13, 1, 6],
    [2, 257, 3],
    [17, 1031, 11],
    [64, 64, 64],
  ];
  const flags: [boolean, boolean, boolean][] = [
    [false, false, true],
    [true, false, true],
    [false, true, true],
    [true, true, true],
    [false, false, false],
    [true, false, false],
    [false, true, false],
    [true, true, false],
  ];
  it.each(flags)(
    'transA=%s transB=%s blocked=%s: float64 and the CPU backend, odd shapes',
    (tA, tB, blocked) => {
      const before = be.packedMatmulCalls;
      const draws = be.packedStats.multiTargetDraws;
      for (const [m, k, n] of shapes) {
        const a = testData(m * k, 11 * m + k);
        const b = testData(k * n, 13 * n + k);
        const got = product(a, b, [m, k, n], tA, tB, true, blocked);
        const { out: want, bound } = matmul64(a, b, m, k, n, tA, tB);
        const what = `packed matmul ${m}x${k}x${n} tA=${tA} tB=${tB} blocked=${blocked}`;
        expectWithin(got, want, bound, what);
        const c = cpu.read(cpu.matmul(cpu.upload(a), cpu.upload(b), m, k, n, tA, tB));
        expectWithin(got, Array.from(c), bound, `${what} vs cpu`);
      }
      // every shape above took the packed path; the blocked one draws into four targets (headless-gl
      // has WEBGL_draw_buffers)
      expect(be.packedMatmulCalls - before).toBe(shapes.length);
      expect(be.packedStats.multiTargetDraws - draws).toBe(blocked ? shapes.length : 0);
    },
  );

  it('agrees with the one-output gpu.js kernel it replaces', () => {
    const [m, k, n] = [37, 301, 23];
    const a = testData(m * k, 5);
    const b = testData(k * n, 6);
    const packed = product(a, b, [m, k, n], false, true, true);
    const oneTarget = product(a, b, [m, k, n], false, true, true, false);
    const plain = product(a, b, [m, k, n], false, true, false);
    const { bound } = matmul64(a, b, m, k, n, false, true);
    expectWithin(packed, Array.from(plain), bound, 'packed vs plain');
    expectWithin(oneTarget, Array.from(plain), bound, 'packed one-target vs plain');
  });

  it('exact small products: integers give exact float32 results', () => {
    // A = [[1, 2, 3], [4, 5, 6]] (2x3), B = [[7, 8], [9, 10], [11, 12]] (3x2)
    const a = new Float32Array([1, 2, 3, 4, 5, 6]);
    const b = new Float32Array([7, 8, 9, 10, 11, 12]);
    expect(Array.from(product(a, b, [2, 3, 2], false, false))).toEqual([58, 64, 139, 154]);
    // A^T B with A stored 3x2 (the same numbers read column-wise)
    expect(Array.from(product(a, b, [2, 3, 2], true, false))).toEqual([
      1 * 7 + 3 * 9 + 5 * 11,
      1 * 8 + 3 * 10 + 5 * 12,
      2 * 7 + 4 * 9 + 6 * 11,
      2 * 8 + 4 * 10 + 6 * 12,
    ]);
  });

  it('infinities and NaN propagate as on the CPU; the zero padding of odd sizes adds no NaN', () => {
    // k = 5 and n = 5: the last texel of every packed row has padding lanes; B holds +inf in
    // column 4 and a NaN at (2, 1): 0 * inf in a padding lane would turn column 4 into NaN.
    const [m, k, n] = [3, 5, 5];
    const a = Float32Array.from({ length: m * k }, (_, i) => 1 + (i % 3));
    const b = Float32Array.from({ length: k * n }, (_, i) =>
      i % n === 4 ? Number.POSITIVE_INFINITY : i * 0.5,
    );
    b[2 * n + 1] = Number.NaN;
    const want = cpu.read(cpu.matmul(cpu.upload(a), cpu.upload(b), m, k, n, false, false));
    for (const blocked of [true, false]) {
      const got = product(a, b, [m, k, n], false, false, true, blocked);
      expect(closeTo(got, want, 1e-6, 1e-6)).toBeNull();
      for (let i = 0; i < m; i++) {
        expect(got[i * n + 4]).toBe(Number.POSITIVE_INFINITY);
        expect(got[i * n + 1]).toBeNaN();
        expect(Number.isFinite(got[i * n + 0])).toBe(true);
      }
    }
  });

  it('sizes at the texture limit use the packed path; one past it falls back to the gpu.js kernel', () => {
    const t = be.info.maxTextureSize!;
    const cases: { shape: [number, number, number]; packed: boolean }[] = [
      { shape: [t, 1, 1], packed: true }, // 4 ceil(m / 4) = maxTextureSize rows
      { shape: [t - 3, 3, 1], packed: true },
      { shape: [t + 1, 1, 1], packed: false },
      { shape: [1, t, 2], packed: true }, // B packed with 4 ceil(k / 4) = maxTextureSize rows
      { shape: [1, t + 1, 2], packed: false },
      { shape: [1, 2, 4 * t], packed: true }, // ceil(n / 4) = maxTextureSize texels per row
      { shape: [1, 2, 4 * t + 1], packed: false },
    ];
    for (const { shape, packed } of cases) {
      const [m, k, n] = shape;
      const a = testData(m * k, m + k);
      const b = testData(k * n, n + 3 * k);
      const before = be.packedMatmulCalls;
      const got = product(a, b, shape, false, false);
      expect(be.packedMatmulCalls - before, `packed path taken for ${shape.join('x')}`).toBe(packed ? 1 : 0);
      const { out: want, bound } = matmul64(a, b, m, k, n, false, false);
      expectWithin(got, want, bound, `matmul ${shape.join('x')}`);
    }
  });

  it('leaves gpu.js state intact: kernels before and after a packed matmul compute correctly', () => {
    // a gpu.js kernel over a texture larger than any the matmul draws into, built first
    const big = testData(300_000, 3);
    const x = up(big);
    const y1 = be.map(SCALAR.affine, [x], [[big.length]], [big.length], [2, 1]);
    const a = testData(9 * 10, 1);
    const b = testData(10 * 7, 2);
    const ab = up(a);
    const bb = up(b);
    const c = be.matmul(ab, bb, 9, 10, 7, false, false);
    // the same kernel again (its viewport and vertex state must be as gpu.js left them), and a new one
    const y2 = be.map(SCALAR.affine, [x], [[big.length]], [big.length], [2, 1]);
    const z = be.map(UNARY.neg, [c], [[63]], [63], []);
    const want = Array.from(big, (v) => Math.fround(Math.fround(2 * v) + 1));
    expect(closeTo(be.read(y1), want, 0, 0)).toBeNull();
    expect(closeTo(be.read(y2), want, 0, 0)).toBeNull();
    const { out, bound } = matmul64(a, b, 9, 10, 7, false, false);
    expectWithin(be.read(c), out, bound, 'matmul between gpu.js kernels');
    expectWithin(
      be.read(z),
      out.map((v) => -v),
      bound,
      'gpu.js kernel on the packed product',
    );
    for (const t of [x, y1, ab, bb, c, y2, z]) be.free(t);
  });

  it('reuses its packed textures: repeated products allocate no new textures', () => {
    const [m, k, n] = [33, 65, 17];
    const a = up(testData(m * k, 8));
    const b = up(testData(k * n, 9));
    const first = be.matmul(a, b, m, k, n, false, true);
    be.free(first);
    const allocs = be.packedStats.textureAllocations;
    for (let r = 0; r < 5; r++) be.free(be.matmul(a, b, m, k, n, false, true));
    expect(be.packedStats.textureAllocations - allocs).toBe(0);
    be.free(a);
    be.free(b);
  });

  /** Launch names of `run` under a profile, sorted (no per-launch wait: only names are counted). */
  function launches(run: () => void): string[] {
    be.startProfile({ sync: 'none' });
    try {
      run();
    } catch (e) {
      be.stopProfile();
      throw e;
    }
    const p = be.stopProfile();
    return p.kernels.flatMap((k) => Array.from({ length: k.launches }, () => k.name)).sort();
  }

  it.each([true, false])(
    'packReuse (blocked=%s): x packed for x W^T serves dz^T x (one pack less), same bits; released with x',
    (blocked) => {
      be.blockedMatmul = blocked;
      try {
        // a layer's forward x W^T and weight gradient dz^T x: x (N x in) is op(A) of the first
        // and B of the second, both packed ceil(in / 4) x N (N a multiple of 4: the blocked path
        // pads A's rows to 4 ceil(N / 4), B's to 4 ceil(N / 4) too)
        const [N, inF, outF] = [12, 9, 6];
        const xv = testData(N * inF, 21);
        const wv = testData(outF * inF, 22);
        const dzv = testData(N * outF, 23);
        const run = () => {
          const x = up(xv);
          const w = up(wv);
          const dz = up(dzv);
          const held0 = be.packedStats.packsHeld;
          const reuses0 = be.packedStats.packReuses;
          let y: BackendBuffer | null = null;
          let gw: BackendBuffer | null = null;
          const names = launches(() => {
            y = be.matmul(x, w, N, inF, outF, false, true);
            gw = be.matmul(dz, x, outF, N, inF, true, false);
          });
          const stats = be.packedStats;
          const out = {
            names,
            y: be.read(y!),
            gw: be.read(gw!),
            held: stats.packsHeld - held0,
            reuses: stats.packReuses - reuses0,
          };
          for (const t of [x, w, y!, gw!]) be.free(t);
          const afterX = be.packedStats.packsHeld - held0;
          be.free(dz);
          return { ...out, afterX, afterAll: be.packedStats.packsHeld - held0 };
        };
        be.packReuse = false;
        const plain = run();
        be.packReuse = true;
        const reused = run();
        const packs = (names: string[]) => names.filter((k) => k.startsWith('pack('));
        expect(packs(plain.names)).toEqual(
          [
            `pack(${N}x${inF})`,
            `pack(${inF}x${outF}, trans)`,
            `pack(${outF}x${N}, trans)`,
            `pack(${N}x${inF})`,
          ].sort(),
        );
        expect(packs(reused.names)).toEqual(
          [`pack(${N}x${inF})`, `pack(${inF}x${outF}, trans)`, `pack(${outF}x${N}, trans)`].sort(),
        );
        expect(reused.names.length).toBe(plain.names.length - 1);
        expect(reused.reuses).toBe(1);
        expect(plain.reuses).toBe(0);
        expect(plain.held).toBe(0);
        // x, w and dz hold one packed form each while alive; every one goes back with its buffer
        expect(reused.held).toBe(3);
        expect(reused.afterX).toBe(1);
        expect(reused.afterAll).toBe(0);
        expect(float32Bits(reused.y)).toEqual(float32Bits(plain.y));
        expect(float32Bits(reused.gw)).toEqual(float32Bits(plain.gw));
      } finally {
        be.blockedMatmul = true;
        be.packReuse = true;
      }
    },
  );

  it('packReuse: another layout of the same buffer is packed anew; rows not a multiple of 4 differ between A and B on one render target', () => {
    // a (5 x 7) as A of a B (no transpose) and as A^T of a^T c: different layouts, two packs
    const [m, k] = [5, 7];
    const av = testData(m * k, 31);
    const a = up(av);
    const b = up(testData(k * 3, 32));
    const c = up(testData(m * 2, 33));
    const reuses0 = be.packedStats.packReuses;
    const p1 = be.matmul(a, b, m, k, 3, false, false);
    const p2 = be.matmul(a, c, k, m, 2, true, false);
    // the same layout again: both reused
    const p3 = be.matmul(a, b, m, k, 3, false, false);
    expect(be.packedStats.packReuses - reuses0).toBe(2); // a and b of p3
    expect(Array.from(be.read(p3))).toEqual(Array.from(be.read(p1)));
    const want2 = cpu.read(cpu.matmul(cpu.upload(av), cpu.upload(be.read(c)), k, m, 2, true, false));
    expectWithin(be.read(p2), Array.from(want2), new Array(14).fill(10), 'a^T c');
    // one render target: A keeps m = 5 rows, B pads to 8: a 5 x 5 square packed as A, then as B, twice
    be.blockedMatmul = false;
    try {
      const s = up(testData(25, 34));
      const r0 = be.packedStats.packReuses;
      const q = be.matmul(s, s, 5, 5, 5, false, false);
      expect(be.packedStats.packReuses - r0).toBe(0);
      const sv = be.read(s);
      const want = cpu.read(cpu.matmul(cpu.upload(sv), cpu.upload(sv), 5, 5, 5, false, false));
      expectWithin(be.read(q), Array.from(want), new Array(25).fill(10), 's s');
      for (const t of [s, q]) be.free(t);
    } finally {
      be.blockedMatmul = true;
    }
    for (const t of [a, b, c, p1, p2, p3]) be.free(t);
  });
});

describe.each(active)('texture pool on GpuJsBackend(%s)', (mode) => {
  let be: GpuJsBackend;
  const cpu = new CpuBackend();

  beforeAll(() => {
    be = new GpuJsBackend(mode);
  });
  afterAll(() => {
    be.destroy();
  });

  /**
   * An optimizer-like loop: m <- 0.9 m + g, p <- p - 0.1 m, the old m and p freed after each step.
   * Compared with the CPU backend within 1e-6 + 1e-6 |x| (GL may fuse the multiply-add).
   */
  function run(b: GpuJsBackend | CpuBackend, steps: number, onStep?: (s: number) => void) {
    const n = 1000;
    let m = b.upload(new Float32Array(n));
    let p = b.upload(testData(n, 1));
    const g = b.upload(testData(n, 2));
    const shape = [[n], [n]];
    for (let s = 0; s < steps; s++) {
      onStep?.(s);
      const m2 = b.map(SCALAR.affine, [m], [[n]], [n], [0.9, 0]);
      const m3 = b.map(BINARY.add, [m2, g], shape, [n], []);
      b.free(m2);
      const d = b.map(SCALAR.affine, [m3], [[n]], [n], [-0.1, 0]);
      const p2 = b.map(BINARY.add, [p, d], shape, [n], []);
      b.free(d);
      b.free(m);
      b.free(p);
      m = m3;
      p = p2;
    }
    const out = [b.read(m), b.read(p)];
    for (const x of [m, p, g]) b.free(x);
    return out;
  }

  it('steady-state steps allocate no textures and compute what the CPU backend computes', () => {
    let allocs = -1;
    let from = 0;
    const got = run(be, 12, (s) => {
      if (s === 4) {
        be.startProfile({ sync: 'none' });
        from = be.packedStats.textureAllocations;
      }
    });
    const profile = be.stopProfile();
    allocs = profile.textureAllocations;
    const want = run(cpu, 12);
    expect(closeTo(got[0], want[0], 1e-6, 1e-6)).toBeNull();
    expect(closeTo(got[1], want[1], 1e-6, 1e-6)).toBeNull();
    // steps 4..11: every output comes from a texture freed by an earlier step
    expect(allocs).toBe(0);
    expect(be.packedStats.textureAllocations - from).toBe(0);
    expect(profile.launches).toBeGreaterThanOrEqual(8 * 4);
  });

  it('with texturePool = false gpu.js allocates a texture for every output a kept result still holds', () => {
    be.texturePool = false;
    try {
      run(be, 3);
      be.startProfile({ sync: 'none' });
      const got = run(be, 6);
      const p = be.stopProfile();
      expect(p.textureAllocations).toBeGreaterThan(0);
      const want = run(cpu, 6);
      expect(closeTo(got[1], want[1], 1e-6, 1e-6)).toBeNull();
    } finally {
      be.texturePool = true;
    }
  });
});

describe.each(active)('readAsync on GpuJsBackend(%s)', (mode) => {
  let be: GpuJsBackend;

  beforeAll(() => {
    be = new GpuJsBackend(mode);
  });
  afterAll(() => {
    be.destroy();
  });

  it('headless-gl (WebGL1) says its awaitable read blocks, and it returns what read returns', async () => {
    expect(be.info.asyncRead).toBe('blocking');
    const x = testData(70_001, 4);
    const b = be.upload(x);
    const y = be.map(UNARY.neg, [b], [[x.length]], [x.length], []);
    const got = await be.readAsync(y);
    expect(got).toBeInstanceOf(Float32Array);
    expect(
      closeTo(
        got,
        Array.from(x, (v) => -v),
        0,
        0,
      ),
    ).toBeNull();
    expect(Array.from(await be.readAsync(y))).toEqual(Array.from(be.read(y)));
    be.free(b);
    be.free(y);
  });

  it('rejects with a BackendError for a freed buffer and for another backend’s buffer', async () => {
    const b = be.upload(new Float32Array([1, 2]));
    be.free(b);
    await expect(be.readAsync(b)).rejects.toThrow(/readAsync: the buffer was freed/);
    await expect(be.readAsync(new CpuBackend().upload(new Float32Array([1])))).rejects.toThrow(
      /readAsync: not a gpu.js buffer/,
    );
  });
});

/** A spec calling Math.round (gpu.js's helper floor(x + 0.5) before issue 16; now the backend's GLSL on both paths). */
const ROUND = defineKernel({ name: 'test.glRound', arity: 1, params: 0, expr: 'Math.round(a)' });

describe.each(active)('direct same-shape maps on GpuJsBackend(%s)', (mode) => {
  let be: GpuJsBackend;

  beforeAll(() => {
    be = new GpuJsBackend(mode);
  });
  afterAll(() => {
    be.destroy();
  });

  // special values in every input position, and ordinary ones
  const SPECIAL = [0, -0, 1, -1, 0.5, -2.5, 3.4e38, -3.4e38, 1e-30, Number.NaN, Infinity, -Infinity, 20, -20];
  const inputsFor = (k: number) =>
    Float32Array.from({ length: 3 * SPECIAL.length * SPECIAL.length }, (_, i) => {
      const j = Math.floor(i / SPECIAL.length ** k) % SPECIAL.length;
      return i < SPECIAL.length ** 2 ? SPECIAL[j] : Math.sin(i * (k + 1)) * 4;
    });

  it('every table spec gives what gpu.js gives (NaN where it gives NaN), and most run directly', () => {
    const specs = [UNARY, BINARY, SCALAR, ACTIVATION_GRAD].flatMap((t) => Object.values(t));
    const params = [0.5, 2, -1.5, 3];
    let direct = 0;
    for (const spec of specs) {
      const n = inputsFor(0).length;
      const xs = Array.from({ length: spec.arity }, (_, k) => be.upload(inputsFor(k)));
      const shapes = xs.map(() => [n]);
      const p = params.slice(0, spec.params);
      const before = be.directMapCalls;
      const fast = be.map(spec, xs, shapes, [n], p);
      direct += be.directMapCalls - before;
      be.directMap = false;
      const slow = be.map(spec, xs, shapes, [n], p);
      be.directMap = true;
      const got = be.read(fast);
      const want = be.read(slow);
      for (let i = 0; i < n; i++) {
        const ok =
          got[i] === want[i] ||
          (Number.isNaN(want[i]) && Number.isNaN(got[i])) ||
          Math.abs(got[i] - want[i]) <= 1e-6 * Math.abs(want[i]) + 1e-30;
        if (!ok) expect.fail(`${spec.name}[${i}]: direct ${got[i]}, gpu.js ${want[i]}`);
      }
      for (const b of [...xs, fast, slow]) be.free(b);
    }
    expect(direct).toBeGreaterThan(specs.length / 2);
  });

  it('broadcast inputs keep the gpu.js kernel; a spec calling round runs directly (issue 16)', () => {
    const before = be.directMapCalls;
    const a = be.upload(new Float32Array([1, 2, 3, 4, 5, 6]));
    const b = be.upload(new Float32Array([10, 20, 30]));
    const s = be.map(BINARY.add, [a, b], [[2, 3], [3]], [2, 3], []);
    expect(Array.from(be.read(s))).toEqual([11, 22, 33, 14, 25, 36]);
    expect(be.directMapCalls - before).toBe(0);
    const halves = be.upload(new Float32Array([0.49999997, -0.4, -2.5, 2.5, 8388609, -0.50000006]));
    const t = be.map(ROUND, [halves], [[6]], [6], []);
    expect(be.directMapCalls - before).toBe(1);
    expect(Array.from(be.read(t)).map((v) => (Object.is(v, -0) ? '-0' : v))).toEqual([
      0,
      '-0',
      -2,
      3,
      8388609,
      -1,
    ]);
    const d = be.map(BINARY.mul, [a, a], [[6], [6]], [6], []);
    expect(Array.from(be.read(d))).toEqual([1, 4, 9, 16, 25, 36]);
    expect(be.directMapCalls - before).toBe(2);
    for (const x of [a, b, s, halves, t, d]) be.free(x);
  });
});

describe.each(active)('fused multi-output maps (mapMulti) on GpuJsBackend(%s)', (mode) => {
  let be: GpuJsBackend;

  beforeAll(() => {
    be = new GpuJsBackend(mode);
  });
  afterAll(() => {
    be.destroy();
  });

  // Adam's update of one parameter (a = g, b = m, c = v, d = p): three outputs sharing the moments
  const STMTS = 'let t_m = Math.fround(p0 * b + p1 * a); let t_v = Math.fround(p2 * c + p3 * (a * a));';
  const adam = (name: string, expr: string) =>
    defineKernel({ name: `test.glmm.${name}`, arity: 4, params: 6, stmts: STMTS, expr });
  const ADAM = [
    adam('m', 't_m'),
    adam('v', 't_v'),
    adam('p', 'd + p4 * (t_m / (Math.sqrt(t_v) / p5 + 1e-8))'),
  ];
  const PARAMS = [0.9, 0.1, 0.999, 0.001, -0.01, Math.sqrt(0.001)];
  const n = 300 * 301;
  const inputs = () => [
    be.upload(testData(n, 1)),
    be.upload(testData(n, 2)),
    be.upload(Float32Array.from(testData(n, 3), Math.abs)),
    be.upload(testData(n, 4)),
  ];
  const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer));

  it('one draw into three targets; every output equals its spec’s own map bit for bit', () => {
    const xs = inputs();
    const shapes = xs.map(() => [n]);
    const before = { calls: be.mapMultiCalls, draws: be.packedStats.multiTargetDraws };
    const fused = be.mapMulti(ADAM, xs, shapes, [n], PARAMS);
    expect(fused).not.toBeNull();
    expect(be.mapMultiCalls - before.calls).toBe(1);
    expect(be.packedStats.multiTargetDraws - before.draws).toBe(1);
    ADAM.forEach((spec, k) => {
      const one = be.map(spec, xs, shapes, [n], PARAMS);
      expect(bits(be.read(fused![k])), spec.name).toEqual(bits(be.read(one)));
      be.free(one);
    });
    // and what the CPU backend computes, within float32 rounding of sqrt and the quotient
    const cpu = new CpuBackend();
    const cx = [1, 2, 3, 4].map((s) =>
      cpu.upload(s === 3 ? Float32Array.from(testData(n, 3), Math.abs) : testData(n, s)),
    );
    const want = cpu.read(cpu.map(ADAM[2], cx, shapes, [n], PARAMS));
    expect(closeTo(be.read(fused![2]), want, 1e-6, 1e-5)).toBeNull();
    for (const b of [...xs, ...fused!]) be.free(b);
  });

  it('a two-target draw after a three-target one leaves the earlier outputs intact', () => {
    const xs = inputs();
    const shapes = xs.map(() => [n]);
    const three = be.mapMulti(ADAM, xs, shapes, [n], PARAMS)!;
    const kept = three.map((b) => bits(be.read(b)));
    const two = be.mapMulti(ADAM.slice(0, 2), xs, shapes, [n], PARAMS)!;
    expect(two).toHaveLength(2);
    three.forEach((b, k) => {
      expect(bits(be.read(b)), `output ${k}`).toEqual(kept[k]);
    });
    for (const b of [...xs, ...three, ...two]) be.free(b);
  });

  it('returns null where it does not fuse: broadcasting, different statements, one or five specs', () => {
    const xs = inputs();
    const shapes = xs.map(() => [n]);
    const other = defineKernel({ name: 'test.glmm.other', arity: 4, params: 6, expr: 'a + b' });
    expect(be.mapMulti([ADAM[0], other], xs, shapes, [n], PARAMS)).toBeNull();
    expect(be.mapMulti([ADAM[0]], xs, shapes, [n], PARAMS)).toBeNull();
    expect(be.mapMulti([...ADAM, ...ADAM.slice(0, 2)], xs, shapes, [n], PARAMS)).toBeNull();
    const row = be.upload(testData(301, 5));
    expect(
      be.mapMulti(
        ADAM,
        [xs[0], xs[1], xs[2], row],
        [[300, 301], [300, 301], [300, 301], [301]],
        [300, 301],
        PARAMS,
      ),
    ).toBeNull();
    be.directMap = false;
    expect(be.mapMulti(ADAM, xs, shapes, [n], PARAMS)).toBeNull();
    be.directMap = true;
    for (const b of [...xs, row]) be.free(b);
  });
});

describe.each(active)('fused softmax cross-entropy on GpuJsBackend(%s)', (mode) => {
  let be: GpuJsBackend;
  let d: Device;

  beforeAll(() => {
    be = new GpuJsBackend(mode);
    d = new Device(be, 'test');
  });
  afterAll(() => {
    be.destroy();
  });

  /** Loss, lse, probabilities and both gradients, fused or composed. */
  function run(
    x: Float32Array,
    rows: number,
    classes: number,
    labels: number[],
    eps: number,
    fused: boolean,
  ) {
    be.fusedCrossEntropy = fused;
    try {
      const X = d.array(x, [rows, classes]);
      const L = d.array(labels, [rows]);
      const draws = be.packedStats.multiTargetDraws;
      const [loss, lse, probs] = d.softmaxCrossEntropy(X, L, eps, true);
      const fusedDraws = be.packedStats.multiTargetDraws - draws;
      const dyRows = d.array(testData(rows, 5), [rows]);
      const dyOne = d.array([0.75], [1]);
      const g1 = d.softmaxCrossEntropyGrad(probs!, L, dyRows, eps, 1 / rows);
      const g2 = d.softmaxCrossEntropyGrad(probs!, L, dyOne, eps, 1 / rows);
      const out = {
        loss: loss.read(),
        lse: lse.read(),
        probs: probs!.read(),
        g1: g1.read(),
        g2: g2.read(),
        fusedDraws,
      };
      for (const t of [X, L, loss, lse, probs!, dyRows, dyOne, g1, g2]) t.dispose();
      return out;
    } finally {
      be.fusedCrossEntropy = true;
    }
  }

  /** |a - b| <= atol + rtol |b| elementwise, NaN where the other has NaN. */
  function expectSame(a: Float32Array, b: Float32Array, atol: number, rtol: number, what: string) {
    expect(a.length, what).toBe(b.length);
    for (let i = 0; i < b.length; i++) {
      const ok =
        a[i] === b[i] ||
        (Number.isNaN(a[i]) && Number.isNaN(b[i])) ||
        Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]);
      if (!ok) expect.fail(`${what}[${i}]: fused ${a[i]}, composed ${b[i]}`);
    }
  }

  it('one draw for loss and lse equals the composed kernels, special values included', () => {
    const [rows, classes] = [7, 10];
    const x = testData(rows * classes, 11, -4, 4);
    x[1 * classes + 3] = Number.NaN; // a NaN: lse and the label's term NaN
    x[2 * classes + 5] = Number.POSITIVE_INFINITY; // +Infinity: NaN
    x[3 * classes + 0] = Number.NEGATIVE_INFINITY; // a -Infinity logit: probability 0
    for (let j = 0; j < classes; j++) x[4 * classes + j] = Number.NEGATIVE_INFINITY; // all -Infinity: NaN
    x[5 * classes + 9] = 3e38; // huge
    const labels = [1, 2, 3, 0, 5, 9, 12]; // 12: no class (loss 0 without smoothing)
    for (const eps of [0, 0.1]) {
      const f = run(x, rows, classes, labels, eps, true);
      const c = run(x, rows, classes, labels, eps, false);
      expect(f.fusedDraws).toBe(1);
      expect(c.fusedDraws).toBe(0);
      expectSame(f.lse, c.lse, 1e-6, 1e-6, `lse eps ${eps}`);
      expectSame(f.loss, c.loss, 1e-6, 1e-6, `loss eps ${eps}`);
      expectSame(f.probs, c.probs, 0, 0, `probs eps ${eps}`);
      expectSame(f.g1, c.g1, 0, 0, `grad per row eps ${eps}`);
      expectSame(f.g2, c.g2, 0, 0, `grad one dy eps ${eps}`);
      expect(Number.isNaN(f.lse[1]) && Number.isNaN(f.lse[2]) && Number.isNaN(f.lse[4])).toBe(true);
      if (eps === 0) expect(f.loss[6]).toBe(0);
    }
  });

  it('more than 1024 classes (the composed sum of exponentials is staged): within float32 rounding', () => {
    const [rows, classes] = [3, 1500];
    const x = testData(rows * classes, 12, -6, 6);
    const labels = [0, 777, 1499];
    const f = run(x, rows, classes, labels, 0.05, true);
    const c = run(x, rows, classes, labels, 0.05, false);
    expectSame(f.lse, c.lse, 1e-5, 1e-6, 'lse');
    expectSame(f.loss, c.loss, 1e-5, 1e-5, 'loss');
    expectSame(f.probs, c.probs, 1e-9, 1e-5, 'probs');
    expectSame(f.g1, c.g1, 1e-9, 1e-5, 'grad');
  });
});
