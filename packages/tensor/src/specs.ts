import type { ElementwiseSpec } from '@gradkit/kernels';
import { defineKernel, SCALAR, UNARY } from '@gradkit/kernels';

// The tensor layer's own element-wise kernels (fused forward and backward expressions), in the
// kernel language of `defineKernel` (parsed and validated when this module loads): inputs a, b,
// c, d; parameters p0, p1; temporaries t_*; float literals with a decimal point. Names carry a
// `tensor_` prefix so that errors and cache entries say where a kernel comes from.

const spec = (name: string, arity: number, params: number, expr: string, stmts?: string): ElementwiseSpec =>
  defineKernel({ name: `tensor_${name}`, arity, params, expr, ...(stmts ? { stmts } : {}) });

/** Sign-aware power as PyTorch: a negative base with an integer exponent; NaN otherwise. */
const powStmts = (base: string, exponent: string) =>
  `let t_m = Math.pow(Math.abs(${base}), ${exponent}); ` +
  `let t_p = ${base} >= 0.0 ? Math.pow(${base}, ${exponent}) : (Math.floor(${exponent}) == ${exponent} ? (Math.floor(${exponent} * 0.5) * 2.0 == ${exponent} ? t_m : -t_m) : 0.0 / 0.0);`;

/** Stable sigmoid(-x) of input a in t_sn, softplus(-x) in t_sp. */
const bceStmts =
  'let t_e = Math.exp(-Math.abs(a)); ' +
  'let t_sn = a >= 0.0 ? t_e / (1.0 + t_e) : 1.0 / (1.0 + t_e); ' +
  'let t_sp = Math.log(1.0 + t_e) + Math.max(-a, 0.0);';

