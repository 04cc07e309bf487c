import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from './errors.js';
import {
  checkBoolean,
  checkFinite,
  checkFloat32,
  checkInteger,
  checkInterval,
  checkKnownKeys,
  checkNonNegative,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkPositive,
  checkShape,
  checkUnitInterval,
  describeValue,
  float32Problem,
  invalidArgument,
} from './validate.js';

// The one message format of every package's argument checks: `<op>: <name> must be <requirement>,
// got <value>`. Every message is pinned exactly: a drifting copy is what this module replaced.

function messageOf(fn: () => unknown, type: typeof ValueError | typeof ShapeError = ValueError): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    expect((e as ValueError).op).toBe('op');
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

class Thing {}

describe('describeValue', () => {
  it('prints values the way every message shows them', () => {
    expect(describeValue(-1e-8)).toBe('-1e-8');
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
    expect(describeValue(true)).toBe('true');
    expect(describeValue(3n)).toBe('3');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue('tf')).toBe('"tf"');
    expect(describeValue([0.9])).toBe('[0.9]');
    expect(describeValue({ a: 1 })).toBe('{"a":1}');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue(new Thing())).toBe('a Thing');
    expect(describeValue(new Float32Array(2))).toBe('a Float32Array');
    expect(describeValue(new Array(100).fill(1))).toHaveLength(80);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(describeValue(cyclic)).toBe('an array');
  });
});

