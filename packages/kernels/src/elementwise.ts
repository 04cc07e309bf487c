import type { ElementwiseSpec } from './backend.js';
import { defineKernel } from './spec/define.js';

// One table of element-wise kernels, written once in the kernel language (see defineKernel:
// parsed and validated here, at module load) and compiled by every backend. Float literals keep
// a decimal point (the language's rule). References for the tests are written
// independently in float64.

const u = (name: string, expr: string, stmts?: string, params = 0): ElementwiseSpec =>
  defineKernel({ name, arity: 1, params, expr, ...(stmts ? { stmts } : {}) });

// erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7, below float32 resolution at 1).
const ERF_STMTS = (v: string) =>
  `let t_ax = Math.abs(${v}); let t_t = 1.0 / (1.0 + 0.3275911 * t_ax);` +
  ' let t_y = 1.0 - ((((1.061405429 * t_t - 1.453152027) * t_t + 1.421413741) * t_t - 0.284496736) * t_t + 0.254829592) * t_t * Math.exp(-t_ax * t_ax);' +
  ` let t_erf = ${v} >= 0.0 ? t_y : -t_y;`;

// GELU's tanh form as x sigmoid(u), u = 2 sqrt(2/pi) (x + 0.044715 x^3): 0.5 (1 + tanh(u/2)) is
// sigmoid(u), evaluated stably from e = e^-|u| (no 1 + tanh cancellation for x < 0, no overflow:
// x^3 = inf only gives e = 0). Temporaries avoid `t_z`, which fusedBiasSpec uses for its input.
const GELU_TANH_STMTS =
  'let t_gu = 1.5957691216057308 * (a + 0.044715 * a * a * a); let t_ge = Math.exp(-Math.abs(t_gu));' +
  ' let t_gq = 1.0 / (1.0 + t_ge); let t_gs = t_gu >= 0.0 ? t_gq : t_ge * t_gq;';

const SELU_ALPHA = '1.6732632423543772';
const SELU_SCALE = '1.0507009873554805';

/** Names of the one-input element-wise ops. */
export type UnaryOp =
  | 'neg'
  | 'abs'
  | 'sign'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'rsqrt'
  | 'square'
  | 'reciprocal'
  | 'floor'
  | 'ceil'
  | 'sin'
  | 'cos'
  | 'relu'
  | 'sigmoid'
  | 'tanh'
  | 'gelu'
  | 'geluTanh'
  | 'selu'
  | 'softplus'
  | 'elu'
  | 'erf'
  | 'logicalNot'
  | 'isFinite'
  | 'identity';

/**
 * The one-input kernels. Formulas (x is the input):
 * neg -x; abs |x|; sign x>0 ? 1 : x<0 ? -1 : x (0 for ±0, NaN for NaN); exp; log; sqrt;
 * rsqrt 1/sqrt(x); square x^2; reciprocal 1/x; floor; ceil; sin; cos; relu x<0 ? 0 : x
 * (PyTorch's `clamp_min(x, 0)`: NaN stays NaN, -0 stays -0); sigmoid 1/(1+e^-x) (evaluated stably);
 * tanh; gelu x/2 (1 + erf(x/sqrt 2)) (PyTorch's exact GELU); geluTanh x/2 (1 + tanh(sqrt(2/pi)
 * (x + 0.044715 x^3))) (PyTorch's `approximate='tanh'`, evaluated as x sigmoid(2 sqrt(2/pi) (x +
 * 0.044715 x^3)): no cancellation for x < 0, x for x -> +inf, -0 for x -> -inf, NaN at -inf); selu scale (x>0 ? x : alpha (e^x - 1))
 * with PyTorch's alpha and scale; softplus log(1 + e^x) (PyTorch's threshold 20: x above it
 * returns x); elu x>0 ? x : e^x - 1; erf; logicalNot x==0 ? 1 : 0; isFinite 1 for a finite value.
 *
 * @example
 * ```ts
 * d.unary('relu', d.array([-1, 2])).read(); // [0, 2]: runs UNARY.relu
 * ```
 */
