// Portable GLSL for the `Math` functions whose GLSL built-ins are not to be trusted (issue 16):
// GLSL ES leaves exp/log/pow of special values undefined (NaN handling, log(0), pow(0, y)) and
// gives no precision for the trigonometric built-ins, and GPUs differ (SwiftShader: exp(NaN) = inf,
// log(0) = -88.03, sin off by 1.4e-4 on [-6, 6]; pow(0, y > 0) = 2.2e-5). The gl backend emits
// these functions instead, in its own shaders (./packed-sources.ts) and, through `portableGpuJs`,
// in every gpu.js kernel, so both paths run the same GLSL (fused and unfused results stay equal).
// The other transcendental functions of the kernel language (expm1, log1p, log10, cbrt, the
// hyperbolic and inverse trigonometric functions, atan2) are here too: gpu.js's helpers for them
// are wrong (tanh = (e - 1)/(e + 1), e = exp(2x), is NaN above 44; expm1 = pow(e, x) - 1 has no
// precision near 0) and GLSL's asin/acos/atan have no stated precision.
//
// Everything is float32 arithmetic on normal numbers (GPUs flush subnormals): Cephes' expf/logf
// polynomials after an exact Cody–Waite reduction, sin/cos/tan on [-pi/4, pi/4] after a Cody–Waite
// reduction by pi/2 in five pieces (the first four of 9 bits, exact for |x| < 2^15) and a
// Payne–Hanek reduction with 11-bit digits of 2/pi above (exact integer float arithmetic), so the
// trigonometric functions stay accurate over the whole float range. NaN, infinities and the other
// special values are tested first and produced at run time from the uniform `gk_zero` (always 0),
// which no compiler can fold.
/** A float uniform that always holds 0.0: `gk_zero / gk_zero` is a NaN no compiler folds away. */
export const ZERO_UNIFORM = 'gk_zero';

const Z = ZERO_UNIFORM;
const NAN = `(${Z} / ${Z})`;
const INF = `(1.0 / ${Z})`;
const FLT_MAX = '3.4028234663852886e38';

/** A power of two as a GLSL literal. */
const p2 = (k: number): string => {
  const s = String(2 ** k);
  return /[.eE]/.test(s) ? s : `${s}.0`;
};

/** `2^n` for an integer `|n| <= 127`, exactly (the product of its binary digits' powers). */
const POW2I = `float gk_pow2i(float n) {
  float a = abs(n);
  float b = n < 0.0 ? 0.5 : 2.0;
  float p = 1.0;
  for (int i = 0; i < 7; i++) {
    float h = floor(a * 0.5);
    if (a - 2.0 * h > 0.5) p *= b;
    b *= b;
    a = h;
  }
  return p;
}`;

/** `x = m 2^e`, `m` in [1, 2), for a positive normal finite `x` (exact: scalings by powers of two). */
const SPLIT = (() => {
  const steps = [64, 32, 16, 8, 4, 2, 1];
  return [
    'void gk_split(float x, out float m, out float e) {',
    '  m = x;',
    '  e = 0.0;',
    '  if (m >= 1.0) {',
    ...steps.map((k) => `    if (m >= ${p2(k)}) { m *= ${p2(-k)}; e += ${k}.0; }`),
    '  } else {',
    ...steps.map((k) => `    if (m < ${p2(-k)}) { m *= ${p2(k)}; e -= ${k}.0; }`),
    '    m *= 2.0;',
    '    e -= 1.0;',
    '  }',
    '}',
  ].join('\n');
})();

/** Cephes expf: n = round(x / ln 2), r = x - n ln 2 (ln 2 in two parts), exp(r) by a degree-6 polynomial, times 2^n. */
const EXP = `float gk_exp(float x) {
  if (x != x) return x;
  if (x >= 88.72283935546875) return ${INF};
  if (x < -87.5) return 0.0;
  float n = floor(x * 1.4426950408889634 + 0.5);
  float r = x - n * 0.693359375;
  r = r + n * 2.12194440e-4;
  float z = r * r;
  float y = (((((1.9875691500e-4 * r + 1.3981999507e-3) * r + 8.3334519073e-3) * r + 4.1665795894e-2) * r + 1.6666665459e-1) * r + 5.0000001201e-1) * z + r + 1.0;
  float h = floor(n * 0.5);
  return y * gk_pow2i(h) * gk_pow2i(n - h);
}`;

/**
 * Cephes logf's core for a positive normal finite `x`: `x = (1 + f) 2^e` with `1 + f` in
 * [sqrt(1/2), sqrt(2)); returns log(1 + f) without the `e` terms, `e` through `e`.
 */
const LOGPARTS = `float gk_logparts(float x, out float e) {
  float m;
  gk_split(x, m, e);
  if (m > 1.4142135623730951) { m *= 0.5; e += 1.0; }
  return gk_logpoly(m - 1.0);
}`;

