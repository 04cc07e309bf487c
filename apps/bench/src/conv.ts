// The conv workload's pure pieces: the cases, FLOP counting, the seeded data, the probe positions
// and their float64 reference, the numeric check, the "cannot train" classification and the
// validation of the rows a worker writes.
import { uniformArray } from './matmul.js';
import type { Timing } from './stats.js';
import type { ConvCase, ConvProbe, ConvProbeIndices, ConvRow } from './types.js';

/** Output height and width of a case: `floor((H + 2 pad - K) / stride) + 1`. */
export function convOutSize(c: ConvCase): [number, number] {
  const o = (n: number) => Math.floor((n + 2 * c.padding - c.kernel) / c.stride) + 1;
  return [o(c.height), o(c.width)];
}

/**
 * FLOPs of one pass of a convolution, the standard count: `2 N OH OW Cout (Cin / groups) KH KW`
 * (one multiply and one add per term). The input-gradient and the weight-gradient passes cost
 * the same each, so forward + backward is three passes ({@link convTrainFlops}). Pools: 0 (not
 * FLOP-counted; they are reported in elements per second).
 */
export function convPassFlops(c: ConvCase): number {
  if (c.kind !== 'conv2d') return 0;
  const [oh, ow] = convOutSize(c);
  return 2 * c.batch * oh * ow * c.outChannels * (c.channels / c.groups) * c.kernel * c.kernel;
}

/** FLOPs of forward + backward (input and weight gradients): 3 passes; the bias gradient is not counted. */
export const convTrainFlops = (c: ConvCase): number => 3 * convPassFlops(c);

/** GFLOP/s of `flops` done in `ms` milliseconds. */
export const gflopsOf = (flops: number, ms: number): number => flops / ms / 1e6;

/** Shapes of a case's arrays, NCHW and PyTorch's weight layout `[Cout, Cin / groups, KH, KW]`. */
export function convShapes(c: ConvCase): {
  x: number[];
  w: number[];
  b: number[];
  y: number[];
} {
  const [oh, ow] = convOutSize(c);
  const conv = c.kind === 'conv2d';
  return {
    x: [c.batch, c.channels, c.height, c.width],
    w: conv ? [c.outChannels, c.channels / c.groups, c.kernel, c.kernel] : [0],
    b: conv ? [c.outChannels] : [0],
    y: [c.batch, conv ? c.outChannels : c.channels, oh, ow],
  };
}

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** One line describing a case: `[64, 32, 28, 28] -> [64, 64, 28, 28], 3x3, stride 1, pad 1, groups 1`. */
export function describeCase(c: ConvCase): string {
  const s = convShapes(c);
  const f = (x: readonly number[]) => `[${x.join(', ')}]`;
  if (c.kind === 'maxpool2d')
    return `max-pool ${f(s.x)} -> ${f(s.y)}, ${c.kernel}x${c.kernel}, stride ${c.stride}`;
  return `${f(s.x)} -> ${f(s.y)}, weight ${f(s.w)}, ${c.kernel}x${c.kernel}, stride ${c.stride}, pad ${c.padding}, groups ${c.groups}${c.groups === c.channels && c.groups > 1 ? ' (depthwise)' : ''}`;
}

/** The data of one case: input, weight, bias and output gradient, NCHW, float32. */
export interface ConvData {
  readonly x: Float32Array;
  /** `[Cout, Cin / groups, K, K]` (empty for pools). */
  readonly w: Float32Array;
  readonly b: Float32Array;
  /** The gradient fed to backward, in the output's shape. */
  readonly dy: Float32Array;
}

/**
 * The seeded data of case number `index`: `x` and `dy` uniform in [-1, 1), the weight uniform in
 * ±1/√fanIn (fanIn = Cin/groups·K·K, PyTorch's default bound), the bias in ±0.1. Every contender
 * uses exactly these numbers (PyTorch reads them from a file the orchestrator writes).
 */
export function convData(c: ConvCase, seed: number, index: number): ConvData {
  const s = convShapes(c);
  const base = (seed * 1000 + index * 10) >>> 0;
  const x = uniformArray(sizeOf(s.x), base + 1);
  const dy = uniformArray(sizeOf(s.y), base + 4);
  if (c.kind !== 'conv2d') return { x, w: new Float32Array(0), b: new Float32Array(0), dy };
  const w = uniformArray(sizeOf(s.w), base + 2);
  const bound = 1 / Math.sqrt(s.w[1] * s.w[2] * s.w[3]);
  for (let i = 0; i < w.length; i++) w[i] *= bound;
  const b = uniformArray(sizeOf(s.b), base + 3);
  for (let i = 0; i < b.length; i++) b[i] *= 0.1;
  return { x, w, b, dy };
}