export const UNARY: Readonly<Record<UnaryOp, ElementwiseSpec>> = {
  neg: u('neg', '-a'),
  abs: u('abs', 'Math.abs(a)'),
  // NaN stays NaN (NumPy, TF 2; PyTorch 1.13 gives 0 here): a sign never hides a NaN.
  sign: u('sign', 'a > 0.0 ? 1.0 : (a < 0.0 ? -1.0 : (a == 0.0 ? 0.0 : a))'),
  exp: u('exp', 'Math.exp(a)'),
  log: u('log', 'Math.log(a)'),
  sqrt: u('sqrt', 'Math.sqrt(a)'),
  rsqrt: u('rsqrt', '1.0 / Math.sqrt(a)'),
  square: u('square', 'a * a'),
  reciprocal: u('reciprocal', '1.0 / a'),
  floor: u('floor', 'Math.floor(a)'),
  ceil: u('ceil', 'Math.ceil(a)'),
  sin: u('sin', 'Math.sin(a)'),
  cos: u('cos', 'Math.cos(a)'),
  // PyTorch's clamp_min(x, 0): NaN and -0 pass through (a NaN never becomes a confident 0). The
  // NaN test is spelled out: GLSL compilers (llvmpipe) turn the bare select into max(a, 0.0),
  // which returns 0 for NaN.
  relu: u('relu', 'a != a ? a : (a < 0.0 ? 0.0 : a)'),
  sigmoid: u(
    'sigmoid',
    'a >= 0.0 ? 1.0 / (1.0 + t_e) : t_e / (1.0 + t_e)',
    'let t_e = Math.exp(-Math.abs(a));',
  ),
  tanh: u(
    'tanh',
    'a >= 0.0 ? t_r : -t_r',
    'let t_e = Math.exp(-2.0 * Math.abs(a)); let t_r = (1.0 - t_e) / (1.0 + t_e);',
  ),
  gelu: u('gelu', '0.5 * a * (1.0 + t_erf)', ERF_STMTS('a * 0.7071067811865476')),
  geluTanh: u('geluTanh', 'a * t_gs', GELU_TANH_STMTS),
  selu: u('selu', `${SELU_SCALE} * (a > 0.0 ? a : ${SELU_ALPHA} * (Math.exp(a) - 1.0))`),
  softplus: u('softplus', 'a > 20.0 ? a : Math.max(a, 0.0) + Math.log(1.0 + Math.exp(-Math.abs(a)))'),
  elu: u('elu', 'a > 0.0 ? a : Math.exp(a) - 1.0'),
  erf: u('erf', 't_erf', ERF_STMTS('a')),
  logicalNot: u('logicalNot', 'a == 0.0 ? 1.0 : 0.0'),
  isFinite: u('isFinite', '(a == a && Math.abs(a) <= 3.4028234663852886e38) ? 1.0 : 0.0'),
  identity: u('identity', 'a'),
};

/** Names of the one-input ops that take scalar parameters. */
export type ScalarOp = 'addScalar' | 'mulScalar' | 'powScalar' | 'clamp' | 'leakyRelu' | 'affine';

/**
 * One-input kernels with scalar parameters p0, p1:
 * addScalar x + p0; mulScalar x * p0; powScalar x^p0 (a negative base with an integer exponent
 * works as in PyTorch); clamp min(max(x, p0), p1); leakyRelu x>0 ? x : p0 x; affine p0 x + p1.
 *
 * @example
 * ```ts
 * d.scalar('clamp', d.array([-2, 0.5, 3]), 0, 1).read(); // [0, 0.5, 1]
 * ```
 */
