// The parsed form of an element-wise kernel spec: what `defineKernel` produces once and every
// backend consumes (the wasm JIT emits from it; the JS and gpu.js generators take the spec's
// text, which the parse has validated token by token).

/** The `Math` functions of the kernel language, with their argument counts. */
export const MATH_FUNCTIONS = {
  abs: 1,
  acos: 1,
  acosh: 1,
  asin: 1,
  asinh: 1,
  atan: 1,
  atan2: 2,
  atanh: 1,
  cbrt: 1,
  ceil: 1,
  cos: 1,
  cosh: 1,
  exp: 1,
  expm1: 1,
  floor: 1,
  fround: 1,
  log: 1,
  log10: 1,
  log1p: 1,
  log2: 1,
  max: 2,
  min: 2,
  pow: 2,
  round: 1,
  sign: 1,
  sin: 1,
  sinh: 1,
  sqrt: 1,
  tan: 1,
  tanh: 1,
  trunc: 1,
} as const;

/** A `Math` function the kernel language allows (see {@link MATH_FUNCTIONS}). */
export type MathFunction = keyof typeof MATH_FUNCTIONS;

/** The `Math` constants of the kernel language (`Math.PI`, ...), folded to numbers by the parser. */
export const MATH_CONSTANTS: Readonly<Record<string, number>> = {
  E: Math.E,
  PI: Math.PI,
  SQRT2: Math.SQRT2,
  SQRT1_2: Math.SQRT1_2,
  LN2: Math.LN2,
  LN10: Math.LN10,
  LOG2E: Math.LOG2E,
  LOG10E: Math.LOG10E,
};

/** Arithmetic operators: numbers in, a number out. */
export type ArithmeticOperator = '+' | '-' | '*' | '/';
/** Comparisons: numbers in, a condition out (`===` and `!==` are read as `==` and `!=`). */
export type ComparisonOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';
/** Logical operators: conditions in, a condition out. */
export type LogicalOperator = '&&' | '||';

/** What an expression yields: a float, or a condition (the result of a comparison). */
export type ValueType = 'number' | 'bool';

/** A node of a parsed kernel expression. `type` is checked by the parser. */
export type KernelExpr =
  /** A float literal, or a `Math` constant (`text` is its spelling in the source). */
  | { readonly kind: 'num'; readonly type: 'number'; readonly value: number; readonly text: string }
  /** Input `a`..`f` (index 0..5). */
  | { readonly kind: 'input'; readonly type: 'number'; readonly index: number }
  /** Scalar parameter `p<index>`. */
  | { readonly kind: 'param'; readonly type: 'number'; readonly index: number }
  /** A temporary `t_*` declared in `stmts`. */
  | { readonly kind: 'temp'; readonly type: 'number'; readonly name: string }
  | { readonly kind: 'neg'; readonly type: 'number'; readonly arg: KernelExpr }
  | { readonly kind: 'not'; readonly type: 'bool'; readonly arg: KernelExpr }
  | {
      readonly kind: 'arith';
      readonly type: 'number';
      readonly op: ArithmeticOperator;
      readonly left: KernelExpr;
      readonly right: KernelExpr;
    }
  | {
      readonly kind: 'compare';
      readonly type: 'bool';
      readonly op: ComparisonOperator;
      readonly left: KernelExpr;
      readonly right: KernelExpr;
    }
  | {
      readonly kind: 'logical';
      readonly type: 'bool';
      readonly op: LogicalOperator;
      readonly left: KernelExpr;
      readonly right: KernelExpr;
    }
  /** `test ? then : otherwise`: a condition choosing between two numbers. */
  | {
      readonly kind: 'cond';
      readonly type: 'number';
      readonly test: KernelExpr;
      readonly then: KernelExpr;
      readonly otherwise: KernelExpr;
    }
  | {
      readonly kind: 'call';
      readonly type: 'number';
      readonly fn: MathFunction;
      readonly args: readonly KernelExpr[];
    };

/** One `let t_name = value;` of a spec's `stmts`. */
export interface KernelLet {
  /** The temporary's name (`t_...`). */
  readonly name: string;
  /** Its value (always a number). */
  readonly value: KernelExpr;
}

/** A parsed, validated kernel: its temporaries in order and the value of one output element. */
export interface KernelAst {
  /** The `let` declarations of `stmts`, in order. */
  readonly lets: readonly KernelLet[];
  /** The parsed `expr` (a number). */
  readonly result: KernelExpr;
}