/** Cephes logf's polynomial: log(1 + m) for m in [sqrt(1/2) - 1, sqrt(2) - 1]. */
const LOGPOLY = `float gk_logpoly(float m) {
  float z = m * m;
  float y = ((((((((7.0376836292e-2 * m - 1.1514610310e-1) * m + 1.1676998740e-1) * m - 1.2420140846e-1) * m + 1.4249322787e-1) * m - 1.6668057665e-1) * m + 2.0000714765e-1) * m - 2.4999993993e-1) * m + 3.3333331174e-1) * m * z;
  return m + (y - 0.5 * z);
}`;

/** The special cases every logarithm shares: NaN, negative, zero, +inf. */
const LOG_SPECIALS = [
  '  if (x != x) return x;',
  `  if (x < 0.0) return ${NAN};`,
  `  if (x == 0.0) return -${INF};`,
  `  if (x > ${FLT_MAX}) return x;`,
  '  float e;',
  '  float f = gk_logparts(x, e);',
].join('\n');

/** log(x) = f + e ln 2, ln 2 in two parts (the small one first). */
const LOG = `float gk_log(float x) {
${LOG_SPECIALS}
  return (f + e * -2.12194440e-4) + e * 0.693359375;
}`;

/** log2(x) = f log2(e) + e (exact at powers of two). */
const LOG2 = `float gk_log2(float x) {
${LOG_SPECIALS}
  return f * 1.4426950408889634 + e;
}`;

/**
 * JavaScript's Math.pow: y = 0 gives 1 (even for NaN), NaN otherwise propagates, (±1)^±inf is
 * NaN, zero and infinite bases by the sign and parity of y, a negative finite base with a
 * non-integer exponent NaN, else exp(y log |x|) with the sign of an odd integer power.
 */
const POW = `float gk_pow(float x, float y) {
  if (y == 0.0) return 1.0;
  if (x != x || y != y) return x + y;
  float ax = abs(x);
  if (abs(y) > ${FLT_MAX}) {
    if (ax == 1.0) return ${NAN};
    return (ax > 1.0) == (y > 0.0) ? ${INF} : 0.0;
  }
  bool yint = floor(y) == y;
  bool yodd = yint && floor(y * 0.5) * 2.0 != y;
  if (x == 0.0) {
    if (y > 0.0) return yodd ? x : 0.0;
    return yodd ? 1.0 / x : ${INF};
  }
  if (ax > ${FLT_MAX}) {
    float t = y > 0.0 ? ax : 0.0;
    return (x < 0.0 && yodd) ? -t : t;
  }
  if (x < 0.0 && !yint) return ${NAN};
  float r = gk_exp(y * gk_log(ax));
  return (x < 0.0 && yodd) ? -r : r;
}`;

/** pi/2 in five pieces: four of at most 9 significant bits (n p exact for n < 2^15), the rest. */
const HALF_PI_PIECES = [
  '1.5703125',
  '0.00048065185546875',
  '0.0000031739473342895508',
  '9.89530235528946e-10',
  '2.5633440682570896e-12',
];

/** 2/pi in base 2^11: 2/pi = sum_k TWO_OVER_PI[k] 2^(-11 (k + 1)). */
const TWO_OVER_PI = [
  1303, 1632, 1756, 1252, 522, 1191, 1924, 1879, 1679, 1357, 443, 1037, 1457, 598, 807, 1091, 1154, 127,
];

/**
 * `|x| = n pi/2 + r`, r in [-pi/4, pi/4], q = n mod 4, for a finite x. Below 2^15: Cody–Waite
 * with {@link HALF_PI_PIECES}. Above: Payne–Hanek: |x| = M' 2^(11 s) (M' = M 2^t < 2^34 in four
 * 11-bit digits d_j), and |x| 2/pi = sum d_j c_k 2^(11 (j + s - k - 1)); the columns at or below
 * the binary point (ten digits of 2/pi from c_(s-1)) are summed exactly (each below 2^24), carried,
 * and the quadrant and fraction read from them.
 */