export const SCALAR: Readonly<Record<ScalarOp, ElementwiseSpec>> = {
  addScalar: u('addScalar', 'a + p0', undefined, 1),
  mulScalar: u('mulScalar', 'a * p0', undefined, 1),
  powScalar: u(
    'powScalar',
    // C99/IEEE pow as PyTorch computes it, spelled out because GLSL's pow() is undefined for NaN
    // operands and a zero base with a negative exponent (0 on llvmpipe), and Math.pow differs
    // from C at pow(1, NaN) and pow(±1, ±inf) (NaN in JavaScript, 1 in C): x^0 = 1, 1^y = 1,
    // otherwise NaN in -> NaN out; (-1)^±inf = 1; a negative finite base with a non-integer
    // exponent is NaN, while (-inf)^y is inf or 0.
    'p0 == 0.0 ? 1.0 : (a == 1.0 ? 1.0 : ((a != a || p0 != p0) ? a + p0 : ((a == -1.0 && Math.abs(p0) > 3.4028234663852886e38) ? 1.0 : ((a == 0.0 && p0 < 0.0) ? ((Math.floor(p0) == p0 && Math.floor(p0 * 0.5) * 2.0 != p0) ? 1.0 / a : 1.0 / Math.abs(a)) : (a >= 0.0 ? Math.pow(a, p0) : (Math.floor(p0) == p0 ? (Math.floor(p0 * 0.5) * 2.0 == p0 ? t_m : -t_m) : (Math.abs(a) > 3.4028234663852886e38 ? t_m : 0.0 / 0.0)))))))',
    'let t_m = Math.pow(Math.abs(a), p0);',
    1,
  ),
  // Math.min/Math.max propagate NaN on every backend (gl: its own GLSL, not GLSL's min/max).
  clamp: u('clamp', 'Math.min(Math.max(a, p0), p1)', undefined, 2),
  leakyRelu: u('leakyRelu', 'a > 0.0 ? a : p0 * a', undefined, 1),
  affine: u('affine', 'p0 * a + p1', undefined, 2),
};

const b = (name: string, expr: string, stmts?: string, params = 0): ElementwiseSpec =>
  defineKernel({ name, arity: 2, params, expr, ...(stmts ? { stmts } : {}) });

/** Names of the two-input element-wise ops (NumPy broadcasting). */
export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'equal'
  | 'notEqual'
  | 'less'
  | 'lessEqual'
  | 'greater'
  | 'greaterEqual'
  | 'squaredDifference';

/**
 * The two-input kernels (a, b broadcast): add, sub, mul, div, pow (a^b; negative base with an
 * integer exponent as in PyTorch), maximum, minimum, the comparisons (1 where true, 0 where false)
 * and squaredDifference (a - b)^2.
 *
 * @example
 * ```ts
 * d.binary('maximum', d.array([1, 5]), d.array([3, 2])).read(); // [3, 5]
 * ```
 */
export const BINARY: Readonly<Record<BinaryOp, ElementwiseSpec>> = {
  add: b('add', 'a + b'),
  sub: b('sub', 'a - b'),
  mul: b('mul', 'a * b'),
  div: b('div', 'a / b'),
  pow: b(
    'pow',
    // The special cases of C99/IEEE pow spelled out, as in powScalar.
    'b == 0.0 ? 1.0 : (a == 1.0 ? 1.0 : ((a != a || b != b) ? a + b : ((a == -1.0 && Math.abs(b) > 3.4028234663852886e38) ? 1.0 : ((a == 0.0 && b < 0.0) ? ((Math.floor(b) == b && Math.floor(b * 0.5) * 2.0 != b) ? 1.0 / a : 1.0 / Math.abs(a)) : (a >= 0.0 ? Math.pow(a, b) : (Math.floor(b) == b ? (Math.floor(b * 0.5) * 2.0 == b ? t_m : -t_m) : (Math.abs(a) > 3.4028234663852886e38 ? t_m : 0.0 / 0.0)))))))',
    'let t_m = Math.pow(Math.abs(a), b);',
  ),
  // NaN in either operand gives NaN: Math.max/Math.min's semantics on every backend (gl computes
  // them with its own GLSL: GLSL's max/min return the other operand of a NaN).
  maximum: b('maximum', 'Math.max(a, b)'),
  minimum: b('minimum', 'Math.min(a, b)'),
  equal: b('equal', 'a == b ? 1.0 : 0.0'),
  notEqual: b('notEqual', 'a != b ? 1.0 : 0.0'),
  less: b('less', 'a < b ? 1.0 : 0.0'),
  lessEqual: b('lessEqual', 'a <= b ? 1.0 : 0.0'),
  greater: b('greater', 'a > b ? 1.0 : 0.0'),
  greaterEqual: b('greaterEqual', 'a >= b ? 1.0 : 0.0'),
  squaredDifference: b('squaredDifference', '(a - b) * (a - b)'),
};

