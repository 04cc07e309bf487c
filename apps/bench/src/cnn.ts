// The cnn workload (issue 12): one epoch of LeNet-5 on MNIST images. The architecture, the
// starting weights every contender's check (and gradkit's and TF.js' epoch) uses, their TF.js
// layouts, the validation of a worker's row and the numeric check of the rows.
import { mulberry32 } from './data.js';
import { fmt } from './stats.js';
import type { CnnArchitecture, CnnCannotTrain, CnnCheck, CnnRow, MnistRow } from './types.js';

/**
 * LeNet-5 as `gradkit train --model lenet5` builds it (apps/cli/src/build.ts, default flags: no
 * normalization, no dropout, ReLU): conv 5x5 1 -> 6 pad 2, ReLU, max-pool 2x2, conv 5x5 6 -> 16,
 * ReLU, max-pool 2x2, flatten (16x5x5 = 400), linear 400 -> 120, ReLU, linear 120 -> 84, ReLU,
 * linear 84 -> 10 (logits; softmax cross-entropy). 61,706 parameters.
 */
export const LENET5: CnnArchitecture = {
  input: [1, 28, 28],
  convs: [
    { out: 6, kernel: 5, padding: 2 },
    { out: 16, kernel: 5, padding: 0 },
  ],
  dense: [120, 84],
  classes: 10,
};

/** One parameter of LeNet-5 in PyTorch's layout (conv `[out, in, K, K]`, linear `[out, in]`). */
export interface LenetParam {
  readonly name: string;
  readonly shape: readonly number[];
  /** Glorot fans (Keras' for convolutions: `in·K·K` and `out·K·K`); 0 for biases. */
  readonly fanIn: number;
  readonly fanOut: number;
}

/** The parameters of LeNet-5 in model order (weight, bias per layer) and the flattened feature shape. */
export function lenetParams(): { params: LenetParam[]; features: [number, number, number] } {
  const params: LenetParam[] = [];
  let [c, h, w] = LENET5.input;
  LENET5.convs.forEach((b, i) => {
    const k = b.kernel;
    params.push({
      name: `conv${i + 1}.weight`,
      shape: [b.out, c, k, k],
      fanIn: c * k * k,
      fanOut: b.out * k * k,
    });
    params.push({ name: `conv${i + 1}.bias`, shape: [b.out], fanIn: 0, fanOut: 0 });
    c = b.out;
    h = Math.floor((h + 2 * b.padding - k + 1) / 2);
    w = Math.floor((w + 2 * b.padding - k + 1) / 2);
  });
  let width = c * h * w;
  [...LENET5.dense, LENET5.classes].forEach((units, i) => {
    params.push({ name: `fc${i + 1}.weight`, shape: [units, width], fanIn: width, fanOut: units });
    params.push({ name: `fc${i + 1}.bias`, shape: [units], fanIn: 0, fanOut: 0 });
    width = units;
  });
  return { params, features: [c, h, w] };
}

/** The architecture in one line (tables, configs). */
export function describeLenet(): string {
  const parts: string[] = [];
  let c = LENET5.input[0];
  for (const b of LENET5.convs) {
    parts.push(
      `conv${b.kernel}x${b.kernel} ${c}->${b.out}${b.padding ? ` pad ${b.padding}` : ''}, ReLU, maxpool 2x2`,
    );
    c = b.out;
  }
  const { features } = lenetParams();
  let width = features[0] * features[1] * features[2];
  parts.push(`flatten ${width}`);
  for (const units of LENET5.dense) {
    parts.push(`linear ${width}->${units}, ReLU`);
    width = units;
  }
  parts.push(`linear ${width}->${LENET5.classes}`);
  return `LeNet-5 (${parts.join(', ')})`;
}

/**
 * The starting weights of the check (every contender) and of gradkit's and TF.js' epochs:
 * Glorot-uniform weights U(±√(6 / (fanIn + fanOut))) with Keras' fans (the TF.js default for
 * conv and dense kernels), drawn from mulberry32(seed) parameter by parameter in PyTorch's layouts,
 * and zero biases. One Float32Array per parameter of {@link lenetParams}.
 */
export function lenetInitialWeights(seed: number): Float32Array[] {
  const rand = mulberry32(seed);
  return lenetParams().params.map((p) => {
    const size = p.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(size);
    if (p.fanIn > 0) {
      const limit = Math.sqrt(6 / (p.fanIn + p.fanOut));
      for (let i = 0; i < size; i++) a[i] = (2 * rand() - 1) * limit;
    }
    return a;
  });
}

