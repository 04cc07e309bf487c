import { describe, expect, it } from 'vitest';
import { ValueError } from '../errors.js';
import type { KernelExpr } from './ast.js';
import { parseKernel } from './parse.js';

// The kernel language's parser: the AST of good specs (precedence, associativity, folding of
// Math constants, temporaries) and, for each kind of mistake, the exact message with its column.

const H1 = { name: 'foo', arity: 1, params: 0 };
const H2 = { name: 'foo', arity: 2, params: 1 };

/** A compact rendering of an expression: fully parenthesised, inputs by letter. */
function show(e: KernelExpr): string {
  switch (e.kind) {
    case 'num':
      return e.text;
    case 'input':
      return 'abcdef'[e.index];
    case 'param':
      return `p${e.index}`;
    case 'temp':
      return e.name;
    case 'neg':
      return `(-${show(e.arg)})`;
    case 'not':
      return `(!${show(e.arg)})`;
    case 'arith':
    case 'compare':
    case 'logical':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'cond':
      return `(${show(e.test)} ? ${show(e.then)} : ${show(e.otherwise)})`;
    case 'call':
      return `${e.fn}(${e.args.map(show).join(', ')})`;
  }
}

const expr = (src: string, h = H2) => show(parseKernel(h, undefined, src).result);

/** The message of the ValueError that parsing throws. */
function error(src: string, stmts?: string, h = H2): string {
  try {
    parseKernel(h, stmts, src);
  } catch (e) {
    expect(e).toBeInstanceOf(ValueError);
    return (e as Error).message;
  }
  throw new Error(`no error for ${src}`);
}

describe('kernel language: what parses, and to what', () => {
  it('follows JavaScript precedence and associativity', () => {
    expect(expr('a + b * p0')).toBe('(a + (b * p0))');
    expect(expr('a - b - 1.0')).toBe('((a - b) - 1.0)');
    expect(expr('a / b / 2.0')).toBe('((a / b) / 2.0)');
    expect(expr('-a * b')).toBe('((-a) * b)');
    expect(expr('a - -b')).toBe('(a - (-b))');
    expect(expr('(a + b) * 2.0')).toBe('((a + b) * 2.0)');
    expect(expr('a < b && b < 1.0 || !(a == b) ? a : b')).toBe(
      '((((a < b) && (b < 1.0)) || (!(a == b))) ? a : b)',
    );
    // ternaries nest to the right
    expect(expr('a > 0.0 ? 1.0 : a < 0.0 ? -1.0 : a')).toBe('((a > 0.0) ? 1.0 : ((a < 0.0) ? (-1.0) : a))');
    expect(expr('a > 0.0 ? b > 0.0 ? 1.0 : 2.0 : 3.0')).toBe('((a > 0.0) ? ((b > 0.0) ? 1.0 : 2.0) : 3.0)');
  });

  it('reads === and !== as == and !=, folds Math constants, keeps literal spelling', () => {
    const r = parseKernel(H1, undefined, 'a === 1.5e-3 ? Math.PI : (a !== a ? .5 : 2.)').result;
    expect(show(r)).toBe('((a == 1.5e-3) ? Math.PI : ((a != a) ? .5 : 2.))');
    if (r.kind !== 'cond' || r.then.kind !== 'num') throw new Error('shape');
    expect(r.then.value).toBe(Math.PI);
  });

  it('parses Math calls with their argument counts and let temporaries in order', () => {
    const ast = parseKernel(
      H2,
      'let t_x = Math.max(a, b); const t_y2 = Math.pow(Math.abs(t_x), p0);;',
      'Math.atan2(t_y2, t_x) + Math.exp(-a)',
    );
    expect(ast.lets.map((l) => [l.name, show(l.value)])).toEqual([
      ['t_x', 'max(a, b)'],
      ['t_y2', 'pow(abs(t_x), p0)'],
    ]);
    expect(show(ast.result)).toBe('(atan2(t_y2, t_x) + exp((-a)))');
    expect(parseKernel(H1, 'let t_a = a', 't_a').lets).toHaveLength(1); // last ';' optional
    expect(parseKernel(H1, '  ', 'a').lets).toEqual([]);
  });

  it('types every node: comparisons and logic are conditions, the rest numbers', () => {
    const r = parseKernel(H1, undefined, '!(a > 0.0) ? -a : a').result;
    if (r.kind !== 'cond') throw new Error('shape');
    expect([r.type, r.test.type, r.then.type]).toEqual(['number', 'bool', 'number']);
  });
});