/** The case's arrays back to back (x, w, b, dy; float32 little-endian), the file the PyTorch worker reads. */
export function convDataBytes(d: ConvData): Buffer {
  const parts = [d.x, d.w, d.b, d.dy].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  return Buffer.concat(parts);
}

/** An order-sensitive checksum of the data a contender used (float64): Σ v[i]·(i mod 7 + 1) over x, w, b, dy. */
export function convChecksum(d: ConvData): number {
  let s = 0;
  for (const a of [d.x, d.w, d.b, d.dy]) for (let i = 0; i < a.length; i++) s += a[i] * ((i % 7) + 1);
  return s;
}

/**
 * `count` positions in an array of `size` elements: the first, the last, and a fixed scatter
 * (multiplicative hashing, Knuth's 2654435761) in between. Deterministic, so every contender reads
 * the same positions.
 */
export function probePositions(size: number, count: number, salt: number): number[] {
  if (size <= count) return Array.from({ length: size }, (_, i) => i);
  const out = [0, size - 1];
  for (let k = 1; out.length < count; k++) out.push((k * 2654435761 + salt * 40503) % size);
  return out;
}

/** Values per array checked against the reference (bias gradient: all of it). */
export const PROBE_COUNT = 64;

/** The probe positions of a case: output and input gradient NCHW, weight gradient `[Cout, Cin/g, K, K]`. */
export function probeIndices(c: ConvCase): ConvProbeIndices {
  const s = convShapes(c);
  return {
    out: probePositions(sizeOf(s.y), PROBE_COUNT, 1),
    dx: probePositions(sizeOf(s.x), PROBE_COUNT, 2),
    dw: c.kind === 'conv2d' ? probePositions(sizeOf(s.w), PROBE_COUNT, 3) : [],
  };
}

/** Picks `idx` from a flat array, as plain numbers. */
export function pick(a: ArrayLike<number>, idx: readonly number[]): number[] {
  return idx.map((i) => a[i]);
}

/** The NHWC position of NCHW position `i` of an array of NCHW shape `[n, c, h, w]` (TF.js' layout). */
export function nhwcIndex(i: number, shape: readonly number[]): number {
  const [, C, H, W] = shape;
  const w = i % W;
  const h = Math.floor(i / W) % H;
  const c = Math.floor(i / (W * H)) % C;
  const n = Math.floor(i / (W * H * C));
  return ((n * H + h) * W + w) * C + c;
}

/**
 * The TF.js filter position of PyTorch weight position `i` (`[Cout, Cin/g, K, K]`): `conv2d`'s
 * filter is `[K, K, Cin, Cout]`, `depthwiseConv2d`'s `[K, K, C, 1]` (same formula with
 * `Cout` → `Cin/g`·... : for depthwise the `o` index runs over channels and the multiplier is 1).
 */
export function tfFilterIndex(i: number, c: ConvCase): number {
  const [O, I, KH, KW] = convShapes(c).w;
  const kw = i % KW;
  const kh = Math.floor(i / KW) % KH;
  const ci = Math.floor(i / (KW * KH)) % I;
  const o = Math.floor(i / (KW * KH * I));
  if (c.groups === 1) return ((kh * KW + kw) * I + ci) * O + o;
  if (c.groups === c.channels && O === c.channels) return (kh * KW + kw) * O + o;
  throw new Error(`TF.js filter layout: groups ${c.groups} other than 1 or depthwise is not supported`);
}

/**
 * float64 reference values of a case at its probe positions, computed directly from the
 * definitions (PyTorch's `F.conv2d` / `F.max_pool2d`, first maximum wins for the pool gradient).
 */