/** The weights as one little-endian float32 file (for PyTorch), parameters in model order. */
export function lenetWeightsBytes(ws: readonly Float32Array[]): Buffer {
  const all = new Float32Array(ws.reduce((a, w) => a + w.length, 0));
  let at = 0;
  for (const w of ws) {
    all.set(w, at);
    at += w.length;
  }
  return Buffer.from(all.buffer);
}

/** A PyTorch conv weight `[O, I, K, K]` as a TF.js conv2d kernel `[K, K, I, O]`. */
export function tfConvKernel(w: Float32Array, [O, I, KH, KW]: readonly number[]): Float32Array {
  const t = new Float32Array(w.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let kh = 0; kh < KH; kh++)
        for (let kw = 0; kw < KW; kw++)
          t[((kh * KW + kw) * I + i) * O + o] = w[((o * I + i) * KH + kh) * KW + kw];
  return t;
}

/**
 * A PyTorch linear weight `[out, C·H·W]` that reads NCHW-flattened features as a TF.js dense
 * kernel `[H·W·C, out]` that reads NHWC-flattened features (TF.js' layout): the same function.
 */
export function tfDenseKernel(
  w: Float32Array,
  out: number,
  [C, H, W]: readonly [number, number, number] = [w.length / out, 1, 1],
): Float32Array {
  const n = C * H * W;
  const t = new Float32Array(w.length);
  for (let o = 0; o < out; o++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let x = 0; x < W; x++) t[((h * W + x) * C + c) * out + o] = w[o * n + (c * H + h) * W + x];
  return t;
}

/** The starting weights in tfjs-layers' `getWeights()` order and layouts (kernel, bias per layer). */
export function tfLenetWeights(ws: readonly Float32Array[]): { shape: number[]; values: Float32Array }[] {
  const { params, features } = lenetParams();
  const out: { shape: number[]; values: Float32Array }[] = [];
  const convs = LENET5.convs.length;
  params.forEach((p, i) => {
    const layer = i >> 1;
    if (i % 2 === 1) out.push({ shape: [...p.shape], values: ws[i] });
    else if (layer < convs) {
      const [o, c, kh, kw] = p.shape;
      out.push({ shape: [kh, kw, c, o], values: tfConvKernel(ws[i], p.shape) });
    } else {
      const [units, width] = p.shape;
      out.push({
        shape: [width, units],
        values: tfDenseKernel(ws[i], units, layer === convs ? features : [width, 1, 1]),
      });
    }
  });
  return out;
}

/**
 * Tolerances of the check (float32 throughout; see {@link verifyCnnRows}): the loss of the shared
 * starting weights on the first batch, and the loss on that batch after one Adam step from them,
 * `|got - want| <= tol · max(1, |want|)`. The first is a forward pass; the second adds the gradients and Adam's first step, which moves every weight by
 * about ±lr whatever the gradient's size, so rounding in tiny gradients shows more. Measured: gradkit (every backend), TF.js and
 * PyTorch within 3e-7 of each other on both, at batch 32 and 128 (about 0.01 of these).
 */
export const CNN_CHECK_TOLERANCE = { before: 1e-5, after: 1e-4 } as const;

/** The contenders the check compares with, first available first. */
export const CNN_REFERENCES = ['torch-cpu', 'tfjs-cpu', 'gradkit-cpu'] as const;

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * The numeric check of the cnn rows. Every contender computes, untimed, from the shared starting
 * weights ({@link lenetInitialWeights}) on the first batch of the shared order: the loss
 * (`lossBefore`) and, after one Adam step on that batch, the loss on it again (`lossAfter`). A row
 * passes when its timed epoch's losses were all finite, both check losses are finite, one step
 * lowered the loss, and both agree with the reference (the first of {@link CNN_REFERENCES} whose
 * values are finite) within {@link CNN_CHECK_TOLERANCE}. A contender that cannot train is compared
 * on `lossBefore` (its forward) only. Fills in `check` on every row; returns the notes.
 */