/** Names of the fused activation-gradient kernels. */
export type ActivationGradOp =
  | 'reluGrad'
  | 'sigmoidGrad'
  | 'tanhGrad'
  | 'geluGrad'
  | 'geluTanhGrad'
  | 'seluGrad'
  | 'softplusGrad'
  | 'eluGrad'
  | 'leakyReluGrad';

/**
 * Fused backward kernels of the activations: `a` is the activation's input x (for sigmoid and
 * tanh: its output y), `b` the incoming gradient dy; the result is dy * f'(x).
 * reluGrad x<=0 ? 0 : dy; sigmoidGrad dy y (1-y); tanhGrad dy (1-y^2);
 * geluGrad dy (Phi(x) + x phi(x)); geluTanhGrad dy (s + x s (1 - s) u'(x)) with s = sigmoid(u),
 * u = 2 sqrt(2/pi) (x + 0.044715 x^3), u' = 2 sqrt(2/pi) (1 + 0.134145 x^2) (PyTorch's formula
 * rewritten: 1 + tanh = 2s, 1 - tanh^2 = 4 s (1 - s); the second term is 0 once e^-|u| is, so x^2
 * never overflows; NaN at x = ±inf, as PyTorch); seluGrad dy scale (x<=0 ? alpha e^x : 1); softplusGrad dy sigmoid(x)
 * (x above 20: dy); eluGrad dy (x<=0 ? e^x : 1); leakyReluGrad dy (x>0 ? 1 : p0). At a NaN input
 * each follows PyTorch's branch: relu, elu and selu pass dy (times scale), leakyRelu gives p0 dy,
 * the others NaN.
 *
 * @example
 * ```ts
 * d.activationGrad('reluGrad', d.array([-1, 2]), d.array([5, 5])).read(); // [0, 5]
 * ```
 */
export const ACTIVATION_GRAD: Readonly<Record<ActivationGradOp, ElementwiseSpec>> = {
  reluGrad: b('reluGrad', 'a <= 0.0 ? 0.0 : b'),
  sigmoidGrad: b('sigmoidGrad', 'b * a * (1.0 - a)'),
  tanhGrad: b('tanhGrad', 'b * (1.0 - a * a)'),
  geluGrad: b(
    'geluGrad',
    'b * (0.5 * (1.0 + t_erf) + a * 0.3989422804014327 * Math.exp(-0.5 * a * a))',
    ERF_STMTS('a * 0.7071067811865476'),
  ),
  geluTanhGrad: b(
    'geluTanhGrad',
    'Math.abs(a) > 3.4028234663852886e38 ? 0.0 / 0.0 : b * (t_gs + t_gk)',
    `${GELU_TANH_STMTS} let t_gk = t_ge > 0.0 ? a * t_ge * t_gq * t_gq * 1.5957691216057308 * (1.0 + 0.134145 * a * a) : 0.0;`,
  ),
  seluGrad: b('seluGrad', `b * ${SELU_SCALE} * (a <= 0.0 ? ${SELU_ALPHA} * Math.exp(a) : 1.0)`),
  softplusGrad: b(
    'softplusGrad',
    'a > 20.0 ? b : b * (a >= 0.0 ? 1.0 / (1.0 + t_e) : t_e / (1.0 + t_e))',
    'let t_e = Math.exp(-Math.abs(a));',
  ),
  eluGrad: b('eluGrad', 'b * (a <= 0.0 ? Math.exp(a) : 1.0)'),
  leakyReluGrad: b('leakyReluGrad', 'a > 0.0 ? b : p0 * b', undefined, 1),
};

/**
 * `where(cond, x, y)`: x where cond != 0, else y (three inputs, broadcast).
 *
 * @example
 * ```ts
 * d.map(WHERE, [d.array([1, 0]), d.array([1, 2]), d.array([9, 9])]).read(); // [1, 9]
 * ```
 */
export const WHERE: ElementwiseSpec = defineKernel({
  name: 'where',
  arity: 3,
  params: 0,
  expr: 'a != 0.0 ? b : c',
});
