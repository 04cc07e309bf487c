// The wasm backend's window kernels (scripts/wasm-window-gen.mjs) against the cpu backend's
// JavaScript: the same values bit for bit (reads are copies; scatter-adds sum float32 terms in
// float64 in the same order; window max compares taps in the same order), over random window
// specs (padding, negative and zero steps, broadcasts, scalar outputs) and pooling walks whose
// row step takes each of the SIMD paths (1, 2) and the scalar one, with row lengths that are not
// multiples of 4, NaN, ties and zeros of both signs.
import { afterAll, describe, expect, it } from 'vitest';
import type { Device, DeviceArray } from '../../device.js';
import { createDevice } from '../../select.js';
import { testData } from '../../testing/reference.js';
import type { WindowSpec } from '../../window.js';
import { planWindow, windowSpec2d } from '../../window.js';
import type { WasmBackend } from './wasm.js';
import { probeWasm } from './wasm.js';

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/** The first index where two arrays differ in bits (Object.is: -0 and NaN count), or -1. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** xorshift32 in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** A random valid window spec over `inShape` (padding, negative/zero steps, broadcasts). */
function randomSpec(r: () => number, inShape: number[]): WindowSpec {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  for (;;) {
    const R = int(0, 5);
    const outShape = Array.from({ length: R }, () => int(1, 9));
    const axes = outShape.map(() => (r() < 0.15 ? -1 : int(0, inShape.length - 1)));
    const steps = axes.map((a) => (a < 0 ? 0 : [-2, -1, 0, 1, 1, 1, 2, 3][int(0, 7)]));
    const offsets = inShape.map((len) => int(-2, len + 1));
    const spec: WindowSpec = { outShape, axes, steps, offsets, padValue: r() < 0.5 ? 0 : -7.5 };
    try {
      planWindow('test', inShape, spec);
      return spec;
    } catch {}
  }
}

/** Pooling windows [N, C, KH, KW, OH, OW] (taps before positions), no padding. */
function tapsMiddle(inShape: number[], k: number, stride: number, dil = 1): WindowSpec {
  const [N, C, H, W] = inShape;
  const OH = Math.floor((H - dil * (k - 1) - 1) / stride) + 1;
  const OW = Math.floor((W - dil * (k - 1) - 1) / stride) + 1;
  return {
    outShape: [N, C, k, k, OH, OW],
    axes: [0, 1, 2, 3, 2, 3],
    steps: [1, 1, dil, dil, stride, stride],
    offsets: [0, 0, 0, 0],
  };
}

/** Values with ties (halves), NaN, -inf, and zeros of both signs. */
function awkward(n: number, seed: number): Float32Array {
  const v = testData(n, seed).map((x) => Math.round(x * 2) / 2);
  for (let i = 3; i < n; i += 41) v[i] = Number.NaN;
  for (let i = 7; i < n; i += 23) v[i] = Number.NEGATIVE_INFINITY;
  for (let i = 2; i < n; i += 13) v[i] = -0;
  return v;
}

/** Where output element `i` reads (flat input offset), or -1 for padding: from the definition. */
function source(spec: WindowSpec, inShape: readonly number[], i: number): number {
  const o: number[] = [];
  for (let k = spec.outShape.length - 1, r = i; k >= 0; k--) {
    o[k] = r % spec.outShape[k];
    r = Math.floor(r / spec.outShape[k]);
  }
  let off = 0;
  for (let a = 0; a < inShape.length; a++) {
    let c = spec.offsets[a];
    for (let k = 0; k < o.length; k++) if (spec.axes[k] === a) c += spec.steps[k] * o[k];
    if (c < 0 || c >= inShape[a]) return -1;
    off = off * inShape[a] + c;
  }
  return off;
}

const wasmOk = probeWasm().ok;
if (!wasmOk) console.log(`skipping the wasm window kernel tests: ${JSON.stringify(probeWasm())}`);