export function verifyCnnRows(rows: CnnRow[], cannot: readonly CnnCannotTrain[] = []): string[] {
  const notes: string[] = [];
  const usable = (r: CnnRow) => finite(r.lossBefore) && finite(r.lossAfter);
  const ref = CNN_REFERENCES.map((id) => rows.find((r) => r.contender === id && usable(r))).find(
    (r) => r !== undefined,
  );
  const off = (got: number, want: number, tol: number) =>
    Math.abs(got - want) / (tol * Math.max(1, Math.abs(want)));
  for (const r of rows) {
    const problems: string[] = [];
    if (!r.lossesFinite) problems.push('a training loss of the epoch was not finite');
    if (!usable(r)) problems.push(`check losses not finite (before ${r.lossBefore}, after ${r.lossAfter})`);
    else if (!(r.lossAfter! < r.lossBefore!))
      problems.push(`one Adam step did not lower the loss (${r.lossBefore} -> ${r.lossAfter})`);
    let worst = 0;
    if (ref && ref !== r && usable(r)) {
      const b = off(r.lossBefore!, ref.lossBefore!, CNN_CHECK_TOLERANCE.before);
      const a = off(r.lossAfter!, ref.lossAfter!, CNN_CHECK_TOLERANCE.after);
      worst = Math.max(b, a);
      if (b > 1) problems.push(`loss before the step ${r.lossBefore} vs ${ref.contender} ${ref.lossBefore}`);
      if (a > 1) problems.push(`loss after one step ${r.lossAfter} vs ${ref.contender} ${ref.lossAfter}`);
    }
    const check: CnnCheck = {
      ok: problems.length === 0,
      reference: ref ? ref.contender : null,
      worst,
      problems,
    };
    r.check = check;
    if (!check.ok)
      notes.push(`WRONG: ${r.contender} cnn: ${problems.join('; ')}: excluded from ratios and targets`);
  }
  for (const c of cannot) {
    if (ref && finite(c.lossBefore) && off(c.lossBefore, ref.lossBefore!, CNN_CHECK_TOLERANCE.before) > 1)
      notes.push(
        `${c.contender} cnn: its forward disagrees with ${ref.contender} (loss ${c.lossBefore} vs ${ref.lossBefore})`,
      );
  }
  if (rows.length && rows.every((r) => r.check?.ok))
    notes.push(
      `cnn check: all ${rows.length} contenders agree with ${ref?.contender ?? 'no reference'} on the shared starting weights' loss on the first batch before and after one Adam step (worst ${fmt(Math.max(...rows.map((r) => r.check!.worst)), 2)} of the tolerance)`,
    );
  return notes;
}

const isTimingLike = (t: unknown): boolean => {
  if (!t || typeof t !== 'object') return false;
  const o = t as Record<string, unknown>;
  return ['medianMs', 'minMs', 'maxMs'].every((k) => finite(o[k]) && (o[k] as number) >= 0);
};

/**
 * Validates the cnn part of a worker's result (the JSON of a JavaScript or Python worker): a
 * trained row (an epoch row with the check losses), or a "cannot train" record with the library's
 * error. Returns exactly one of `row`, `cannotTrain`, `error`, or nothing when the worker sent none.
 */
export function parseCnnResult(
  raw: unknown,
  contender: string,
): { row?: CnnRow; cannotTrain?: CnnCannotTrain; error?: string } {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    return { error: `${contender}: cnn result is not an object` };
  const o = raw as Record<string, unknown>;
  if (o.contender !== contender)
    return { error: `${contender}: cnn row of another contender (${String(o.contender)})` };
  const config = typeof o.config === 'string' ? o.config : '';
  const num = (k: string) => (finite(o[k]) ? (o[k] as number) : null);
  if (typeof o.cannotTrain === 'string')
    return { cannotTrain: { contender, error: o.cannotTrain, lossBefore: num('lossBefore'), config } };
  const need = [
    'trainSamples',
    'requestedSamples',
    'seconds',
    'samplesPerSecond',
    'testAccuracy',
    'testSamples',
  ];
  const missing = need.filter((k) => num(k) === null);
  if (missing.length) return { error: `${contender}: cnn row without ${missing.join(', ')}` };
  if (!(num('seconds')! > 0) || !(num('trainSamples')! > 0))
    return { error: `${contender}: cnn row trained nothing` };
  if (!isTimingLike(o.step)) return { error: `${contender}: cnn row without step timings` };
  if (typeof o.lossesFinite !== 'boolean') return { error: `${contender}: cnn row without lossesFinite` };
  const { check: _drop, ...rest } = o as unknown as CnnRow;
  const row: CnnRow = {
    ...(rest as MnistRow),
    partial: num('trainSamples')! < num('requestedSamples')!,
    lastLoss: finite(o.lastLoss) ? o.lastLoss : null,
    cpuSeconds: num('cpuSeconds') ?? 0,
    dataRssMiB: num('dataRssMiB') ?? 0,
    peakRssMiB: num('peakRssMiB') ?? 0,
    checksum: num('checksum') ?? Number.NaN,
    config,
    lossBefore: num('lossBefore'),
    lossAfter: num('lossAfter'),
    lossesFinite: o.lossesFinite,
  };
  return { row };
}