const REDUCE = (() => {
  const g = Array.from({ length: 10 }, (_, i) => `g${i}`);
  const window: string[] = [];
  for (let s = -1; s <= 9; s++) {
    const cond = s === -1 ? 'if (s < -0.5)' : s === 9 ? 'else' : `else if (s < ${s}.5)`;
    const vals = g.map((name, i) => {
      const k = s - 1 + i;
      return `${name} = ${k < 0 ? '0.0' : `${TWO_OVER_PI[k]}.0`};`;
    });
    window.push(`    ${cond} { ${vals.join(' ')} }`);
  }
  // S_p = sum_j d_j g_(j - p), p = 0..-6
  const col = (p: number) =>
    [0, 1, 2, 3]
      .filter((j) => j - p >= 0 && j - p <= 9)
      .map((j) => `d${j} * g${j - p}`)
      .join(' + ');
  const carry: string[] = ['    float cy = 0.0;', '    float v;'];
  for (let p = -6; p <= -1; p++) {
    carry.push(
      `    v = (${col(p)}) + cy;`,
      '    cy = floor(v * 0.00048828125);',
      `    float u${-p} = v - cy * 2048.0;`,
    );
  }
  const [P1, P2, P3, P4, P5] = HALF_PI_PIECES;
  return [
    'void gk_reduce(float x, out float r, out float q) {',
    '  float ax = abs(x);',
    '  float n;',
    '  if (ax < 32768.0) {',
    '    n = floor(ax * 0.6366197723675814 + 0.5);',
    `    r = ((((ax - n * ${P1}) - n * ${P2}) - n * ${P3}) - n * ${P4}) - n * ${P5};`,
    '  } else {',
    '    float m;',
    '    float e;',
    '    gk_split(ax, m, e);',
    '    float big = e - 23.0;',
    '    float s = floor(big / 11.0 + 0.01);',
    '    float t = big - 11.0 * s;',
    '    float mm = m * 8388608.0 * gk_pow2i(t);',
    '    float d3 = floor(mm * 1.1641532182693481e-10);',
    '    mm -= d3 * 8589934592.0;',
    '    float d2 = floor(mm * 2.384185791015625e-7);',
    '    mm -= d2 * 4194304.0;',
    '    float d1 = floor(mm * 0.00048828125);',
    '    float d0 = mm - d1 * 2048.0;',
    `    float ${g.join(', ')};`,
    ...window,
    ...carry,
    `    float top = (${col(0)}) + cy;`,
    '    n = top;',
    '    if (u1 >= 1024.0) { u1 -= 2048.0; n += 1.0; }',
    '    float f = ((((u1 * 2048.0 + u2) * 2048.0 + u3) * 2048.0 + u4) * 2048.0 + u5) * 2048.0 + u6;',
    `    r = f * ${p2(-66)} * 1.5707963267948966;`,
    '  }',
    '  q = n - 4.0 * floor(n * 0.25);',
    '}',
  ].join('\n');
})();

/** Cephes sinf/cosf polynomials on [-pi/4, pi/4]. */
const SINCOS_POLY = `float gk_sinpoly(float r) {
  float z = r * r;
  return ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
}
float gk_cospoly(float r) {
  float z = r * r;
  return ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
}`;

const TRIG_SPECIALS = [
  '  if (x != x || x == 0.0) return x;',
  `  if (abs(x) > ${FLT_MAX}) return ${NAN};`,
  '  float r;',
  '  float q;',
  '  gk_reduce(x, r, q);',
].join('\n');

const SIN = `float gk_sin(float x) {
${TRIG_SPECIALS}
  float v = (q == 0.0 || q == 2.0) ? gk_sinpoly(r) : gk_cospoly(r);
  if (q >= 2.0) v = -v;
  return x < 0.0 ? -v : v;
}`;

const COS = `float gk_cos(float x) {
${TRIG_SPECIALS.replace(' || x == 0.0', '')}
  float v = (q == 0.0 || q == 2.0) ? gk_cospoly(r) : gk_sinpoly(r);
  return (q == 1.0 || q == 2.0) ? -v : v;
}`;

const TAN = `float gk_tan(float x) {
${TRIG_SPECIALS}
  float s = gk_sinpoly(r);
  float c = gk_cospoly(r);
  float v = (q == 0.0 || q == 2.0) ? s / c : -c / s;
  return x < 0.0 ? -v : v;
}`;

/** sqrt with IEEE special values (GLSL leaves sqrt of a negative number undefined). */
const SQRT = `float gk_sqrt(float x) {
  if (x != x) return x;
  if (x < 0.0) return ${NAN};
  if (x > ${FLT_MAX}) return x;
  return sqrt(x);
}`;

/** log10(x) = f log10(e) + e log10(2), both constants in a short exact part and the rest (Cephes log10f). */
const LOG10 = `float gk_log10(float x) {
${LOG_SPECIALS}
  float z = f * 7.0073190325182e-4;
  z += e * 2.48745663981198e-4;
  z += f * 0.43359375;
  return z + e * 0.30078125;
}`;

/**
 * expm1: x itself at 0 (keeping -0), the expf polynomial without its 1 for |x| < ln 2 / 2, else
 * x = n ln 2 + r and expm1(x) = 2^n expm1(r) + (2^n - 1) (exact 2^n - 1 for n <= 24); -1 below
 * -17.5, exp(x) - 1 above 60 ln 2, inf from 88.72.
 */
