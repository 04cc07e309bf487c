import { formatShape, Rng, ValueError } from '@gradkit/kernels';
import { noGrad } from './grad-mode.js';
import { scope } from './scope.js';
import { Tensor } from './tensor.js';

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-2: float32 central differences need 1e-3 to 1e-2). */
  readonly eps?: number;
  /** Absolute tolerance (default 1e-3). */
  readonly atol?: number;
  /** Relative tolerance (default 1e-2). */
  readonly rtol?: number;
  /** Seed of the random output cotangent (default 0). */
  readonly seed?: number;
}

/** The comparison for one input of {@link gradcheck}. */
export interface GradcheckInputReport {
  /** Position in the `inputs` list. */
  readonly index: number;
  /** The input's shape. */
  readonly shape: readonly number[];
  /** False for an input that does not require grad (not checked). */
  readonly checked: boolean;
  /** Largest `|analytic - numeric|`. */
  readonly maxAbsError: number;
  /** Largest `|analytic - numeric| / max(|analytic|, |numeric|)` (0 where both are 0). */
  readonly maxRelError: number;
  /** The element furthest outside the tolerance (or closest to it), or null when not checked. */
  readonly worst: {
    /** The flat (row-major) index of the element. */
    readonly index: number;
    /** Its backward-pass gradient. */
    readonly analytic: number;
    /** Its central-difference estimate. */
    readonly numeric: number;
  } | null;
  /** Backward-pass gradient of `sum(fn(...) * r)` with respect to this input. */
  readonly analytic: Float64Array;
  /** Central-difference estimate of the same. */
  readonly numeric: Float64Array;
  /** Whether every element satisfies `|analytic - numeric| <= atol + rtol |numeric|`. */
  readonly ok: boolean;
}

/** The result of {@link gradcheck}. */
export interface GradcheckReport {
  /** True when every checked input passes. */
  readonly ok: boolean;
  /** The finite-difference step used. */
  readonly eps: number;
  /** The absolute tolerance used. */
  readonly atol: number;
  /** The relative tolerance used. */
  readonly rtol: number;
  /** The shape of `fn`'s output. */
  readonly outputShape: readonly number[];
  /** One entry per input. */
  readonly inputs: readonly GradcheckInputReport[];
  /** A readable multi-line summary (put it in a test's failure message). */
  readonly message: string;
}

