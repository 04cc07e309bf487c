import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors.js';

const fixtures = new URL('../../fixtures/', import.meta.url);
type Expected = Record<string, { shape: number[]; data: number[] }>;
const expected = JSON.parse(readFileSync(new URL('python-written.json', fixtures), 'utf8')) as Expected;

describe('safetensors', () => {
  it('reads a file written by Python (F32, F64, F16, I64, empty) with the values PyTorch wrote', () => {
    const { tensors, metadata } = decodeSafetensors(
      readFileSync(new URL('python-written.safetensors', fixtures)),
    );
    expect(metadata).toEqual({ framework: 'pt', note: 'written by python' });
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected)) {
      expect(tensors[name].shape, name).toEqual(want.shape);
      // every value is exactly representable in float32 (F64 2.5, F16 values, small ints)
      expect(Array.from(tensors[name].data), name).toEqual(want.data.map(Math.fround));
    }
  });

  it('writes the bytes that the Python check parsed (fixtures/gradkit-written.safetensors)', () => {
    const pick = ['layers.0.weight', 'layers.0.bias', 'empty'];
    const bytes = encodeSafetensors(
      Object.fromEntries(
        pick.map((k) => [k, { shape: expected[k].shape, data: Float32Array.from(expected[k].data) }]),
      ),
      { format: 'gradkit', note: 'written by gradkit' },
    );
    const file = new URL('gradkit-written.safetensors', fixtures);
    if (process.env.GRADKIT_WRITE_FIXTURES === '1') writeFileSync(file, bytes);
    expect(Buffer.from(bytes).equals(readFileSync(file))).toBe(true);
    // header: 8-byte length, JSON padded with spaces to a multiple of 8
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
  });

  it('round-trips names, shapes, values and metadata', () => {
    const t = {
      b: { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, Number.NaN, Number.POSITIVE_INFINITY, -0]) },
      a: { shape: [], data: Float32Array.from([7]) },
    };
    const back = decodeSafetensors(encodeSafetensors(t, { epoch: '3' }));
    expect(back.metadata).toEqual({ epoch: '3' });
    expect(back.tensors.a).toEqual({ shape: [], data: Float32Array.from([7]) });
    expect(Array.from(back.tensors.b.data)).toEqual(Array.from(t.b.data));
  });

  it("writes an 'int64' tensor as I64 (8 bytes a value) and reads it back as 'int64'; refuses non-integers", () => {
    const bytes = encodeSafetensors({
      'bn.num_batches_tracked': { shape: [], data: Float32Array.from([12345]), dtype: 'int64' },
      'bn.running_mean': { shape: [2], data: Float32Array.from([0.5, -1]) },
    });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header['bn.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data_offsets: [0, 8] });
    expect(header['bn.running_mean']).toEqual({ dtype: 'F32', shape: [2], data_offsets: [8, 16] });
    expect(new DataView(bytes.buffer).getBigInt64(8 + n, true)).toBe(12345n);
    const back = decodeSafetensors(bytes).tensors;
    expect(back['bn.num_batches_tracked']).toEqual({
      shape: [],
      data: Float32Array.from([12345]),
      dtype: 'int64',
    });
    expect(back['bn.running_mean'].dtype).toBeUndefined();
    expect(() =>
      encodeSafetensors({ n: { shape: [2], data: Float32Array.from([1, 2.5]), dtype: 'int64' } }),
    ).toThrow(/tensor 'n': an int64 tensor must hold integers, got 2.5 at index 1/);
    expect(() =>
      encodeSafetensors({ n: { shape: [], data: Float32Array.from([1]), dtype: 'float16' as never } }),
    ).toThrow(/tensor 'n': dtype must be 'float32' or 'int64', got "float16"/);
  });

  it('rejects malformed files with a message naming the file and the problem', () => {
    const good = encodeSafetensors({ w: { shape: [2], data: Float32Array.from([1, 2]) } });
    expect(() => decodeSafetensors(good.subarray(0, 5), 'x.safetensors')).toThrow(
      /x.safetensors: truncated \(5 bytes, no header length\)/,
    );
    expect(() => decodeSafetensors(good.subarray(0, good.length - 4), 'x.safetensors')).toThrow(
      /tensor 'w' \(\[2\] F32\) needs 8 bytes at \[0, 8\) but the data section has 4 bytes/,
    );
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1000n, true);
    expect(() => decodeSafetensors(huge)).toThrow(/header length 1000 exceeds the file \(16 bytes\)/);
    const bad = (header: string, data = 0) => {
      const h = new TextEncoder().encode(header);
      const b = new Uint8Array(8 + h.length + data);
      new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
      b.set(h, 8);
      return b;
    };
    expect(() => decodeSafetensors(bad('{oops'))).toThrow(SafetensorsError);
    expect(() => decodeSafetensors(bad('{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}', 8))).toThrow(
      /unsupported dtype "C64"/,
    );
    expect(() =>
      decodeSafetensors(
        bad(
          '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
          8,
        ),
      ),
    ).toThrow(/'a' and 'b' overlap/);
    expect(() => encodeSafetensors({ w: { shape: [3], data: new Float32Array(2) } })).toThrow(
      /tensor 'w': 2 values do not fill shape \[3\]/,
    );
  });
});

