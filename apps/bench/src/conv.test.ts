import { describe, expect, it } from 'vitest';
import { FULL_CONV, QUICK_CONV } from './config.js';
import type { ConvData } from './conv.js';
import {
  cannotTrainReason,
  compareProbe,
  convChecksum,
  convData,
  convOutSize,
  convPassFlops,
  convShapes,
  convTrainFlops,
  describeCase,
  nhwcIndex,
  parseConvRows,
  probeIndices,
  probePositions,
  referenceProbe,
  tfFilterIndex,
} from './conv.js';
import { convTables, convTargets, fastestTfjs, verifyConvRows } from './conv-report.js';
import type { ConvCase, ConvProbe, ConvRow } from './types.js';

const SEED = 42;
const conv = (over: Partial<ConvCase> = {}): ConvCase => ({
  name: 'c',
  kind: 'conv2d',
  batch: 2,
  channels: 4,
  height: 5,
  width: 6,
  outChannels: 6,
  kernel: 3,
  stride: 1,
  padding: 1,
  groups: 1,
  ...over,
});

describe('FLOP counting', () => {
  it("counts 2 N OH OW Cout Cin/groups KH KW per pass, 3 passes for fwd+bwd (the issue's shapes)", () => {
    const [main, depthwise, c1, pool] = FULL_CONV;
    expect(describeCase(main)).toContain('[64, 32, 28, 28] -> [64, 64, 28, 28]');
    expect(convPassFlops(main)).toBe(2 * 64 * 28 * 28 * 64 * 32 * 9); // 1.85 GFLOP
    expect(convTrainFlops(main)).toBe(3 * 1_849_688_064);
    expect(depthwise.groups).toBe(depthwise.channels);
    expect(convPassFlops(depthwise)).toBe(2 * 64 * 28 * 28 * 64 * 1 * 9);
    expect(convPassFlops(c1)).toBe(2 * 64 * 28 * 28 * 32 * 1 * 25);
    expect(convPassFlops(pool)).toBe(0);
  });

  it('output size follows floor((H + 2p - K) / s) + 1', () => {
    expect(convOutSize(conv())).toEqual([5, 6]);
    expect(convOutSize(conv({ stride: 2, padding: 0 }))).toEqual([2, 2]);
    expect(convOutSize(QUICK_CONV[3])).toEqual([4, 4]);
    expect(convPassFlops(conv({ stride: 2, padding: 0, groups: 2 }))).toBe(2 * 2 * 2 * 2 * 6 * 2 * 9);
  });
});

