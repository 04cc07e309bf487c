import { describe, expect, it } from 'vitest';
import { tensor, zeros } from './creation.js';
import { ValueError } from './errors.js';
import type { StateDict } from './module.js';
import { Module } from './module.js';
import { randn } from './random.js';
import { stateDictFromJSON, stateDictToJSON } from './state-dict-json.js';
import type { Tensor } from './tensor.js';

// Host-side conversion: the module below only supplies a state dict to convert.

class Counted extends Module {
  readonly weight = this.registerParameter('weight', randn([3, 2], { std: 1 }));
  readonly n = this.registerBuffer('n', zeros([]), { dtype: 'int64' });
  forward(x: Tensor): Tensor {
    return x.matmul(this.weight);
  }
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const throughText = (v: unknown) => JSON.parse(JSON.stringify(v));

describe('stateDictToJSON / stateDictFromJSON', () => {
  it('round-trips a module state dict through JSON text bit for bit, int64 entries included', () => {
    const a = new Counted();
    a.loadStateDict({ ...a.stateDict(), n: { shape: [], data: new Float32Array([7]), dtype: 'int64' } });
    const sd = a.stateDict();
    // a raw JSON.parse(JSON.stringify(sd)) is what loadStateDict cannot read
    expect(() => new Counted().loadStateDict(throughText(sd))).toThrow(ValueError);
    const back = stateDictFromJSON(throughText(stateDictToJSON(sd)));
    expect(Object.keys(back)).toEqual(['weight', 'n']);
    expect(back.n).toEqual({ shape: [], data: new Float32Array([7]), dtype: 'int64' });
    expect(back.weight.dtype).toBeUndefined();
    expect(back.weight.shape).toEqual([3, 2]);
    expect(bits(back.weight.data)).toEqual(bits(sd.weight.data));
    const b = new Counted();
    b.loadStateDict(back);
    expect(bits(b.stateDict().weight.data)).toEqual(bits(sd.weight.data));
    a.dispose();
    b.dispose();
  });

  it('keeps int64 counts, -0 and values that need every digit', () => {
    const sd: StateDict = {
      count: { shape: [], data: new Float32Array([12345]), dtype: 'int64' },
      w: { shape: [4], data: new Float32Array([-0, 0.1, 3.4028234663852886e38, 1.401298464324817e-45]) },
    };
    const json = stateDictToJSON(sd);
    expect(json.count).toEqual({ shape: [], data: [12345], dtype: 'int64' });
    expect(json.w.data[0]).toBe('-0');
    const back = stateDictFromJSON(throughText(json));
    expect(Object.is(back.w.data[0], -0)).toBe(true);
    expect(bits(back.w.data)).toEqual(bits(sd.w.data));
    expect(back.count).toEqual({ shape: [], data: new Float32Array([12345]), dtype: 'int64' });
  });

  it('refuses NaN and infinities unless allowNonFinite, which writes them as strings', () => {
    const sd: StateDict = {
      w: { shape: [3], data: new Float32Array([1, Number.NaN, Number.NEGATIVE_INFINITY]) },
    };
    expect(() => stateDictToJSON(sd)).toThrow(ValueError);
    expect(() => stateDictToJSON(sd)).toThrow(
      "stateDictToJSON: 'w' value at index 1 is NaN: JSON has no NaN or Infinity (allowNonFinite: true writes it as the string 'NaN')",
    );
    const json = stateDictToJSON(sd, { allowNonFinite: true });
    expect(json.w.data).toEqual([1, 'NaN', '-Infinity']);
    const back = stateDictFromJSON(throughText(json));
    expect(Array.from(back.w.data)).toEqual([1, Number.NaN, Number.NEGATIVE_INFINITY]);
  });

  it('names what is wrong with malformed JSON', () => {
    const bad = (v: unknown, msg: string) => {
      expect(() => stateDictFromJSON(v)).toThrow(ValueError);
      expect(() => stateDictFromJSON(v)).toThrow(msg);
    };
    bad(null, 'expected an object of state dict entries, got null');
    bad([], 'got an array');
    bad({ w: 3 }, "'w' must be an entry { shape, data }, got 3");
    bad({ w: { shape: 2, data: [1, 2] } }, "'w'.shape must be an array, got 2");
    bad({ w: { shape: [2, -1], data: [] } }, "'w'.shape must hold non-negative integers, got [2,-1]");
    bad(
      { w: { shape: [2], data: { 0: 1, 1: 2 } } },
      "'w'.data must be an array of numbers, got an object (a Float32Array after JSON.parse?",
    );
    bad({ w: { shape: [2], data: [1] } }, "'w' has 1 values, shape [2] needs 2");
    bad({ w: { shape: [2], data: [1, 'x'] } }, `'w' value at index 1 is "x", expected a number`);
    bad(
      { w: { shape: [1], data: [1], dtype: 'int32' } },
      `'w'.dtype must be 'float32' or 'int64', got "int32"`,
    );
    bad({ n: { shape: [1], data: [1.5], dtype: 'int64' } }, "'n' is int64 but its value at index 0 is 1.5");
    expect(() => stateDictFromJSON(JSON.parse('{"__proto__": {"shape": [], "data": [1]}}'))).toThrow(
      "an entry cannot be named '__proto__'",
    );
    expect(() => stateDictToJSON({ w: { shape: [3], data: new Float32Array(2) } })).toThrow(
      "stateDictToJSON: 'w' has 2 values, shape [3] needs 3",
    );
  });

  it('accepts a state dict that still holds Float32Arrays', () => {
    const t = tensor([1, 2]);
    const back = stateDictFromJSON({ w: { shape: [2], data: t.dataSync() } });
    expect(Array.from(back.w.data)).toEqual([1, 2]);
    t.dispose();
  });
});
