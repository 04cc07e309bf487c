// Float64 reference implementations for the kernel tests, written independently of the kernels.

/** erf in float64: Taylor series below 2.5, Laplace continued fraction for erfc above. */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/** Deterministic pseudo-random test data in [lo, hi). */
export function testData(n: number, seed: number, lo = -3, hi = 3): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

export function stridesOf64(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Broadcasts `x` (shape `xs`) to `out` by explicit multi-index arithmetic. */
export function broadcastTo64(x: ArrayLike<number>, xs: readonly number[], out: readonly number[]): number[] {
  const n = out.reduce((p, d) => p * d, 1);
  const os = stridesOf64(out);
  const pad = [...new Array(out.length - xs.length).fill(1), ...xs];
  const ps = stridesOf64(pad);
  const res: number[] = [];
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let d = 0; d < out.length; d++) {
      const c = Math.floor(i / os[d]) % out[d];
      off += (pad[d] === 1 ? 0 : c) * ps[d];
    }
    res.push(x[off]);
  }
  return res;
}

/** Asserts |got - want| <= atol + rtol |want| element-wise; NaN must match NaN. */
export function closeTo(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
): string | null {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w)) {
      if (!Number.isNaN(g)) return `[${i}]: got ${g}, want NaN`;
      continue;
    }
    if (!Number.isFinite(w)) {
      if (g !== w) return `[${i}]: got ${g}, want ${w}`;
      continue;
    }
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w)))
      return `[${i}]: got ${g}, want ${w} (atol ${atol}, rtol ${rtol})`;
  }
  return null;
}
