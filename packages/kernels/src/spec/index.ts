// The kernel language: one parser and validator for every element-wise spec (defineKernel), and
// the parsed form the backends consume.
export type {
  ArithmeticOperator,
  ComparisonOperator,
  KernelAst,
  KernelExpr,
  KernelLet,
  LogicalOperator,
  MathFunction,
  ValueType,
} from './ast.js';
export { MATH_CONSTANTS, MATH_FUNCTIONS } from './ast.js';
export type { ParsedKernel } from './define.js';
export { defineKernel, isDefinedKernel, parsedKernel } from './define.js';
export type { KernelHeader } from './parse.js';
export { INPUT_LETTERS, parseKernel } from './parse.js';