const EXPM1 = `float gk_expm1poly(float r) {
  return (((((1.9875691500e-4 * r + 1.3981999507e-3) * r + 8.3334519073e-3) * r + 4.1665795894e-2) * r + 1.6666665459e-1) * r + 5.0000001201e-1) * (r * r) + r;
}
float gk_expm1(float x) {
  if (x != x || x == 0.0) return x;
  if (x >= 88.72283935546875) return ${INF};
  if (x < -17.5) return -1.0;
  if (abs(x) < 0.34657359027997264) return gk_expm1poly(x);
  if (x > 41.0) return gk_exp(x) - 1.0;
  float n = floor(x * 1.4426950408889634 + 0.5);
  float r = x - n * 0.693359375;
  r = r + n * 2.12194440e-4;
  float t = gk_pow2i(n);
  return t * gk_expm1poly(r) + (t - 1.0);
}`;

/**
 * log1p: x itself at 0, NaN below -1, -inf at -1; logf's polynomial on x itself for x in
 * [sqrt(1/2) - 1, sqrt(2) - 1]; else log(u) + (x - (u - 1)) / u with u = 1 + x rounded.
 */
const LOG1P = `float gk_log1p(float x) {
  if (x != x || x == 0.0) return x;
  if (x < -1.0) return ${NAN};
  if (x == -1.0) return -${INF};
  if (x > ${FLT_MAX}) return x;
  if (x > -0.2928932188134524 && x < 0.41421356237309503) return gk_logpoly(x);
  float u = 1.0 + x;
  return gk_log(u) + (x - (u - 1.0)) / u;
}`;

/** exp(z/2)^2 / 2 for z >= 9 (sinh and cosh there; overflows to inf past 89.4). */
const HALFEXP = `float gk_halfexp(float z) {
  float t = gk_exp(0.5 * z);
  return (0.5 * t) * t;
}`;

/** Cephes sinhf: a polynomial for |x| <= 1, (e - 1/e) / 2 up to 9, exp(|x|) / 2 above, with x's sign. */
const SINH = `float gk_sinh(float x) {
  if (x != x || x == 0.0) return x;
  float z = abs(x);
  float v;
  if (z <= 1.0) {
    float a = x * x;
    return ((2.03721912945e-4 * a + 8.33028376239e-3) * a + 1.66667160211e-1) * a * x + x;
  }
  if (z > 9.0) v = gk_halfexp(z);
  else {
    float t = gk_exp(z);
    v = 0.5 * t - 0.5 / t;
  }
  return x < 0.0 ? -v : v;
}`;

/** cosh: (e + 1/e) / 2 with e = exp(|x|) up to 9, exp(|x|) / 2 above. */
const COSH = `float gk_cosh(float x) {
  if (x != x) return x;
  float z = abs(x);
  if (z > 9.0) return gk_halfexp(z);
  float t = gk_exp(z);
  return 0.5 * t + 0.5 / t;
}`;

/** Cephes tanhf: a polynomial for |x| < 0.625, 1 - 2 / (exp(2|x|) + 1) up to 9.5, ±1 above. */
const TANH = `float gk_tanh(float x) {
  if (x != x || x == 0.0) return x;
  float z = abs(x);
  float v;
  if (z < 0.625) {
    float s = x * x;
    return ((((-5.70498872745e-3 * s + 2.06390887954e-2) * s - 5.37397155531e-2) * s + 1.33314422036e-1) * s - 3.33332819422e-1) * s * x + x;
  }
  if (z > 9.5) v = 1.0;
  else v = 1.0 - 2.0 / (gk_exp(z + z) + 1.0);
  return x < 0.0 ? -v : v;
}`;

/** Cephes atanhf: a polynomial for |x| < 0.5, log1p(2|x| / (1 - |x|)) / 2 above; ±inf at ±1, NaN beyond. */
const ATANH = `float gk_atanh(float x) {
  if (x != x || x == 0.0) return x;
  float z = abs(x);
  if (z > 1.0) return ${NAN};
  if (z == 1.0) return x * ${INF};
  if (z < 0.5) {
    float a = x * x;
    return ((((1.81740078349e-1 * a + 8.24370301058e-2) * a + 1.46691431730e-1) * a + 1.99782164500e-1) * a + 3.33337300303e-1) * a * x + x;
  }
  float v = 0.5 * gk_log1p((z + z) / (1.0 - z));
  return x < 0.0 ? -v : v;
}`;

