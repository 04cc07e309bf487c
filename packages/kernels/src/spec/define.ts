import type { ElementwiseSpec } from '../backend.js';
import { ValueError } from '../errors.js';
import type { KernelAst } from './ast.js';
import { INPUT_LETTERS, parseKernel } from './parse.js';

/** What a backend gets from a validated spec: its parse and its compile-cache key. */
export interface ParsedKernel {
  /** The parsed `stmts` and `expr`. */
  readonly ast: KernelAst;
  /** The spec's identity for compile caches: name, arity, params and body. */
  readonly key: string;
}

interface Entry extends ParsedKernel {
  readonly name: string;
  readonly arity: number;
  readonly params: number;
  readonly stmts: string | undefined;
  readonly expr: string;
  /** Made by defineKernel (frozen, never changes). */
  readonly defined: boolean;
}

const FIELDS = new Set(['name', 'arity', 'params', 'stmts', 'expr']);

/** Parses and validates one spec; throws a ValueError naming the kernel and the problem. */
function validate(spec: unknown, defined: boolean): Entry {
  if (typeof spec !== 'object' || spec === null) {
    throw new ValueError(
      'defineKernel',
      `a kernel spec must be an object, got ${spec === null ? 'null' : typeof spec}`,
    );
  }
  const s = spec as Record<string, unknown>;
  const { name, arity, params, stmts, expr } = s;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ValueError(
      'defineKernel',
      `a kernel needs a non-empty string name, got ${JSON.stringify(name) ?? String(name)}`,
    );
  }
  const op = `kernel '${name}'`;
  for (const k of Object.keys(s)) {
    if (!FIELDS.has(k))
      throw new ValueError(op, `unknown field '${k}' (a spec has name, arity, params, stmts, expr)`);
  }
  if (typeof arity !== 'number' || !Number.isInteger(arity) || arity < 1 || arity > INPUT_LETTERS.length) {
    throw new ValueError(
      op,
      `arity must be an integer from 1 to ${INPUT_LETTERS.length}, got ${String(arity)}`,
    );
  }
  if (typeof params !== 'number' || !Number.isInteger(params) || params < 0) {
    throw new ValueError(op, `params must be a non-negative integer, got ${String(params)}`);
  }
  if (stmts !== undefined && typeof stmts !== 'string') {
    throw new ValueError(op, `stmts must be a string when given, got ${typeof stmts}`);
  }
  if (typeof expr !== 'string') throw new ValueError(op, `expr must be a string, got ${typeof expr}`);
  const ast = parseKernel({ name, arity, params }, stmts, expr);
  const key = JSON.stringify([name, arity, params, stmts ?? '', expr]);
  return { ast, key, name, arity, params, stmts, expr, defined };
}

/** Parses of specs, by object identity: defined ones, and plain objects validated on first use. */
const parsed = new WeakMap<object, Entry>();

