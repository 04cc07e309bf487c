import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { GradkitError, ShapeError, ValueError } from '@gradkit/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from './errors.js';
import { decodeIdx, encodeIdx, type IdxDtype } from './idx.js';
import { readIdx, writeIdx } from './idx-file.js';

const dir = mkdtempSync(join(tmpdir(), 'gradkit-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes from numbers (for hand-written files that do not go through encodeIdx). */
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

/** Expects `fn` to throw a DataError with exactly this message. */
function expectDataError(fn: () => unknown, message: string): DataError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DataError);
  expect(caught).toBeInstanceOf(GradkitError);
  expect((caught as Error).message).toBe(message);
  return caught as DataError;
}

describe('readIdx on hand-written bytes', () => {
  it('reads a ubyte matrix: magic 00 00 08 02, big-endian dims, row-major values', () => {
    const file = bytes(0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 250, 251, 255);
    const idx = readIdx(file);
    expect(idx.dtype).toBe('uint8');
    expect(idx.shape).toEqual([2, 3]);
    expect(idx.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(idx.data)).toEqual([1, 2, 3, 250, 251, 255]);
  });

  it('reads big-endian int8, int16, int32, float32 and float64 values', () => {
    const i8 = readIdx(bytes(0, 0, 0x09, 1, 0, 0, 0, 3, 0x7f, 0x80, 0xff));
    expect(i8.dtype).toBe('int8');
    expect(Array.from(i8.data)).toEqual([127, -128, -1]);
    const i16 = readIdx(bytes(0, 0, 0x0b, 1, 0, 0, 0, 3, 0x80, 0x00, 0x01, 0x02, 0xff, 0xfe));
    expect(i16.dtype).toBe('int16');
    expect(Array.from(i16.data)).toEqual([-32768, 258, -2]);
    const i32 = readIdx(bytes(0, 0, 0x0c, 1, 0, 0, 0, 2, 0x00, 0x00, 0xea, 0x60, 0xff, 0xff, 0xff, 0xff));
    expect(i32.dtype).toBe('int32');
    expect(Array.from(i32.data)).toEqual([60000, -1]);
    // 1.0f = 3f 80 00 00, -2.5f = c0 20 00 00
    const f32 = readIdx(bytes(0, 0, 0x0d, 1, 0, 0, 0, 2, 0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0));
    expect(f32.dtype).toBe('float32');
    expect(f32.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f32.data)).toEqual([1, -2.5]);
    // 0.1 as a double = 3f b9 99 99 99 99 99 9a
    const f64 = readIdx(bytes(0, 0, 0x0e, 1, 0, 0, 0, 1, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a));
    expect(f64.dtype).toBe('float64');
    expect(f64.data[0]).toBe(0.1);
  });

  it('reads a dimension of size 0 and returns a copy, not a view of the input', () => {
    expect(readIdx(bytes(0, 0, 0x08, 2, 0, 0, 0, 0, 0, 0, 0, 5)).shape).toEqual([0, 5]);
    const file = bytes(0, 0, 0x08, 1, 0, 0, 0, 2, 7, 8);
    const idx = readIdx(file);
    file[8] = 99;
    expect(Array.from(idx.data)).toEqual([7, 8]);
    expect(idx.data.byteOffset).toBe(0);
    // a Buffer (whose slice() is a view, often into Node's shared pool) gives a copy too
    const buf = Buffer.from([0, 0, 0x09, 1, 0, 0, 0, 2, 0xff, 5]);
    const i8 = readIdx(buf);
    buf[8] = 0;
    expect(Array.from(i8.data)).toEqual([-1, 5]);
    expect(i8.data.buffer.byteLength).toBe(2);
    const u8 = readIdx(Buffer.from([0, 0, 0x08, 1, 0, 0, 0, 2, 3, 4]));
    expect(u8.data.buffer.byteLength).toBe(2);
  });

  it('decompresses gzip detected by its magic bytes 1f 8b', () => {
    const raw = bytes(0, 0, 0x08, 1, 0, 0, 0, 4, 9, 8, 7, 6);
    const gz = gzipSync(raw);
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
    expect(Array.from(readIdx(gz).data)).toEqual([9, 8, 7, 6]);
  });
});