/** Cephes asinhf's polynomial for |x| < 0.5, log1p(z + z^2 / (1 + sqrt(1 + z^2))) up to 2^12, log(z) + ln 2 above. */
const ASINH = `float gk_asinh(float x) {
  if (x != x || x == 0.0 || abs(x) > ${FLT_MAX}) return x;
  float z = abs(x);
  float v;
  if (z < 0.5) {
    float a = x * x;
    return (((2.0122003309e-2 * a - 4.2699340972e-2) * a + 7.4847586088e-2) * a - 1.6666288134e-1) * a * x + x;
  }
  if (z > 4096.0) v = gk_log(z) + 0.6931471805599453;
  else {
    float a = z * z;
    v = gk_log1p(z + a / (1.0 + sqrt(a + 1.0)));
  }
  return x < 0.0 ? -v : v;
}`;

/** acosh: NaN below 1, log1p(t + sqrt(2t + t^2)) with t = x - 1 up to 2^12, log(x) + ln 2 above. */
const ACOSH = `float gk_acosh(float x) {
  if (x != x || x > ${FLT_MAX}) return x;
  if (x < 1.0) return ${NAN};
  if (x > 4096.0) return gk_log(x) + 0.6931471805599453;
  float t = x - 1.0;
  return gk_log1p(t + sqrt(t * (t + 2.0)));
}`;

/** cbrt: exp(log|x| / 3) refined by one Newton step, with x's sign; ±0, ±inf, NaN as they come. */
const CBRT = `float gk_cbrt(float x) {
  if (x != x || x == 0.0 || abs(x) > ${FLT_MAX}) return x;
  float z = abs(x);
  float y = gk_exp(gk_log(z) * 0.3333333333333333);
  y = y + (z / (y * y) - y) * 0.3333333333333333;
  return x < 0.0 ? -y : y;
}`;

/** Cephes asinf's polynomial: asin(a) for a in [0, 1/2]. */
const ASINPOLY = `float gk_asinpoly(float a) {
  float z = a * a;
  return ((((4.2163199048e-2 * z + 2.4181311049e-2) * z + 4.5470025998e-2) * z + 7.4953002686e-2) * z + 1.6666752422e-1) * z * a + a;
}`;

/** Cephes asinf: the polynomial up to 1/2, pi/2 - 2 asin(sqrt((1 - |x|) / 2)) above (pi/2 in two parts); NaN beyond 1. */
const ASIN = `float gk_asin(float x) {
  if (x != x || x == 0.0) return x;
  float a = abs(x);
  if (a > 1.0) return ${NAN};
  float v;
  if (a <= 0.5) v = gk_asinpoly(a);
  else v = (1.5707963705062866 - 2.0 * gk_asinpoly(sqrt(0.5 * (1.0 - a)))) - 4.371139006309477e-8;
  return x < 0.0 ? -v : v;
}`;

/** Cephes acosf: 2 asin(sqrt((1 - x) / 2)) above 1/2, pi - that of -x below -1/2, pi/2 - asin(x) between; NaN beyond ±1. */
const ACOS = `float gk_acos(float x) {
  if (x != x) return x;
  if (abs(x) > 1.0) return ${NAN};
  if (x > 0.5) return 2.0 * gk_asinpoly(sqrt(0.5 * (1.0 - x)));
  if (x < -0.5) return (3.1415927410125732 - 2.0 * gk_asinpoly(sqrt(0.5 * (1.0 + x)))) - 8.742278012618954e-8;
  float v = x < 0.0 ? -gk_asinpoly(-x) : gk_asinpoly(x);
  return (1.5707963705062866 - v) - 4.371139006309477e-8;
}`;

/** Cephes atanf for |x|: range-reduced by pi/2 (above tan(3 pi/8)) or pi/4 (above tan(pi/8)), both in two parts. */
const ATANABS = `float gk_atanabs(float a) {
  float hi = 0.0;
  float lo = 0.0;
  float x = a;
  if (a > 2.414213562373095) { hi = 1.5707963705062866; lo = -4.371139006309477e-8; x = -1.0 / a; }
  else if (a > 0.41421356237309503) { hi = 0.7853981852531433; lo = -2.1855695031547384e-8; x = (a - 1.0) / (a + 1.0); }
  float z = x * x;
  float p = (((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * x + x;
  return hi + (p + lo);
}`;

const ATAN = `float gk_atan(float x) {
  if (x != x || x == 0.0) return x;
  float v = gk_atanabs(abs(x));
  return x < 0.0 ? -v : v;
}`;

/**
 * Math.atan2(y, x): NaN in, NaN out; zeros and infinities by their signs as JavaScript gives
 * them; else atan(|y| / |x|), from pi (two parts) when x < 0, with y's sign.
 */