/** @internal The tensor layer's custom element-wise specs. */
export const S = {
  /** a times p0 (with an output shape given to `map`: a broadcast and scaled in one kernel). */
  scale: spec('scale', 1, 1, 'a * p0'),
  divScalar: spec('divScalar', 1, 1, 'a / p0'),
  /** d(a/b)/db * dy with inputs (dy, a, b). */
  divGradB: spec('divGradB', 3, 0, '-(a * b) / (c * c)'),
  /** dy * p0 * x^(p0 - 1) with inputs (x, dy); 0 when p0 = 0 (PyTorch). */
  powScalarGrad: spec('powScalarGrad', 2, 1, 'p0 == 0.0 ? 0.0 : b * p0 * t_p', powStmts('a', '(p0 - 1.0)')),
  /** dy * b * a^(b - 1) with inputs (a, b, dy). */
  powGradA: spec('powGradA', 3, 0, 'b == 0.0 ? 0.0 : c * b * t_p', powStmts('a', '(b - 1.0)')),
  /** dy * y * log(a) with inputs (a, b, y, dy); 0 where a = 0 and b >= 0 (PyTorch). */
  powGradB: spec(
    'powGradB',
    4,
    0,
    'a == 0.0 ? (b >= 0.0 ? 0.0 : t_g) : t_g',
    'let t_g = d * c * Math.log(a);',
  ),
  /** Gradient of max(a, b) for a, inputs (a, b, dy): all of dy where a wins, half at ties (PyTorch). */
  maximumGrad: spec('maximumGrad', 3, 0, 'a > b ? c : (a == b ? 0.5 * c : 0.0)'),
  minimumGrad: spec('minimumGrad', 3, 0, 'a < b ? c : (a == b ? 0.5 * c : 0.0)'),
  maximumScalar: spec('maximumScalar', 1, 1, 'Math.max(a, p0)'),
  minimumScalar: spec('minimumScalar', 1, 1, 'Math.min(a, p0)'),
  maximumScalarGrad: spec('maximumScalarGrad', 2, 1, 'a > p0 ? b : (a == p0 ? 0.5 * b : 0.0)'),
  minimumScalarGrad: spec('minimumScalarGrad', 2, 1, 'a < p0 ? b : (a == p0 ? 0.5 * b : 0.0)'),
  /** dy where p0 <= x <= p1, inputs (x, dy) (PyTorch's clamp backward). */
  clampGrad: spec('clampGrad', 2, 2, 'a >= p0 ? (a <= p1 ? b : 0.0) : 0.0'),
  /** dy * sign(x), inputs (x, dy). */
  absGrad: spec('absGrad', 2, 0, 'a > 0.0 ? b : (a < 0.0 ? -b : 0.0)'),
  /** dy / (2 y), inputs (y, dy). */
  sqrtGrad: spec('sqrtGrad', 2, 0, 'b / (2.0 * a)'),
  /** 2 x dy, inputs (x, dy). */
  squareGrad: spec('squareGrad', 2, 0, '2.0 * a * b'),
  /** cond ? dy : 0 and cond ? 0 : dy, inputs (cond, dy). */
  whereGradX: spec('whereGradX', 2, 0, 'a != 0.0 ? b : 0.0'),
  whereGradY: spec('whereGradY', 2, 0, 'a != 0.0 ? 0.0 : b'),
  whereScalarY: spec('whereScalarY', 2, 1, 'a != 0.0 ? b : p0'),
  whereScalarX: spec('whereScalarX', 2, 1, 'a != 0.0 ? p0 : b'),
  whereScalars: spec('whereScalars', 1, 2, 'a != 0.0 ? p0 : p1'),
  equalScalar: spec('equalScalar', 1, 1, 'a == p0 ? 1.0 : 0.0'),
  notEqualScalar: spec('notEqualScalar', 1, 1, 'a != p0 ? 1.0 : 0.0'),
  lessScalar: spec('lessScalar', 1, 1, 'a < p0 ? 1.0 : 0.0'),
  lessEqualScalar: spec('lessEqualScalar', 1, 1, 'a <= p0 ? 1.0 : 0.0'),
  greaterScalar: spec('greaterScalar', 1, 1, 'a > p0 ? 1.0 : 0.0'),
  greaterEqualScalar: spec('greaterEqualScalar', 1, 1, 'a >= p0 ? 1.0 : 0.0'),
  /** max/min reduction backward, inputs (x, extremum, dy, count): dy / count at every extremum. */
  extremumGrad: spec('extremumGrad', 4, 0, 'a == b ? c / d : 0.0'),
  /** logsumexp backward, inputs (x, lse, dy): dy e^(x - lse). */
  logsumexpGrad: spec('logsumexpGrad', 3, 0, 'c * Math.exp(a - b)'),
  /** softmax backward, inputs (y, dy, sum(dy y)): y (dy - s). */
  softmaxGrad: spec('softmaxGrad', 3, 0, 'a * (b - c)'),
  /** log-softmax backward, inputs (log y, dy, sum(dy)): dy - e^(log y) s. */
  logSoftmaxGrad: spec('logSoftmaxGrad', 3, 0, 'b - Math.exp(a) * c'),
  /** MSE backward, inputs (pred, target, dy): p0 (pred - target) dy. */
  mseGrad: spec('mseGrad', 3, 1, 'p0 * (a - b) * c'),
  /** BCE with logits, inputs (x, t), p0 = pos_weight: (1 - t) x + (1 + (pw - 1) t) softplus(-x). */
  bce: spec('bce', 2, 1, '(1.0 - b) * a + (1.0 + (p0 - 1.0) * b) * t_sp', bceStmts),
  /** Same with a pos_weight tensor c. */
  bceWeighted: spec('bceWeighted', 3, 0, '(1.0 - b) * a + (1.0 + (c - 1.0) * b) * t_sp', bceStmts),
  /** d/dx, inputs (x, t, dy), p0 = pos_weight, p1 = scale: ((1 - t) - (1 + (pw - 1) t) sigmoid(-x)) dy. */
  bceGradX: spec('bceGradX', 3, 2, 'p1 * c * ((1.0 - b) - (1.0 + (p0 - 1.0) * b) * t_sn)', bceStmts),
  bceWeightedGradX: spec(
    'bceWeightedGradX',
    4,
    1,
    'p0 * d * ((1.0 - b) - (1.0 + (c - 1.0) * b) * t_sn)',
    bceStmts,
  ),
  /** d/dt, inputs (x, t, dy): (-x + (pw - 1) softplus(-x)) dy. */
  bceGradT: spec('bceGradT', 3, 2, 'p1 * c * (-a + (p0 - 1.0) * t_sp)', bceStmts),
  bceWeightedGradT: spec('bceWeightedGradT', 4, 1, 'p0 * d * (-a + (c - 1.0) * t_sp)', bceStmts),
} as const;

/** Replaces the identifier `a` (input 0) in a kernels spec expression. */
function renameInput(src: string, to: string): string {
  return src.replace(/\ba\b/g, to);
}

/**
 * @internal A fused `f(a + b)` spec made from a one-input kernels spec (with any parameters): the kernels'
 * formula is reused, with its input replaced by `t_z = a + b`.
 */
export function fusedBiasSpec(name: string, base: ElementwiseSpec): ElementwiseSpec {
  const stmts = `let t_z = a + b; ${base.stmts ? renameInput(base.stmts, 't_z') : ''}`.trim();
  return spec(`bias_${name}`, 2, base.params, renameInput(base.expr, 't_z'), stmts);
}

/** @internal The fused bias + activation forward specs. */
export const BIAS_ACT = {
  identity: spec('bias_identity', 2, 0, 'a + b'),
  relu: fusedBiasSpec('relu', UNARY.relu),
  leakyRelu: fusedBiasSpec('leakyRelu', SCALAR.leakyRelu),
  sigmoid: fusedBiasSpec('sigmoid', UNARY.sigmoid),
  tanh: fusedBiasSpec('tanh', UNARY.tanh),
  gelu: fusedBiasSpec('gelu', UNARY.gelu),
  geluTanh: fusedBiasSpec('geluTanh', UNARY.geluTanh),
  selu: fusedBiasSpec('selu', UNARY.selu),
  softplus: fusedBiasSpec('softplus', UNARY.softplus),
  elu: fusedBiasSpec('elu', UNARY.elu),
} as const;