describe('decodeIdx (bytes only, browser-safe)', () => {
  it('decodes raw bytes as readIdx does, and refuses gzip bytes with a DataError saying what to do', () => {
    const raw = bytes(0, 0, 0x08, 1, 0, 0, 0, 4, 9, 8, 7, 6);
    expect(decodeIdx(raw)).toEqual(readIdx(raw));
    expectDataError(
      () => decodeIdx(gzipSync(raw), { name: 'labels.gz' }),
      "labels.gz: gzip-compressed bytes: decompress them first (DecompressionStream('gzip') in a browser), or use readIdx of @gradkit/trainer/node",
    );
    const f32 = encodeIdx({ shape: [2], dtype: 'float32', data: [1, Number.NaN] });
    expect(() => decodeIdx(f32)).toThrow(DataError);
    expect(Number.isNaN(decodeIdx(f32, { allowNonFinite: true }).data[1])).toBe(true);
  });
});

describe('IDX round trips through files', () => {
  const cases: [IdxDtype, number[], number[]][] = [
    ['uint8', [2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]],
    ['int8', [4], [-128, -1, 0, 127]],
    ['int16', [2, 2], [-32768, -1, 1, 32767]],
    ['int32', [3], [-2147483648, 123456789, 2147483647]],
    ['float32', [2, 3], [0.5, -1.25, Math.fround(3.4e38), -0, Math.fround(1e-40), Math.fround(0.1)]],
    ['float64', [1, 4], [0.1, -1e-300, Number.MAX_VALUE, Math.PI]],
  ];
  for (const [dtype, shape, data] of cases) {
    for (const gzip of [false, true]) {
      it(`${dtype} ${gzip ? 'gzip' : 'raw'}`, () => {
        const path = join(dir, `rt-${dtype}-idx${shape.length}${gzip ? '.gz' : ''}`);
        writeIdx(path, { shape, dtype, data }, { gzip });
        for (const idx of [readIdx(path), readIdx(pathToFileURL(path))]) {
          expect(idx.dtype).toBe(dtype);
          expect(idx.shape).toEqual(shape);
          expect(Array.from(idx.data)).toEqual(data);
        }
      });
    }
  }

  it('reads a gzip file whatever its name, and a raw file named .gz', () => {
    const input = { shape: [3], dtype: 'uint8' as const, data: [1, 2, 3] };
    writeFileSync(join(dir, 'zipped-no-suffix'), gzipSync(encodeIdx(input)));
    writeFileSync(join(dir, 'raw-with-suffix.gz'), encodeIdx(input));
    expect(Array.from(readIdx(join(dir, 'zipped-no-suffix')).data)).toEqual([1, 2, 3]);
    expect(Array.from(readIdx(join(dir, 'raw-with-suffix.gz')).data)).toEqual([1, 2, 3]);
  });

  it('encodeIdx writes the header LeCun describes', () => {
    const out = encodeIdx({ shape: [60000, 28, 28], dtype: 'uint8', data: new Uint8Array(60000 * 784) });
    expect(Array.from(out.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]);
    expect(out.length).toBe(16 + 47040000);
  });

  it('encodeIdx rejects a shape that does not fit, and integers out of range', () => {
    expect(() => encodeIdx({ shape: [2, 2], dtype: 'uint8', data: [1, 2, 3] })).toThrow(ShapeError);
    expect(() => encodeIdx({ shape: [2, 2], dtype: 'uint8', data: [1, 2, 3] })).toThrow(
      'encodeIdx: 3 values do not fill shape [2,2]',
    );
    expect(() => encodeIdx({ shape: [], dtype: 'uint8', data: [1] })).toThrow(ShapeError);
    expect(() => encodeIdx({ shape: [2], dtype: 'uint8', data: [1, 256] })).toThrow(ValueError);
    expect(() => encodeIdx({ shape: [2], dtype: 'int16', data: [1.5, 2] })).toThrow(
      'encodeIdx: value at index 0 is 1.5, not a int16 integer in [-32768, 32767]',
    );
  });
});