const ATAN2 = `float gk_atan2(float y, float x) {
  if (x != x || y != y) return x + y;
  bool yneg = y < 0.0 || (y == 0.0 && 1.0 / y < 0.0);
  bool xneg = x < 0.0 || (x == 0.0 && 1.0 / x < 0.0);
  float ay = abs(y);
  float ax = abs(x);
  float v;
  if (y == 0.0) v = xneg ? 3.1415927410125732 : 0.0;
  else if (x == 0.0) v = 1.5707963705062866;
  else if (ay > ${FLT_MAX}) v = ax > ${FLT_MAX} ? (xneg ? 2.356194496154785 : 0.7853981852531433) : 1.5707963705062866;
  else if (ax > ${FLT_MAX}) v = xneg ? 3.1415927410125732 : 0.0;
  else {
    v = gk_atanabs(ay / ax);
    if (xneg) v = (3.1415927410125732 - v) - 8.742278012618954e-8;
  }
  return yneg ? -v : v;
}`;

// The exact functions (abs, sign, floor, ceil, trunc, round, max, min). GLSL ES does not require
// its built-ins to return NaN for a NaN operand, and its max/min return the other operand of a NaN
// in practice (llvmpipe and SwiftShader: max(NaN, 1) = 1), keep the operand order's zero (max(0,
// -0) = -0), its sign gives 0 for -0 and NaN, and gpu.js's round is floor(x + 0.5) (1 at
// 0.49999997, 8388610 at 8388609, +0 at -0.4). These test NaN first as every function above does
// (x != x; the value itself is returned), then the zeros: an integer result 0 gets x's sign from
// x * gk_zero (a uniform, so no compiler folds the product to 0), and max/min choose between two
// zeros by the sign of 1 / x, as gk_atan2 does. Values from 2^23 on are integers already and are
// returned as they are (so are the infinities); below it floor and ceil are exact (GLSL ES 3.00
// section 4.5.1: they inherit the exactness of the operations they are built from).

/**
 * Math.abs: -x below 0, else x + gk_zero: x itself, NaN for NaN, and +0 for -0 (GLSL's abs is
 * defined as x >= 0 ? x : -x, which keeps -0).
 */
const ABS = `float gk_abs(float x) {
  return x < 0.0 ? -x : x + ${Z};
}`;

/** Math.sign: ±1, and x itself for ±0 and NaN (GLSL's sign gives 0 for both). */
const SIGN = `float gk_sign(float x) {
  return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : x);
}`;

/** Math.floor, ceil or trunc: NaN and |x| >= 2^23 as they come, a zero result with x's sign. */
const toInteger = (fn: 'floor' | 'ceil' | 'trunc'): string =>
  [
    `float gk_${fn}(float x) {`,
    '  if (x != x || abs(x) >= 8388608.0) return x;',
    `  float r = ${fn === 'trunc' ? 'x < 0.0 ? ceil(x) : floor(x)' : `${fn}(x)`};`,
    `  return r == 0.0 ? x * ${Z} : r;`,
    '}',
  ].join('\n');

/**
 * Math.round: floor(x + 0.5) computed exactly: the fraction x - floor(x) decides (halves go up;
 * it is exact unless x is in (-1, 0), where it rounds up by less than an ulp and never across 0.5),
 * -0 for x in [-0.5, 0) and -0, NaN and |x| >= 2^23 as they come.
 */
const ROUND = `float gk_round(float x) {
  if (x != x || abs(x) >= 8388608.0) return x;
  float f = floor(x);
  float r = x - f >= 0.5 ? f + 1.0 : f;
  return r == 0.0 ? x * ${Z} : r;
}`;

/**
 * Math.max: NaN if either is NaN (x + y); of two equal values x, unless x is -0 (1 / x < 0: then
 * y, +0 or -0); else the larger. The zeros are not told apart by a sum (x + y is +0 unless both
 * are -0): compilers fold x + 0.0 to x, and llvmpipe gave max(-0, 0.0) = -0 for a literal 0.0.
 */
const MAX = `float gk_max(float x, float y) {
  if (x != x || y != y) return x + y;
  if (x == y) return 1.0 / x < 0.0 ? y : x;
  return x > y ? x : y;
}`;

/** Math.min: as {@link MAX}, of two equal values x when x is -0, else y. */
const MIN = `float gk_min(float x, float y) {
  if (x != x || y != y) return x + y;
  if (x == y) return 1.0 / x < 0.0 ? x : y;
  return x < y ? x : y;
}`;

interface Part {
  readonly source: string;
  readonly deps: readonly string[];
}