export function referenceProbe(c: ConvCase, d: ConvData, idx: ConvProbeIndices): ConvProbe {
  const [N, C, H, W] = [c.batch, c.channels, c.height, c.width];
  const [OH, OW] = convOutSize(c);
  const K = c.kernel;
  const s = c.stride;
  const p = c.padding;
  const xAt = (n: number, ch: number, h: number, w: number) =>
    h < 0 || h >= H || w < 0 || w >= W ? 0 : d.x[((n * C + ch) * H + h) * W + w];
  const unravel = (i: number, dims: readonly number[]) => {
    const out = new Array<number>(dims.length);
    for (let k = dims.length - 1; k >= 0; k--) {
      out[k] = i % dims[k];
      i = Math.floor(i / dims[k]);
    }
    return out;
  };
  if (c.kind === 'maxpool2d') {
    // first maximum of the window (row-major), as PyTorch
    const argmax = (n: number, ch: number, oh: number, ow: number): [number, number, number] => {
      let best = Number.NEGATIVE_INFINITY;
      let bh = -1;
      let bw = -1;
      for (let u = 0; u < K; u++)
        for (let v = 0; v < K; v++) {
          const h = oh * s - p + u;
          const w = ow * s - p + v;
          if (h < 0 || h >= H || w < 0 || w >= W) continue;
          const val = d.x[((n * C + ch) * H + h) * W + w];
          if (val > best) {
            best = val;
            bh = h;
            bw = w;
          }
        }
      return [best, bh, bw];
    };
    const out = idx.out.map((i) => {
      const [n, ch, oh, ow] = unravel(i, [N, C, OH, OW]);
      return argmax(n, ch, oh, ow)[0];
    });
    const dx = idx.dx.map((i) => {
      const [n, ch, h, w] = unravel(i, [N, C, H, W]);
      let g = 0;
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          if (h < oh * s - p || h >= oh * s - p + K || w < ow * s - p || w >= ow * s - p + K) continue;
          const [, bh, bw] = argmax(n, ch, oh, ow);
          if (bh === h && bw === w) g += d.dy[((n * C + ch) * OH + oh) * OW + ow];
        }
      return g;
    });
    return { out, dx, dw: [], db: [] };
  }
  const Co = c.outChannels;
  const G = c.groups;
  const Cg = C / G;
  const Og = Co / G;
  const wAt = (o: number, ci: number, u: number, v: number) => d.w[((o * Cg + ci) * K + u) * K + v];
  const dyAt = (n: number, o: number, oh: number, ow: number) => d.dy[((n * Co + o) * OH + oh) * OW + ow];
  const out = idx.out.map((i) => {
    const [n, o, oh, ow] = unravel(i, [N, Co, OH, OW]);
    const g = Math.floor(o / Og);
    let acc = d.b[o];
    for (let ci = 0; ci < Cg; ci++)
      for (let u = 0; u < K; u++)
        for (let v = 0; v < K; v++)
          acc += wAt(o, ci, u, v) * xAt(n, g * Cg + ci, oh * s - p + u, ow * s - p + v);
    return acc;
  });
  const dx = idx.dx.map((i) => {
    const [n, ch, h, w] = unravel(i, [N, C, H, W]);
    const g = Math.floor(ch / Cg);
    let acc = 0;
    for (let o = g * Og; o < (g + 1) * Og; o++)
      for (let u = 0; u < K; u++)
        for (let v = 0; v < K; v++) {
          const th = h + p - u;
          const tw = w + p - v;
          if (th % s !== 0 || tw % s !== 0) continue;
          const oh = th / s;
          const ow = tw / s;
          if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
          acc += wAt(o, ch - g * Cg, u, v) * dyAt(n, o, oh, ow);
        }
    return acc;
  });
  const dw = idx.dw.map((i) => {
    const [o, ci, u, v] = unravel(i, [Co, Cg, K, K]);
    const ch = Math.floor(o / Og) * Cg + ci;
    let acc = 0;
    for (let n = 0; n < N; n++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++)
          acc += xAt(n, ch, oh * s - p + u, ow * s - p + v) * dyAt(n, o, oh, ow);
    return acc;
  });
  const db = Array.from({ length: Co }, (_, o) => {
    let acc = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < OH * OW; k++) acc += d.dy[(n * Co + o) * OH * OW + k];
    return acc;
  });
  return { out, dx, dw, db };
}

/**
 * The float32 tolerance of the check: a value passes when
 * `|got - want| <= ATOL_REL * max|want| + RTOL * |want|` (max over the probed values of that array).
 * Sums of up to 50,000 float32 products (the weight gradient) in any order stay well inside it; a
 * wrong kernel (wrong padding, a missed group, a transposed filter) is off by O(max|want|).
 */
export const CONV_TOLERANCE = { rtol: 1e-3, atolRel: 1e-4 } as const;

/** The outcome of comparing one contender's probe with a reference probe. */
export interface ProbeComparison {
  readonly ok: boolean;
  /** Largest |got - want| / (ATOL_REL max|want| + RTOL |want|) over all probed values: <= 1 passes. */
  readonly worst: number;
  /** Where the worst value is, e.g. `dw[17]: 0.51 vs 0.49`. */
  readonly where: string;
}

/** Compares `got` with `want` array by array (out, dx, dw, db) under {@link CONV_TOLERANCE}. */
export function compareProbe(got: ConvProbe, want: ConvProbe): ProbeComparison {
  let worst = 0;
  let where = '';
  for (const key of ['out', 'dx', 'dw', 'db'] as const) {
    const g = got[key];
    const w = want[key];
    if (g.length !== w.length)
      return {
        ok: false,
        worst: Number.POSITIVE_INFINITY,
        where: `${key}: ${g.length} values, expected ${w.length}`,
      };
    const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
    for (let i = 0; i < w.length; i++) {
      const bound = CONV_TOLERANCE.atolRel * scale + CONV_TOLERANCE.rtol * Math.abs(w[i]);
      const e = Number.isFinite(g[i]) ? Math.abs(g[i] - w[i]) / bound : Number.POSITIVE_INFINITY;
      if (e > worst || Number.isNaN(e)) {
        worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : e;
        where = `${key}[${i}]: ${g[i]} vs ${w[i]}`;
      }
    }
  }
  return { ok: worst <= 1, worst, where };
}