describe('checks return the value and throw one message format', () => {
  it('checkFinite / checkNumber', () => {
    expect(checkFinite('op', 'x', -2.5)).toBe(-2.5);
    expect(messageOf(() => checkFinite('op', 'x', Number.NaN))).toBe(
      'op: x must be a finite number, got NaN',
    );
    expect(messageOf(() => checkFinite('op', 'x', '1'))).toBe('op: x must be a finite number, got "1"');
    expect(messageOf(() => checkFinite('op', 'x', Number.POSITIVE_INFINITY))).toBe(
      'op: x must be a finite number, got Infinity',
    );
    expect(checkNumber('op', 'x', Number.NaN)).toBeNaN();
    expect(messageOf(() => checkNumber('op', 'x', undefined))).toBe('op: x must be a number, got undefined');
  });

  it('checkNonNegative / checkPositive: finiteness first, then the sign', () => {
    expect(checkNonNegative('op', 'x', 0)).toBe(0);
    expect(messageOf(() => checkNonNegative('op', 'x', -0.01))).toBe('op: x must be >= 0, got -0.01');
    expect(messageOf(() => checkNonNegative('op', 'x', Number.NaN))).toBe(
      'op: x must be a finite number, got NaN',
    );
    expect(checkPositive('op', 'x', 1e-30)).toBe(1e-30);
    expect(messageOf(() => checkPositive('op', 'x', 0))).toBe('op: x must be > 0, got 0');
    expect(messageOf(() => checkPositive('op', 'x', null))).toBe('op: x must be a finite number, got null');
  });

  it('checkInterval / checkUnitInterval: brackets as given, ends exact', () => {
    expect(checkUnitInterval('op', 'p', 0)).toBe(0);
    expect(checkUnitInterval('op', 'p', 1 - 2 ** -53)).toBe(1 - 2 ** -53);
    expect(messageOf(() => checkUnitInterval('op', 'p', 1))).toBe('op: p must be in [0, 1), got 1');
    expect(messageOf(() => checkUnitInterval('op', 'p', -0.5))).toBe('op: p must be in [0, 1), got -0.5');
    expect(checkUnitInterval('op', 'p', 1, true)).toBe(1);
    expect(messageOf(() => checkUnitInterval('op', 'p', 1.1, true))).toBe('op: p must be in [0, 1], got 1.1');
    expect(messageOf(() => checkInterval('op', 'x', 0, 0, 2, { includeLow: false }))).toBe(
      'op: x must be in (0, 2], got 0',
    );
    expect(checkInterval('op', 'x', 2, 0, 2, { includeLow: false })).toBe(2);
    expect(messageOf(() => checkInterval('op', 'x', Number.NaN, 0, 2))).toBe(
      'op: x must be a finite number, got NaN',
    );
  });

  it('checkInteger: safe integers from min', () => {
    expect(checkInteger('op', 'n', 0)).toBe(0);
    expect(checkInteger('op', 'n', 3, 1)).toBe(3);
    expect(messageOf(() => checkInteger('op', 'n', 0, 1))).toBe('op: n must be an integer >= 1, got 0');
    expect(messageOf(() => checkInteger('op', 'n', 2.5))).toBe('op: n must be an integer >= 0, got 2.5');
    expect(messageOf(() => checkInteger('op', 'n', 2 ** 53))).toBe(
      'op: n must be an integer >= 0, got 9007199254740992',
    );
    expect(messageOf(() => checkInteger('op', 'n', -1))).toBe('op: n must be an integer >= 0, got -1');
  });

  it('checkBoolean / checkOneOf / checkOptions / checkKnownKeys / invalidArgument', () => {
    expect(checkBoolean('op', 'b', false)).toBe(false);
    expect(messageOf(() => checkBoolean('op', 'b', 0))).toBe('op: b must be a boolean, got 0');
    expect(checkOneOf('op', 'mode', 'min', ['min', 'max'])).toBe('min');
    expect(messageOf(() => checkOneOf('op', 'mode', 'up', ['min', 'max']))).toBe(
      `op: mode must be one of 'min', 'max', got "up"`,
    );
    expect(checkOptions('op', undefined)).toEqual({});
    expect(messageOf(() => checkOptions('op', [] as object))).toBe('op: options must be an object, got []');
    expect(messageOf(() => checkOptions('op', 0.1 as unknown as object, 'opts'))).toBe(
      'op: opts must be an object, got 0.1',
    );
    expect(() => checkKnownKeys('op', { lr: 1 }, ['lr'])).not.toThrow();
    expect(messageOf(() => checkKnownKeys('op', { weight_decay: 1, b: 2 }, ['lr']))).toBe(
      `op: unknown options 'weight_decay', 'b' (known: lr)`,
    );
    expect(messageOf(() => invalidArgument('op', 'momentum', 'a number in [0, 1] or null', 2))).toBe(
      'op: momentum must be a number in [0, 1] or null, got 2',
    );
  });

  it('float32Problem / checkFloat32: overflow and (unless allowed) underflow', () => {
    expect(float32Problem(3.4028234663852886e38)).toBeNull();
    expect(float32Problem(1.4e-45)).toBeNull();
    expect(float32Problem(0)).toBeNull();
    expect(float32Problem(1e-50, true)).toBeNull();
    expect(messageOf(() => checkFloat32('op', 'lr', 1e300))).toBe(
      'op: lr 1e+300 is not finite in float32 (the largest float32 is 3.4028234663852886e+38)',
    );
    expect(messageOf(() => checkFloat32('op', 'lr', 1e-50))).toBe(
      'op: lr 1e-50 rounds to 0 in float32 (the smallest positive float32 is 1.4e-45): give 0 or a larger rate',
    );
    expect(checkFloat32('op', 'lr', 1e-50, true)).toBe(1e-50);
    expect(messageOf(() => checkFloat32('op', 'lr', Number.NaN))).toBe(
      'op: lr must be a finite number, got NaN',
    );
  });

  it('checkShape: a copy of a valid shape, a ShapeError otherwise', () => {
    const s = [2, 0, 3];
    const got = checkShape('op', s);
    expect(got).toEqual([2, 0, 3]);
    expect(got).not.toBe(s);
    expect(checkShape('op', [])).toEqual([]);
    expect(messageOf(() => checkShape('op', [2, 1.5]), ShapeError)).toBe(
      'op: shape [2,1.5] has a dimension that is not a non-negative integer',
    );
    expect(messageOf(() => checkShape('op', [-1]), ShapeError)).toBe(
      'op: shape [-1] has a dimension that is not a non-negative integer',
    );
    expect(messageOf(() => checkShape('op', 3 as unknown as number[]), ShapeError)).toBe(
      'op: shape must be an array of integers, got 3',
    );
  });
});