/** Every GLSL function of this file by name, with the ones it calls. */
const PARTS: Readonly<Record<string, Part>> = {
  gk_pow2i: { source: POW2I, deps: [] },
  gk_split: { source: SPLIT, deps: [] },
  gk_exp: { source: EXP, deps: ['gk_pow2i'] },
  gk_logpoly: { source: LOGPOLY, deps: [] },
  gk_logparts: { source: LOGPARTS, deps: ['gk_split', 'gk_logpoly'] },
  gk_log: { source: LOG, deps: ['gk_logparts'] },
  gk_log2: { source: LOG2, deps: ['gk_logparts'] },
  gk_pow: { source: POW, deps: ['gk_exp', 'gk_log'] },
  gk_reduce: { source: REDUCE, deps: ['gk_split', 'gk_pow2i'] },
  gk_sincospoly: { source: SINCOS_POLY, deps: [] },
  gk_sin: { source: SIN, deps: ['gk_reduce', 'gk_sincospoly'] },
  gk_cos: { source: COS, deps: ['gk_reduce', 'gk_sincospoly'] },
  gk_tan: { source: TAN, deps: ['gk_reduce', 'gk_sincospoly'] },
  gk_sqrt: { source: SQRT, deps: [] },
  gk_log10: { source: LOG10, deps: ['gk_logparts'] },
  gk_expm1: { source: EXPM1, deps: ['gk_exp', 'gk_pow2i'] },
  gk_log1p: { source: LOG1P, deps: ['gk_logpoly', 'gk_log'] },
  gk_halfexp: { source: HALFEXP, deps: ['gk_exp'] },
  gk_sinh: { source: SINH, deps: ['gk_exp', 'gk_halfexp'] },
  gk_cosh: { source: COSH, deps: ['gk_exp', 'gk_halfexp'] },
  gk_tanh: { source: TANH, deps: ['gk_exp'] },
  gk_atanh: { source: ATANH, deps: ['gk_log1p'] },
  gk_asinh: { source: ASINH, deps: ['gk_log', 'gk_log1p'] },
  gk_acosh: { source: ACOSH, deps: ['gk_log', 'gk_log1p'] },
  gk_cbrt: { source: CBRT, deps: ['gk_exp', 'gk_log'] },
  gk_asinpoly: { source: ASINPOLY, deps: [] },
  gk_asin: { source: ASIN, deps: ['gk_asinpoly'] },
  gk_acos: { source: ACOS, deps: ['gk_asinpoly'] },
  gk_atanabs: { source: ATANABS, deps: [] },
  gk_atan: { source: ATAN, deps: ['gk_atanabs'] },
  gk_atan2: { source: ATAN2, deps: ['gk_atanabs'] },
  gk_abs: { source: ABS, deps: [] },
  gk_sign: { source: SIGN, deps: [] },
  gk_floor: { source: toInteger('floor'), deps: [] },
  gk_ceil: { source: toInteger('ceil'), deps: [] },
  gk_trunc: { source: toInteger('trunc'), deps: [] },
  gk_round: { source: ROUND, deps: [] },
  gk_max: { source: MAX, deps: [] },
  gk_min: { source: MIN, deps: [] },
};

/**
 * The `Math` functions the gl backend computes with its own GLSL, by kernel-language name, with
 * the GLSL function that replaces each and its argument count.
 */
export const PORTABLE_MATH: Readonly<Record<string, { readonly glsl: string; readonly arity: number }>> = {
  exp: { glsl: 'gk_exp', arity: 1 },
  log: { glsl: 'gk_log', arity: 1 },
  log2: { glsl: 'gk_log2', arity: 1 },
  pow: { glsl: 'gk_pow', arity: 2 },
  sin: { glsl: 'gk_sin', arity: 1 },
  cos: { glsl: 'gk_cos', arity: 1 },
  tan: { glsl: 'gk_tan', arity: 1 },
  sqrt: { glsl: 'gk_sqrt', arity: 1 },
  log10: { glsl: 'gk_log10', arity: 1 },
  expm1: { glsl: 'gk_expm1', arity: 1 },
  log1p: { glsl: 'gk_log1p', arity: 1 },
  sinh: { glsl: 'gk_sinh', arity: 1 },
  cosh: { glsl: 'gk_cosh', arity: 1 },
  tanh: { glsl: 'gk_tanh', arity: 1 },
  asinh: { glsl: 'gk_asinh', arity: 1 },
  acosh: { glsl: 'gk_acosh', arity: 1 },
  atanh: { glsl: 'gk_atanh', arity: 1 },
  cbrt: { glsl: 'gk_cbrt', arity: 1 },
  asin: { glsl: 'gk_asin', arity: 1 },
  acos: { glsl: 'gk_acos', arity: 1 },
  atan: { glsl: 'gk_atan', arity: 1 },
  atan2: { glsl: 'gk_atan2', arity: 2 },
  abs: { glsl: 'gk_abs', arity: 1 },
  sign: { glsl: 'gk_sign', arity: 1 },
  floor: { glsl: 'gk_floor', arity: 1 },
  ceil: { glsl: 'gk_ceil', arity: 1 },
  trunc: { glsl: 'gk_trunc', arity: 1 },
  round: { glsl: 'gk_round', arity: 1 },
  max: { glsl: 'gk_max', arity: 2 },
  min: { glsl: 'gk_min', arity: 2 },
};