describe('readIdx errors name the file and what is wrong', () => {
  it('missing file', () => {
    const path = join(dir, 'nope-idx1-ubyte');
    const e = expectDataError(() => readIdx(path), `${path}: file not found`);
    expect(e.source).toBe(path);
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('a directory', () => {
    expectDataError(() => readIdx(dir), `${dir}: is a directory, expected a file`);
  });

  it('truncated data: expected N bytes, got M', () => {
    const path = join(dir, 'truncated-idx3-ubyte');
    const full = encodeIdx({ shape: [2, 2, 2], dtype: 'uint8', data: [1, 2, 3, 4, 5, 6, 7, 8] });
    writeFileSync(path, full.subarray(0, full.length - 3));
    expectDataError(
      () => readIdx(path),
      `${path}: truncated IDX file: expected 8 bytes of data for shape [2,2,2] (uint8, 1 byte each), got 5`,
    );
    const f32 = encodeIdx({ shape: [3], dtype: 'float32', data: [1, 2, 3] });
    expectDataError(
      () => readIdx(f32.subarray(0, f32.length - 1), { name: 'f32' }),
      'f32: truncated IDX file: expected 12 bytes of data for shape [3] (float32, 4 bytes each), got 11',
    );
  });

  it('truncated header', () => {
    expectDataError(
      () => readIdx(bytes(0, 0, 8)),
      '<idx bytes>: truncated IDX header: expected at least 4 bytes (the magic number), got 3',
    );
    expectDataError(
      () => readIdx(bytes(0, 0, 8, 3, 0, 0, 0, 1, 0, 0), { name: 'h' }),
      'h: truncated IDX header: expected 16 bytes (magic number and 3 dimensions), got 10',
    );
  });

  it('truncated gzip stream', () => {
    const path = join(dir, 'cut-idx1-ubyte.gz');
    const gz = gzipSync(encodeIdx({ shape: [100], dtype: 'uint8', data: new Uint8Array(100).fill(7) }));
    writeFileSync(path, gz.subarray(0, gz.length - 8));
    expectDataError(() => readIdx(path), `${path}: not a valid gzip stream (unexpected end of file)`);
  });

  it('wrong magic number, with the bytes seen', () => {
    const path = join(dir, 'archive.zip');
    writeFileSync(path, bytes(0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0));
    expectDataError(
      () => readIdx(path),
      `${path}: wrong magic number: expected 0x00 0x00 <type code> <number of dimensions>, saw 0x50 0x4b 0x03 0x04 (not an IDX file)`,
    );
    expectDataError(
      () => readIdx(bytes(0, 0, 8, 0)),
      '<idx bytes>: wrong magic number: the number of dimensions (4th byte) is 0',
    );
  });

  it('unsupported data type code', () => {
    const path = join(dir, 'code7-idx1');
    writeFileSync(path, bytes(0, 0, 0x07, 1, 0, 0, 0, 1, 0));
    expectDataError(
      () => readIdx(path),
      `${path}: unsupported IDX data type code 0x07 (supported: 0x08 ubyte, 0x09 byte, 0x0b short, 0x0c int, 0x0d float, 0x0e double)`,
    );
  });

  it('trailing garbage', () => {
    const path = join(dir, 'trailing-idx2-ubyte');
    const good = encodeIdx({ shape: [2, 4], dtype: 'uint8', data: [1, 2, 3, 4, 5, 6, 7, 8] });
    writeFileSync(path, Buffer.concat([good, bytes(0xde, 0xad, 0xbe)]));
    expectDataError(
      () => readIdx(path),
      `${path}: 3 bytes of trailing garbage after the 8 bytes of data for shape [2,4] (uint8, 1 byte each)`,
    );
  });
});

describe('readIdx rejects non-finite floats', () => {
  it('names the index and the position of the first NaN or Inf', () => {
    const data = [0, 0.5, 1, 0.25, Number.NaN, 1];
    const file = encodeIdx({ shape: [2, 3], dtype: 'float32', data });
    expectDataError(
      () => readIdx(file, { name: 'x.idx' }),
      'x.idx: float32 value NaN at index 4 (position [1,1] of shape [2,3]) is not finite; pass allowNonFinite: true to read it anyway',
    );
    const inf = encodeIdx({ shape: [3], dtype: 'float64', data: [1, Number.NEGATIVE_INFINITY, 2] });
    expectDataError(
      () => readIdx(inf),
      '<idx bytes>: float64 value -Infinity at index 1 (position [1] of shape [3]) is not finite; pass allowNonFinite: true to read it anyway',
    );
    const ok = readIdx(file, { allowNonFinite: true });
    expect(Number.isNaN(ok.data[4])).toBe(true);
  });
});