/**
 * Checks the gradients of `fn` against central finite differences. With a fixed random cotangent
 * `r` (uniform in [-1, 1), from `seed`) and `L(inputs) = sum(fn(inputs) * r)` accumulated in
 * float64, it compares, for every element of every input that requires grad:
 *
 * - analytic: the gradient `backward(r)` puts in `.grad` (the vector-Jacobian product `J^T r`);
 * - numeric: `(L(x + eps e_i) - L(x - eps e_i)) / h`, with h the actual float32 distance between
 *   the two perturbed values;
 *
 * and passes when `|analytic - numeric| <= atol + rtol |numeric|` everywhere. Defaults (for float32):
 * eps = 1e-2, atol = 1e-3, rtol = 1e-2. Keep inputs more than eps away from kinks (relu at 0,
 * abs at 0, ties of max). The inputs' `.grad` is restored afterwards and every tensor `fn`
 * creates is disposed. Costs two evaluations of `fn` and one read-back per input element.
 *
 * @returns a report with the maximum absolute and relative error per input.
 * @throws {ValueError} when no input requires grad or `fn` does not return a Tensor.
 * @example
 * ```ts
 * const x = tensor([0.5, 1.5], undefined, { requiresGrad: true });
 * const report = gradcheck((a) => a.exp().sum(), [x]);
 * report.ok; // true
 * report.inputs[0].maxAbsError; // ~1e-5
 * ```
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  const op = 'gradcheck';
  const { eps = 1e-2, atol = 1e-3, rtol = 1e-2, seed = 0 } = options;
  if (!(eps > 0)) throw new ValueError(op, `eps must be positive, got ${eps}`);
  if (!(atol >= 0) || !(rtol >= 0)) throw new ValueError(op, 'atol and rtol must be non-negative');
  for (const t of inputs) {
    if (!(t instanceof Tensor)) throw new ValueError(op, 'every input must be a Tensor');
    t._arrayFor(op);
  }
  if (!inputs.some((t) => t.requiresGrad)) throw new ValueError(op, 'no input requires grad');

  const savedGrads = inputs.map((t) => t._grad);
  for (const t of inputs) t._grad = null;
  let outputShape: readonly number[] = [];
  let r: Float32Array = new Float32Array(0);
  const call = (): Tensor => {
    const out = fn(...inputs);
    if (!(out instanceof Tensor)) throw new ValueError(op, 'fn must return a Tensor');
    return out;
  };
  try {
    // Analytic: J^T r from one backward pass.
    const analytic = scope(() => {
      const out = call();
      outputShape = out.shape;
      const rng = new Rng(seed);
      r = rng.fillUniform(new Float32Array(out.size), -1, 1);
      if (out.requiresGrad) out.backward(new Tensor(out.device.array(r, out.shape)));
      return inputs.map((t) => (t._grad ? Float64Array.from(t._grad.dataSync()) : new Float64Array(t.size)));
    });
    for (const t of inputs) {
      t._grad?.dispose();
      t._grad = null;
    }

    const evaluate = (): number =>
      noGrad(() =>
        scope(() => {
          const v = call().dataSync();
          let s = 0;
          for (let i = 0; i < v.length; i++) s += v[i] * r[i];
          return s;
        }),
      );

    const reports: GradcheckInputReport[] = inputs.map((t, index) => {
      const a = analytic[index];
      const numeric = new Float64Array(t.size);
      if (!t.requiresGrad) {
        return {
          index,
          shape: t.shape,
          checked: false,
          maxAbsError: 0,
          maxRelError: 0,
          worst: null,
          analytic: a,
          numeric,
          ok: true,
        };
      }
      const base = t.dataSync();
      const original = t._arrayFor(op);
      try {
        for (let j = 0; j < t.size; j++) {
          const vals = Float32Array.from(base);
          vals[j] = base[j] + eps;
          const hi = vals[j];
          t._array = t.device.array(vals, t.shape);
          const lp = evaluate();
          t._array.dispose();
          vals[j] = base[j] - eps;
          const lo = vals[j];
          t._array = t.device.array(vals, t.shape);
          const lm = evaluate();
          t._array.dispose();
          t._array = original;
          numeric[j] = (lp - lm) / (hi - lo);
        }
      } finally {
        if (t._array !== original) {
          t._array?.dispose();
          t._array = original;
        }
      }
      let maxAbsError = 0;
      let maxRelError = 0;
      let worstMargin = Number.NEGATIVE_INFINITY;
      let worst = { index: 0, analytic: a[0] ?? 0, numeric: numeric[0] ?? 0 };
      let ok = true;
      for (let j = 0; j < t.size; j++) {
        const err = Math.abs(a[j] - numeric[j]);
        const scale = Math.max(Math.abs(a[j]), Math.abs(numeric[j]));
        const rel = scale === 0 ? 0 : err / scale;
        if (!(err <= atol + rtol * Math.abs(numeric[j]))) ok = false;
        maxAbsError = Math.max(maxAbsError, Number.isNaN(err) ? Number.POSITIVE_INFINITY : err);
        maxRelError = Math.max(maxRelError, Number.isNaN(rel) ? Number.POSITIVE_INFINITY : rel);
        const margin = Number.isNaN(err)
          ? Number.POSITIVE_INFINITY
          : err - (atol + rtol * Math.abs(numeric[j]));
        if (margin > worstMargin) {
          worstMargin = margin;
          worst = { index: j, analytic: a[j], numeric: numeric[j] };
        }
      }
      return {
        index,
        shape: t.shape,
        checked: true,
        maxAbsError,
        maxRelError,
        worst,
        analytic: a,
        numeric,
        ok,
      };
    });

    const ok = reports.every((x) => x.ok);
    const lines = [
      `gradcheck ${ok ? 'passed' : 'FAILED'} (eps ${eps}, atol ${atol}, rtol ${rtol}, output ${formatShape(outputShape)})`,
    ];
    for (const x of reports) {
      if (!x.checked) {
        lines.push(`  input ${x.index} ${formatShape(x.shape)}: not checked (requiresGrad false)`);
        continue;
      }
      const w = x.worst!;
      lines.push(
        `  input ${x.index} ${formatShape(x.shape)}: ${x.ok ? 'ok' : 'FAILED'}, max abs error ${x.maxAbsError.toExponential(2)}, ` +
          `max rel error ${x.maxRelError.toExponential(2)}; worst element ${w.index}: analytic ${w.analytic}, numeric ${w.numeric}`,
      );
    }
    return { ok, eps, atol, rtol, outputShape, inputs: reports, message: lines.join('\n') };
  } finally {
    inputs.forEach((t, i) => {
      if (t._grad !== savedGrads[i]) t._grad?.dispose();
      t._grad = savedGrads[i];
    });
  }
}