describe('safetensors: the header must describe the data exactly', () => {
  const file = (header: object, data: number[]) => {
    const h = new TextEncoder().encode(JSON.stringify(header));
    const b = new Uint8Array(8 + h.length + data.length);
    new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
    b.set(h, 8);
    b.set(data, 8 + h.length);
    return b;
  };
  const f32 = (offsets: [number, number], shape = [1]) => ({ dtype: 'F32', shape, data_offsets: offsets });
  const eight = [0, 0, 128, 63, 0, 0, 0, 64]; // 1.0f, 2.0f

  it('accepts tensors listed in any order when they tile the data section', () => {
    const t = decodeSafetensors(file({ b: f32([4, 8]), a: f32([0, 4]) }, eight)).tensors;
    expect([t.a.data[0], t.b.data[0]]).toEqual([1, 2]);
  });

  const rejects: [string, object, number[], RegExp][] = [
    [
      'trailing bytes',
      { a: f32([0, 4]) },
      [...eight.slice(0, 4), 9, 9],
      /2 trailing bytes after the last tensor/,
    ],
    ['trailing bytes, no tensors', {}, [1, 2, 3], /3 trailing bytes after the last tensor/],
    [
      'a gap',
      { a: f32([0, 4]), b: f32([8, 12]) },
      [...eight, 0, 0, 0, 0],
      /gap at bytes \[4, 8\) before tensor 'b'/,
    ],
    ['a gap at the start', { b: f32([4, 8]) }, eight, /gap at bytes \[0, 4\) before tensor 'b'/],
    [
      'out-of-order offsets',
      { a: f32([8, 0], [0]) },
      eight,
      /tensor 'a' has out-of-order data_offsets \[8, 0\]/,
    ],
    [
      'overlap',
      { a: f32([0, 8], [2]), b: f32([4, 8]) },
      eight,
      /tensors 'a' and 'b' overlap|'b' and 'a' overlap/,
    ],
    ['an entry that is null', { a: null }, [], /tensor 'a' is not described by an object, got null/],
    ['an entry that is a number', { a: 3 }, [], /tensor 'a' is not described by an object, got 3/],
    ['metadata that is a string', { __metadata__: 'x' }, [], /__metadata__ must be an object of strings/],
    [
      'a dtype named like a prototype member',
      { a: { dtype: 'constructor', shape: [1], data_offsets: [0, 4] } },
      eight.slice(0, 4),
      /unsupported dtype "constructor"/,
    ],
    [
      'a fractional offset',
      { a: { dtype: 'F32', shape: [1], data_offsets: [0.5, 4.5] } },
      eight.slice(0, 4),
      /invalid data_offsets/,
    ],
  ];
  it.each(rejects)('rejects %s', (_, header, data, message) => {
    expect(() => decodeSafetensors(file(header, data), 'm.safetensors')).toThrow(SafetensorsError);
    expect(() => decodeSafetensors(file(header, data), 'm.safetensors')).toThrow(message);
  });

  it("rejects a tensor or metadata key named '__proto__' (it would replace the record's prototype)", () => {
    const raw = (json: string, data: number[]) => {
      const h = new TextEncoder().encode(json);
      const b = new Uint8Array(8 + h.length + data.length);
      new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
      b.set(h, 8);
      b.set(data, 8 + h.length);
      return b;
    };
    expect(() =>
      decodeSafetensors(
        raw('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', eight.slice(0, 4)),
      ),
    ).toThrow(/a tensor named '__proto__' is not allowed/);
    expect(() => decodeSafetensors(raw('{"__metadata__":{"__proto__":"x"}}', []))).toThrow(
      /a metadata key named '__proto__' is not allowed/,
    );
    const proto = JSON.parse('{"__proto__": {"shape": [1], "data": null}}');
    Object.getOwnPropertyDescriptor(proto, '__proto__')!.value.data = new Float32Array(1);
    expect(() => encodeSafetensors(proto)).toThrow(/a tensor cannot be named '__proto__'/);
    expect(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow(
      /a tensor cannot be named '__metadata__'/,
    );
    // names that are Object.prototype members are ordinary tensors
    const back = decodeSafetensors(
      encodeSafetensors({ constructor: { shape: [1], data: Float32Array.from([3]) } }),
    ).tensors;
    expect(Object.hasOwn(back, 'constructor')).toBe(true);
    const key: string = 'constructor';
    expect(back[key].data[0]).toBe(3);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file in one step and leaves no temporary file, also on failure', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradkit-atomic-'));
    const p = join(dir, 'sub', 'state.json');
    writeFileAtomic(p, '{"a":1}');
    writeFileAtomic(p, '{"a":2}');
    expect(readFileSync(p, 'utf8')).toBe('{"a":2}');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['state.json']);
    // the target is a directory: the rename fails, the old content stays, no temp file remains
    expect(() => writeFileAtomic(join(dir, 'sub'), 'x')).toThrow();
    expect(readdirSync(dir)).toEqual(['sub']);
    expect(existsSync(p)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