/**
 * The reason a library cannot train a case, when `error` says a gradient kernel is missing
 * (TF.js: `Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'`, or `gradient function
 * not found` for an op without a registered gradient); null for any other
 * error, which is a failure, not a missing feature.
 */
export function cannotTrainReason(error: unknown): string | null {
  const msg = error instanceof Error ? error.message : String(error);
  return /not registered for backend|not (yet )?(implemented|supported)|gradient function not found/i.test(
    msg,
  )
    ? msg
    : null;
}

const isTiming = (t: unknown): t is Timing => {
  if (!t || typeof t !== 'object') return false;
  const o = t as Record<string, unknown>;
  return ['medianMs', 'minMs', 'maxMs'].every(
    (k) => typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) > 0,
  );
};
const isNumbers = (a: unknown): a is number[] => Array.isArray(a) && a.every((v) => typeof v === 'number');

/**
 * Validates the conv rows of a worker's result (the JSON of a JavaScript or Python worker):
 * every row names a known case, a trained row has positive finite timings and a probe, a row that
 * could not train says why. Returns the rows and a message per rejected row.
 */
export function parseConvRows(
  raw: unknown,
  contender: string,
  cases: readonly ConvCase[],
): { rows: ConvRow[]; errors: string[] } {
  const rows: ConvRow[] = [];
  const errors: string[] = [];
  if (raw === undefined) return { rows, errors };
  if (!Array.isArray(raw)) return { rows, errors: [`${contender}: conv rows are not a list`] };
  for (const r of raw as unknown[]) {
    const o = (r && typeof r === 'object' ? r : {}) as Record<string, unknown>;
    const name = typeof o.case === 'string' ? o.case : '?';
    const c = cases.find((x) => x.name === name);
    const bad = (why: string) => errors.push(`${contender} ${name}: ${why}`);
    if (!c) {
      bad('unknown case');
      continue;
    }
    if (o.contender !== contender) {
      bad(`row of another contender (${String(o.contender)})`);
      continue;
    }
    if (typeof o.error === 'string') {
      bad(o.error);
      continue;
    }
    const forward = o.forward === null || o.forward === undefined ? null : o.forward;
    if (forward !== null && !isTiming(forward)) {
      bad('malformed forward timing');
      continue;
    }
    const cannotTrain = typeof o.cannotTrain === 'string' ? o.cannotTrain : null;
    const checksum = typeof o.checksum === 'number' && Number.isFinite(o.checksum) ? o.checksum : null;
    if (checksum === null) {
      bad('no data checksum');
      continue;
    }
    const flops = convTrainFlops(c);
    if (cannotTrain !== null) {
      rows.push({
        contender,
        case: c.name,
        kind: c.kind,
        flops,
        forward,
        train: null,
        gflops: null,
        forwardGflops: forward && flops ? gflopsOf(flops / 3, forward.medianMs) : null,
        cannotTrain,
        probe: null,
        checksum,
      });
      continue;
    }
    if (!isTiming(o.train)) {
      bad('malformed fwd+bwd timing');
      continue;
    }
    const p = (o.probe ?? {}) as Record<string, unknown>;
    if (!isNumbers(p.out) || !isNumbers(p.dx) || !isNumbers(p.dw) || !isNumbers(p.db)) {
      bad('no probe values for the numeric check');
      continue;
    }
    rows.push({
      contender,
      case: c.name,
      kind: c.kind,
      flops,
      forward,
      train: o.train,
      gflops: flops ? gflopsOf(flops, o.train.medianMs) : null,
      forwardGflops: forward && flops ? gflopsOf(flops / 3, forward.medianMs) : null,
      cannotTrain: null,
      probe: { out: p.out, dx: p.dx, dw: p.dw, db: p.db },
      checksum,
    });
  }
  return { rows, errors };
}

/**
 * GFLOP/s of the two backward passes alone, derived: `2 F / (t_fwd+bwd - t_fwd)` with `F` the
 * FLOPs of one pass; null when the difference is not positive (noise) or a timing is missing.
 */
export function backwardGflops(r: ConvRow): number | null {
  if (!r.train || !r.forward || !r.flops) return null;
  const dt = r.train.medianMs - r.forward.medianMs;
  return dt > 0 ? gflopsOf((2 * r.flops) / 3, dt) : null;
}
