import { afterAll, describe, expect, it } from 'vitest';
import type { ElementwiseSpec } from '../backend.js';
import { CpuBackend } from '../backends/cpu.js';
import { planBroadcast } from '../codegen.js';
import { Device } from '../device.js';
import { ACTIVATION_GRAD, BINARY, SCALAR, UNARY, WHERE } from '../elementwise.js';
import { ValueError } from '../errors.js';
import { mapSource as glMapSource } from '../gl/sources.js';
import { defineKernel, isDefinedKernel, parsedKernel } from './define.js';

// defineKernel: validation where a kernel is defined, the frozen result that carries its parse,
// the cache key, and the same validation for plain specs on their first use by Device.map and
// the backends' code generators.

const TABLES: readonly ElementwiseSpec[] = [
  ...Object.values(UNARY),
  ...Object.values(SCALAR),
  ...Object.values(BINARY),
  ...Object.values(ACTIVATION_GRAD),
  WHERE,
];

describe('defineKernel', () => {
  it('returns a frozen spec with the given fields and its parse kept aside', () => {
    const s = defineKernel({ name: 'k.half', arity: 1, params: 0, expr: 'a * 0.5' });
    expect(Object.isFrozen(s)).toBe(true);
    expect(s).toEqual({ name: 'k.half', arity: 1, params: 0, expr: 'a * 0.5' });
    expect(Object.keys(s)).toEqual(['name', 'arity', 'params', 'expr']); // nothing extra enumerable
    expect(isDefinedKernel(s)).toBe(true);
    expect(parsedKernel(s)).toBe(parsedKernel(s)); // parsed once
    expect(parsedKernel(s).ast.result.kind).toBe('arith');
    expect(defineKernel(s)).toBe(s); // defining a defined spec returns it
    const copy = { ...s };
    expect(isDefinedKernel(copy)).toBe(false); // a spread copy is a plain object again
  });

  it('every spec of the kernels tables is defined (parsed and validated at load)', () => {
    expect(TABLES.length).toBe(55);
    for (const s of TABLES) {
      expect(isDefinedKernel(s), s.name).toBe(true);
      expect(Object.isFrozen(s), s.name).toBe(true);
    }
  });

  it('rejects bad fields with the kernel named', () => {
    const bad = (def: unknown) => () => defineKernel(def as ElementwiseSpec);
    expect(bad(null)).toThrow('defineKernel: a kernel spec must be an object, got null');
    expect(bad({ arity: 1, params: 0, expr: 'a' })).toThrow(
      'defineKernel: a kernel needs a non-empty string name, got undefined',
    );
    expect(bad({ name: ' ', arity: 1, params: 0, expr: 'a' })).toThrow(/non-empty string name, got " "/);
    expect(bad({ name: 'k', arity: 7, params: 0, expr: 'a' })).toThrow(
      "kernel 'k': arity must be an integer from 1 to 6, got 7",
    );
    expect(bad({ name: 'k', arity: 1.5, params: 0, expr: 'a' })).toThrow(
      /arity must be an integer from 1 to 6, got 1\.5/,
    );
    expect(bad({ name: 'k', arity: 1, params: -1, expr: 'a' })).toThrow(
      "kernel 'k': params must be a non-negative integer, got -1",
    );
    expect(bad({ name: 'k', arity: 1, expr: 'a' })).toThrow(
      /params must be a non-negative integer, got undefined/,
    );
    expect(bad({ name: 'k', arity: 1, params: 0, expr: 3 })).toThrow(
      "kernel 'k': expr must be a string, got number",
    );
    expect(bad({ name: 'k', arity: 1, params: 0, stmts: 1, expr: 'a' })).toThrow(
      /stmts must be a string when given/,
    );
    expect(bad({ name: 'k', arity: 1, params: 0, stmt: 'let t_x = a;', expr: 't_x' })).toThrow(
      "kernel 'k': unknown field 'stmt' (a spec has name, arity, params, stmts, expr)",
    );
    expect(bad({ name: 'k', arity: 2, params: 0, expr: 'a + c' })).toThrow(ValueError);
  });

  it('keys the compile caches by name, arity, params and body', () => {
    const key = (def: ElementwiseSpec) => parsedKernel(defineKernel(def)).key;
    const base = { name: 'k', arity: 1, params: 0, expr: 'a * 2.0' };
    expect(key(base)).toBe(key({ ...base }));
    const others = [
      { ...base, name: 'k2' },
      { ...base, expr: 'a * 3.0' },
      { ...base, stmts: 'let t_x = a;' },
      { ...base, arity: 2 },
      { ...base, params: 1 },
    ];
    for (const o of others) expect(key(o), JSON.stringify(o)).not.toBe(key(base));
  });
});

describe('plain specs (not made by defineKernel) are validated on first use', () => {
  const d = new Device(new CpuBackend(), 'test');
  afterAll(() => d.destroy());

  it('Device.map gives the defineKernel errors for a third-party spec', () => {
    const x = d.array([1, 2]);
    expect(() => d.map({ name: 'third', arity: 1, params: 0, expr: 'a * 2' }, [x])).toThrow(
      "kernel 'third': number 2 at column 5 of expr needs a decimal point",
    );
    expect(() => d.map({ name: 'third', arity: 1, params: 1, expr: 'a * p1' }, [x], [1])).toThrow(
      "kernel 'third': uses p1 at column 5 of expr but declares params: 1",
    );
    expect(() => d.map({ name: 'third', arity: 1, params: 0, expr: 'x' }, [x])).toThrow(
      /kernel 'third': unknown identifier 'x' at column 1 of expr/,
    );
    // JavaScript that is not kernel language never reaches a code generator
    expect(() =>
      d.map({ name: 'inject', arity: 1, params: 0, expr: 'a; globalThis.hacked = 1.0' }, [x]),
    ).toThrow(/kernel 'inject': unexpected ';' at column 2 of expr/);
    expect((globalThis as Record<string, unknown>).hacked).toBeUndefined();
  });

  it('a valid plain spec runs, is parsed once, and is parsed again if mutated', () => {
    const x = d.array([1, 2]);
    const spec = { name: 'plain', arity: 1, params: 0, expr: 'a * 2.0' };
    expect(Array.from(d.map(spec, [x]).read())).toEqual([2, 4]);
    const first = parsedKernel(spec);
    expect(parsedKernel(spec)).toBe(first);
    expect(isDefinedKernel(spec)).toBe(false);
    spec.expr = 'a * 3.0';
    expect(Array.from(d.map(spec, [x]).read())).toEqual([3, 6]);
    expect(parsedKernel(spec)).not.toBe(first);
    spec.expr = 'a * 3';
    expect(() => d.map(spec, [x])).toThrow(/number 3 at column 5 of expr needs a decimal point/);
  });

  it("the gl source generator validates what it is given, and emits the spec's text", () => {
    const plan = planBroadcast([[4]], [4]);
    expect(() => glMapSource({ name: 'g', arity: 1, params: 0, expr: 'a %  2.0' }, plan)).toThrow(
      /kernel 'g': operator '%' at column 3 of expr/,
    );
    expect(glMapSource(defineKernel({ name: 'g', arity: 1, params: 0, expr: 'a * 0.5' }), plan)).toContain(
      'return a * 0.5;',
    );
  });
});