describe('kernel language: each mistake is a ValueError naming the kernel and the column', () => {
  it('names and arity', () => {
    expect(error('a + x')).toBe(
      "kernel 'foo': unknown identifier 'x' at column 5 of expr (inputs a, b; parameter p0; temporaries t_*; Math.*)",
    );
    expect(error('a + c')).toBe("kernel 'foo': input 'c' at column 5 of expr, but arity 2 (inputs a, b)");
    expect(error('a * p1')).toBe("kernel 'foo': uses p1 at column 5 of expr but declares params: 1");
    expect(error('a * p0', undefined, H1)).toBe(
      "kernel 'foo': uses p0 at column 5 of expr but declares params: 0",
    );
    expect(error('p01')).toMatch(/unknown identifier 'p01' at column 1/);
    expect(error('Math.random()')).toMatch(
      /^kernel 'foo': 'Math\.random' at column 1 of expr is not in the kernel language \(Math functions: abs, /,
    );
    expect(error('Math.toString(a)')).toMatch(
      /'Math\.toString' at column 1 of expr is not in the kernel language/,
    );
    expect(error('Math.log(a, b)')).toBe(
      "kernel 'foo': 'Math.log' at column 1 of expr takes 1 argument, got 2",
    );
    expect(error('Math.max(a, b, p0)')).toBe(
      "kernel 'foo': 'Math.max' at column 1 of expr takes 2 arguments, got 3",
    );
    expect(error('Math.abs')).toBe(
      "kernel 'foo': expected '(' after 'Math.abs' at column 1 of expr, got end of expr (column 9)",
    );
  });

  it('temporaries: declared before use, once, named t_*, holding numbers', () => {
    expect(error('t_x')).toBe(
      "kernel 'foo': temporary 't_x' at column 1 of expr is used before it is declared (declare it in stmts: let t_x = ...;)",
    );
    expect(error('t_x', 'let t_x = t_x + 1.0;')).toMatch(
      /temporary 't_x' at column 11 of stmts is used before/,
    );
    expect(error('t_y', 'let t_y = t_z; let t_z = a;')).toMatch(
      /temporary 't_z' at column 11 of stmts is used before/,
    );
    expect(error('t_x', 'let t_x = a; let t_x = b;')).toBe(
      "kernel 'foo': temporary 't_x' at column 18 of stmts is declared twice",
    );
    expect(error('a', 'let x = a;')).toBe(
      "kernel 'foo': a temporary must be named t_<letters, digits or _>, got 'x' at column 5 of stmts",
    );
    expect(error('a', 'let t_ = a;')).toMatch(/must be named t_<letters, digits or _>, got 't_'/);
    expect(error('t_c', 'let t_c = a > b;')).toBe(
      "kernel 'foo': temporary 't_c' must hold a number, got a comparison at column 11 of stmts",
    );
    expect(error('a', 't_x = a;')).toBe(
      "kernel 'foo': expected 'let' at column 1 of stmts, got 't_x': stmts holds only 'let t_name = expression;' declarations",
    );
    expect(error('a', 'let t_x = a let t_y = b;')).toBe(
      "kernel 'foo': expected ';' after the value of 't_x', got 'let' at column 13 of stmts",
    );
    expect(error('a', 'let t_x a;')).toBe(
      "kernel 'foo': expected '=' after 'let t_x' at column 5 of stmts, got 'a' at column 9 of stmts",
    );
    expect(error('a', 'if (a > 0.0) { a; }')).toBe(
      "kernel 'foo': unexpected character '{' at column 14 of stmts",
    );
    expect(error('a', 'return a;')).toMatch(/expected 'let' at column 1 of stmts, got 'return'/);
  });

  it('literals: a decimal point or an exponent, finite in float32', () => {
    expect(error('a * 2')).toBe(
      "kernel 'foo': number 2 at column 5 of expr needs a decimal point (write 2.0): the kernel language writes every literal as a float, as the GLSL and WGSL sources generated from it need",
    );
    expect(error('a + 10')).toMatch(/number 10 at column 5 of expr needs a decimal point \(write 10\.0\)/);
    expect(expr('a * 1e3 + 2.0e-1')).toBe('((a * 1e3) + 2.0e-1)');
    expect(error('a * 1e39')).toBe(
      "kernel 'foo': number 1e39 at column 5 of expr overflows float32 (largest finite: 3.4028234663852886e38)",
    );
    expect(expr('3.4028234663852886e38')).toBe('3.4028234663852886e38');
    expect(error('a * 1.5.2')).toBe("kernel 'foo': malformed number '1.5.' at column 5 of expr");
    expect(error('a * 2x')).toBe("kernel 'foo': malformed number '2x' at column 5 of expr");
  });

  it('types: conditions where conditions go, numbers everywhere else', () => {
    expect(error('a > 0.0')).toBe(
      "kernel 'foo': the value of expr must be a number, got a comparison at column 1 of expr (write c ? 1.0 : 0.0)",
    );
    expect(error('a ? 1.0 : 0.0')).toBe(
      "kernel 'foo': the condition of '?' at column 3 of expr must be a comparison (==, !=, <, <=, >, >=, &&, ||, !), got a number starting at column 1 of expr",
    );
    expect(error('(a > 0.0) * 2.0')).toBe(
      "kernel 'foo': '*' at column 11 of expr needs numbers, got a comparison (write c ? 1.0 : 0.0 for a number)",
    );
    expect(error('a && b ? 1.0 : 0.0')).toBe(
      "kernel 'foo': '&&' at column 3 of expr joins conditions (comparisons), got a number",
    );
    expect(error('!a ? 1.0 : 0.0')).toBe(
      "kernel 'foo': '!' at column 1 of expr negates a condition (a comparison), got a number (write x == 0.0)",
    );
    expect(error('a < b < 1.0 ? 1.0 : 0.0')).toMatch(
      /'<' at column 7 of expr compares numbers, got a comparison/,
    );
    expect(error('-(a > b) ? 1.0 : 0.0')).toMatch(
      /unary '-' at column 1 of expr needs a number, got a comparison/,
    );
    expect(error('a > b ? a > 0.0 : b')).toMatch(
      /the value after '\?' at column 7 of expr must be a number, got a comparison/,
    );
    expect(error('Math.abs(a > b)')).toMatch(
      /argument 1 of 'Math\.abs' at column 10 of expr must be a number/,
    );
  });

  it('syntax: operators outside the language, unbalanced or trailing tokens', () => {
    expect(error('a % 2.0')).toBe(
      "kernel 'foo': operator '%' at column 3 of expr is not in the kernel language (GLSL's mod and JavaScript's % differ for negative operands): write a - b * Math.trunc(a / b)",
    );
    expect(error('+a')).toBe(
      "kernel 'foo': unary '+' at column 1 of expr is not in the kernel language: write the value itself",
    );
    expect(error('(a + 1.0')).toBe(
      "kernel 'foo': expected ')' to close '(' at column 1 of expr, got end of expr (column 9)",
    );
    expect(error('a + 1.0)')).toBe(
      "kernel 'foo': unexpected ')' at column 8 of expr: expr is one expression",
    );
    expect(error('a; b')).toBe("kernel 'foo': unexpected ';' at column 2 of expr: expr is one expression");
    expect(error('a = b')).toBe("kernel 'foo': unexpected '=' at column 3 of expr: expr is one expression");
    expect(error('a > 0.0 ? a')).toBe(
      "kernel 'foo': expected ':' after the value of '?' at column 9 of expr, got end of expr (column 12)",
    );
    expect(error('a + ')).toBe("kernel 'foo': expected a value, got end of expr (column 5)");
    expect(error('a # b')).toBe("kernel 'foo': unexpected character '#' at column 3 of expr");
    expect(error('a[0]')).toBe("kernel 'foo': unexpected character '[' at column 2 of expr");
    expect(error('  ')).toBe("kernel 'foo': expr is empty");
    expect(error('let')).toBe(
      "kernel 'foo': 'let' at column 1 of expr is not allowed here: expr is one expression",
    );
    expect(error('a.x')).toMatch(/unknown identifier 'a\.x' at column 1 of expr/);
  });
});
