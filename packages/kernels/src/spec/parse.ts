// The tokenizer and parser of the kernel language (see defineKernel): `stmts` and `expr` of an
// element-wise spec become a typed AST, or a ValueError that names the kernel, what was wrong and
// where (the column in `stmts` or `expr`).

import { ValueError } from '../errors.js';
import type {
  ArithmeticOperator,
  ComparisonOperator,
  KernelAst,
  KernelExpr,
  KernelLet,
  MathFunction,
} from './ast.js';
import { MATH_CONSTANTS, MATH_FUNCTIONS } from './ast.js';

/** Input names of the kernel language, by index. */
export const INPUT_LETTERS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;

/** What the parser needs to know about a spec besides its text. */
export interface KernelHeader {
  /** The kernel's name (for messages). */
  readonly name: string;
  /** Number of inputs: `a`.. the arity-th letter may be used. */
  readonly arity: number;
  /** Number of scalar parameters: `p0`..`p{params-1}` may be used. */
  readonly params: number;
}

type Part = 'stmts' | 'expr';

interface Token {
  readonly kind: 'num' | 'name' | 'op' | 'end';
  readonly text: string;
  /** 1-based column in the part's source. */
  readonly col: number;
}

const NUMBER = /(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?/y;
const NAME = /[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*/y;
const OPERATORS = [
  '===',
  '!==',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '+',
  '-',
  '*',
  '/',
  '%',
  '!',
  '?',
  ':',
  '(',
  ')',
  ',',
  ';',
  '=',
  '<',
  '>',
];
const FLOAT32_MAX = 3.4028234663852886e38;

const own = (o: object, k: string): boolean => Object.hasOwn(o, k);

function fail(h: KernelHeader, message: string): never {
  throw new ValueError(`kernel '${h.name}'`, message);
}

function at(part: Part, col: number): string {
  return `at column ${col} of ${part}`;
}

function tokenize(h: KernelHeader, part: Part, src: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  while (pos < src.length) {
    const ch = src[pos];
    if (/\s/.test(ch)) {
      pos++;
      continue;
    }
    const col = pos + 1;
    NUMBER.lastIndex = pos;
    const num = /[\d.]/.test(ch) ? NUMBER.exec(src) : null;
    if (num) {
      const text = num[0];
      pos = NUMBER.lastIndex;
      if (pos < src.length && /[\w$.]/.test(src[pos])) {
        fail(h, `malformed number '${text}${src[pos]}' ${at(part, col)}`);
      }
      out.push({ kind: 'num', text, col });
      continue;
    }
    NAME.lastIndex = pos;
    const name = NAME.exec(src);
    if (name) {
      out.push({ kind: 'name', text: name[0], col });
      pos = NAME.lastIndex;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, pos));
    if (!op) fail(h, `unexpected character '${ch}' ${at(part, col)}`);
    out.push({ kind: 'op', text: op, col });
    pos += op.length;
  }
  out.push({ kind: 'end', text: '', col: src.length + 1 });
  return out;
}

const COMPARISONS: Record<string, ComparisonOperator> = {
  '==': '==',
  '===': '==',
  '!=': '!=',
  '!==': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

/** Binary levels, loosest first (JavaScript's precedence). */
const LEVELS: readonly (readonly string[])[] = [
  ['||'],
  ['&&'],
  ['==', '===', '!=', '!=='],
  ['<', '<=', '>', '>='],
  ['+', '-'],
  ['*', '/', '%'],
];

const TEMP = /^t_[A-Za-z0-9_]+$/;
const STATEMENT_WORDS = new Set([
  'if',
  'else',
  'for',
  'while',
  'do',
  'return',
  'var',
  'function',
  'switch',
  'break',
  'continue',
]);

class Parser {
  private p = 0;
  constructor(
    private readonly h: KernelHeader,
    private readonly part: Part,
    private readonly toks: readonly Token[],
    /** Temporaries declared so far (name -> declared). */
    private readonly temps: Set<string>,
  ) {}

  peek(): Token {
    return this.toks[this.p];
  }
  next(): Token {
    const t = this.toks[this.p];
    if (t.kind !== 'end') this.p++;
    return t;
  }
  atEnd(): boolean {
    return this.peek().kind === 'end';
  }
  describe(t: Token): string {
    return t.kind === 'end' ? `end of ${this.part} (column ${t.col})` : `'${t.text}' ${at(this.part, t.col)}`;
  }
  fail(message: string): never {
    return fail(this.h, message);
  }
  expectOp(text: string, what: string): Token {
    const t = this.next();
    if (t.kind !== 'op' || t.text !== text) this.fail(`expected '${text}' ${what}, got ${this.describe(t)}`);
    return t;
  }

  /** expression := logical ('?' expression ':' expression)? */
  expression(): KernelExpr {
    const start = this.peek();
    const test = this.binary(0);
    const q = this.peek();
    if (q.kind !== 'op' || q.text !== '?') return test;
    this.next();
    if (test.type !== 'bool') {
      this.fail(
        `the condition of '?' ${at(this.part, q.col)} must be a comparison (==, !=, <, <=, >, >=, &&, ||, !), got a number starting ${at(this.part, start.col)}`,
      );
    }
    const then = this.number(this.expression(), `the value after '?' ${at(this.part, q.col)}`);
    const colon = this.expectOp(':', `after the value of '?' ${at(this.part, q.col)}`);
    const otherwise = this.number(this.expression(), `the value after ':' ${at(this.part, colon.col)}`);
    return { kind: 'cond', type: 'number', test, then, otherwise };
  }

  private number(e: KernelExpr, what: string): KernelExpr {
    if (e.type !== 'number') this.fail(`${what} must be a number, got a comparison`);
    return e;
  }

  private binary(level: number): KernelExpr {
    if (level === LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !LEVELS[level].includes(t.text)) return left;
      this.next();
      if (t.text === '%') {
        this.fail(
          `operator '%' ${at(this.part, t.col)} is not in the kernel language (GLSL's mod and JavaScript's % differ for negative operands): write a - b * Math.trunc(a / b)`,
        );
      }
      const right = this.binary(level + 1);
      const where = `'${t.text}' ${at(this.part, t.col)}`;
      if (t.text === '&&' || t.text === '||') {
        if (left.type !== 'bool' || right.type !== 'bool') {
          this.fail(`${where} joins conditions (comparisons), got a number`);
        }
        left = { kind: 'logical', type: 'bool', op: t.text, left, right };
      } else if (t.text in COMPARISONS) {
        if (left.type !== 'number' || right.type !== 'number') {
          this.fail(`${where} compares numbers, got a comparison (combine conditions with && or ||)`);
        }
        left = { kind: 'compare', type: 'bool', op: COMPARISONS[t.text], left, right };
      } else {
        if (left.type !== 'number' || right.type !== 'number') {
          this.fail(`${where} needs numbers, got a comparison (write c ? 1.0 : 0.0 for a number)`);
        }
        left = { kind: 'arith', type: 'number', op: t.text as ArithmeticOperator, left, right };
      }
    }
  }

  private unary(): KernelExpr {
    const t = this.peek();
    if (t.kind === 'op' && t.text === '-') {
      this.next();
      const arg = this.unary();
      if (arg.type !== 'number')
        this.fail(`unary '-' ${at(this.part, t.col)} needs a number, got a comparison`);
      return { kind: 'neg', type: 'number', arg };
    }
    if (t.kind === 'op' && t.text === '!') {
      this.next();
      const arg = this.unary();
      if (arg.type !== 'bool') {
        this.fail(
          `'!' ${at(this.part, t.col)} negates a condition (a comparison), got a number (write x == 0.0)`,
        );
      }
      return { kind: 'not', type: 'bool', arg };
    }
    if (t.kind === 'op' && t.text === '+') {
      this.fail(`unary '+' ${at(this.part, t.col)} is not in the kernel language: write the value itself`);
    }
    return this.primary();
  }

  private primary(): KernelExpr {
    const t = this.next();
    if (t.kind === 'op' && t.text === '(') {
      const e = this.expression();
      this.expectOp(')', `to close '(' ${at(this.part, t.col)}`);
      return e;
    }
    if (t.kind === 'num') return this.literal(t);
    if (t.kind === 'name') return this.name(t);
    return this.fail(`expected a value, got ${this.describe(t)}`);
  }

  private literal(t: Token): KernelExpr {
    const value = Number(t.text);
    if (!/[.eE]/.test(t.text)) {
      this.fail(
        `number ${t.text} ${at(this.part, t.col)} needs a decimal point (write ${t.text}.0): the kernel language writes every literal as a float, as the GLSL and WGSL sources generated from it need`,
      );
    }
    if (!(Math.abs(Math.fround(value)) <= FLOAT32_MAX)) {
      this.fail(
        `number ${t.text} ${at(this.part, t.col)} overflows float32 (largest finite: 3.4028234663852886e38)`,
      );
    }
    return { kind: 'num', type: 'number', value, text: t.text };
  }

  private name(t: Token): KernelExpr {
    const s = t.text;
    const where = at(this.part, t.col);
    if (s.startsWith('Math.')) {
      const member = s.slice(5);
      if (own(MATH_CONSTANTS, member))
        return { kind: 'num', type: 'number', value: MATH_CONSTANTS[member], text: s };
      if (!own(MATH_FUNCTIONS, member)) {
        this.fail(
          `'${s}' ${where} is not in the kernel language (Math functions: ${Object.keys(MATH_FUNCTIONS).join(', ')}; constants: ${Object.keys(MATH_CONSTANTS).join(', ')})`,
        );
      }
      const fn = member as MathFunction;
      this.expectOp('(', `after '${s}' ${where}`);
      const args: KernelExpr[] = [];
      if (!(this.peek().kind === 'op' && this.peek().text === ')')) {
        for (;;) {
          const argTok = this.peek();
          args.push(
            this.number(
              this.expression(),
              `argument ${args.length + 1} of '${s}' ${at(this.part, argTok.col)}`,
            ),
          );
          const sep = this.peek();
          if (sep.kind === 'op' && sep.text === ',') {
            this.next();
            continue;
          }
          break;
        }
      }
      this.expectOp(')', `to close the arguments of '${s}' ${where}`);
      const want = MATH_FUNCTIONS[fn];
      if (args.length !== want) {
        this.fail(`'${s}' ${where} takes ${want} argument${want === 1 ? '' : 's'}, got ${args.length}`);
      }
      return { kind: 'call', type: 'number', fn, args };
    }
    const input = (INPUT_LETTERS as readonly string[]).indexOf(s);
    if (input >= 0) {
      if (input >= this.h.arity) {
        this.fail(
          `input '${s}' ${where}, but arity ${this.h.arity} (inputs ${INPUT_LETTERS.slice(0, this.h.arity).join(', ')})`,
        );
      }
      return { kind: 'input', type: 'number', index: input };
    }
    const param = /^p(0|[1-9]\d*)$/.exec(s);
    if (param) {
      const index = Number(param[1]);
      if (index >= this.h.params) this.fail(`uses ${s} ${where} but declares params: ${this.h.params}`);
      return { kind: 'param', type: 'number', index };
    }
    if (s.startsWith('t_')) {
      if (!this.temps.has(s)) {
        this.fail(
          `temporary '${s}' ${where} is used before it is declared (declare it in stmts: let ${s} = ...;)`,
        );
      }
      return { kind: 'temp', type: 'number', name: s };
    }
    if (STATEMENT_WORDS.has(s) || s === 'let' || s === 'const') {
      this.fail(
        `'${s}' ${where} is not allowed here: ${this.part === 'expr' ? 'expr is one expression' : "stmts holds only 'let t_name = expression;' declarations"}`,
      );
    }
    return this.fail(
      `unknown identifier '${s}' ${where} (inputs ${INPUT_LETTERS.slice(0, this.h.arity).join(', ')}; ${this.h.params === 0 ? 'no parameters' : this.h.params === 1 ? 'parameter p0' : `parameters p0..p${this.h.params - 1}`}; temporaries t_*; Math.*)`,
    );
  }
}

/**
 * Parses and validates the `stmts` (zero or more `let t_name = expression;`) and `expr` (one
 * expression) of a spec: names (inputs limited by `arity`, parameters by `params`, temporaries
 * declared before use and once), float literals, the allowed `Math` functions and their argument
 * counts, and types (conditions where conditions go, numbers elsewhere).
 *
 * @throws {ValueError} naming the kernel, the problem and its column in `stmts` or `expr`.
 */
export function parseKernel(h: KernelHeader, stmts: string | undefined, expr: string): KernelAst {
  const temps = new Set<string>();
  const lets: KernelLet[] = [];
  if (stmts !== undefined) {
    const p = new Parser(h, 'stmts', tokenize(h, 'stmts', stmts), temps);
    while (!p.atEnd()) {
      const kw = p.next();
      if (kw.kind === 'op' && kw.text === ';') continue;
      if (kw.kind !== 'name' || (kw.text !== 'let' && kw.text !== 'const')) {
        p.fail(
          `expected 'let' ${at('stmts', kw.col)}, got '${kw.text}': stmts holds only 'let t_name = expression;' declarations`,
        );
      }
      const id = p.next();
      if (id.kind !== 'name' || !TEMP.test(id.text)) {
        p.fail(`a temporary must be named t_<letters, digits or _>, got ${p.describe(id)}`);
      }
      if (temps.has(id.text)) p.fail(`temporary '${id.text}' ${at('stmts', id.col)} is declared twice`);
      p.expectOp('=', `after 'let ${id.text}' ${at('stmts', id.col)}`);
      const start = p.peek();
      const value = p.expression();
      if (value.type !== 'number') {
        p.fail(`temporary '${id.text}' must hold a number, got a comparison ${at('stmts', start.col)}`);
      }
      temps.add(id.text);
      lets.push({ name: id.text, value });
      if (!p.atEnd()) p.expectOp(';', `after the value of '${id.text}'`);
    }
  }
  const p = new Parser(h, 'expr', tokenize(h, 'expr', expr), temps);
  if (p.atEnd()) p.fail('expr is empty');
  const start = p.peek();
  const result = p.expression();
  if (!p.atEnd()) p.fail(`unexpected ${p.describe(p.peek())}: expr is one expression`);
  if (result.type !== 'number') {
    p.fail(
      `the value of expr must be a number, got a comparison ${at('expr', start.col)} (write c ? 1.0 : 0.0)`,
    );
  }
  return { lets, result };
}