describe.skipIf(!wasmOk)('wasm window kernels = the JavaScript path, bit for bit', () => {
  const w = createDevice({ backend: 'wasm' });
  const c = createDevice({ backend: 'cpu' });
  afterAll(() => {
    w.destroy();
    c.destroy();
  });
  const both = <T>(f: (d: Device) => T): [T, T] => [f(w), f(c)];
  const read = (a: DeviceArray) => {
    const v = a.read();
    a.dispose();
    return v;
  };

  it('window and windowScatterAdd over 400 random specs', () => {
    const r = rng(12345);
    let padded = 0;
    for (let i = 0; i < 400; i++) {
      const inShape = Array.from({ length: 1 + Math.floor(r() * 4) }, () => 1 + Math.floor(r() * 7));
      const spec = randomSpec(r, inShape);
      if (planWindow('test', inShape, spec).padded) padded++;
      const xs = awkward(size(inShape), i + 1);
      const [gw, gc] = both((d) => {
        const x = d.array(xs, inShape);
        const y = d.window(x, spec);
        x.dispose();
        return read(y);
      });
      // the cpu result against the definition (the block walk is shared, so check it directly)
      const want = Float32Array.from({ length: size(spec.outShape) }, (_, o) => {
        const src = source(spec, inShape, o);
        return src < 0 ? (spec.padValue ?? Number.NaN) : xs[src];
      });
      const ad = firstDiff(gc, want);
      expect(ad, `cpu window ${JSON.stringify({ inShape, spec })} at [${ad}]`).toBe(-1);
      const at = firstDiff(gw, gc);
      expect(at, `window ${JSON.stringify({ inShape, spec })} at [${at}]: ${gw[at]} vs ${gc[at]}`).toBe(-1);
      const dys = testData(size(spec.outShape), i + 7);
      const [sw, sc] = both((d) => {
        const dy = d.array(dys, spec.outShape);
        const g = d.windowScatterAdd(dy, spec, inShape);
        dy.dispose();
        return read(g);
      });
      const sums = new Float64Array(size(inShape));
      dys.forEach((v, o) => {
        const src = source(spec, inShape, o);
        if (src >= 0) sums[src] += v;
      });
      const ds = firstDiff(sc, Float32Array.from(sums));
      expect(ds, `cpu scatter ${JSON.stringify({ inShape, spec })} at [${ds}]`).toBe(-1);
      const as = firstDiff(sw, sc);
      expect(as, `scatter ${JSON.stringify({ inShape, spec })} at [${as}]: ${sw[as]} vs ${sc[as]}`).toBe(-1);
    }
    expect(padded).toBeGreaterThan(100); // the cases do exercise padding
  });

  it('im2col and col2im of convolutions: padding, stride, dilation, every layout', () => {
    const shapes: [number[], number | [number, number], Parameters<typeof windowSpec2d>[2]][] = [
      [[3, 2, 11, 13], 5, { padding: 2 }],
      [[2, 3, 9, 10], 3, { padding: 1, stride: 2, layout: 'columns' }],
      [[2, 3, 9, 10], [2, 3], { padding: [1, 0], dilation: 2, layout: 'rows' }],
      [[1, 4, 8, 8], 1, { stride: 3 }],
      [[2, 1, 7, 6], 3, { stride: [1, 2], padding: 3, padValue: -1 }],
    ];
    for (const [inShape, k, opts] of shapes) {
      const spec = windowSpec2d(inShape, k, opts);
      const xs = awkward(size(inShape), 3);
      const dys = testData(size(spec.outShape), 4);
      const [gw, gc] = both((d) => read(d.window(d.array(xs, inShape), spec)));
      expect(firstDiff(gw, gc), JSON.stringify(opts)).toBe(-1);
      const [sw, sc] = both((d) => read(d.windowScatterAdd(d.array(dys, spec.outShape), spec, inShape)));
      expect(firstDiff(sw, sc), JSON.stringify(opts)).toBe(-1);
    }
  });

  it('transpose: every permutation of a 4-d array, and a long 2-d one', () => {
    const shape = [3, 5, 2, 7];
    const xs = awkward(size(shape), 9);
    const perms: number[][] = [];
    const permute = (rest: number[], acc: number[]) => {
      if (rest.length === 0) perms.push(acc);
      rest.forEach((a, i) => {
        permute([...rest.slice(0, i), ...rest.slice(i + 1)], [...acc, a]);
      });
    };
    permute([0, 1, 2, 3], []);
    expect(perms.length).toBe(24);
    for (const perm of perms) {
      const [tw, tc] = both((d) => read(d.transpose(d.array(xs, shape), perm)));
      expect(firstDiff(tw, tc), `perm ${perm}`).toBe(-1);
    }
    const long = testData(37 * 1001, 5);
    const [tw, tc] = both((d) => read(d.transpose(d.array(long, [37, 1001]), [1, 0])));
    expect(firstDiff(tw, tc)).toBe(-1);
  });

  it('windowMax and windowScatterAt: row steps 1, 2 (SIMD) and 3 (scalar), rows of 1 to 9 windows', () => {
    let cases = 0;
    for (const stride of [1, 2, 3]) {
      for (const k of [1, 2, 3]) {
        for (const width of [k, k + 3, k + 4, 2 * k + 5, 11, 17]) {
          const inShape = [2, 3, k + 2 * stride, width];
          const spec = tapsMiddle(inShape, k, stride, k === 2 ? 2 : 1);
          if (spec.outShape.some((v) => v <= 0)) continue;
          const xs = awkward(size(inShape), 100 + cases);
          const kept = [...spec.outShape.slice(0, 2), ...spec.outShape.slice(4)];
          const [[mw, iw], [mc, ic]] = both((d) => {
            const [m, ix] = d.windowMax(d.array(xs, inShape), spec, 2, 2);
            return [read(m), read(ix)];
          });
          const tag = `stride ${stride} k ${k} width ${width}`;
          expect(firstDiff(mw, mc), `max ${tag}`).toBe(-1);
          expect(firstDiff(iw, ic), `argmax ${tag}`).toBe(-1);
          // dy onto the picked taps; indices out of range or not integers drop
          const idx = Array.from(ic);
          idx[0] = -1;
          if (idx.length > 2) idx[1] = k * k;
          if (idx.length > 3) idx[2] = 0.5;
          if (idx.length > 4) idx[3] = Number.NaN;
          const dys = testData(size(kept), 200 + cases);
          const [gw, gc] = both((d) =>
            read(d.windowScatterAt(d.array(dys, kept), d.array(idx, kept), spec, 2, 2, inShape)),
          );
          expect(firstDiff(gw, gc), `scatter ${tag}`).toBe(-1);
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(40);
  });

  it('windowMax picks the first of equal values and the first NaN, as the cpu backend', () => {
    // one row of four 2-tap windows: [-0, +0], [+0, -0], [NaN, 1], [1, NaN] then [2, NaN, NaN, 3]
    const spec: WindowSpec = { outShape: [4, 2], axes: [0, 0], steps: [2, 1], offsets: [0] };
    const xs = [-0, 0, 0, -0, Number.NaN, 1, 1, Number.NaN];
    const [[mw, iw], [mc, ic]] = both((d) => {
      const [m, ix] = d.windowMax(d.array(xs, [8]), spec, 1, 1);
      return [read(m), read(ix)];
    });
    expect(Array.from(mw)).toEqual([-0, 0, Number.NaN, Number.NaN]);
    expect(Object.is(mw[0], -0) && Object.is(mw[1], 0)).toBe(true);
    expect(Array.from(iw)).toEqual([0, 0, 0, 1]);
    expect(firstDiff(mw, mc)).toBe(-1);
    expect(firstDiff(iw, ic)).toBe(-1);
  });

  it('memory stays flat: scratch tables and sums are returned', () => {
    const inShape = [2, 3, 8, 9];
    const spec = tapsMiddle(inShape, 2, 2);
    const conv = windowSpec2d(inShape, 3, { padding: 1 });
    const xs = testData(size(inShape), 1);
    const x = w.array(xs, inShape);
    const round = () => {
      const [m, ix] = w.windowMax(x, spec, 2, 2);
      const g = w.windowScatterAt(m, ix, spec, 2, 2, inShape);
      const col = w.window(x, conv);
      const back = w.windowScatterAdd(col, conv, inShape);
      for (const a of [m, ix, g, col, back]) a.dispose();
    };
    round();
    const heap = () => (w.backend as WasmBackend).memoryStats();
    const before = w.memory();
    const used = heap().usedBytes;
    for (let i = 0; i < 20; i++) round();
    const after = w.memory();
    expect(after.arrays).toBe(before.arrays);
    expect(after.bytes).toBe(before.bytes);
    // scratch (pooling tables, float64 sums) comes back to the pool: nothing new is handed out
    expect(heap().usedBytes).toBe(used);
    x.dispose();
  });
});