/**
 * Defines an element-wise kernel: parses and validates its `stmts` and `expr` once, here, and
 * returns a frozen spec that every backend compiles without parsing again (the parse is kept
 * with the spec). A mistake is a `ValueError` at definition time that names the kernel, the
 * problem and its column, instead of a failure inside a backend at the first call.
 *
 * The kernel language (a subset of JavaScript that gpu.js, the wasm JIT and the JS backend all
 * compile the same way):
 * - `expr`: one expression, the value of one output element (a number).
 * - `stmts` (optional): `let t_name = expression;` declarations, each before its first use and
 *   declared once (`const` is read as `let`).
 * - Names: inputs `a` .. `f` (the first `arity` letters, already broadcast and loaded), scalar
 *   parameters `p0` .. `p{params-1}`, temporaries `t_*`, `Math.<fn>(...)` with `fn` one of abs,
 *   acos, acosh, asin, asinh, atan, atan2, atanh, cbrt, ceil, cos, cosh, exp, expm1, floor, fround,
 *   log, log10, log1p, log2, max, min, pow, round, sign, sin, sinh, sqrt, tan, tanh, trunc (max,
 *   min, pow and atan2 take two arguments, the others one) and the constants `Math.PI`, `Math.E`,
 *   `Math.SQRT2`, `Math.SQRT1_2`, `Math.LN2`, `Math.LN10`, `Math.LOG2E`, `Math.LOG10E`.
 * - Float literals with a decimal point or an exponent (`1.0`, `0.5`, `1e-7`; not `1`), finite in
 *   float32.
 * - Operators `+ - * /` and unary `-` on numbers; comparisons `== != < <= > >=` (`===`, `!==`
 *   read the same) give conditions; `&&`, `||`, `!` combine conditions; `cond ? x : y` chooses
 *   between numbers; parentheses. A condition is not a number (`(a > 0.0) * b` is an error: write
 *   `a > 0.0 ? b : 0.0`) and a number is not a condition (write `x != 0.0`). No `%`, assignments,
 *   loops or other statements.
 *
 * Backends cache compiled code by name and body (two specs with one name and different bodies do
 * not share code), so the name need not be unique, but a package-prefixed name
 * (`'mypkg.fusedUpdate'`) keeps error messages clear. A spec that was not made by `defineKernel`
 * (a plain object from older code) is validated the same way on its first use by `Device.map`
 * or a backend, and then cached by identity.
 *
 * @param def - `name`, `arity` (1 to 6 inputs), `params` (number of scalar parameters),
 *   optional `stmts`, and `expr`. Unknown fields are an error.
 * @returns A frozen {@link ElementwiseSpec} to pass to `Device.map`. Defining an already defined
 *   spec returns it unchanged.
 * @throws {ValueError} `kernel 'name': <problem> at column <n> of expr` (or `of stmts`), e.g.
 *   an unknown identifier, `input 'c' ..., but arity 2`, `uses p1 ... but declares params: 1`,
 *   a temporary used before its `let` or declared twice, `number 2 ... needs a decimal point`.
 * @example
 * ```ts
 * import { defineKernel, getDevice } from '@gradkit/kernels';
 *
 * // softsign with a scale: p0 * x / (1 + |x|)
 * const SOFTSIGN = defineKernel({
 *   name: 'mypkg.softsign',
 *   arity: 1,
 *   params: 1,
 *   stmts: 'let t_d = 1.0 + Math.abs(a);',
 *   expr: 'p0 * a / t_d',
 * });
 * const d = getDevice();
 * d.map(SOFTSIGN, [d.array([-3, 1])], [2]).read(); // [-1.5, 1]
 * ```
 */
export function defineKernel(def: ElementwiseSpec): ElementwiseSpec {
  const known = typeof def === 'object' && def !== null ? parsed.get(def) : undefined;
  if (known?.defined) return def;
  const e = validate(def, true);
  const spec: ElementwiseSpec = Object.freeze({
    name: e.name,
    arity: e.arity,
    params: e.params,
    ...(e.stmts !== undefined ? { stmts: e.stmts } : {}),
    expr: e.expr,
  });
  parsed.set(spec, e);
  return spec;
}

/**
 * The parse of a spec for a backend: looked up for a spec made by {@link defineKernel}, parsed
 * and validated on first use for any other object (cached by identity, and parsed again if its
 * fields changed since).
 *
 * @internal
 * @throws {ValueError} as {@link defineKernel} for a spec that is not valid.
 */
export function parsedKernel(spec: ElementwiseSpec): ParsedKernel {
  const e = parsed.get(spec);
  if (
    e !== undefined &&
    (e.defined ||
      (e.name === spec.name &&
        e.arity === spec.arity &&
        e.params === spec.params &&
        e.stmts === spec.stmts &&
        e.expr === spec.expr))
  ) {
    return e;
  }
  const fresh = validate(spec, false);
  parsed.set(spec, fresh);
  return fresh;
}

/**
 * Whether `spec` was made by {@link defineKernel} (validated and frozen at definition).
 *
 * @example
 * ```ts
 * isDefinedKernel(UNARY.relu); // true
 * isDefinedKernel({ name: 'x', arity: 1, params: 0, expr: 'a' }); // false
 * ```
 */
export function isDefinedKernel(spec: ElementwiseSpec): boolean {
  return parsed.get(spec)?.defined === true;
}