describe('data and probes', () => {
  it('seeded data: same seed same numbers, cases differ, weights within 1/sqrt(fanIn)', () => {
    const c = QUICK_CONV[0];
    const a = convData(c, SEED, 0);
    expect(convData(c, SEED, 0).x).toEqual(a.x);
    expect(convData(c, SEED, 1).x).not.toEqual(a.x);
    expect(convChecksum(a)).toBe(convChecksum(convData(c, SEED, 0)));
    const bound = 1 / Math.sqrt(4 * 9);
    expect(Math.max(...a.w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(a.dy.length).toBe(convShapes(c).y.reduce((p, q) => p * q, 1));
  });

  it('probe positions: first, last, in range, deterministic; all of a small array', () => {
    const p = probePositions(1000, 10, 1);
    expect(p).toHaveLength(10);
    expect(p.slice(0, 2)).toEqual([0, 999]);
    expect(p.every((i) => Number.isInteger(i) && i >= 0 && i < 1000)).toBe(true);
    expect(probePositions(1000, 10, 1)).toEqual(p);
    expect(probePositions(5, 10, 1)).toEqual([0, 1, 2, 3, 4]);
  });

  it('NCHW -> NHWC and PyTorch weight -> TF.js filter positions', () => {
    const shape = [2, 3, 4, 5];
    const seen = new Set<number>();
    for (let i = 0; i < 120; i++) seen.add(nhwcIndex(i, shape));
    expect(seen.size).toBe(120);
    // x[n=1, c=2, h=3, w=4] is the last element in both layouts; x[0, 1, 0, 0] is element 1 of NHWC
    expect(nhwcIndex(119, shape)).toBe(119);
    expect(nhwcIndex(20, shape)).toBe(1);
    const c = conv({ channels: 2, outChannels: 3, kernel: 2 }); // w [3, 2, 2, 2] -> [2, 2, 2, 3]
    expect(tfFilterIndex(1 * 8 + 1 * 4 + 0 * 2 + 1, c)).toBe(((0 * 2 + 1) * 2 + 1) * 3 + 1);
    const dw = conv({ channels: 4, outChannels: 4, groups: 4, kernel: 2 }); // [4, 1, 2, 2] -> [2, 2, 4, 1]
    expect(tfFilterIndex(2 * 4 + 1 * 2 + 1, dw)).toBe((1 * 2 + 1) * 4 + 2);
    expect(() => tfFilterIndex(0, conv({ groups: 2 }))).toThrow(/groups 2/);
  });
});

/** float64 full forward and L = sum(out * dy), by brute force, for the reference's test. */
function bruteForward(c: ConvCase, d: ConvData): Float64Array {
  const { x: xs, y: ys } = convShapes(c);
  const [N, C, H, W] = xs;
  const [, Co, OH, OW] = ys;
  const out = new Float64Array(N * Co * OH * OW);
  const Cg = C / c.groups;
  const Og = Co / c.groups;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < Co; o++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          let s = c.kind === 'conv2d' ? d.b[o] : Number.NEGATIVE_INFINITY;
          for (let ci = 0; ci < (c.kind === 'conv2d' ? Cg : 1); ci++)
            for (let u = 0; u < c.kernel; u++)
              for (let v = 0; v < c.kernel; v++) {
                const h = i * c.stride - c.padding + u;
                const w = j * c.stride - c.padding + v;
                const ch = c.kind === 'conv2d' ? Math.floor(o / Og) * Cg + ci : o;
                const xv = h < 0 || h >= H || w < 0 || w >= W ? 0 : d.x[((n * C + ch) * H + h) * W + w];
                if (c.kind === 'conv2d') s += d.w[((o * Cg + ci) * c.kernel + u) * c.kernel + v] * xv;
                else if (!(h < 0 || h >= H || w < 0 || w >= W)) s = Math.max(s, xv);
              }
          out[((n * Co + o) * OH + i) * OW + j] = s;
        }
  return out;
}
const loss = (c: ConvCase, d: ConvData) => bruteForward(c, d).reduce((s, v, i) => s + v * d.dy[i], 0);

describe('float64 reference at the probe positions', () => {
  // the loss is linear in x (and in w): a unit step gives the exact derivative (up to float64 rounding)
  it.each([
    ['plain', conv()],
    ['stride 2, groups 2', conv({ stride: 2, groups: 2, padding: 1, outChannels: 4 })],
    ['depthwise', conv({ groups: 4, outChannels: 4 })],
  ])('conv2d %s: output, input, weight and bias gradients by brute force', (_, c) => {
    const d = convData(c, SEED, 0);
    const idx = probeIndices(c);
    const ref = referenceProbe(c, d, idx);
    const full = bruteForward(c, d);
    for (const [k, i] of idx.out.entries()) expect(ref.out[k]).toBeCloseTo(full[i], 10);
    const base = loss(c, d);
    const bump = (key: 'x' | 'w', i: number) => {
      const copy = { ...d, [key]: Float64Array.from(d[key]) } as unknown as ConvData;
      (copy[key] as unknown as Float64Array)[i] += 1;
      return loss(c, copy) - base;
    };
    for (const [k, i] of idx.dx.slice(0, 12).entries()) expect(ref.dx[k]).toBeCloseTo(bump('x', i), 8);
    for (const [k, i] of idx.dw.slice(0, 12).entries()) expect(ref.dw[k]).toBeCloseTo(bump('w', i), 8);
    expect(ref.db).toHaveLength(c.outChannels);
  });

  it('max-pool: the gradient goes to the first maximum, also in all-negative windows', () => {
    const c: ConvCase = {
      ...conv({ channels: 1, outChannels: 1, height: 2, width: 4, batch: 1 }),
      kind: 'maxpool2d',
      kernel: 2,
      stride: 2,
      padding: 0,
    };
    const d: ConvData = {
      x: Float32Array.from([-0.5, -0.2, 3, 1, -0.3, -0.9, 3, 2]),
      w: new Float32Array(0),
      b: new Float32Array(0),
      dy: Float32Array.from([10, 20]),
    };
    const ref = referenceProbe(c, d, { out: [0, 1], dx: [0, 1, 2, 3, 4, 5, 6, 7], dw: [] });
    expect(ref.out).toEqual([-0.20000000298023224, 3]);
    expect(ref.dx).toEqual([0, 10, 20, 0, 0, 0, 0, 0]);
  });
});

describe('the numeric check', () => {
  const want: ConvProbe = { out: [1, -2, 100], dx: [0.5], dw: [3], db: [0] };
  it('passes float32 rounding, fails a wrong value, a NaN or a missing array and says where', () => {
    expect(compareProbe({ ...want, out: [1.00001, -2, 100.01] }, want).ok).toBe(true);
    const bad = compareProbe({ ...want, out: [1, -2.5, 100] }, want);
    expect(bad).toMatchObject({ ok: false, where: 'out[1]: -2.5 vs -2' });
    expect(bad.worst).toBeGreaterThan(1);
    expect(compareProbe({ ...want, dw: [Number.NaN] }, want)).toMatchObject({
      ok: false,
      where: 'dw[0]: NaN vs 3',
    });
    expect(compareProbe({ ...want, dw: [] }, want)).toMatchObject({
      ok: false,
      where: 'dw: 0 values, expected 1',
    });
  });

  it('"cannot train" only for a missing kernel, with the message TF.js gives', () => {
    const msg = "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'";
    expect(cannotTrainReason(new Error(msg))).toBe(msg);
    expect(
      cannotTrainReason(new TypeError("Cannot read properties of undefined (reading 'shape')")),
    ).toBeNull();
    const noGrad = 'Cannot compute gradient: gradient function not found for Conv2D.';
    expect(cannotTrainReason(noGrad)).toBe(noGrad);
  });
});

const timing = (ms: number) => ({ medianMs: ms, minMs: ms * 0.9, maxMs: ms * 1.2, reps: 3, warmup: 1 });

describe('worker rows', () => {
  const cases = QUICK_CONV;
  const c = cases[0];
  const probe = { out: [1], dx: [2], dw: [3], db: [4] };
  it('parses trained, cannot-train and failed rows; rejects malformed ones', () => {
    const raw = [
      { contender: 'tfjs-cpu', case: c.name, forward: timing(1), train: timing(4), probe, checksum: 5 },
      {
        contender: 'tfjs-cpu',
        case: 'maxpool2x2',
        forward: timing(1),
        train: timing(2),
        probe: { ...probe, dw: [], db: [] },
        checksum: 5,
      },
      {
        contender: 'tfjs-cpu',
        case: cases[1].name,
        forward: timing(2),
        train: null,
        cannotTrain: "Kernel 'X' not registered for backend 'wasm'",
        checksum: 5,
      },
      { contender: 'tfjs-cpu', case: cases[2].name, error: 'RangeError: boom' },
      {
        contender: 'tfjs-cpu',
        case: c.name,
        forward: timing(1),
        train: { medianMs: Number.NaN },
        probe,
        checksum: 5,
      },
      { contender: 'tfjs-cpu', case: c.name, forward: null, train: timing(3), checksum: 5 },
      { contender: 'tfjs-cpu', case: 'nope', checksum: 5 },
      { contender: 'other', case: c.name, forward: null, train: timing(3), probe, checksum: 5 },
    ];
    const { rows, errors } = parseConvRows(raw, 'tfjs-cpu', cases);
    expect(rows).toHaveLength(3);
    expect(rows[0].gflops).toBeCloseTo(convTrainFlops(c) / 4 / 1e6, 12);
    expect(rows[0].forwardGflops).toBeCloseTo(convPassFlops(c) / 1e6, 12);
    expect(rows[1]).toMatchObject({ kind: 'maxpool2d', flops: 0, gflops: null });
    expect(rows[2]).toMatchObject({
      train: null,
      gflops: null,
      cannotTrain: "Kernel 'X' not registered for backend 'wasm'",
    });
    expect(rows[2].forwardGflops).toBeGreaterThan(0);
    expect(errors).toEqual([
      `tfjs-cpu ${cases[2].name}: RangeError: boom`,
      `tfjs-cpu ${c.name}: malformed fwd+bwd timing`,
      `tfjs-cpu ${c.name}: no probe values for the numeric check`,
      'tfjs-cpu nope: unknown case',
      `tfjs-cpu ${c.name}: row of another contender (other)`,
    ]);
    expect(parseConvRows(undefined, 'x', cases)).toEqual({ rows: [], errors: [] });
    expect(parseConvRows({}, 'x', cases).errors).toEqual(['x: conv rows are not a list']);
  });
});

describe('check, tables and targets of a run', () => {
  const cases = QUICK_CONV.slice(0, 2);
  const refs = cases.map((c, k) => referenceProbe(c, convData(c, SEED, k), probeIndices(c)));
  const sums = cases.map((c, k) => convChecksum(convData(c, SEED, k)));
  const row = (contender: string, k: number, ms: number | null, over: Partial<ConvRow> = {}): ConvRow => {
    const c = cases[k];
    const flops = convTrainFlops(c);
    return {
      contender,
      case: c.name,
      kind: c.kind,
      flops,
      forward: timing((ms ?? 30) / 3),
      train: ms === null ? null : timing(ms),
      gflops: ms === null ? null : flops / ms / 1e6,
      forwardGflops: flops / 3 / ((ms ?? 30) / 3) / 1e6,
      cannotTrain: ms === null ? "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'" : null,
      probe: ms === null ? null : refs[k],
      checksum: sums[k],
      ...over,
    };
  };
  const wrong = { ...refs[0], dw: refs[0].dw.map((v, i) => (i === 3 ? v + 1 : v)) };
  const make = () => [
    row('gradkit-wasm', 0, 1),
    row('gradkit-cpu', 0, 5),
    row('tfjs-wasm', 0, null),
    row('tfjs-cpu', 0, 20),
    row('torch-cpu', 0, 0.5, { probe: wrong }), // fast and wrong: must not count
    row('gradkit-wasm', 1, 2, { checksum: 1 }),
    row('tfjs-cpu', 1, 4),
  ];

  it('verifies every trained row against float64 and gradkit cpu; flags wrong numbers and other data', () => {
    const rows = make();
    const notes = verifyConvRows(rows, cases, SEED);
    expect(rows[0].check).toMatchObject({ ok: true, vsGradkitCpu: { ok: true } });
    expect(rows[1].check?.vsGradkitCpu).toBeNull();
    expect(rows[2].check).toBeUndefined();
    expect(rows[4].check?.ok).toBe(false);
    expect(
      notes.some((n) => n.startsWith(`WRONG: torch-cpu conv ${cases[0].name}`) && n.includes('dw[3]')),
    ).toBe(true);
    expect(notes.some((n) => n.startsWith(`DATA MISMATCH: gradkit-wasm ran conv ${cases[1].name}`))).toBe(
      true,
    );
  });

  it('ratios against the fastest TF.js that trains; targets met / not met; cannot-train shown with its error', () => {
    const rows = make();
    verifyConvRows(rows, cases, SEED);
    expect(fastestTfjs(rows, cases[0].name)?.contender).toBe('tfjs-cpu');
    const text = convTables(rows, cases, [
      'gradkit-wasm',
      'gradkit-cpu',
      'tfjs-wasm',
      'tfjs-cpu',
      'torch-cpu',
    ]);
    expect(text).toContain("cannot train: Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'");
    expect(text).toMatch(/gradkit-wasm .* 20\.0x \(tfjs-cpu\)/);
    expect(text).toContain('WRONG (dw[3]');
    const t = convTargets(rows, cases, false);
    expect(t).toHaveLength(6);
    expect(t[0]).toMatchObject({ met: true, value: '20.0x' });
    expect(t[0].detail).toContain("tfjs-wasm cannot train: Kernel 'Conv2DBackpropFilter'");
    expect(t[1]).toMatchObject({ met: null, value: 'n/a' }); // the wrong PyTorch row does not count
    expect(t[2].met).toBe(true); // backward as fast as forward per FLOP
    expect(t[2].value).toMatch(/^1\.0+x$/);
    expect(t[3]).toMatchObject({ met: false, value: '2.00x' });
  });
});
