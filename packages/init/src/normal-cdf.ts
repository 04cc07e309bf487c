// Internal float64 helpers for the normal distribution (not exported from the barrel): the
// density, the CDF (through erfc), the quantile (Acklam's rational approximation refined by one
// Halley step with that CDF) and the moments of a truncated normal. Checked against Python's
// math.erfc and statistics.NormalDist in normal-cdf.test.ts.

const SQRT_2PI = 2.5066282746310002;

/** Standard normal density phi(x); 0 at +-Infinity. */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT_2PI;
}

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * erfc(t) for t >= 0: 1 - erf(t) from the positive-term series
 * erf(t) = 2/sqrt(pi) e^(-t^2) sum_n (2t^2)^n t / (2n+1)!! below t = 2.5, and Laplace's continued
 * fraction erfc(t) = e^(-t^2)/sqrt(pi) / (t + (1/2)/(t + 1/(t + (3/2)/(t + ...)))) (modified Lentz)
 * above it. Relative error below 1e-13 (checked against Python's math.erfc).
 */
function erfcNonNegative(t: number): number {
  if (t < 2.5) {
    const t2 = 2 * t * t;
    let term = t;
    let sum = t;
    for (let n = 1; n < 200 && term > sum * 1e-17; n++) {
      term *= t2 / (2 * n + 1);
      sum += term;
    }
    return 1 - TWO_OVER_SQRT_PI * Math.exp(-t * t) * sum;
  }
  // f = t + K_{k>=1} (k/2) / t, evaluated by the modified Lentz algorithm.
  const tiny = 1e-300;
  let f = t;
  let c = t;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = t + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = t + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-t * t) / (f * Math.sqrt(Math.PI));
}

/**
 * Standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2, with relative accuracy near double precision
 * in the lower tail (and absolute accuracy near double precision everywhere).
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Number.NEGATIVE_INFINITY) return 0;
  if (x === Number.POSITIVE_INFINITY) return 1;
  const c = 0.5 * erfcNonNegative(Math.abs(x) / Math.SQRT2);
  return x > 0 ? 1 - c : c;
}

const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
];
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

/** Phi^-1(p) for 0 < p <= 0.5 (x <= 0). */
function lowerQuantile(p: number): number {
  let x: number;
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) /
      ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) /
      (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
  }
  // One Halley step on Phi(x) - p (while e^(x^2/2) stays finite).
  if (x > -37.5) {
    const u = (normalCdf(x) - p) * SQRT_2PI * Math.exp(0.5 * x * x);
    x -= u / (1 + 0.5 * x * u);
  }
  return x;
}

/**
 * Standard normal quantile Phi^-1(p) for p in [0, 1] (-Infinity at 0, Infinity at 1): Acklam's
 * rational approximation (relative error 1.15e-9) refined by one Halley step, computed in the
 * lower tail (Phi^-1(p) = -Phi^-1(1 - p) above 1/2).
 *
 * @see P. J. Acklam, "An algorithm for computing the inverse normal cumulative distribution
 *   function" (2003).
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  return p > 0.5 ? -lowerQuantile(1 - p) : lowerQuantile(p);
}

/** Mean and variance of N(mean, std^2) truncated to [a, b] (bounds may be infinite). */
export interface TruncatedMoments {
  readonly mean: number;
  readonly variance: number;
}

/**
 * Moments of the truncated normal: with alpha = (a - mean) / std, beta = (b - mean) / std and
 * Z = Phi(beta) - Phi(alpha),
 * `E = mean + std (phi(alpha) - phi(beta)) / Z` and
 * `Var = std^2 [1 + (alpha phi(alpha) - beta phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z)^2]`.
 */
export function truncatedNormalMoments(mean: number, std: number, a: number, b: number): TruncatedMoments {
  const al = (a - mean) / std;
  const be = (b - mean) / std;
  // Z from the tail that keeps precision: the interval reflected to the lower side if needed.
  const z = al + be > 0 ? normalCdf(-al) - normalCdf(-be) : normalCdf(be) - normalCdf(al);
  const xphi = (x: number) => (Number.isFinite(x) ? x * normalPdf(x) : 0);
  const d = (normalPdf(al) - normalPdf(be)) / z;
  return {
    mean: mean + std * d,
    variance: std * std * (1 + (xphi(al) - xphi(be)) / z - d * d),
  };
}

/**
 * The standard deviation of N(0, 1) truncated to [-2, 2]: 0.8796256610342398. Keras divides its
 * truncated-normal standard deviations by it (written there as 0.87962566103423978) so that the
 * truncated draws have the intended variance.
 */
export const TRUNCATED_STD_AT_2 = Math.sqrt(truncatedNormalMoments(0, 1, -2, 2).variance);