/**
 * GLSL definitions of the given functions (names from {@link PORTABLE_MATH}'s `glsl`) and of what
 * they call, each once, callees first; '' for none. The shader must declare `uniform float
 * gk_zero` (holding 0) before it.
 */
export function glslMathSource(names: Iterable<string>): string {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const part = PARTS[name];
    if (!part) throw new Error(`glslMathSource: unknown function '${name}'`);
    for (const d of part.deps) visit(d);
    out.push(part.source);
  };
  for (const n of names) visit(n);
  return out.join('\n');
}

/** `Math.<fn>(` for every function of {@link PORTABLE_MATH}. */
const KERNEL_CALL = new RegExp(`\\bMath\\.(${Object.keys(PORTABLE_MATH).join('|')})\\s*\\(`, 'g');

/**
 * `Math.<fn>(` for the functions {@link portableGpuJs} rewrites: all but `floor`, which the
 * backend's own index arithmetic calls on finite non-negative values below 2^23, where GLSL's floor
 * is exact and costs one instruction (kernel-language text gets `gk_floor` from
 * {@link portableKernelText}).
 */
const CALL = new RegExp(
  `\\bMath\\.(${Object.keys(PORTABLE_MATH)
    .filter((fn) => fn !== 'floor')
    .join('|')})\\s*\\(`,
  'g',
);

/** A call of one of {@link PORTABLE_MATH}'s GLSL functions (longest names first: gk_expm1 before gk_exp). */
const GK_CALL = new RegExp(
  `\\b(${Object.values(PORTABLE_MATH)
    .map((m) => m.glsl)
    .sort((a, b) => b.length - a.length)
    .join('|')})\\s*\\(`,
  'g',
);

/** The kernel-language function whose GLSL is `glsl`. */
const BY_GLSL: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(PORTABLE_MATH).map(([fn, m]) => [m.glsl, fn]),
);

/**
 * Kernel-language text (a spec's `stmts` or `expr`) for a gpu.js kernel source: every call of a
 * {@link PORTABLE_MATH} function becomes a call of its GLSL (`Math.floor(` becomes `gk_floor(`), so
 * the spec computes what the backend's own shaders compute; {@link portableGpuJs} then declares
 * and injects them.
 */
export function portableKernelText(text: string): string {
  return text.replace(KERNEL_CALL, (_, fn: string) => `${PORTABLE_MATH[fn].glsl}(`);
}

/** A gpu.js native function declaration: the GLSL comes with `injectedNative`, so the source is empty. */
export interface GpuJsNativeFunction {
  readonly name: string;
  readonly source: string;
  readonly returnType: 'Number';
  readonly argumentTypes: Readonly<Record<string, 'Number'>>;
}

/**
 * Rewrites a gpu.js kernel's source so that the calls of {@link PORTABLE_MATH} functions call the
 * gl backend's GLSL instead of gpu.js's translation (the GLSL built-in, or one of gpu.js's helpers:
 * `_pow`, `_round`, `trunc`, `tanh`, ...): `Math.exp(` becomes `gk_exp(`. `Math.floor(` stays
 * GLSL's floor: the backend's index arithmetic calls it, and kernel-language text arrives with
 * `gk_floor(` from {@link portableKernelText}; every call of a PORTABLE_MATH GLSL function in the
 * result is declared and injected. Returns the new source, the GLSL to inject
 * (`uniform float gk_zero;` and the definitions; link-time initialised to 0, so no upload is
 * needed) and the native-function declarations gpu.js needs to type the calls; `null` extras
 * when the source calls none of them.
 */
export function portableGpuJs(source: string): {
  source: string;
  injectedNative: string | null;
  nativeFunctions: GpuJsNativeFunction[];
} {
  const out = source.replace(CALL, (_, fn: string) => `${PORTABLE_MATH[fn].glsl}(`);
  const used = new Set<string>();
  for (const m of out.matchAll(GK_CALL)) used.add(BY_GLSL[m[1]]);
  if (used.size === 0) return { source, injectedNative: null, nativeFunctions: [] };
  const names = [...used].map((fn) => PORTABLE_MATH[fn].glsl);
  const nativeFunctions = [...used].map((fn) => {
    const { glsl, arity } = PORTABLE_MATH[fn];
    const argumentTypes: Record<string, 'Number'> = {};
    for (let i = 0; i < arity; i++) argumentTypes[`v${i}`] = 'Number';
    return { name: glsl, source: '', returnType: 'Number' as const, argumentTypes };
  });
  return {
    source: out,
    injectedNative: [`uniform float ${ZERO_UNIFORM};`, glslMathSource(names)].join('\n'),
    nativeFunctions,
  };
}
